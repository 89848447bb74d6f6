#!/bin/sh
# anyecho with names from a real DNS server (dnsmasq on a loopback port):
# AAAA only, A only, both (IPv6 first), and a name with several addresses of
# which one refuses: the race still connects, --all reports it per family.
# Without IPv6 on loopback, the IPv4 half runs alone.
. "$top_srcdir/tests/integ/lib.sh"
need ipv4 "the DNS server listens on 127.0.0.1"

v6=no
part IPv4 ipv4
part IPv6 ipv6 && v6=yes
if [ $v6 = yes ]; then start_server -l localhost:0; else start_server -l 127.0.0.1:0; fi
P=$(port IPv4 stream)
start_dnsmasq --host-record=v6only.test,::1 --host-record=v4only.test,127.0.0.1 \
	--host-record=both.test,127.0.0.1,::1 \
	--host-record=mixed.test,127.0.0.1,::1 --host-record=mixed.test,127.0.0.2 \
	--host-record=mc.test,224.0.0.1,ff02::1 --host-record=mc.test,224.0.0.2,ff02::2 \
	--host-record=mc4.test,224.0.0.1 --host-record=mc4.test,224.0.0.2 \
	--host-record=mc4.test,224.0.0.3
a() { bounded 60 "$ANYECHO" --dns-server 127.0.0.1:$DNS_PORT -c 2 -i 10ms "$@" 2>&1; }

out=$(a v4only.test $P) || fail "v4only: $out"
expect_in "v4only" "$out" "from 127.0.0.1:$P (IPv4 stream)"
out=$(a -4 both.test $P) || fail "-4 both: $out"
expect_in "-4" "$out" "from 127.0.0.1:$P (IPv4 stream)"
out=$(a -4 v6only.test $P); rc=$?
expect_eq "-4 v6only exit" $rc 3
expect_in "-4 v6only" "$out" "no IPv4 address for v6only.test"

if [ $v6 = yes ]; then
	out=$(a v6only.test $P) || fail "v6only: $out"
	expect_in "v6only" "$out" "from [::1]:$P (IPv6 stream)"
	out=$(a both.test $P) || fail "both: $out"
	expect_in "both: IPv6 first" "$out" "from [::1]:$P (IPv6 stream)"

	out=$(a mixed.test $P) || fail "race over mixed: $out"
	out=$(a -A mixed.test $P); rc=$?
	expect_eq "--all mixed exit" $rc 1
	expect_in "--all mixed v4" "$out" "IPv4: 1 of 2 addresses reachable (connection refused)"
	expect_in "--all mixed v6" "$out" "IPv6: 1 of 1 address reachable"
	expect_in "--all mixed row" "$out" "127.0.0.2:$P"
	out=$(a -A -u both.test $P) || fail "--all -u both: $out"
	expect_in "--all -u" "$out" "IPv6: 1 of 1 address reachable"
fi
# Multicast addresses: a TCP connect to each fails at once, inside the
# call that starts it. Every address is still tried and reported, in the
# race and with --all, before the table or the error (issue 9: the
# connection race used to recurse through such failures).
out=$(a -A mc4.test $P); rc=$?
expect_eq "--all mc4 exit" $rc 1
expect_in "--all mc4" "$out" "IPv4: 0 of 3 addresses reachable"
expect_eq "--all mc4 rows" "$(printf '%s\n' "$out" | grep -c "^224\.0\.0\.[123]:$P ")" 3
out=$(a -A mc.test mc4.test $P); rc=$?
expect_eq "--all mc mc4 exit" $rc 1
expect_in "--all mc: v6" "$out" "IPv6: 0 of 2 addresses reachable"
expect_in "--all mc: v4" "$out" "IPv4: 0 of 2 addresses reachable"
expect_in "--all mc4 after mc" "$out" "IPv4: 0 of 3 addresses reachable"
out=$(a mc.test $P); rc=$?
expect_eq "race mc exit" $rc 1
for m in ff02::1 ff02::2 224.0.0.1 224.0.0.2; do
	expect_in "race mc tried $m" "$out" "$m port $P"
done
stop_server || fail "server exit status $?"
echo ok

#!/bin/sh
# Happy Eyeballs over a broken IPv6 path, in two network namespaces of the
# test's own joined by a veth pair (nothing is added to the machine's own
# namespace). The server side blackholes the client's IPv6 address, so an
# IPv6 connect hangs instead of failing. anyecho must reach the server over
# IPv4 within the attempt delay plus a margin; --all must report IPv6
# unreachable and IPv4 reachable; --sequential waits out the IPv6 attempt.
# Every attempt is visible (-v lines, --json `attempt` records, the connect
# time from the first attempt), the fallback is a warning and exit status 4;
# UDP races too: a silent IPv6 path falls back to IPv4 after the delay.
. "$top_srcdir/tests/integ/lib.sh"
need ip "Debian package iproute2"

C=aec$$ S=aes$$
# Tried rather than deduced from the uid: a fake root cannot, a root in a
# container may not.
ip netns add $C 2>"$T/netns.err" || skip "cannot create network namespaces here: $(cat "$T/netns.err")"
at_exit "ip netns del $C 2>/dev/null"
ip netns add $S || hard "second namespace"
at_exit "ip netns del $S 2>/dev/null"
ip -n $C link add vc type veth peer name vs netns $S || hard "veth pair"
for ns in $C $S; do ip -n $ns link set lo up; done
ip -n $C addr add 192.0.2.1/24 brd + dev vc
ip -n $C addr add 2001:db8::1/64 dev vc nodad
# With no broadcast address given, anyechod's reflection guard takes its
# own address for a broadcast one and answers no datagram: "brd +".
ip -n $S addr add 192.0.2.2/24 brd + dev vs
ip -n $S addr add 2001:db8::2/64 dev vs nodad
ip -n $C link set vc up
ip -n $S link set vs up
# The break: replies to the client's IPv6 address vanish.
ip -n $S route add blackhole 2001:db8::1/128 || hard "blackhole route"

ip netns exec $S "$ANYECHOD" -l 192.0.2.2:7007 -l '[2001:db8::2]:7007' \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
printf '2001:db8::2 dual.test\n192.0.2.2 dual.test\n' >"$T/hosts"
cx() { bounded 30 ip netns exec $C env CARES_HOSTS="$T/hosts" "$ANYECHO" "$@" 2>&1; }

# IPv4 itself works, IPv6 does not.
cx -c 1 -W 1s 192.0.2.2 7007 >/dev/null || fail "IPv4 path is broken too"
out=$(cx -c 1 --connect-timeout 500ms 2001:db8::2 7007); rc=$?
expect_eq "IPv6 alone exit" $rc 1
expect_in "IPv6 alone" "$out" "no answer from 2001:db8::2 port 7007 within 500 ms"

# ms_after TEXT PREFIX: the integer milliseconds after PREFIX in TEXT.
ms_after() { echo "$1" | sed -n "s/.*$2\([0-9]*\).*/\1/p" | head -1; }
# Happy Eyeballs: IPv6 first, IPv4 250 ms later wins.
t0=$(now_ms)
out=$(cx -v -c 1 -W 1s dual.test 7007); rc=$?
el=$(( $(now_ms) - t0 ))
expect_eq "Happy Eyeballs exit (IPv6 broken)" $rc 4
expect_in "winner" "$out" "from 192.0.2.2:7007 (IPv4 stream)"
# A client that waited for IPv6 would take the whole 5 s connect timeout.
[ $el -lt 2500 ] || fail "took $el ms: it waited for IPv6 (attempt delay is 250 ms)"
echo "ok: Happy Eyeballs reached IPv4 in $el ms"
expect_in "dead attempt" "$out" \
	"dual.test: attempt 1 to 2001:db8::2 port 7007 (IPv6 stream) at +0.0 ms: cancelled after "
expect_in "dead attempt cause" "$out" "no answer from 2001:db8::2 port 7007 yet when 192.0.2.2 port 7007 connected"
expect_in "winning attempt" "$out" "dual.test: attempt 2 to 192.0.2.2 port 7007 (IPv4 stream) at +"
off=$(ms_after "$out" "attempt 2 to 192.0.2.2 port 7007 (IPv4 stream) at +")
[ "$off" -ge 200 ] && [ "$off" -lt 2500 ] || fail "attempt 2 started at +$off ms: $out"
conn=$(ms_after "$out" "loss, connect ")
[ "$conn" -ge 200 ] || fail "connect time $conn ms hides the IPv6 attempt: $out"
expect_in "fallback warning" "$out" "dual.test: IPv6 failed (no answer from 2001:db8::2 port 7007"
expect_in "fallback warning" "$out" "reached over IPv4"
out=$(cx --json -c 1 -W 1s dual.test 7007); rc=$?
expect_eq "--json exit" $rc 4
expect_eq "attempt records" "$(echo "$out" | grep -c '"type":"attempt"')" 2
expect_in "dead attempt json" "$out" '"address":"2001:db8::2","port":7007,"family":"IPv6","protocol":"stream","attempt":1,"start_ms":0.000'
expect_in "dead attempt json" "$out" '"outcome":"cancelled"'
expect_in "won attempt json" "$out" '"outcome":"connected"'
expect_in "fallback json" "$out" '"fallback":true'

# UDP: the first reply connects; a silent IPv6 path falls back to IPv4.
t0=$(now_ms)
out=$(cx -u -v -c 2 -i 100ms -W 1s dual.test 7007); rc=$?
el=$(( $(now_ms) - t0 ))
expect_eq "UDP fallback exit" $rc 4
expect_in "UDP winner" "$out" "2 sent, 2 received, 0 mismatched, 0% loss"
expect_in "UDP winner" "$out" "--- dual.test (192.0.2.2:7007, IPv4 dgram, source 192.0.2.1:"
expect_in "UDP dead attempt" "$out" "attempt 1 to 2001:db8::2 port 7007 (IPv6 dgram) at +0.0 ms: cancelled"
[ $el -lt 3000 ] || fail "UDP took $el ms to fall back"
echo "ok: UDP fell back to IPv4 in $el ms"

out=$(cx -A -c 1 --connect-timeout 1s dual.test 7007); rc=$?
expect_eq "--all exit" $rc 1
expect_in "--all v6" "$out" "IPv6: 0 of 1 address reachable (no answer)"
expect_in "--all v4" "$out" "IPv4: 1 of 1 address reachable"
# -A: every address's attempt, the dead one with its cause.
out=$(cx -A -v -c 1 --connect-timeout 1s dual.test 7007); rc=$?
expect_eq "--all -v exit" $rc 1
expect_in "--all dead attempt" "$out" \
	"dual.test: attempt 1 to 2001:db8::2 port 7007 (IPv6 stream) at +0.0 ms: failed after "
expect_in "--all dead attempt cause" "$out" "no answer from 2001:db8::2 port 7007 within 1000 ms"
expect_in "--all live attempt" "$out" "dual.test: attempt 2 to 192.0.2.2 port 7007 (IPv4 stream) at +"
out=$(cx -A --json -c 1 --connect-timeout 1s dual.test 7007)
expect_eq "--all attempt records" "$(echo "$out" | grep -c '"type":"attempt"')" 2
expect_in "--all dead attempt json" "$out" '"address":"2001:db8::2","port":7007,"family":"IPv6","protocol":"stream","attempt":1,"start_ms":0.000'
expect_in "--all dead attempt json" "$out" '"outcome":"failed","error":"no answer from 2001:db8::2 port 7007 within 1000 ms"'
expect_in "--all errors array" "$out" '"family":"IPv6","reachable":false,"reachable_count":0,"total":1,"errors":["no answer"]'

t0=$(now_ms)
out=$(cx -v --sequential -c 1 --connect-timeout 2s dual.test 7007); rc=$?
el=$(( $(now_ms) - t0 ))
expect_eq "sequential exit" $rc 4
expect_in "sequential winner" "$out" "from 192.0.2.2:7007 (IPv4 stream)"
[ $el -ge 2000 ] || fail "sequential took only $el ms: it did not wait for IPv6"
echo "ok: the sequential loop took $el ms (the whole IPv6 connect timeout first)"
expect_in "sequential dead attempt" "$out" \
	"attempt 1 to 2001:db8::2 port 7007 (IPv6 stream) at +0.0 ms: failed after "
expect_in "sequential cause" "$out" "no answer from 2001:db8::2 port 7007 within 2000 ms"
off=$(ms_after "$out" "attempt 2 to 192.0.2.2 port 7007 (IPv4 stream) at +")
[ "$off" -ge 1900 ] || fail "sequential attempt 2 started at +$off ms: $out"
conn=$(ms_after "$out" "loss, connect ")
[ "$conn" -ge 1900 ] || fail "sequential connect time $conn ms hides the IPv6 attempt: $out"
out=$(cx --json --sequential -c 1 --connect-timeout 1s dual.test 7007); rc=$?
expect_eq "sequential --json exit" $rc 4
expect_in "sequential json" "$out" '"outcome":"failed"'
out=$(cx -u --sequential -c 1 -W 1s --connect-timeout 1s dual.test 7007); rc=$?
expect_eq "UDP sequential exit" $rc 4
expect_in "UDP sequential winner" "$out" "1 sent, 1 received"

# TCP retransmissions: everything the server sends to the client vanishes
# for a while during the run (a blackhole route on the server's side: on
# the client's side, the kernel's own send fails and TCP does not count a
# retransmission that never left), so the client's TCP retransmits; the summary counts it (TCP_INFO) and the probe that waited
# for it is marked. Probes at 0, 1, 2, 3 s; the hole from 0.5 to 2.2 s.
(sleep 0.5; ip -n $S route add blackhole 192.0.2.1/32; sleep 1.7
	ip -n $S route del blackhole 192.0.2.1/32) &
hole=$!
at_exit "kill $hole 2>/dev/null; ip -n $S route del blackhole 192.0.2.1/32 2>/dev/null"
out=$(cx -c 4 -i 1s -W 8s 192.0.2.2 7007); rc=$?
wait $hole
expect_eq "retransmission exit" $rc 0
expect_in "retransmitted probe" "$out" "(retransmitted)"
n=$(echo "$out" | sed -n 's/.*, \([0-9]*\) retransmissions\{0,1\}$/\1/p')
[ "${n:-0}" -ge 1 ] || fail "no retransmission counted: $out"
echo "ok: $n retransmissions counted"

# The same break made by nftables on the server's input (IPv6 from the
# client dropped, as a firewall does), then rejected with a TCP reset: a
# dropped attempt is cancelled after the attempt delay, a rejected one
# fails at once with its cause; both exit 4.
if part nftables nft; then
	ip -n $S route del blackhole 2001:db8::1/128 || hard "removing the blackhole route"
	ip netns exec $S nft -f - <<'NFT' || hard "nft rules"
table inet aetest {
	chain input {
		type filter hook input priority 0;
		ip6 saddr 2001:db8::1 meta l4proto { tcp, udp } drop
	}
}
NFT
	out=$(cx -v -c 1 -W 1s dual.test 7007); rc=$?
	expect_eq "nft drop exit" $rc 4
	expect_in "nft drop attempt" "$out" \
		"attempt 1 to 2001:db8::2 port 7007 (IPv6 stream) at +0.0 ms: cancelled after "
	out=$(cx -u -v -c 1 -W 1s dual.test 7007); rc=$?
	expect_eq "nft drop UDP exit" $rc 4
	expect_in "nft drop UDP" "$out" "1 sent, 1 received, 0 mismatched, 0% loss"
	ip netns exec $S nft flush chain inet aetest input
	ip netns exec $S nft add rule inet aetest input ip6 saddr 2001:db8::1 \
		meta l4proto tcp reject with tcp reset
	out=$(cx -v -c 1 -W 1s dual.test 7007); rc=$?
	expect_eq "nft reject exit" $rc 4
	expect_in "nft reject attempt" "$out" \
		"attempt 1 to 2001:db8::2 port 7007 (IPv6 stream) at +0.0 ms: failed after "
	expect_in "nft reject cause" "$out" "connection refused by 2001:db8::2 port 7007"
	expect_in "nft reject attempt" "$out" "attempt 2 to 192.0.2.2 port 7007 (IPv4 stream) at +"
	expect_in "nft reject warning" "$out" \
		"dual.test: IPv6 failed (connection refused by 2001:db8::2 port 7007); reached over IPv4"
	off=$(ms_after "$out" "attempt 2 to 192.0.2.2 port 7007 (IPv4 stream) at +")
	[ "$off" -lt 200 ] || echo "note: the rejected attempt took $off ms to fail (a loaded machine?)"
fi
echo ok

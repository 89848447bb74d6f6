#!/bin/sh
# Real asynchronous resolution against dnsmasq on a loopback port with its
# own zone: AAAA only, A only, both, many records, a CNAME chain, NXDOMAIN;
# family restriction; several lookups at once on one channel.
. "$top_srcdir/tests/integ/lib.sh"

start_dnsmasq \
	--host-record=both.test,192.0.2.1,2001:db8::1 \
	--host-record=v4only.test,192.0.2.2 \
	--host-record=v6only.test,2001:db8::2 \
	--host-record=many.test,192.0.2.10 --host-record=many.test,192.0.2.11 \
	--host-record=many.test,192.0.2.12 --host-record=many.test,192.0.2.13 \
	--host-record=many.test,192.0.2.14 --host-record=many.test,192.0.2.15 \
	--host-record=many.test,2001:db8::10 --host-record=many.test,2001:db8::11 \
	--cname=alias.test,alias2.test --cname=alias2.test,both.test

r() { bounded 30 "$ANYECHO" --resolve --dns-server "127.0.0.1:$DNS_PORT" --dns-timeout 3s "$@" 2>&1; }

out=$(r -t both.test) || fail "both.test: $out"
expect_eq "both.test entries" "$(echo "$out" | wc -l)" 2
expect_in "both.test v6" "$out" "IPv6  stream    [2001:db8::1]:7"
expect_in "both.test v4" "$out" "IPv4  stream    192.0.2.1:7"
grep -q 'query\[AAAA\] both.test' "$T/dnsmasq.log" || fail "no AAAA query for both.test"
grep -q 'query\[A\] both.test' "$T/dnsmasq.log" || fail "no A query for both.test"

out=$(r -t -u both.test:9) || fail "both.test:9: $out"
expect_eq "both.test:9 entries (2 addresses x 2 types)" "$(echo "$out" | wc -l)" 4
expect_in "dgram" "$out" "IPv4  dgram     192.0.2.1:9"

out=$(r -u v6only.test) || fail "v6only: $out"
expect_eq "v6only" "$out" "v6only.test              IPv6  dgram     [2001:db8::2]:7"
out=$(r -t v4only.test.) || fail "v4only: $out"
expect_eq "v4only, trailing dot" "$out" "v4only.test.             IPv4  stream    192.0.2.2:7"

out=$(r -4 -t v6only.test); rc=$?
expect_eq "-4 v6only exit" "$rc" 3
expect_in "-4 v6only message" "$out" "no IPv4 address for v6only.test"
out=$(r -6 -t v4only.test); rc=$?
expect_eq "-6 v4only exit" "$rc" 3
expect_in "-6 v4only message" "$out" "no IPv6 address for v4only.test"

out=$(r -t many.test) || fail "many.test: $out"
expect_eq "many.test entries" "$(echo "$out" | wc -l)" 8
for a in 192.0.2.10 192.0.2.15 '[2001:db8::11]'; do expect_in "many.test" "$out" "$a:7"; done

out=$(r -t alias.test) || fail "alias.test: $out"
expect_eq "CNAME chain entries" "$(echo "$out" | wc -l)" 2
expect_in "CNAME chain" "$out" "[2001:db8::1]:7"

out=$(r -t nx.test); rc=$?
expect_eq "NXDOMAIN exit" "$rc" 3
expect_eq "NXDOMAIN message" "$out" "anyecho: nx.test: name not found: nx.test"

# Several lookups at once, answered in the order asked, one failure among them.
out=$(r -t both.test nx.test v4only.test:echo many.test 127.0.0.1); rc=$?
expect_eq "mixed exit" "$rc" 3
expect_eq "mixed entries" "$(echo "$out" | grep -vc '^anyecho:')" 12
expect_eq "mixed order" "$(echo "$out" | grep -v '^anyecho:' | awk '{print $1}' | uniq | tr '\n' ' ')" \
	"both.test v4only.test:echo many.test 127.0.0.1 "
echo "ok"

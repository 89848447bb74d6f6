#!/bin/sh
# ICMP errors for datagram probes (issue 9, item 4), in a lab of three
# namespaces (lab3.sh): a port nobody listens on, a port the server's
# nftables rejects as administratively prohibited, an address the router
# has no route to, and a probe too big for the far link. Each probe must be
# ended at once with the cause and the address that reported it, not
# after -W (5 s here) as "no reply". A reply from an address other than
# the one probed is named, not dropped.
. "$top_srcdir/tests/integ/lib.sh"
need ip "Debian package iproute2"
LAB_MTU4=1000 LAB_MTU6=1280
. "$top_srcdir/tests/integ/lab3.sh"
lab_server

# quick WHAT TEXT...: the run ended well under -W 5s, naming each TEXT.
quick() {
	_what=$1; shift
	t0=$(now_ms)
	out=$(cx -u -c 2 -i 200ms -W 5s "$@")
	el=$(( $(now_ms) - t0 ))
	echo "$out"
	[ $el -lt 3500 ] || fail "$_what: took $el ms, the ICMP error was not read"
}

for fam in 4 6; do
	if [ $fam = 4 ]; then srv=198.51.100.2 rtr=192.0.2.254 dead=203.0.113.9
	else srv=2001:db8:2::2 rtr=2001:db8:1::ff dead=2001:db8:dead::9; fi
	part "IPv$fam" || continue
	out=$(cx -u -c 1 -W 5s $srv 7007) || fail "IPv$fam: the lab's path is broken: $out"

	quick "port unreachable" $srv 7009
	expect_in "IPv$fam port unreachable" "$out" "port unreachable"
	expect_in "IPv$fam port unreachable from" "$out" "from $srv"

	quick "no route" $dead 7007
	if [ $fam = 4 ]; then expect_in "IPv4 no route" "$out" "host unreachable (ICMP type 3 code 1)"
	else expect_in "IPv6 no route" "$out" "no route (ICMPv6 type 1 code 0)"; fi
	expect_in "IPv$fam no route from" "$out" "from $rtr"

	# A datagram above the far link's MTU: the router says so.
	if [ $fam = 4 ]; then mtu=1000; else mtu=1280; fi
	out=$(cx -u -c 1 -s 1400 -W 5s $srv 7007)
	expect_in "IPv$fam too big" "$out" "MTU $mtu"
	expect_in "IPv$fam too big from" "$out" "from $rtr"
done

if part "local routes"; then
	# Routes of type unreachable and prohibit in the client's own
	# namespace: no ICMP, the kernel refuses at once; said so, promptly.
	ip -n $C route add unreachable 198.18.0.0/24 || hard "route"
	ip -n $C route add prohibit 198.18.1.0/24 || hard "route"
	ip -n $C -6 route add unreachable 2001:db8:bad::/64 || hard "route"
	ip -n $C -6 route add prohibit 2001:db8:bad:1::/64 || hard "route"
	for a in 198.18.0.1 2001:db8:bad::1; do
		quick "local unreachable route" $a 7007
		expect_in "local unreachable $a" "$out" "host unreachable: $a port 7007"
	done
	for a in 198.18.1.1 2001:db8:bad:1::1; do
		quick "local prohibit route" $a 7007
		expect_in "local prohibit $a" "$out" "prohibited here (route or firewall): $a port 7007"
	done
fi

if part "admin-prohibited" nft; then
	ip netns exec $S nft -f - <<NFT || hard "nft rules"
table inet f {
	chain in {
		type filter hook input priority 0;
		udp dport 7010 meta nfproto ipv4 reject with icmp type admin-prohibited
		udp dport 7010 meta nfproto ipv6 reject with icmpv6 type admin-prohibited
	}
}
NFT
	quick "admin-prohibited (IPv4)" 198.51.100.2 7010
	expect_in "IPv4 prohibited" "$out" "administratively prohibited (ICMP type 3 code 13) from 198.51.100.2"
	quick "admin-prohibited (IPv6)" 2001:db8:2::2 7010
	expect_in "IPv6 prohibited" "$out" "administratively prohibited (ICMPv6 type 1 code 1) from 2001:db8:2::2"
	out=$(cx -u -c 1 -W 5s --json 198.51.100.2 7010)
	expect_in "JSON icmp" "$out" '"icmp_type":3,"icmp_code":13,"icmp_from":"198.51.100.2"'
fi

# An echo that comes after its probe's ICMP error (forged here, on the
# client's loopback) is late, named so; a later probe's slow echo is then
# still waited for after the last probe (review 8: the echo after the
# error took a lost probe's place in the count of those waited for, and
# probe 3's echo at 700 ms was counted lost).
if part "echo after an ICMP error" python3; then
	ip netns exec $C timeout 30 python3 "$top_srcdir/tests/integ/icmpecho.py" 1 3 700 \
		>"$T/icmpecho.port" 2>"$T/icmpecho.err" &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/icmpecho.port" || hard "icmpecho.py: $(cat "$T/icmpecho.err")"
	out=$(cx -u -c 3 -i 100ms -W 500ms 127.0.0.1 "$(cat "$T/icmpecho.port")")
	echo "$out"
	expect_in "ICMP then echo" "$out" "seq=1: port unreachable (ICMP type 3 code 3) from 127.0.0.1"
	expect_in "echo after its error" "$out" "seq=1 time="
	expect_in "labelled by its cause" "$out" "(late: after its error was reported)"
	expect_in "slow echo waited for" "$out" "3 sent, 1 received, 0 mismatched, 0% loss"
	expect_in "both late" "$out" "2 late"
fi

if part "reply from another address" nft; then
	# The router rewrites the server's replies to come from .99.
	ip netns exec $R nft -f - <<NFT || hard "nft rules"
table ip m {
	chain rewrite {
		type filter hook forward priority -300;
		ip saddr 198.51.100.2 udp sport 7007 ip saddr set 198.51.100.99
	}
}
NFT
	# (no ICMP here: the probes wait their -W, the copies settle nothing)
	out=$(cx -u -c 2 -i 200ms -W 1s 198.51.100.2 7007)
	expect_in "other source" "$out" "reply from 198.51.100.99 port 7007, not from 198.51.100.2 port 7007"
fi
echo ok

#!/bin/sh
# --pmtu (issue 9, item 3) in a lab of three namespaces (lab3.sh) whose far
# links have MTU 1000 (IPv4) and 1280 (IPv6). With Packet Too Big /
# Fragmentation Needed let through, the path MTU is found and named with
# the router that announced it; with the router's nftables dropping them,
# the black hole is named as one, with the exact size above which probes
# vanish, and the exit status is 1.
. "$top_srcdir/tests/integ/lib.sh"
need ip "Debian package iproute2"
LAB_MTU4=1000 LAB_MTU6=1280
. "$top_srcdir/tests/integ/lab3.sh"
lab_server
printf '2001:db8:2::2 far.test\n198.51.100.2 far.test\n' >"$T/hosts"
pm() { bounded 60 ip netns exec $C env CARES_HOSTS="$T/hosts" "$ANYECHO" --pmtu "$@" 2>&1; }
# The paths work for small datagrams (and neighbours are resolved).
cx -u -c 1 -W 5s 198.51.100.2 7007 >/dev/null || fail "IPv4 path broken"
have6=yes
cx -u -c 1 -W 5s 2001:db8:2::2 7007 >/dev/null || { have6=; skip_part "IPv6 checks" "no IPv6 path in the lab"; }

if part "announced"; then
	out=$(pm -W 2s far.test 7007); rc=$?
	echo "$out"
	expect_eq "announced exit" $rc 0
	expect_in "IPv4 announced" "$out" \
		"far.test (198.51.100.2:7007, IPv4): path MTU 1000, announced by 192.0.2.254"
	[ -n "$have6" ] && expect_in "IPv6 announced" "$out" \
		"far.test ([2001:db8:2::2]:7007, IPv6): path MTU 1280, announced by 2001:db8:1::ff"
	out=$(pm -4 -W 2s --json far.test 7007)
	expect_in "JSON" "$out" '"verdict":"announced","largest":1000,"announced":1000,"announced_by":"192.0.2.254"'
	case $out in *IPv6*) fail "-4 searched IPv6 too: $out" ;; esac
	# An ICMP error other than "too big" ends the search with its cause.
	out=$(pm -4 -W 2s far.test 7009); rc=$?
	expect_eq "port unreachable exit" $rc 1
	expect_in "port unreachable" "$out" \
		"far.test (198.51.100.2:7009, IPv4): port unreachable (ICMP type 3 code 3) from 198.51.100.2"
	out=$(pm -t far.test 7007); rc=$?
	expect_eq "--pmtu -t" $rc 2
fi

if part "black hole" nft; then
	ip netns exec $R nft -f - <<NFT || hard "nft rules"
table inet f {
	chain out {
		type filter hook output priority 0;
		icmpv6 type packet-too-big drop
		icmp type destination-unreachable icmp code frag-needed drop
	}
}
NFT
	# Each lost size costs -W twice: about 16 of them at 700 ms (a margin
	# for a loaded machine: an echo later than -W would look lost).
	t0=$(now_ms)
	out=$(pm -W 700ms far.test 7007); rc=$?
	el=$(( $(now_ms) - t0 ))
	echo "$out"
	expect_eq "black hole exit" $rc 1
	expect_in "IPv4 black hole" "$out" \
		"198.51.100.2:7007, IPv4): sizes above 1000 vanish and no Fragmentation Needed arrives: black hole"
	[ -n "$have6" ] && expect_in "IPv6 black hole" "$out" \
		"[2001:db8:2::2]:7007, IPv6): sizes above 1280 vanish and no Packet Too Big arrives: black hole"
	echo "ok: black holes named in $el ms"

	# Over TCP: the server's side of the narrow link at 1500, so the
	# server offers a full-size MSS; the handshake passes, the probe's
	# full segments vanish at the router. The timeout says what the
	# kernel sees (TCP_INFO) and names the black hole.
	ip -n $S link set s4 mtu 1500 && ip -n $S link set s6 mtu 1500 || hard "MTU"
	# Forget the path MTUs learned in the first part (the kernel caches
	# them for 10 minutes, TCP would use them).
	ip -n $C route flush cache; ip -n $C -6 route flush cache
	for a in 198.51.100.2 ${have6:+2001:db8:2::2}; do
		out=$(cx -t -c 1 -s 4000 -W 3s $a 7007); rc=$?
		echo "$out"
		expect_eq "TCP $a exit" $rc 1
		expect_in "TCP $a kernel view" "$out" "retransmissions, path MTU"
		expect_in "TCP $a black hole" "$out" "as in a path MTU black hole"
	done
fi
echo ok

#!/bin/sh
# A link-local DNS server (a router's fe80:: address, as RDNSS announces
# it) given with its interface, in every spelling users type: anyecho
# resolves a name through it and echoes, and its reports name the server
# with its interface. Two namespaces of the test's own joined by a veth
# pair: the DNS server (tests/integ/dnsresp.py) on [fe80::1%vd]:53 in one,
# anyecho and anyechod (on 127.0.0.1, the address the name has) in the
# other. What c-ares would drop without a word (no interface, an interface
# not here, the same address on two links) is refused, exit 2, naming it.
# A c-ares that takes no link-local server (before 1.24.0; 1.34.0 to
# 1.34.5 drop every one) is checked for its clear refusal instead.
. "$top_srcdir/tests/integ/lib.sh"
need netns
need ip "Debian package iproute2"
need python3

C=aedlc$$ D=aedld$$
ip netns add $C 2>/dev/null || skip "cannot create network namespaces here"
at_exit "ip netns del $C 2>/dev/null"
ip netns add $D || hard "namespace $D"
at_exit "ip netns del $D 2>/dev/null"
for ns in $C $D; do ip -n $ns link set lo up || hard "lo up in $ns"; done
ip -n $C link add vc type veth peer name vd netns $D || hard "veth pair"
# nodad: usable at once, no duplicate address detection to wait for.
for x in "$C vc fe80::2" "$D vd fe80::1"; do
	set -- $x
	ip -n $1 link set $2 up || hard "link $2 up"
	ip -n $1 addr add $3/64 dev $2 nodad || hard "address $3 on $2"
done
IDX=$(ip netns exec $C cat /sys/class/net/vc/ifindex) || hard "vc's index"

# The DNS server answers A 127.0.0.1 for noaaaa.test (-4: A only).
ip netns exec $D python3 "$top_srcdir/tests/integ/dnsresp.py" "$T/dnsport" "$T/dns.log" 60 \
	fe80::1%vd 53 2>"$T/dns.err" &
at_exit "kill $! 2>/dev/null"
wait_for 10 test -s "$T/dnsport" || hard "dnsresp.py did not start: $(cat "$T/dns.err")"
ip netns exec $C "$ANYECHOD" -4 -l 127.0.0.1:0 --port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
P=$(port IPv4 stream)

# c ARGS...: anyecho in the client's namespace, bounded.
c() { ip netns exec $C timeout -k 5 60 "$ANYECHO" "$@" 2>&1; }
# refused WHAT WANT ARGS...: exit 2, the message holding WANT.
refused() {
	_what=$1 _want=$2; shift 2
	out=$(c "$@"); rc=$?
	expect_eq "$_what: exit" $rc 2
	expect_in "$_what" "$out" "$_want"
	echo "ok, refused: $out"
}

# Which c-ares runs, and whether it should take a link-local server.
V=$(c -V | sed -n 's/.*(c-ares \([0-9.]*\)).*/\1/p')
[ -n "$V" ] || hard "anyecho -V names no c-ares: $(c -V)"
ver=$(echo "$V" | awk -F. '{ printf "%d", $1 * 65536 + $2 * 256 + $3 }')
if [ "$ver" -lt $((0x011800)) ]; then expect=old
elif [ "$ver" -ge $((0x012200)) ] && [ "$ver" -le $((0x012205)) ]; then expect=broken
else expect=takes; fi
echo "c-ares $V: $expect"

echo "== refused whatever the c-ares"
refused "no interface" "bad DNS server 'fe80::1': a link-local address needs its interface" \
	-4 -c 1 --dns-server fe80::1 noaaaa.test $P
refused "interface on a global address" "an interface ('%vc') belongs only to a link-local" \
	-4 -c 1 --dns-server '127.0.0.1,[2001:db8::1]:53%vc' noaaaa.test $P

if [ $expect != takes ]; then
	# 1.34.0 to 1.34.5 with c-ares PR #997 backported takes them too.
	out=$(c -4 -c 1 --dns-server fe80::1%vc noaaaa.test $P); rc=$?
	if [ $expect = broken ] && [ $rc = 0 ]; then
		echo "c-ares $V takes link-local servers here (a backported fix): $out"
		expect=takes
	else
		expect_eq "c-ares $V, fe80::1%vc: exit" $rc 2
		if [ $expect = old ]; then
			expect_in "c-ares $V" "$out" "bad DNS server 'fe80::1%vc': c-ares $V here cannot take a server's interface (1.24.0 or later can)"
		else
			expect_in "c-ares $V" "$out" "bad DNS server 'fe80::1%vc': c-ares $V here drops every link-local server (fixed in 1.34.6)"
		fi
		refused "c-ares $V, bracketed" "c-ares $V here" \
			-4 -c 1 --dns-server "[fe80::1%vc]:53" noaaaa.test $P
		echo "c-ares $V takes no link-local DNS server: its refusal is checked instead"
		exit 0
	fi
fi

echo "== each spelling resolves through [fe80::1]:53%vc and echoes"
for s in 'fe80::1%vc' '[fe80::1%vc]:53' '[fe80::1]:53%vc' '[fe80::1%vc]' '[fe80::1]%vc' \
	"fe80::1%$IDX" "127.0.0.9:1,[fe80::1%vc]:53"; do
	: >"$T/dns.log"
	out=$(c -4 -v -c 1 --dns-timeout 10s --dns-server "$s" noaaaa.test $P) ||
		fail "--dns-server '$s': $out"
	expect_in "'$s': echo" "$out" "from 127.0.0.1:$P"
	expect_in "'$s': who answered" "$out" "from [fe80::1]:53%vc"
	grep -q '^A noaaaa.test' "$T/dns.log" || fail "'$s': the DNS server was not asked"
	echo "ok: $s"
done

echo "== a server that does not answer is named with its interface"
out=$(c -4 -c 1 --dns-timeout 1s --dns-server 'fe80::9%vc' noaaaa.test $P); rc=$?
expect_eq "silent fe80::9%vc: exit" $rc 3
expect_in "silent fe80::9%vc" "$out" "DNS server [fe80::9]:53%vc did not answer within 1000 ms"

echo "== what c-ares would drop without a word"
refused "an interface not here" "bad DNS server 'fe80::1%nosuch0': no interface 'nosuch0' here" \
	-4 -c 1 --dns-server fe80::1%nosuch0 noaaaa.test $P
# c-ares keeps one server per address and port, whichever link it is on.
refused "the same address on two links" "drops '[fe80::1]%lo'" \
	-4 -c 1 --dns-server 'fe80::1%vc,fe80::1%lo' noaaaa.test $P
exit 0

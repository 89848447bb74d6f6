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
# 1.34.5 drop every one) is checked for its clear refusal instead. The
# refusals that send nothing run without namespaces (on lo).
. "$top_srcdir/tests/integ/lib.sh"

# a ARGS...: anyecho here, bounded (refusals: nothing is sent).
a() { bounded 60 "$ANYECHO" "$@" 2>&1; }
# refused WHAT WANT ARGS...: exit 2, the message holding WANT.
refused() {
	_what=$1 _want=$2; shift 2
	out=$("$@"); rc=$?
	expect_eq "$_what: exit" $rc 2
	expect_in "$_what" "$out" "$_want"
	echo "ok, refused: $out"
}

# Which c-ares runs, and whether it should take a link-local server.
V=$(a -V | sed -n 's/.*(c-ares \([0-9.]*\)).*/\1/p')
[ -n "$V" ] || hard "anyecho -V names no c-ares: $(a -V)"
ver=$(echo "$V" | awk -F. '{ printf "%d", $1 * 65536 + $2 * 256 + $3 }')
if [ "$ver" -lt $((0x011800)) ]; then expect=old
elif [ "$ver" -ge $((0x012200)) ] && [ "$ver" -le $((0x012205)) ]; then expect=broken
else expect=takes; fi
echo "c-ares $V: $expect"

# Refused before anything is sent, with the interface every host has.
part refusals
refused "no interface" "bad DNS server 'fe80::1': a link-local address needs its interface" \
	a -c 1 --dns-server fe80::1 localhost
refused "interface on a global address" "an interface ('%lo') belongs only to a link-local" \
	a -c 1 --dns-server '127.0.0.1,[2001:db8::1]:53%lo' localhost
case $expect in
old) refused "c-ares $V" "bad DNS server 'fe80::1%lo': c-ares $V here cannot take a server's interface (1.24.0 or later can)" \
	a -c 1 --dns-server fe80::1%lo localhost ;;
broken) # unless c-ares PR #997 was backported: then it takes them
	out=$(a -c 1 --dns-server '[fe80::1%lo]:1,fe80::1%nosuch0' localhost)
	case $out in
	*"c-ares $V here drops every link-local server (fixed in 1.34.6)"*)
		echo "ok, refused: $out" ;;
	*"no interface 'nosuch0' here"*) echo "c-ares $V takes link-local servers (a backported fix)"
		expect=takes ;;
	*) fail "c-ares $V: $out" ;;
	esac ;;
takes) refused "an interface not here" "bad DNS server 'fe80::1%nosuch0': no interface 'nosuch0' here" \
	a -c 1 --dns-server fe80::1%nosuch0 localhost ;;
esac

part "link-local DNS server" netns python3 || exit 0
C=aedlc$$ D=aedld$$
ip netns add $C || hard "namespace $C"
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

if [ $expect != takes ]; then
	if [ $expect = old ]; then want="c-ares $V here cannot take a server's interface (1.24.0 or later can)"
	else want="c-ares $V here drops every link-local server (fixed in 1.34.6)"; fi
	for s in 'fe80::1%vc' '[fe80::1%vc]:53' '[fe80::1]:53%vc'; do
		refused "c-ares $V, $s" "bad DNS server '$s': $want" \
			c -4 -c 1 --dns-server "$s" noaaaa.test $P
	done
	echo "c-ares $V takes no link-local DNS server: its refusal is checked instead"
	exit 0
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
# Nobody has fe80::9: a timeout, or (neighbour discovery given up, 3 s
# on an idle machine) unreachable; either names the server.
out=$(c -4 -c 1 --dns-timeout 1s --dns-server 'fe80::9%vc' noaaaa.test $P); rc=$?
expect_eq "silent fe80::9%vc: exit" $rc 3
expect_in "silent fe80::9%vc" "$out" "DNS server [fe80::9]:53%vc "
echo "ok: $out"

echo "== what c-ares would drop without a word"
refused "an interface not here" "bad DNS server 'fe80::1%nosuch0': no interface 'nosuch0' here" \
	c -4 -c 1 --dns-server fe80::1%nosuch0 noaaaa.test $P
# c-ares keeps one server per address and port, whichever link it is on.
refused "the same address on two links" "drops '[fe80::1]%lo'" \
	c -4 -c 1 --dns-server 'fe80::1%vc,fe80::1%lo' noaaaa.test $P
exit 0

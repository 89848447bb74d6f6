#!/bin/sh
# The reflection guard against broadcasts, in two network namespaces of the
# test's own joined by a veth pair (nothing is added to the machine's own
# namespace): a datagram sent to the server's network's directed broadcast
# address (192.0.2.255) gets no answer, on an IPv4 socket and on a
# dual-stack [::] socket (where it arrives v4-mapped), nor one sent to the
# limited broadcast 255.255.255.255; a unicast control datagram sent after
# it from the same socket is answered, so any answer to the broadcast would
# already be in; the same on a socket bound to the broadcast address itself
# and on an inherited wildcard socket (socket activation). SIGHUP re-reads the interfaces: a broadcast address added
# afterwards is refused too. An address added without a broadcast address
# (glibc then reports the address itself as its broadcast) and a /32 whose
# broadcast is itself (as on GCE) are answered: they are the host's own.
# Where the interfaces cannot be listed (no netlink), broadcasts are still
# refused, by the kernel's word.
. "$top_srcdir/tests/integ/lib.sh"
need netns
need ip "Debian package iproute2"
need python3

C=aegc$$ S=aegs$$
ip netns add $C 2>/dev/null || skip "cannot create network namespaces here"
at_exit "ip netns del $C 2>/dev/null"
ip netns add $S || hard "second namespace"
at_exit "ip netns del $S 2>/dev/null"
ip -n $C link add vc type veth peer name vs netns $S || hard "veth pair"
for ns in $C $S; do ip -n $ns link set lo up; done
ip -n $C addr add 192.0.2.1/24 brd + dev vc
ip -n $S addr add 192.0.2.2/24 brd + dev vs
ip -n $C link set vc up
ip -n $S link set vs up
# 255.255.255.255 leaves by the default route's interface.
ip -n $C route add default dev vc || hard "default route"
# The host's own addresses that a careless guard takes for broadcasts.
ip -n $S addr add 10.7.7.1/24 dev vs || hard "address without brd"
ip -n $C addr add 10.7.7.2/24 dev vc
ip -n $S addr add 10.9.9.9/32 brd 10.9.9.9 dev vs || hard "/32 address"
ip -n $C route add 10.9.9.9/32 dev vc

ip netns exec $S "$ANYECHOD" -l 0.0.0.0:7007 -l '[::]:7008' -l 192.0.2.255:7009 --dualstack -u \
	--threads 1 \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"

# probe DST PORT [CONTROL-PORT]: broadcast to DST, then unicast control (to
# PORT, or CONTROL-PORT where the socket on PORT hears only DST; a reply
# from the other socket may come first, so what follows it for 300 ms is
# read too); 0 if unanswered.
probe() {
	ip netns exec $C timeout 20 python3 - "$1" "$2" "${3:-$2}" <<'PY'
import socket, select, sys
dst, port, cport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
u.bind(("192.0.2.1", 0))
u.settimeout(5)
u.sendto(b"broadcast", (dst, port))
u.sendto(b"control", ("192.0.2.2", cport))
got = []
while b"control" not in got:
    got.append(u.recv(100))
u.settimeout(0.3)
try:
    got.append(u.recv(100))
except socket.timeout:
    pass
if b"broadcast" in got:
    print("FAIL: answered a datagram sent to %s port %d" % (dst, port))
    sys.exit(1)
print("ok: nothing for %s port %d, control answered" % (dst, port))
PY
}

# unicast SRC DST PORT: a datagram to one of the server's own addresses
# must be answered.
unicast() {
	ip netns exec $C timeout 20 python3 - "$1" "$2" "$3" <<'PY'
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((src, 0))
u.settimeout(1)
for _ in range(3):
    u.sendto(b"unicast", (dst, port))
    try:
        if u.recv(100) == b"unicast":
            print("ok: %s port %d answered" % (dst, port))
            sys.exit(0)
    except socket.timeout:
        pass
print("FAIL: nothing from %s port %d, the host's own address" % (dst, port))
sys.exit(1)
PY
}

unicast 10.7.7.2 10.7.7.1 7007 || fail "own address without brd, IPv4 socket"
unicast 10.7.7.2 10.7.7.1 7008 || fail "own address without brd, dual-stack socket"
unicast 10.7.7.2 10.9.9.9 7007 || fail "own /32 address whose brd is itself"
probe 192.0.2.255 7007 || fail "directed broadcast, IPv4 socket"
probe 192.0.2.255 7008 || fail "directed broadcast, dual-stack socket"
probe 255.255.255.255 7007 || fail "limited broadcast, IPv4 socket"
probe 255.255.255.255 7008 || fail "limited broadcast, dual-stack socket"
# A socket bound to the broadcast address itself hears nothing else.
probe 192.0.2.255 7009 7007 || fail "directed broadcast, socket bound to it"
# 10.7.7.1/24 was added without brd: no interface lists 10.7.7.255, but the
# kernel has a broadcast route for it and delivers it to [::] and 0.0.0.0.
# Refused by the kernel's word (pktinfo), counted below (it was "dropped",
# by the send's EINVAL, and an IP_TRANSPARENT socket would have sent it).
probe 10.7.7.255 7007 || fail "broadcast the interfaces do not list, IPv4 socket"
probe 10.7.7.255 7008 || fail "broadcast the interfaces do not list, dual-stack socket"

# A second network on the server's side, and SIGHUP: refused at once.
ip -n $S addr add 198.51.100.2/24 brd + dev vs
ip -n $C addr add 198.51.100.1/24 brd + dev vc
kill -HUP $SRV_PID
wait_for 5 grep -q "broadcast addresses re-read" "$T/server.log" || fail "SIGHUP: $(cat "$T/server.log")"
probe 198.51.100.255 7007 || fail "directed broadcast of a network added later"

kill -USR1 $SRV_PID
wait_for 5 grep -q "refused 8," "$T/server.log" || fail "refusals not counted: $(cat "$T/server.log")"
grep -q "sent to a local network's broadcast address" "$T/server.log" ||
	fail "refusal not logged: $(cat "$T/server.log")"
kill $SRV_PID

# The source side, where the kernel would not stop it: an inherited socket
# that may broadcast (systemd's Broadcast=yes) gets a datagram whose source
# is the network's broadcast address, spoofed through a raw socket (the
# kernel would put the client's own address on a bound one). Answering it
# would reach every host of 192.0.2.0/24.
ip netns exec $S sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.vs.rp_filter=0
: >"$T/server2.log"
ip netns exec $S env ACTIVATE_BROADCAST=1 python3 "$top_srcdir/tests/integ/activate.py" \
	"$T/ports2" IPv4:dgram:0.0.0.0 -- "$ANYECHOD" 2>"$T/server2.log" &
SRV2_PID=$!
at_exit "kill $SRV2_PID 2>/dev/null"
wait_for 10 grep -q 'serving' "$T/server2.log" || hard "not started: $(cat "$T/server2.log")"
P=$(awk '{ print $4; exit }' "$T/ports2")
ip netns exec $C timeout 20 python3 - "$P" <<'PY' || fail "broadcast source answered"
import socket, struct, sys
port = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 0))  # hears replies sent to the network's broadcast too
sport = u.getsockname()[1]
data = b"spoofed"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), 0, 0, 64, socket.IPPROTO_UDP, 0,
                 socket.inet_aton("192.0.2.255"), socket.inet_aton("192.0.2.2"))
udp = struct.pack("!HHHH", sport, port, 8 + len(data), 0)  # no UDP checksum: allowed
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.sendto(ip + udp + data, ("192.0.2.2", 0))
u.settimeout(5)
u.sendto(b"control", ("192.0.2.2", port))
got = []
while b"control" not in got:
    got.append(u.recv(100))
if b"spoofed" in got:
    print("FAIL: answered a datagram from 192.0.2.255, to the whole network")
    sys.exit(1)
print("ok: nothing for a broadcast source, control answered")
PY
# An inherited wildcard socket hears broadcasts too: the guard must see
# where each datagram was sent, as on the sockets it binds itself.
probe 192.0.2.255 "$P" || fail "directed broadcast, inherited socket"
probe 255.255.255.255 "$P" || fail "limited broadcast, inherited socket"
kill -USR1 $SRV2_PID
wait_for 5 grep -q "refused 3," "$T/server2.log" || fail "not refused: $(cat "$T/server2.log")"
kill $SRV2_PID

# Where the interfaces cannot be listed (netlink denied, as by a unit's
# RestrictAddressFamilies without AF_NETLINK): a socket bound to the
# broadcast address is refused by the kernel's word, asked at start
# (review 8: it answered), and a wildcard one by each datagram's pktinfo.
build_shim
rm -f "$T/ports3"
ip netns exec $S env $SHIM_ENV AE_SHIM_NO_NETLINK=1 "$ANYECHOD" -l 0.0.0.0:7017 \
	-l 192.0.2.255:7019 -u --threads 1 --port-file "$T/ports3" 2>"$T/server3.log" &
SRV3_PID=$!
at_exit "kill $SRV3_PID 2>/dev/null"
wait_for 10 test -s "$T/ports3" || hard "anyechod did not start: $(cat "$T/server3.log")"
grep -q "broadcast addresses" "$T/server3.log" ||
	hard "the shim did not deny the interfaces' list: $(cat "$T/server3.log")"
probe 192.0.2.255 7019 7017 || fail "no interface list: directed broadcast, socket bound to it"
probe 192.0.2.255 7017 || fail "no interface list: directed broadcast, wildcard socket"
# SIGHUP then says the list was kept, not re-read (attack 8).
kill -HUP $SRV3_PID
wait_for 5 grep -q "SIGHUP: logs reopened, the broadcast addresses read before kept" \
	"$T/server3.log" || fail "SIGHUP without the interfaces: $(cat "$T/server3.log")"
echo ok

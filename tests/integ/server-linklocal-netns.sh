#!/bin/sh
# Link-local clients on two links count as two sources: every link has the
# same fe80::/64, and keying IPv6 by the /64 alone made all of them one.
# Three namespaces of the test's own: the server's, joined by a veth pair
# to host A (link 1) and by another to host B (link 2). A holds
# --max-conns-per-source connections (its next one is closed at once) and
# B still connects and echoes; A spends its --rate-limit budget (most of
# its burst unanswered) and B's first datagram right after is answered.
. "$top_srcdir/tests/integ/lib.sh"
need netns
need ip "Debian package iproute2"
need python3

S=aells$$ A=aella$$ B=aellb$$
ip netns add $S 2>/dev/null || skip "cannot create network namespaces here"
at_exit "ip netns del $S 2>/dev/null"
for ns in $A $B; do
	ip netns add $ns || hard "namespace $ns"
	at_exit "ip netns del $ns 2>/dev/null"
done
for ns in $S $A $B; do ip -n $ns link set lo up; done
ip -n $A link add va type veth peer name sa netns $S || hard "veth pair A"
ip -n $B link add vb type veth peer name sb netns $S || hard "veth pair B"
# nodad: usable at once, no duplicate address detection to wait for.
for x in "$A va fe80::a" "$S sa fe80::1" "$B vb fe80::b" "$S sb fe80::2"; do
	set -- $x
	ip -n $1 link set $2 up || hard "link $2 up"
	ip -n $1 addr add $3/64 dev $2 nodad || hard "address $3 on $2"
done

# --rate-limit 1: a second passes before A's spent budget has one reply
# again, far more than B needs to send right after A's burst.
ip netns exec $S "$ANYECHOD" -6 -l '[::]:7007' --threads 1 --max-conns-per-source 3 \
	--rate-limit 1 --port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"

# Host A holds 3 connections until $T/release appears (bounded: 30 s).
echo "== connections"
ip netns exec $A timeout 40 python3 - "$T" <<'PY' &
import os, socket, sys, time
t = sys.argv[1]
def conn():
    s = socket.create_connection(("fe80::1%va", 7007), timeout=5)
    s.settimeout(5)
    return s
held = [conn() for _ in range(3)]
for s in held:
    s.sendall(b"held")
    assert s.recv(10) == b"held", "A: a connection under the limit did not echo"
s = conn()
try:
    s.sendall(b"x")
    extra = s.recv(1)
except (ConnectionResetError, BrokenPipeError):
    extra = b""
open(os.path.join(t, "a-extra"), "w").write("refused" if extra == b"" else "served")
open(os.path.join(t, "a-held"), "w").write("3")
deadline = time.monotonic() + 30
while not os.path.exists(os.path.join(t, "release")) and time.monotonic() < deadline:
    time.sleep(0.05)
PY
A_PID=$!
at_exit "kill $A_PID 2>/dev/null"
wait_for 20 test -s "$T/a-held" || fail "host A could not open its 3 connections"
expect_eq "A's fourth connection (limit 3 per source)" "$(cat "$T/a-extra")" refused
ip netns exec $B timeout 20 python3 - <<'PY' || fail "host B on link 2 refused for link 1's count"
import socket
s = socket.create_connection(("fe80::2%vb", 7007), timeout=5)
s.settimeout(5)
s.sendall(b"from link 2")
got = s.recv(100)
assert got == b"from link 2", "B's connection closed at once: %r" % got
print("ok: host B connects and echoes while host A holds its limit")
PY
touch "$T/release"
wait $A_PID 2>/dev/null

echo "== datagrams"
ip netns exec $A timeout 20 python3 - <<'PY' || fail "host A's burst"
import socket
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for i in range(20):
    u.sendto(b"burst", ("fe80::1%va", 7007))
u.settimeout(0.3)
n = 0
try:
    while True:
        u.recv(100)
        n += 1
except socket.timeout:
    pass
print("host A: %d of 20 answered" % n)
assert n <= 2, "the rate limit did not hold host A back"
PY
ip netns exec $B timeout 20 python3 - <<'PY' || fail "host B on link 2 silenced by link 1's budget"
import socket
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(b"link 2", ("fe80::2%vb", 7007))
assert u.recv(100) == b"link 2"
print("ok: host B answered right after host A's burst")
PY
exit 0

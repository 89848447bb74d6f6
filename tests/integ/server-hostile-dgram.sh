#!/bin/sh
# Unix-datagram clients that send and never read must cost no one else his
# service and the server no CPU. Small replies fill such a receiver's queue
# (EAGAIN while the server's own socket is writable: drop and stall that
# peer, never wait for writability); 64 KiB replies pin the server's send
# buffer until read (a ceiling on what large replies may hold keeps room for
# everyone's small ones). Hundreds of non-readers of 2 KiB replies, with
# the server's usual send buffer and with the small one an unprivileged
# server gets by default, must not silence small pings either. Five other
# clients ping meanwhile and must all be answered; the server's CPU is read
# from /proc over the pinging.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the clients are Python"
[ -r /proc/self/stat ] || skip "no /proc to read the server's CPU time"
HOSTILE="python3 $top_srcdir/tests/integ/hostile.py"

start_server -l "unix-dgram:$T/d" --threads 1
# The spin of the issue: 23 small datagrams, then 30 to be sure.
$HOSTILE "$T/d" "$T" $SRV_PID 64 30 1 30 || fail "small datagrams, one non-reader"
$HOSTILE "$T/d" "$T" $SRV_PID 64 30 4 30 || fail "small datagrams, four non-readers"
# Pinning: 6 x 64 KiB to one non-reader. Then 12 each to sixteen: more than
# even an 8 MiB send buffer holds, so the quarter kept for large replies is
# what leaves room for the small ones.
$HOSTILE "$T/d" "$T" $SRV_PID 65536 6 1 30 || fail "64 KiB datagrams, one non-reader"
# Where the send buffer can be raised past what one non-reader's queue
# holds (root: SO_SNDBUFFORCE), that one is stalled and even others' 64 KiB
# pings are answered.
if part "64 KiB pings beside a non-reader" sndbufforce; then
	PING_SIZE=65536 $HOSTILE "$T/d" "$T" $SRV_PID 65536 6 1 30 ||
		fail "64 KiB pings beside one 64 KiB non-reader"
fi
$HOSTILE "$T/d" "$T" $SRV_PID 65536 12 16 30 || fail "64 KiB datagrams, sixteen non-readers"
kill -USR1 $SRV_PID
wait_for 5 grep -q 'dropped [1-9]' "$T/server.log" ||
	fail "dropped replies not counted: $(cat "$T/server.log")"
# Many non-readers of 2 KiB replies: each holds up to 11 of ours (its
# queue length plus one) until it reads, 47872 bytes as the kernel counts
# them; 300 hold more than even an 8 MiB send buffer. Replies that size
# may fill only half of what the server lets unread replies hold, so the
# small pings of the others are still answered, and nothing waits.
$HOSTILE "$T/d" "$T" $SRV_PID 2048 12 300 30 || fail "2 KiB datagrams, 300 non-readers"
# Ordinary service after all that (the non-readers' sockets are closed).
$PEER dgram unix "$T/d" - 0,1,4096,65536 "$T/c" || fail "unix dgram afterwards"
stop_server || fail "exit status $?"

# The same with the send buffer an unprivileged server gets from Debian's
# default net.core.wmem_max (212992: 416 KiB once the kernel doubles it),
# which twelve such non-readers fill; the shim caps what the server asks.
# Two workers share the socket: each counts only its own replies between
# asking the kernel, and the headroom must cover the other's.
build_shim
rm -f "$T/ports"
env $SHIM_ENV AE_SHIM_WMEM=212992 "$ANYECHOD" -l "unix-dgram:$T/w" --threads 2 \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
$HOSTILE "$T/w" "$T" $SRV_PID 2048 12 12 30 || fail "2 KiB datagrams, 12 non-readers, small buffer"
$HOSTILE "$T/w" "$T" $SRV_PID 65536 12 16 30 || fail "64 KiB datagrams, 16 non-readers, small buffer"
$PEER dgram unix "$T/w" - 0,1,4096,65536 "$T/c2" || fail "unix dgram afterwards, small buffer"
stop_server || fail "exit status $?"

# One batch past the 2 KiB replies' share: what a batch admitted counts
# until it is sent, and where two workers share the socket each admits
# only its share of what is left, so that neither one batch nor two at
# once hold more than half the ceiling with 2 KiB replies (32 of them with
# this buffer; before, a batch's count was lost at each look at the
# kernel's, all 64 went, and two workers together filled the ceiling: 0
# of 10 small pings answered, once in CI). A server's queue holds 11
# datagrams by default: in a namespace of our own, one batch holds 64.
for threads in 1 2; do
	part "one batch of 64 2 KiB requests, $threads worker(s)" netns || continue
	ns=aedg$$t$threads
	ip netns add $ns || hard "cannot create namespace $ns"
	at_exit "ip netns del $ns 2>/dev/null"
	ip netns exec $ns sysctl -qw net.unix.max_dgram_qlen=128 || hard "max_dgram_qlen"
	rm -f "$T/ports"
	ip netns exec $ns env $SHIM_ENV AE_SHIM_WMEM=212992 "$ANYECHOD" -l "unix-dgram:$T/b$threads" \
		--threads $threads --port-file "$T/ports" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
	out=$(ip netns exec $ns timeout 30 python3 "$top_srcdir/tests/integ/batch.py" "$T/b$threads" \
		"$T" $SRV_PID 4 16 2048) || fail "batch.py: $out"
	echo "$threads worker(s): $(echo $out)"
	n=$(echo "$out" | sed -n 's/^replies //p')
	[ "${n:-99}" -ge 1 ] && [ "$n" -le 36 ] ||
		fail "$threads worker(s): $n of 64 2 KiB replies held by non-readers, want at most 32"
	expect_in "a small ping beside them" "$out" "ping ok"
	stop_server || fail "exit status $?"
	ip netns del $ns
done

# Eight workers on the small buffer, one 8 KiB reply left unread: an
# ordinary client's 8 KiB requests are still answered, each in its own
# batch (review 9: a reply's own cost was counted once per worker, and
# 8 x 16640 bytes passed the quarter of the ceiling 8 KiB replies may
# fill: 0 of 5 answered).
rm -f "$T/ports"
env $SHIM_ENV AE_SHIM_WMEM=212992 "$ANYECHOD" -l "unix-dgram:$T/e" --threads 8 \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
out=$(timeout 30 python3 - "$T/e" "$T" <<'PY'
import os, socket, sys, time
server, tmp = sys.argv[1], sys.argv[2]
def bound(name):
    u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    u.bind(os.path.join(tmp, name))
    return u
lazy, good = bound("lazy8k"), bound("good8k")
lazy.sendto(b"l" * 8192, server)  # its reply stays unread
time.sleep(0.3)
good.settimeout(3)
got = 0
for i in range(5):
    want = (b"%d" % i) * 8192
    good.sendto(want, server)
    try:
        got += good.recv(1 << 16) == want
    except socket.timeout:
        pass
print("answered %d of 5" % got)
PY
)
expect_in "8 KiB beside one unread, eight workers" "$out" "answered 5 of 5"
stop_server || fail "exit status $?"
echo ok

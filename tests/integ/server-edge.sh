#!/bin/sh
# Connections are edge-triggered: the server hears once of what arrived
# together, and a read that returns less than it asked for is taken as the
# end of the queue. Where that is not so, bytes must still come back
# without the peer sending more (each case names the safeguard it pins):
#   fds      a unix stream whose peer may pass descriptors (a kernel before
#            6.16, simulated): a read stops after the bytes that carried
#            them (recvmsg and MSG_CTRUNC)
#   urgent   urgent data mid-stream: a read stops at the mark (EPOLLPRI);
#            TCP, and unix where the kernel has MSG_OOB for it (5.15)
#   shutdown the peer's EOF right behind its data, TCP and unix (EPOLLRDHUP)
#   records  more records in one burst than one wake-up reads (ECHO_MORE)
#   burst    a unix stream burst of twice one wake-up's reads, then
#            silence (needs SO_SNDBUFFORCE to queue it all at once); the
#            echo's back-pressure mostly takes it, so it is records that
#            pins ECHO_MORE
# Under the shim each wait that returns events returns 300 ms late, so the
# client's bytes (sent right after connect) are all queued before the
# server first reads the connection: without the safeguard they would stay
# there, and the client would wait for them in vain.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is Python"
build_shim

set -- -l "unix-stream:$T/st" -l "unix-seqpacket:$T/q"
tcp=0
if part tcp ipv4; then tcp=1; set -- "$@" -l 127.0.0.1:0; fi
burst=0
if part burst sndbufforce; then burst=1; fi
rm -f "$T/ports"
env $SHIM_ENV AE_SHIM_BUSY_WAIT=300 AE_SHIM_NO_PASSRIGHTS=1 "$ANYECHOD" -q --threads 1 "$@" \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
P=$([ $tcp = 1 ] && port IPv4 stream)

bounded 120 python3 - "$T" "${P:-0}" $burst <<'PY' || fail "bytes left unread (see above)"
import array, os, socket, sys, time
d, tport, burst = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
bad = []

def unix(kind=socket.SOCK_STREAM, path="/st"):
    s = socket.socket(socket.AF_UNIX, kind)
    s.connect(d + path)
    return s

def tcp():
    s = socket.create_connection(("127.0.0.1", tport))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def collect(s, n, eof=False, secs=5):
    """n bytes back (and then the end, if eof), no wait longer than secs."""
    s.settimeout(secs)
    got = b""
    try:
        while len(got) < n:
            b = s.recv(65536)
            if not b:
                return got, True
            got += b
        return got, (s.recv(1) == b"") if eof else False
    except socket.timeout:
        return got, False

def check(name, ok, why):
    print("%s %s%s" % ("ok:  " if ok else "FAIL:", name, "" if ok else ": " + why))
    ok or bad.append(name)

# fds: "abc" carries descriptors, "def" follows; one read stops after abc.
s = unix()
fds = array.array("i", [os.open("/dev/null", os.O_RDONLY) for _ in range(3)])
s.sendmsg([b"abc"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
s.sendall(b"def")
got, _ = collect(s, 6)
check("fds", got == b"abcdef", "echoed %r of b'abcdef'" % got)
s.close()

# urgent: one segment, the mark in its middle.
if tport:
    s = tcp()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    s.sendall(b"abc")
    s.send(b"X", socket.MSG_OOB)
    s.sendall(b"def")
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    got, _ = collect(s, 7)
    check("urgent", got == b"abcXdef", "echoed %r of b'abcXdef'" % got)
    s.close()

s = unix()
try:
    s.sendall(b"abc")
    s.send(b"X", socket.MSG_OOB)
    s.sendall(b"def")
except OSError as e:
    print("skip: urgent unix: %s" % e)
else:
    got, _ = collect(s, 7)
    check("urgent unix", got == b"abcXdef", "echoed %r of b'abcXdef'" % got)
s.close()

# shutdown: the data, then the EOF at once; the server must close.
for name, mk in (("shutdown unix", unix), ("shutdown tcp", tcp if tport else None)):
    if mk is None:
        continue
    s = mk()
    s.sendall(b"last words")
    s.shutdown(socket.SHUT_WR)
    got, end = collect(s, 10, eof=True)
    check(name, got == b"last words" and end, "echoed %r, closed: %s" % (got, end))
    s.close()

# records: 24 at once, 8 read per wake-up.
s = unix(socket.SOCK_SEQPACKET, "/q")
for i in range(24):
    s.send(b"record %02d" % i)
s.settimeout(5)
n = 0
try:
    while n < 24 and s.recv(100) == b"record %02d" % n:
        n += 1
except socket.timeout:
    pass
check("records", n == 24, "%d of 24 echoed" % n)
s.close()

# burst: 1 MiB queued at once, twice the 8 x 64 KiB one wake-up reads;
# the client reads the echo only after, so it is sent as the server can.
if burst:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, 32, 8 << 20)  # SO_SNDBUFFORCE
    s.connect(d + "/st")
    data = os.urandom(1 << 20)
    s.setblocking(False)
    sent = s.send(data)
    t0 = time.time()
    got, _ = collect(s, len(data), secs=20)
    print("burst: %.1f s" % (time.time() - t0))
    check("burst", sent == len(data) and got == data,
          "sent %d at once, %d echoed" % (sent, len(got)))
    s.close()
sys.exit(1 if bad else 0)
PY
stop_server || fail "exit status $?"
echo ok

#!/bin/sh
# Socket activation starts the server because a client connected: that
# client sits in the listener's backlog, and may have sent, before the
# server sets its listeners up. An accepted socket takes some options from
# its listener when it connects, so it missed them:
#   rights  unix stream: descriptors (SCM_RIGHTS) with the first 1000
#           bytes, 1000 plain ones after. SO_PASSRIGHTS came too late to
#           refuse them, so a read stops after the first 1000: the rest
#           must come back without the client sending more.
#   urgent  TCP (the listener without SO_OOBINLINE, systemd's default):
#           "abc", urgent "X", "def" must come back as "abcXdef".
# activate.py makes the sockets; the program it runs waits for the client
# to have sent, then becomes anyechod (same pid, as LISTEN_PID wants).
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the sockets and the client are Python"

set -- "unix:stream:$T/st"
tcp=0
if part urgent ipv4; then tcp=1; set -- "$@" IPv4:stream:127.0.0.1; fi
part rights
python3 "$top_srcdir/tests/integ/activate.py" "$T/ports" "$@" -- sh -c \
	'n=0; while [ ! -e "$1" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done; shift; exec "$@"' \
	sh "$T/sent" "$ANYECHOD" -q --threads 1 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "activation did not start: $(cat "$T/server.log")"
tport=$(awk '$1 == "IPv4" { print $4 }' "$T/ports")

bounded 60 python3 - "$T" "$tport" <<'PY' || fail "an early client lost bytes"
import array, os, socket, sys

d, tport = sys.argv[1], sys.argv[2]
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.connect(d + "/st")
fd = os.open("/dev/null", os.O_RDONLY)
u.sendmsg([b"A" * 1000], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
u.sendall(b"B" * 1000)
t = None
if tport:
    t = socket.create_connection(("127.0.0.1", int(tport)))
    t.sendall(b"abc")
    t.send(b"X", socket.MSG_OOB)
    t.sendall(b"def")
open(d + "/sent", "w").close()  # now the server may start


def collect(s, n):
    s.settimeout(5)
    got = b""
    try:
        while len(got) < n:
            x = s.recv(4096)
            if not x:
                break
            got += x
    except socket.timeout:
        pass
    return got


bad = 0
got = collect(u, 2000)
if got != b"A" * 1000 + b"B" * 1000:
    print("FAIL: rights: %d of 2000 bytes echoed in 5 s" % len(got))
    bad = 1
else:
    print("ok: rights: every byte echoed")
if t is not None:
    got = collect(t, 7)
    if got != b"abcXdef":
        print("FAIL: urgent: echoed %r of b'abcXdef'" % got)
        bad = 1
    else:
        print("ok: urgent: echoed in its place")
sys.exit(bad)
PY
[ $tcp = 1 ] || echo "(urgent not tried: no IPv4)"
stop_server || fail "exit status $?"
echo ok

#!/bin/sh
# A storm of SIGHUP (kill -HUP in a loop for 3 s) while a client echoes
# over UDP: every echo is still answered within 2 s, the reloads and their
# log lines stay at about one a second (not one per signal: tens of
# thousands), and a SIGHUP that comes within a second of a reload is not
# lost but done when that second is up.
. "$top_srcdir/tests/integ/lib.sh"
need python3
need ipv4 "the client echoes over UDP on 127.0.0.1"

start_server -l 127.0.0.1:0 -u --threads 1
P=$(port IPv4 dgram)
hups() { grep -c 'SIGHUP: logs reopened' "$T/server.log"; }

timeout 30 python3 - $SRV_PID $P <<'PY' || fail "echo during the SIGHUP storm"
import os, signal, socket, sys, threading, time
pid, port = int(sys.argv[1]), int(sys.argv[2])
stop, sent = False, [0]
def storm():
    end = time.monotonic() + 3
    while not stop and time.monotonic() < end:
        os.kill(pid, signal.SIGHUP)
        sent[0] += 1
th = threading.Thread(target=storm)
th.start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
worst, n = 0.0, 0
while th.is_alive():
    t = time.monotonic()
    u.sendto(b"ping%d" % n, ("127.0.0.1", port))
    try:
        while u.recv(100) != b"ping%d" % n:
            pass
    except socket.timeout:
        stop = True
        print("FAIL: echo %d unanswered for 2 s during the storm" % n)
        sys.exit(1)
    worst = max(worst, time.monotonic() - t)
    n += 1
    time.sleep(0.05)
th.join()
print("%d SIGHUPs, %d echoes, slowest %.1f ms" % (sent[0], n, worst * 1000))
PY
kill -0 $SRV_PID || fail "server died in the storm"
sleep 1.5 # the reload due at the end of the storm is done by now
n=$(hups)
echo "reload lines after a 3 s storm: $n"
[ "$n" -ge 1 ] && [ "$n" -le 8 ] || fail "$n reloads logged for a 3 s storm (want 1 to 8)"

# One SIGHUP, reloaded at once; another right after it, inside the second
# that follows a reload: done when that second is up, not lost.
kill -HUP $SRV_PID
wait_for 5 sh -c "[ \$(grep -c 'SIGHUP: logs reopened' '$T/server.log') -ge $((n + 1)) ]" ||
	fail "SIGHUP not handled after the storm"
kill -HUP $SRV_PID
wait_for 5 sh -c "[ \$(grep -c 'SIGHUP: logs reopened' '$T/server.log') -ge $((n + 2)) ]" ||
	fail "the last SIGHUP was lost: $(hups) reloads, want $((n + 2))"
stop_server || fail "exit status $?"
echo ok

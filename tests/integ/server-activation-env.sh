#!/bin/sh
# LISTEN_FDS that is not a valid count, with LISTEN_PID ours: one line
# naming the value and the reason, exit 1, nothing bound. It was ignored or
# read loosely ('1x' as 1, 1024 and -1 as none) and anyechod bound its
# defaults instead of the sockets it was meant to be handed (attack5 F3).
# As sd_listen_fds(3): a malformed LISTEN_PID is an error too.
. "$top_srcdir/tests/integ/lib.sh"

# Without python3 (a buildd): a value that is no count is refused whatever
# fd 3 is; sh's $$ is anyechod's pid once it execs.
if ! can python3; then
	part "malformed LISTEN_FDS, from sh"
	for v in 1x -1 ''; do
		out=$(LISTEN_FDS=$v bounded 10 sh -c 'LISTEN_PID=$$ exec "$0" --threads 1 -l 127.0.0.1:0 -u' \
			"$ANYECHOD" 2>&1 </dev/null); rc=$?
		echo "$out"
		expect_eq "LISTEN_FDS '$v' exit" $rc 1
		expect_in "LISTEN_FDS '$v'" "$out" "LISTEN_FDS '$v': not a number of descriptors"
	done
	echo ok
	exit 0
fi

# env_case LISTEN_FDS LISTEN_PID WANT: fd 3 is a UDP socket on loopback;
# LISTEN_PID "self" is anyechod's own pid.
env_case() {
	bounded 20 python3 - "$ANYECHOD" "$@" <<'PY'
import os, socket, subprocess, sys
prog, fds, pid, want = sys.argv[1:5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
def child():
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = fds
    os.environ["LISTEN_PID"] = str(os.getpid()) if pid == "self" else pid
# -l and -p of a port not ours: had it bound them, "listening on" says so
p = subprocess.Popen([prog, "--threads", "1", "-l", "127.0.0.1:0", "-u"], preexec_fn=child,
                     stderr=subprocess.PIPE, close_fds=False)
s.close()
try:
    rc = p.wait(5)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
    sys.exit("LISTEN_FDS=%r: still running after 5 s (it served something)" % fds)
err = p.stderr.read().decode()
if rc != 1 or want not in err or err.count("\n") != 1:
    sys.exit("LISTEN_FDS=%r LISTEN_PID=%r: exit %d, stderr %r; want exit 1 and one line with %r"
             % (fds, pid, rc, err, want))
print(err.strip())
PY
}

part "malformed LISTEN_FDS"
for v in 1x -1 '' ' 1' 0x1 +1 1234567890123; do
	out=$(env_case "$v" self "LISTEN_FDS '$v': not a number of descriptors" 2>&1) || fail "$out"
	echo "$out"
done
part "LISTEN_FDS more than the fds open"
out=$(env_case 1024 self "LISTEN_FDS '1024': fd 4 is not open (1 inherited)" 2>&1) || fail "$out"
echo "$out"
out=$(env_case 2 self "LISTEN_FDS '2': fd 4 is not open (1 inherited)" 2>&1) || fail "$out"
echo "$out"
part "malformed LISTEN_PID"
out=$(env_case 1 12x "LISTEN_PID '12x': not a process id" 2>&1) || fail "$out"
echo "$out"
echo ok

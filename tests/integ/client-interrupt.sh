#!/bin/sh
# -c 0 runs until interrupted: the probes whose -W has not run out when
# SIGINT comes are in flight, not lost (attack round 8). They were counted
# sent and not received: a healthy server 300 ms away, -i 100ms, read
# "21 sent, 18 received, 14.3% loss" and exit 1, with no probe reported
# lost and no error. The summary now says "N in flight when stopped"
# (JSON "in_flight"), loss is over the probes that settled, and the exit
# status is 0. tests/integ/delayserver.py holds every echo 300 ms; -W 5s
# leaves any loaded machine ample margin for none to be lost.
. "$top_srcdir/tests/integ/lib.sh"
need python3
need timeout

# srv MODE: start delayserver.py MODE (echoes held 300 ms); sets RP.
srv() {
	rm -f "$T/rp"
	python3 "$top_srcdir/tests/integ/delayserver.py" "$1" "$T/rp" 0.3 2>"$T/srv.err" &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/rp" || hard "delayserver.py $1 did not start: $(cat "$T/srv.err")"
	RP=$(cat "$T/rp")
}
# interrupted ARGS...: anyecho ARGS, sent SIGINT 1.5 s after its first
# line (its handler is set before its first probe: a SIGINT before that is
# lost where a script's background job starts with SIGINT ignored, as
# under make -j on a loaded machine, and the run went on until killed),
# killed if it has not stopped 15 s later; sets out (stdout and stderr)
# and rc, anyecho's own.
gone() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
interrupted() {
	"$ANYECHO" "$@" >"$T/out" 2>&1 </dev/null &
	_p=$!
	wait_for 30 grep -q . "$T/out" || { kill -9 $_p; hard "anyecho printed nothing: $*"; }
	sleep 1.5
	kill -INT $_p
	wait_for 15 gone $_p || kill -9 $_p
	wait $_p
	rc=$?
	out=$(cat "$T/out")
}
# run ARGS...: anyecho -c 0 ARGS, interrupted.
run() { interrupted -c 0 -i 100ms -W 5s "$@"; }
# json_num KEY: the summary's number for KEY
json_num() {
	echo "$out" | grep '"type":"summary"' | sed -n "s/.*\"$1\":\([0-9.]*\)[,}].*/\1/p"
}
# check_json WHAT MAX: sent = received + in_flight, 1 to MAX in flight
# (a probe goes out every 100 ms and each echo takes 300), nothing lost.
check_json() {
	expect_eq "$1 exit" $rc 0
	sent=$(json_num sent) recv=$(json_num received) fl=$(json_num in_flight)
	[ -n "$sent" ] && [ -n "$recv" ] && [ -n "$fl" ] || fail "$1: no counts in: $out"
	[ "$fl" -ge 1 ] && [ "$fl" -le "$2" ] || fail "$1: $fl in flight, want 1 to $2: $out"
	expect_eq "$1 sent" "$sent" $((recv + fl))
	expect_eq "$1 loss" "$(json_num loss_pct)" 0.0
	expect_in "$1 no error" "$out" '"error":null,'
	case $out in *'"status":"lost"'*) fail "$1: a probe reported lost: $out" ;; esac
}

# Probes that never left (the peer's queue full: EAGAIN, held) are lost
# at the interrupt, not in flight (review 9: a peer that answered once and
# then stopped reading showed "97 sent, 1 received, 0% loss, 96 in flight",
# exit 0). A unix datagram peer: no IP needed.
python3 - "$T/stuck" <<'PY' 2>"$T/stuck.err" &
import socket, sys, time
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
u.bind(sys.argv[1])
d, peer = u.recvfrom(1 << 16)
u.sendto(d, peer)
time.sleep(20)  # reads no more: its queue fills
PY
at_exit "kill $! 2>/dev/null"
wait_for 10 test -S "$T/stuck" || hard "stuck peer: $(cat "$T/stuck.err")"
interrupted -c 0 -i 20ms -W 5s "unix-dgram:$T/stuck"
expect_eq "probes never sent: exit" $rc 1
expect_in "probes never sent, said" "$out" "not sent: no room in the socket's send buffer"
case $out in *"mismatched, 0% loss"*) fail "probes never sent counted in flight: $out" ;; esac

need ipv4 "the other servers listen on 127.0.0.1"
srv udp
run -u --json 127.0.0.1 $RP
check_json udp 10
run -u 127.0.0.1 $RP
expect_eq "udp text exit" $rc 0
expect_in "udp text" "$out" "mismatched, 0% loss, "
expect_in "udp text in flight" "$out" " in flight when stopped"

srv tcp
# A stream has one probe out at a time; SIGINT may also come in the
# moment between an echo and the next probe: 0 or 1 in flight.
run --json 127.0.0.1 $RP
expect_eq "tcp exit" $rc 0
sent=$(json_num sent) recv=$(json_num received) fl=$(json_num in_flight)
[ -n "$fl" ] && [ "$fl" -le 1 ] || fail "tcp: in_flight '$fl', want 0 or 1: $out"
expect_eq "tcp sent" "$sent" $((recv + fl))
expect_eq "tcp loss" "$(json_num loss_pct)" 0.0
run 127.0.0.1 $RP
expect_eq "tcp text exit" $rc 0
expect_in "tcp text" "$out" "mismatched, 0% loss, "
echo ok

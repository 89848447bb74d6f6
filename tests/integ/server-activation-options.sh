#!/bin/sh
# Under socket activation the sockets come from systemd and one thread
# serves them: -l, -p and --threads are ignored, and the server says so in
# one warning instead of dropping them silently. Without them, no warning.
. "$top_srcdir/tests/integ/lib.sh"
need python3

# activated ARGS...: start anyechod activated on one TCP socket, wait until
# it echoes (its signal handlers are then set), stop it; its log is in
# $T/server.log.
activated() {
	# The previous run's files would satisfy the waits below.
	rm -f "$T/server.log" "$T/ports"
	python3 "$top_srcdir/tests/integ/activate.py" "$T/ports" IPv4:stream:127.0.0.1 -- \
		"$ANYECHOD" "$@" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 grep -qs 'socket activation: serving' "$T/server.log" ||
		hard "not started: $(cat "$T/server.log")"
	timeout 20 $PEER stream IPv4 stream 127.0.0.1 "$(port IPv4 stream)" 1000 ||
		fail "no echo: $(cat "$T/server.log")"
	stop_server || fail "exit status $?"
}

activated -l 127.0.0.1:1 --threads 4
expect_eq "warnings" "$(grep -c 'ignoring' "$T/server.log")" 1
expect_in "warning" "$(cat "$T/server.log")" \
	"socket activation: ignoring -l/-p and --threads: serving the inherited sockets with one thread"
activated -p 9
expect_in "warning" "$(cat "$T/server.log")" "socket activation: ignoring -l/-p: "
activated --idle-timeout 300
grep -q 'ignoring' "$T/server.log" && fail "warned with nothing to ignore: $(cat "$T/server.log")"
echo ok

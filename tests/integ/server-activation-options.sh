#!/bin/sh
# Under socket activation the sockets come from systemd: -l and -p are
# ignored, and the server says so in one warning instead of dropping them
# silently; --threads still applies (every worker shares the sockets).
# Without -l or -p, no warning.
. "$top_srcdir/tests/integ/lib.sh"
need ipv4 "TCP and UDP on 127.0.0.1"
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
	$PEER stream IPv4 stream 127.0.0.1 "$(port IPv4 stream)" 1000 ||
		fail "no echo: $(cat "$T/server.log")"
	stop_server || fail "exit status $?"
}

activated -l 127.0.0.1:1 --threads 4 -v
expect_eq "warnings" "$(grep -c 'ignoring' "$T/server.log")" 1
expect_in "warning" "$(cat "$T/server.log")" \
	"socket activation: ignoring -l/-p: serving the inherited sockets"
expect_in "threads honoured" "$(cat "$T/server.log")" "4 thread(s)"
activated -p 9
expect_in "warning" "$(cat "$T/server.log")" "socket activation: ignoring -l/-p: "
activated --idle-timeout 300 --threads 2
grep -q 'ignoring' "$T/server.log" && fail "warned with nothing to ignore: $(cat "$T/server.log")"
echo ok

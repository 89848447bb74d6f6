#!/bin/sh
# Connect-only mode (-z), like nc -z or tcping, against services that are
# not echo servers: a TCP listener that never answers (whoami.py silent)
# is open, with its handshake time and source, exit 0, and receives no
# byte; a closed port is refused, exit 1; -A -z gives the table per
# address; --json says connect_only; -z -u is a usage error.
. "$top_srcdir/tests/integ/lib.sh"
need python3
WHOAMI=$top_srcdir/tests/integ/whoami.py
ae() { bounded 30 "$ANYECHO" "$@" 2>&1; }

out=$(ae -z -u 127.0.0.1 9); rc=$?
expect_eq "-z -u exit" $rc 2
expect_in "-z -u" "$out" "-z"
out=$(ae -z --stdin 127.0.0.1 9 </dev/null); rc=$?
expect_eq "-z --stdin exit" $rc 2
echo "ok: usage errors"

# start_silent ADDR...: a listener that never echoes; sets WPORT.
start_silent() {
	rm -f "$T/wport"
	python3 "$WHOAMI" silent "$T/who.log" "$T/wport" 120 0 "$@" 2>"$T/who.err" &
	_pid=$!
	at_exit "kill $_pid 2>/dev/null"
	wait_for 20 test -s "$T/wport" || hard "whoami.py did not start: $(cat "$T/who.err")"
	WPORT=$(cat "$T/wport")
}

if part ipv4 ipv4; then
	: >"$T/who.log"
	start_silent 127.0.0.1
	t0=$(now_ms)
	out=$(ae -z 127.0.0.1 "$WPORT"); rc=$?
	el=$(( $(now_ms) - t0 ))
	expect_eq "-z open exit ($out)" $rc 0
	expect_in "-z open" "$out" "127.0.0.1:$WPORT (IPv4 stream) open, handshake "
	expect_in "-z open source" "$out" "source 127.0.0.1:"
	# No probe and no -W wait: a silent service answers -z at once.
	[ $el -lt 1500 ] || fail "-z took $el ms: did it wait for an echo?"
	wait_for 5 grep -q '^tcp 127.0.0.1 ' "$T/who.log" || fail "the service saw no connection"
	grep -q '^tcp 127.0.0.1 0$' "$T/who.log" || fail "-z sent bytes: $(cat "$T/who.log")"
	out=$(ae -z --json 127.0.0.1 "$WPORT") || fail "-z --json: $out"
	echo "$out" | grep '"type":"summary"' | grep '"reachable":true' | grep '"connect_only":true' |
		grep -q '"connect_ms":[0-9]' || fail "-z --json summary: $out"
	# The same service, probed as an echo server, is not one.
	out=$(ae -c 1 -W 300ms 127.0.0.1 "$WPORT"); rc=$?
	expect_eq "echo probe of a silent service exit" $rc 1
	# Closed: refused, exit 1.
	closed=$(free_port)
	out=$(ae -z 127.0.0.1 "$closed"); rc=$?
	expect_eq "-z closed exit ($out)" $rc 1
	expect_in "-z closed" "$out" "connection refused by 127.0.0.1 port $closed"
	echo "ok: -z over IPv4 took $el ms"
fi

if part all ipv4 ipv6; then
	: >"$T/who.log"
	start_silent ::1 127.0.0.1
	out=$(ae -z -A localhost "$WPORT"); rc=$?
	expect_eq "-z -A exit ($out)" $rc 0
	echo "$out" | grep -q "^\[::1\]:$WPORT  *::1  *IPv6 stream .* ms  *-  *- *$" ||
		fail "-z -A IPv6 row: $out"
	echo "$out" | grep -q "^127.0.0.1:$WPORT  *127.0.0.1  *IPv4 stream .* ms  *-  *- *$" ||
		fail "-z -A IPv4 row: $out"
	expect_in "-z -A" "$out" "IPv6: 1 of 1 address reachable"
	expect_in "-z -A" "$out" "IPv4: 1 of 1 address reachable"
	out=$(ae -z -A --json localhost "$WPORT") || fail "-z -A --json: $out"
	expect_eq "-z -A --json summaries" "$(echo "$out" | grep '"type":"summary"' | grep -c '"connect_only":true')" 2
	# Race (the default): one line, the winner.
	out=$(ae -z localhost "$WPORT") || fail "-z race: $out"
	expect_eq "-z race lines" "$(echo "$out" | wc -l)" 1
	# Closed on both: a row per address, each refused, exit 1.
	closed=$(free_port)
	out=$(ae -z -A localhost "$closed"); rc=$?
	expect_eq "-z -A closed exit" $rc 1
	expect_in "-z -A closed v6" "$out" "IPv6: 0 of 1 address reachable (connection refused)"
	expect_in "-z -A closed v4" "$out" "IPv4: 0 of 1 address reachable (connection refused)"
	echo "ok: -z -A"
fi
echo ok

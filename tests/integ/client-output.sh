#!/bin/sh
# anyecho's standard output as a pipeline sees it (review 8, F7 and F10):
# each probe line and JSON record arrives as it happens, not at exit; a
# reader that goes away (| head -1) ends even an endless run (-c 0) at
# once; a report that could not be written (a full disk) fails the run
# with exit 1 and one line on stderr saying why. The server listens on a
# unix socket: this needs no IP.
. "$top_srcdir/tests/integ/lib.sh"

start_server -l "unix:$T/s"
S=unix:$T/s

part "reader gone"
errtext EPIPE
# The old client probed on into the dead pipe until timeout stopped it.
t0=$(now_ms)
{ bounded 20 "$ANYECHO" -c 0 -i 50ms "$S" 2>"$T/err"; echo $? >"$T/rc"; } | head -n 1 >"$T/first"
el=$(( $(now_ms) - t0 ))
rc=$(cat "$T/rc")
[ "$rc" != 124 ] || fail "-c 0 | head -1: still running after 20 s, stopped by timeout"
expect_in "-c 0 | head -1: first line" "$(cat "$T/first")" "from $S"
expect_eq "-c 0 | head -1: exit" "$rc" 1
expect_eq "-c 0 | head -1: stderr" "$(cat "$T/err")" "anyecho: cannot write the report: $ERRTEXT"
# Generous: it ends at the first line written after head left (50 ms).
[ "$el" -lt 10000 ] || fail "-c 0 | head -1 took $el ms"
echo "-c 0 | head -1: ended in $el ms"

if [ -w /dev/full ] && ! echo x 2>/dev/null >/dev/full; then
	part "full disk"
	errtext ENOSPC
	for args in "-c 2" "-c 2 --json" "-q -c 2" "-A -c 1" "--resolve"; do
		# shellcheck disable=SC2086 # the options split on purpose
		bounded 20 "$ANYECHO" $args -i 50ms "$S" >/dev/full 2>"$T/err"; rc=$?
		expect_eq "$args > /dev/full: exit" $rc 1
		expect_eq "$args > /dev/full: stderr" "$(cat "$T/err")" \
			"anyecho: cannot write the report: $ERRTEXT"
	done
else
	skip_part "full disk" "no /dev/full that fails writes here"
fi

# stream ARGS...: anyecho -c 0 ARGS into a fifo; the first line must come
# within 5 s (the first probe goes at once) while anyecho still runs: the
# old client's buffer held every line until exit or 4 KiB.
stream() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo" || hard "mkfifo failed"
	# read-write: opening blocks on neither side, and the pipe never breaks
	exec 3<>"$T/fifo"
	"$ANYECHO" -c 0 -i 1s "$@" "$S" >"$T/fifo" 2>"$T/err" &
	pid=$!
	at_exit "kill -9 $pid 2>/dev/null"
	line=$(bounded 5 head -n 1 <&3)
	kill -0 $pid 2>/dev/null || fail "$*: anyecho -c 0 ended: $(cat "$T/err")"
	kill -TERM $pid
	wait_for 10 eval "! kill -0 $pid 2>/dev/null" || fail "$*: anyecho ignored SIGTERM"
	exec 3<&-
	[ -n "$line" ] || fail "$*: no line within 5 s of the start of anyecho -c 0 -i 1s"
}
part "streamed"
stream
expect_in "text streamed" "$line" "bytes from $S"
stream --json
expect_in "json streamed" "$line" '{"type":"'

part "pipe mode"
# "-" for a target is --stdin: standard output carries the echo and
# nothing else; the JSON records went into it before.
head -c 20000 /dev/urandom >"$T/in" || hard "no /dev/urandom"
for args in "--stdin $S" "$S -"; do
	# shellcheck disable=SC2086 # the options split on purpose
	bounded 20 "$ANYECHO" --json $args <"$T/in" >"$T/echo" 2>"$T/err"; rc=$?
	expect_eq "--json $args: exit" $rc 0
	cmp -s "$T/in" "$T/echo" || fail "--json $args: stdout is not the echo alone ($(wc -c <"$T/echo") bytes for 20000)"
	expect_in "--json $args: records on stderr" "$(cat "$T/err")" '{"type":"summary"'
done

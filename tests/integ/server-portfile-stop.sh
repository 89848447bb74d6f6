#!/bin/sh
# The port file goes when anyechod stops: it stayed after a clean stop
# (SIGTERM, exit 0), so a supervisor waiting for the next server's port
# file read this one's ports (attack 6, F6). Only anyechod's own file is
# removed: one a newer server put at that name stays. Under --user, in a
# directory the user cannot write, the file stays and one line says so.
# Abstract unix sockets: no network, no socket file in the way.
. "$top_srcdir/tests/integ/lib.sh"

# run SIGNAL [ARGS...]: start with --port-file $PF, stop with SIGNAL once
# the file is in place; $rc is the exit status, $T/err the messages.
run() {
	_sig=$1; shift
	rm -f "$T/err" "$PF"
	"$ANYECHOD" --threads 1 -l "unix:@ae-pf-$$" --port-file "$PF" "$@" 2>"$T/err" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$PF" || hard "anyechod did not start: $(cat "$T/err")"
	[ -z "${between:-}" ] || eval "$between"
	kill -"$_sig" "$SRV_PID"
	_n=150
	while kill -0 "$SRV_PID" 2>/dev/null && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	kill -0 "$SRV_PID" 2>/dev/null && hard "anyechod ignored SIG$_sig"
	wait "$SRV_PID"
	rc=$?
}

part "removed at a clean stop"
PF=$T/ports
for sig in TERM INT; do
	run $sig
	expect_eq "SIG$sig: exit status" "$rc" 0
	[ ! -e "$PF" ] || fail "SIG$sig: port file left after a clean stop: $(cat "$T/err")"
	grep -q "port file" "$T/err" && fail "SIG$sig: a word about the port file: $(cat "$T/err")"
done
echo "SIGTERM, SIGINT: exit 0, no port file left"

part "another's file stays"
# A newer server's file at the name (renamed over ours) is not ours to remove.
between='echo newer >"$T/newer" && mv "$T/newer" "$PF"'
run TERM
between=
expect_eq "exit status" "$rc" 0
expect_eq "the newer file" "$(cat "$PF" 2>&1)" newer
# Already removed by someone: nothing to say.
between='rm -f "$PF"'
run TERM
between=
expect_eq "exit status, file already gone" "$rc" 0
expect_eq "messages about a file already gone" "$(grep -c "port file" "$T/err")" 0
echo "a file not ours is left alone"

if part "--user in a directory it cannot write" setuid; then
	# root's private directory: the helper (root) puts the file there;
	# nobody can neither look at it nor remove it.
	PF=$T/root-only/ports
	mkdir -m 700 "$T/root-only"
	run TERM --user nobody
	expect_eq "exit status" "$rc" 0
	[ -e "$PF" ] || fail "port file gone from a directory --user cannot write"
	errtext EACCES
	expect_eq "the line about it" "$(grep "port file" "$T/err")" \
		"anyechod: port file $PF left in place: $ERRTEXT"
	echo "$(grep "port file" "$T/err")"
fi
echo ok

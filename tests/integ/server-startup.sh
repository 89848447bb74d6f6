#!/bin/sh
# Start-up leaves no half-started daemon. The port file is the sign that
# anyechod is ready: when it appears, every socket is bound, SIGTERM,
# SIGHUP and SIGUSR1 are handled (the file was written before the handlers
# were installed, and a signal sent the moment it appeared killed the
# daemon by its default action 8 to 30 times in 100 under --user, leaving
# the unix socket file), and we run as --user. A start-up that fails after
# binding (--user that the kernel refuses) leaves no port file and no
# socket file behind: one line, exit 1.
. "$top_srcdir/tests/integ/lib.sh"

# race N [ARGS...]: N starts, each sent a signal (USR1, HUP, TERM in turn)
# the instant the port file appears, then SIGTERM: every exit is 0.
race() {
	_runs=$1; shift
	_i=0
	while [ $_i -lt "$_runs" ]; do
		rm -f "$T/ports"
		"$ANYECHOD" -q --threads 1 -l "unix:$T/s" --port-file "$T/ports" "$@" 2>>"$T/race.log" &
		_pid=$!
		at_exit "kill -9 $_pid 2>/dev/null"
		# Busy, so the signal goes the moment the file is there; bounded
		# (a million turns: some seconds) should anyechod hang unready.
		_n=0
		while [ ! -e "$T/ports" ] && kill -0 $_pid 2>/dev/null && [ $_n -lt 1000000 ]; do
			_n=$((_n + 1))
		done
		# before the signal: SIGTERM removes the file as anyechod stops
		[ -e "$T/ports" ] || { kill -9 $_pid; hard "start $_i: no port file: $(cat "$T/race.log")"; }
		case $((_i % 3)) in 0) _sig=USR1 ;; 1) _sig=HUP ;; 2) _sig=TERM ;; esac
		kill -$_sig $_pid 2>/dev/null
		if [ -n "$want_uid" ]; then
			_uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$_pid/status 2>/dev/null)
			[ -z "$_uid" ] || expect_eq "start $_i: uids when the port file appeared" "$_uid" \
				"$want_uid $want_uid $want_uid $want_uid"
		fi
		kill -TERM $_pid 2>/dev/null
		wait $_pid
		_rc=$?
		[ $_rc -eq 0 ] || fail "start $_i: SIG$_sig the moment the port file appeared: exit $_rc" \
			"($( [ $_rc -gt 128 ] && kill -l $((_rc - 128)))): $(cat "$T/race.log")"
		rm -f "$T/s"
		_i=$((_i + 1))
	done
	echo "$_runs starts, each signalled as its port file appeared: all exited 0"
}

want_uid=
if part "signals at once"; then
	race 30
fi
if part "signals at once, --user" setuid; then
	want_uid=$(id -u nobody)
	race 30 --user nobody
	want_uid=
fi

# A user namespace maps only our uid: euid 0 passes the --user check, the
# kernel refuses initgroups once the sockets are bound.
if ! can unshare; then
	skip_part "failed --user leaves nothing" "$why"
elif ! id nobody >/dev/null 2>&1; then
	skip_part "failed --user leaves nothing" "no user 'nobody'"
elif ! bounded 10 unshare -r true 2>/dev/null; then
	skip_part "failed --user leaves nothing" "cannot create a user namespace here (unshare -r)"
elif ! bounded 10 unshare -r sh -c '"$1" -V && : >"$2/userns"' sh "$ANYECHOD" "$T" \
	>/dev/null 2>&1; then
	# Root in a namespace of its own is nobody to files whose owner it
	# does not map: a build tree another user owns (CI's buildd stages).
	skip_part "failed --user leaves nothing" "anyechod or $T out of reach from a user namespace"
elif part "failed --user leaves nothing" ipv4; then
	mkdir "$T/u"
	bounded 10 unshare -r "$ANYECHOD" --user nobody -l 127.0.0.1:0 -l "unix:$T/u/s" \
		--port-file "$T/u/ports" 2>"$T/u.err"
	expect_eq "exit status" $? 1
	expect_eq "left behind" "$(ls -A "$T/u")" ""
	expect_eq "stderr lines" "$(wc -l <"$T/u.err")" 1
	grep -q "^anyechod: --user 'nobody': cannot switch: initgroups: " "$T/u.err" ||
		fail "error line: $(cat "$T/u.err")"
fi
echo ok

#!/bin/sh
# What anyechod creates on disk. --port-file never writes through a
# symlink planted at its name or its temporary name; a unix socket file
# has exactly its --unix-mode from the moment it exists (never the umask's
# wider or narrower mode); --user is checked before anything is bound or written;
# a port file that cannot be written is named as given.
. "$top_srcdir/tests/integ/lib.sh"
need python3

# Symlinks where the port file and its old temporary name go.
echo keep >"$T/victim"; echo keep >"$T/victim2"
ln -s "$T/victim" "$T/ports.tmp"
ln -s "$T/victim2" "$T/ports"
"$ANYECHOD" -l 127.0.0.1:0 -t --port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 sh -c "[ -f '$T/ports' ] && [ ! -L '$T/ports' ]" ||
	{ kill "$SRV_PID"; fail "no port file in place of the symlink: $(cat "$T/server.log")"; }
expect_eq "first target" "$(cat "$T/victim")" keep
expect_eq "second target" "$(cat "$T/victim2")" keep
expect_in "port file" "$(cat "$T/ports")" "IPv4 stream 127.0.0.1 "
expect_eq "port file mode" "$(stat -c %a "$T/ports")" 644
stop_server || fail "exit status $?"
[ -z "$(find "$T" -name 'ports.*' ! -name ports.tmp)" ] || fail "temporary port file left behind"

# Unix socket mode: the file appears with the mode asked for, or narrower.
build_shim
for m in 600 660; do
	rm -f "$T/shim.log" "$T/ports"
	(umask 022; exec env $SHIM_ENV "$ANYECHOD" -l "unix:$T/u$m" --unix-mode 0$m \
		--port-file "$T/ports" 2>"$T/server.log") &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
	expect_eq "final mode $m" "$(stat -c %a "$T/u$m")" "$m"
	born=$(awk -v p="$T/u$m" '$1 == "bind" && $2 == p { print $3 }' "$T/shim.log")
	[ -n "$born" ] || hard "the shim saw no bind: $(cat "$T/shim.log" 2>&1)"
	[ $((0$born & ~0$m)) -eq 0 ] || fail "unix socket born with mode $born, wider than $m"
	stop_server || fail "exit status $?"
done
# The mode asked for from the start, not the umask's narrowing of it
# widened by a chmod of the path afterwards.
[ "$born" = 660 ] || fail "mode 660 at bind under umask 022: got $born, want 660"

# --user that does not exist: one line, exit 1, nothing bound or written.
out=$(timeout 10 "$ANYECHOD" -l 127.0.0.1:0 -l "unix:$T/v" --user "no-such-user-$$" \
	--port-file "$T/p2" 2>&1); rc=$?
expect_eq "--user exit status" "$rc" 1
expect_in "--user message" "$out" "'no-such-user-$$': no such user"
expect_eq "--user lines" "$(printf '%s\n' "$out" | wc -l)" 1
[ ! -e "$T/p2" ] || fail "port file written before --user was checked"
[ -z "$(ls "$T" | grep '^p2')" ] || fail "temporary port file left: $(ls "$T")"
[ ! -e "$T/v" ] || fail "socket file left behind"

# A port file that cannot be written: the message names the path given,
# not the temporary name made from it (path.XXXXXX), and nothing is bound
# (a usage error, found before: see server-cli.sh).
out=$(bounded 10 "$ANYECHOD" -l 127.0.0.1:0 -t --port-file "$T/no-such-dir/ports" 2>&1); rc=$?
expect_eq "unwritable --port-file exit status" "$rc" 2
errtext ENOENT
expect_eq "unwritable --port-file message" "$out" \
	"anyechod: bad --port-file '$T/no-such-dir/ports': its directory $T/no-such-dir: $ERRTEXT"
echo ok

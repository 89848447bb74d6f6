#!/bin/sh
# lib.sh itself, under a buildd's conditions. Parts: a script whose parts
# are all skipped exits 77, one with a part run passes and says what it
# skipped. bounded stops a command that hangs. In network namespaces of the
# test's own: with loopback down, IPv4 and IPv6 are both found missing (a
# bind alone would succeed) while unix sockets still serve; with loopback
# up and IPv6 disabled, IPv4 is found and IPv6 is not.
. "$top_srcdir/tests/integ/lib.sh"

# child BODY: run a script that sources lib.sh, in this environment.
child() {
	printf '. "$top_srcdir/tests/integ/lib.sh"\n%s\n' "$1" >"$T/child.sh"
	shift
	bounded 60 "$@" sh "$T/child.sh" >"$T/child.out" 2>&1
}

part "parts"
child 'part one no-such-tool-here; part two no-such-tool-here; echo done'; rc=$?
expect_eq "all parts skipped: exit" $rc 77
expect_in "all parts skipped: reason" "$(cat "$T/child.out")" \
	"SKIP part one: no-such-tool-here not installed"
child 'part one no-such-tool-here; part two; echo done'; rc=$?
expect_eq "one part run: exit" $rc 0
expect_in "one part run" "$(cat "$T/child.out")" "parts: 1 ran, 1 skipped"
child 'part one; fail "broken"'; rc=$?
expect_eq "a failing part still fails" $rc 1

part "bounded"
t0=$(now_ms)
bounded 1 sleep 30; rc=$?
expect_eq "bounded exit" $rc 124
[ $(( $(now_ms) - t0 )) -lt 10000 ] || fail "bounded 1 took $(( $(now_ms) - t0 )) ms"

# A namespace of our own: as root, or as a user through a user namespace.
netns=
if unshare -n true 2>/dev/null; then netns="unshare -n"
elif unshare -r -n true 2>/dev/null; then netns="unshare -r -n"
fi
if [ -z "$netns" ]; then
	skip_part "loopback down" "cannot create a network namespace here"
elif part "loopback down" unshare; then
	child '
can ipv4 && fail "IPv4 found with loopback down"
expect_in "IPv4 reason" "$why" "no IPv4 on loopback"
can ipv6 && fail "IPv6 found with loopback down"
start_server -l "unix:$T/s"
out=$(bounded 30 "$ANYECHO" -c 1 "unix:$T/s" 2>&1) || fail "unix echo: $out"
stop_server || fail "exit status $?"
echo ok' $netns || fail "loopback down: $(cat "$T/child.out")"
fi

if [ -n "$netns" ] && part "IPv6 disabled" unshare ip sysctl; then
	child '
can ipv4 || fail "IPv4 not found: $why"
can ipv6 && fail "IPv6 found while disabled"
expect_in "IPv6 reason" "$why" "no IPv6 on loopback"
echo ok' $netns sh -c 'ip link set lo up && sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 && exec "$@"' sh ||
		fail "IPv6 disabled: $(cat "$T/child.out")"
fi
echo ok

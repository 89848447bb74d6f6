#!/bin/sh
# The systemd units as `make install` ships them: installed under the
# configured unit directory, no @placeholder@ left, ExecStart names the
# installed anyechod, the packaged default answers UDP with a per-source
# rate limit, and `systemd-analyze verify` accepts both units. Installs
# into a DESTDIR under the test's own directory; skips (77) only the
# verification when systemd-analyze is missing.
. "$top_srcdir/tests/integ/lib.sh"
: "${sbindir:?run through make check}"
[ -n "${systemdsystemunitdir:-}" ] ||
	skip "configured without systemd units (no systemd.pc, or --without-systemdsystemunitdir)"

D=$T/root
# Our own make: not the caller's jobserver or variables (TESTS=...).
MAKEFLAGS= MAKELEVEL= timeout 300 ${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$D" \
	>"$T/install.log" 2>&1 || hard "make install failed: $(tail -20 "$T/install.log")"

U=$D$systemdsystemunitdir
for f in anyechod.service anyechod.socket; do
	[ -f "$U/$f" ] || fail "$f not installed in $systemdsystemunitdir"
	left=$(grep -n '@[A-Za-z_]*@' "$U/$f") && fail "$f: placeholder left: $left"
done

exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$U/anyechod.service")
expect_eq "ExecStart binary" "$exe" "$sbindir/anyechod"
[ -x "$D$exe" ] || fail "ExecStart=$exe: not installed there"
grep -q '^ExecStart=.* --rate-limit [1-9]' "$U/anyechod.service" ||
	fail "the packaged service answers UDP with no --rate-limit"

# The families anyechod opens: without AF_NETLINK getifaddrs() fails, and
# the guard knows no directed broadcast address (review 8).
fams=$(sed -n 's/^RestrictAddressFamilies=//p' "$U/anyechod.service")
for fam in AF_INET AF_INET6 AF_UNIX AF_NETLINK; do
	expect_in "RestrictAddressFamilies" " $fams " " $fam "
done

need systemd-analyze "the units were checked but not verified"
# verify wants ExecStart to exist: point it into DESTDIR, nothing else
# changes. --man=no: the man page is not installed on this host.
mkdir "$T/v" || hard "mkdir"
sed "s|^ExecStart=$sbindir/|ExecStart=$D$sbindir/|" "$U/anyechod.service" >"$T/v/anyechod.service"
cp "$U/anyechod.socket" "$T/v/"
timeout 60 systemd-analyze verify --man=no "$T/v/anyechod.socket" "$T/v/anyechod.service" \
	>"$T/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$T/verify.log")"
echo ok

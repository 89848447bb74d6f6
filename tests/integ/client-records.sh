#!/bin/sh
# anyecho over unix seqpacket: an echo is one record of exactly the size
# sent (attack finding 03). A probe over 64 KiB comes back whole (it was
# read into a 64 KiB buffer, the rest discarded, and called lost); a
# record split in two, lengthened, empty, or one more after the echo is a
# mismatch named as such (a split echo passed as intact; an empty record
# was taken for the server's close).
. "$top_srcdir/tests/integ/lib.sh"
need timeout
[ "$(uname -s)" = Linux ] || skip "empty records are told from the end with SO_PASSCRED (Linux)"

# run LIMIT ARGS...: anyecho under timeout; sets out (stdout and stderr), rc.
run() {
	_lim=$1; shift
	timeout -k 2 "$_lim" "$ANYECHO" "$@" >"$T/out" 2>&1 </dev/null
	rc=$?
	out=$(cat "$T/out")
}

part "records over 64 KiB"
start_server -q --threads 1 --buffer-size 1M -l "unix-seqpacket:$T/q"
run 30 -c 2 -i 10ms -W 2s -s 100000 "unix-seqpacket:$T/q"
expect_eq "100000-byte record exit" $rc 0
expect_in "100000-byte record" "$out" "2 sent, 2 received, 0 mismatched, 0% loss"
# A record as large as the kernel lets both ends send (net.core.wmem_max).
if [ "$(cat /proc/sys/net/core/wmem_max 2>/dev/null || echo 0)" -ge 2097152 ]; then
	run 30 -c 1 -W 2s -s 1M "unix-seqpacket:$T/q"
	expect_eq "1 MiB record exit" $rc 0
	expect_in "1 MiB record" "$out" "1 sent, 1 received, 0 mismatched, 0% loss"
else
	echo "note: net.core.wmem_max below 2 MiB: no 1 MiB record"
fi
stop_server || fail "server exit status $?"

if part "hostile record servers" python3; then
	# hostile MODE WANT...: against badserver.py MODE, exit 1 and each WANT
	# in the output.
	hostile() {
		_m=$1; shift
		rm -f "$T/h"
		bad "$_m" "$T/h"
		run 20 -c 2 -i 100ms -W 2s "unix-seqpacket:$T/h"
		expect_eq "$_m exit" $rc 1
		for _w in "$@"; do expect_in "$_m" "$out" "$_w"; done
	}
	hostile seq-split "seq=1: echo is a record of 32 bytes, 64 were sent in one" \
		"1 sent, 0 received, 1 mismatched, 0% loss"
	hostile seq-empty "seq=1: echo is an empty record, 64 bytes were sent in one" \
		"1 sent, 0 received, 1 mismatched, 0% loss"
	case $out in *closed*) fail "empty record taken for the close: $out" ;; esac
	hostile seq-longer "seq=1: echo is a record of 65 bytes, 64 were sent in one"
	hostile seq-extra "seq=1: a record of 1 byte after the echo" \
		"1 sent, 0 received, 1 mismatched, 0% loss"
fi
echo ok

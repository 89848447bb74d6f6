#!/bin/sh
# Unix seqpacket records. An empty record is a record: echoed as an empty
# record, and the records after it too (it used to be taken for the end of
# the stream: the rest was lost and the peer reset). Records up to the
# limit (the larger of --buffer-size and 64 KiB) come back whole; a larger
# one closes that connection only, with a warning that names the limit.
. "$top_srcdir/tests/integ/lib.sh"
[ "$(uname -s)" = Linux ] || skip "empty records are told from the end with SO_PASSCRED (Linux)"

start_server -l "unix-seqpacket:$T/q" --threads 1
$PEER records unix "$T/q" 3,0,3 || fail "an empty record between two"
$PEER records unix "$T/q" 0,0,1,0,100,0 || fail "empty records"
$PEER records_burst unix "$T/q" 3,0,3,0 || fail "empty records, then a half-close"
$PEER records unix "$T/q" 1,65535,65536 || fail "records up to the default limit"
t0=$(now_ms)
$PEER record_refused unix "$T/q" 65537 || fail "a record over the default limit"
wait_for 5 grep -q 'seqpacket record over 65536 bytes' "$T/server.log" ||
	fail "no warning naming the limit: $(cat "$T/server.log")"
$PEER records unix "$T/q" 10 || fail "the server after a refused record"
# The warning is rate-limited (one every 10 s per worker): a peer cannot
# flood the log.
$PEER record_refused unix "$T/q" 70000 || fail "a second record over the limit"
$PEER records unix "$T/q" 10 || fail "the server after a second refused record"
# (unless this machine took most of those 10 s to get here)
if [ $(($(now_ms) - t0)) -lt 8000 ]; then
	expect_eq "warnings for two refused records" \
		"$(grep -c 'seqpacket record over' "$T/server.log")" 1
fi
stop_server || fail "exit status $?"

# A larger limit: records above the default are read whole and sent whole
# (the connection's send buffer is raised to take them).
start_server -l "unix-seqpacket:$T/q" --buffer-size 384K
$PEER records unix "$T/q" 65537,300000,393216,0 || fail "records up to 384K"
$PEER record_refused unix "$T/q" 393217 || fail "a record over 384K"
wait_for 5 grep -q 'seqpacket record over 393216 bytes' "$T/server.log" ||
	fail "no warning naming the limit: $(cat "$T/server.log")"
stop_server || fail "exit status $?"
echo ok

#!/bin/sh
# Honest numbers (issue 9, item 6): loss to one decimal where not whole,
# replies after -W counted late (with their RTT), not lost, and the target
# still reachable; JSON records carry a timestamp and `reachable` is a
# boolean everywhere; several targets: every probe line names its target;
# -A rows in resolver order and a family line with every distinct cause.
. "$top_srcdir/tests/integ/lib.sh"
need timeout
need ipv4 "the servers listen on 127.0.0.1"

run() {
	_lim=$1; shift
	timeout -k 2 "$_lim" "$ANYECHO" "$@" >"$T/out" 2>&1 </dev/null
	rc=$?
	out=$(cat "$T/out")
}

# Two targets: each probe line says which.
part "anyechod" ipv4
start_server -l 127.0.0.1:0 -t
P=$(port IPv4 stream)
run 30 -c 1 127.0.0.1 $P localhost $P
expect_in "named probe line" "$out" "127.0.0.1: 64 bytes from 127.0.0.1:$P"
expect_in "named probe line" "$out" "localhost: 64 bytes from 127.0.0.1:$P"
# Over TCP the summary counts retransmissions (TCP_INFO).
run 30 -c 2 -i 10ms 127.0.0.1 $P
expect_in "retransmissions" "$out" ", 0 retransmissions"
run 30 --json -c 1 127.0.0.1 $P
expect_in "retransmissions json" "$out" '"tcp_retransmits":0'

# The rest against hostile servers (tests/integ/badserver.py).
if ! part "hostile servers" python3; then
	echo ok
	exit 0
fi
# 299 of 300: not "0% loss" (2 ms is the least interval a user may ask).
bad dgram-drop 7
run 60 -u -q -c 300 -i 2ms -W 1s 127.0.0.1 $BP
expect_eq "299 of 300 exit" $rc 1
expect_in "299 of 300" "$out" "300 sent, 299 received, 0 mismatched, 0.3% loss"
bad dgram-drop 7
run 60 --json -u -q -c 300 -i 2ms -W 1s 127.0.0.1 $BP
expect_in "299 of 300 json" "$out" '"loss_pct":0.3'

# Every answer twice (the second 1 s later), the 50th never: the one loss
# stays a loss, the second answers are duplicates, not late replies, and
# no line shows a time the run never took (the ring grows meanwhile).
bad dgram-dupdrop 50
run 60 -u -c 200 -i 2ms -W 2s 127.0.0.1 $BP
expect_eq "dupdrop exit" $rc 1
expect_in "dupdrop lost" "$out" "127.0.0.1: seq=50: no reply"
expect_in "dupdrop summary" "$out" "200 sent, 199 received, 0 mismatched, 0.5% loss"
echo "$out" | grep -q ', [1-9][0-9]* duplicates, 0 late' ||
	fail "duplicates not counted as such, or counted late: $out"
big=$(echo "$out" | sed -n 's/.* time=\([0-9]*\)\..*/\1/p' | awk '$1 >= 5000' | head -1)
expect_eq "dupdrop no absurd time" "$big" ""
# Intact duplicates alone are counted, shown, and no failure (as ping's
# DUPs): every probe was answered, and rightly (attack 8: exit 1, with
# nothing in the summary or JSON to say why).
bad dgram-dupdrop 0
run 60 -u -c 8 -i 200ms -W 2s 127.0.0.1 $BP
expect_eq "intact duplicates exit" $rc 0
expect_in "intact duplicates summary" "$out" "8 sent, 8 received, 0 mismatched, 0% loss"
echo "$out" | grep -q ', [1-9] duplicates, 0 late' || fail "duplicates not counted: $out"

# Every echo comes back 200 ms after -W (within the one more -W the client
# waits after the last probe): late, with its time, not lost.
bad dgram-late 500
run 30 -u -c 2 -i 100ms -W 300ms 127.0.0.1 $BP
expect_eq "late exit" $rc 0
expect_in "late summary" "$out" "2 sent, 0 received, 0 mismatched, 0% loss"
expect_in "late count" "$out" "2 late"
expect_in "late line" "$out" "seq=1 time="
expect_in "late line" "$out" "(late: after the 300 ms timeout)"
run 30 --json -u -c 2 -i 100ms -W 300ms 127.0.0.1 $BP
expect_in "late json" "$out" '"status":"late"'
expect_in "late json reachable" "$out" '"reachable":true'
rtt=$(echo "$out" | grep '"status":"late"' | head -1 | sed 's/.*"rtt_ms":\([0-9]*\).*/\1/')
[ "$rtt" -ge 450 ] 2>/dev/null || fail "late reply without its time (rtt_ms '$rtt'): $out"
# Every record carries a timestamp (Unix seconds).
n=$(echo "$out" | grep -c .)
expect_eq "timestamps" "$(echo "$out" | grep -c '"timestamp":[0-9]\{10\}\.[0-9]\{3\}')" "$n"

# A late echo is checked like any other (attack finding 02): the header
# alone, or the payload inverted, after -W is a mismatch, not "late" (before:
# "0 mismatched, 0% loss, 3 late", exit 0). The echoes come 500 ms after
# each probe: past -W, and well within the one more -W waited after the last.
bad dgram-lateshort 500
run 30 -u -c 2 -i 100ms -W 400ms 127.0.0.1 $BP
expect_eq "late header-only exit" $rc 1
expect_in "late header-only" "$out" "2 sent, 0 received, 2 mismatched, 0% loss"
expect_in "late header-only line" "$out" "seq=1: echo of 8 bytes, 64 were sent, after the timeout"
bad dgram-lateflip 500
run 30 --json -u -c 2 -i 100ms -W 400ms 127.0.0.1 $BP
expect_eq "late inverted exit" $rc 1
expect_in "late inverted" "$out" '"status":"mismatch"'
expect_in "late inverted" "$out" '"mismatched":2,"duplicates":0,"late":0'
# A duplicate is checked too: the intact echo, then 200 ms later a copy
# with the payload inverted: the probe is counted mismatched, not received.
# (The second probe's copy comes after the run ended: only seq 1's is seen.)
bad dgram-dupflip
run 30 -u -c 2 -i 1s -W 1s 127.0.0.1 $BP
expect_eq "wrong duplicate exit" $rc 1
expect_in "wrong duplicate" "$out" "seq=1: duplicate reply differs from sent data at byte 8"
expect_in "wrong duplicate summary" "$out" "2 sent, 1 received, 1 mismatched, 0% loss"
expect_in "wrong duplicate count" "$out" "1 duplicates, 0 late"

# Over TCP too: an echo 200 ms after -W is late (one more -W is waited
# for it), with its time; the connection goes on.
bad late 500
run 30 -c 2 -i 100ms -W 300ms 127.0.0.1 $BP
expect_eq "stream late exit" $rc 0
expect_in "stream late" "$out" "2 sent, 0 received, 0 mismatched, 0% loss"
expect_in "stream late count" "$out" "2 late"
expect_in "stream late line" "$out" "seq=2 time="

# A datagram address that is the only one keeps its probes going past the
# connect timeout (UDP races on the first reply, but with nothing to fall
# back to, the probes are the answer), and its summary has no connect time.
bad dgram-silent
run 30 -u -c 4 -i 300ms -W 300ms --connect-timeout 500ms 127.0.0.1 $BP
expect_eq "silent exit" $rc 1
expect_in "silent" "$out" "4 sent, 0 received, 0 mismatched, 100% loss, no reply to connect"
expect_in "silent" "$out" "127.0.0.1: seq=4: no reply from 127.0.0.1 port $BP within 300 ms"
run 30 --json -u -c 1 -W 300ms 127.0.0.1 $BP
expect_in "silent json" "$out" '"connect_ms":null'
# So with -A (attack finding 06): the CONNECT cell and connect_ms are the
# first reply's, not the connect() call's (which showed "0.0 ms" and a
# connect_ms for an address that never answered).
run 30 -A -u -c 1 -W 300ms 127.0.0.1 $BP
expect_eq "-A silent exit" $rc 1
row=$(echo "$out" | grep "^127.0.0.1:$BP ")
expect_eq "-A silent connect cell" "$(echo "$row" | awk '{ print $5 }')" "-"
run 30 --json -A -u -c 1 -W 300ms 127.0.0.1 $BP
expect_in "-A silent json" "$out" '"connect_ms":null'
expect_in "-A silent json" "$out" '"handshake_ms":null'
bad dgram-drop 1000
run 30 --json -A -u -c 2 -i 50ms -W 2s 127.0.0.1 $BP
expect_eq "-A answered exit" $rc 0
# from the attempt's start to the first reply: never less than an RTT
c=$(echo "$out" | grep '"type":"summary"' | sed 's/.*"connect_ms":\([0-9.]*\).*/\1/')
m=$(echo "$out" | grep '"type":"summary"' | sed 's/.*"rtt_min_ms":\([0-9.]*\).*/\1/')
awk -v c="$c" -v m="$m" 'BEGIN { exit !(c != "" && m != "" && c + 0 >= m + 0) }' ||
	fail "-A datagram connect_ms '$c' below the least RTT '$m': $out"

# -A: rows in the resolver's order, not in the order they finished; the
# family line names every distinct cause. 127.0.0.1 never answers a
# connect (queue full) and comes first, 127.0.0.2 refuses at once.
bad blackhole 1
printf '127.0.0.1 two.test\n127.0.0.2 two.test\n' >"$T/two.hosts"
CARES_HOSTS=$T/two.hosts
export CARES_HOSTS
order=$(timeout 10 "$ANYECHO" --resolve -t -4 -p $BP two.test | awk '{ print $4 }' | tr '\n' ' ')
run 30 -A -4 -c 1 --connect-timeout 600ms two.test $BP
expect_eq "--all exit" $rc 1
rows=$(echo "$out" | awk '/^127\.0\.0\./ { print $1 }' | tr '\n' ' ')
expect_eq "--all rows in resolver order" "$rows" "$order"
expect_in "--all causes" "$out" "IPv4: 0 of 2 addresses reachable ("
case $out in *"no answer"*"connection refused"*|*"connection refused"*"no answer"*) ;;
*) fail "--all family line lacks a cause: $out" ;; esac
echo "$out" | grep '^IPv4: ' | grep -q 'no answer' && echo "$out" | grep '^IPv4: ' |
	grep -q 'connection refused' || fail "family line does not list both causes: $out"
run 30 --json -A -4 -c 1 --connect-timeout 600ms two.test $BP
expect_in "family json" "$out" '"type":"family"'
echo "$out" | grep '"type":"family"' | grep -q '"reachable":false' ||
	fail "family record: reachable is not a boolean: $out"
unset CARES_HOSTS
echo ok

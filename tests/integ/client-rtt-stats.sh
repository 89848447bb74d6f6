#!/bin/sh
# RTT statistics cover the intact echoes alone (attack round 5, F5): a
# probe counted received and then found wrong (a wrong duplicate datagram,
# a stream echo followed by a byte more) leaves min and max as well as the
# average and deviation. They kept it: 2 echoes of 300 and 1200 ms and a
# wrong one of 0.1 ms were summarised as "min 0.1, avg 750". The echoes
# left are held by tests/integ/rttserver.py, so their RTTs are at least
# what it held them, whatever the machine's load; the wrong one is fast.
. "$top_srcdir/tests/integ/lib.sh"
need python3
need timeout
need ipv4 "the servers listen on 127.0.0.1"

# srv MODE: start rttserver.py MODE; sets RP, its port.
srv() {
	rm -f "$T/rp"
	python3 "$top_srcdir/tests/integ/rttserver.py" "$1" "$T/rp" 2>"$T/srv.err" &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/rp" || hard "rttserver.py $1 did not start: $(cat "$T/srv.err")"
	RP=$(cat "$T/rp")
}
# run ARGS...: anyecho under timeout; sets out (stdout and stderr), rc.
run() {
	timeout -k 2 20 "$ANYECHO" "$@" >"$T/out" 2>&1 </dev/null
	rc=$?
	out=$(cat "$T/out")
}
# one_rtt WHAT MIN AVG MAX: the single echo left is min, avg and max, and
# took the 300 ms it was held.
one_rtt() {
	[ -n "$2" ] || fail "$1: no RTT statistics in: $out"
	[ "$2" = "$3" ] && [ "$3" = "$4" ] || fail "$1: min/avg/max $2/$3/$4 over one echo: $out"
	[ "${2%%.*}" -ge 290 ] || fail "$1: min $2 ms is not the echo held 300 ms: $out"
}

# UDP: the first probe's echo is intact and fast; after the second's
# (300 ms) a copy of it a byte short; the third's echo comes at 1200 ms.
srv udp
run -u -c 3 -i 100ms -W 3s --json 127.0.0.1 $RP
expect_eq "udp exit" $rc 1
expect_in "udp counts" "$out" '"sent":3,"received":2,"mismatched":1'
stats=$(echo "$out" | sed -n 's/.*"rtt_min_ms":\([0-9.]*\),"rtt_avg_ms":\([0-9.]*\),"rtt_max_ms":\([0-9.]*\),.*/\1 \2 \3/p')
set -- $stats
[ $# -eq 3 ] || fail "udp: no RTT statistics in: $out"
[ "${1%%.*}" -ge 290 ] || fail "udp: min $1 ms is not the echo held 300 ms: $out"
[ "${3%%.*}" -ge 1190 ] || fail "udp: max $3 ms is not the echo held 1200 ms: $out"
[ "${2%%.*}" -ge "${1%%.*}" ] && [ "${2%%.*}" -le "${3%%.*}" ] ||
	fail "udp: avg $2 ms outside min $1 and max $3: $out"

# TCP: the second probe's echo, then after it a byte more.
srv tcp
run -c 2 -i 100ms -W 2s 127.0.0.1 $RP
expect_eq "tcp exit" $rc 1
expect_in "tcp mismatch" "$out" "seq=2: echo has 1 byte more than sent"
expect_in "tcp counts" "$out" "2 sent, 1 received, 1 mismatched"
stats=$(echo "$out" | sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/.*|\1 \2 \3|p')
one_rtt tcp $stats
echo ok

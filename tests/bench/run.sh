#!/bin/sh
# The benchmark behind `make bench`: anyechod against refecho, a minimal
# hand-written epoll echo server, side by side in one run on loopback.
# Each scenario runs ROUNDS times per server, the servers alternating (the
# order flips every round), and the median round is reported: requests (or
# MB) per second, and the server's CPU time per request from /proc, which
# is the fairer figure on a 2-core machine where the load generator takes
# one core. Every echoed byte is checked by echoload; a wrong byte ends the
# run with exit 1.
#
# usage: run.sh BUILDDIR   env: BENCH_SECONDS (3), BENCH_ROUNDS (3),
#        BENCH_THREADS (1: one anyechod worker, as refecho has one thread),
#        BENCH_ONLY (scenario names to run, default all)
set -u
B=${1:?usage: run.sh BUILDDIR}
SECS=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-1}
T=$(mktemp -d "${TMPDIR:-/tmp}/anyecho-bench.XXXXXX") || exit 99
pids=
cleanup() {
	[ -n "$pids" ] && kill $pids 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "bench: $2 did not start" >&2; exit 99; }
		sleep 0.1
	done
}

"$B/tests/bench/refecho" "$T/ref.ports" 2>"$T/ref.log" &
REF=$!
pids="$REF"
"$B/src/anyechod" -q -l 127.0.0.1:0 --threads "$THREADS" --port-file "$T/any.ports" \
	2>"$T/any.log" &
ANY=$!
pids="$pids $ANY"
wait_file "$T/ref.ports" refecho
wait_file "$T/any.ports" anyechod

ref_tcp=$(awk '$1 == "tcp" { print $2 }' "$T/ref.ports")
ref_udp=$(awk '$1 == "udp" { print $2 }' "$T/ref.ports")
any_tcp=$(awk '$1 == "IPv4" && $2 == "stream" { print $4 }' "$T/any.ports")
any_udp=$(awk '$1 == "IPv4" && $2 == "dgram" { print $4 }' "$T/any.ports")

# scenario NAME UNIT ECHOLOAD-ARGS: one table row per server.
scenario() {
	name=$1 unit=$2
	shift 2
	case " ${BENCH_ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
	: >"$T/res"
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		order="ref any"
		[ $((r % 2)) -eq 1 ] && order="any ref"
		for s in $order; do
			eval "pid=\$$(echo $s | tr a-z A-Z)"
			case "$*" in
			*-u*) eval "port=\$${s}_udp" ;;
			*) eval "port=\$${s}_tcp" ;;
			esac
			out=$("$B/tests/bench/echoload" -t "$SECS" -P "$pid" "$@" 127.0.0.1 "$port") || {
				echo "bench: $name against $s failed: $out" >&2
				exit 1
			}
			echo "$s $out" >>"$T/res"
		done
		r=$((r + 1))
	done
	for s in ref any; do
		# median of the rounds by rate; CPU per request from the same round
		grep "^$s " "$T/res" | awk -v unit="$unit" '{
			rate = (unit == "MB/s") ? $5 / $7 / 1e6 : $3 / $7
			us = $3 > 0 ? $11 * 1e6 / $3 : 0
			print rate, us, $9
		}' | sort -n | awk -v n="$ROUNDS" -v s="$s" -v name="$name" -v unit="$unit" '
			NR == int((n + 1) / 2) {
				printf "%-14s %-9s %12.1f %-6s %10.2f %8d\n", name, s == "ref" ? "refecho" : "anyechod", $1, unit, $2, $3
			}'
	done
}

echo "anyechod (--threads $THREADS) against refecho on 127.0.0.1, ${SECS} s x $ROUNDS rounds, median"
printf "%-14s %-9s %12s %-6s %10s %8s\n" scenario server rate unit "cpu us/req" lost
scenario tcp-pingpong req/s -c 64 -s 64
scenario tcp-bulk MB/s -c 8 -s 16384 -w 262144
scenario udp-pingpong req/s -u -c 64 -s 64
scenario udp-window req/s -u -c 16 -s 512 -w 16

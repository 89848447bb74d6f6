#!/bin/sh
# The benchmark behind `make bench`: anyechod against refecho, a minimal
# hand-written edge-triggered epoll echo server (recvmmsg/sendmmsg for
# datagrams), side by side in one run, over IPv4 and IPv6 loopback and unix
# stream and datagram sockets. anyechod runs with its defaults, so every
# feature is on (guard, idle timer, connection limits); BENCH_ANYECHOD_ARGS
# adds options.
#
# Workloads, 64-byte messages unless said (echoload.c does the load):
#   pingpong      50 connections, one request each in flight
#   stream        8 connections, 256 KiB each in flight (16 KiB writes)
#   udp1          one socket, one datagram in flight
#   udp4x16       4 sockets, 16 datagrams each in flight
#   pingpong500   500 connections (IPv4, from 5 source addresses)
#   connect       8 at a time: connect, echo 64 bytes, close (IPv4)
#   idle          10,000 connections, one byte echoed on each, then idle:
#                 the server's RSS growth per connection (IPv4; each round
#                 on servers started afresh)
# Each runs ROUNDS times per server, the servers alternating (the order
# flips every round). With one worker, echoload pins the server to one CPU
# and itself to another. A row gives the medians over the rounds of: each
# server's rate, the ratio anyechod / refecho of throughput (at least 1.0 is
# level) and of the server's CPU time per request from /proc (at most 1.0 is
# level), each ratio taken within a round (the two servers ran back to back)
# then the median; the load generator's own CPU per request; datagrams lost
# (summed). The CPU ratio is the figure to judge by on a loaded machine,
# where the rate moves with what else runs.
#
# Every echoed byte is checked; a wrong byte, or a stall (a connection or
# socket with bytes outstanding and nothing back for over 1 s, during the
# run or in the drain after it), fails that row with the reason, and the
# run, once the other rows are done, with exit 1. A stall while the server
# and the load waited for a CPU most of the time, or while the kernel
# dropped packets (a machine overloaded by other work) is not the server's:
# that round runs again (twice at most).
#
# usage: run.sh BUILDDIR
# env: BENCH_SECONDS (3) per round, BENCH_ROUNDS (3), BENCH_THREADS (1: one
#      anyechod worker, as refecho has one thread), BENCH_ONLY (workload
#      names, or NAME/FAMILY such as pingpong/unix; default all), BENCH_PIN
#      (1; 0: no pinning; none either with BENCH_THREADS above 1),
#      BENCH_BUSY (0; 1: the load polls, never sleeps), BENCH_IDLE_CONNS
#      (10000), BENCH_ANYECHOD_ARGS, BENCH_ANYECHOD (the binary, default
#      BUILDDIR/src/anyechod: to set two builds side by side)
set -u
B=${1:?usage: run.sh BUILDDIR}
SECS=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-1}
IDLE=${BENCH_IDLE_CONNS:-10000}
failed=
PIN=-a
# pinning puts every server thread on one CPU: only for one worker
[ "${BENCH_PIN:-1}" = 0 ] || [ "$THREADS" != 1 ] && PIN=
[ "${BENCH_BUSY:-0}" = 1 ] && PIN="$PIN -b"
T=$(mktemp -d "${TMPDIR:-/tmp}/anyecho-bench.XXXXXX") || exit 99
pids=
cleanup() {
	[ -n "$pids" ] && kill $pids 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# 10,000 idle connections need as many descriptors on each side
ulimit -n "$(ulimit -Hn)" 2>/dev/null

wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "bench: $2 did not start" >&2; exit 99; }
		sleep 0.1
	done
}

# start_servers DIR: both servers, listening on everything; sets REF, ANY.
start_servers() {
	mkdir -p "$1"
	"$B/tests/bench/refecho" "$1/ref.ports" "$1" 2>"$1/ref.log" &
	REF=$!
	# shellcheck disable=SC2086
	"${BENCH_ANYECHOD:-$B/src/anyechod}" -q -l 127.0.0.1:0 -l '[::1]:0' -l "unix-stream:$1/any.stream" \
		-l "unix-dgram:$1/any.dgram" --threads "$THREADS" --port-file "$1/any.ports" \
		${BENCH_ANYECHOD_ARGS:-} 2>"$1/any.log" &
	ANY=$!
	pids="$pids $REF $ANY"
	wait_file "$1/ref.ports" refecho
	wait_file "$1/any.ports" anyechod
}

stop_servers() {
	kill "$REF" "$ANY" 2>/dev/null
	wait "$REF" "$ANY" 2>/dev/null
}

# target DIR SERVER FAMILY TYPE: echoload's address arguments, or nothing.
target() {
	awk -v f="$3" -v t="$4" '$1 == f && $2 == t {
		print ($1 == "unix") ? "unix:" $3 : $3 " " $4; exit
	}' "$1/$2.ports"
}

wanted() {
	case " ${BENCH_ONLY:-$1} " in *" $1 "* | *" $1/$2 "*) return 0 ;; esac
	return 1
}

family_name() {
	case $1 in IPv4) echo ipv4 ;; IPv6) echo ipv6 ;; *) echo unix ;; esac
}

# load DIR SERVER ECHOLOAD-ARGS... (address last): one round, one line in
# $T/res; on failure the reason is in $T/err. A stall that echoload blames
# on the machine (exit 3: overloaded) runs the round again, twice at most.
load() {
	d=$1 s=$2 try=0
	shift 2
	eval "pid=\$$(echo "$s" | tr a-z A-Z)"
	while :; do
		# shellcheck disable=SC2086
		out=$(timeout $((SECS + 60)) "$B/tests/bench/echoload" $PIN -P "$pid" "$@" \
			2>"$T/err")
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "$s $out" >>"$T/res"
			return 0
		fi
		try=$((try + 1))
		[ $rc -eq 3 ] && [ $try -le 2 ] || break
		echo "bench: $label against $s: the machine was overloaded, again:" \
			"$(head -1 "$T/err")" >&2
	done
	failed="$failed $label($s)"
	return 1
}

# row LABEL UNIT: the medians of $T/res ("SERVER echoload-line", the two
# servers' lines of a round next to each other).
row() {
	awk -v label="$1" -v unit="$2" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		s = $1; k = ++n[s]
		if ($2 == "conns") {    # idle: bytes per connection
			rate[s, k] = $9; cpu[s, k] = 0; ld[s, k] = 0; lost[s] = 0
			next
		}
		rate[s, k] = unit == "MB/s" ? $5 / $7 / 1e6 : $3 / $7
		cpu[s, k] = $3 > 0 ? $11 * 1e6 / $3 : 0
		ld[s, k] = $3 > 0 ? $13 * 1e6 / $3 : 0
		lost[s] += $9
	}
	END {
		for (k = 1; k <= n["any"]; k++) {
			tr[k] = rate["ref", k] > 0 ? rate["any", k] / rate["ref", k] : 0
			cr[k] = cpu["ref", k] > 0 ? cpu["any", k] / cpu["ref", k] : 0
			rr[k] = rate["ref", k]; ra[k] = rate["any", k]
			ur[k] = cpu["ref", k]; ua[k] = cpu["any", k]
			lr[k] = ld["ref", k]; la[k] = ld["any", k]
		}
		m = n["any"]
		if (unit == "B/conn") {
			printf "%-22s %10.1f %10.1f %-6s %6.2f   (target: anyechod <= 64 B/conn)\n",
			    label, median(rr, m), median(ra, m), unit, median(tr, m)
			exit
		}
		printf "%-22s %10.0f %10.0f %-6s %6.2f %7.2f %7.2f %6.2f %7.2f %7.2f %5d/%d\n",
		    label, median(rr, m), median(ra, m), unit, median(tr, m),
		    median(ur, m), median(ua, m), median(cr, m),
		    median(lr, m), median(la, m), lost["ref"], lost["any"]
	}' "$T/res"
}

# scenario NAME FAMILY UNIT ECHOLOAD-ARGS: one row.
scenario() {
	name=$1 fam=$2 unit=$3
	shift 3
	type=stream
	case " $* " in *" -u "*) type=dgram ;; esac
	label="$name/$(family_name "$fam")"
	wanted "$name" "$(family_name "$fam")" || return 0
	rt=$(target "$T/s" ref "$fam" "$type")
	at=$(target "$T/s" any "$fam" "$type")
	if [ -z "$rt" ] || [ -z "$at" ]; then
		printf "%-22s skipped: no %s %s socket (refecho: %s, anyechod: %s)\n" "$label" \
			"$fam" "$type" "${rt:-none}" "${at:-none}"
		return 0
	fi
	: >"$T/res"
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		order="ref any"
		[ $((r % 2)) -eq 1 ] && order="any ref"
		for s in $order; do
			eval "t=\$$(echo "$s" | cut -c1)t"
			# shellcheck disable=SC2086
			load "$T/s" "$s" -t "$SECS" "$@" $t || {
				printf "%-22s FAILED: %s\n" "$label" "$(cat "$T/err")"
				return 0
			}
		done
		r=$((r + 1))
	done
	row "$label" "$unit"
}

# idle: each round on servers of its own, started afresh, so that memory
# an earlier workload left behind does not hide what connections cost.
idle() {
	label="idle$IDLE/ipv4"
	wanted idle ipv4 || return 0
	if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 100)) ]; then
		echo "$label skipped: needs ulimit -n of $((IDLE + 100)), have $(ulimit -n)"
		return 0
	fi
	: >"$T/res"
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		start_servers "$T/i$r"
		for s in ref any; do
			# shellcheck disable=SC2046
			load "$T/i$r" "$s" -I -c "$IDLE" $(target "$T/i$r" "$s" IPv4 stream) || {
				printf "%-22s FAILED: %s\n" "$label" "$(cat "$T/err")"
				stop_servers
				return 0
			}
		done
		stop_servers
		r=$((r + 1))
	done
	row "$label" B/conn
}

start_servers "$T/s"
echo "anyechod (--threads $THREADS${BENCH_ANYECHOD_ARGS:+ $BENCH_ANYECHOD_ARGS}) against" \
	"refecho, ${SECS} s x $ROUNDS rounds interleaved, medians;" \
	"${PIN:+pinned, }load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-22s %10s %10s %-6s %6s %7s %7s %6s %7s %7s %s\n" "" "rate" "rate" "" \
	"thru" "us/op" "us/op" "cpu" "load" "load" "lost"
printf "%-22s %10s %10s %-6s %6s %7s %7s %6s %7s %7s %s\n" workload/family refecho \
	anyechod unit "a/r" ref any "a/r" ref any "r/a"
for fam in IPv4 IPv6 unix; do
	scenario pingpong "$fam" req/s -c 50 -s 64
done
for fam in IPv4 IPv6 unix; do
	scenario stream "$fam" MB/s -c 8 -s 16384 -w 262144
done
for fam in IPv4 IPv6 unix; do
	scenario udp1 "$fam" req/s -u -c 1 -s 64
done
for fam in IPv4 IPv6 unix; do
	scenario udp4x16 "$fam" req/s -u -c 4 -s 64 -w 16
done
scenario pingpong500 IPv4 req/s -c 500 -s 64
scenario connect IPv4 conn/s -C -c 8 -s 64
stop_servers
idle
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$failed" ]; then
	echo "bench: FAILED:$failed (a wrong byte or a stall is a bug: see the table)" >&2
	exit 1
fi

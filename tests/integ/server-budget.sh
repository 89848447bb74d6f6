#!/bin/sh
# Peers that write and never read: what the server owes them is bounded by
# --max-owed, not by connections x --buffer-size. In a network namespace of
# the test's own with small TCP buffers, so that the server, not the
# kernel, has to hold what the peers do not read. 500 such peers from four
# source addresses: the server's memory stays within the budget plus a
# fixed overhead; a well-behaved client still gets every byte back, in
# order, while the budget is spent; once it is spent, connections stalled
# longer than --stall-timeout are closed; SIGUSR1 counts it all.
. "$top_srcdir/tests/integ/lib.sh"
need netns
[ -r /proc/self/status ] || skip "no /proc to read the server's memory"
need ip "Debian package iproute2"
need python3
need sysctl "Debian package procps"

NS=aeb$$
ip netns add $NS 2>/dev/null || skip "cannot create network namespaces here"
at_exit "ip netns del $NS 2>/dev/null"
ip -n $NS link set lo up || hard "loopback in the namespace"
ip netns exec $NS sysctl -q -w net.ipv4.tcp_wmem="4096 16384 65536" \
	net.ipv4.tcp_rmem="4096 65536 65536" || hard "TCP buffer sizes in the namespace"
ulimit -n 4096 2>/dev/null || skip "cannot raise the fd limit to 4096"
nsx() { ip netns exec $NS "$@"; }

# ip netns exec execs: $! is the server itself.
ip netns exec $NS "$ANYECHOD" -l 127.0.0.1:0 -t --threads 2 --max-owed 1M --stall-timeout 1s \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
P=$(port IPv4 stream)
rss() { awk '/^VmRSS:/ { print $2 }' /proc/$SRV_PID/status; }
rss0=$(rss)

# The server's largest RSS, sampled every 100 ms while $T/sampling exists.
: >"$T/sampling"
(max=0; while [ -e "$T/sampling" ]; do
	r=$(rss); [ "${r:-0}" -gt $max ] && max=$r && echo $max >"$T/rssmax"
	sleep 0.1
done) &
sampler=$!
at_exit "rm -f $T/sampling"

nsx timeout 120 python3 "$PEER_PY" hog 127.0.0.1 $P 500 393216 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4 \
	"$T/hog" >"$T/hog.out" 2>&1 &
hog=$!
at_exit "touch $T/hog.stop"
# Once the hogs are past what the kernel holds, the server has taken what it
# will from them (without a budget: 500 x 64 KiB).
growth() { echo $(( $(cat "$T/rssmax") - rss0 )); }
# within BOUND KiB, but for ThreadSanitizer's shadow memory
grew_within() { tsan_build || [ "$(growth)" -le "$1" ]; }
sent_over() { [ "$(awk '{ print $6 }' "$T/hog" 2>/dev/null)" -ge "$1" ] 2>/dev/null; }
wait_for 30 sent_over 33554432 || fail "hogs did not get going: $(cat "$T/hog")"
sleep 1
# 1 MiB budget, its overdraft and a buffer per worker in flight, plus the
# connections themselves.
grew_within 6144 || fail "server grew by $(growth) KiB with --max-owed 1M"

usr1() { kill -USR1 $SRV_PID; sleep 0.1; grep '^anyechod: connections' "$T/server.log" | tail -1; }
spent() { usr1 | grep -q 'budget-paused [1-9]'; }
wait_for 30 spent || fail "budget never spent: $(usr1)"

# While the budget is spent: 4 MiB in and out, every byte in order; then
# eight at once, some of which must wait for the budget and be woken.
nsx timeout 60 python3 "$PEER_PY" stream IPv4 stream 127.0.0.1 $P 4194304 ||
	fail "well-behaved client while the budget is spent"
pids=
for i in 1 2 3 4 5 6 7 8; do
	nsx timeout 60 python3 "$PEER_PY" stream IPv4 stream 127.0.0.1 $P 1048576 >"$T/good$i" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do wait $p || fail "one of eight clients: $(cat "$T"/good*)"; done
# Paused connections watch nothing: no spinning on what they may not read.
cpu() { awk '{ print $14 + $15 }' /proc/$SRV_PID/stat; }
c0=$(cpu); sleep 1; used=$(( $(cpu) - c0 ))
[ $used -lt 30 ] || fail "server used $used CPU ticks in 1 s while the hogs wait"

stalled() { usr1 | grep -q 'stall-closed [1-9]' && grep -q 'closed [1-9]' "$T/hog"; }
wait_for 30 stalled || fail "no stalled connection closed: $(usr1); hog: $(cat "$T/hog")"
rm -f "$T/sampling"
wait $sampler
grew_within 6144 || fail "server grew by $(growth) KiB with --max-owed 1M, in the end"
touch "$T/hog.stop"
wait $hog || fail "hog: $(cat "$T/hog.out")"
echo "counters: $(usr1)"
stop_server || fail "exit status $?"
echo "ok: server grew by $(growth) KiB"

#!/bin/sh
# Delay and loss (issue 9: "TCP over 10 % loss with 50 ms delay: '0% loss',
# average 91.5 ms against ping's 50.4 ms; retransmissions invisible"), made
# by a user-space relay in the router namespace of lab3.sh (this kernel has
# no netem). Policy routing in R sends forwarded traffic from the client
# (iif rc) out of TUN device ta, and from the server (iif r4, r6) out of
# tb; tests/integ/netrelay holds each packet 25 ms, drops every 10th data
# packet (TCP segments with payload, UDP datagrams; never SYN, pure ACK or
# FIN) and writes it back into its device, from where the main table
# forwards it on. So the round trip is 50 ms at least and the drops are
# counted, not guessed. Over TCP: every byte comes back (exit 0, 0% loss),
# the client's retransmissions are counted in the summary and JSON and
# the probes that waited for one are marked; every RTT is 50 ms or more.
# Over UDP: the loss shown is exactly what the relay dropped both ways, to
# one decimal (anyecho(1)): 28 probes, so it is never whole.
. "$top_srcdir/tests/integ/lib.sh"
need ip "Debian package iproute2"
RELAY=$top_builddir/tests/integ/netrelay
test -x "$RELAY" || hard "tests/integ/netrelay not built"
[ -c /dev/net/tun ] || skip "no /dev/net/tun here"
. "$top_srcdir/tests/integ/lab3.sh"
lab_server

DELAY=25 EVERY=10
# relay NAME: a relay on TUN device NAME in R, bounded (it ends by itself).
relay() {
	rm -f "$T/$1.stats"
	ip netns exec $R "$RELAY" "$1" $DELAY $EVERY 240 "$T/$1.stats" 2>"$T/$1.err" &
	eval "${1}_pid=$!" # ip netns exec execs the relay: SIGUSR1 reaches it
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/$1.stats" || {
		grep -q TUNSETIFF "$T/$1.err" && skip "cannot create a TUN device: $(cat "$T/$1.err")"
		hard "netrelay $1 did not start: $(cat "$T/$1.err")"
	}
	ip -n $R link set "$1" up || hard "TUN $1 up"
	# Packets come back in on the TUN device with the client's or the
	# server's source address: reverse path filtering would drop them.
	ip netns exec $R sysctl -qw "net.ipv4.conf.$1.rp_filter=0"
}
ip netns exec $R sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
relay ta
relay tb
for f in -4 -6; do
	ip -n $R $f route add default dev ta table 100 || hard "route via ta ($f)"
	ip -n $R $f route add default dev tb table 101 || hard "route via tb ($f)"
	ip -n $R $f rule add iif rc lookup 100 pref 100 || hard "rule iif rc ($f)"
done
ip -n $R -4 rule add iif r4 lookup 101 pref 101 || hard "rule iif r4"
ip -n $R -6 rule add iif r6 lookup 101 pref 101 || hard "rule iif r6"

# dropped NAME [tcp|udp]: what the relay on NAME has dropped so far (of
# that protocol).
dropped() {
	awk -v p="${2:-dropped}" '{ for (i = 1; i < NF; i++) if ($i == p) print $(i + 1) }' "$T/$1.stats"
}
# field NAME TEXT: the number before NAME in the summary line of TEXT.
field() { echo "$2" | sed -n "s/.* \([0-9]*\) $1.*/\1/p" | head -1; }

# ms_ge A B: A >= B, in milliseconds with decimals.
ms_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# no_path PROTO: the lab has no path for $fam: IPv4 always should, IPv6
# may be off in this kernel.
no_path() {
	[ "$fam" = IPv6 ] || hard "no IPv4 $1 path through the relay"
	skip_part "$1 IPv6 checks" "no IPv6 path through the relay"
}

tcp_part() {
	fam=$1 addr=$2
	part "TCP $fam" || return 0
	# The path works and neighbours are resolved before counting.
	cx -c 1 -W 5s $addr 7007 >/dev/null || { no_path TCP; return 0; }
	a0=$(dropped ta tcp) b0=$(dropped tb tcp)
	out=$(cx -c 20 -i 100ms -W 5s $addr 7007); rc=$?
	a=$(( $(dropped ta tcp) - a0 )) b=$(( $(dropped tb tcp) - b0 ))
	echo "$out"
	echo "relay dropped $a client data segments, $b server data segments"
	expect_eq "TCP $fam exit" $rc 0
	expect_in "TCP $fam summary" "$out" "20 sent, 20 received, 0 mismatched, 0% loss"
	# 20 probes are 20 data segments or more: two at least were dropped.
	[ $a -ge 2 ] || fail "TCP $fam: the relay dropped only $a client segments"
	n=$(echo "$out" | sed -n 's/.*, \([0-9]*\) retransmissions\{0,1\}$/\1/p')
	[ "${n:-0}" -ge $a ] || fail "TCP $fam: $a segments dropped, ${n:-no} retransmissions counted"
	marked=$(echo "$out" | grep -c 'time=.*(retransmitted)$')
	[ $marked -ge $a ] || fail "TCP $fam: $a probes waited for a retransmission, $marked marked"
	min=$(echo "$out" | sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/.* ms$|\1|p')
	ms_ge "$min" 50 || fail "TCP $fam: min RTT $min ms through a 50 ms relay"
	echo "$out" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | while read -r t; do
		ms_ge "$t" 50 || fail "TCP $fam: an RTT of $t ms through a 50 ms relay"
	done || exit 1
	# The path's own RTTs apart: those of the probes that waited for no
	# retransmission (the average of all measures TCP's recovery too).
	avg=$(echo "$out" | sed -n 's|^rtt min/avg/max/mdev = [0-9.]*/\([0-9.]*\)/.* ms$|\1|p')
	clean=$(echo "$out" | sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/\([0-9.]*\)/.* ms without the \([0-9]*\) retransmitted probes\{0,1\}$|\1 \2 \3|p')
	[ -n "$clean" ] || fail "TCP $fam: no RTT line without the retransmitted probes: $out"
	set -- $clean
	expect_eq "TCP $fam retransmitted probes" "$3" "$marked"
	ms_ge "$1" 50 || fail "TCP $fam: path min RTT $1 ms through a 50 ms relay"
	ms_ge "$avg" "$2" || fail "TCP $fam: path average $2 ms above the average of all, $avg ms"
	echo "ok: TCP $fam: $a dropped, $n retransmissions, $marked probes marked, min RTT $min ms, average $avg ms, $2 ms without the marked ones"

	if ! can python3; then
		skip_part "TCP $fam --json" "$why"
		return 0
	fi
	out=$(cx --json -c 10 -i 100ms -W 5s $addr 7007); rc=$?
	expect_eq "TCP $fam --json exit" $rc 0
	bounded 30 python3 -c "import json, sys
recs = [json.loads(l) for l in sys.stdin]
s = [r for r in recs if r['type'] == 'summary'][0]
p = [r for r in recs if r['type'] == 'probe']
assert s['reachable'] is True and s['received'] == 10 and s['loss_pct'] == 0, s
assert s['tcp_retransmits'] >= 1, s
assert s['rtt_min_ms'] >= 50, s
assert sum(r['retransmitted'] for r in p) >= 1, p
assert s['retransmitted_probes'] == sum(r['retransmitted'] for r in p if r['status'] == 'ok'), (s, p)
assert s['rtt_clean_min_ms'] >= 50 and s['rtt_clean_avg_ms'] <= s['rtt_avg_ms'], s
assert s['rtt_clean_max_ms'] <= s['rtt_max_ms'], s
assert all(r['rtt_ms'] >= 50 for r in p), p
a = [r for r in recs if r['type'] == 'attempt']
assert len(a) == 1 and a[0]['syn_sent'] == 1 and s['syn_sent'] == 1, (a, s)" <<EOF || fail "TCP $fam --json: $out"
$out
EOF

	# The first SYN of every handshake lost (the relay's SYN mode): the
	# handshake takes TCP's SYN timeout (1 s) more, and says why.
	syn_mode
	out=$(cx -v -c 1 -W 5s $addr 7007); rc=$?
	syn_mode
	echo "$out"
	expect_eq "TCP $fam SYN lost exit" $rc 0
	echo "$out" | grep -q "attempt 1 to .* connected in [0-9.]* ms (SYN sent [2-9] times)$" ||
		fail "TCP $fam SYN lost: the attempt does not say so: $out"
	echo "$out" | grep -q "0% loss, connect [0-9.]* ms (SYN sent [2-9] times), 0 retransmissions$" ||
		fail "TCP $fam SYN lost: the summary does not say so: $out"
	conn=$(echo "$out" | sed -n 's/.* loss, connect \([0-9.]*\) ms.*/\1/p')
	ms_ge "$conn" 1000 || fail "TCP $fam: connect $conn ms with the first SYN lost"
	echo "ok: TCP $fam: first SYN lost, connect $conn ms, said"
}

# syn_mode: the client's side relay (ta) turns its SYN mode on, or off.
syn_mode() {
	_was=$(grep -c synmode "$T/ta.stats")
	kill -USR1 "$ta_pid"
	wait_for 5 syn_mode_not "$_was" ||
		hard "relay SYN mode: $(cat "$T/ta.stats" "$T/ta.err")"
}
# syn_mode_not N: the relay's stats no longer say N times "synmode".
syn_mode_not() { [ "$(grep -c synmode "$T/ta.stats")" != "$1" ]; }

udp_part() {
	fam=$1 addr=$2
	part "UDP $fam" || return 0
	# Of 3 datagrams each way the relay drops one at most: one comes back.
	cx -u -c 3 -i 50ms -W 2s $addr 7007 | grep -q ', [1-3] received' ||
		{ no_path UDP; return 0; }
	a0=$(dropped ta udp) b0=$(dropped tb udp)
	out=$(cx -u -c 28 -i 50ms -W 2s $addr 7007); rc=$?
	a=$(( $(dropped ta udp) - a0 )) b=$(( $(dropped tb udp) - b0 ))
	echo "$out"
	echo "relay dropped $a requests, $b replies"
	# 28 probes and every 10th datagram dropped each way: 2 or 3
	# requests, and 2 or 3 of the 25 or 26 replies; a loss of 4, 5 or 6
	# in 28 is never whole: one decimal.
	[ $a -ge 2 ] && [ $a -le 3 ] && [ $b -ge 2 ] && [ $b -le 3 ] ||
		fail "UDP $fam: the relay dropped $a and $b"
	got=$((28 - a - b))
	# anyecho(1): whole numbers where whole, else one decimal.
	loss=$(awk -v l=$((a + b)) 'BEGIN { p = l * 100 / 28; if (p == int(p)) printf "%d", p; else printf "%.1f", p }')
	expect_eq "UDP $fam exit" $rc 1
	expect_in "UDP $fam loss" "$out" "28 sent, $got received, 0 mismatched, $loss% loss"
	min=$(echo "$out" | sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/.*|\1|p')
	ms_ge "$min" 50 || fail "UDP $fam: min RTT $min ms through a 50 ms relay"
	echo "ok: UDP $fam: relay dropped $a + $b of 28, anyecho shows $got received, $loss% loss"
}

tcp_part IPv4 198.51.100.2
tcp_part IPv6 2001:db8:2::2
udp_part IPv4 198.51.100.2
udp_part IPv6 2001:db8:2::2
echo ok

#!/bin/sh
# DNS per family (issue 9, item 2): each name's AAAA and A outcome in -v,
# -A and --json, against a DNS server that drops AAAA, answers SERVFAIL or
# REFUSED (tests/integ/dnsresp.py), and dnsmasq for NXDOMAIN and NODATA.
# Once connected, a pending lookup is cancelled, not waited for; SERVFAIL
# and REFUSED are named as such (c-ares 1.18 reports both as "connection
# refused"); every message is printed once; -A shows the failed family.
. "$top_srcdir/tests/integ/lib.sh"
need ipv4 "the DNS servers listen on 127.0.0.1"

start_server -l 127.0.0.1:0
P=$(port IPv4 stream)

# json_check FILE PYTHON...: the JSON lines of FILE as objs, then the checks.
json_check() {
	_f=$1; shift
	if ! can python3; then
		echo "note: JSON checks not run: $why"
		return 0
	fi
	bounded 30 python3 -c "import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
dns = {o['query']: o for o in objs if o['type'] == 'dns'}
$*" "$_f" || fail "JSON checks on $(cat "$_f")"
}

if part "misbehaving DNS" python3; then
	bounded 300 python3 "$top_srcdir/tests/integ/dnsresp.py" "$T/dport" "$T/dlog" 240 &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/dport" || hard "dnsresp.py did not start"
	D=127.0.0.1:$(cat "$T/dport")
	a() { bounded 60 "$ANYECHO" --dns-server "$D" -c 1 "$@" 2>&1; }

	# AAAA dropped, A answered: connected over IPv4, the AAAA lookup is
	# cancelled, not waited for (it used to sit out the 4 s DNS timeout).
	t0=$(now_ms)
	out=$(a --dns-timeout 4s -v noaaaa.test $P); rc=$?
	el=$(($(now_ms) - t0))
	expect_eq "noaaaa exit" $rc 0
	[ $el -lt 2500 ] || fail "noaaaa took $el ms: waited for the dropped AAAA? $out"
	expect_in "noaaaa -v AAAA" "$out" "dns noaaaa.test AAAA: cancelled after"
	expect_in "noaaaa -v A" "$out" "dns noaaaa.test A: 127.0.0.1 in "
	expect_in "noaaaa -v A server" "$out" "ms from $D"
	a --dns-timeout 4s --json noaaaa.test $P >"$T/j" || fail "noaaaa --json: $(cat "$T/j")"
	json_check "$T/j" "
assert dns['AAAA']['status'] == 'cancelled' and dns['AAAA']['addresses'] == [], dns
assert dns['A']['status'] == 'ok' and dns['A']['addresses'] == ['127.0.0.1'], dns
assert dns['A']['server'] == '$D' and isinstance(dns['A']['time_ms'], float), dns
assert dns['A']['name'] == 'noaaaa.test' and dns['A']['target'] == 'noaaaa.test', dns
assert dns['A']['family'] == 'IPv4' and dns['AAAA']['family'] == 'IPv6', dns"

	# -A waits for both lookups: the AAAA timeout is a row and a failure.
	out=$(a --dns-timeout 1s -A noaaaa.test $P); rc=$?
	expect_eq "-A noaaaa exit" $rc 1
	expect_in "-A noaaaa v4" "$out" "IPv4: 1 of 1 address reachable"
	expect_in "-A noaaaa row" "$out" "DNS timeout"
	expect_in "-A noaaaa v6" "$out" "IPv6: no address (AAAA: DNS server $D did not answer within 1000 ms"

	# SERVFAIL and REFUSED by name, once, exit 3.
	out=$(a servfail.test $P); rc=$?
	expect_eq "servfail exit" $rc 3
	expect_eq "servfail message" "$out" \
		"anyecho: servfail.test: DNS server $D failed to resolve servfail.test (SERVFAIL)"
	out=$(a refused.test $P); rc=$?
	expect_eq "refused exit" $rc 3
	expect_eq "refused message" "$out" \
		"anyecho: refused.test: DNS server $D refused to resolve refused.test"
	out=$(a -v servfail.test $P)
	expect_in "-v servfail AAAA" "$out" "dns servfail.test AAAA: SERVFAIL in "
	expect_in "-v servfail A" "$out" "dns servfail.test A: SERVFAIL in "
	a --json refused.test $P >"$T/j"
	json_check "$T/j" "
assert dns['AAAA']['status'] == 'refused' and dns['A']['status'] == 'refused', dns
assert dns['A']['server'] == '$D', dns"

	# AAAA SERVFAIL, A fine: the race reaches IPv4 and warns; -A shows
	# the IPv6 row with its cause and fails.
	out=$(a v6servfail.test $P); rc=$?
	expect_eq "v6servfail exit" $rc 0
	expect_in "v6servfail warning" "$out" "anyecho: v6servfail.test: AAAA lookup failed: DNS server $D failed to resolve v6servfail.test (SERVFAIL)"
	out=$(a -A v6refused.test $P); rc=$?
	expect_eq "-A v6refused exit" $rc 1
	expect_in "-A v6refused row" "$out" "DNS REFUSED"
	expect_in "-A v6refused v6" "$out" "IPv6: no address (AAAA: DNS server $D refused to resolve v6refused.test)"
	expect_in "-A v6refused v4" "$out" "IPv4: 1 of 1 address reachable"
	# The lookup's row has every column, a "-" for its source: FAM and
	# the rest line up with the header and the address rows.
	col() { echo "$out" | awk -v p="$1" -v w="$2" 'index($0, p) == 1 { print index($0, w); exit }'; }
	expect_eq "-A lookup row FAM column" "$(col '(AAAA lookup)' ' IPv6 ')" "$(col ADDRESS ' FAM ')"
	expect_eq "-A lookup row ERROR column" "$(col '(AAAA lookup)' 'DNS REFUSED')" "$(col ADDRESS ERROR)"
	expect_eq "-A address row FAM column" "$(col 127.0.0.1: ' IPv4 ')" "$(col ADDRESS ' FAM ')"
	echo "$out" | grep -q '^(AAAA lookup)  *-  *IPv6 ' || fail "-A lookup row: no source cell: $out"
	# Answers that are no path to the name (attack finding 04) are not
	# probed: an AAAA ::ffff:127.0.0.1 is IPv4 under an IPv6 label (it was
	# reported as "IPv6 stream", exit 0 with -6, the server listening on
	# IPv4 only); 0.0.0.0 and :: (a DNS blocker's answer) reach this host
	# (reported reachable). Each is a failed attempt of its family, with the
	# cause, in text, -A rows and JSON.
	mapped="DNS answered ::ffff:127.0.0.1, a v4-mapped address: not an IPv6 path"
	out=$(a -6 mapped.test $P); rc=$?
	expect_eq "-6 mapped exit" $rc 1
	expect_in "-6 mapped" "$out" "anyecho: mapped.test: $mapped"
	out=$(a mapped.test $P); rc=$?
	expect_eq "mapped exit" $rc 4
	expect_in "mapped" "$out" "anyecho: mapped.test: IPv6 failed ($mapped); reached over IPv4"
	out=$(a -A mapped.test $P); rc=$?
	expect_eq "-A mapped exit" $rc 1
	expect_in "-A mapped v6" "$out" "IPv6: 0 of 1 address reachable ($mapped)"
	expect_in "-A mapped v4" "$out" "IPv4: 1 of 1 address reachable"
	a --json mapped.test $P | grep "^{" >"$T/j" # (the warning is on stderr)
	json_check "$T/j" "
att = [o for o in objs if o['type'] == 'attempt']
assert att[0]['address'] == '::ffff:127.0.0.1' and att[0]['outcome'] == 'failed', att
assert att[0]['error'] == '$mapped', att"
	blocked4="DNS answered 0.0.0.0, unspecified: the name is blocked or unset"
	blocked6="DNS answered ::, unspecified: the name is blocked or unset"
	out=$(a -4 blocked.test $P); rc=$?
	expect_eq "-4 blocked exit" $rc 1
	expect_in "-4 blocked" "$out" "anyecho: blocked.test: $blocked4"
	for o in -z -u; do
		out=$(a $o blocked.test $P); rc=$?
		expect_eq "blocked $o exit" $rc 1
		expect_in "blocked $o" "$out" "anyecho: blocked.test: $blocked6; $blocked4"
	done
	out=$(a -A blocked.test $P); rc=$?
	expect_eq "-A blocked exit" $rc 1
	expect_in "-A blocked v6" "$out" "IPv6: 0 of 1 address reachable ($blocked6)"
	expect_in "-A blocked v4" "$out" "IPv4: 0 of 1 address reachable ($blocked4)"
	a -A --json blocked.test $P >"$T/j"
	json_check "$T/j" "
s = [o for o in objs if o['type'] == 'summary']
assert sorted(o['error'] for o in s) == sorted(['$blocked4', '$blocked6']), s
assert not any(o['reachable'] for o in s), s"

	# Each lookup takes only the family it asked for, in every mode (attack
	# finding 08): an AAAA answer carrying an A record and an A answer
	# carrying an AAAA gave --resolve and anyechod -n both addresses, while
	# probing found none (exit 3).
	out=$(a --resolve cross.test); rc=$?
	expect_eq "--resolve cross exit" $rc 3
	expect_eq "--resolve cross" "$out" "anyecho: cross.test: no address for cross.test"
	out=$(a cross.test $P); rc=$?
	expect_eq "cross exit" $rc 3
	out=$(bounded 30 "$ANYECHOD" -n --dns-server "$D" -l "cross.test:$P" 2>&1); rc=$?
	[ $rc -ne 0 ] || fail "anyechod -n took cross.test: $out"
	expect_in "anyechod -n cross" "$out" "cross.test:$P: no address for cross.test"
	# ... and a name of both families still gives both, AAAA's first.
	out=$(a --resolve -t mapped.test) || fail "--resolve mapped: $out"
	expect_eq "--resolve mapped" "$(echo "$out" | awk '{ print $4 }' | tr '\n' ' ')" \
		"[::ffff:127.0.0.1]:7 127.0.0.1:7 "

	a -A --json v6servfail.test $P >"$T/j"
	json_check "$T/j" "
assert dns['AAAA']['status'] == 'servfail' and dns['A']['status'] == 'ok', dns
fam = {o['family']: o for o in objs if o['type'] == 'family'}
assert fam['IPv6']['total'] == 0 and fam['IPv6']['dns'] == 'servfail', fam
assert fam['IPv4']['reachable'] == 1 and fam['IPv4']['dns'] == 'ok', fam
assert fam['IPv6']['errors'] == [] and fam['IPv4']['errors'] == [], fam
att = [o for o in objs if o['type'] == 'attempt']
assert [(a['address'], a['attempt'], a['outcome'], a['error']) for a in att] == \
    [('127.0.0.1', 1, 'connected', None)], att"
fi

# -A reports every address's connection attempt, as the race does: a -v
# line each and an `attempt` record, numbered in the resolver's order
# (localhost: ::1, then 127.0.0.1; the server listens on IPv4 only). The
# family record's errors are an array of strings.
if part "-A attempts" ipv6; then
	out=$(bounded 60 "$ANYECHO" -A -v -c 1 localhost $P 2>&1); rc=$?
	expect_eq "-A localhost exit" $rc 1
	expect_in "-A attempt 1" "$out" \
		"anyecho: localhost: attempt 1 to ::1 port $P (IPv6 stream) at +0.0 ms: failed after "
	expect_in "-A attempt 1 cause" "$out" " ms: connection refused by ::1 port $P"
	expect_in "-A attempt 2" "$out" "anyecho: localhost: attempt 2 to 127.0.0.1 port $P (IPv4 stream) at +"
	expect_in "-A attempt 2 outcome" "$out" " ms: connected in "
	expect_in "-A family line" "$out" "IPv6: 0 of 1 address reachable (connection refused)"
	bounded 60 "$ANYECHO" -A --json -c 1 localhost $P >"$T/j"
	json_check "$T/j" "
att = [o for o in objs if o['type'] == 'attempt']
assert [(a['address'], a['attempt'], a['outcome']) for a in att] == \
    [('::1', 1, 'failed'), ('127.0.0.1', 2, 'connected')], att
assert att[0]['error'] == 'connection refused by ::1 port $P' and att[1]['error'] is None, att
assert att[0]['start_ms'] == 0 and att[1]['start_ms'] >= 0 and att[0]['time_ms'] >= 0, att
fam = {o['family']: o for o in objs if o['type'] == 'family'}
assert fam['IPv6']['errors'] == ['connection refused'], fam
assert fam['IPv4']['errors'] == [], fam"
	# Datagrams: an address is reached at its first reply, as in the
	# race, not when connect() named the peer: ::1 answers only ICMP
	# port unreachable, so its attempt failed and it has no connect time
	# (it said "connected in 0.0 ms").
	out=$(bounded 60 "$ANYECHO" -A -u -v -c 1 -W 1s localhost $P 2>&1); rc=$?
	expect_eq "-A -u localhost exit" $rc 1
	expect_in "-A -u attempt 1" "$out" \
		"anyecho: localhost: attempt 1 to ::1 port $P (IPv6 dgram) at +0.0 ms: failed after "
	expect_in "-A -u attempt 2" "$out" "anyecho: localhost: attempt 2 to 127.0.0.1 port $P (IPv4 dgram) at +"
	echo "$out" | grep -q "^\[::1\]:$P .* IPv6 dgram  *- " || fail "-A -u: a connect time for ::1: $out"
	bounded 60 "$ANYECHO" -A -u --json -c 1 -W 1s localhost $P >"$T/j"
	json_check "$T/j" "
att = {a['address']: a for a in objs if a['type'] == 'attempt'}
assert att['::1']['outcome'] == 'failed' and att['::1']['error'], att
assert att['127.0.0.1']['outcome'] == 'connected' and att['127.0.0.1']['error'] is None, att
sums = {o['address']: o for o in objs if o['type'] == 'summary'}
assert sums['::1']['connect_ms'] is None and not sums['::1']['reachable'], sums
assert isinstance(sums['127.0.0.1']['connect_ms'], float), sums
assert abs(sums['127.0.0.1']['connect_ms'] - att['127.0.0.1']['time_ms']) < 0.01, (sums, att)"
fi

if part "dnsmasq" dnsmasq; then
	start_dnsmasq --host-record=v4only.test,127.0.0.1
	a() { bounded 60 "$ANYECHO" --dns-server "127.0.0.1:$DNS_PORT" -c 1 "$@" 2>&1; }
	# NXDOMAIN: one message, no empty table.
	out=$(a nx.test $P); rc=$?
	expect_eq "nx exit" $rc 3
	expect_eq "nx message" "$out" "anyecho: nx.test: name not found: nx.test"
	out=$(a -A nx.test $P); rc=$?
	expect_eq "-A nx exit" $rc 3
	expect_eq "-A nx" "$out" "anyecho: nx.test: name not found: nx.test"
	a --json nx.test $P >"$T/j"
	json_check "$T/j" "
assert dns['AAAA']['status'] == 'nxdomain' and dns['A']['status'] == 'nxdomain', dns"
	# NODATA: said, and no failure.
	out=$(a -v v4only.test $P) || fail "v4only: $out"
	expect_in "-v NODATA" "$out" "dns v4only.test AAAA: NODATA in "
	out=$(a -A v4only.test $P) || fail "-A v4only: $out"
	expect_in "-A NODATA" "$out" "IPv6: no address (AAAA: no IPv6 address for v4only.test)"
	a --json v4only.test $P >"$T/j"
	json_check "$T/j" "
assert dns['AAAA']['status'] == 'nodata' and dns['A']['status'] == 'ok', dns"
fi
stop_server || fail "server exit status $?"
echo ok

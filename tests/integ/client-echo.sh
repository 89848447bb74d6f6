#!/bin/sh
# anyecho against anyechod over every family and type: probes (stream,
# datagram, seqpacket), --all, pipe mode with a file bigger than the
# window, and --json output parsed and checked field by field. A family
# the machine lacks is skipped alone; the unix sockets always run.
. "$top_srcdir/tests/integ/lib.sh"

# One server for every family the machine has; "localhost" gives both
# families the same port.
v4=no v6=no
part IPv4 ipv4 && v4=yes
part IPv6 ipv6 && v6=yes
part unix
case $v4$v6 in
yesyes) set -- -l localhost:0 ;;
yesno) set -- -l 127.0.0.1:0 ;;
noyes) set -- -l '[::1]:0' ;;
*) set -- ;;
esac
start_server "$@" -l "unix:$T/s" -l "unix-dgram:$T/d" -l "unix-seqpacket:$T/q"
P=$(port IPv4 stream)
[ $v4$v6 = yesyes ] && expect_eq "one port for both families" "$(port IPv6 stream)" "$P"
[ $v4 = yes ] || P=$(port IPv6 stream)

c() { bounded 60 "$ANYECHO" -c 3 -i 20ms -W 2s "$@"; }
st="unix:$T/s unix-seqpacket:$T/q" dg="unix:$T/d"
[ $v4 = yes ] && st="$st 127.0.0.1,$P" dg="$dg 127.0.0.1,$P"
[ $v6 = yes ] && st="$st ::1,$P [::1]:$P" dg="$dg ::1,$P"
for t in $st; do
	out=$(c $(echo "$t" | tr , ' ')) || fail "stream $t: $out"
	expect_in "stream $t" "$out" "3 sent, 3 received, 0 mismatched, 0% loss"
done
for t in $dg; do
	out=$(c -u -s 1000 $(echo "$t" | tr , ' ')) || fail "dgram $t: $out"
	expect_in "dgram $t" "$out" "3 sent, 3 received, 0 mismatched, 0% loss"
done
if [ $v4 = yes ]; then
	out=$(c -s 65507 -u 127.0.0.1 $P) || fail "largest IPv4 datagram: $out"
	out=$(c -s 1000000 127.0.0.1 $P) || fail "1 MB stream probes: $out"
	out=$(c -s 1M 127.0.0.1 $P) || fail "-s 1M: $out"
	expect_in "-s 1M" "$out" "3 sent, 3 received, 0 mismatched, 0% loss"
	# --pmtu keeps its connect time (a merge once made it null)
	out=$(bounded 60 "$ANYECHO" --pmtu --json -4 127.0.0.1 $P) || fail "--pmtu: $out"
	echo "$out" | grep '"type":"summary"' | grep -q '"connect_ms":[0-9]' ||
		fail "--pmtu summary without connect_ms: $out"
fi

if part "localhost over both families" ipv4 ipv6; then
	# Happy Eyeballs on localhost: IPv6 first, and it wins.
	out=$(c localhost $P) || fail "localhost: $out"
	expect_in "localhost goes IPv6 first" "$out" "from [::1]:$P (IPv6 stream)"

	out=$(c -A localhost $P) || fail "--all: $out"
	expect_in "--all v6" "$out" "IPv6: 1 of 1 address reachable"
	expect_in "--all v4" "$out" "IPv4: 1 of 1 address reachable"
	[ "$(echo "$out" | awk '{ if (length($0) > 100) print }')" = "" ] || fail "line over 100 columns"
fi

# Pipe mode: 3 MB (three times the window) in, the same 3 MB out.
head -c 3000000 /dev/urandom >"$T/in"
bounded 60 "$ANYECHO" --stdin "unix:$T/s" <"$T/in" >"$T/out" || fail "pipe mode exit"
cmp -s "$T/in" "$T/out" || fail "pipe mode: output differs from input"
if [ $v4 = yes ]; then
	bounded 60 "$ANYECHO" --stdin 127.0.0.1 $P <"$T/in" >"$T/out" || fail "pipe mode exit, TCP"
	cmp -s "$T/in" "$T/out" || fail "pipe mode over TCP: output differs from input"
fi
printf 'line one\nline two\n' | bounded 60 "$ANYECHO" - "unix:$T/s" >"$T/out2" || fail "pipe from a pipe"
expect_eq "pipe from a pipe" "$(cat "$T/out2")" "$(printf 'line one\nline two')"

if ! part "JSON" ipv4 ipv6 python3; then
	stop_server || fail "server exit status $?"
	echo ok
	exit 0
fi
# JSON: every line an object; the fields and their types as documented.
bounded 60 "$ANYECHO" --json -A -c 2 -i 10ms localhost $P >"$T/json" || fail "--json exit"
bounded 60 "$ANYECHO" --json -u -c 2 -i 10ms 127.0.0.1 $P >>"$T/json" || fail "--json -u exit"
bounded 60 python3 - "$T/json" "$P" <<'PY' || fail "JSON"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
probes = [o for o in objs if o["type"] == "probe"]
sums = [o for o in objs if o["type"] == "summary"]
fams = [o for o in objs if o["type"] == "family"]
atts = [o for o in objs if o["type"] == "attempt"]
assert all(isinstance(o["timestamp"], float) for o in objs), objs
# -A: an attempt per address, in the resolver's order; then -u's one.
assert [(a["target"], a["address"], a["attempt"], a["outcome"]) for a in atts] == \
    [("localhost", "::1", 1, "connected"), ("localhost", "127.0.0.1", 2, "connected"),
     ("127.0.0.1", "127.0.0.1", 1, "connected")], atts
assert atts[0]["start_ms"] == 0.0 and atts[2]["start_ms"] == 0.0, atts
assert all(a["error"] is None and a["time_ms"] >= 0 for a in atts), atts
# -A's summaries agree with their attempt records: one attempt each, with
# its handshake time; no family goes first where nothing races.
for s in sums[:2]:
    assert s["attempts"] == 1 and isinstance(s["handshake_ms"], float), s
    assert s["preferred_family"] is None, s
assert len(probes) == 6 and len(sums) == 3 and len(fams) == 2, (len(probes), len(sums), len(fams))
for p in probes:
    assert set(p) == {"type", "target", "address", "port", "family", "protocol", "seq", "bytes",
                      "rtt_ms", "status", "error", "retransmitted", "timestamp"}, p
    assert p["status"] == "ok" and p["error"] is None and p["bytes"] == 64, p
    assert isinstance(p["rtt_ms"], float) and 0 <= p["rtt_ms"] < 2000, p
    assert p["port"] == int(sys.argv[2]) and p["seq"] in (1, 2), p
for s in sums:
    for k in ("reachable", "connect_ms", "sent", "received", "mismatched", "duplicates", "late",
              "loss_pct", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_mdev_ms", "error"):
        assert k in s, (k, s)
    assert s["reachable"] is True and s["sent"] == 2 and s["received"] == 2, s
    assert s["loss_pct"] == 0.0 and s["rtt_min_ms"] <= s["rtt_avg_ms"] <= s["rtt_max_ms"], s
assert {(s["family"], s["protocol"]) for s in sums} == {("IPv6", "stream"), ("IPv4", "stream"),
                                                       ("IPv4", "dgram")}
assert {(f["family"], f["reachable"], f["reachable_count"], f["total"]) for f in fams} == \
    {("IPv6", True, 1, 1), ("IPv4", True, 1, 1)}
assert all(f["errors"] == [] for f in fams), fams
print("ok: %d JSON objects checked" % len(objs))
PY
stop_server || fail "server exit status $?"
echo ok

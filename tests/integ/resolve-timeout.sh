#!/bin/sh
# The resolver against a DNS server that never answers: a name lookup must
# fail with the timeout error within the configured time (not c-ares'
# default), naming the server; numeric addresses, localhost and unix paths
# must resolve at once without sending a single query.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the silent DNS server is tests/integ/silentdns.py"
need ipv4 "the DNS server listens on 127.0.0.1"

bounded 120 python3 "$top_srcdir/tests/integ/silentdns.py" "$T/port" "$T/queries" 60 &
at_exit "kill $! 2>/dev/null"
wait_for 10 test -s "$T/port" || hard "silent DNS server did not start"
PORT=$(cat "$T/port")
: >"$T/queries"

# 1. No query for literals, scope ids, localhost or unix paths.
t0=$(now_ms)
out=$(bounded 30 "$ANYECHO" --resolve -t --dns-server "127.0.0.1:$PORT" --dns-timeout 4s \
	127.0.0.1 '[::1]:7' 2001:db8::5 'fe80::1%lo' localhost unix:/x 2>&1) ||
	fail "numeric lookups failed: $out"
t1=$(now_ms)
expect_eq "entries" "$(echo "$out" | wc -l)" 7
expect_in "literal" "$out" "IPv6  stream    [2001:db8::5]:7"
expect_in "scope" "$out" "[fe80::1%lo]:7"
# One lookup sent to the silent server would cost the whole 4 s timeout.
[ $((t1 - t0)) -lt 3000 ] || fail "numeric lookups took $((t1 - t0)) ms"

# 2. A name times out within the configured 800 ms, naming the server.
t0=$(now_ms)
out=$(bounded 30 "$ANYECHO" --resolve --dns-server "127.0.0.1:$PORT" --dns-timeout 800ms slow.test 2>&1)
rc=$?
t1=$(now_ms)
expect_eq "exit status" "$rc" 3
expect_in "message" "$out" "slow.test: DNS server 127.0.0.1:$PORT did not answer within 800 ms for slow.test"
el=$((t1 - t0))
# The upper bound leaves room for a loaded machine; c-ares' own default
# would wait 5 s or more.
[ "$el" -ge 700 ] && [ "$el" -lt 2500 ] || fail "timeout took $el ms, configured 800"

# The queries that reached the server: only slow.test's.
wait_for 5 grep -q slow.test "$T/queries" || fail "slow.test query never reached the server"
bad=$(grep -v '^slow\.test$' "$T/queries")
[ -z "$bad" ] || fail "queries sent for numeric lookups: $bad"
echo "ok: numeric lookups sent no query; name timed out in $el ms"

#!/bin/sh
# --dualstack with port 0 (any port): one [::] socket per type, which takes
# IPv4 too, as with a fixed port. The "covered by [::]" check compared the
# [::] socket's port with 0, and opened a second 0.0.0.0 socket on another
# port. Where IPv6 is unavailable, 0.0.0.0 must still be opened.
. "$top_srcdir/tests/integ/lib.sh"

# types TYPES...: the port file after starting with these options, kept
# as $T/seen (anyechod removes its own when it stops).
types() {
	start_server --dualstack -p 0 --threads 1 "$@"
	cp "$T/ports" "$T/seen"
	stop_server || fail "$*: exit status $?"
}

if part "one dual-stack socket" ipv4 ipv6; then
	for opts in "-t" "-u" ""; do # neither: both (-t -u is refused)
		# shellcheck disable=SC2086 # the options are words
		types $opts
		want=$(for t in ${opts:--t -u}; do
			case $t in -t) echo "IPv6 stream ::" ;; -u) echo "IPv6 dgram ::" ;; esac
		done)
		expect_eq "$opts: sockets" "$(awk '{print $1, $2, $3}' "$T/seen")" "$want"
		expect_eq "$opts: one port" "$(awk '{print $4}' "$T/seen" | sort -u | wc -l)" 1
	done
	# Both types, one port, and IPv4 reaches it.
	start_server --dualstack -p 0 --threads 1
	need python3 "the client is tests/integ/peer.py"
	$PEER stream IPv4 stream 127.0.0.1 "$(port IPv6 stream)" 1000 || fail "IPv4 over [::] port 0"
	$PEER dgram IPv4 127.0.0.1 "$(port IPv6 dgram)" 0,100 || fail "UDP IPv4 over [::] port 0"
	stop_server || fail "exit status $?"
fi

if part "no IPv6: the IPv4 wildcard" ipv4; then
	build_shim
	rm -f "$T/ports"
	# shellcheck disable=SC2086 # SHIM_ENV is words
	env $SHIM_ENV AE_SHIM_NO_IPV6=1 "$ANYECHOD" --dualstack -p 0 --threads 1 \
		--port-file "$T/ports" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 server_up || hard "anyechod did not start: $(cat "$T/server.log")"
	cp "$T/ports" "$T/seen" 2>/dev/null
	stop_server || fail "no IPv6: exit status $?: $(cat "$T/server.log")"
	expect_eq "sockets without IPv6" "$(awk '{print $1, $2, $3}' "$T/seen")" \
		"IPv4 stream 0.0.0.0
IPv4 dgram 0.0.0.0"
fi
echo ok

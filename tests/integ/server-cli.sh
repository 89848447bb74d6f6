#!/bin/sh
# Every command-line error of anyechod: one line naming the value and the
# reason, the documented exit status (2 usage, 1 runtime, 75 DNS did not
# answer), nothing left
# running and no socket left bound. Also -n, --help and --version.
. "$top_srcdir/tests/integ/lib.sh"

check() { # STATUS MESSAGE ARGS...
	_st=$1 _want=$2; shift 2
	_out=$(bounded 10 "$ANYECHOD" "$@" 2>&1); _rc=$?
	expect_eq "exit of anyechod $*" "$_rc" "$_st"
	expect_in "message of anyechod $*" "$_out" "$_want"
}

part "command-line errors"
long=$(printf 'p%.0s' $(seq 1 120))
check 2 "port 70000 out of range (0-65535)" -p 70000
check 2 "endpoint host:99999: port 99999 out of range" -l host:99999
check 2 "endpoint unix:/$long: unix path is 121 bytes, limit is 107" -l "unix:/$long"
check 2 "endpoint [::1: missing ']'" -l '[::1'
check 2 "bad --max-conns '0': expected a number from 1 to 10000000" --max-conns 0
check 2 "bad --threads 'x': expected a number" --threads x
check 2 "bad --idle-timeout 'soon': expected a time" --idle-timeout soon
check 2 "bad DNS server '' in ',': expected ip[:port]" --dns-server , -l foo.invalid:7
check 2 "bad DNS server '1.2.3.4:99999': port 99999 out of range (1-65535)" --dns-server 1.2.3.4:99999 -n
check 2 "bad DNS server list '': expected ip[:port]" --dns-server '' -n
check 2 "bad --unix-mode '999': expected an octal mode" --unix-mode 999
check 2 "bad --buffer-size '10': expected a size from 512 to 67108864 bytes" --buffer-size 10
check 2 "bad --buffer-size '65M': expected a size from 512 to 67108864 bytes" --buffer-size 65M
check 2 "bad --buffer-size '16KB': expected a size" --buffer-size 16KB
check 2 "bad --max-owed '1T': expected a size from 0 to" --max-owed 1T
check 2 "bad --max-owed '1K': expected 0 (no limit) or at least 64K" --max-owed 1K
check 2 "--max-owed (1048576) is less than --buffer-size (2097152)" --max-owed 1M --buffer-size 2097152
check 2 "--max-owed (1048576) is less than --buffer-size (2097152)" --max-owed 1M --buffer-size 2M
# Every size option takes the same syntax (--max-owed's).
for size in 16K 16k 512 64M 67108864; do
	out=$("$ANYECHOD" -n -p 7007 --buffer-size $size 2>&1) || fail "--buffer-size $size refused: $out"
done
check 2 "bad --stall-timeout 'later': expected a time" --stall-timeout later
check 2 "bad --max-conns-per-source '-1': expected a number from 0 to" --max-conns-per-source -1
check 2 "unexpected argument 'extra' (endpoints go with -l)" extra
check 2 "usage: anyechod" --no-such-option
check 2 "endpoint ::1: ::1 is an IPv6 address, but only IPv4 was asked for" -4 -l ::1
# No DNS server reachable: temporary (75), not a usage error.
check 75 "endpoint nx.invalid: " -l nx.invalid --dns-server 127.0.0.1:9 --dns-timeout 300
# One family, one type, or neither (both): as anyecho, never the last one
# typed (-4 -6 served IPv6 only), nor both read as "only".
check 2 "-4 and -6: choose one" -4 -6 -n -l localhost:7
check 2 "-4 and -6: choose one" -6 -4 -n -l localhost:7
check 2 "-t and -u: choose one" -t -u -n -l 127.0.0.1:7
check 2 "-t and -u: choose one" -u -t -n -l 127.0.0.1:7
out=$(bounded 10 "$ANYECHOD" -4 -4 -t -t -n -l 127.0.0.1:7 2>&1) || fail "-4 -4 -t -t refused: $out"
# The value quoted: "--user : no such user" hid that it was empty.
check 2 "bad --user '': empty" --user '' -l 127.0.0.1:0 -t
check 2 "bad --threads '257': expected a number from 1 to 256" --threads 257
out=$(bounded 10 "$ANYECHOD" --threads 256 -n -l 127.0.0.1:7 2>&1) || fail "--threads 256 refused: $out"
# A port file that cannot be written: refused before anything is bound,
# not found out after the "listening on" lines (review 5, attack5 F4).
: >"$T/plain"
for pf in "" "$T" "$T/" "$T/no-dir/ports" "$T/plain/ports"; do
	case $pf in
	"") why="empty" ;;
	*/) why="names a directory (ends in '/')" ;;
	"$T") why="is a directory" ;;
	*no-dir*) why="its directory $T/no-dir: " ;;
	*) why="$T/plain is not a directory" ;;
	esac
	check 2 "bad --port-file '$pf': $why" --port-file "$pf" -l 127.0.0.1:0 -t
	case $_out in *listening*) fail "--port-file '$pf': listening before failing: $_out" ;; esac
done
# A name whose temporary name (name.XXXXXX) is longer than a file name may
# be passed the check, and failed once bound: "File name too long", exit 1
# (attack 6, F5). The longest that fits is taken.
max=$(getconf NAME_MAX "$T" 2>/dev/null) || max=255
fits=$(printf 'p%.0s' $(seq 1 $((max - 7))))
check 2 "bad --port-file '$T/${fits}q': file name too long: $((max - 6)) bytes" \
	--port-file "$T/${fits}q" -l "unix:$T/lp"
expect_eq "lines for a --port-file name too long" "$(printf '%s\n' "$_out" | wc -l)" 1
[ ! -e "$T/lp" ] || fail "bound before refusing a --port-file name too long: $_out"
"$ANYECHOD" -l "unix:$T/lf" -q --port-file "$T/$fits" 2>"$T/fits.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/$fits" || fail "no port file of $((max - 7)) bytes: $(cat "$T/fits.log")"
stop_server || fail "exit status $? with a port file of $((max - 7)) bytes: $(cat "$T/fits.log")"
check 1 "--user 'no-such-user-here': no such user" -l 127.0.0.1:0 -t --user no-such-user-here

# An endpoint that fails for any reason but its family or address missing
# here stops the start, also beside one that binds (review 8: the daemon
# served the other and wrote its port file).
part "an endpoint that cannot be opened"
rm -f "$T/ports"
check 1 "cannot listen on unix stream: unix:$T/no/such/dir/x.sock: No such file or directory" \
	-l "unix:$T/ok.sock" -l "unix:$T/no/such/dir/x.sock" --port-file "$T/ports"
[ -e "$T/ports" ] && fail "port file written by a server that did not start"
[ -e "$T/ok.sock" ] && fail "the other endpoint's socket left behind"

# The default --max-conns leaves each worker's descriptors out of the
# limit: 512 - 64 - 4 x 32 (attack 8: 448, and 32 workers' loops took 96
# of the 64 spare).
if (ulimit -n 512) 2>/dev/null; then
	out=$( (ulimit -n 512 && timeout 3 "$ANYECHOD" -v -l "unix:$T/mc.sock" --threads 32) 2>&1)
	expect_in "default --max-conns with 32 threads" "$out" "32 thread(s), max 320 connections"
else
	skip_part "default --max-conns" "cannot set the descriptor limit to 512 here"
fi

# An address that is not ours. In a namespace with no IPv4 address at all
# (loopback down) the kernel lets any address be bound: nothing to test.
if "$NETPROBE" bind 192.0.2.1 0 2>/dev/null; then
	skip_part "address not available" "192.0.2.1 can be bound here (no IPv4 address configured?)"
elif part "address not available" ipv4; then
	check 1 "192.0.2.1:0: address not available on this host" -l 192.0.2.1:0 -t
	check 1 "nothing to listen on: all 1 endpoint(s) failed" -l 192.0.2.1:0 -t
	# One endpoint failing among others: a warning, and the rest is served.
	start_server -l 192.0.2.1:0 -l 127.0.0.1:0 -t
	expect_in "warning" "$(cat "$T/server.log")" "cannot listen on IPv4 stream: 192.0.2.1:0: address not available"
	out=$(bounded 30 "$ANYECHO" -c 1 127.0.0.1 "$(port IPv4 stream)" 2>&1) || fail "echo: $out"
	stop_server || fail "exit status $?"
fi

# Two -l of ours that overlap (a wildcard and an address of it, on one
# port and type) are a usage error that says so, before anything is bound:
# "address already in use" is for another process holding the address.
if part "own endpoints overlap" ipv4; then
	P=$(free_port)
	check 2 "endpoint 127.0.0.1:$P overlaps *:$P given before (IPv4 stream 127.0.0.1:$P is within 0.0.0.0:$P)" \
		-4 -t -l "*:$P" -l 127.0.0.1:$P
	check 2 "endpoint *:$P overlaps 127.0.0.1:$P given before (IPv4 dgram 0.0.0.0:$P takes 127.0.0.1:$P)" \
		-4 -u -l 127.0.0.1:$P -l "*:$P"
	check 2 "endpoint 127.0.0.1 overlaps * given before" -n -4 -p $P -l '*' -l 127.0.0.1
	check 2 "endpoint unix:$T/u overlaps unix-dgram:$T/u given before (unix:$T/u holds one socket, not a dgram one and a stream one)" \
		-n -l unix-dgram:$T/u -l unix:$T/u
	check 2 "endpoint unix:$T//u overlaps unix:$T/u given before (unix:$T/u and unix:$T//u name one socket file)" \
		-n -l unix:$T/u -l unix:$T//u
	out=$(cd "$T" && bounded 10 "$ANYECHOD" -n -l unix:u -l unix:$T/u -l unix:u 2>&1); rc=$?
	expect_eq "relative and absolute unix path exit" $rc 2
	expect_in "relative and absolute unix path" "$out" "name one socket file"
	out=$(bounded 10 "$ANYECHOD" -4 -t -l "*:$P" -l 127.0.0.1:$P 2>&1)
	case $out in *"in use"*) fail "own overlap reported as in use: $out" ;; esac
	# Not overlaps: the same endpoint twice (merged), other ports, port 0.
	out=$(bounded 10 "$ANYECHOD" -n -4 -t -l 127.0.0.1:$P -l 127.0.0.1:$P -l "*:$((P + 1))" \
		-l '*:0' -l 127.0.0.1:0 2>&1) || fail "no overlap refused: $out"
	if have_ipv6; then
		# v6-only [::] and 0.0.0.0 are apart; --dualstack [::] takes IPv4,
		# and then covers 0.0.0.0 given after it (bound once).
		out=$(bounded 10 "$ANYECHOD" -n -t -l "[::]:$P" -l 127.0.0.1:$P 2>&1) ||
			fail "v6-only [::] and 127.0.0.1 refused: $out"
		check 2 "endpoint 127.0.0.1:$P overlaps [::]:$P given before (IPv4 stream 127.0.0.1:$P is within dual-stack [::]:$P)" \
			--dualstack -t -l "[::]:$P" -l 127.0.0.1:$P
		out=$(bounded 10 "$ANYECHOD" -n -t --dualstack -l "[::]:$P" -l 0.0.0.0:$P 2>&1) ||
			fail "--dualstack [::] then 0.0.0.0 refused: $out"
	fi
fi

# A privileged port without privilege names the fix.
if part "privileged port" setuid; then
	out=$(bounded 10 setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
		"$ANYECHOD" -l 127.0.0.1:7 -t 2>&1); rc=$?
	if [ $rc -eq 0 ] || ! echo "$out" | grep -q 'needs privileges'; then
		echo "note: unprivileged bind to port 7 allowed here ($(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null))"
	else
		expect_eq "privileged port exit" $rc 1
		expect_in "privileged port" "$out" "port 7 needs privileges: run as root, grant CAP_NET_BIND_SERVICE, or choose a port >= 1024 with -p"
		# Beside one it may bind: not started all the same.
		out=$(bounded 10 setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" \
			--clear-groups "$ANYECHOD" -l 127.0.0.1:0 -l 127.0.0.1:7 -t 2>&1); rc=$?
		expect_eq "privileged port beside another, exit" $rc 1
		expect_in "privileged port beside another" "$out" "port 7 needs privileges"
	fi
fi

# -n resolves and reports, binds nothing.
out=$(bounded 10 "$ANYECHOD" -n -p 7007) || fail "-n failed: $out"
expect_eq "-n plan" "$(echo "$out" | tr '\n' ';')" \
	"IPv6 stream [::]:7007;IPv6 dgram [::]:7007;IPv4 stream 0.0.0.0:7007;IPv4 dgram 0.0.0.0:7007;"
# A fraction of a millisecond is rounded, and said (it was silent here,
# while anyecho and --dns-timeout said it); a whole one says nothing.
out=$(bounded 10 "$ANYECHOD" -n -l 127.0.0.1:7007 --idle-timeout 0.4ms --grace 1.5ms \
	--stall-timeout 2s 2>&1 >/dev/null) || fail "-n with rounded times failed: $out"
expect_eq "rounded times said" "$out" "anyechod: --idle-timeout '0.4ms' taken as 1 ms (times are whole milliseconds)
anyechod: --grace '1.5ms' taken as 2 ms (times are whole milliseconds)"
bounded 10 "$ANYECHOD" --version | grep -q '^anyechod [0-9]' || fail "--version"
bounded 10 "$ANYECHOD" --help | grep -q '^usage: anyechod' || fail "--help"
echo ok

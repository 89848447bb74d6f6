#!/bin/sh
# What anyecho says when things go wrong, and its exit status: refused
# (1), no reply (1), a corrupted echo (1, with the offset), a name that does
# not exist (3), and every command-line error (2).
. "$top_srcdir/tests/integ/lib.sh"
ae() { bounded 60 "$ANYECHO" "$@"; }

if part "refused" ipv4; then
		# A port nobody listens on: bind, note, close.
		free=$(free_port)
		out=$(ae -c 1 127.0.0.1 $free 2>&1); rc=$?
		expect_eq "refused exit" $rc 1
		expect_eq "refused" "$out" "anyecho: 127.0.0.1: connection refused by 127.0.0.1 port $free"
		out=$(ae --attempt-delay 1ms -c 1 127.0.0.1 $free 2>&1)
		expect_in "clamp warning" "$out" "attempt delay 1 ms clamped to 10 ms"
fi

part "unix"
# A unix path with no socket: connect fails at once; said once, exit 1.
out=$(ae -c 1 "unix:$T/none" 2>&1); rc=$?
expect_eq "no socket exit" $rc 1
expect_eq "no socket" "$out" "anyecho: unix:$T/none: no socket at unix:$T/none"
# --all over several targets whose connects fail at once: each has its
# table, and each table counts its own address (issue 9).
out=$(ae -A -c 1 "unix:$T/n1" "unix:$T/n2" "unix:$T/n3" 2>&1); rc=$?
expect_eq "--all no sockets exit" $rc 1
expect_eq "--all no sockets tables" "$(printf '%s\n' "$out" | grep -c "^unix: 0 of 1 address reachable (no socket)$")" 3
if part "multicast" ipv4; then
	# TCP to a multicast address: the connect fails inside the call.
	out=$(ae -A -c 1 224.0.0.1 224.0.0.2 2>&1); rc=$?
	expect_eq "--all multicast exit" $rc 1
	expect_eq "--all multicast tables" "$(printf '%s\n' "$out" | grep -c "^IPv4: 0 of 1 address reachable")" 2
fi
# A terminal escape in what the user typed is not replayed to the terminal.
esc=$(printf '\033')
out=$(ae -c 1 "unix:$T/x${esc}[31m" 2>&1)
expect_eq "escape" "$out" "anyecho: unix:$T/x?[31m: no socket at unix:$T/x?[31m"

if part "misbehaving peers" ipv4 python3; then
	# A UDP socket that never answers, and a TCP server that corrupts byte 513.
	bounded 60 python3 - "$T/bad" <<'PY' &
import socket, sys, threading, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(5)
open(sys.argv[1] + ".tmp", "w").write("%d %d\n" % (u.getsockname()[1], t.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
t.settimeout(30)
c, _ = t.accept()
got = b""
while len(got) < 1000:
    got += c.recv(1000 - len(got))
b = bytearray(got); b[513] ^= 0xff
c.sendall(bytes(b)); time.sleep(1)
PY
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/bad" || hard "helper did not start"
	read -r up tp <"$T/bad"
	out=$(ae -u -c 2 -i 10ms -W 300ms 127.0.0.1 $up 2>&1); rc=$?
	expect_eq "no reply exit" $rc 1
	expect_in "no reply" "$out" "127.0.0.1: seq=1: no reply from 127.0.0.1 port $up within 300 ms"
	expect_in "loss" "$out" "2 sent, 0 received, 0 mismatched, 100% loss"
	out=$(ae -c 1 -s 1000 127.0.0.1 $tp 2>&1); rc=$?
	expect_eq "corrupt exit" $rc 1
	expect_in "corrupt" "$out" "127.0.0.1: seq=1: echo differs from sent data at byte 513"

	# A UDP echo that misbehaves in a different way for each datagram: corrupts
	# byte 300, truncates to 100 bytes, answers twice, sends a foreign datagram
	# before the right echo. A duplicate of the last probe would come after the
	# client is done, so it is the third that is doubled.
	bounded 60 python3 - "$T/badu" <<'PY' &
import os, socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write("%d\n" % u.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
u.settimeout(30)
for k in range(4):
    d, peer = u.recvfrom(65536)
    if k == 0:
        b = bytearray(d); b[300] ^= 0x01; u.sendto(bytes(b), peer)
    elif k == 1:
        u.sendto(d[:100], peer)
    elif k == 2:
        u.sendto(d, peer); u.sendto(d, peer)
    else:
        u.sendto(b"x" * 50, peer); u.sendto(d, peer)
PY
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/badu" || hard "UDP helper did not start"
	out=$(ae -u -c 4 -s 500 -i 50ms -W 1s 127.0.0.1 "$(cat "$T/badu")" 2>&1); rc=$?
	expect_eq "bad datagrams exit" $rc 1
	expect_in "dgram corrupt" "$out" "seq=1: echo differs from sent data at byte 300"
	expect_in "dgram short" "$out" "seq=2: echo of 100 bytes, 500 were sent"
	expect_in "foreign" "$out" "unrecognised reply of 50 bytes"
	expect_in "duplicate" "$out" "seq=3: duplicate reply"
	expect_in "dgram summary" "$out" \
		"4 sent, 2 received, 2 mismatched, 0% loss, connect"
	expect_in "dgram summary end" "$out" "1 duplicates, 0 late, 1 unrecognised"
fi

# Out of descriptors, the lookup says so (it said "could not reach DNS
# server", as if the network were at fault): a limit of 5 leaves the loop
# its descriptors and c-ares none. Descriptors inherited from make are
# closed first, or the loop itself could not start. (With loopback down
# the connect of the one socket c-ares opens fails first: that part needs
# IPv4 on loopback.)
if part "out of descriptors" ipv4; then
	free=1 # no socket is opened to it
	out=$( (ulimit -n 5; exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
		exec timeout -k 2 20 "$ANYECHO" -c 1 --dns-timeout 2s --dns-server "127.0.0.1:$free" \
		name.test 9) 2>&1); rc=$?
	expect_eq "EMFILE exit" $rc 3
	errtext EMFILE
	expect_in "EMFILE" "$out" "anyecho: name.test: cannot open a socket to ask DNS server 127.0.0.1:$free about name.test: $ERRTEXT"
	case $out in *"could not reach"*) fail "EMFILE taken for the network: $out" ;; esac
fi

# Names that do not exist (the test's own DNS server).
if part "NXDOMAIN" ipv4 dnsmasq; then
	start_dnsmasq
	out=$(ae --dns-server 127.0.0.1:$DNS_PORT -c 1 no.such.test 2>&1); rc=$?
	expect_eq "NXDOMAIN exit" $rc 3
	expect_in "NXDOMAIN" "$out" "anyecho: no.such.test: name not found: no.such.test"
fi

check() { # STATUS MESSAGE ARGS...
	_st=$1 _want=$2; shift 2
	_out=$(ae "$@" 2>&1 </dev/null); _rc=$?
	expect_eq "exit of anyecho $*" "$_rc" "$_st"
	expect_in "message of anyecho $*" "$_out" "$_want"
}
check 2 "bad count 'x': expected a number from 0 to 100000000" -c x localhost
check 2 "bad size '0': expected a size from 1 to 16777216 bytes" -s 0 localhost
check 2 "bad size '70000': more than the largest datagram, 65507 bytes" -u -s 70000 localhost
# The value as typed, with its bytes (attack3: "-s 64k" said "bad size '65536'").
check 2 "bad size '64k' (65536 bytes): more than the largest datagram, 65507 bytes" -u -s 64k localhost
check 2 "bad size '4': datagram probes carry an 8-byte header, use 8 or more" -u -s 4 localhost
check 2 "bad interval 'soon': expected a time" -i soon localhost
check 2 "-t and -u: choose one" -t -u localhost
# A unix endpoint's own type meets the same checks as -u and -t, and -4
# -6 is refused like -t -u (attack finding 11: each was accepted, the last
# family silently winning; nothing listens at these paths: refused before).
check 2 "-4 and -6: choose one" -4 -6 localhost
check 2 "-4 and -6: choose one" -6 -4 localhost
check 2 "-z and unix-dgram:$T/u: datagrams have no handshake to measure" -z "unix-dgram:$T/u"
check 2 "--pmtu and unix-seqpacket:$T/q: --pmtu needs IP datagrams" --pmtu "unix-seqpacket:$T/q"
check 2 "--pmtu and unix-dgram:$T/u: --pmtu needs IP datagrams" --pmtu "unix-dgram:$T/u"
check 2 "-u and unix-seqpacket:$T/q: choose one" -u "unix-seqpacket:$T/q"
check 2 "-t and unix-dgram:$T/u: choose one" -t "unix-dgram:$T/u"
check 2 "bad size '4' for unix-dgram:$T/u: datagram probes carry an 8-byte header" -s 4 "unix-dgram:$T/u"
check 2 "bad size '70000' for unix-dgram:$T/u: more than the largest datagram, 65507 bytes" -s 70000 "unix-dgram:$T/u"
check 2 "bad size '1M' (1048576 bytes) for unix-dgram:$T/u: more than the largest datagram" -s 1M "unix-dgram:$T/u"
# Values that cannot work are refused, not run (attacker's notes): -W 0
# and --connect-timeout 0 failed every probe and attempt, a target's port 0
# is no service's, and --passive means something only to --resolve.
check 2 "-W 0: nothing can answer in no time; give 1ms or more" -W 0 localhost
check 2 "--connect-timeout 0: nothing can answer in no time" --connect-timeout 0 localhost
check 2 "127.0.0.1: port 0: no service listens there" 127.0.0.1 0
check 2 "[::1]:0: port 0: no service listens there" '[::1]:0'
check 2 "localhost: port 0: no service listens there" -p 0 localhost
check 2 "--passive is for --resolve" --passive localhost
check 2 "--stdin needs exactly one target, a stream (-t), and no --all" --stdin a b
# A unix datagram target is refused as -u is, "-" before it or after
# (review 8: it ran, and a reply the server dropped read as "echo differs").
check 2 "--stdin needs exactly one target, a stream (-t), and no --all" --stdin unix-dgram:$T/d
check 2 "--stdin needs exactly one target, a stream (-t), and no --all" unix-dgram:$T/d -
# A literal of the other family is a usage error, as against -I's (was 3,
# "not resolved").
check 2 "::1 is an IPv6 address, but only IPv4 was asked for (-4)" -4 ::1
check 2 "127.0.0.1 is an IPv4 address, but only IPv6 was asked for (-6)" -6 127.0.0.1 7
check 2 "host: port 70000 out of range (0-65535)" host 70000
check 2 "[::1: missing ']' in '[::1'" '[::1'
check 2 "usage: anyecho" --no-such-option
check 2 "usage: anyecho"
# C1 controls: raw CSI (0x9b) and U+009B (c2 9b) are not replayed either;
# other UTF-8 is kept.
csi=$(printf '\233') ucsi=$(printf '\302\233') alpha=$(printf '\316\261')
out=$(ae -c 1 "unix:$T/x${csi}1m${ucsi}2m$alpha" 2>&1)
expect_eq "C1" "$out" "anyecho: unix:$T/x?1m?2m$alpha: no socket at unix:$T/x?1m?2m$alpha"

# --resolve prints what the user typed too: not raw to the terminal.
out=$(ae --resolve "$(printf 'unix:/x\033[2J\033]0;t\007')" 2>&1)
case $out in *"$(printf '\033')"*|*"$(printf '\007')"*) fail "--resolve replayed control bytes: $(printf '%s' "$out" | od -c | head -3)" ;; esac
expect_in "--resolve escaped" "$out" "unix:/x?[2J?]0;t?"

# Pipe mode with standard input closed: the loop's own pipe must not take
# fd 0 and be read as the input. It is empty input: done at once.
start_server -l "unix:$T/p"
out=$( (exec <&-; exec timeout -k 5 20 "$ANYECHO" - "unix:$T/p") 2>&1); rc=$?
expect_eq "closed stdin exit" $rc 0
stop_server

# Pipe mode with --json: stdout is exactly the echo; the JSON records (dns,
# attempt, summary) go to stderr, one a line. Before the fix the summary
# and dns records were written into the echo on stdout.
if part "pipe mode JSON on stderr" ipv4 python3; then
	start_server -l 127.0.0.1:0
	echo "127.0.0.1 pipe.test" >"$T/pipe.hosts"
	printf 'hello' | CARES_HOSTS=$T/pipe.hosts timeout -k 5 20 "$ANYECHO" --stdin --json -4 \
		pipe.test "$(port IPv4 stream)" >"$T/pout" 2>"$T/perr"; rc=$?
	expect_eq "pipe --json exit" $rc 0
	expect_eq "pipe --json stdout" "$(od -An -c "$T/pout" | tr -s ' ')" " h e l l o"
	bounded 30 python3 -c "import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
types = [o['type'] for o in objs]
assert 'dns' in types and types[-1] == 'summary', types
assert objs[-1]['bytes_received'] == 5, objs[-1]" "$T/perr" ||
		fail "pipe --json stderr: $(cat "$T/perr")"
	stop_server
fi

# --json stays valid JSON (UTF-8) whatever bytes a unix path holds: a byte
# that is not UTF-8 is shown as '?', as in messages.
if part "JSON of a non-UTF-8 path" python3; then
	ff=$(printf '\377')
	start_server -l "unix:$T/j${ff}k"
	ae --json -c 1 "unix:$T/j${ff}k" >"$T/json" 2>&1 || fail "json run: $(cat "$T/json")"
	bounded 30 python3 - "$T/json" "unix:$T/j?k" <<'PY' || fail "invalid JSON: $(cat -v "$T/json")"
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines()
assert lines and all(json.loads(l.decode("utf-8"))["address"] == sys.argv[2] for l in lines)
PY
	stop_server
fi
echo ok

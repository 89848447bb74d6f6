#!/bin/sh
# The client names what it saw by its real cause (attack3 findings): a
# --pmtu reply of the wrong size is the server's wrong echo, not a path
# limit; a TCP echo that stops short says how many bytes came; -s errors
# name the value typed; a fraction of a millisecond is rounded and said;
# an interface index no interface has is refused like an unknown name;
# running out of descriptors under -A is said once, as this host's limit.
# Every client run is under timeout(1); a hang shows as exit 124.
. "$top_srcdir/tests/integ/lib.sh"
need python3
need timeout

# run LIMIT ARGS...: anyecho under timeout; sets out (stdout and stderr), rc.
run() {
	_lim=$1; shift
	timeout -k 2 "$_lim" "$ANYECHO" "$@" </dev/null >"$T/out" 2>&1
	rc=$?
	out=$(cat "$T/out")
}
# absent WHAT TEXT NEEDLE: NEEDLE is not in TEXT.
absent() { case $2 in *"$3"*) fail "$1: '$3' in: $2" ;; esac; }

if part "pmtu wrong echo" ipv4; then
	# A server that answers with the first 1000 bytes only: the smallest
	# size (576) comes back whole, the interface MTU (lo) comes back as
	# 1000 bytes. It was reported "sizes above 576 vanish ... black
	# hole" with 0 mismatched: the path blamed for the server's echo.
	# The largest size is lo's MTU (65536 here), at most 65535.
	mtu=$(cat /sys/class/net/lo/mtu 2>/dev/null || echo 65536)
	[ "$mtu" -le 65535 ] || mtu=65535
	[ "$mtu" -gt 1100 ] || hard "lo's MTU is $mtu"
	bad dgram-cap 1000
	run 30 --pmtu -4 -W 300ms 127.0.0.1 $BP
	expect_eq "pmtu cap exit" $rc 1
	expect_in "pmtu cap probe" "$out" "$mtu bytes to 127.0.0.1 port $BP: echo of 1000 bytes, $((mtu - 28)) were sent"
	expect_in "pmtu cap verdict" "$out" "127.0.0.1 (127.0.0.1:$BP, IPv4): wrong echo from the server at $mtu bytes (echo of 1000 bytes, $((mtu - 28)) were sent): the server's fault, not the path's (largest echo 576 bytes"
	absent "pmtu cap verdict" "$out" "black hole"
	run 30 --pmtu -4 -W 300ms --json 127.0.0.1 $BP
	expect_eq "pmtu cap JSON exit" $rc 1
	expect_in "pmtu cap JSON verdict" "$out" '"verdict":"wrong_echo","largest":576'
	expect_in "pmtu cap JSON probe" "$out" '"status":"mismatch"'
	expect_in "pmtu cap JSON summary" "$out" '"mismatched":1,'
	# One byte short every time: it was "nothing came back, not even 576
	# bytes", though every probe was answered.
	bad dgram-short
	run 30 --pmtu -4 -W 300ms 127.0.0.1 $BP
	expect_eq "pmtu short exit" $rc 1
	expect_in "pmtu short" "$out" "wrong echo from the server at 576 bytes (echo of 547 bytes, 548 were sent): the server's fault, not the path's"
	absent "pmtu short" "$out" "nothing came back"
fi

if part "short stream echo" ipv4; then
	# The echo stops one byte short and the connection stays open: it
	# was "no reply ... the server acknowledged every byte and sent no
	# echo", as if nothing came. A wrong echo: exit 1, counted mismatched.
	bad short
	run 20 -c 1 -W 500ms 127.0.0.1 $BP
	expect_eq "short exit" $rc 1
	expect_in "short" "$out" "127.0.0.1: seq=1: short echo: 63 of 64 bytes from 127.0.0.1 port $BP, then the rest not within 500 ms"
	expect_in "short summary" "$out" "1 sent, 0 received, 1 mismatched, 0% loss"
	absent "short" "$out" "no reply"
	# ... and then closed: the bytes that came are said with the close.
	bad shortclose
	run 20 -c 1 -W 2s 127.0.0.1 $BP
	expect_eq "short close exit" $rc 1
	expect_in "short close" "$out" "short echo: 63 of 64 bytes from 127.0.0.1 port $BP, then the connection was closed"
	expect_in "short close summary" "$out" "1 sent, 0 received, 1 mismatched, 0% loss"
fi

# -i takes whole milliseconds: 1.9ms was 1 ms without a word (and then
# refused as a flood to non-root users, though 1.9 ms was asked for).
if part "rounded interval" ipv4; then
	bad dgram-short
	run 10 -u -c 1 -i 2.4ms -W 200ms 127.0.0.1 $BP
	expect_in "-i 2.4ms" "$out" "anyecho: interval '2.4ms' taken as 2 ms (times are whole milliseconds)"
	run 10 -u -c 1 -W 200.6ms 127.0.0.1 $BP
	expect_in "-W 200.6ms" "$out" "anyecho: timeout '200.6ms' taken as 201 ms"
	run 10 -u -c 1 -i 3ms -W 200ms 127.0.0.1 $BP
	absent "-i 3ms" "$out" "taken as"
fi

# An interface index no interface has is refused as an unknown name is
# (exit 2, the value named): %99999 was taken, %4294967296 refused.
for id in 99999 4294967295 4294967296 no-such-if0; do
	if [ -e "/sys/class/net/$id" ] ||
		grep -qx "$id" /sys/class/net/*/ifindex 2>/dev/null; then
		echo "note: this host has interface $id"
		continue
	fi
	run 10 -c 1 "fe80::1%$id" 7
	expect_eq "scope %$id exit" $rc 2
	expect_eq "scope %$id" "$out" "anyecho: fe80::1%$id: unknown interface '$id' in scope id"
	run 10 -c 1 -I "fe80::1%$id" ::1 7
	expect_eq "-I scope %$id exit" $rc 2
	expect_in "-I scope %$id" "$out" "bad source 'fe80::1%$id': no interface of that name or index"
done

# -A out of descriptors: the limit is this process's, the same for every
# address, so it is said once (it was "connect to ...: Too many open
# files" on every row and every family line), and exit 1. Descriptors 3
# to 9 closed, 4 allowed: the event loop takes the last one.
if part "out of descriptors once" ipv4; then
	sh -c 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; ulimit -n 4 &&
		exec timeout -k 2 10 "$0" -A -c 1 -W 200ms 127.0.0.1 127.0.0.2 127.0.0.3' \
		"$ANYECHO" </dev/null >"$T/out" 2>"$T/err"; rc=$?
	out=$(cat "$T/out" "$T/err")
	echo "$out"
	expect_eq "fds exit" $rc 1
	errtext EMFILE
	absent "fds" "$out" "$ERRTEXT"
	expect_eq "fds said once" "$(grep -c "this process's limit" "$T/err")" 1
	expect_in "fds" "$(cat "$T/err")" "anyecho: out of file descriptors (this process's limit, ulimit -n 4): 3 addresses not probed; the limit is this host's, not the addresses'"
	expect_eq "fds rows" "$(grep -c ' out of file descriptors$' "$T/out")" 3
fi
echo ok

#!/bin/sh
# Interoperability with peers nobody here wrote. anyecho against
# openbsd-inetd's internal echo (TCP on IPv4 and IPv6; UDP on ::1, because
# OpenBSD's inetd drops datagrams from 127/8), socat (PIPE) and ncat
# (--exec /bin/cat), over TCP and UDP; and socat and ncat as clients of
# anyechod.
. "$top_srcdir/tests/integ/lib.sh"
need ipv4 "every peer listens on loopback"
ran=0

probe() { bounded 60 "$ANYECHO" -c 3 -i 20ms -W 2s "$@" >"$T/out" 2>&1 || fail "anyecho $*: $(cat "$T/out")"; }

if ! [ -x /usr/sbin/inetd ]; then
	skip_part "openbsd-inetd" "/usr/sbin/inetd not installed"
elif part "openbsd-inetd" ipv6 low-ports; then
	# Internal services go by name, so port 7, on an address of our own.
	printf '%s\n' '127.0.0.7:echo stream tcp nowait root internal' \
		'[::1]:echo stream tcp6 nowait root internal' \
		'[::1]:echo dgram udp6 wait root internal' >"$T/inetd.conf"
	/usr/sbin/inetd -d "$T/inetd.conf" >"$T/inetd.log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 listening 127.0.0.7 7 ||
		hard "inetd did not start: $(cat "$T/inetd.log")"
	probe 127.0.0.7
	probe ::1
	probe -u ::1
	echo "ok: openbsd-inetd internal echo"
	ran=$((ran + 1))
fi

if part "socat" socat; then
	P=$(free_port)
	socat TCP-LISTEN:$P,bind=127.0.0.1,reuseaddr,fork PIPE 2>/dev/null &
	at_exit "kill $! 2>/dev/null"
	socat UDP-RECVFROM:$P,bind=127.0.0.1,fork PIPE 2>/dev/null &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 listening 127.0.0.1 $P || hard "socat did not listen"
	probe 127.0.0.1 $P
	probe -u 127.0.0.1 $P
	echo "ok: socat PIPE"
	ran=$((ran + 1))
fi

if part "ncat" ncat; then
	P=$(free_port)
	ncat -l 127.0.0.1 $P --keep-open --exec /bin/cat 2>/dev/null &
	at_exit "kill $! 2>/dev/null"
	wait_for 5 listening 127.0.0.1 $P || hard "ncat did not listen"
	probe -s 4000 127.0.0.1 $P
	echo "ok: ncat --exec /bin/cat"
	ran=$((ran + 1))
fi

# The same peers as clients of anyechod.
start_server -l 127.0.0.1:0
P=$(port IPv4 stream)
if can socat; then
	out=$(printf 'hello via socat\n' | bounded 10 socat -t 2 - TCP:127.0.0.1:$P) || fail "socat TCP client"
	expect_eq "socat TCP client" "$out" "hello via socat"
	out=$(printf 'datagram via socat' | bounded 10 socat -t 1 - UDP:127.0.0.1:$(port IPv4 dgram)) ||
		fail "socat UDP client"
	expect_eq "socat UDP client" "$out" "datagram via socat"
fi
if can ncat; then
	head -c 200000 /dev/urandom >"$T/in"
	bounded 30 ncat 127.0.0.1 $P <"$T/in" >"$T/back" 2>/dev/null || fail "ncat client"
	cmp -s "$T/in" "$T/back" || fail "ncat client got different bytes back"
	ran=$((ran + 1))
fi
stop_server || fail "server exit status $?"
echo ok

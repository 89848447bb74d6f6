#!/bin/sh
# --dualstack: one [::] socket per type serves IPv4 (as v4-mapped) and IPv6.
# And on a wildcard socket, a datagram sent to 127.0.0.2 is answered from
# 127.0.0.2, not from whatever the routing table would pick (IP_PKTINFO).
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is tests/integ/peer.py"

if part "dual-stack socket" ipv4 ipv6; then
	start_server -l '[::]:0' --dualstack --threads 1
	expect_eq "sockets" "$(wc -l <"$T/ports")" 2
	$PEER stream IPv4 stream 127.0.0.1 "$(port IPv6 stream)" 70000 || fail "IPv4 over dual-stack"
	$PEER stream IPv6 stream ::1 "$(port IPv6 stream)" 70000 || fail "IPv6 over dual-stack"
	$PEER dgram IPv4 127.0.0.1 "$(port IPv6 dgram)" 0,100,60000 || fail "UDP IPv4 over dual-stack"
	$PEER dgram IPv6 ::1 "$(port IPv6 dgram)" 0,100,60000 || fail "UDP IPv6 over dual-stack"
	stop_server || fail "exit status $?"
fi

if part "reply source address" ipv4; then
	start_server -l 0.0.0.0:0 -u --threads 1
	# peer.py dgram fails unless the reply comes from the address it sent to.
	$PEER dgram IPv4 127.0.0.2 "$(port IPv4 dgram)" 1,1000 || fail "reply source address"
	stop_server || fail "exit status $?"
fi
echo ok

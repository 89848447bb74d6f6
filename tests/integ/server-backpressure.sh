#!/bin/sh
# A client that writes 64 MiB without reading for a second: the server must
# stop reading from it (TCP back-pressure), its memory must stay flat, and
# when the client reads again every byte comes back in order.
. "$top_srcdir/tests/integ/lib.sh"
[ -r /proc/self/status ] || skip "no /proc to read the server's memory"
need python3 "the client is tests/integ/peer.py"
need ipv4

start_server -l 127.0.0.1:0 -t --threads 1
# The client stalls after what the kernel's buffers and one 64 KiB server
# buffer hold; the server may grow by page-cache noise, not by megabytes.
$PEER slowreader IPv4 127.0.0.1 "$(port IPv4 stream)" 67108864 1000 $SRV_PID 2048 ||
	fail "slow reader"
stop_server || fail "exit status $?"
echo ok

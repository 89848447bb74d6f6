#!/bin/sh
# Byte-exact echo over TCP and UDP on IPv4 and IPv6 and over unix stream,
# datagram and seqpacket: payloads from 1 byte to 4 MiB with half-close,
# datagrams from 0 bytes to the largest each family allows.
. "$top_srcdir/tests/integ/lib.sh"
have_ipv6 || skip "no IPv6 on loopback"

start_server -l 127.0.0.1:0 -l '[::1]:0' -l "unix:$T/s" -l "unix-dgram:$T/d" \
	-l "unix-seqpacket:$T/q" --threads 2

for fam in IPv4 IPv6; do
	host=127.0.0.1; [ $fam = IPv6 ] && host=::1
	for size in 1 1000 65536 1048577 4194304; do
		$PEER stream $fam stream $host "$(port $fam stream)" $size || fail "$fam stream $size"
	done
done
$PEER dgram IPv4 127.0.0.1 "$(port IPv4 dgram)" 0,1,512,1472,9000,65507 || fail "IPv4 dgram"
$PEER dgram IPv6 ::1 "$(port IPv6 dgram)" 0,1,512,1452,9000,65527 || fail "IPv6 dgram"
for size in 1 70000 4194304; do
	$PEER stream unix stream "$T/s" - $size || fail "unix stream $size"
done
$PEER dgram unix "$T/d" - 0,1,4096,65536 "$T/c" || fail "unix dgram"
$PEER records unix "$T/q" 1,100,65536 || fail "unix seqpacket"

stop_server; rc=$?
expect_eq "exit status after SIGTERM" "$rc" 0
[ ! -e "$T/s" ] && [ ! -e "$T/d" ] && [ ! -e "$T/q" ] || fail "unix socket files left behind"
echo ok

#!/bin/sh
# Byte-exact echo over TCP and UDP on IPv4 and IPv6 and over unix stream,
# datagram and seqpacket: payloads from 1 byte to 4 MiB with half-close,
# datagrams from 0 bytes to the largest each family allows. A family the
# machine lacks is skipped alone.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is tests/integ/peer.py"

fams=
set --
if part IPv4 ipv4; then fams="$fams IPv4"; set -- "$@" -l 127.0.0.1:0; fi
if part IPv6 ipv6; then fams="$fams IPv6"; set -- "$@" -l '[::1]:0'; fi
part unix
start_server "$@" -l "unix:$T/s" -l "unix-dgram:$T/d" -l "unix-seqpacket:$T/q" --threads 2

for fam in $fams; do
	host=127.0.0.1; [ $fam = IPv6 ] && host=::1
	for size in 1 1000 65536 1048577 4194304; do
		$PEER stream $fam stream $host "$(port $fam stream)" $size || fail "$fam stream $size"
	done
	$PEER urgent $fam $host "$(port $fam stream)" || fail "$fam urgent data"
	if [ $fam = IPv4 ]; then
		$PEER dgram IPv4 127.0.0.1 "$(port IPv4 dgram)" 0,1,512,1472,9000,65507 || fail "IPv4 dgram"
	else
		$PEER dgram IPv6 ::1 "$(port IPv6 dgram)" 0,1,512,1452,9000,65527 || fail "IPv6 dgram"
	fi
done
for size in 1 70000 4194304; do
	$PEER stream unix stream "$T/s" - $size || fail "unix stream $size"
done
$PEER dgram unix "$T/d" - 0,1,4096,65536 "$T/c" || fail "unix dgram"
# Unix stream urgent data (MSG_OOB, Linux 5.15): the byte comes back too.
$PEER urgent unix "$T/s" -; rc=$?
case $rc in
0) echo "== part unix urgent"; parts_ran=$((parts_ran + 1)) ;;
77) skip_part "unix urgent" "the kernel has no MSG_OOB on unix streams" ;;
*) fail "unix urgent data" ;;
esac
$PEER records unix "$T/q" 1,100,65536 || fail "unix seqpacket"

stop_server; rc=$?
expect_eq "exit status after SIGTERM" "$rc" 0
[ ! -e "$T/s" ] && [ ! -e "$T/d" ] && [ ! -e "$T/q" ] || fail "unix socket files left behind"
echo ok

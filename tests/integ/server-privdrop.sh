#!/bin/sh
# --user: as root, bind first, then drop to the user (all uids and gids,
# supplementary groups cleared) and go on echoing.
. "$top_srcdir/tests/integ/lib.sh"
need setuid "to drop privileges"
need python3 "the client is tests/integ/peer.py"
need ipv4

start_server -l 127.0.0.1:0 -t --user nobody
uid=$(id -u nobody) gid=$(id -g nobody)
expect_eq "uids" "$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$SRV_PID/status)" "$uid $uid $uid $uid"
expect_eq "gids" "$(awk '/^Gid:/ {print $2, $3, $4, $5}' /proc/$SRV_PID/status)" "$gid $gid $gid $gid"
expect_eq "groups" "$(awk '/^Groups:/ {print $2}' /proc/$SRV_PID/status)" "$(id -G nobody | awk '{print $1}')"
$PEER stream IPv4 stream 127.0.0.1 "$(port IPv4 stream)" 100000 || fail "echo after dropping"
stop_server || fail "exit status $?"
echo ok

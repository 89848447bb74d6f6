# Sourced by the ICMP and path MTU tests: three network namespaces of the
# test's own, client C - router R - server S, nothing added to the
# machine's own namespace. R forwards (its sysctls only). The far side has
# two links, one per family, so each can have its own small MTU:
#   C vc  192.0.2.1/24 2001:db8:1::1/64   --  R rc 192.0.2.254 2001:db8:1::ff (MTU 1500)
#   R r4  198.51.100.254/24  --  S s4 198.51.100.2/24      (MTU $LAB_MTU4)
#   R r6  2001:db8:2::ff/64  --  S s6 2001:db8:2::2/64     (MTU $LAB_MTU6)
# R has no route to 203.0.113.0/24 and 2001:db8:dead::/64 (type
# unreachable): it answers ICMP "no route" for them.
# Every IPv4 address gets its broadcast address (brd +): without one,
# getifaddrs() reports the address itself as the broadcast address, and
# anyechod would refuse datagrams sent to it as directed broadcasts.
need netns
C=aeic$$ R=aeir$$ S=aeis$$
for ns in $C $R $S; do
	ip netns add $ns || hard "namespace $ns"
	at_exit "ip netns del $ns 2>/dev/null"
	ip -n $ns link set lo up
	# No duplicate address detection, link-local addresses included:
	# while they are tentative the first datagrams of a test vanish.
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 2>/dev/null
done
ip -n $C link add vc type veth peer name rc netns $R || hard "veth C-R"
ip -n $R link add r4 type veth peer name s4 netns $S || hard "veth R-S (IPv4)"
ip -n $R link add r6 type veth peer name s6 netns $S || hard "veth R-S (IPv6)"
ip -n $R link set r4 mtu "${LAB_MTU4:-1500}"
ip -n $S link set s4 mtu "${LAB_MTU4:-1500}"
ip -n $R link set r6 mtu "${LAB_MTU6:-1500}"
ip -n $S link set s6 mtu "${LAB_MTU6:-1500}"
ip -n $C addr add 192.0.2.1/24 brd + dev vc
ip -n $C addr add 2001:db8:1::1/64 dev vc nodad
ip -n $R addr add 192.0.2.254/24 brd + dev rc
ip -n $R addr add 2001:db8:1::ff/64 dev rc nodad
ip -n $R addr add 198.51.100.254/24 brd + dev r4
ip -n $R addr add 2001:db8:2::ff/64 dev r6 nodad
ip -n $S addr add 198.51.100.2/24 brd + dev s4
ip -n $S addr add 2001:db8:2::2/64 dev s6 nodad
for l in "$C vc" "$R rc" "$R r4" "$R r6" "$S s4" "$S s6"; do
	set -- $l; ip -n $1 link set $2 up
done
ip -n $C route add default via 192.0.2.254
ip -n $C -6 route add default via 2001:db8:1::ff
ip -n $S route add default via 198.51.100.254
ip -n $S -6 route add default via 2001:db8:2::ff
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	hard "forwarding in the router namespace"
ip -n $R route add unreachable 203.0.113.0/24 || hard "unreachable route"
ip -n $R -6 route add unreachable 2001:db8:dead::/64 || hard "unreachable route (IPv6)"
# ICMP rate limits would make the later probes of a test silent.
ip netns exec $R sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 2>/dev/null
ip netns exec $S sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 2>/dev/null

# lab_server ARGS...: anyechod in S on both families, port 7007.
lab_server() {
	ip netns exec $S "$ANYECHOD" -l 198.51.100.2:7007 -l '[2001:db8:2::2]:7007' "$@" \
		--port-file "$T/ports" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
}
# cx ARGS...: anyecho in C, bounded.
cx() { bounded 60 ip netns exec $C "$ANYECHO" "$@" 2>&1; }

#!/bin/sh
# The source address (-I/--source): every summary, JSON record and --all
# row names the local address its session used, and -I binds it, by
# address (per family) or by interface; the peer (whoami.py, which logs
# getpeername) must see the address asked for. A bad -I is one line and
# exit 2. Loopback parts use 127.0.0.2 (on lo without any setup); the
# namespace part gives the client two IPv6 and two IPv4 addresses.
. "$top_srcdir/tests/integ/lib.sh"
need python3
WHOAMI=$top_srcdir/tests/integ/whoami.py

# start_whoami MODE NS ADDR...: the peer, in namespace NS ("" for ours);
# sets WPORT and appends to $T/who.log.
start_whoami() {
	_mode=$1 _ns=$2; shift 2
	rm -f "$T/wport"
	if [ -n "$_ns" ]; then
		ip netns exec "$_ns" python3 "$WHOAMI" "$_mode" "$T/who.log" "$T/wport" 120 0 "$@" \
			2>"$T/who.err" &
	else
		python3 "$WHOAMI" "$_mode" "$T/who.log" "$T/wport" 120 0 "$@" 2>"$T/who.err" &
	fi
	_pid=$!
	at_exit "kill $_pid 2>/dev/null"
	wait_for 20 test -s "$T/wport" || hard "whoami.py did not start: $(cat "$T/who.err")"
	WPORT=$(cat "$T/wport")
}
# saw PROTO HOST: the peer logged a session from HOST.
saw() { wait_for 5 grep -q "^$1 $2 " "$T/who.log"; }

ae() { bounded 30 "$ANYECHO" "$@" 2>&1; }

# ---- bad values: one line naming the value and the reason, exit 2
# With loopback down the kernel has no local table and a trial bind to
# any address succeeds: nothing to tell a foreign address by.
if part "foreign address" ipv4; then
	out=$(ae -I 192.0.2.99 -c 1 127.0.0.1 9); rc=$?
	expect_eq "-I foreign address exit" $rc 2
	expect_eq "-I foreign address lines" "$(echo "$out" | wc -l)" 1
	expect_in "-I foreign address" "$out" "192.0.2.99"
	expect_in "-I foreign address" "$out" "not an address of this host"
fi
out=$(ae -I no-such-if0 -c 1 127.0.0.1 9); rc=$?
expect_eq "-I unknown interface exit" $rc 2
expect_eq "-I unknown interface lines" "$(echo "$out" | wc -l)" 1
expect_in "-I unknown interface" "$out" "no-such-if0"
expect_in "-I unknown interface" "$out" "no interface of that name"
if part "family conflicts" ipv6; then
	out=$(ae -4 -I ::1 -c 1 127.0.0.1 9); rc=$?
	expect_eq "-4 -I ::1 exit" $rc 2
	expect_in "-4 -I ::1" "$out" "IPv6 address, but -4"
	# A target of the other family: a usage error naming both.
	out=$(ae -I ::1 -c 1 127.0.0.1 9); rc=$?
	expect_eq "-I ::1 to 127.0.0.1 exit" $rc 2
	expect_eq "-I ::1 to 127.0.0.1 lines" "$(echo "$out" | wc -l)" 1
	expect_in "-I ::1 to 127.0.0.1" "$out" "the source ::1 is IPv6"
fi
echo "ok: bad -I values"

if part loopback ipv4; then
	: >"$T/who.log"
	start_whoami echo "" 127.0.0.1
	# Without -I the kernel's choice is shown.
	out=$(ae -c 1 -W 2s 127.0.0.1 "$WPORT") || fail "default source: $out"
	expect_in "default source" "$out" "source 127.0.0.1:"
	for proto in t u; do
		name=tcp; [ $proto = u ] && name=udp
		out=$(ae -$proto -c 1 -W 2s -I 127.0.0.2 127.0.0.1 "$WPORT") || fail "-I 127.0.0.2 -$proto: $out"
		expect_in "-I 127.0.0.2 -$proto text" "$out" "source 127.0.0.2:"
		saw $name 127.0.0.2 || fail "-I 127.0.0.2 -$proto: the peer saw: $(cat "$T/who.log")"
		out=$(ae -$proto -c 1 -W 2s --source 127.0.0.2 --json 127.0.0.1 "$WPORT") ||
			fail "--source --json -$proto: $out"
		echo "$out" | grep '"type":"summary"' | grep -q '"source":"127.0.0.2","source_port":[1-9]' ||
			fail "JSON summary without the source: $out"
	done
	out=$(ae -A -c 1 -W 2s -I 127.0.0.2 127.0.0.1 "$WPORT") || fail "-A -I: $out"
	echo "$out" | grep -q '^ADDRESS .* SOURCE ' || fail "-A: no SOURCE column: $out"
	echo "$out" | grep -q "^127.0.0.1:$WPORT  *127.0.0.2 " || fail "-A: source not in the row: $out"
	# An interface: lo holds 127.0.0.1.
	out=$(ae -c 1 -W 2s -I lo 127.0.0.1 "$WPORT") || fail "-I lo: $out"
	expect_in "-I lo" "$out" "source 127.0.0.1:"
	echo "ok: loopback sources"
fi

if part namespaces netns; then
	C=aeic$$ S=aeis$$
	ip netns add $C || hard "client namespace"
	at_exit "ip netns del $C 2>/dev/null"
	ip netns add $S || hard "server namespace"
	at_exit "ip netns del $S 2>/dev/null"
	ip -n $C link add vc type veth peer name vs netns $S || hard "veth pair"
	for ns in $C $S; do ip -n $ns link set lo up; done
	ip -n $C addr add 192.0.2.1/24 dev vc
	ip -n $C addr add 192.0.2.11/24 dev vc
	ip -n $C addr add 2001:db8::1/64 dev vc nodad
	ip -n $C addr add 2001:db8::11/64 dev vc nodad
	ip -n $S addr add 192.0.2.2/24 dev vs
	ip -n $S addr add 2001:db8::2/64 dev vs nodad
	ip -n $C link set vc up
	ip -n $S link set vs up
	: >"$T/who.log"
	start_whoami echo $S 192.0.2.2 2001:db8::2
	printf '2001:db8::2 dual.test\n192.0.2.2 dual.test\n' >"$T/hosts"
	cx() { bounded 30 ip netns exec $C env CARES_HOSTS="$T/hosts" "$ANYECHO" "$@" 2>&1; }
	wait_for 5 cx -c 1 -W 1s 2001:db8::2 "$WPORT" >/dev/null || hard "no IPv6 path: $(cx -c 1 2001:db8::2 "$WPORT")"
	for src in 192.0.2.1 192.0.2.11 2001:db8::1 2001:db8::11; do
		for proto in t u; do
			name=tcp; [ $proto = u ] && name=udp
			: >"$T/who.log"
			# A name with both families: the source's family is the one used.
			out=$(cx -$proto -c 1 -W 2s -I $src dual.test "$WPORT") || fail "-I $src -$proto: $out"
			case $src in *:*) shown="source [$src]:" ;; *) shown="source $src:" ;; esac
			expect_in "-I $src -$proto" "$out" "$shown"
			saw $name $src || fail "-I $src -$proto: the peer saw: $(cat "$T/who.log")"
		done
	done
	out=$(cx -A -c 1 -W 2s -I 2001:db8::11 dual.test "$WPORT") || fail "-A -I v6: $out"
	echo "$out" | grep -q "^\[2001:db8::2\]:$WPORT  *2001:db8::11 " || fail "-A -I v6 row: $out"
	echo "$out" | grep -q "^IPv4" && fail "-A -I v6: an IPv4 row or line: $out"
	# Without -I: whichever of its two addresses the kernel chose.
	out=$(cx -A -c 1 -W 2s dual.test "$WPORT") || fail "-A: $out"
	echo "$out" | grep -Eq "^192.0.2.2:$WPORT +192.0.2.(1|11) " || fail "-A IPv4 source: $out"
	echo "$out" | grep -Eq "^\[2001:db8::2\]:$WPORT +2001:db8::(1|11) " || fail "-A IPv6 source: $out"
	# An interface, both families.
	out=$(cx -c 1 -W 2s -I vc -6 dual.test "$WPORT") || fail "-I vc -6: $out"
	expect_in "-I vc -6" "$out" "source [2001:db8::"
	out=$(cx -c 1 -W 2s -I vc -4 dual.test "$WPORT") || fail "-I vc -4: $out"
	expect_in "-I vc -4" "$out" "source 192.0.2."
	# The other namespace's address is not ours.
	out=$(cx -c 1 -I 2001:db8::2 dual.test "$WPORT"); rc=$?
	expect_eq "-I server address exit" $rc 2
	expect_in "-I server address" "$out" "not an address of this host"
	# Link-local: the scope comes with the source.
	ll=$(ip -n $S -6 addr show dev vs scope link 2>/dev/null | awk '/inet6/ { sub("/.*", "", $2); print $2; exit }')
	cll=$(ip -n $C -6 addr show dev vc scope link 2>/dev/null | awk '/inet6/ { sub("/.*", "", $2); print $2; exit }')
	settled() { [ -z "$(ip -n $C -6 addr show dev vc tentative 2>/dev/null)$(ip -n $S -6 addr show dev vs tentative 2>/dev/null)" ]; }
	if [ -z "$ll" ] || [ -z "$cll" ] || ! wait_for 10 settled; then
		skip_part link-local "no link-local addresses on the veth pair (or DAD did not end)"
	else
		: >"$T/who.log"
		start_whoami echo $S "$ll%vs"
		wait_for 5 cx -c 1 -W 1s -I "$cll%vc" "$ll" "$WPORT" >/dev/null
		out=$(cx -c 1 -W 2s -I "$cll%vc" "$ll" "$WPORT") || fail "-I link-local: $out"
		expect_in "-I link-local" "$out" "source [$cll%vc]:"
		saw tcp "$cll%vs" || saw tcp "$cll" || fail "-I link-local: the peer saw: $(cat "$T/who.log")"
		echo "ok: link-local: $out"
		# Through the interface, the target needs no scope either.
		out=$(cx -c 1 -W 2s -I vc "$ll" "$WPORT") || fail "-I vc to link-local: $out"
		expect_in "-I vc to link-local" "$out" "source [$cll%vc]:"
		# Without either: the cause, and the fix.
		out=$(cx -c 1 "$ll" "$WPORT"); rc=$?
		expect_eq "unscoped link-local exit" $rc 1
		expect_in "unscoped link-local" "$out" "is link-local: give its interface"
	fi
	echo "ok: namespace sources"
fi
echo ok

# Shared by the integration tests: exit codes, a private temporary
# directory (short path: unix sockets allow 107 bytes), tool lookup,
# probes of what this machine can do, parts that skip alone, bounded
# waiting, and a dnsmasq on a loopback port.
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.
# Rules for a script (doc/ARCHITECTURE.md, Tests): probe what you need by
# trying it (can, need, part), never by uid or by a tool that is only the
# probe's means; every foreground program under `bounded`, every background
# one killed by at_exit.

set -u
PATH=$PATH:/usr/sbin:/sbin
LC_ALL=C
export PATH LC_ALL

# No search domains, no options from the environment: a name means itself.
LOCALDOMAIN=
RES_OPTIONS=
export LOCALDOMAIN RES_OPTIONS

: "${ANYECHO:?run through make check}"
: "${top_srcdir:?run through make check}"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
hard() { echo "ERROR: $*"; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ae.XXXXXX") || hard "mktemp failed"
cleanup_hooks=
at_exit() { cleanup_hooks="$*; $cleanup_hooks"; }
# A script that passes after skipping every one of its parts ran nothing:
# that is a skip, not a pass.
parts_ran=0 parts_skipped=0
on_exit() {
	_rc=$1
	eval "$cleanup_hooks"
	rm -rf "$T"
	if [ "$_rc" -eq 0 ] && [ $parts_skipped -gt 0 ]; then
		echo "parts: $parts_ran ran, $parts_skipped skipped"
		[ $parts_ran -gt 0 ] || { echo "SKIP: every part was skipped"; _rc=77; }
	fi
	exit "$_rc"
}
trap 'on_exit $?' EXIT
# make check's time bound (TEST_TIMEOUT) arrives as SIGTERM.
trap 'echo "ERROR: interrupted by a signal (a hang stopped by the time bound?)"; exit 99' INT TERM HUP

# bounded SECONDS COMMAND...: a foreground command that cannot hang the
# script; exit status 124 when it had to be stopped.
bounded() { timeout --foreground -k 5 "$@"; }

NETPROBE=$top_builddir/tests/integ/netprobe

# errtext ENAME: set $ERRTEXT to the words our programs print for errno
# ENAME, from the libc they are built with (netprobe is built with the
# same $CC): glibc says "Too many open files" where musl says "No file
# descriptors available". Never write a libc's strerror() text into a test.
errtext() { ERRTEXT=$("$NETPROBE" strerror "$1") || hard "netprobe strerror $1 failed"; }

# can WHAT: whether this machine can do WHAT, found by trying it, cached
# for the script; the reason it cannot is left in $why. WHAT is one of
#   ipv4, ipv6   TCP and UDP to ourselves on 127.0.0.1 / ::1 (loopback up,
#                the family enabled): a bind alone succeeds with lo down
#   low-ports    bind a port below 1024 (privileged, or a namespace of our own)
#   setuid       switch to user nobody (root for real, not a fake root)
#   python3      a python3 that runs
#   netns        create a network namespace (ip netns add)
#   sndbufforce  raise a socket's send buffer past net.core.wmem_max
#                (SO_SNDBUFFORCE: CAP_NET_ADMIN for real)
#   anything else: a program of that name on PATH
can() {
	_key=$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)
	eval "_got=\${can_$_key-}"
	if [ -z "$_got" ]; then
		_got=yes
		case $1 in
		ipv4|ipv6)
			_addr=127.0.0.1; [ "$1" = ipv6 ] && _addr=::1
			_err=$(bounded 10 "$NETPROBE" loop $_addr 2>&1) ||
				_got="no $(echo "$1" | sed 's/ipv/IPv/') on loopback: $_err" ;;
		low-ports)
			_err=$("$NETPROBE" bind 127.0.0.1 19 2>&1) ||
				_got="cannot bind ports below 1024 here: $_err" ;;
		setuid)
			if ! id nobody >/dev/null 2>&1; then _got="no user 'nobody'"
			elif ! command -v setpriv >/dev/null 2>&1; then _got="setpriv (util-linux) not installed to try"
			elif ! setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups true 2>/dev/null; then
				_got="cannot switch to user nobody here (needs root outside any user namespace)"
			fi ;;
		python3)
			bounded 30 python3 -c 'import socket' 2>/dev/null || _got="python3 not installed" ;;
		netns)
			if ! command -v ip >/dev/null 2>&1; then _got="ip (iproute2) not installed"
			elif ! _err=$(ip netns add "aeprobe$$" 2>&1); then
				_got="cannot create network namespaces here: $_err"
			else ip netns del "aeprobe$$"; fi ;;
		sndbufforce)
			can python3 && bounded 30 python3 -c 'import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 32, 1 << 22)' 2>/dev/null ||
				_got="cannot force a socket buffer size here (SO_SNDBUFFORCE needs CAP_NET_ADMIN)" ;;
		*)
			command -v "$1" >/dev/null 2>&1 || _got="$1 not installed" ;;
		esac
		eval "can_$_key=\$_got"
	fi
	why=$_got
	[ "$_got" = yes ]
}

# need WHAT [HINT]: the whole script needs WHAT (see can); skip otherwise.
need() { can "$1" || skip "$why${2:+ ($2)}"; }

# part NAME WHAT...: whether one part of the script can run here. When it
# cannot, the log says "SKIP part NAME: reason" and the rest goes on; the
# script exits 77 only if every part was skipped.
part() {
	_part=$1; shift
	for _w in "$@"; do
		if ! can "$_w"; then
			skip_part "$_part" "$why"
			return 1
		fi
	done
	echo "== part $_part"
	parts_ran=$((parts_ran + 1))
}

# skip_part NAME REASON: a part the script itself found it cannot run here.
skip_part() {
	echo "SKIP part $1: $2"
	parts_skipped=$((parts_skipped + 1))
}

have_ipv4() { can ipv4; }
have_ipv6() { can ipv6; }

# wait_for SECONDS COMMAND...: poll a condition every 50 ms, bounded.
wait_for() {
	_n=$(($1 * 20)); shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		_n=$((_n - 1))
		sleep 0.05
	done
	return 1
}

now_ms() { date +%s%3N; }

# catching PID SIGNUM: the process has a handler for signal SIGNUM (1-32)
# installed, from /proc/PID/status. Without /proc: after a second, yes.
# A test sends its signal only then: a background job of a script starts
# with SIGINT ignored, so one sent early is lost, not handled.
catching() {
	if [ ! -r /proc/self/status ]; then
		sleep 1
		return 0
	fi
	_m=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$_m" ] || return 1
	_m=${_m#????????} # the low 32 bits: shell arithmetic is signed 64-bit
	[ $(( (0x$_m >> ($2 - 1)) & 1 )) -eq 1 ]
}
# sockets PID N: the process has N sockets open or more (Linux /proc).
sockets() {
	[ -d /proc/self/fd ] || return 0
	[ "$(ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'socket:')" -ge "$2" ]
}

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
# expect_in WHAT TEXT NEEDLE
expect_in() {
	case $2 in *"$3"*) ;; *) fail "$1: '$3' not in: $2" ;; esac
}

# start_dnsmasq ARGS...: a private DNS server for zone "test" on
# 127.0.0.1:$DNS_PORT, no system config, no upstream, queries logged to
# $T/dnsmasq.log. Names outside the given records get NXDOMAIN.
# --no-daemon rather than --keep-in-foreground: it also keeps dnsmasq from
# changing its user and groups, which a fake root (unshare -r) may not do.
start_dnsmasq() {
	need dnsmasq "Debian package dnsmasq-base"
	need ipv4
	for _try in 1 2 3 4 5; do
		DNS_PORT=$(( 20000 + $$ % 20000 + _try * 7 ))
		: >"$T/dnsmasq.log"
		dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
			--no-poll --pid-file= --user="$(id -un)" --group="$(id -gn)" \
			--listen-address=127.0.0.1 --bind-interfaces --port="$DNS_PORT" \
			--local=/test/ --log-queries --log-facility="$T/dnsmasq.log" \
			"$@" 2>"$T/dnsmasq.err" &
		DNS_PID=$!
		if wait_for 5 grep -q 'started, version' "$T/dnsmasq.log"; then
			at_exit "kill $DNS_PID 2>/dev/null"
			return 0
		fi
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
	done
	hard "dnsmasq did not start: $(cat "$T/dnsmasq.err" "$T/dnsmasq.log")"
}

: "${ANYECHOD:=$top_builddir/src/anyechod}"
# A ThreadSanitizer build maps shadow memory for all it touches: the
# server's resident size then says nothing about what our code keeps.
tsan_build() { grep -q -a __tsan_init "$ANYECHOD"; }
# $PEER ARGS...: tests/integ/peer.py, bounded; a script that reaches it
# without python3 skips there (better: `need python3` or a part up front).
PEER=peer_py
PEER_PY=$top_srcdir/tests/integ/peer.py # for `ip netns exec`: no functions there
peer_py() {
	need python3
	bounded 300 python3 "$PEER_PY" "$@"
}

# bad MODE [ARG]: start a hostile server of tests/integ/badserver.py (it
# ends by itself after 60 s); sets BP, its port.
bad() {
	rm -f "$T/bp"
	python3 "$top_srcdir/tests/integ/badserver.py" "$1" "$T/bp" ${2:+"$2"} 2>"$T/bad.err" &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/bp" || hard "badserver $1 did not start: $(cat "$T/bad.err")"
	BP=$(cat "$T/bp")
}

# start_server ARGS...: anyechod in the background with a port file;
# returns once every socket is bound. Sets SRV_PID.
start_server() {
	rm -f "$T/ports"
	"$ANYECHOD" --port-file "$T/ports" "$@" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 server_up || hard "anyechod did not start: $(cat "$T/server.log")"
	test -s "$T/ports" || hard "anyechod exited: $(cat "$T/server.log")"
}
server_up() { test -s "$T/ports" || ! kill -0 "$SRV_PID" 2>/dev/null; }

# port FAMILY TYPE: the port the server bound for that family and type.
port() { awk -v f="$1" -v t="$2" '$1 == f && $2 == t { print $4; exit }' "$T/ports"; }

# stop_server: SIGTERM, then the exit status within 15 s (99 if it hangs).
stop_server() {
	kill -TERM "$SRV_PID" 2>/dev/null
	_n=150
	while kill -0 "$SRV_PID" 2>/dev/null && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	kill -0 "$SRV_PID" 2>/dev/null && hard "anyechod ignored SIGTERM"
	wait "$SRV_PID"
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on (bound, noted,
# closed), for a peer that takes its port on the command line.
free_port() { "$NETPROBE" port "${1:-127.0.0.1}"; }
# listening HOST PORT: something accepts TCP connections there.
listening() { "$NETPROBE" connect "$1" "$2" 2>/dev/null; }

# build_shim: compile tests/integ/preload.c into $SHIM (skip without a
# compiler). Run a program under it with: env $SHIM_ENV prog...
# Only a program under test, never a host tool (timeout, python3): the shim
# is built with $CC, whose libc may not be the host's (CC=musl-gcc), so a
# wrapper goes outside: timeout 20 env $SHIM_ENV "$ANYECHO" ...
build_shim() {
	SHIM=$T/shim.so
	${CC:-cc} -shared -fPIC -I"$top_srcdir/src" -o "$SHIM" "$top_srcdir/tests/integ/preload.c" -ldl \
		>"$T/shim.err" 2>&1 || skip "cannot build the LD_PRELOAD shim: $(head -3 "$T/shim.err")"
	# ASan insists on coming first; the shim only wraps libc calls.
	SHIM_ENV="LD_PRELOAD=$SHIM AE_SHIM_LOG=$T/shim.log ASAN_OPTIONS=verify_asan_link_order=0"
}

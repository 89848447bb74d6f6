# Shared by the integration tests: exit codes, a private temporary
# directory (short path: unix sockets allow 107 bytes), tool lookup,
# bounded waiting, and a dnsmasq on a loopback port.
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.

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
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 not installed${2:+ ($2)}"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ae.XXXXXX") || hard "mktemp failed"
cleanup_hooks=
at_exit() { cleanup_hooks="$*; $cleanup_hooks"; }
trap 'eval "$cleanup_hooks"; rm -rf "$T"' EXIT
trap 'exit 99' INT TERM HUP

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

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
# expect_in WHAT TEXT NEEDLE
expect_in() {
	case $2 in *"$3"*) ;; *) fail "$1: '$3' not in: $2" ;; esac
}

# start_dnsmasq ARGS...: a private DNS server for zone "test" on
# 127.0.0.1:$DNS_PORT, no system config, no upstream, queries logged to
# $T/dnsmasq.log. Names outside the given records get NXDOMAIN.
start_dnsmasq() {
	need dnsmasq "Debian package dnsmasq-base"
	for _try in 1 2 3 4 5; do
		DNS_PORT=$(( 20000 + $$ % 20000 + _try * 7 ))
		: >"$T/dnsmasq.log"
		dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
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
PEER="python3 $top_srcdir/tests/integ/peer.py"

# start_server ARGS...: anyechod in the background with a port file;
# returns once every socket is bound. Sets SRV_PID.
start_server() {
	need python3
	rm -f "$T/ports"
	"$ANYECHOD" --port-file "$T/ports" "$@" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
}

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
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
have_ipv6() { python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; }

# build_shim: compile tests/integ/preload.c into $SHIM (skip without a
# compiler). Run a program under it with: env $SHIM_ENV prog...
build_shim() {
	SHIM=$T/shim.so
	${CC:-cc} -shared -fPIC -o "$SHIM" "$top_srcdir/tests/integ/preload.c" -ldl \
		>"$T/shim.err" 2>&1 || skip "cannot build the LD_PRELOAD shim: $(head -3 "$T/shim.err")"
	# ASan insists on coming first; the shim only wraps libc calls.
	SHIM_ENV="LD_PRELOAD=$SHIM AE_SHIM_LOG=$T/shim.log ASAN_OPTIONS=verify_asan_link_order=0"
}

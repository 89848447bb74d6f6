#!/bin/sh
# The resolver's command line: every parse error names the wrong part and
# exits 2; literals and unix paths print in getent-ahosts style.
. "$top_srcdir/tests/integ/lib.sh"

check_err() { # ARGS... -- expected message
	_want=$1; shift
	_out=$(bounded 30 "$ANYECHO" "$@" 2>&1); _rc=$?
	expect_eq "exit of $*" "$_rc" 2
	expect_eq "message of $*" "$_out" "$_want"
}

long=$(printf 'p%.0s' $(seq 1 130))
check_err "anyecho: host:70000: port 70000 out of range (0-65535)" --resolve host:70000
check_err "anyecho: unix:/$long: unix path is 131 bytes, limit is 107" --resolve "unix:/$long"
check_err "anyecho: [::1: missing ']' in '[::1'" --resolve '[::1'
check_err "anyecho: 127.1: bad IPv4 address '127.1'" --resolve 127.1
check_err "anyecho: x:nosuch: unknown service 'nosuch' (not in /etc/services)" --resolve x:nosuch
check_err "anyecho: bad DNS timeout 'abc': expected a number from 1 to 600000" --resolve --dns-timeout abc x
check_err "anyecho: bad DNS server list 'bogus': Misformatted string" --resolve --dns-server bogus x
bounded 30 "$ANYECHO" --resolve --bogus-option x >/dev/null 2>&1; expect_eq "unknown option exit" $? 2

out=$(bounded 30 "$ANYECHO" --resolve --passive -p 7007 '*') || fail "passive: $out"
expect_eq "passive wildcards" "$(echo "$out" | awk '{print $2, $3, $4}' | tr '\n' ';')" \
	"IPv6 stream [::]:7007;IPv6 dgram [::]:7007;IPv4 stream 0.0.0.0:7007;IPv4 dgram 0.0.0.0:7007;"
out=$(bounded 30 "$ANYECHO" --resolve -u 'unix:@demo') || fail "abstract: $out"
expect_eq "abstract" "$out" "unix:@demo               unix  dgram     unix:@demo"
bounded 30 "$ANYECHO" --version | grep -q '^anyecho [0-9]' || fail "--version"
bounded 30 "$ANYECHO" --help | grep -q '^usage: anyecho' || fail "--help"
echo ok

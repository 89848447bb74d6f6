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
check_err "anyecho: bad DNS timeout 'abc': expected a time such as 30, 30s, 5m or 250ms" --resolve --dns-timeout abc x
check_err "anyecho: bad DNS timeout '0': expected a time from 1 ms to 600 s" --resolve --dns-timeout 0 x
check_err "anyecho: bad DNS timeout '700s': expected a time from 1 ms to 600 s" --resolve --dns-timeout 700s x
check_err "anyecho: bad DNS timeout '600001ms': expected a time from 1 ms to 600 s" --resolve --dns-timeout 600001ms x
# --dns-timeout reads durations like every other option (a bare number is
# seconds); a bare 100 or more is still milliseconds, as documented before.
out=$("$ANYECHO" --resolve --dns-timeout 800 127.0.0.1 2>&1) || fail "old --dns-timeout: $out"
expect_in "old --dns-timeout" "$out" "anyecho: DNS timeout '800' taken as 800 ms (old rule, deprecated): write 800ms"
for v in 2 1.5s 800ms 1m; do
	out=$("$ANYECHO" --resolve --dns-timeout $v 127.0.0.1 2>&1) || fail "--dns-timeout $v: $out"
	case $out in *anyecho:*) fail "--dns-timeout $v: $out" ;; esac
done
check_err "anyecho: bad DNS server 'bogus': not an IP address (expected ip[:port], IPv6 in brackets when a port follows)" --resolve --dns-server bogus x
# Each server is checked here: c-ares took port 99999 as 34463, port 0 as
# 53, '[::1' as [::1]:53 and an empty list as the system's servers.
check_err "anyecho: bad DNS server '1.2.3.4:99999': port 99999 out of range (1-65535)" --resolve --dns-server 1.2.3.4:99999 x
check_err "anyecho: bad DNS server '127.0.0.1:0': port 0 out of range (1-65535)" --resolve --dns-server 127.0.0.1:0 x
check_err "anyecho: bad DNS server '[::1': missing ']'" --resolve --dns-server '[::1' x
check_err "anyecho: bad DNS server list '': expected ip[:port],... (IPv6 in brackets when a port follows)" --resolve --dns-server '' x
check_err "anyecho: bad DNS server '' in '127.0.0.1,': expected ip[:port] (IPv6 in brackets when a port follows)" --resolve --dns-server 127.0.0.1, x
# A list too long to quote whole: one line, shortened visibly, the reason
# at its end (it was cut off inside the list).
l="$(printf '127.0.0.1,%.0s' $(seq 300))127.0.0.1"
check_err "anyecho: bad DNS server list '127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1...,127.0.0.1,127.0.0.1': longer than 1023 characters" --resolve --dns-server "$l" x
check_err "anyecho: bad DNS server 'bogus' in '127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1....0.1,127.0.0.1,bogus': not an IP address (expected ip[:port], IPv6 in brackets when a port follows)" --resolve --dns-server "$l,bogus" x
out=$(bounded 30 "$ANYECHO" --resolve --dns-server '127.0.0.1:53,[::1]:53,::1' 127.0.0.1 2>&1) ||
	fail "a good --dns-server list refused: $out"
bounded 30 "$ANYECHO" --resolve --bogus-option x >/dev/null 2>&1; expect_eq "unknown option exit" $? 2
# An IPv6 server in brackets without a port, as the man pages write it:
# c-ares 1.18 refused '[::1]' ("Misformatted string"), anyechod exited 1.
out=$(bounded 30 "$ANYECHO" --resolve --dns-server '[::1]' 127.0.0.1 2>&1) ||
	fail "anyecho --dns-server '[::1]' refused: $out"
out=$(bounded 30 "$ANYECHOD" -n --dns-server '[::1],127.0.0.1' -l 127.0.0.1:7 2>&1) ||
	fail "anyechod --dns-server '[::1],127.0.0.1' refused (exit $?): $out"

out=$(bounded 30 "$ANYECHO" --resolve --passive -p 7007 '*') || fail "passive: $out"
expect_eq "passive wildcards" "$(echo "$out" | awk '{print $2, $3, $4}' | tr '\n' ';')" \
	"IPv6 stream [::]:7007;IPv6 dgram [::]:7007;IPv4 stream 0.0.0.0:7007;IPv4 dgram 0.0.0.0:7007;"
out=$(bounded 30 "$ANYECHO" --resolve -u 'unix:@demo') || fail "abstract: $out"
expect_eq "abstract" "$out" "unix:@demo               unix  dgram     unix:@demo"
# --json is honoured (it was ignored): one record per endpoint, in order.
out=$(bounded 30 "$ANYECHO" --resolve --json -t '127.0.0.1:9' 'unix:@d"q' 127.1); rc=$?
expect_eq "--resolve --json exit" $rc 2
expect_eq "--resolve --json" "$(echo "$out" | sed 's/,"timestamp":[0-9.]*}$/}/')" \
'{"type":"resolved","target":"127.0.0.1:9","addresses":[{"address":"127.0.0.1","port":9,"family":"IPv4","protocol":"stream"}],"error":null}
{"type":"resolved","target":"unix:@d\"q","addresses":[{"address":"unix:@d\"q","port":null,"family":"unix","protocol":"stream"}],"error":null}
{"type":"resolved","target":"127.1","addresses":[],"error":"bad IPv4 address '"'127.1'"'"}'
bounded 30 "$ANYECHO" --version | grep -q '^anyecho [0-9]' || fail "--version"
bounded 30 "$ANYECHO" --help | grep -q '^usage: anyecho' || fail "--help"
echo ok

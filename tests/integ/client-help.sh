#!/bin/sh
# --help prints the synopsis and one line per option, for both programs,
# and the options are those of the man pages (each way round). A usage
# error prints only the synopsis, on stderr.
. "$top_srcdir/tests/integ/lib.sh"

check_help() { # PROGRAM MANPAGE
	"$1" --help >"$T/help" 2>"$T/help.err" || fail "$1 --help: exit $?"
	[ -s "$T/help.err" ] && fail "$1 --help wrote to stderr: $(cat "$T/help.err")"
	grep -q "^usage: $(basename "$1")" "$T/help" || fail "$1 --help: no synopsis"
	# Long options in the help's option lines, and in the man page's list.
	sed -n '/^Options:/,$p' "$T/help" | grep -o -- '--[a-z][a-z-]*' | sort -u >"$T/help.opts"
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$2" | grep '^\.It' |
		grep -o 'Fl Fl [a-z][a-z-]*' | sed 's/^Fl Fl /--/' | sort -u >"$T/man.opts"
	[ "$(wc -l <"$T/help.opts")" -ge 15 ] || fail "$1 --help: one line per option expected: $(cat "$T/help")"
	diff "$T/man.opts" "$T/help.opts" >"$T/diff" ||
		fail "$1: options in $2 (<) and in --help (>) differ: $(cat "$T/diff")"
	# The synopsis too: every long option in the man page's SYNOPSIS is in
	# the help's usage lines (--dns-tries was missing).
	for o in $(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$2" | grep -o 'Fl Fl [a-z][a-z-]*' |
		sed 's/^Fl Fl /--/' | sort -u); do
		sed '/^Options:/,$d' "$T/help" | grep -q -- "$o\b" ||
			fail "$1 --help: $o in the man page's synopsis, not in the usage lines"
	done
	# Short options too: every -x in the man page's list is in the help.
	for o in $(sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$2" | grep '^\.It' | grep -o 'Fl [a-zA-Z0-9]\b' |
		sed 's/^Fl /-/' | sort -u); do
		grep -q -- "^ *$o[, ]" "$T/help" || grep -q -- ", $o[, ]" "$T/help" ||
			fail "$1 --help: $o missing"
	done
	# A usage error: the synopsis only, on stderr, exit 2.
	"$1" --no-such-option >"$T/out" 2>"$T/err"; rc=$?
	expect_eq "$1 usage error exit" $rc 2
	[ -s "$T/out" ] && fail "$1 usage error wrote to stdout"
	grep -q '^Options:' "$T/err" && fail "$1 usage error printed the option list"
	grep -q "usage: $(basename "$1")" "$T/err" || fail "$1 usage error: no synopsis"
}
check_help "$ANYECHO" "$top_srcdir/doc/anyecho.1"
check_help "$ANYECHOD" "$top_srcdir/doc/anyechod.8"
echo ok

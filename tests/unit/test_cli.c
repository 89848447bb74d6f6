/* cli: numbers and durations from tables, accepted and refused, and the
 * refusal is one line however the value was typed. */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <net/if.h>

#include "cli.h"
#include "server.h"

/* Debian 12's c-ares; 1.34.6, the first 1.34 that takes a link-local
 * server; 1.34.5 (Debian 13, Fedora 42), which drops every one. */
static const struct resolve_cares c118 = { 0x011201, "1.18.1", false };
static const struct resolve_cares c134 = { 0x012206, "1.34.6", true };
static const struct resolve_cares c1345 = { 0x012205, "1.34.5", false };
#define C_ARES_118 (&c118)
#define C_ARES_134 (&c134)

static void
test_numbers(void **state)
{
	static const struct { const char *s; long lo, hi, want; } ok[] = {
		{ "0", 0, 10, 0 }, { "10", 0, 10, 10 }, { "-5", -5, 5, -5 }, { "007", 0, 10, 7 },
	};
	static const struct { const char *s; long lo, hi; } bad[] = {
		{ "", 0, 10 }, { "11", 0, 10 }, { "-1", 0, 10 }, { "-", -5, 5 }, { " 5", 0, 10 },
		{ "+5", 0, 10 }, { "0x5", 0, 10 }, { "5 ", 0, 10 }, { "1e1", 0, 100 },
		{ "99999999999999999999", 0, 10 }, { "\n5", 0, 10 },
	};
	char err[256];
	long v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cli_number("n", ok[i].s, ok[i].lo, ok[i].hi, &v, err, sizeof(err)), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cli_number("n", bad[i].s, bad[i].lo, bad[i].hi, &v, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "bad n '"));
	}
}

static void
test_durations(void **state)
{
	static const struct { const char *s; int want; } ok[] = {
		{ "30", 30000 }, { "30s", 30000 }, { "1.5", 1500 }, { "5m", 300000 }, { "250ms", 250 },
		{ "0", 0 }, { ".5s", 500 }, { "3600000ms", 3600000 },
		/* 0 is "never" for several options: a time above 0 never becomes 0 */
		{ "0.5ms", 1 }, { "0.0001", 1 }, { "0.0000001s", 1 }, { "0.000ms", 0 },
		/* whole milliseconds: the nearest (it was truncated: 1.9ms gave 1) */
		{ "1.5ms", 2 }, { "1.9ms", 2 }, { "1.4ms", 1 }, { "2.5ms", 3 }, { "2.5", 2500 },
		/* rounded first, then checked: the nearest is the maximum */
		{ "3600.0001", 3600000 }, { "3600000.4ms", 3600000 },
	};
	/* Rounded or not: a rounded time comes with a note naming it. */
	static const struct { const char *s; const char *note; } notes[] = {
		{ "1.9ms", "t '1.9ms' taken as 2 ms (times are whole milliseconds)" },
		{ "0.5ms", "t '0.5ms' taken as 1 ms" }, { "250ms", "" }, { "1.5", "" }, { "0", "" },
	};
	static const char *const bad[] = {
		"", "s", "ms", "-1", " 5", "5 ", "0x10", "1e3", "nan", "inf", "1h", "1.2.3", "61m",
		"3600001ms", "3600000.5ms", "5sec",
	};
	char err[256];
	int ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cli_duration("t", ok[i].s, 3600000, &ms, err, sizeof(err)), 0);
		assert_int_equal(ms, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cli_duration("t", bad[i], 3600000, &ms, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "bad t '"));
	}
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		strcpy(err, "stale");
		assert_int_equal(cli_duration("t", notes[i].s, 3600000, &ms, err, sizeof(err)), 0);
		if (notes[i].note[0] == '\0')
			assert_string_equal(err, "");
		else
			assert_non_null(strstr(err, notes[i].note));
	}
}

static void
test_sizes(void **state)
{
	static const struct { const char *s; long want; } ok[] = {
		{ "0", 0 }, { "512", 512 }, { "64K", 65536 }, { "64k", 65536 }, { "1M", 1048576 },
		{ "1G", 1073741824L }, { "1024M", 1073741824L }, { "0M", 0 },
	};
	/* The top is 1G: a long holds it on 32-bit systems too (i386). */
	static const char *const bad[] = {
		"", "K", "-1", "1T", "1MB", "1 M", " 1M", "1.5M", "0x10", "+1K", "2G", "1025M",
		"99999999999999999999K", "9999999999999999G",
	};
	char err[256];
	long v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cli_size("s", ok[i].s, 0, 1073741824L, &v, err, sizeof(err)), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cli_size("s", bad[i], 0, 1073741824L, &v, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "bad s '"));
	}
}

/* --buffer-size takes sizes as --max-owed does ("16K" was refused), within
 * its bounds, and a refusal names the option and the value. */
static void
test_buffer_size(void **state)
{
	static const struct { const char *s; long want; } ok[] = {
		{ "512", 512 }, { "16K", 16384 }, { "16k", 16384 }, { "64M", 64L << 20 },
		{ "65536", 65536 }, { "1M", 1L << 20 },
	};
	static const char *const bad[] = { "511", "0", "0K", "65M", "67108865", "1G", "16KB", "16 K", "" };
	char err[256];
	long v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cli_size("--buffer-size", ok[i].s, SERVER_BUFSIZE_MIN,
		    SERVER_BUFSIZE_MAX, &v, err, sizeof(err)), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		assert_int_equal(cli_size("--buffer-size", bad[i], SERVER_BUFSIZE_MIN,
		    SERVER_BUFSIZE_MAX, &v, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "bad --buffer-size '%s': expected a size from 512 to 67108864",
		    bad[i]);
		assert_non_null(strstr(err, want));
		assert_null(strchr(err, '\n'));
	}
}

static void
test_dns_timeout(void **state)
{
	/* a bare number is seconds, but a bare 100 or more is the old milliseconds */
	static const struct { const char *s; int want; bool note; } ok[] = {
		{ "2", 2000, false }, { "99", 99000, false }, { "100", 100, true },
		{ "800", 800, true }, { "600000", 600000, true }, { "800ms", 800, false },
		{ "1.5s", 1500, false }, { "1m", 60000, false }, { "1ms", 1, false },
		/* rounded to the nearest, and said, as every other time (1.9ms was 1) */
		{ "1.9ms", 2, true }, { "1.4ms", 1, true }, { "2.5ms", 3, true },
	};
	static const char *const bad[] = { "", "0", "0ms", "600001", "601s", "11m", "abc", "-5",
		"99999999999" };
	/* out of range: one wording, however the time was written */
	static const char *const range[] = { "0", "0ms", "600001", "601s", "11m", "99999999999" };
	char err[256];
	int ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cli_dns_timeout(ok[i].s, &ms, err, sizeof(err)), 0);
		assert_int_equal(ms, ok[i].want);
		assert_int_equal(err[0] != '\0', ok[i].note);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cli_dns_timeout(bad[i], &ms, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "bad DNS timeout '"));
	}
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		assert_int_equal(cli_dns_timeout(range[i], &ms, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "': expected a time from 1 ms to 600 s"));
	}
}

/* --dns-server: every element is an address with an optional port from 1
 * to 65535, IPv6 in brackets when a port follows; c-ares took port 99999
 * as 34463, port 0 as 53 and '[::1' as [::1]:53, and an empty list as
 * "the system's servers". */
static void
test_dns_servers(void **state)
{
	static const char *const ok[] = {
		"127.0.0.1", "127.0.0.1:53", "1.2.3.4:65535", "[::1]:5353", "::1",
		"2001:db8::53", "127.0.0.1:1,[::1]:2,10.0.0.1",
	};
	static const struct { const char *s, *want; } bad[] = {
		{ "1.2.3.4:99999", "bad DNS server '1.2.3.4:99999': port 99999 out of range (1-65535)" },
		{ "127.0.0.1:0", "bad DNS server '127.0.0.1:0': port 0 out of range (1-65535)" },
		{ "[::1", "bad DNS server '[::1': missing ']'" },
		{ "", "bad DNS server list '': expected ip[:port],... (IPv6 in brackets when a port follows)" },
		{ ",", "bad DNS server '' in ',': expected ip[:port] (IPv6 in brackets when a port follows)" },
		{ "1.1.1.1,", "bad DNS server '' in '1.1.1.1,': expected ip[:port]" },
		{ "1.1.1.1,,2.2.2.2", "bad DNS server '' in '1.1.1.1,,2.2.2.2': expected" },
		{ "1.1.1.1,bogus", "bad DNS server 'bogus' in '1.1.1.1,bogus': not an IP address" },
		{ "bogus", "bad DNS server 'bogus': not an IP address" },
		{ "127.1", "bad DNS server '127.1': not an IP address" },
		{ " 1.1.1.1", "not an IP address" },
		{ "1.1.1.1:", "bad DNS server '1.1.1.1:': missing port number" },
		{ "1.1.1.1:+5", "bad DNS server '1.1.1.1:+5': bad port '+5'" },
		{ "1.1.1.1:domain", "bad port 'domain'" },
		{ "[::1]x", "bad DNS server '[::1]x': expected ':port' after ']'" },
		{ "[1.2.3.4]:53", "bad DNS server '[1.2.3.4]:53': not an IPv6 address in brackets" },
		{ "[::1]:0", "port 0 out of range (1-65535)" },
		{ "1.1.1.1:053x", "bad port '053x'" },
		{ "1.1.1.1:000053", "port 000053 out of range (1-65535)" },
	};
	char err[256];

	char out[RESOLVE_SERVERS_MAX];

	(void)state;
	/* without an interface, c-ares gets the list as typed, old or new */
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cli_dns_servers(ok[i], C_ARES_118, out, sizeof(out), err,
		    sizeof(err)), 0);
		assert_string_equal(out, ok[i]);
		assert_int_equal(cli_dns_servers(ok[i], C_ARES_134, out, sizeof(out), err,
		    sizeof(err)), 0);
		assert_string_equal(out, ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cli_dns_servers(bad[i].s, C_ARES_134, out, sizeof(out), err,
		    sizeof(err)), -1);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].s, err, bad[i].want);
	}
	/* brackets without a port, which c-ares 1.18 refuses: the bare address */
	assert_int_equal(cli_dns_servers("[::1]", C_ARES_118, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "::1");
	assert_int_equal(cli_dns_servers("1.1.1.1,[2001:db8::53],[::1]:5353", C_ARES_134, out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "1.1.1.1,2001:db8::53,[::1]:5353");
}

/* A link-local server and its interface, in the spellings users type:
 * c-ares (from 1.24) gets its own, [ip6]:port%iface, the interface by
 * name. Every other way c-ares would drop the server without a word, or
 * ignore the interface, is refused here with the element named. The
 * loopback interface is the one every host (and namespace) has. */
static void
test_dns_servers_linklocal(void **state)
{
	static const struct { const char *s, *want; } ok[] = {
		{ "fe80::1%lo", "[fe80::1]%lo" },
		{ "[fe80::1%lo]:53", "[fe80::1]:53%lo" },
		{ "[fe80::1]:53%lo", "[fe80::1]:53%lo" },
		{ "[fe80::1%lo]", "[fe80::1]%lo" },
		{ "[fe80::1]%lo", "[fe80::1]%lo" },
		{ "FE80::AB%lo", "[FE80::AB]%lo" },
		{ "127.0.0.1:53,[fe80::1%lo]:5353,::1", "127.0.0.1:53,[fe80::1]:5353%lo,::1" },
	};
	static const struct { const char *s, *want; } bad[] = {
		{ "fe80::1", "bad DNS server 'fe80::1': a link-local address needs its interface: "
		    "fe80::1%IFACE" },
		{ "[fe80::1]:53", "bad DNS server '[fe80::1]:53': a link-local address needs its "
		    "interface: fe80::1%IFACE" },
		{ "1.1.1.1,febf::2", "bad DNS server 'febf::2' in '1.1.1.1,febf::2': a link-local "
		    "address needs its interface: febf::2%IFACE" },
		{ "::1%lo", "bad DNS server '::1%lo': an interface ('%lo') belongs only to a "
		    "link-local address (fe80::/10)" },
		{ "[2001:db8::1]:53%lo", "an interface ('%lo') belongs only to a link-local" },
		{ "127.0.0.1%lo", "an interface ('%lo') belongs only to a link-local" },
		{ "fe80::1%nosuchif0", "bad DNS server 'fe80::1%nosuchif0': no interface "
		    "'nosuchif0' here" },
		{ "fe80::1%999999", "no interface with index 999999 here" },
		{ "fe80::1%0", "no interface with index 0 here" },
		{ "fe80::1%99999999999999999999", "no interface with index 99999999999999999999" },
		{ "fe80::1%", "no interface name after '%'" },
		{ "[fe80::1%]:53", "no interface name after '%'" },
		{ "fe80::1%lo:53", "no interface 'lo:53' here (a port after an IPv6 address needs "
		    "brackets: [fe80::1%IFACE]:PORT)" },
		{ "[fe80::1%lo]:53%lo", "an interface both inside and after the brackets" },
		{ "[fe80::1%lo]x", "expected ':port' after ']'" },
		{ "[fe80::1%lo]:0", "port 0 out of range (1-65535)" },
		{ "[fe80::1]:%lo", "missing port number" },
		{ "[fe80::zz%lo]:53", "not an IPv6 address in brackets" },
		{ "fe80::zz%lo", "not an IP address" },
	};
	char out[RESOLVE_SERVERS_MAX], err[256], want[64];
	unsigned lo = if_nametoindex("lo");

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (cli_dns_servers(ok[i].s, C_ARES_134, out, sizeof(out), err, sizeof(err)) == -1)
			fail_msg("'%s' refused: %s", ok[i].s, err);
		assert_string_equal(out, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_dns_servers(bad[i].s, C_ARES_134, out, sizeof(out), err, sizeof(err)) == 0)
			fail_msg("'%s' taken as '%s'", bad[i].s, out);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].s, err, bad[i].want);
		assert_null(strchr(err, '\n'));
	}
	/* an interface by its index: c-ares is told its name */
	assert_int_not_equal(lo, 0);
	snprintf(want, sizeof(want), "[fe80::1%%%u]:53", lo);
	assert_int_equal(cli_dns_servers(want, C_ARES_134, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "[fe80::1]:53%lo");
	/* the first c-ares that takes an interface, and the one before it */
	assert_int_equal(cli_dns_servers("fe80::1%lo", &(struct resolve_cares){
	    RESOLVE_IFACE_VERSION, "1.24.0", true }, out, sizeof(out), err, sizeof(err)), 0);
	assert_int_equal(cli_dns_servers("fe80::1%lo", &(struct resolve_cares){ 0x011700,
	    "1.23.0", false }, out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "bad DNS server 'fe80::1%lo': c-ares 1.23.0 here cannot take "
	    "a server's interface (1.24.0 or later can)");
	assert_int_equal(cli_dns_servers("[fe80::1]:53", C_ARES_118, out, sizeof(out), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad DNS server '[fe80::1]:53': a link-local address needs its "
	    "interface (fe80::1%IFACE), which c-ares 1.18.1 here cannot take (1.24.0 or later "
	    "can)");
	/* a c-ares that drops them all */
	assert_int_equal(cli_dns_servers("1.1.1.1,fe80::1%lo", &c1345, out, sizeof(out), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad DNS server 'fe80::1%lo' in '1.1.1.1,fe80::1%lo': c-ares "
	    "1.34.5 here drops every link-local server (fixed in 1.34.6)");
	assert_int_equal(cli_dns_servers("fe80::1", &c1345, out, sizeof(out), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad DNS server 'fe80::1': a link-local address needs its "
	    "interface (fe80::1%IFACE), and c-ares 1.34.5 here drops every link-local server "
	    "(fixed in 1.34.6)");
	/* one that does for a reason of its own: no fix to point at */
	assert_int_equal(cli_dns_servers("fe80::1%lo", &(struct resolve_cares){ 0x012206,
	    "1.34.6", false }, out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "bad DNS server 'fe80::1%lo': c-ares 1.34.6 here drops every "
	    "link-local server");
	/* what does not fit where the options keep it */
	assert_int_equal(cli_dns_servers("127.0.0.1,127.0.0.2", C_ARES_134, out, 16, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad DNS server list '127.0.0.1,127.0.0.2': longer than 15 "
	    "characters");
}

/* --dns-server through the option table: the options keep the list as
 * c-ares reads it, with the c-ares this test runs with. */
static void
test_dns_server_option(void **state)
{
	struct resolve_opts ro;
	struct resolve_cares cares;
	char err[256];
	int rc;

	(void)state;
	memset(&ro, 0, sizeof(ro));
	assert_int_equal(cli_resolve_option(CLI_OPT_DNS_SERVER, "127.0.0.1:5353", &ro, err,
	    sizeof(err)), 1);
	assert_string_equal(ro.servers, "127.0.0.1:5353");
	assert_ptr_equal(ro.servers, ro.servers_buf);
	resolve_cares(&cares);
	print_message("c-ares %s here %s a link-local server\n", cares.text,
	    cares.iface ? "takes" : "does not take");
	rc = cli_resolve_option(CLI_OPT_DNS_SERVER, "[fe80::1%lo]:53", &ro, err, sizeof(err));
	if (cares.iface) {
		assert_int_equal(rc, 1);
		assert_string_equal(ro.servers, "[fe80::1]:53%lo");
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, cares.version < RESOLVE_IFACE_VERSION ?
		    "here cannot take a server's interface (1.24.0 or later can)" :
		    "here drops every link-local server (fixed in 1.34.6)"));
		/* a refused list leaves the one taken before */
		assert_string_equal(ro.servers, "127.0.0.1:5353");
	}
}

static void
test_refusal_is_one_line(void **state)
{
	char err[256];
	long v;
	int ms;

	(void)state;
	assert_int_equal(cli_number("count", "1\n2\x1b[31m", 0, 9, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "bad count '1?2?[31m': expected a number from 0 to 9");
	assert_int_equal(cli_duration("wait", "\r5s", 1000, &ms, err, sizeof(err)), -1);
	assert_null(strpbrk(err, "\r\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_dns_timeout),
		cmocka_unit_test(test_buffer_size),
		cmocka_unit_test(test_dns_servers),
		cmocka_unit_test(test_dns_servers_linklocal),
		cmocka_unit_test(test_dns_server_option),
		cmocka_unit_test(test_refusal_is_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* addr: the endpoint parser from a table, the no-network answers (passive
 * wildcards, loopback, localhost, literals), list expansion and formatting. */
#include "common.h"
#include <net/if.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "addr.h"

struct parse_case {
	const char *in;
	bool ok;
	int kind;       /* ADDR_KIND_* when ok */
	const char *host; /* expected host, or path for unix */
	int literal;
	int port;
	const char *err; /* substring of the error when !ok */
};

#define OKH(in, host, lit, port) { in, true, ADDR_KIND_HOST, host, lit, port, NULL }
#define OKU(in, path) { in, true, ADDR_KIND_UNIX, path, 0, -1, NULL }
#define BAD(in, err) { in, false, 0, NULL, 0, 0, err }

static char long_label[80], long_name[300], long_path[140], max_path[120], max_abstract[120];

static const struct parse_case cases[] = {
	OKH("example.com", "example.com", 0, -1),
	OKH("example.com:7", "example.com", 0, 7),
	OKH("example.com.:echo", "example.com.", 0, 7),
	OKH("EXAMPLE.com:65535", "EXAMPLE.com", 0, 65535),
	OKH("a:0", "a", 0, 0),
	OKH("_srv.example", "_srv.example", 0, -1),
	OKH("127.0.0.1", "127.0.0.1", AF_INET, -1),
	OKH("127.0.0.1:7007", "127.0.0.1", AF_INET, 7007),
	OKH("0.0.0.0:1", "0.0.0.0", AF_INET, 1),
	OKH("255.255.255.255:9", "255.255.255.255", AF_INET, 9),
	OKH("::1", "::1", AF_INET6, -1),
	OKH("::", "::", AF_INET6, -1),
	OKH("2001:db8::1", "2001:db8::1", AF_INET6, -1),
	OKH("[::1]:7", "::1", AF_INET6, 7),
	OKH("[::1]", "::1", AF_INET6, -1),
	OKH("[2001:db8::1]:echo", "2001:db8::1", AF_INET6, 7),
	OKH("::ffff:192.0.2.1", "::ffff:192.0.2.1", AF_INET6, -1),
	OKH("[::ffff:192.0.2.1]:7", "::ffff:192.0.2.1", AF_INET6, 7),
	OKH("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", AF_INET6, -1),
	OKH("fe80::1%lo", "fe80::1", AF_INET6, -1),
	OKH("[fe80::1%1]:7", "fe80::1", AF_INET6, 7),
	OKH(":7", "", 0, 7),
	OKH("*:7", "", 0, 7),
	OKH("*", "", 0, -1),
	OKH("localhost", "localhost", 0, -1),
	OKH("host-1.example:09", "host-1.example", 0, 9),
	OKU("unix:/run/anyechod.sock", "/run/anyechod.sock"),
	OKU("unix:relative.sock", "relative.sock"),
	OKU("unix-dgram:/tmp/d", "/tmp/d"),
	OKU("unix-seqpacket:/tmp/s", "/tmp/s"),
	OKU("unix-stream:/tmp/t", "/tmp/t"),
	OKU("unix:@anyecho", "@anyecho"),
	OKU(max_path, NULL),
	OKU(max_abstract, NULL),
	BAD("", "empty endpoint"),
	BAD(NULL, "empty endpoint"),
	BAD("host:", "missing port after ':'"),
	BAD("host:70000", "port 70000 out of range"),
	BAD("host:65536", "port 65536 out of range"),
	BAD("host:99999999999999999999", "out of range"),
	BAD("host:-1", "bad port '-1'"),
	BAD("host:12ab", "bad port '12ab'"),
	BAD("host:nosuchservice", "unknown service 'nosuchservice'"),
	BAD("[::1", "missing ']'"),
	BAD("[::1]x", "unexpected 'x' after ']'"),
	BAD("[::1]:", "missing port after ':'"),
	BAD("[]:7", "empty IPv6 address"),
	BAD("[127.0.0.1]:7", "bad IPv6 address '127.0.0.1'"),
	BAD("[example.com]:7", "bad IPv6 address"),
	BAD("1:2:3:4:5:6:7:8:9", "bad IPv6 address"),
	BAD("::1::2", "bad IPv6 address"),
	BAD("fe80::1%", "empty scope id"),
	BAD("fe80::1%nosuchif0", "unknown interface 'nosuchif0'"),
	BAD("127.0.0.1%lo", "scope id '%lo' needs an IPv6 address"),
	BAD("256.1.1.1", "bad IPv4 address '256.1.1.1'"),
	BAD("127.1", "bad IPv4 address '127.1'"),
	BAD("a..b", "empty label"),
	BAD(".a", "empty label"),
	BAD("bad host", "bad character ' '"),
	BAD("bad/host:7", "bad character '/'"),
	BAD(long_label, "label longer than 63 bytes"),
	BAD(long_name, "limit is 253"),
	BAD("unix:", "empty unix socket path"),
	BAD("unix:@", "empty abstract unix name"),
	BAD(long_path, "unix path is 130 bytes, limit is 107"),
};

static int
setup_strings(void **state)
{
	(void)state;
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".example");
	for (int i = 0; i < 26; i++)
		memcpy(long_name + i * 10, "abcdefghi.", 10);
	long_name[260] = '\0';
	strcpy(long_path, "unix:/");
	memset(long_path + 6, 'p', 129);
	strcpy(max_path, "unix:/");
	memset(max_path + 6, 'p', 106);
	strcpy(max_abstract, "unix:@");
	memset(max_abstract + 6, 'q', 107);
	return 0;
}

static void
test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < AE_NELEM(cases); i++) {
		const struct parse_case *c = &cases[i];
		struct addr_spec spec;
		char err[ADDR_ERRLEN] = "";
		int rc = addr_parse(&spec, c->in, err, sizeof(err));

		print_message("case %zu: '%.40s' -> %d %s\n", i, c->in ? c->in : "(null)", rc, err);
		if (!c->ok) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, c->err));
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(spec.kind, c->kind);
		if (c->kind == ADDR_KIND_UNIX) {
			if (c->host != NULL)
				assert_string_equal(spec.path, c->host);
			assert_int_equal(spec.pathlen, strlen(c->in) - (size_t)(strchr(c->in, ':') - c->in) - 1);
			continue;
		}
		assert_string_equal(spec.host, c->host);
		assert_int_equal(spec.literal, c->literal);
		assert_int_equal(spec.port, c->port);
	}
}

static void
test_parse_unix_types(void **state)
{
	struct addr_spec spec;
	char err[ADDR_ERRLEN];

	(void)state;
	assert_int_equal(addr_parse(&spec, "unix-dgram:/x", err, sizeof(err)), 0);
	assert_int_equal(spec.socktype, SOCK_DGRAM);
	assert_int_equal(addr_parse(&spec, "unix:/x", err, sizeof(err)), 0);
	assert_int_equal(spec.socktype, 0);
	assert_int_equal(addr_parse(&spec, "unix:@x", err, sizeof(err)), 0);
	assert_true(spec.abstract);
}

static void
test_scope_id(void **state)
{
	struct addr_spec spec;
	char err[ADDR_ERRLEN], text[64];
	unsigned lo = if_nametoindex("lo");

	(void)state;
	assert_int_equal(addr_parse(&spec, "fe80::1%lo", err, sizeof(err)), 0);
	assert_int_not_equal(spec.scope, 0);
	if (lo == 0)
		return; /* no loopback interface to name by its index */
	snprintf(text, sizeof(text), "[fe80::1%%%u]:7", lo);
	assert_int_equal(addr_parse(&spec, text, err, sizeof(err)), 0);
	assert_int_equal(spec.scope, lo);
}

/* An index no interface has is refused as an unknown name is: %99999 was
 * taken (and failed later, "network unreachable") while %4294967296 was
 * refused. */
static void
test_scope_unknown_index(void **state)
{
	static const char *const bad[] = { "99999", "4294967295", "4294967296", "0",
		"99999999999999999999", "no-such-if0" };
	struct addr_spec spec;
	char err[ADDR_ERRLEN], text[64], want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[IF_NAMESIZE];
		char *end;
		unsigned long v = strtoul(bad[i], &end, 10);
		if (*end == '\0' && v > 0 && v <= 0xffffffffUL &&
		    if_indextoname((unsigned)v, name) != NULL)
			continue; /* this host happens to have it */
		snprintf(text, sizeof(text), "fe80::1%%%s", bad[i]);
		snprintf(want, sizeof(want), "unknown interface '%s' in scope id", bad[i]);
		assert_int_equal(addr_parse(&spec, text, err, sizeof(err)), -1);
		assert_string_equal(err, want);
		assert_int_equal(addr_scope_index(bad[i]), 0);
	}
}

/* Run addr_local on an endpoint and render the list as "fam type addr;..." */
static int
local(const char *in, int family, unsigned types, bool passive, char *out, size_t len)
{
	struct addr_hints h = { family, types, passive, 7 };
	struct addr_spec spec;
	struct addr_list list = { 0 };
	char err[ADDR_ERRLEN], buf[ADDR_STRLEN];
	size_t off = 0;
	int rc;

	out[0] = '\0';
	assert_int_equal(addr_parse(&spec, in, err, sizeof(err)), 0);
	rc = addr_local(&spec, &h, &list, err, sizeof(err));
	if (rc == -1)
		snprintf(out, len, "error: %s", err);
	for (size_t i = 0; i < list.n; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s %s %s", i ? ";" : "",
		    addr_family_name(list.v[i].family), addr_type_name(list.v[i].socktype),
		    addr_format(&list.v[i], buf, sizeof(buf)));
	addr_list_free(&list);
	return rc;
}

struct local_case {
	const char *in;
	int family;
	unsigned types;
	bool passive;
	int rc;
	const char *want;
};

#define ST ADDR_STREAM
#define DG ADDR_DGRAM
#define SP ADDR_SEQPACKET
static const struct local_case local_cases[] = {
	/* passive fallback: both wildcards, IPv6 first, one entry per type */
	{ "*", AF_UNSPEC, ST | DG, true, 1,
	    "IPv6 stream [::]:7;IPv6 dgram [::]:7;IPv4 stream 0.0.0.0:7;IPv4 dgram 0.0.0.0:7" },
	{ ":9", AF_INET, ST, true, 1, "IPv4 stream 0.0.0.0:9" },
	{ ":9", AF_INET6, DG, true, 1, "IPv6 dgram [::]:9" },
	/* no host, not passive: loopback, as getaddrinfo(NULL) does */
	{ ":7", AF_UNSPEC, ST, false, 1, "IPv6 stream [::1]:7;IPv4 stream 127.0.0.1:7" },
	/* localhost is both loopbacks whatever the hosts file says */
	{ "localhost", AF_UNSPEC, ST, false, 1, "IPv6 stream [::1]:7;IPv4 stream 127.0.0.1:7" },
	{ "LocalHost.:8", AF_INET, DG, false, 1, "IPv4 dgram 127.0.0.1:8" },
	{ "a.b.localhost", AF_INET6, ST, false, 1, "IPv6 stream [::1]:7" },
	{ "notlocalhost", AF_UNSPEC, ST, false, 0, "" },
	{ "example.com", AF_UNSPEC, ST, false, 0, "" },
	/* literals */
	{ "192.0.2.1:100", AF_UNSPEC, ST | DG, false, 1,
	    "IPv4 stream 192.0.2.1:100;IPv4 dgram 192.0.2.1:100" },
	{ "2001:db8::1", AF_UNSPEC, DG, false, 1, "IPv6 dgram [2001:db8::1]:7" },
	{ "[fe80::1%lo]:7", AF_UNSPEC, ST, false, 1, "IPv6 stream [fe80::1%lo]:7" },
	{ "::1", AF_INET, ST, false, -1, "error: ::1 is an IPv6 address, but only IPv4 was asked for" },
	{ "127.0.0.1", AF_INET6, ST, false, -1,
	    "error: 127.0.0.1 is an IPv4 address, but only IPv6 was asked for" },
	{ "127.0.0.1", AF_UNSPEC, SP, false, -1, "error: seqpacket is available on unix endpoints only" },
	/* unix: one entry, of the scheme's type or the first asked for */
	{ "unix:/tmp/s", AF_INET, ST | DG, false, 1, "unix stream unix:/tmp/s" },
	{ "unix:/tmp/s", AF_UNSPEC, DG, false, 1, "unix dgram unix:/tmp/s" },
	{ "unix-seqpacket:/tmp/s", AF_UNSPEC, ST, false, 1, "unix seqpacket unix:/tmp/s" },
	{ "unix:@abs", AF_UNSPEC, SP, true, 1, "unix seqpacket unix:@abs" },
};

static void
test_local_table(void **state)
{
	char out[512];

	(void)state;
	for (size_t i = 0; i < AE_NELEM(local_cases); i++) {
		const struct local_case *c = &local_cases[i];
		int rc = local(c->in, c->family, c->types, c->passive, out, sizeof(out));
		print_message("local %zu: %s -> %d %s\n", i, c->in, rc, out);
		assert_int_equal(rc, c->rc);
		assert_string_equal(out, c->want);
	}
}

static void
test_list_dedup_and_unmap(void **state)
{
	struct addr_list list = { 0 };
	struct addr_hints h = { AF_UNSPEC, ADDR_STREAM | ADDR_DGRAM, false, 7 };
	struct sockaddr_in6 s6;
	char buf[ADDR_STRLEN];

	(void)state;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	assert_int_equal(addr_list_add_ip(&list, (struct sockaddr *)&s6, &h, 7), 0);
	assert_int_equal(addr_list_add_ip(&list, (struct sockaddr *)&s6, &h, 7), 0);
	assert_int_equal(list.n, 2); /* one per type, duplicates dropped */
	addr_unmap(&list.v[0]);
	assert_int_equal(list.v[0].family, AF_INET);
	assert_string_equal(addr_format(&list.v[0], buf, sizeof(buf)), "192.0.2.7:7");
	addr_set_port(&list.v[1], 9);
	assert_int_equal(addr_port(&list.v[1]), 9);
	assert_string_equal(addr_format_host(&list.v[1], buf, sizeof(buf)), "::ffff:192.0.2.7");
	/* IPv4-compatible (deprecated): hex whatever the libc (glibc's
	 * inet_ntop dots it, musl's does not), as RFC 5952 writes it. */
	inet_pton(AF_INET6, "::192.0.2.7", &((struct sockaddr_in6 *)&list.v[1].sa)->sin6_addr);
	assert_string_equal(addr_format_host(&list.v[1], buf, sizeof(buf)), "::c000:207");
	inet_pton(AF_INET6, "::1.2.0.0", &((struct sockaddr_in6 *)&list.v[1].sa)->sin6_addr);
	assert_string_equal(addr_format_host(&list.v[1], buf, sizeof(buf)), "::102:0");
	inet_pton(AF_INET6, "::0.0.0.7", &((struct sockaddr_in6 *)&list.v[1].sa)->sin6_addr);
	assert_string_equal(addr_format_host(&list.v[1], buf, sizeof(buf)), "::7");
	addr_list_free(&list);
	addr_list_free(&list);
	addr_list_free(NULL);
}

/* An endpoint for addr_overlaps: "127.0.0.1", "::", "fe80::1%2" (scope
 * id a number) or "unix:/path", with a type and a port. */
static struct addr
ep(const char *host, int socktype, int port)
{
	struct addr a;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a.sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.sa;
	struct sockaddr_un *un = (struct sockaddr_un *)&a.sa;
	char ip[INET6_ADDRSTRLEN];
	const char *pct = strchr(host, '%');

	memset(&a, 0, sizeof(a));
	a.socktype = socktype;
	snprintf(ip, sizeof(ip), "%.*s", pct != NULL ? (int)(pct - host) : (int)strlen(host), host);
	if (strncmp(host, "unix:", 5) == 0) {
		a.family = un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", host + 5);
		a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(host + 5) + 1);
	} else if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		a.family = s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		a.len = sizeof(*s4);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		a.family = s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_scope_id = pct != NULL ? (uint32_t)atoi(pct + 1) : 0;
		a.len = sizeof(*s6);
	}
	return a;
}

/* Endpoints of one server that cannot both be bound: anyechod said
 * "address already in use" for them, the words for another process. */
static void
test_overlaps(void **state)
{
	static const struct {
		const char *before, *later;
		int tb, pb, tl, pl;
		bool dualstack, want;
	} ov[] = {
		{ "0.0.0.0", "127.0.0.1", SOCK_STREAM, 7, SOCK_STREAM, 7, false, true },
		{ "127.0.0.1", "0.0.0.0", SOCK_DGRAM, 7, SOCK_DGRAM, 7, false, true },
		{ "0.0.0.0", "127.0.0.1", SOCK_STREAM, 7, SOCK_DGRAM, 7, false, false },
		{ "0.0.0.0", "127.0.0.1", SOCK_STREAM, 7, SOCK_STREAM, 8, false, false },
		{ "0.0.0.0", "127.0.0.1", SOCK_STREAM, 0, SOCK_STREAM, 0, false, false },
		{ "127.0.0.1", "127.0.0.2", SOCK_STREAM, 7, SOCK_STREAM, 7, false, false },
		{ "127.0.0.1", "127.0.0.1", SOCK_STREAM, 7, SOCK_STREAM, 7, false, false }, /* merged */
		{ "::", "::1", SOCK_STREAM, 7, SOCK_STREAM, 7, false, true },
		{ "fe80::1%2", "::", SOCK_STREAM, 7, SOCK_STREAM, 7, false, true },
		{ "fe80::1%2", "fe80::1%3", SOCK_STREAM, 7, SOCK_STREAM, 7, false, false },
		{ "fe80::1%2", "fe80::1", SOCK_STREAM, 7, SOCK_STREAM, 7, false, true },
		/* v6-only [::] and IPv4 are apart; dual-stack [::] takes IPv4 */
		{ "::", "0.0.0.0", SOCK_STREAM, 7, SOCK_STREAM, 7, false, false },
		{ "::", "127.0.0.1", SOCK_STREAM, 7, SOCK_STREAM, 7, false, false },
		{ "::", "127.0.0.1", SOCK_STREAM, 7, SOCK_STREAM, 7, true, true },
		{ "127.0.0.1", "::", SOCK_DGRAM, 7, SOCK_DGRAM, 7, true, true },
		{ "0.0.0.0", "::", SOCK_STREAM, 7, SOCK_STREAM, 7, true, true },
		{ "::", "0.0.0.0", SOCK_STREAM, 7, SOCK_STREAM, 7, true, false }, /* covered */
		{ "::1", "0.0.0.0", SOCK_STREAM, 7, SOCK_STREAM, 7, true, false },
		{ "::ffff:127.0.0.1", "127.0.0.1", SOCK_STREAM, 7, SOCK_STREAM, 7, true, true },
		{ "::ffff:127.0.0.1", "127.0.0.2", SOCK_STREAM, 7, SOCK_STREAM, 7, true, false },
		/* a unix path holds one socket, whatever its type */
		{ "unix:/tmp/s", "unix:/tmp/s", SOCK_STREAM, 0, SOCK_DGRAM, 0, false, true },
		{ "unix:/tmp/s", "unix:/tmp/s", SOCK_STREAM, 0, SOCK_STREAM, 0, false, false },
		{ "unix:/tmp/s", "unix:/tmp/t", SOCK_STREAM, 0, SOCK_DGRAM, 0, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ov) / sizeof(ov[0]); i++) {
		struct addr b = ep(ov[i].before, ov[i].tb, ov[i].pb);
		struct addr l = ep(ov[i].later, ov[i].tl, ov[i].pl);
		if (addr_overlaps(&b, &l, ov[i].dualstack) != ov[i].want)
			fail_msg("case %zu: %s then %s%s: want %s", i, ov[i].before, ov[i].later,
			    ov[i].dualstack ? " (dualstack)" : "", ov[i].want ? "overlap" : "none");
	}
}

/* Answers that are no path to a name: unspecified and v4-mapped; every
 * other address is one. */
static void
test_not_a_path(void **state)
{
	static const struct {
		const char *ip;
		const char *words; /* NULL: a path */
	} paths[] = {
		{ "0.0.0.0", "DNS answered 0.0.0.0, unspecified: the name is blocked or unset" },
		{ "::", "DNS answered ::, unspecified: the name is blocked or unset" },
		{ "::ffff:127.0.0.1", "DNS answered ::ffff:127.0.0.1, a v4-mapped address: "
		                      "not an IPv6 path" },
		{ "::ffff:0.0.0.0", "DNS answered ::ffff:0.0.0.0, a v4-mapped address: "
		                    "not an IPv6 path" },
		{ "127.0.0.1", NULL },
		{ "0.0.0.1", NULL },
		{ "::1", NULL },
		{ "::127.0.0.1", NULL }, /* IPv4-compatible (deprecated): IPv6 on the wire */
		{ "2001:db8::", NULL },
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct addr a;
		bool v6 = strchr(paths[i].ip, ':') != NULL;

		memset(&a, 0, sizeof(a));
		a.family = v6 ? AF_INET6 : AF_INET;
		a.sa.ss_family = (sa_family_t)a.family;
		if (v6)
			inet_pton(AF_INET6, paths[i].ip, &((struct sockaddr_in6 *)&a.sa)->sin6_addr);
		else
			inet_pton(AF_INET, paths[i].ip, &((struct sockaddr_in *)&a.sa)->sin_addr);
		buf[0] = '\0';
		assert_int_equal(addr_not_a_path(&a, buf, sizeof(buf)), paths[i].words != NULL);
		if (paths[i].words != NULL)
			assert_string_equal(buf, paths[i].words);
	}
}

static void
test_parse_port(void **state)
{
	char err[ADDR_ERRLEN];
	int port = -1;

	(void)state;
	assert_int_equal(addr_parse_port("echo", &port, err, sizeof(err)), 0);
	assert_int_equal(port, 7);
	assert_int_equal(addr_parse_port("0", &port, err, sizeof(err)), 0);
	assert_int_equal(port, 0);
	assert_int_equal(addr_parse_port("", &port, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing port"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_unix_types),
		cmocka_unit_test(test_scope_id),
		cmocka_unit_test(test_scope_unknown_index),
		cmocka_unit_test(test_local_table),
		cmocka_unit_test(test_list_dedup_and_unmap),
		cmocka_unit_test(test_not_a_path),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_overlaps),
	};
	return cmocka_run_group_tests(tests, setup_strings, NULL);
}

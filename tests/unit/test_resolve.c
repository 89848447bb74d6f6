/* resolve: the c-ares status map and messages, and the resolver's contract
 * on a real c-ares channel without any network: hosts-file answers (which
 * c-ares gives synchronously) and literals arrive only through the loop,
 * cancelled lookups stay silent, many lookups share one channel, and a DNS
 * server that refuses fails fast with its address in the message. */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <ares.h>

#include "resolve.h"

static const struct {
	int ares;
	enum resolve_status st;
	const char *words;
} status_map[] = {
	{ ARES_SUCCESS, RESOLVE_OK, "ok" },
	{ ARES_ENOTFOUND, RESOLVE_ENOTFOUND, "name not found: n.example" },
	{ ARES_ENODATA, RESOLVE_ENODATA, "no IPv6 address for n.example" },
	{ ARES_ETIMEOUT, RESOLVE_ETIMEOUT, "DNS server 192.0.2.53:53 did not answer within 1500 ms for n.example" },
	{ ARES_ESERVFAIL, RESOLVE_ESERVFAIL, "DNS server 192.0.2.53:53 failed to resolve n.example (SERVFAIL)" },
	{ ARES_EREFUSED, RESOLVE_EREFUSED, "DNS server 192.0.2.53:53 refused to resolve n.example" },
	{ ARES_ECONNREFUSED, RESOLVE_ECONN, "could not reach DNS server 192.0.2.53:53 to resolve n.example" },
	{ ARES_EFORMERR, RESOLVE_EBADRESP, "bad answer from DNS server 192.0.2.53:53 for n.example" },
	{ ARES_ENOTIMP, RESOLVE_EBADRESP, "bad answer from DNS server" },
	{ ARES_EBADRESP, RESOLVE_EBADRESP, "bad answer from DNS server" },
	{ ARES_EBADNAME, RESOLVE_EBADNAME, "bad name: n.example" },
	{ ARES_ENOMEM, RESOLVE_ENOMEM, "out of memory resolving n.example" },
	{ ARES_ECANCELLED, RESOLVE_ECANCELLED, "lookup of n.example cancelled" },
	{ ARES_EDESTRUCTION, RESOLVE_ECANCELLED, "lookup of n.example cancelled" },
	{ ARES_EBADFAMILY, RESOLVE_EOTHER, "lookup of n.example failed: " },
	{ ARES_EBADFLAGS, RESOLVE_EOTHER, "lookup of n.example failed: " },
	{ ARES_EFILE, RESOLVE_EOTHER, "lookup of n.example failed: " },
};

static void
test_status_map(void **state)
{
	char buf[256];

	(void)state;
	for (size_t i = 0; i < AE_NELEM(status_map); i++) {
		enum resolve_status st = resolve_status_from_ares(status_map[i].ares);
		assert_int_equal(st, status_map[i].st);
		resolve_describe(buf, sizeof(buf), st, status_map[i].ares, "n.example", AF_INET6,
		    "192.0.2.53:53", 1500);
		print_message("%s -> %s\n", ares_strerror(status_map[i].ares), buf);
		assert_non_null(strstr(buf, status_map[i].words));
	}
	resolve_describe(buf, sizeof(buf), RESOLVE_ENODATA, ARES_ENODATA, "x", AF_UNSPEC, "", 1);
	assert_string_equal(buf, "no address for x");
}

/* c-ares 1.18 gives ECONNREFUSED for "no server reached" and for "every
 * server said SERVFAIL or REFUSED"; the RCODE of an answer tells which. */
static const struct {
	int ares, rcode;
	enum resolve_status st;
	const char *name, *word;
} classify_map[] = {
	{ ARES_ECONNREFUSED, -1, RESOLVE_ECONN, "unreachable", "unreachable" },
	{ ARES_ECONNREFUSED, 0, RESOLVE_ECONN, "unreachable", "unreachable" },
	{ ARES_ECONNREFUSED, 1, RESOLVE_EBADRESP, "bad_answer", "bad answer" },
	{ ARES_ECONNREFUSED, 2, RESOLVE_ESERVFAIL, "servfail", "SERVFAIL" },
	{ ARES_ECONNREFUSED, 3, RESOLVE_ENOTFOUND, "nxdomain", "NXDOMAIN" },
	{ ARES_ECONNREFUSED, 4, RESOLVE_EBADRESP, "bad_answer", "bad answer" },
	{ ARES_ECONNREFUSED, 5, RESOLVE_EREFUSED, "refused", "REFUSED" },
	/* newer c-ares says it itself; an RCODE does not overrule a status */
	{ ARES_ESERVFAIL, -1, RESOLVE_ESERVFAIL, "servfail", "SERVFAIL" },
	{ ARES_EREFUSED, -1, RESOLVE_EREFUSED, "refused", "REFUSED" },
	{ ARES_ENODATA, 0, RESOLVE_ENODATA, "nodata", "NODATA" },
	{ ARES_ENOTFOUND, 3, RESOLVE_ENOTFOUND, "nxdomain", "NXDOMAIN" },
	{ ARES_ETIMEOUT, -1, RESOLVE_ETIMEOUT, "timeout", "timeout" },
	{ ARES_SUCCESS, 2, RESOLVE_OK, "ok", "ok" },
	{ ARES_ECANCELLED, -1, RESOLVE_ECANCELLED, "cancelled", "cancelled" },
	{ ARES_EFILE, -1, RESOLVE_EOTHER, "error", "error" },
};

static void
test_classify(void **state)
{
	char buf[256];

	(void)state;
	for (size_t i = 0; i < AE_NELEM(classify_map); i++) {
		enum resolve_status st = resolve_status_classify(classify_map[i].ares,
		    classify_map[i].rcode);
		print_message("%s + rcode %d -> %s\n", ares_strerror(classify_map[i].ares),
		    classify_map[i].rcode, resolve_status_name(st));
		assert_int_equal(st, classify_map[i].st);
		assert_string_equal(resolve_status_name(st), classify_map[i].name);
		assert_string_equal(resolve_status_word(st), classify_map[i].word);
	}
	/* Each status has a name of its own, and the message names it too. */
	assert_string_equal(resolve_status_name((enum resolve_status)99), "error");
	resolve_describe(buf, sizeof(buf), resolve_status_classify(ARES_ECONNREFUSED, 5),
	    ARES_ECONNREFUSED, "n.example", AF_INET, "192.0.2.53:53", 800);
	assert_string_equal(buf, "DNS server 192.0.2.53:53 refused to resolve n.example");
	resolve_describe(buf, sizeof(buf), RESOLVE_ETIMEOUT, ARES_ETIMEOUT, "n.example", AF_INET,
	    "192.0.2.53:53", 800);
	assert_string_equal(buf, "DNS server 192.0.2.53:53 did not answer within 800 ms for n.example");
}

struct result {
	int calls;
	enum resolve_status st;
	char text[512];
	char err[256];
	char server[256];
	bool answered;
	double ms;
	int family;
};

static void
on_result(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg,
    const struct resolve_info *info)
{
	struct result *r = arg;
	char buf[ADDR_STRLEN];
	size_t off = 0;

	r->calls++;
	r->st = st;
	snprintf(r->server, sizeof(r->server), "%s", info->server);
	r->answered = info->answered;
	r->ms = info->ms;
	r->family = info->family;
	if (errmsg != NULL)
		snprintf(r->err, sizeof(r->err), "%s", errmsg);
	for (size_t i = 0; i < list->n; i++)
		off += (size_t)snprintf(r->text + off, sizeof(r->text) - off, "%s%s/%s", i ? " " : "",
		    addr_format(&list->v[i], buf, sizeof(buf)), addr_type_name(list->v[i].socktype));
	addr_list_free(list);
}

struct fixture {
	struct evloop *loop;
	struct resolver *res;
	char hosts[64];
};

static int
setup(void **state)
{
	static struct fixture f;
	struct resolve_opts o = { .timeout_ms = 2000, .tries = 1, .servers = "127.0.0.1:1" };
	char err[256];
	FILE *fp;
	int fd;

	strcpy(f.hosts, "/tmp/ae-hostsXXXXXX");
	fd = mkstemp(f.hosts);
	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL)
		return -1;
	fprintf(fp, "192.0.2.10 both.test\n2001:db8::10 both.test\n2001:db8::11 v6.test\n");
	fclose(fp);
	setenv("CARES_HOSTS", f.hosts, 1);
	f.loop = evloop_new(EVLOOP_DEFAULT);
	if (f.loop == NULL || resolver_new(&f.res, f.loop, &o, err, sizeof(err)) == -1)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	resolver_free(f->res);
	evloop_free(f->loop);
	unlink(f->hosts);
	return 0;
}

static struct resolve_query *
start(struct fixture *f, const char *name, int family, unsigned types, struct result *r)
{
	struct addr_hints h = { family, types, false, 7 };
	struct addr_spec spec;
	char err[ADDR_ERRLEN];

	assert_int_equal(addr_parse(&spec, name, err, sizeof(err)), 0);
	return resolve_start(f->res, &spec, &h, on_result, r);
}

static void
test_never_synchronous(void **state)
{
	struct fixture *f = *state;
	struct result lit = { 0 }, hosts = { 0 }, v4 = { 0 };

	assert_non_null(start(f, "[2001:db8::1]:9", AF_UNSPEC, ADDR_STREAM, &lit));
	assert_non_null(start(f, "both.test", AF_UNSPEC, ADDR_STREAM | ADDR_DGRAM, &hosts));
	assert_non_null(start(f, "both.test", AF_INET, ADDR_DGRAM, &v4));
	assert_int_equal(lit.calls + hosts.calls + v4.calls, 0);
	assert_int_equal(evloop_run(f->loop), 0);
	assert_int_equal(lit.calls, 1);
	assert_string_equal(lit.text, "[2001:db8::1]:9/stream");
	assert_int_equal(hosts.calls, 1);
	assert_int_equal(hosts.st, RESOLVE_OK);
	/* both families, one entry per address and type */
	assert_non_null(strstr(hosts.text, "[2001:db8::10]:7/stream"));
	assert_non_null(strstr(hosts.text, "[2001:db8::10]:7/dgram"));
	assert_non_null(strstr(hosts.text, "192.0.2.10:7/stream"));
	assert_non_null(strstr(hosts.text, "192.0.2.10:7/dgram"));
	assert_string_equal(v4.text, "192.0.2.10:7/dgram");
	/* who answered, and what was asked */
	assert_string_equal(lit.server, "local");
	assert_true(lit.answered);
	assert_string_equal(hosts.server, "hosts file");
	assert_true(hosts.answered);
	assert_int_equal(hosts.family, AF_UNSPEC);
	assert_int_equal(v4.family, AF_INET);
	assert_true(hosts.ms >= 0 && hosts.ms < 2000);
}

static void
test_cancel_is_silent(void **state)
{
	struct fixture *f = *state;
	struct result a = { 0 }, b = { 0 };

	resolve_cancel(start(f, "127.0.0.1", AF_UNSPEC, ADDR_STREAM, &a));
	resolve_cancel(start(f, "both.test", AF_UNSPEC, ADDR_STREAM, &b));
	assert_int_equal(evloop_run(f->loop), 0);
	assert_int_equal(a.calls + b.calls, 0);
}

static void
test_family_mismatch(void **state)
{
	struct fixture *f = *state;
	struct result r = { 0 };

	start(f, "::1", AF_INET, ADDR_STREAM, &r);
	assert_int_equal(evloop_run(f->loop), 0);
	assert_int_equal(r.st, RESOLVE_ENODATA);
	assert_string_equal(r.err, "::1 is an IPv6 address, but only IPv4 was asked for");
}

static void
test_refused_server_named(void **state)
{
	struct fixture *f = *state;
	struct result r = { 0 };
	uint64_t t0 = evloop_clock_ms();

	/* Not in the hosts file, so DNS is asked: port 1 answers with ICMP
	 * port unreachable, well before the 2000 ms deadline. */
	start(f, "absent.test", AF_UNSPEC, ADDR_STREAM, &r);
	assert_int_equal(evloop_run(f->loop), 0);
	assert_int_equal(r.calls, 1);
	assert_int_not_equal(r.st, RESOLVE_OK);
	assert_non_null(strstr(r.err, "127.0.0.1:1"));
	assert_true(evloop_clock_ms() - t0 < 2500);
	/* nobody answered: the report names the servers asked */
	print_message("%s (%.1f ms)\n", r.err, r.ms);
	assert_false(r.answered);
	assert_string_equal(r.server, "127.0.0.1:1");
}

static void
test_bad_server_list(void **state)
{
	struct fixture *f = *state;
	struct resolve_opts o = { .servers = "not an address" };
	struct resolver *r = NULL;
	char err[256] = "";

	assert_int_equal(resolver_new(&r, f->loop, &o, err, sizeof(err)), -1);
	assert_null(r);
	assert_non_null(strstr(err, "bad DNS server list 'not an address'"));
}

/* c-ares from 1.24 drops a link-local server without its interface, and
 * every version keeps one server per address and port: the resolver names
 * the one dropped rather than resolve through fewer servers than asked
 * (here, through 127.0.0.1 alone). c-ares before 1.24 takes it (and cannot
 * reach it: --dns-server refuses it there). */
static void
test_dropped_server(void **state)
{
	struct fixture *f = *state;
	struct resolve_opts o = { .servers = "127.0.0.1:53,[fe80::1]:53,127.0.0.1:53" };
	struct resolve_cares c;
	struct resolver *r = NULL;
	char err[256] = "";
	int rc;

	resolve_cares(&c);
	rc = resolver_new(&r, f->loop, &o, err, sizeof(err));
	print_message("c-ares %s: %s\n", c.text, rc == 0 ? "taken" : err);
	if (c.version < RESOLVE_IFACE_VERSION) {
		assert_int_equal(rc, 0);
		resolver_free(r);
		return;
	}
	assert_int_equal(rc, -1);
	assert_null(r);
	assert_non_null(strstr(err, "drops '[fe80::1]:53' without a word"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_map),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_never_synchronous),
		cmocka_unit_test(test_cancel_is_silent),
		cmocka_unit_test(test_family_mismatch),
		cmocka_unit_test(test_refused_server_named),
		cmocka_unit_test(test_bad_server_list),
		cmocka_unit_test(test_dropped_server),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

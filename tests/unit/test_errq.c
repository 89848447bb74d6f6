/* errq_describe and errq_too_big from a table: the words a user reads
 * for each kind of error the queue brings. (Reading the queue itself is
 * covered by tests/integ/client-icmp.sh in namespaces.) */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "errq.h"

struct row {
	enum errq_origin origin;
	int errnum, type, code;
	unsigned info;
	const char *from;
	bool too_big;
	const char *want; /* for ERRQ_LOCAL: what follows the libc's strerror() */
};

static const struct row rows[] = {
	{ ERRQ_ICMP, ECONNREFUSED, 3, 3, 0, "192.0.2.2", false,
	    "port unreachable (ICMP type 3 code 3) from 192.0.2.2" },
	{ ERRQ_ICMP, EHOSTUNREACH, 3, 13, 0, "192.0.2.2", false,
	    "administratively prohibited (ICMP type 3 code 13) from 192.0.2.2" },
	{ ERRQ_ICMP, EMSGSIZE, 3, 4, 1000, "192.0.2.254", true,
	    "fragmentation needed (ICMP type 3 code 4, MTU 1000) from 192.0.2.254" },
	{ ERRQ_ICMP, EHOSTUNREACH, 11, 0, 0, "192.0.2.254", false,
	    "time exceeded (ICMP type 11 code 0) from 192.0.2.254" },
	{ ERRQ_ICMP, EHOSTUNREACH, 3, 99, 0, NULL, false, "unreachable (ICMP type 3 code 99)" },
	{ ERRQ_ICMP6, ENETUNREACH, 1, 0, 0, "2001:db8:1::ff", false,
	    "no route (ICMPv6 type 1 code 0) from 2001:db8:1::ff" },
	{ ERRQ_ICMP6, EACCES, 1, 1, 0, "2001:db8::2", false,
	    "administratively prohibited (ICMPv6 type 1 code 1) from 2001:db8::2" },
	{ ERRQ_ICMP6, ECONNREFUSED, 1, 4, 0, "2001:db8::2", false,
	    "port unreachable (ICMPv6 type 1 code 4) from 2001:db8::2" },
	{ ERRQ_ICMP6, EMSGSIZE, 2, 0, 1280, "2001:db8:1::ff", true,
	    "packet too big (ICMPv6 type 2 code 0, MTU 1280) from 2001:db8:1::ff" },
	{ ERRQ_LOCAL, EMSGSIZE, -1, -1, 1500, NULL, true, " (local, MTU 1500)" },
};

static void
fill(struct errq_msg *m, const struct row *r)
{
	memset(m, 0, sizeof(*m));
	m->origin = r->origin;
	m->errnum = r->errnum;
	m->type = r->type;
	m->code = r->code;
	m->info = r->info;
	m->from.ss_family = AF_UNSPEC;
	if (r->from != NULL && strchr(r->from, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&m->from;
		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, r->from, &a->sin6_addr), 1);
	} else if (r->from != NULL) {
		struct sockaddr_in *a = (struct sockaddr_in *)&m->from;
		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, r->from, &a->sin_addr), 1);
	}
}

static void
test_words(void **state)
{
	char buf[256], want[256];

	(void)state;
	for (size_t i = 0; i < AE_NELEM(rows); i++) {
		struct errq_msg m;
		fill(&m, &rows[i]);
		/* A local error is in the libc's words, which differ: EMSGSIZE is
		 * "Message too long" in glibc, "Message too large" in musl. */
		snprintf(want, sizeof(want), "%s%s",
		    rows[i].origin == ERRQ_LOCAL ? strerror(rows[i].errnum) : "", rows[i].want);
		assert_string_equal(errq_describe(&m, buf, sizeof(buf)), want);
		assert_int_equal(errq_too_big(&m), rows[i].too_big);
	}
}

/* A buffer too small cuts the words, never overruns. */
static void
test_short_buffer(void **state)
{
	char buf[8];
	struct errq_msg m;

	(void)state;
	fill(&m, &rows[0]);
	errq_describe(&m, buf, sizeof(buf));
	assert_string_equal(buf, "port un");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_short_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ratelimit: budgets per source on a clock the test moves, sources that
 * must and must not share a budget, and exact counts when two threads
 * draw on one budget at once. */
#include "common.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "ratelimit.h"

static struct sockaddr_storage
sa(const char *ip)
{
	struct sockaddr_storage ss;

	char host[INET6_ADDRSTRLEN];
	const char *pct = strchr(ip, '%');

	/* "fe80::1%3": the scope id as recvmmsg() reports it, a number. */
	snprintf(host, sizeof(host), "%.*s", pct != NULL ? (int)(pct - ip) : (int)strlen(ip), ip);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		if (pct != NULL)
			((struct sockaddr_in6 *)&ss)->sin6_scope_id = (uint32_t)atoi(pct + 1);
	} else
		fail_msg("bad address %s", ip);
	return ss;
}

static int
allowed(struct ratelimit *rl, const char *ip, uint64_t now, int tries)
{
	struct sockaddr_storage ss = sa(ip);
	int n = 0;

	for (int i = 0; i < tries; i++)
		n += ratelimit_allow(rl, (struct sockaddr *)&ss, now);
	return n;
}

static void
test_budget_and_refill(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 1);

	(void)state;
	assert_non_null(rl);
	assert_int_equal(allowed(rl, "192.0.2.1", 5000, 50), 10); /* a second's worth */
	assert_int_equal(allowed(rl, "192.0.2.1", 5099, 5), 0);   /* 99 ms: not one yet */
	assert_int_equal(allowed(rl, "192.0.2.1", 5100, 5), 1);
	assert_int_equal(allowed(rl, "192.0.2.1", 5350, 5), 2);   /* 250 ms: 2.5, spent 2 */
	assert_int_equal(allowed(rl, "192.0.2.1", 5400, 5), 1);   /* the half left + 0.5 */
	assert_int_equal(allowed(rl, "192.0.2.1", 60000, 50), 10); /* long idle: full, no more */
	ratelimit_free(rl);
}

static void
test_who_shares(void **state)
{
	struct ratelimit *rl = ratelimit_new(3, 1);

	(void)state;
	assert_int_equal(allowed(rl, "192.0.2.1", 1000, 5), 3);
	assert_int_equal(allowed(rl, "::ffff:192.0.2.1", 1000, 5), 0); /* same host */
	assert_int_equal(allowed(rl, "192.0.2.2", 1000, 5), 3);        /* another host */
	assert_int_equal(allowed(rl, "2001:db8:1:2::1", 1000, 5), 3);
	assert_int_equal(allowed(rl, "2001:db8:1:2:ffff::9", 1000, 5), 0); /* same /64 */
	assert_int_equal(allowed(rl, "2001:db8:1:3::1", 1000, 5), 3);      /* next /64 */
	ratelimit_free(rl);
}

/* Link-local sources are one per link (scope id), not one fe80::/64 for
 * every link: a host spending its budget on one interface left none for
 * hosts on the others. */
static void
test_link_local_by_link(void **state)
{
	struct ratelimit *rl = ratelimit_new(3, 1);

	(void)state;
	assert_int_equal(allowed(rl, "fe80::a%2", 1000, 5), 3);
	assert_int_equal(allowed(rl, "fe80::b%3", 1000, 5), 3);       /* another link */
	assert_int_equal(allowed(rl, "fe80::b%2", 1000, 5), 0);       /* same link */
	assert_int_equal(allowed(rl, "fe80:9:8:7::c%2", 1000, 5), 0); /* anywhere in fe80::/10 */
	assert_int_equal(allowed(rl, "fe80::a%4", 1000, 5), 3);
	assert_int_equal(allowed(rl, "fe80::2", 1000, 5), 3);
	assert_int_equal(allowed(rl, "2001:db8::1%2", 1000, 5), 3);
	ratelimit_free(rl);
}

static void
test_unix_and_bounds(void **state)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct ratelimit *rl = ratelimit_new(1, 1);

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_true(ratelimit_allow(rl, (struct sockaddr *)&un, 1000));
	assert_null(ratelimit_new(0, 1));
	assert_null(ratelimit_new(RATELIMIT_MAX + 1, 1));
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void
test_clock_wraps(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 1);
	uint64_t t = 0xffffffffull - 50; /* the 32-bit ms clock wraps 50 ms later */

	(void)state;
	assert_int_equal(allowed(rl, "192.0.2.1", t, 20), 10);
	assert_int_equal(allowed(rl, "192.0.2.1", t + 150, 20), 1);
	ratelimit_free(rl);
}

/* Workers cache their own clocks: one a millisecond behind the stamp
 * another wrote must get nothing back for it. */
static void
test_clock_behind_stamp(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 1);

	(void)state;
	assert_int_equal(allowed(rl, "192.0.2.1", 5001, 50), 10);
	assert_int_equal(allowed(rl, "192.0.2.1", 5000, 50), 0);
	assert_int_equal(allowed(rl, "192.0.2.1", 4000, 50), 0);
	/* The newer stamp stays: 100 ms after 5001, not after 5000. */
	assert_int_equal(allowed(rl, "192.0.2.1", 5100, 5), 0);
	assert_int_equal(allowed(rl, "192.0.2.1", 5101, 5), 1);
	ratelimit_free(rl);
}

/* An exhausted slot left idle for 25 to 49 days: the 32-bit gap is then
 * past 2^31 ms, which is no clock skew but time that passed: full again. */
static void
test_long_idle(void **state)
{
	static const uint64_t idle_days[] = { 1, 24, 25, 40, 49 };
	const uint64_t day = 86400000ull;

	(void)state;
	for (size_t i = 0; i < AE_NELEM(idle_days); i++) {
		struct ratelimit *rl = ratelimit_new(10, 1);
		uint64_t t = 1000 + idle_days[i] * day;
		assert_non_null(rl);
		assert_int_equal(allowed(rl, "192.0.2.9", 1000, 20), 10);
		assert_int_equal(allowed(rl, "192.0.2.9", t, 20), 10);
		/* and it refills as ever afterwards */
		assert_int_equal(allowed(rl, "192.0.2.9", t + 1000, 20), 10);
		ratelimit_free(rl);
	}
}

struct racer {
	struct ratelimit *rl;
	uint64_t now;
	int got;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	r->got = allowed(r->rl, "198.51.100.7", r->now, 200000);
	return NULL;
}

static void
test_two_threads_one_budget(void **state)
{
	struct racer r[2];
	pthread_t th[2];
	struct ratelimit *rl = ratelimit_new(1000, 1);

	(void)state;
	for (int i = 0; i < 2; i++) {
		r[i].rl = rl;
		r[i].now = 777;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r[0].got + r[1].got, 1000);
	ratelimit_free(rl);
}

/* Two workers whose clocks differ by 1 ms: one second's budget plus at
 * most the one reply that millisecond refills, whatever the interleaving. */
static void
test_two_threads_two_clocks(void **state)
{
	struct racer r[2];
	pthread_t th[2];
	struct ratelimit *rl = ratelimit_new(1000, 1);

	(void)state;
	for (int i = 0; i < 2; i++) {
		r[i].rl = rl;
		r[i].now = 5000 + (uint64_t)i;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	print_message("clock 5000: %d, clock 5001: %d\n", r[0].got, r[1].got);
	assert_in_range(r[0].got + r[1].got, 1000, 1001);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_and_refill),
		cmocka_unit_test(test_who_shares),
		cmocka_unit_test(test_link_local_by_link),
		cmocka_unit_test(test_unix_and_bounds),
		cmocka_unit_test(test_clock_wraps),
		cmocka_unit_test(test_clock_behind_stamp),
		cmocka_unit_test(test_long_idle),
		cmocka_unit_test(test_two_threads_one_budget),
		cmocka_unit_test(test_two_threads_two_clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* srclimit: who counts against whom (IPv4, v4-mapped, IPv6 by /64, unix
 * not at all), the limit and giving places back, many sources in a small
 * table, and exact counts when two threads take and put at once. */
#include "common.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "srclimit.h"

static struct srclimit_id
id_of(const char *ip)
{
	struct sockaddr_storage ss;
	struct srclimit_id id;
	socklen_t len = sizeof(struct sockaddr_in6);

	char host[INET6_ADDRSTRLEN];
	const char *pct = strchr(ip, '%');

	/* "fe80::1%3": the scope id as accept() reports it, a number. */
	snprintf(host, sizeof(host), "%.*s", pct != NULL ? (int)(pct - ip) : (int)strlen(ip), ip);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		if (pct != NULL)
			((struct sockaddr_in6 *)&ss)->sin6_scope_id = (uint32_t)atoi(pct + 1);
	} else
		fail_msg("bad address %s", ip);
	assert_true(srclimit_id_of((struct sockaddr *)&ss, len, &id));
	return id;
}

/* How many of n more connections from ip are let in. */
static int
taken(struct srclimit *sl, const char *ip, int n)
{
	struct srclimit_id id = id_of(ip);
	int got = 0;

	for (int i = 0; i < n; i++)
		got += srclimit_take(sl, &id);
	return got;
}

static void
test_who_counts_against_whom(void **state)
{
	struct srclimit *sl = srclimit_new(3, 16, 1);

	(void)state;
	assert_non_null(sl);
	assert_int_equal(taken(sl, "192.0.2.1", 5), 3);
	assert_int_equal(taken(sl, "::ffff:192.0.2.1", 1), 0); /* the same host, mapped */
	assert_int_equal(taken(sl, "192.0.2.2", 5), 3);         /* another host */
	assert_int_equal(taken(sl, "2001:db8:1:2::1", 2), 2);
	assert_int_equal(taken(sl, "2001:db8:1:2:ffff:ffff:ffff:ffff", 5), 1); /* same /64 */
	assert_int_equal(taken(sl, "2001:db8:1:3::1", 5), 3);                  /* next /64 */
	/* An IPv6 /64 whose low bits spell an IPv4 address is still another source. */
	assert_int_equal(taken(sl, "::c000:201", 3), 3);
	assert_int_equal(srclimit_count(sl, &(struct srclimit_id){ 0, 0 }), 0);
	srclimit_free(sl);
}

/* Link-local sources: fe80::/64 is every link's prefix, so the /64 alone
 * made every link-local host on every interface one source. A link (the
 * scope id) is one source, as a global /64 is: a host on it can take any
 * address in fe80::/10, so the address would not bound it. */
static void
test_link_local_by_link(void **state)
{
	struct srclimit *sl = srclimit_new(2, 16, 1);

	(void)state;
	assert_int_equal(taken(sl, "fe80::a%2", 5), 2);
	assert_int_equal(taken(sl, "fe80::b%3", 5), 2);      /* another link */
	assert_int_equal(taken(sl, "fe80::b%2", 1), 0);      /* another host, same link */
	assert_int_equal(taken(sl, "fe80:1:2:3::c%2", 1), 0); /* anywhere in fe80::/10 */
	assert_int_equal(taken(sl, "febf::d%2", 1), 0);
	assert_int_equal(taken(sl, "fe80::a%4", 5), 2);
	/* Neither a global /64 nor an IPv4 address shares a link's count. */
	assert_int_equal(taken(sl, "fe80::2", 5), 2); /* no scope: not one of them either */
	assert_int_equal(taken(sl, "2001:db8::1%2", 5), 2);
	assert_int_equal(taken(sl, "0.0.0.2", 5), 2);
	assert_int_equal(taken(sl, "fec0::1%2", 5), 2); /* not link-local: by /64 */
	srclimit_free(sl);
}

static void
test_put_gives_back(void **state)
{
	struct srclimit *sl = srclimit_new(2, 16, 1);
	struct srclimit_id a = id_of("198.51.100.7");

	(void)state;
	assert_int_equal(taken(sl, "198.51.100.7", 3), 2);
	srclimit_put(sl, &a);
	assert_int_equal(srclimit_count(sl, &a), 1);
	assert_int_equal(taken(sl, "198.51.100.7", 3), 1);
	srclimit_put(sl, &a);
	srclimit_put(sl, &a);
	assert_int_equal(srclimit_count(sl, &a), 0); /* gone from the table */
	srclimit_put(sl, &a);                        /* one too many: harmless */
	assert_int_equal(taken(sl, "198.51.100.7", 3), 2);
	srclimit_free(sl);
}

static void
test_not_limited(void **state)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in short4 = { .sin_family = AF_INET };
	struct srclimit *sl = srclimit_new(1, 16, 1);
	struct srclimit_id id;

	(void)state;
	assert_false(srclimit_id_of((struct sockaddr *)&un, sizeof(un), &id));
	assert_int_equal(id.family, 0);
	for (int i = 0; i < 10; i++)
		assert_true(srclimit_take(sl, &id));
	srclimit_put(sl, &id);
	assert_false(srclimit_id_of((struct sockaddr *)&short4, 4, &id)); /* truncated */
	assert_null(srclimit_new(0, 16, 1));
	srclimit_free(sl);
	srclimit_free(NULL);
}

/* 5000 sources in 64 buckets: chains, removal from their middle. */
static void
test_many_sources(void **state)
{
	struct srclimit *sl = srclimit_new(2, 0, 42);
	char ip[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		assert_int_equal(taken(sl, ip, 3), 2);
	}
	for (int i = 0; i < 5000; i += 2) {
		struct srclimit_id id;
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		id = id_of(ip);
		srclimit_put(sl, &id);
		srclimit_put(sl, &id);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		assert_int_equal(taken(sl, ip, 3), i % 2 == 0 ? 2 : 0);
	}
	srclimit_free(sl); /* frees what is still counted */
}

/* Handles: a connection keeps 31 bits, not its source; a slot freed by a
 * source's last connection is reused by the next new source, and the
 * table grows (and moves) under handles already given out. */
static void
test_refs(void **state)
{
	struct srclimit *sl = srclimit_new(2, 16, 7);
	struct srclimit_id a = id_of("198.51.100.7"), b = id_of("2001:db8:1:2::9"), u;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	uint32_t ra1, ra2, ra3, rb, ref[3000];
	char ip[32];

	(void)state;
	assert_true(srclimit_take_ref(sl, &a, &ra1));
	assert_true(srclimit_take_ref(sl, &a, &ra2));
	assert_false(srclimit_take_ref(sl, &a, &ra3)); /* over the limit */
	assert_int_equal(ra3, 0);
	assert_int_equal(ra1, ra2);
	assert_true(ra1 != 0 && ra1 <= 0x7fffffffu);
	assert_true(srclimit_take_ref(sl, &b, &rb));
	assert_true(rb != ra1);
	/* many more sources: the entries array moves; handles still hold */
	for (int i = 0; i < 3000; i++) {
		struct srclimit_id id;
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 256, i % 256);
		id = id_of(ip);
		assert_true(srclimit_take_ref(sl, &id, &ref[i]));
	}
	srclimit_put_ref(sl, ra1);
	assert_int_equal(srclimit_count(sl, &a), 1);
	srclimit_put_ref(sl, ra2);
	assert_int_equal(srclimit_count(sl, &a), 0);
	assert_int_equal(srclimit_count(sl, &b), 1);
	for (int i = 0; i < 3000; i++)
		srclimit_put_ref(sl, ref[i]);
	/* a freed slot goes to the next new source */
	assert_true(srclimit_take_ref(sl, &a, &ra3));
	assert_true(ra3 != rb);
	assert_int_equal(srclimit_count(sl, &a), 1);
	srclimit_put_ref(sl, ra3);
	srclimit_put_ref(sl, rb);
	assert_int_equal(srclimit_count(sl, &b), 0);
	srclimit_put_ref(sl, 0); /* nothing counted: harmless */
	assert_false(srclimit_id_of((struct sockaddr *)&un, sizeof(un), &u));
	assert_true(srclimit_take_ref(sl, &u, &ra1));
	assert_int_equal(ra1, 0);
	srclimit_free(sl);
}

struct racer {
	struct srclimit *sl;
	int got;
};

/* Take and put 100000 times; a lost update would leave a count behind. */
static void *
race(void *arg)
{
	struct racer *r = arg;
	struct srclimit_id id = id_of("203.0.113.9");

	for (int i = 0; i < 100000; i++)
		if (srclimit_take(r->sl, &id)) {
			r->got++;
			srclimit_put(r->sl, &id);
		}
	return NULL;
}

static void
test_two_threads(void **state)
{
	struct srclimit *sl = srclimit_new(1000, 16, 1);
	struct srclimit_id id = id_of("203.0.113.9");
	struct racer r[2] = { { sl, 0 }, { sl, 0 } };
	pthread_t th[2];

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r[0].got + r[1].got, 200000);
	assert_int_equal(srclimit_count(sl, &id), 0);
	srclimit_free(sl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_who_counts_against_whom),
		cmocka_unit_test(test_link_local_by_link),
		cmocka_unit_test(test_put_gives_back),
		cmocka_unit_test(test_not_limited),
		cmocka_unit_test(test_many_sources),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

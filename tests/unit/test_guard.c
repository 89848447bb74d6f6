/* guard: the reflection guard's source and destination rules from tables,
 * which interface broadcast addresses it takes, and the loop breaker: the
 * K-th repeat dropped, slow repeats, variants and two loops apart. */
#include "common.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "guard.h"

struct guard_case {
	const char *addr;
	int port;
	bool refused;
};

static const struct guard_case guard_cases[] = {
	{ "127.0.0.1", 40000, false },
	{ "::1", 40000, false },
	{ "192.0.2.1", 1024, false },
	{ "127.0.0.1", 0, true },
	{ "127.0.0.1", 7, true },
	{ "192.0.2.1", 19, true },
	{ "2001:db8::1", 13, true },
	{ "192.0.2.1", 37, true },
	{ "192.0.2.1", 17, true },
	{ "192.0.2.1", 123, true },
	{ "192.0.2.1", 7007, true }, /* our own port, below */
	{ "::ffff:192.0.2.1", 7007, true },
	{ "0.0.0.0", 40000, true },
	{ "255.255.255.255", 40000, true },
	{ "224.0.0.1", 40000, true },
	{ "239.255.255.250", 40000, true },
	{ "240.0.0.1", 40000, true },
	{ "::", 40000, true },
	{ "ff02::1", 40000, true },
	{ "::ffff:224.0.0.1", 40000, true },
	{ "::ffff:127.0.0.1", 40000, false },
	/* OpenBSD's inetd rule: no source port below 1024, nor NFS's */
	{ "192.0.2.1", 1, true },
	{ "192.0.2.1", 9, true },
	{ "192.0.2.1", 1023, true },
	{ "2001:db8::1", 1023, true },
	{ "::ffff:192.0.2.1", 1023, true },
	{ "::ffff:192.0.2.1", 19, true },
	{ "192.0.2.1", 2049, true },
	{ "192.0.2.1", 1025, false },
	{ "192.0.2.1", 65535, false },
	/* reflectors above 1024 */
	{ "192.0.2.1", 1900, true },
	{ "192.0.2.1", 5353, true },
	{ "2001:db8::1", 11211, true },
	/* our own ports past the sixteenth, added below */
	{ "192.0.2.1", 40040, true },
	{ "192.0.2.1", 40041, false },
	/* ephemeral ports of Linux (32768-60999) and FreeBSD (10000-) */
	{ "192.0.2.1", 37810, false },
	{ "192.0.2.1", 10001, false },
	/* broadcast sources, limited and directed, v4-mapped too; the
	 * local networks' broadcast addresses are set below */
	{ "::ffff:255.255.255.255", 40000, true },
	{ "::ffff:0.0.0.0", 40000, true },
	{ "::ffff:240.0.0.1", 40000, true },
	{ "192.0.2.255", 40000, true },
	{ "::ffff:192.0.2.255", 40000, true },
	{ "10.1.255.255", 40000, true },
	{ "198.51.100.255", 40000, false }, /* not ours: a host of some /23 */
};

static socklen_t
make_sa(struct sockaddr_storage *ss, const char *addr, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		return sizeof(*s4);
	}
}

static const uint32_t local_bcast[] = { 0xc00002ffu /* 192.0.2.255 */, 0x0a01ffffu };

static void
test_guard_table(void **state)
{
	struct guard g = { 0 }, off = { 0 };

	(void)state;
	assert_int_equal(guard_add_port(&g, 7007), 0);
	assert_int_equal(guard_add_port(&g, 7007), 0);
	assert_int_equal(g.nown, 1);
	/* as many own ports as are bound: none ignored past a fixed count */
	for (int p = 40001; p <= 40040; p++)
		assert_int_equal(guard_add_port(&g, p), 0);
	assert_int_equal(g.nown, 41);
	guard_set_broadcasts(&g, local_bcast, AE_NELEM(local_bcast));
	off.off = true;
	for (size_t i = 0; i < AE_NELEM(guard_cases); i++) {
		const struct guard_case *c = &guard_cases[i];
		struct sockaddr_storage ss;
		socklen_t len = make_sa(&ss, c->addr, c->port);
		const char *why;

		why = guard_check(&g, (struct sockaddr *)&ss, len);
		print_message("%s port %d: %s\n", c->addr, c->port, why ? why : "answered");
		assert_int_equal(why != NULL, c->refused);
		assert_null(guard_check(&off, (struct sockaddr *)&ss, len));
	}
	guard_free_ports(&g);
}

struct dst_case {
	const char *addr;
	bool refused;
};

static const struct dst_case dst_cases[] = {
	{ "192.0.2.1", false },
	{ "::ffff:192.0.2.1", false },
	{ "2001:db8::1", false },
	{ "255.255.255.255", true },
	{ "::ffff:255.255.255.255", true },
	{ "192.0.2.255", true }, /* directed: a local network's broadcast */
	{ "::ffff:192.0.2.255", true },
	{ "10.1.255.255", true },
	{ "224.0.0.1", true },
	{ "::ffff:239.1.2.3", true },
	{ "ff02::1", true },
	{ "ff05::2", true },
	{ "198.51.100.255", false },
};

/* Where a datagram was sent to: checked with the guard on or off. */
static void
test_guard_destinations(void **state)
{
	struct guard g = { 0 };

	(void)state;
	guard_set_broadcasts(&g, local_bcast, AE_NELEM(local_bcast));
	for (int off = 0; off < 2; off++) {
		g.off = off;
		for (size_t i = 0; i < AE_NELEM(dst_cases); i++) {
			struct sockaddr_storage ss;
			const char *why;

			make_sa(&ss, dst_cases[i].addr, 7);
			why = guard_check_dst(&g, (struct sockaddr *)&ss);
			print_message("to %s: %s\n", dst_cases[i].addr, why ? why : "answered");
			assert_int_equal(why != NULL, dst_cases[i].refused);
		}
	}
	/* The list is replaced whole: an address gone is answered again. */
	guard_set_broadcasts(&g, local_bcast + 1, 1);
	{
		struct sockaddr_storage ss;
		make_sa(&ss, "192.0.2.255", 7);
		assert_null(guard_check_dst(&g, (struct sockaddr *)&ss));
		make_sa(&ss, "::ffff:10.1.255.255", 7);
		assert_non_null(guard_check_dst(&g, (struct sockaddr *)&ss));
	}
	/* The real interfaces: whatever they are, loading them works. */
	assert_true(guard_load_broadcasts(&g) >= 0);
}

struct fake_if {
	const char *addr, *mask, *bcast; /* bcast NULL: no IFF_BROADCAST */
};

static const struct fake_if fake_ifs[] = {
	{ "127.0.0.1", "255.0.0.0", NULL },
	{ "192.0.2.1", "255.255.255.0", "192.0.2.255" },    /* kept */
	{ "10.7.7.1", "255.255.255.0", "10.7.7.1" },        /* added without brd */
	{ "10.9.9.9", "255.255.255.255", "10.9.9.9" },      /* GCE: /32, brd itself */
	{ "10.8.8.8", "255.255.255.255", "10.8.8.255" },    /* /32: no broadcast */
	{ "100.64.0.0", "255.255.255.254", "100.64.0.1" },  /* /31: none either */
	{ "172.16.0.1", "255.255.0.0", "172.16.255.255" },  /* kept */
	{ "172.16.5.1", "255.255.0.0", "172.16.255.255" },  /* the same, once */
	{ "198.51.100.7", "255.255.255.0", "203.0.113.9" }, /* brd another's address */
	{ "203.0.113.9", "255.255.255.0", "203.0.113.255" }, /* kept */
};

/* Which broadcast addresses of an interface list the guard takes. */
static void
test_guard_pick_broadcasts(void **state)
{
	static char ifname[] = "test0";
	struct ifaddrs ifa[AE_NELEM(fake_ifs)];
	struct sockaddr_in sa[AE_NELEM(fake_ifs)][3];
	uint32_t out[8];
	size_t n;

	(void)state;
	memset(ifa, 0, sizeof(ifa));
	memset(sa, 0, sizeof(sa));
	for (size_t i = 0; i < AE_NELEM(fake_ifs); i++) {
		const char *a[3] = { fake_ifs[i].addr, fake_ifs[i].mask, fake_ifs[i].bcast };
		for (int k = 0; k < 3; k++) {
			sa[i][k].sin_family = AF_INET;
			if (a[k] != NULL)
				assert_int_equal(inet_pton(AF_INET, a[k], &sa[i][k].sin_addr), 1);
		}
		ifa[i].ifa_next = i + 1 < AE_NELEM(fake_ifs) ? &ifa[i + 1] : NULL;
		ifa[i].ifa_name = ifname;
		ifa[i].ifa_flags = IFF_UP | (a[2] != NULL ? IFF_BROADCAST : IFF_LOOPBACK);
		ifa[i].ifa_addr = (struct sockaddr *)&sa[i][0];
		ifa[i].ifa_netmask = (struct sockaddr *)&sa[i][1];
		ifa[i].ifa_broadaddr = a[2] != NULL ? (struct sockaddr *)&sa[i][2] : NULL;
	}
	n = guard_pick_broadcasts(ifa, out, AE_NELEM(out));
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 0xc00002ffu);
	assert_int_equal(out[1], 0xac10ffffu);
	assert_int_equal(out[2], 0xcb0071ffu);
	/* bounded by the room given */
	assert_int_equal(guard_pick_broadcasts(ifa, out, 1), 1);
}

/* ---- the loop breaker ---- */

static unsigned char dgram[1000];

/* Send one datagram of len bytes from addr:port at now; true if dropped. */
static bool
repeat(struct guard_loops *t, const char *addr, int port, size_t len, uint64_t now)
{
	struct sockaddr_storage ss;

	make_sa(&ss, addr, port);
	return guard_loops_repeat(t, (struct sockaddr *)&ss, dgram, len, now);
}

static void
fill(void)
{
	for (size_t i = 0; i < sizeof(dgram); i++)
		dgram[i] = (unsigned char)(i * 7 + 3);
}

/* K repeats: the first K-1 answered, the K-th not; then it starts again. */
static void
test_loop_kth_repeat_dropped(void **state)
{
	struct guard_loops *t = guard_loops_new(42);
	uint64_t now = 1000000;

	(void)state;
	fill();
	assert_non_null(t);
	for (int round = 0; round < 3; round++) {
		assert_false(repeat(t, "192.0.2.1", 40000, 100, now++)); /* the first */
		for (int i = 1; i < GUARD_LOOP_REPEATS; i++)
			assert_false(repeat(t, "192.0.2.1", 40000, 100, now++));
		assert_true(repeat(t, "192.0.2.1", 40000, 100, now++));
	}
	/* the same for IPv6, a 1-byte and an empty datagram */
	for (int i = 0; i < GUARD_LOOP_REPEATS; i++) {
		assert_false(repeat(t, "2001:db8::1", 40000, 100, now));
		assert_false(repeat(t, "192.0.2.1", 40001, 1, now));
		assert_false(repeat(t, "192.0.2.1", 40002, 0, now));
	}
	assert_true(repeat(t, "2001:db8::1", 40000, 100, now));
	assert_true(repeat(t, "192.0.2.1", 40001, 1, now));
	assert_true(repeat(t, "192.0.2.1", 40002, 0, now));
	guard_loops_free(t);
}

/* A client that repeats itself slower than a loop does is never dropped:
 * a repeat after more than GUARD_LOOP_GAP_MS starts the count again. */
static void
test_loop_slow_repeats_answered(void **state)
{
	struct guard_loops *t = guard_loops_new(42);
	uint64_t now = 5000;

	(void)state;
	fill();
	for (int i = 0; i < 10 * GUARD_LOOP_REPEATS; i++, now += GUARD_LOOP_GAP_MS + 100)
		assert_false(repeat(t, "192.0.2.1", 40000, 100, now));
	/* and the 16-bit tick clock wraps without harm */
	now = 0xffffull << 4;
	for (int i = 0; i < GUARD_LOOP_REPEATS; i++, now += 100)
		assert_false(repeat(t, "192.0.2.1", 40000, 100, now));
	assert_true(repeat(t, "192.0.2.1", 40000, 100, now));
	guard_loops_free(t);
}

/* Another port, address, length or end of the data is another datagram:
 * it neither counts as a repeat nor ends the first one's count; bytes
 * past the first and last GUARD_LOOP_BYTES are not looked at. */
static void
test_loop_variants_apart(void **state)
{
	struct guard_loops *t = guard_loops_new(7);
	uint64_t now = 1000;

	(void)state;
	fill();
	for (int i = 0; i < GUARD_LOOP_REPEATS; i++)
		assert_false(repeat(t, "192.0.2.1", 40000, 1000, now++));
	/* the first and K-1 repeats: the next repeat is dropped */
	assert_false(repeat(t, "192.0.2.1", 40001, 1000, now++));
	assert_false(repeat(t, "192.0.2.2", 40000, 1000, now++));
	assert_false(repeat(t, "::ffff:192.0.2.1", 40000, 1000, now++));
	assert_false(repeat(t, "192.0.2.1", 40000, 999, now++));
	dgram[0] ^= 1;
	assert_false(repeat(t, "192.0.2.1", 40000, 1000, now++));
	dgram[0] ^= 1;
	dgram[999] ^= 1;
	assert_false(repeat(t, "192.0.2.1", 40000, 1000, now++));
	dgram[999] ^= 1;
	dgram[500] ^= 1; /* the middle: the same as far as the breaker sees */
	assert_true(repeat(t, "192.0.2.1", 40000, 1000, now++));
	guard_loops_free(t);
}

/* One loop answered by two workers whose clocks (read once per batch)
 * differ by 2 ms: a slot stored a tick ahead of the other's "now" read as
 * dead, and the count never grew (review 7). */
static void
test_loop_two_clocks(void **state)
{
	struct guard_loops *t = guard_loops_new(3);
	int dropped = 0;

	(void)state;
	fill();
	for (int i = 0; i < 4 * GUARD_LOOP_REPEATS; i++) {
		uint64_t now = 1000000 + (uint64_t)i - (i % 2 ? 2 : 0);
		dropped += repeat(t, "192.0.2.1", 40000, 64, now);
	}
	assert_true(dropped >= 2);
	guard_loops_free(t);
}

/* Two loops at once, interleaved: each is broken at its own K-th repeat. */
static void
test_loop_two_flows(void **state)
{
	struct guard_loops *t = guard_loops_new(99);
	uint64_t now = 1000;

	(void)state;
	fill();
	for (int i = 0; i < GUARD_LOOP_REPEATS; i++) {
		assert_false(repeat(t, "192.0.2.1", 40000, 64, now));
		assert_false(repeat(t, "198.51.100.1", 50000, 64, now++));
	}
	assert_true(repeat(t, "192.0.2.1", 40000, 64, now));
	assert_true(repeat(t, "198.51.100.1", 50000, 64, now));
	guard_loops_free(t);
}

/* n loops at once (one datagram each, from ports of addr), every one back
 * once per round trip of rtt ms from start: with check, each must be
 * broken within rounds, and none more often than once in
 * GUARD_LOOP_REPEATS+1. Two loops whose fingerprints met in one slot used
 * to reset each other's count at every round trip: among 300, some did,
 * and ran for ever. */
static void
loops_run(struct guard_loops *t, const char *addr, int n, int rounds, uint64_t start,
    uint64_t rtt, bool check)
{
	int *drops = calloc((size_t)n, sizeof(*drops));

	assert_non_null(drops);
	fill();
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++)
			drops[i] += repeat(t, addr, 1024 + i, 64, start + rtt * (uint64_t)r);
	for (int i = 0; i < n && check; i++) {
		if (drops[i] == 0)
			fail_msg("loop %d of %d (%s, %d ms round trips) never broken in %d round trips",
			    i, n, addr, (int)rtt, rounds);
		assert_true(drops[i] <= rounds / (GUARD_LOOP_REPEATS + 1));
	}
	free(drops);
}

static void
test_loop_many_flows(void **state)
{
	struct guard_loops *t = guard_loops_new(0x1234567890abcdefull);

	(void)state;
	assert_non_null(t);
	loops_run(t, "192.0.2.1", 300, 200, 1000000, 1, true);
	/* More than the table holds: they take turns. */
	loops_run(t, "198.51.100.1", 3 * GUARD_LOOP_SLOTS, 600, 2000000, 1, true);
	guard_loops_free(t);
}

/* Loops that died (a datagram lost on the way) leave their slots counting
 * for a second: new loops get them then. The table filled by n loops that
 * stop, then n others of 10 ms round trips: all broken within 2.5 s. */
static void
test_loop_dead_slots_freed(void **state)
{
	struct guard_loops *t = guard_loops_new(0x1234567890abcdefull);

	(void)state;
	assert_non_null(t);
	loops_run(t, "192.0.2.1", 2 * GUARD_LOOP_SLOTS, 3, 1000000, 1, false);
	loops_run(t, "192.0.2.2", 2 * GUARD_LOOP_SLOTS, 250, 1000003, 10, true);
	guard_loops_free(t);
}

/* Loops with a slow round trip (300 ms: between continents), more than a
 * bucket holds: each slot holder must be counted to the end, not evicted
 * by another newcomer while it is away (a slot taken after 128 ms quiet
 * let them evict each other for ever: 600,000 answers in 15 s). */
static void
test_loop_slow_many(void **state)
{
	struct guard_loops *t = guard_loops_new(0x1234567890abcdefull);

	(void)state;
	assert_non_null(t);
	loops_run(t, "192.0.2.3", 2 * GUARD_LOOP_SLOTS, 200, 1000000, 300, true);
	guard_loops_free(t);
}

struct hammer {
	struct guard_loops *t;
	const char *addr;
	int drops;
};

static void *
hammer(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < 100000; i++)
		h->drops += repeat(h->t, h->addr, 40000 + i % 3, 100, (uint64_t)i / 64);
	return NULL;
}

/* Two workers counting one table at once, the same datagrams and others:
 * counts may be lost (no lock), but loops are still broken and nothing
 * worse happens (ThreadSanitizer builds check the atomics). */
static void
test_loop_threads(void **state)
{
	struct hammer h[2] = { { guard_loops_new(5), "192.0.2.1", 0 },
		{ NULL, "192.0.2.1", 0 } };
	pthread_t th;

	(void)state;
	fill();
	h[1].t = h[0].t;
	assert_int_equal(pthread_create(&th, NULL, hammer, &h[1]), 0);
	hammer(&h[0]);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(h[0].drops + h[1].drops > 0);
	assert_true(h[0].drops + h[1].drops <= 2 * 100000 / GUARD_LOOP_REPEATS);
	guard_loops_free(h[0].t);
}

/* The guard's word on it: none when off, without a table, or for unix
 * peers (the kernel names them: no one can spoof one). */
static void
test_loop_check(void **state)
{
	struct guard g = { 0 };
	struct sockaddr_storage ss;
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	int dropped = 0;

	(void)state;
	fill();
	make_sa(&ss, "192.0.2.1", 40000);
	assert_null(guard_check_loop(&g, (struct sockaddr *)&ss, dgram, 10, 1));
	g.loops = guard_loops_new(1);
	for (int i = 0; i <= GUARD_LOOP_REPEATS; i++)
		dropped += guard_check_loop(&g, (struct sockaddr *)&ss, dgram, 10, 1) != NULL;
	assert_int_equal(dropped, 1);
	for (int i = 0; i <= GUARD_LOOP_REPEATS; i++)
		assert_null(guard_check_loop(&g, (struct sockaddr *)&su, dgram, 10, 1));
	g.off = true;
	for (int i = 0; i <= GUARD_LOOP_REPEATS; i++)
		assert_null(guard_check_loop(&g, (struct sockaddr *)&ss, dgram, 10, 1));
	guard_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_table),
		cmocka_unit_test(test_guard_destinations),
		cmocka_unit_test(test_guard_pick_broadcasts),
		cmocka_unit_test(test_loop_kth_repeat_dropped),
		cmocka_unit_test(test_loop_slow_repeats_answered),
		cmocka_unit_test(test_loop_variants_apart),
		cmocka_unit_test(test_loop_two_flows),
		cmocka_unit_test(test_loop_two_clocks),
		cmocka_unit_test(test_loop_many_flows),
		cmocka_unit_test(test_loop_dead_slots_freed),
		cmocka_unit_test(test_loop_slow_many),
		cmocka_unit_test(test_loop_threads),
		cmocka_unit_test(test_loop_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

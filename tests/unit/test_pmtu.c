/* pmtu from tables: each scenario is a path (the largest size that
 * passes, the MTU a router announces for anything larger or 0 when it
 * stays silent, lost sizes) and the sizes the search must send, in
 * order, and its verdict. */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "pmtu.h"

struct scenario {
	const char *name;
	int min, max, retries;
	int passes;     /* sizes up to this come back */
	int announce;   /* sizes above passes: Packet Too Big with this MTU; -1: vanish */
	int lose_once;  /* this size vanishes the first time it is sent; 0: none */
	int want[24];   /* the sizes sent, 0-terminated */
	enum pmtu_verdict verdict;
	int lo, announced;
};

static const struct scenario scenarios[] = {
	{ "the whole interface MTU passes: two probes", 1280, 1500, 1, 1500, -1, 0,
	    { 1280, 1500, 0 }, PMTU_FULL, 1500, 0 },
	{ "IPv6 1280 link, Packet Too Big allowed: the announced MTU was the minimum, echoed",
	    1280, 1500, 1, 1280, 1280, 0, { 1280, 1500, 0 }, PMTU_ANNOUNCED, 1280, 1280 },
	{ "IPv4 1000 link, Fragmentation Needed", 576, 1500, 1, 1000, 1000, 0,
	    { 576, 1500, 1000, 0 }, PMTU_ANNOUNCED, 1000, 1000 },
	{ "IPv6 1280 link, Packet Too Big dropped: bisection, each loss sent twice", 1280, 1500, 1,
	    1280, -1, 0,
	    { 1280, 1500, 1500, 1390, 1390, 1335, 1335, 1307, 1307, 1293, 1293, 1286, 1286,
		1283, 1283, 1281, 1281, 0 },
	    PMTU_BLACK_HOLE, 1280, 0 },
	{ "IPv4 black hole at 1000: bisection finds it exactly, no retries", 576, 1500, 0, 1000,
	    -1, 0, { 576, 1500, 1038, 807, 922, 980, 1009, 994, 1001, 997, 999, 1000, 0 },
	    PMTU_BLACK_HOLE, 1000, 0 },
	{ "one loss of the largest size is not a black hole", 1280, 1500, 1, 1500, -1, 1500,
	    { 1280, 1500, 1500, 0 }, PMTU_FULL, 1500, 0 },
	{ "nothing comes back: the smallest size, twice, then stop", 1280, 1500, 1, 0, -1, 0,
	    { 1280, 1280, 0 }, PMTU_NOTHING, 0, 0 },
	{ "too big without an MTU (old routers): bisection on the errors", 576, 1500, 0, 1400, 0,
	    0, { 576, 1500, 1038, 1269, 1384, 1442, 1413, 1398, 1405, 1401, 1399, 1400, 0 },
	    PMTU_FOUND, 1400, 0 },
	{ "an interface MTU at the minimum: one probe", 1280, 1280, 1, 1280, -1, 0, { 1280, 0 },
	    PMTU_FULL, 1280, 0 },
};

static void
run_scenario(const struct scenario *sc)
{
	struct pmtu p;
	int k = 0, size;
	bool lost = false;

	pmtu_init(&p, sc->min, sc->max, sc->retries);
	while ((size = pmtu_next(&p)) != 0) {
		if (sc->want[k] == 0)
			fail_msg("%s: sent %d after the expected sizes", sc->name, size);
		if (size != sc->want[k])
			fail_msg("%s: probe %d: sent %d, want %d", sc->name, k + 1, size, sc->want[k]);
		k++;
		assert_int_equal(pmtu_verdict(&p), PMTU_RUNNING);
		if (size == sc->lose_once && !lost) {
			lost = true;
			pmtu_result(&p, PMTU_VANISHED, 0);
		} else if (size <= sc->passes)
			pmtu_result(&p, PMTU_ECHOED, 0);
		else if (sc->announce >= 0)
			pmtu_result(&p, PMTU_TOO_BIG, sc->announce);
		else
			pmtu_result(&p, PMTU_VANISHED, 0);
	}
	if (sc->want[k] != 0)
		fail_msg("%s: stopped before sending %d", sc->name, sc->want[k]);
	assert_int_equal(pmtu_next(&p), 0);
	if (pmtu_verdict(&p) != sc->verdict)
		fail_msg("%s: verdict %d, want %d", sc->name, pmtu_verdict(&p), sc->verdict);
	assert_int_equal(p.lo, sc->lo);
	assert_int_equal(p.announced, sc->announced);
}

static void
test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < AE_NELEM(scenarios); i++)
		run_scenario(&scenarios[i]);
}

/* A router that announces an MTU at or above the size it refused, or a
 * late echo of a size that "could not" pass: the echo wins, nothing loops. */
static void
test_nonsense(void **state)
{
	struct pmtu p;
	int n = 0;

	(void)state;
	pmtu_init(&p, 1280, 1500, 0);
	assert_int_equal(pmtu_next(&p), 1280);
	pmtu_result(&p, PMTU_ECHOED, 0);
	assert_int_equal(pmtu_next(&p), 1500);
	pmtu_result(&p, PMTU_TOO_BIG, 9000);
	assert_int_equal(p.announced, 0);
	while (pmtu_next(&p) != 0 && n++ < 40)
		pmtu_result(&p, PMTU_ECHOED, 0);
	assert_true(n < 40);
	assert_int_equal(p.lo, 1499);
	assert_int_equal(pmtu_verdict(&p), PMTU_FOUND);
	/* nothing in flight: a result is ignored */
	pmtu_result(&p, PMTU_ECHOED, 0);
	assert_int_equal(p.lo, 1499);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_nonsense),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

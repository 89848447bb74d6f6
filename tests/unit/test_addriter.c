/* addriter from tables: each scenario is a script of events at given
 * times (answers, failures) and the decision expected at each "next":
 * which address starts, how long to wait, or idle/done. */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "addriter.h"

struct step {
	uint64_t t;
	char op;          /* '6','4': answer with n addresses; 'F': failure; 'N': next */
	int n;
	const char *want; /* for 'N': "start ADDR", "wait MS", "idle", "done" */
};

struct scenario {
	const char *name;
	bool want6, want4, sequential;
	int delay;
	struct step steps[16];
};

static const struct scenario scenarios[] = {
	{ "both families at once: interleaved, IPv6 first, 250 ms apart", true, true, false, 250, {
	    { 0, '6', 2, NULL }, { 0, '4', 2, NULL },
	    { 0, 'N', 0, "start [2001:db8::1]:7" }, { 0, 'N', 0, "wait 250" },
	    { 250, 'N', 0, "start 192.0.2.1:7" }, { 500, 'N', 0, "start [2001:db8::2]:7" },
	    { 750, 'N', 0, "start 192.0.2.2:7" }, { 800, 'N', 0, "idle" },
	    { 900, 'F', 0, NULL }, { 900, 'F', 0, NULL }, { 900, 'F', 0, NULL }, { 900, 'F', 0, NULL },
	    { 900, 'N', 0, "done" } } },
	{ "A first: resolution delay 50 ms, then AAAA in time wins", true, true, false, 250, {
	    { 0, '4', 1, NULL }, { 0, 'N', 0, "wait 50" }, { 30, 'N', 0, "wait 20" },
	    { 40, '6', 1, NULL }, { 40, 'N', 0, "start [2001:db8::1]:7" },
	    { 290, 'N', 0, "start 192.0.2.1:7" } } },
	{ "A first, AAAA too late: IPv4 starts at 50 ms, IPv6 joins after", true, true, false, 250, {
	    { 0, '4', 1, NULL }, { 50, 'N', 0, "start 192.0.2.1:7" }, { 60, '6', 1, NULL },
	    { 60, 'N', 0, "wait 240" }, { 300, 'N', 0, "start [2001:db8::1]:7" } } },
	{ "AAAA fails: IPv4 at once, no resolution delay", true, true, false, 250, {
	    { 0, '6', 0, NULL }, { 5, '4', 1, NULL }, { 5, 'N', 0, "start 192.0.2.1:7" } } },
	{ "AAAA only: no wait for A", true, true, false, 250, {
	    { 0, '6', 2, NULL }, { 0, 'N', 0, "start [2001:db8::1]:7" },
	    { 100, 'N', 0, "wait 150" }, { 250, 'N', 0, "start [2001:db8::2]:7" },
	    { 260, 'N', 0, "idle" }, { 300, '4', 0, NULL }, { 300, 'N', 0, "idle" } } },
	{ "a failure starts the next attempt at once", true, true, false, 250, {
	    { 0, '6', 1, NULL }, { 0, '4', 1, NULL }, { 0, 'N', 0, "start [2001:db8::1]:7" },
	    { 10, 'F', 0, NULL }, { 10, 'N', 0, "start 192.0.2.1:7" },
	    { 20, 'F', 0, NULL }, { 20, 'N', 0, "done" } } },
	{ "nothing at all: done once both lookups failed", true, true, false, 250, {
	    { 0, 'N', 0, "idle" }, { 0, '6', 0, NULL }, { 0, 'N', 0, "idle" },
	    { 3, '4', 0, NULL }, { 3, 'N', 0, "done" } } },
	{ "-4: only A was asked, nothing to wait for", false, true, false, 250, {
	    { 0, '4', 2, NULL }, { 0, 'N', 0, "start 192.0.2.1:7" }, { 250, 'N', 0, "start 192.0.2.2:7" } } },
	{ "sequential: next only after a failure, in list order", true, true, true, 250, {
	    { 0, '6', 1, NULL }, { 0, '4', 1, NULL }, { 0, 'N', 0, "start [2001:db8::1]:7" },
	    { 5000, 'N', 0, "idle" }, { 6000, 'F', 0, NULL }, { 6000, 'N', 0, "start 192.0.2.1:7" },
	    { 7000, 'F', 0, NULL }, { 7000, 'N', 0, "done" } } },
	{ "attempt delay clamped up to 10 ms", true, true, false, 1, {
	    { 0, '6', 1, NULL }, { 0, '4', 1, NULL }, { 0, 'N', 0, "start [2001:db8::1]:7" },
	    { 0, 'N', 0, "wait 10" }, { 10, 'N', 0, "start 192.0.2.1:7" } } },
	{ "attempt delay clamped down to 2 s", true, true, false, 60000, {
	    { 0, '6', 1, NULL }, { 0, '4', 1, NULL }, { 0, 'N', 0, "start [2001:db8::1]:7" },
	    { 0, 'N', 0, "wait 2000" } } },
};

static void
make_list(struct addr_list *l, int family, int n)
{
	struct addr_hints h = { family, ADDR_STREAM, false, 7 };

	for (int i = 1; i <= n; i++) {
		char text[64];
		struct addr_spec spec;
		char err[ADDR_ERRLEN];
		snprintf(text, sizeof(text), family == AF_INET6 ? "2001:db8::%d" : "192.0.2.%d", i);
		assert_int_equal(addr_parse(&spec, text, err, sizeof(err)), 0);
		assert_int_equal(addr_local(&spec, &h, l, err, sizeof(err)), 1);
	}
}

static void
run(const struct scenario *sc)
{
	struct addriter it;
	char got[80], buf[ADDR_STRLEN];

	print_message("-- %s\n", sc->name);
	addriter_init(&it, sc->want6, sc->want4, sc->delay, sc->sequential);
	for (size_t i = 0; i < AE_NELEM(sc->steps) && sc->steps[i].op != 0; i++) {
		const struct step *s = &sc->steps[i];
		struct addr_list l = { 0 };
		const struct addr *a = NULL;
		uint64_t wait = 0;

		switch (s->op) {
		case '6':
		case '4':
			make_list(&l, s->op == '6' ? AF_INET6 : AF_INET, s->n);
			assert_int_equal(addriter_answer(&it, s->op == '6', &l, s->t), 0);
			addr_list_free(&l);
			break;
		case 'F':
			addriter_failed(&it, s->t);
			break;
		default:
			switch (addriter_next(&it, s->t, &a, &wait)) {
			case ADDRITER_START:
				snprintf(got, sizeof(got), "start %s", addr_format(a, buf, sizeof(buf)));
				break;
			case ADDRITER_WAIT:
				snprintf(got, sizeof(got), "wait %llu", (unsigned long long)wait);
				break;
			case ADDRITER_IDLE: snprintf(got, sizeof(got), "idle"); break;
			case ADDRITER_DONE: snprintf(got, sizeof(got), "done"); break;
			}
			print_message("   t=%llu next: %s\n", (unsigned long long)s->t, got);
			assert_string_equal(got, s->want);
		}
	}
	addriter_free(&it);
}

static void
test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < AE_NELEM(scenarios); i++)
		run(&scenarios[i]);
}

static void
test_clamp(void **state)
{
	(void)state;
	assert_int_equal(addriter_clamp_delay(0), 10);
	assert_int_equal(addriter_clamp_delay(10), 10);
	assert_int_equal(addriter_clamp_delay(250), 250);
	assert_int_equal(addriter_clamp_delay(2000), 2000);
	assert_int_equal(addriter_clamp_delay(2001), 2000);
}

static void
test_unix_single_answer(void **state)
{
	struct addriter it;
	struct addr_list l = { 0 };
	struct addr_spec spec;
	struct addr_hints h = { AF_UNSPEC, ADDR_STREAM, false, 7 };
	const struct addr *a = NULL;
	uint64_t wait;
	char err[ADDR_ERRLEN];

	(void)state;
	assert_int_equal(addr_parse(&spec, "unix:/tmp/x", err, sizeof(err)), 0);
	assert_int_equal(addr_local(&spec, &h, &l, err, sizeof(err)), 1);
	addriter_init(&it, false, true, 250, false);
	assert_int_equal(addriter_answer(&it, false, &l, 0), 0);
	assert_int_equal(addriter_next(&it, 0, &a, &wait), ADDRITER_START);
	assert_int_equal(a->family, AF_UNIX);
	addriter_failed(&it, 1);
	assert_int_equal(addriter_next(&it, 1, &a, &wait), ADDRITER_DONE);
	addriter_free(&it);
	addr_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_unix_single_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* report: the loss figure as printed. 299 of 300 received is not "0%",
 * 1 of 10000 lost is not "0.0%", and whole numbers stay whole. */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "report.h"

static void
test_loss_text(void **state)
{
	static const struct {
		long long sent, lost;
		const char *want;
	} cases[] = {
		{ 300, 0, "0%" },       { 300, 1, "0.3%" },    { 300, 150, "50%" },
		{ 3, 1, "33.3%" },      { 3, 2, "66.7%" },     { 10000, 1, "<0.1%" },
		{ 10000, 9999, ">99.9%" }, { 2000, 1, "0.1%" }, { 4, 1, "25%" },
		{ 8, 1, "12.5%" },      { 1, 1, "100%" },      { 0, 0, "100%" },
		{ 100000000, 1, "<0.1%" },
	};
	char buf[16];

	(void)state;
	for (size_t i = 0; i < AE_NELEM(cases); i++) {
		const char *got = report_loss_text(cases[i].sent, cases[i].lost, buf, sizeof(buf));
		assert_string_equal(got, cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* payload: what a probe carries. Round trips, every single-byte corruption
 * found at its offset, foreign and short datagrams refused, and a fixed
 * vector so the byte stream cannot change by accident (a client and the
 * payload it checks must agree across versions only within one run, but a
 * silent change would hide a broken generator). */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "payload.h"

static void
test_dgram_round_trip(void **state)
{
	static const size_t sizes[] = { 8, 9, 15, 16, 17, 64, 1000, 1472, 65507 };
	static unsigned char p[65507];

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		payload_dgram_build(42, (int)k * 1000, p, n);
		assert_int_equal(payload_dgram_seq(p, n), (int)k * 1000);
		assert_int_equal(payload_dgram_diff(42, (int)k * 1000, p, n, n), n);
		/* another seq is another payload; so is another seed, past
		 * the header */
		if (n > PAYLOAD_DGRAM_HEADER)
			assert_true(payload_dgram_diff(43, (int)k * 1000, p, n, n) < n);
		assert_true(payload_dgram_diff(42, (int)k * 1000 + 1, p, n, n) < n);
	}
}

static void
test_dgram_every_corruption_found(void **state)
{
	unsigned char p[100];

	(void)state;
	for (size_t i = 0; i < sizeof(p); i++) {
		payload_dgram_build(7, 3, p, sizeof(p));
		p[i] ^= 0x20;
		assert_int_equal(payload_dgram_diff(7, 3, p, sizeof(p), sizeof(p)), i);
	}
}

static void
test_dgram_lengths(void **state)
{
	unsigned char p[64];

	(void)state;
	payload_dgram_build(1, 5, p, sizeof(p));
	/* a truncated echo: the bytes it has are right */
	assert_int_equal(payload_dgram_diff(1, 5, p, 40, 64), 40);
	/* an echo longer than the probe is compared on the probe's length */
	assert_int_equal(payload_dgram_diff(1, 5, p, 64, 20), 20);
}

static void
test_dgram_foreign(void **state)
{
	unsigned char p[16] = "AEc1";

	(void)state;
	assert_int_equal(payload_dgram_seq(p, 7), -1); /* shorter than the header */
	p[4] = 0x80; /* sequence 2^31 and more: not ours */
	assert_int_equal(payload_dgram_seq(p, 16), -1);
	p[4] = 0;
	p[7] = 9;
	assert_int_equal(payload_dgram_seq(p, 16), 9);
	p[0] = 'a';
	assert_int_equal(payload_dgram_seq(p, 16), -1);
	assert_int_equal(payload_dgram_seq(p, 0), -1);
}

static void
test_fill_is_stable(void **state)
{
	unsigned char a[37], b[37];
	uint64_t first;

	(void)state;
	/* splitmix64 from state 0: its published first output (in host order) */
	payload_fill(0, 0, a, 8);
	memcpy(&first, a, 8);
	assert_true(first == 0xe220a8397b1dcdafull);
	payload_fill(99, 4, a, sizeof(a));
	payload_fill(99, 4, b, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(payload_first_diff(a, b, sizeof(a)), sizeof(a));
	b[36] ^= 1;
	assert_int_equal(payload_first_diff(a, b, sizeof(a)), 36);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dgram_round_trip),
		cmocka_unit_test(test_dgram_every_corruption_found),
		cmocka_unit_test(test_dgram_lengths),
		cmocka_unit_test(test_dgram_foreign),
		cmocka_unit_test(test_fill_is_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* conntab: the fd-indexed table of connections, across chunks; a walk
 * that deletes the entry it stands on. */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "conntab.h"

static void
test_add_get_del(void **state)
{
	struct conntab t = { 0 };
	struct conn *c;

	(void)state;
	assert_true(sizeof(struct conn) <= 16); /* what an idle connection costs (12 on 32 bits) */
	assert_null(conntab_get(&t, 5));
	assert_int_equal(conntab_next(&t, -1), -1);
	c = conntab_add(&t, 5);
	assert_non_null(c);
	assert_null(c->ext);
	c->last = 42;
	c->src = 0x7fffffff;
	assert_ptr_equal(conntab_get(&t, 5), c);
	assert_int_equal(c->src, 0x7fffffff);
	assert_null(conntab_add(&t, 5));
	assert_int_equal(errno, EEXIST);
	assert_null(conntab_add(&t, -1));
	assert_null(conntab_get(&t, -1));
	assert_null(conntab_get(&t, 4));
	assert_null(conntab_get(&t, 100000)); /* beyond the table: no entry */
	assert_int_equal(t.n, 1);
	conntab_del(&t, 5);
	conntab_del(&t, 5); /* twice: harmless */
	assert_null(conntab_get(&t, 5));
	assert_int_equal(t.n, 0);
	c = conntab_add(&t, 5); /* a reused fd starts afresh */
	assert_non_null(c);
	assert_int_equal(c->last, 0);
	conntab_free(&t);
	conntab_free(&t); /* twice: harmless */
}

/* Sparse fds over many chunks, some never made: the walk finds each live
 * one once, in order, and may delete where it stands. */
static void
test_walk(void **state)
{
	static const int fds[] = { 0, 3, 255, 256, 257, 1000, 5000, 70000 };
	struct conntab t = { 0 };
	int i = 0, fd;

	(void)state;
	for (size_t k = 0; k < AE_NELEM(fds); k++)
		assert_non_null(conntab_add(&t, fds[k]));
	assert_int_equal(t.n, (int)AE_NELEM(fds));
	for (fd = conntab_next(&t, -1); fd != -1; fd = conntab_next(&t, fd)) {
		assert_int_equal(fd, fds[i++]);
		if (fd % 2 == 1)
			conntab_del(&t, fd);
	}
	assert_int_equal(i, (int)AE_NELEM(fds));
	i = 0;
	for (fd = conntab_next(&t, -1); fd != -1; fd = conntab_next(&t, fd)) {
		assert_true(fd % 2 == 0);
		i++;
	}
	assert_int_equal(i, 5);
	assert_int_equal(t.n, 5);
	conntab_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get_del),
		cmocka_unit_test(test_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

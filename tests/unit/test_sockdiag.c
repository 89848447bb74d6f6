/* sockdiag: the bytes a unix stream peer has yet to read, to the byte,
 * where our own SIOCOUTQ moves only by whole buffers. */
#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "sockdiag.h"

static void
test_unread(void **state)
{
	static char buf[100000];
	int sv[2], q0, q1;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (sockdiag_unix_unread(sv[0]) == -1) {
		print_message("no unix_diag here (%s)\n", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		skip();
	}
	assert_int_equal(sockdiag_unix_unread(sv[0]), 0);
	assert_int_equal(send(sv[0], buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	assert_int_equal(sockdiag_unix_unread(sv[0]), sizeof(buf));
	assert_int_equal(ioctl(sv[0], SIOCOUTQ, &q0), 0);
	assert_int_equal(recv(sv[1], buf, 1000, 0), 1000);
	assert_int_equal(sockdiag_unix_unread(sv[0]), sizeof(buf) - 1000);
	assert_int_equal(recv(sv[1], buf, 1, 0), 1);
	assert_int_equal(sockdiag_unix_unread(sv[0]), sizeof(buf) - 1001);
	/* what this fixes: the kernel's count for us did not move */
	assert_int_equal(ioctl(sv[0], SIOCOUTQ, &q1), 0);
	assert_int_equal(q1, q0);
	assert_int_equal(sockdiag_unix_unread(sv[1]), 0); /* the other way */
	close(sv[1]);
	assert_int_equal(sockdiag_unix_unread(sv[0]), -1); /* the peer is gone */
	close(sv[0]);
}

static void
test_not_connected(void **state)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(sockdiag_unix_unread(fd), -1);
	close(fd);
	assert_int_equal(sockdiag_unix_unread(fd), -1);
	assert_int_equal(errno, EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unread),
		cmocka_unit_test(test_not_connected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

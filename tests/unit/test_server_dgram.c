/* server: a datagram socket in persistent error (here a pipe adopted as
 * one, so every read fails with ENOTSOCK while the fd stays readable) must
 * not spin the loop nor flood the log: it rests between attempts and the
 * warning is rate-limited. */
#include "common.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "server.h"

#define RUN_MS 500

static void
on_stop(struct evloop *loop, void *arg)
{
	(void)loop;
	server_shutdown(arg);
}

/* Lines of fd's file that contain needle. */
static int
count_lines(int fd, const char *needle)
{
	char buf[1 << 16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int count = 0;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *p = strstr(buf, needle); p != NULL; p = strstr(p + 1, needle))
		count++;
	return count;
}

static void
test_persistent_error_rests(void **state)
{
	struct server_opts o = { .bufsize = SERVER_BUFSIZE, .max_conns = 10, .grace_ms = 100,
		.threads = 1 };
	struct server *s = NULL;
	struct echo_stats st;
	struct evtimer stop;
	struct addr a = { .family = AF_UNIX, .socktype = SOCK_DGRAM };
	char path[] = "/tmp/ae-test-server-XXXXXX";
	int p[2], logfd, saved = dup(2), open_conns;

	(void)state;
	logfd = mkstemp(path);
	assert_true(logfd >= 0);
	unlink(path);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1); /* readable for good */
	/* A return, not only an assert, on failure: under LTO (Fedora's
	 * flags) gcc would otherwise see s possibly NULL below. */
	if (server_new(&s, &o) != 0 || s == NULL) {
		fail_msg("server_new: %s", strerror(errno));
		return;
	}
	a.sa.ss_family = AF_UNIX;
	a.len = sizeof(sa_family_t);
	assert_int_equal(server_adopt(s, p[0], &a, false), 0);
	evtimer_init(&stop, on_stop, s);
	evloop_timer_arm(server_loop(s), &stop, RUN_MS);
	dup2(logfd, 2);
	assert_int_equal(server_run(s), 0);
	dup2(saved, 2);
	server_stats(s, &st, &open_conns);
	print_message("%llu errors, %d warnings in %d ms\n", (unsigned long long)st.errors,
	    count_lines(logfd, "datagram socket"), RUN_MS);
	/* One try every 100 ms; a spin makes thousands. */
	assert_true(st.errors >= 1 && st.errors <= 20);
	assert_int_equal(count_lines(logfd, "datagram socket"), 1);
	server_free(s); /* closes p[0] */
	close(p[1]);
	close(logfd);
	close(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_persistent_error_rests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* evloop on every backend: fd readiness, timer order and cancellation,
 * removal and fd reuse from inside a callback, run-until-idle, signals. */
#include "common.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#ifdef HAVE_SYS_EPOLL_H
#include <sys/epoll.h>
#endif
#include <stdarg.h>
#include <time.h>
#include <cmocka.h>

#include "evloop.h"

struct rec {
	int calls;
	int events;
	int order[16];
	int norder;
	int other_fd;
	struct evloop *loop;
};

static int
setup_epoll(void **state)
{
	*state = evloop_new(EVLOOP_EPOLL);
	return *state == NULL ? -1 : 0;
}

static int
setup_poll(void **state)
{
	*state = evloop_new(EVLOOP_POLL);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	evloop_free(*state);
	return 0;
}

static void
on_fd(struct evloop *loop, int fd, int events, void *arg)
{
	struct rec *r = arg;

	(void)loop;
	(void)fd;
	r->calls++;
	r->events |= events;
}

static void
test_fd_events(void **state)
{
	struct evloop *loop = *state;
	struct rec r = { 0 };
	int sv[2];
	char c = 'x';

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_READ, on_fd, &r), 0);
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(r.calls, 0); /* nothing to read yet */
	assert_int_equal(write(sv[1], &c, 1), 1);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, EV_READ);

	/* switching to write-only: a fresh socket is writable at once */
	r.calls = r.events = 0;
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_WRITE, on_fd, &r), 0);
	assert_int_equal(evloop_fd_events(loop, sv[0]), EV_WRITE);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.events, EV_WRITE);

	/* removed: no more calls even though it is still writable */
	r.calls = 0;
	evloop_fd_del(loop, sv[0]);
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(r.calls, 0);
	close(sv[0]);
	close(sv[1]);
}

static void
test_hangup_reported(void **state)
{
	struct evloop *loop = *state;
	struct rec r = { 0 };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_READ, on_fd, &r), 0);
	close(sv[1]);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & EV_READ);
	evloop_fd_del(loop, sv[0]);
	close(sv[0]);
}

/* Closing through the loop: the fd's number, reused at once, is watched
 * afresh; and where another descriptor still holds the socket (sole:
 * false) the kernel's watch is removed too, so nothing wakes the loop for
 * a socket it no longer knows. */
static void
test_fd_close(void **state)
{
	struct evloop *loop = *state;
	struct rec r = { 0 }, r2 = { 0 };
	int sv[2], sv2[2], keep;
	uint64_t t0;
	char c = 'x';

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_READ, on_fd, &r), 0);
	evloop_fd_close(loop, sv[0], true);
	assert_int_equal(evloop_fd_events(loop, sv[0]), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	assert_int_equal(sv2[0], sv[0]); /* the lowest free number again */
	assert_int_equal(evloop_fd_set(loop, sv2[0], EV_READ, on_fd, &r2), 0);
	assert_int_equal(write(sv2[1], &c, 1), 1);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(r2.calls, 1);
	evloop_fd_close(loop, sv2[0], true);
	close(sv2[1]);
	close(sv[1]);

	/* A second descriptor keeps the socket open: not sole. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	keep = dup(sv[0]);
	assert_true(keep >= 0);
	r.calls = 0;
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_READ, on_fd, &r), 0);
	evloop_fd_close(loop, sv[0], false);
	assert_int_equal(write(sv[1], &c, 1), 1);
	/* Still watched by the kernel, the readable socket would end the
	 * wait at once: it must last its full 200 ms (a lower bound only). */
	t0 = evloop_clock_ms();
	assert_int_equal(evloop_once(loop, 200), 0);
	assert_true(evloop_clock_ms() - t0 >= 190);
	assert_int_equal(r.calls, 0);
	close(keep);
	close(sv[1]);
}

/* EV_HANGUP alone: bytes to read wake nothing, the peer's going does. */
static void
test_hangup_only(void **state)
{
	struct evloop *loop = *state;
	struct rec r = { 0 };
	int sv[2];
	char c = 'x';

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_HANGUP, on_fd, &r), 0);
	assert_int_equal(write(sv[1], &c, 1), 1);
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(r.calls, 0);
	close(sv[1]);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & EV_HANGUP);
	evloop_fd_close(loop, sv[0], true);
}

struct tctx {
	struct rec *r;
	int id;
};

static void
on_timer_rec(struct evloop *loop, void *arg)
{
	struct tctx *t = arg;

	(void)loop;
	t->r->order[t->r->norder++] = t->id;
}

static void
test_timers_in_order(void **state)
{
	struct evloop *loop = *state;
	struct rec r = { 0 };
	struct tctx ctx[5];
	struct evtimer t[5];
	const uint64_t delay[5] = { 30, 10, 20, 20, 5 };
	/* Timers count from the loop's cached time (evloop.h), which is when
	 * the fixture made the loop: measure from that clock, not from when
	 * this test happens to run. A loaded machine may pause the test in
	 * between; the pause makes that happen on every run. */
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint64_t start;

	assert_int_equal(nanosleep(&pause, NULL), 0);
	start = evloop_now(loop);
	for (int i = 0; i < 5; i++) {
		ctx[i].r = &r;
		ctx[i].id = i;
		evtimer_init(&t[i], on_timer_rec, &ctx[i]);
		evloop_timer_arm(loop, &t[i], delay[i]);
	}
	evloop_timer_cancel(loop, &t[4]);
	assert_false(evtimer_armed(&t[4]));
	assert_int_equal(evloop_run(loop), 0);
	assert_int_equal(r.norder, 4);
	/* by deadline; equal deadlines in arming order; the cancelled never */
	assert_int_equal(r.order[0], 1);
	assert_int_equal(r.order[1], 2);
	assert_int_equal(r.order[2], 3);
	assert_int_equal(r.order[3], 0);
	assert_true(evloop_clock_ms() - start >= 30);
}

static void
test_timer_rearm_moves(void **state)
{
	struct evloop *loop = *state;
	struct rec r = { 0 };
	struct tctx a = { &r, 1 }, b = { &r, 2 };
	struct evtimer ta, tb;

	evtimer_init(&ta, on_timer_rec, &a);
	evtimer_init(&tb, on_timer_rec, &b);
	evloop_timer_arm(loop, &ta, 5);
	evloop_timer_arm(loop, &tb, 10);
	evloop_timer_arm(loop, &ta, 20); /* re-arming moves, never duplicates */
	assert_int_equal(evloop_run(loop), 0);
	assert_int_equal(r.norder, 2);
	assert_int_equal(r.order[0], 2);
	assert_int_equal(r.order[1], 1);
}

/* The first callback to run removes the other fd (and closes it, then
 * reuses its number for a fresh socketpair): the stale event is dropped. */
static int pair_a[2], pair_b[2];

static void
on_remover(struct evloop *loop, int fd, int events, void *arg)
{
	struct rec *r = arg;
	int victim = fd == pair_a[0] ? pair_b[0] : pair_a[0];
	int nsv[2];

	(void)events;
	r->calls++;
	r->order[r->norder++] = fd;
	evloop_fd_del(loop, victim);
	close(victim);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, nsv), 0);
	/* Usually the same number again; watch it with a callback that must
	 * not run this pass because nothing was written to it. */
	assert_int_equal(evloop_fd_set(loop, nsv[0], EV_READ, on_fd, &r[1]), 0);
	r->other_fd = nsv[0];
	close(nsv[1]);
	evloop_fd_del(loop, fd);
}

static void
test_remove_during_callback(void **state)
{
	struct evloop *loop = *state;
	struct rec r[2];
	char c = 'x';

	memset(r, 0, sizeof(r));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair_a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair_b), 0);
	assert_int_equal(write(pair_a[1], &c, 1), 1);
	assert_int_equal(write(pair_b[1], &c, 1), 1);
	assert_int_equal(evloop_fd_set(loop, pair_a[0], EV_READ, on_remover, &r[0]), 0);
	assert_int_equal(evloop_fd_set(loop, pair_b[0], EV_READ, on_remover, &r[0]), 0);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r[0].calls, 1);
	assert_int_equal(r[1].calls, 0);
	evloop_fd_del(loop, r[0].other_fd);
	close(r[0].other_fd);
	close(r[0].order[0]);
	close(pair_a[1]);
	close(pair_b[1]);
}

static void
on_sig(struct evloop *loop, int signo, void *arg)
{
	int *got = arg;

	*got = signo;
	evloop_stop(loop);
}

static void
on_raise(struct evloop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	raise(SIGUSR2);
}

static void
test_signal(void **state)
{
	struct evloop *loop = *state;
	struct evtimer t, keepalive;
	int got = 0;

	assert_int_equal(evloop_signal(loop, SIGUSR2, on_sig, &got), 0);
	evtimer_init(&t, on_raise, NULL);
	evtimer_init(&keepalive, on_raise, NULL);
	evloop_timer_arm(loop, &t, 1);
	evloop_timer_arm(loop, &keepalive, 5000); /* must not be needed */
	assert_int_equal(evloop_run(loop), 0);
	assert_int_equal(got, SIGUSR2);
	assert_true(evtimer_armed(&keepalive));
	evloop_timer_cancel(loop, &keepalive);
	signal(SIGUSR2, SIG_DFL);
}

static void
on_sig_count(struct evloop *loop, int signo, void *arg)
{
	int *calls = arg;

	(void)loop;
	(void)signo;
	(*calls)++;
}

static void
assert_quiet(struct evloop *loop, int *calls)
{
	int before = *calls;

	assert_int_equal(evloop_once(loop, 10), 0);
	assert_int_equal(*calls, before);
}

/* A storm of one signal: one handler call per wake-up, then quiet: what
 * came before the call is handled by it. */
static void
test_signal_storm(void **state)
{
	struct evloop *loop = *state;
	int calls = 0;

	assert_int_equal(evloop_signal(loop, SIGUSR2, on_sig_count, &calls), 0);
	for (int i = 0; i < 100; i++)
		raise(SIGUSR2);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(calls, 1);
	for (int i = 0; i < 3000; i++)
		raise(SIGUSR2);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(calls, 2);
	assert_quiet(loop, &calls);
	signal(SIGUSR2, SIG_DFL);
}

/* Another signal behind a storm is never lost: with a byte per delivery,
 * 70,000 of one filled the pipe (64 KiB) and the next signal's byte found
 * no room (attack 8: a SIGTERM after a SIGHUP storm, never handled). */
static void
test_signal_behind_storm(void **state)
{
	struct evloop *loop = *state;
	int storm = 0, term = 0;

	assert_int_equal(evloop_signal(loop, SIGUSR2, on_sig_count, &storm), 0);
	assert_int_equal(evloop_signal(loop, SIGUSR1, on_sig_count, &term), 0);
	for (int i = 0; i < 70000; i++)
		raise(SIGUSR2);
	raise(SIGUSR1);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(term, 1);
	assert_int_equal(storm, 1);
	assert_quiet(loop, &storm);
	assert_int_equal(term, 1);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* A change of mask that fails leaves the fd unwatched and forgotten, so
 * that the caller's retry adds it afresh. With epoll, adding EV_EXCLUSIVE
 * to a watched fd is a remove and an add; an epoll fd refuses the add
 * (EINVAL): a loop that kept the old mask then matched a retry against it
 * and never watched the fd again. */
static void
test_failed_change_forgotten(void **state)
{
#if defined(HAVE_SYS_EPOLL_H) && defined(EPOLLEXCLUSIVE)
	struct evloop *loop = evloop_new(EVLOOP_EPOLL);
	struct epoll_event ee = { .events = EPOLLIN };
	struct rec r = { 0 };
	int inner = epoll_create1(EPOLL_CLOEXEC), p[2];

	(void)state;
	assert_non_null(loop);
	assert_true(inner >= 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(epoll_ctl(inner, EPOLL_CTL_ADD, p[0], &ee), 0); /* inner: readable */
	assert_int_equal(evloop_fd_set(loop, inner, EV_READ, on_fd, &r), 0);
	assert_int_equal(evloop_fd_set(loop, inner, EV_READ | EV_EXCLUSIVE, on_fd, &r), -1);
	assert_int_equal(evloop_fd_events(loop, inner), 0);
	/* the retry, as the server's would be: watched again */
	assert_int_equal(evloop_fd_set(loop, inner, EV_READ, on_fd, &r), 0);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	evloop_fd_del(loop, inner);
	evloop_free(loop);
	close(inner);
	close(p[0]);
	close(p[1]);
#else
	(void)state;
	skip();
#endif
}

static void
test_run_returns_when_idle(void **state)
{
	assert_int_equal(evloop_run(*state), 0);
}

/* EV_EXCLUSIVE: a datagram socket watched by this loop and a second one
 * (as workers share a socket) switches between reading and writing; the
 * flag never reaches the callback, and one datagram wakes one loop. */
static void
test_exclusive(void **state)
{
	struct evloop *loop = *state, *other = evloop_new(EVLOOP_DEFAULT);
	struct rec r = { 0 }, r2 = { 0 };
	int sv[2];
	char c = 'x';

	assert_non_null(other);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_READ | EV_EXCLUSIVE, on_fd, &r), 0);
	assert_int_equal(evloop_fd_set(other, sv[0], EV_READ | EV_EXCLUSIVE, on_fd, &r2), 0);
	/* to write and back: EPOLL_CTL_MOD would refuse EPOLLEXCLUSIVE */
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_WRITE | EV_EXCLUSIVE, on_fd, &r), 0);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.events, EV_WRITE);
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_READ | EV_EXCLUSIVE, on_fd, &r), 0);
	r.calls = r.events = 0;
	assert_int_equal(write(sv[1], &c, 1), 1);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, EV_READ);
	evloop_fd_del(loop, sv[0]);
	evloop_fd_del(other, sv[0]);
	evloop_free(other);
	close(sv[0]);
	close(sv[1]);
}

static void
on_fd_tens(struct evloop *loop, int fd, int events, void *arg)
{
	struct rec *r = arg;

	(void)loop;
	(void)fd;
	(void)events;
	r->calls += 10;
}

/* fds in chunks past the first, each entry with its own callback and arg;
 * a mask the entry cannot hold is refused, and the fd is then unwatched. */
static void
test_high_fds(void **state)
{
	struct evloop *loop = *state;
	struct rec r1 = { 0 }, r2 = { 0 };
	int sv[2], a, b;
	char c = 'x';

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = fcntl(sv[0], F_DUPFD, 300);
	b = fcntl(sv[0], F_DUPFD, 520);
	assert_true(a >= 300 && b >= 520);
	assert_int_equal(evloop_fd_set(loop, a, EV_READ, on_fd, &r1), 0);
	assert_int_equal(evloop_fd_set(loop, b, EV_READ, on_fd_tens, &r2), 0);
	assert_int_equal(evloop_fd_events(loop, 400), 0); /* a chunk never made */
	assert_int_equal(write(sv[1], &c, 1), 1);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r2.calls, 10);
	assert_int_equal(evloop_fd_set(loop, a, 0x100 | EV_READ, on_fd, &r1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(evloop_fd_events(loop, a), 0);
	evloop_fd_del(loop, b);
	close(a);
	close(b);
	close(sv[0]);
	close(sv[1]);
}

/* EV_EDGE on epoll: what arrived is told once, however much is left
 * unread; evloop_fd_rearm() has the kernel look again; the peer's EOF (or
 * urgent data) behind the bytes comes with EV_DRAIN. (The poll backend
 * ignores EV_EDGE.) */
static void
test_edge(void **state)
{
#ifdef HAVE_SYS_EPOLL_H
	struct evloop *loop = evloop_new(EVLOOP_EPOLL);
	struct rec r = { 0 };
	int sv[2];
	char buf[4];

	(void)state;
	assert_non_null(loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evloop_fd_set(loop, sv[0], EV_READ | EV_EDGE, on_fd, &r), 0);
	assert_int_equal(write(sv[1], "ab", 2), 2);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, EV_READ);
	assert_int_equal(read(sv[0], buf, 1), 1); /* "b" left */
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(evloop_fd_rearm(loop, sv[0]), 0);
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(r.calls, 2);
	assert_int_equal(read(sv[0], buf, 1), 1);
	r.calls = r.events = 0;
	assert_int_equal(write(sv[1], "c", 1), 1);
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	assert_int_equal(evloop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, EV_READ | EV_DRAIN);
	evloop_fd_del(loop, sv[0]);
	close(sv[0]);
	close(sv[1]);
	evloop_free(loop);
#else
	(void)state;
	skip();
#endif
}

#define ON_BOTH(t) \
	cmocka_unit_test_setup_teardown(t, setup_epoll, teardown), \
	cmocka_unit_test_setup_teardown(t, setup_poll, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		ON_BOTH(test_fd_events),
		ON_BOTH(test_high_fds),
		ON_BOTH(test_hangup_reported),
		ON_BOTH(test_fd_close),
		ON_BOTH(test_hangup_only),
		ON_BOTH(test_timers_in_order),
		ON_BOTH(test_timer_rearm_moves),
		ON_BOTH(test_remove_during_callback),
		ON_BOTH(test_signal),
		ON_BOTH(test_signal_storm),
		ON_BOTH(test_signal_behind_storm),
		cmocka_unit_test(test_failed_change_forgotten),
		ON_BOTH(test_run_returns_when_idle),
		ON_BOTH(test_exclusive),
		cmocka_unit_test(test_edge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

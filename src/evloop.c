#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "evloop_int.h"

uint64_t
evloop_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
evloop_clock_ms(void)
{
	return evloop_clock_us() / 1000;
}

struct evloop *
evloop_new(enum evloop_backend backend)
{
	struct evloop *loop;
	const struct evloop_ops *ops = &evloop_poll_ops;

#ifdef HAVE_SYS_EPOLL_H
	if (backend != EVLOOP_POLL)
		ops = &evloop_epoll_ops;
#else
	if (backend == EVLOOP_EPOLL) {
		errno = ENOSYS;
		return NULL;
	}
#endif
	loop = calloc(1, sizeof(*loop));
	if (loop == NULL)
		return NULL;
	loop->ops = ops;
	loop->sigfd = -1;
	loop->now = evloop_clock_ms();
	if (ops->init(loop) == -1) {
		int saved = errno;
		free(loop);
		errno = saved;
		return NULL;
	}
	return loop;
}

void
evloop_free(struct evloop *loop)
{
	if (loop == NULL)
		return;
	loop->ops->done(loop);
	for (int i = 0; i < loop->nfdc; i++)
		free(loop->fdc[i]);
	free(loop->fdc);
	free(loop->heap);
	free(loop);
}

/* The entry of fd, or NULL when no fd of its chunk was ever watched. */
static struct evfd *
fd_entry(const struct evloop *loop, int fd)
{
	int i = fd / EVLOOP_FD_CHUNK;

	if (fd < 0 || i >= loop->nfdc || loop->fdc[i] == NULL)
		return NULL;
	return &loop->fdc[i][fd % EVLOOP_FD_CHUNK];
}

/* The entry of fd, its chunk allocated (zeroed) if need be. */
static struct evfd *
fd_entry_make(struct evloop *loop, int fd)
{
	int i = fd / EVLOOP_FD_CHUNK;

	if (i >= loop->nfdc) {
		int n = loop->nfdc ? loop->nfdc : 4;
		struct evfd **p;
		while (n <= i)
			n *= 2;
		p = realloc(loop->fdc, (size_t)n * sizeof(*p));
		if (p == NULL)
			return NULL;
		memset(p + loop->nfdc, 0, (size_t)(n - loop->nfdc) * sizeof(*p));
		loop->fdc = p;
		loop->nfdc = n;
	}
	if (loop->fdc[i] == NULL) {
		loop->fdc[i] = calloc(EVLOOP_FD_CHUNK, sizeof(struct evfd));
		if (loop->fdc[i] == NULL)
			return NULL;
	}
	return &loop->fdc[i][fd % EVLOOP_FD_CHUNK];
}

/* cb's index in the loop's table of callbacks, added if new; -1 when the
 * table is full. A loop has a handful: the scan is short. */
static int
cb_index(struct evloop *loop, evloop_fd_cb *cb)
{
	for (int i = 0; i < loop->ncbs; i++)
		if (loop->cbs[i] == cb)
			return i;
	if (loop->ncbs == EVLOOP_MAX_CBS) {
		errno = ENOMEM;
		return -1;
	}
	loop->cbs[loop->ncbs] = cb;
	return loop->ncbs++;
}

int
evloop_fd_set(struct evloop *loop, int fd, int events, evloop_fd_cb *cb, void *arg)
{
	struct evfd *e;
	int cbi;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (events == 0) {
		evloop_fd_del(loop, fd);
		return 0;
	}
	errno = EINVAL; /* the entry keeps 8 bits of them */
	cbi = events & ~(EV_READ | EV_WRITE | EV_EXCLUSIVE | EV_HANGUP | EV_EDGE) ? -1 :
	    cb_index(loop, cb);
	if (cbi == -1) {
		int saved = errno;
		evloop_fd_del(loop, fd);
		errno = saved;
		return -1;
	}
	e = fd_entry_make(loop, fd);
	if (e == NULL)
		return -1; /* in no chunk yet: never watched */
	if (e->events != events && loop->ops->update(loop, fd, e->events, events) == -1) {
		/* A failed change may leave the fd watched the old way, or
		 * (epoll's remove-and-add for EV_EXCLUSIVE) not at all: forget
		 * it, so that the caller's retry adds it afresh instead of
		 * matching a mask the kernel no longer has. */
		int saved = errno;
		evloop_fd_del(loop, fd);
		errno = saved;
		return -1;
	}
	if (e->events == 0)
		loop->nwatched++;
	e->events = (uint8_t)events;
	e->cb = (uint8_t)cbi;
	e->arg = arg;
	return 0;
}

/* Stop watching fd; tell_kernel false where closing it will (epoll). */
static void
unwatch(struct evloop *loop, int fd, bool tell_kernel)
{
	struct evfd *e = fd_entry(loop, fd);

	if (e == NULL || e->events == 0)
		return;
	/* Errors are ignored: the fd may already be closed, and then the
	 * kernel has forgotten it anyway. */
	if (tell_kernel)
		loop->ops->update(loop, fd, e->events, 0);
	e->events = 0;
	e->gen++;
	loop->nwatched--;
}

int
evloop_fd_rearm(struct evloop *loop, int fd)
{
	int ev = evloop_fd_events(loop, fd);

	if (ev == 0 || loop->ops->update(loop, fd, ev, ev) == 0)
		return 0;
	ev = errno;
	evloop_fd_del(loop, fd);
	errno = ev;
	return -1;
}

void
evloop_fd_del(struct evloop *loop, int fd)
{
	unwatch(loop, fd, true);
}

void
evloop_fd_close(struct evloop *loop, int fd, bool sole)
{
	unwatch(loop, fd, !sole || !loop->ops->forgets_closed);
	close(fd);
}

int
evloop_fd_events(const struct evloop *loop, int fd)
{
	const struct evfd *e = fd_entry(loop, fd);

	return e != NULL ? e->events : 0;
}

void
evloop_fired(struct evloop *loop, int fd, int events)
{
	const struct evfd *e = fd_entry(loop, fd);
	struct evfired *f;

	if (loop->nfired == EVLOOP_MAX_FIRED || e == NULL)
		return;
	f = &loop->fired[loop->nfired++];
	f->fd = fd;
	f->events = events;
	f->gen = e->gen;
}

/* ---- timers: a binary min-heap ordered by (deadline, arming order) ---- */

static bool
evtimer_before(const struct evtimer *a, const struct evtimer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void
heap_place(struct evloop *loop, size_t i, struct evtimer *t)
{
	loop->heap[i] = t;
	t->slot = i + 1;
}

static void
heap_up(struct evloop *loop, size_t i)
{
	struct evtimer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!evtimer_before(t, loop->heap[parent]))
			break;
		heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_place(loop, i, t);
}

static void
heap_down(struct evloop *loop, size_t i)
{
	struct evtimer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && evtimer_before(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!evtimer_before(loop->heap[c], t))
			break;
		heap_place(loop, i, loop->heap[c]);
		i = c;
	}
	heap_place(loop, i, t);
}

void
evtimer_init(struct evtimer *t, evloop_timer_cb *cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

bool
evtimer_armed(const struct evtimer *t)
{
	return t->slot != 0;
}

void
evloop_timer_cancel(struct evloop *loop, struct evtimer *t)
{
	struct evtimer *last;
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--loop->nheap == i)
		return;
	last = loop->heap[loop->nheap];
	heap_place(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->slot - 1);
}

void
evloop_timer_arm(struct evloop *loop, struct evtimer *t, uint64_t delay_ms)
{
	evloop_timer_cancel(loop, t);
	if (loop->nheap == loop->heapcap) {
		size_t cap = loop->heapcap ? loop->heapcap * 2 : 64;
		struct evtimer **h = realloc(loop->heap, cap * sizeof(*h));
		/* A timer that cannot be stored would never fire: a silent hang
		 * is worse than stopping here. */
		if (h == NULL)
			abort();
		loop->heap = h;
		loop->heapcap = cap;
	}
	t->when = loop->now + delay_ms;
	t->seq = loop->timer_seq++;
	loop->heap[loop->nheap++] = t;
	heap_up(loop, loop->nheap - 1);
}

uint64_t
evloop_now(const struct evloop *loop)
{
	return loop->now;
}

/* ---- signals: a self-pipe, so handlers run as ordinary callbacks ---- */

static int sig_pipe[2] = { -1, -1 };
static struct {
	evloop_signal_cb *cb;
	void *arg;
} sig_handlers[65];
/* A signal caught and not yet handled. The handler writes a byte only
 * when it sets this flag, so the pipe holds at most one byte per signal
 * and is never full: with one byte per delivery, a storm of one signal
 * (a loop of kill -HUP on a busy server) filled it, and a SIGTERM then
 * found no room and was lost, or waited behind 64 KiB of SIGHUPs. */
static volatile sig_atomic_t sig_pending[AE_NELEM(sig_handlers)];

static void
sig_catch(int signo)
{
	unsigned char c = (unsigned char)signo;
	int saved = errno;

	if (!sig_pending[signo]) {
		sig_pending[signo] = 1;
		(void)!write(sig_pipe[1], &c, 1);
	}
	errno = saved;
}

/* A storm of one signal costs the loop one handler call per wake-up, not
 * one per signal: the flag is cleared just before the handler runs, and
 * any delivery after that sets it again and wakes the loop once more,
 * after the other fds have had their turn. The pipe is drained whole
 * (a few bytes); its bytes only wake us, the flags say which. */
static void
sig_readable(struct evloop *loop, int fd, int events, void *arg)
{
	unsigned char buf[256];

	(void)events;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		;
	for (size_t s = 0; s < AE_NELEM(sig_handlers); s++) {
		if (!sig_pending[s])
			continue;
		sig_pending[s] = 0;
		if (sig_handlers[s].cb != NULL)
			sig_handlers[s].cb(loop, (int)s, sig_handlers[s].arg);
	}
}

static int
sig_pipe_open(void)
{
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(sig_pipe[i], F_GETFL);
		if (fl == -1 || fcntl(sig_pipe[i], F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			return -1;
	}
	return 0;
}

int
evloop_signal(struct evloop *loop, int signo, evloop_signal_cb *cb, void *arg)
{
	struct sigaction sa;

	if (signo <= 0 || (size_t)signo >= AE_NELEM(sig_handlers)) {
		errno = EINVAL;
		return -1;
	}
	if (sig_pipe[0] == -1) {
		if (pipe(sig_pipe) == -1)
			return -1;
		if (sig_pipe_open() == -1)
			return -1;
	}
	if (loop->sigfd == -1) {
		if (evloop_fd_set(loop, sig_pipe[0], EV_READ, sig_readable, NULL) == -1)
			return -1;
		loop->sigfd = sig_pipe[0];
		/* The signal pipe alone must not keep evloop_run() alive. */
		loop->nwatched--;
	}
	sig_handlers[signo].cb = cb;
	sig_handlers[signo].arg = arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_catch;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(signo, &sa, NULL);
}

/* ---- dispatch ---- */

static int
evloop_wait_ms(const struct evloop *loop, int max_wait_ms)
{
	uint64_t delta;

	if (loop->nheap == 0)
		return max_wait_ms;
	delta = loop->heap[0]->when > loop->now ? loop->heap[0]->when - loop->now : 0;
	if (max_wait_ms >= 0 && delta > (uint64_t)max_wait_ms)
		return max_wait_ms;
	return delta > INT32_MAX ? INT32_MAX : (int)delta;
}

static void
evloop_run_timers(struct evloop *loop)
{
	/* Timers armed by these callbacks wait for the next pass, so a timer
	 * that re-arms itself with no delay cannot starve the fds. */
	uint64_t limit = loop->timer_seq;

	while (loop->nheap > 0 && !loop->stop) {
		struct evtimer *t = loop->heap[0];
		if (t->when > loop->now || t->seq >= limit)
			break;
		evloop_timer_cancel(loop, t);
		t->cb(loop, t->arg);
	}
}

int
evloop_once(struct evloop *loop, int max_wait_ms)
{
	int timeout = evloop_wait_ms(loop, max_wait_ms);

	loop->nfired = 0;
	if (loop->ops->wait(loop, timeout) == -1) {
		if (errno != EINTR)
			return -1;
		loop->nfired = 0;
	}
	loop->now = evloop_clock_ms();
	for (int i = 0; i < loop->nfired && !loop->stop; i++) {
		struct evfired *f = &loop->fired[i];
		/* evloop_fired() saw its chunk, and chunks stay till the end */
		struct evfd *e = &loop->fdc[f->fd / EVLOOP_FD_CHUNK][f->fd % EVLOOP_FD_CHUNK];
		int ev = f->events & e->events;

		/* Removed (or removed and re-added) by an earlier callback. */
		if (e->gen != f->gen || ev == 0)
			continue;
		if (e->events & EV_EDGE)
			ev |= f->events & EV_DRAIN;
		loop->cbs[e->cb](loop, f->fd, ev, e->arg);
	}
	evloop_run_timers(loop);
	return 0;
}

int
evloop_run(struct evloop *loop)
{
	loop->stop = false;
	while (!loop->stop && (loop->nwatched > 0 || loop->nheap > 0))
		if (evloop_once(loop, -1) == -1)
			return -1;
	return 0;
}

void
evloop_stop(struct evloop *loop)
{
	loop->stop = true;
}

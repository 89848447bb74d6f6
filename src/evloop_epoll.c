/* epoll backend: level-triggered, so a callback that reads only part of
 * what is available is called again on the next pass; edge-triggered for
 * fds set with EV_EDGE, whose callbacks read until empty. */
#include "common.h"

#ifdef HAVE_SYS_EPOLL_H
#include <sys/epoll.h>

#include "evloop_int.h"

struct epoll_be {
	int epfd;
	struct epoll_event ev[EVLOOP_MAX_FIRED];
};

static int
ep_init(struct evloop *loop)
{
	struct epoll_be *be = calloc(1, sizeof(*be));

	if (be == NULL)
		return -1;
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (be->epfd == -1) {
		free(be);
		return -1;
	}
	loop->be = be;
	return 0;
}

static void
ep_done(struct evloop *loop)
{
	struct epoll_be *be = loop->be;

	close(be->epfd);
	free(be);
}

#ifdef EPOLLEXCLUSIVE
static bool
exclusive(int ev)
{
	return (ev & EV_EXCLUSIVE) && !(ev & EV_WRITE);
}
#endif

static int
ep_update(struct evloop *loop, int fd, int oldev, int newev)
{
	struct epoll_be *be = loop->be;
	struct epoll_event ee;
	int op = oldev == 0 ? EPOLL_CTL_ADD : newev == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

	memset(&ee, 0, sizeof(ee));
	ee.data.fd = fd;
	if (newev & EV_READ)
		ee.events |= EPOLLIN;
	if (newev & EV_WRITE)
		ee.events |= EPOLLOUT;
	if (newev & EV_EDGE)
		ee.events |= EPOLLET | (newev & EV_READ ? EPOLLPRI | EPOLLRDHUP : 0);
#ifdef EPOLLEXCLUSIVE
	if (exclusive(newev))
		ee.events |= EPOLLEXCLUSIVE;
	/* EPOLL_CTL_MOD refuses EPOLLEXCLUSIVE (EINVAL), in and out: remove
	 * and add again. Until the add succeeds the fd is not watched (and
	 * evloop_fd_set() then forgets it). ENOENT: already not watched. */
	if (op == EPOLL_CTL_MOD && (exclusive(oldev) || exclusive(newev))) {
		if (epoll_ctl(be->epfd, EPOLL_CTL_DEL, fd, &ee) == -1 && errno != ENOENT)
			return -1;
		op = EPOLL_CTL_ADD;
	}
#endif
	return epoll_ctl(be->epfd, op, fd, &ee);
}

static int
ep_wait(struct evloop *loop, int timeout_ms)
{
	struct epoll_be *be = loop->be;
	int n = epoll_wait(be->epfd, be->ev, EVLOOP_MAX_FIRED, timeout_ms);

	for (int i = 0; i < n; i++) {
		uint32_t e = be->ev[i].events;
		int ev = 0;

		if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
			ev |= EV_READ;
		if (e & (EPOLLPRI | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			ev |= EV_READ | EV_DRAIN;
		if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			ev |= EV_WRITE;
		if (e & (EPOLLERR | EPOLLHUP))
			ev |= EV_HANGUP;
		evloop_fired(loop, be->ev[i].data.fd, ev);
	}
	return n < 0 ? -1 : 0;
}

const struct evloop_ops evloop_epoll_ops = {
	"epoll", ep_init, ep_done, ep_update, ep_wait, true,
};
#endif

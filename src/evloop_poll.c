/* poll(2) backend: portable, and the second implementation that keeps the
 * ops table honest. Watched fds live in a dense pollfd array; pos[fd] finds
 * an fd's slot so updates are O(1). */
#include "common.h"

#include <poll.h>

#include "evloop_int.h"

struct poll_be {
	struct pollfd *pfd;
	int *pos; /* fd -> index in pfd, or -1 */
	int npfd, cappfd, cappos;
};

static int
pl_init(struct evloop *loop)
{
	loop->be = calloc(1, sizeof(struct poll_be));
	return loop->be == NULL ? -1 : 0;
}

static void
pl_done(struct evloop *loop)
{
	struct poll_be *be = loop->be;

	free(be->pfd);
	free(be->pos);
	free(be);
}

static int
pl_reserve(struct poll_be *be, int fd)
{
	if (fd >= be->cappos) {
		int n = be->cappos ? be->cappos : 64;
		int *p;
		while (n <= fd)
			n *= 2;
		p = realloc(be->pos, (size_t)n * sizeof(*p));
		if (p == NULL)
			return -1;
		for (int i = be->cappos; i < n; i++)
			p[i] = -1;
		be->pos = p;
		be->cappos = n;
	}
	if (be->npfd == be->cappfd) {
		int n = be->cappfd ? be->cappfd * 2 : 64;
		struct pollfd *p = realloc(be->pfd, (size_t)n * sizeof(*p));
		if (p == NULL)
			return -1;
		be->pfd = p;
		be->cappfd = n;
	}
	return 0;
}

static int
pl_update(struct evloop *loop, int fd, int oldev, int newev)
{
	struct poll_be *be = loop->be;
	short pev = (short)(((newev & EV_READ) ? POLLIN : 0) | ((newev & EV_WRITE) ? POLLOUT : 0));
	int i;

	(void)oldev;
	if (newev == 0) {
		if (fd >= be->cappos || (i = be->pos[fd]) < 0)
			return 0;
		be->pfd[i] = be->pfd[--be->npfd];
		be->pos[be->pfd[i].fd] = i;
		be->pos[fd] = -1;
		return 0;
	}
	if (pl_reserve(be, fd) == -1)
		return -1;
	i = be->pos[fd];
	if (i < 0) {
		i = be->npfd++;
		be->pos[fd] = i;
		be->pfd[i].fd = fd;
	}
	be->pfd[i].events = pev;
	return 0;
}

static int
pl_wait(struct evloop *loop, int timeout_ms)
{
	struct poll_be *be = loop->be;
	int n = poll(be->pfd, (nfds_t)be->npfd, timeout_ms);

	for (int i = 0; n > 0 && i < be->npfd; i++) {
		short r = be->pfd[i].revents;
		int ev = 0;

		if (r == 0)
			continue;
		n--;
		if (r & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
			ev |= EV_READ;
		if (r & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))
			ev |= EV_WRITE;
		if (r & (POLLERR | POLLHUP | POLLNVAL))
			ev |= EV_HANGUP;
		evloop_fired(loop, be->pfd[i].fd, ev);
	}
	return n < 0 ? -1 : 0;
}

const struct evloop_ops evloop_poll_ops = {
	"poll", pl_init, pl_done, pl_update, pl_wait, false,
};

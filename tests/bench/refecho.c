/*
 * refecho: the reference anyechod is measured against. The smallest correct
 * epoll echo server one would write by hand: one thread, level-triggered,
 * read and write back, and a remainder kept only when the peer does not take
 * it all (so it loses no byte under the benchmark's bulk load). UDP answers
 * one datagram at a time with recvfrom/sendto. No options beyond the port.
 *
 * usage: refecho PORT-FILE   (listens on 127.0.0.1, TCP and UDP, port 0,
 *                             writes "tcp PORT\nudp PORT\n" to PORT-FILE)
 */
#define _GNU_SOURCE 1 /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 65536

struct conn {
	int fd;
	size_t len, off; /* what the peer has not taken yet */
	char *rest;
};

static char buf[BUFSZ];

static int
bound(int type, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin->sin_family = AF_INET;
	sin->sin_port = 0;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 1024) == -1) ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1)
		return -1;
	return fd;
}

static void
drop(struct conn *c)
{
	close(c->fd);
	free(c->rest);
	free(c);
}

/* Returns 0 to keep the connection, -1 to drop it. */
static int
serve(int ep, struct conn *c)
{
	struct epoll_event e = { .data.ptr = c };
	ssize_t n, w;

	if (c->rest) { /* writable again: send what is owed, then read again */
		w = write(c->fd, c->rest + c->off, c->len - c->off);
		if (w == -1)
			return errno == EAGAIN ? 0 : -1;
		c->off += (size_t)w;
		if (c->off < c->len)
			return 0;
		free(c->rest);
		c->rest = NULL;
		e.events = EPOLLIN;
		return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
	}
	n = read(c->fd, buf, sizeof(buf));
	if (n <= 0)
		return n == -1 && errno == EAGAIN ? 0 : -1;
	w = write(c->fd, buf, (size_t)n);
	if (w == -1 && errno != EAGAIN)
		return -1;
	if (w == n)
		return 0;
	c->off = 0;
	c->len = (size_t)(n - (w > 0 ? w : 0));
	if ((c->rest = malloc(c->len)) == NULL)
		return -1;
	memcpy(c->rest, buf + n - c->len, c->len);
	e.events = EPOLLOUT;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void
datagrams(int fd)
{
	struct sockaddr_storage ss;

	for (int i = 0; i < 64; i++) {
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		if (n == -1)
			return;
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&ss, sl);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in st, su;
	struct epoll_event e = { .events = EPOLLIN }, evs[256];
	int lfd, ufd, ep = epoll_create1(0);
	FILE *f;

	/* A load client that closes while we still write would kill us with
	 * SIGPIPE (CI saw "cannot read the server's /proc stat" after tcp-bulk). */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 2 || (lfd = bound(SOCK_STREAM, &st)) == -1 ||
	    (ufd = bound(SOCK_DGRAM, &su)) == -1 || ep == -1) {
		fprintf(stderr, "usage: refecho PORT-FILE (or: %s)\n", strerror(errno));
		return 2;
	}
	e.data.ptr = &lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	e.data.ptr = &ufd;
	epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &e);
	if ((f = fopen(argv[1], "w")) == NULL)
		return 2;
	fprintf(f, "tcp %d\nudp %d\n", ntohs(st.sin_port), ntohs(su.sin_port));
	fclose(f);

	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &ufd) {
				datagrams(ufd);
			} else if (p == &lfd) {
				int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
				struct conn *c;
				if (fd == -1 || (c = calloc(1, sizeof(*c))) == NULL) {
					if (fd != -1)
						close(fd);
					continue;
				}
				c->fd = fd;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				e.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
			} else if (serve(ep, p) == -1) {
				drop(p);
			}
		}
	}
}

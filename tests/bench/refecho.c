/*
 * refecho: the reference anyechod is measured against. The smallest correct
 * epoll echo server one would write by hand, and the fastest simple one: one
 * thread, edge-triggered, no option. Streams: read and write back; a short
 * read means the queue is empty (new bytes bring a new edge), so an echo costs
 * one read and one write; a remainder is kept only when the peer does not take
 * it all, and reading stops until it is written. Datagrams: recvmmsg, then
 * sendmmsg of the same batch to the senders; one the kernel cannot take is
 * dropped, as datagrams may be, and the others still sent.
 *
 * usage: refecho PORT-FILE UNIX-DIR
 * Serves TCP and UDP on 127.0.0.1 and ::1 (port 0; IPv6 skipped when the host
 * has none), unix stream UNIX-DIR/ref.stream and unix dgram UNIX-DIR/ref.dgram,
 * and writes one line per socket to PORT-FILE in anyechod's --port-file form
 * ("IPv4 stream 127.0.0.1 PORT", "unix dgram PATH -").
 */
#define _GNU_SOURCE 1 /* accept4, recvmmsg, sendmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BUFSZ 65536
#define BATCH 64

struct conn {
	int fd;
	unsigned len, off; /* what the peer has not taken yet */
	char *rest;
};

/* A listening or datagram socket; connections are struct conn. */
struct sock {
	int fd;
	int type;
};

static struct sock socks[6];
static int nsocks;
static char buf[BUFSZ];
static char dbuf[BATCH][BUFSZ];
static struct mmsghdr msgs[BATCH];
static struct iovec iovs[BATCH];
static struct sockaddr_storage names[BATCH];

/* Binds one socket; writes its port-file line. Returns -1 when the family
 * or address is missing, which only the unix and IPv4 sockets may not be. */
static int
open_sock(FILE *pf, int family, int type, const char *where)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *su = (struct sockaddr_un *)&ss;
	socklen_t len = sizeof(ss);
	int one = 1, fd = socket(family, type | SOCK_NONBLOCK, 0);

	if (fd == -1)
		return -1;
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (family == AF_INET6) {
		s6->sin6_addr = in6addr_loopback;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	} else {
		snprintf(su->sun_path, sizeof(su->sun_path), "%s", where);
		unlink(where);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, family == AF_UNIX ? sizeof(*su) : len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 4096) == -1) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	if (family == AF_UNIX)
		fprintf(pf, "unix %s %s -\n", type == SOCK_STREAM ? "stream" : "dgram", where);
	else
		fprintf(pf, "%s %s %s %d\n", family == AF_INET ? "IPv4" : "IPv6",
		    type == SOCK_STREAM ? "stream" : "dgram", family == AF_INET ? "127.0.0.1" : "::1",
		    ntohs(family == AF_INET ? s4->sin_port : s6->sin6_port));
	socks[nsocks].fd = fd;
	socks[nsocks].type = type;
	nsocks++;
	return 0;
}

static void
drop(struct conn *c)
{
	close(c->fd);
	free(c->rest);
	free(c);
}

/* Sends what the peer owes; 0 when done or waiting for the next edge. */
static int
flush(struct conn *c)
{
	ssize_t w = write(c->fd, c->rest + c->off, c->len - c->off);

	if (w == -1)
		return errno == EAGAIN ? 0 : -1;
	c->off += (unsigned)w;
	if (c->off == c->len) {
		free(c->rest);
		c->rest = NULL;
	}
	return 0;
}

/* Returns 0 to keep the connection, -1 to drop it. At the peer's end of
 * input (hup) a short read does not mean the end: read on to the 0. */
static int
serve(struct conn *c, int hup)
{
	ssize_t n, w;

	if (c->rest != NULL && flush(c) == -1)
		return -1;
	while (c->rest == NULL) {
		n = read(c->fd, buf, sizeof(buf));
		if (n <= 0)
			return n == -1 && errno == EAGAIN ? 0 : -1;
		w = write(c->fd, buf, (size_t)n);
		if (w == -1 && errno != EAGAIN)
			return -1;
		if (w < n) { /* the next EPOLLOUT edge sends the rest */
			c->off = 0;
			c->len = (unsigned)(n - (w > 0 ? w : 0));
			if ((c->rest = malloc(c->len)) == NULL)
				return -1;
			memcpy(c->rest, buf + n - c->len, c->len);
			return 0;
		}
		if (n < (ssize_t)sizeof(buf) && !hup)
			return 0;
	}
	return 0;
}

static void
datagrams(int fd)
{
	int n, i, s;

	do {
		for (i = 0; i < BATCH; i++) {
			iovs[i].iov_len = BUFSZ;
			msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
		}
		n = recvmmsg(fd, msgs, BATCH, 0, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++)
			iovs[i].iov_len = msgs[i].msg_len;
		/* One refused (EAGAIN: a unix peer's queue is full, or our
		 * buffer) is dropped and the rest still go: breaking off
		 * would drop the other senders' replies behind it, the same
		 * ones each time, and stall their flows. */
		for (i = 0; i < n; i += s > 0 ? s : 1)
			s = sendmmsg(fd, msgs + i, (unsigned)(n - i), 0);
	} while (n == BATCH);
}

static void
accept_all(int ep, int lfd)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	struct conn *c;
	int one = 1, fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) != -1) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		e.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1)
			drop(c);
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLET }, evs[256];
	struct rlimit rl;
	char path[2][4096], tmp[4096];
	int ep = epoll_create1(0), ok;
	FILE *pf;

	if (argc != 3 || ep == -1) {
		fprintf(stderr, "usage: refecho PORT-FILE UNIX-DIR\n");
		return 2;
	}
	/* a peer that leaves while we write must not end the server */
	signal(SIGPIPE, SIG_IGN);
	/* 10,000 idle connections need as many descriptors, as anyechod raises */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	snprintf(path[0], sizeof(path[0]), "%s/ref.stream", argv[2]);
	snprintf(path[1], sizeof(path[1]), "%s/ref.dgram", argv[2]);
	if ((pf = fopen(tmp, "w")) == NULL)
		return 2;
	ok = open_sock(pf, AF_INET, SOCK_STREAM, NULL) == 0 &&
	    open_sock(pf, AF_INET, SOCK_DGRAM, NULL) == 0 &&
	    open_sock(pf, AF_UNIX, SOCK_STREAM, path[0]) == 0 &&
	    open_sock(pf, AF_UNIX, SOCK_DGRAM, path[1]) == 0;
	if (open_sock(pf, AF_INET6, SOCK_STREAM, NULL) == 0)
		open_sock(pf, AF_INET6, SOCK_DGRAM, NULL);
	if (fclose(pf) != 0 || !ok || rename(tmp, argv[1]) == -1) {
		fprintf(stderr, "refecho: cannot listen: %s\n", strerror(errno));
		return 2;
	}
	for (int i = 0; i < BATCH; i++) {
		iovs[i].iov_base = dbuf[i];
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &names[i];
	}
	for (int i = 0; i < nsocks; i++) {
		e.data.ptr = &socks[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, socks[i].fd, &e);
	}

	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			struct sock *s = evs[i].data.ptr;
			if (s >= socks && s < socks + nsocks) {
				if (s->type == SOCK_DGRAM)
					datagrams(s->fd);
				else
					accept_all(ep, s->fd);
			} else if (serve(evs[i].data.ptr,
				       (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) == -1) {
				drop(evs[i].data.ptr);
			}
		}
	}
}

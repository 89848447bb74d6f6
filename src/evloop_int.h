/* Shared between evloop.c and its backends; not for other modules. */
#ifndef AE_EVLOOP_INT_H
#define AE_EVLOOP_INT_H

#include "evloop.h"

#define EVLOOP_MAX_FIRED 512
/* Per-fd entries come in chunks of this many, allocated when an fd in
 * them is first watched and never moved: a table that grows by chunks
 * holds at most one chunk more than its highest fd needs, where doubling
 * one array (and zeroing the new half) held up to twice that. */
#define EVLOOP_FD_CHUNK 256

struct evfd {
	evloop_fd_cb *cb;
	void *arg;
	int events;
	unsigned gen; /* bumped on removal so stale fired events are dropped */
};

struct evfired {
	int fd;
	int events;
	unsigned gen;
};

struct evloop_ops {
	const char *name;
	int (*init)(struct evloop *loop);
	void (*done)(struct evloop *loop);
	int (*update)(struct evloop *loop, int fd, int oldev, int newev);
	/* Wait, then report each ready fd with evloop_fired(); -1 on failure. */
	int (*wait)(struct evloop *loop, int timeout_ms);
};

struct evloop {
	const struct evloop_ops *ops;
	void *be;
	struct evfd **fdc; /* fd / EVLOOP_FD_CHUNK -> its chunk, or NULL */
	int nfdc;
	struct evfired fired[EVLOOP_MAX_FIRED];
	int nfired;
	struct evtimer **heap;
	size_t nheap, heapcap;
	uint64_t timer_seq;
	uint64_t now;
	int nwatched;
	int sigfd;
	bool stop;
};

void evloop_fired(struct evloop *loop, int fd, int events);

extern const struct evloop_ops evloop_poll_ops;
#ifdef HAVE_SYS_EPOLL_H
extern const struct evloop_ops evloop_epoll_ops;
#endif

#endif

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

/* Distinct callbacks one loop may have: an fd's entry names its callback by
 * an index into the loop's table, so that the entry, which every fd number
 * up to the highest in use costs, takes 16 bytes rather than 24. */
#define EVLOOP_MAX_CBS 64

struct evfd {
	void *arg;
	uint16_t gen; /* bumped on removal so stale fired events are dropped */
	uint8_t events;
	uint8_t cb; /* index into loop->cbs */
};

struct evfired {
	int fd;
	int events;
	uint16_t gen;
};

struct evloop_ops {
	const char *name;
	int (*init)(struct evloop *loop);
	void (*done)(struct evloop *loop);
	int (*update)(struct evloop *loop, int fd, int oldev, int newev);
	/* Wait, then report each ready fd with evloop_fired(); -1 on failure. */
	int (*wait)(struct evloop *loop, int timeout_ms);
	/* Closing an fd (the last descriptor of its file) unwatches it. */
	bool forgets_closed;
};

struct evloop {
	const struct evloop_ops *ops;
	void *be;
	struct evfd **fdc; /* fd / EVLOOP_FD_CHUNK -> its chunk, or NULL */
	int nfdc;
	evloop_fd_cb *cbs[EVLOOP_MAX_CBS];
	int ncbs;
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

/* A small event loop: fd readiness, monotonic millisecond timers, signals.
 * Two backends (epoll where the kernel has it, poll everywhere) behind one
 * ops table, so both are exercised by the tests on Linux. Not thread-safe:
 * one loop per thread. */
#ifndef AE_EVLOOP_H
#define AE_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_READ  0x1
#define EV_WRITE 0x2
/* A hint added to the mask: other loops (threads) watch the same socket,
 * wake only one of them (EPOLLEXCLUSIVE). Applied only while EV_WRITE is
 * not watched, so that no waiter for writability is ever left asleep;
 * the poll backend ignores it. Never reported to a callback. */
#define EV_EXCLUSIVE 0x4
/* A hint added to the mask: report readiness when it changes, not while it
 * lasts (EPOLLET), which spares the kernel a second look at every fd it
 * reported, on the next wait. The callback must then read until the queue
 * is empty (or call evloop_fd_rearm()), or it is not called again before
 * the peer sends more; it also hears EV_DRAIN. The poll backend ignores
 * it. Never reported to a callback. */
#define EV_EDGE 0x8
/* Reported with EV_READ on EV_EDGE fds when a read that returns less than
 * asked may not have emptied the queue: the peer has shut down (its EOF
 * waits behind the bytes and no news will come), urgent data waits (a
 * read stops at its mark), or an error. Read until EAGAIN or the end. */
#define EV_DRAIN 0x10
/* Alone in the mask: watch for nothing but the fd's error or hang-up
 * (which epoll and poll report whatever is asked), reported as EV_HANGUP:
 * for an fd that must not be read now but whose peer may go. Reported
 * only to fds that asked for it. */
#define EV_HANGUP 0x20

struct evloop;

typedef void evloop_fd_cb(struct evloop *loop, int fd, int events, void *arg);
typedef void evloop_timer_cb(struct evloop *loop, void *arg);
typedef void evloop_signal_cb(struct evloop *loop, int signo, void *arg);

/* Embedded in the caller's own structs so arming a timer never allocates.
 * The fields belong to evloop.c. */
struct evtimer {
	uint64_t when;
	uint64_t seq;
	size_t slot; /* heap index + 1; 0 while not armed */
	evloop_timer_cb *cb;
	void *arg;
};

enum evloop_backend { EVLOOP_DEFAULT, EVLOOP_EPOLL, EVLOOP_POLL };

/* NULL with errno set when the backend is unavailable or memory ran out. */
struct evloop *evloop_new(enum evloop_backend backend);
void evloop_free(struct evloop *loop);

/* Watch fd for `events` (EV_READ|EV_WRITE), replacing what was watched;
 * events == 0 stops watching. The callback gets the ready subset, with
 * errors and hang-ups reported as whatever the fd is watched for.
 * Returns 0, or -1 with errno set; the fd is then no longer watched.
 * A loop takes up to 64 distinct callbacks (ENOMEM beyond: its per-fd
 * entries name theirs by a small index, to stay 16 bytes). */
int evloop_fd_set(struct evloop *loop, int fd, int events, evloop_fd_cb *cb, void *arg);
void evloop_fd_del(struct evloop *loop, int fd);
/* Have fd's readiness looked at afresh, as if it had just been set: an
 * EV_EDGE callback that stopped with bytes left calls this to be called
 * again. 0, or -1 with errno set (the fd is then no longer watched). */
int evloop_fd_rearm(struct evloop *loop, int fd);
/* Stop watching fd and close it. sole: no other descriptor refers to the
 * same open file, so closing it is enough for epoll to forget it, and
 * unwatching costs no system call. */
void evloop_fd_close(struct evloop *loop, int fd, bool sole);
int evloop_fd_events(const struct evloop *loop, int fd);

void evtimer_init(struct evtimer *t, evloop_timer_cb *cb, void *arg);
/* (Re)arm to fire once, delay_ms after the loop's current time. Timers
 * with the same deadline fire in the order they were armed. */
void evloop_timer_arm(struct evloop *loop, struct evtimer *t, uint64_t delay_ms);
void evloop_timer_cancel(struct evloop *loop, struct evtimer *t);
bool evtimer_armed(const struct evtimer *t);

/* Monotonic milliseconds, cached at the last wake-up. */
uint64_t evloop_now(const struct evloop *loop);
/* The monotonic clock itself, uncached. */
uint64_t evloop_clock_ms(void);
uint64_t evloop_clock_us(void);

/* Deliver signo through the loop instead of an async handler. Signals are
 * process-wide: only one loop per process may call this. Signals that
 * arrive together are coalesced: cb runs once per wake-up however many of
 * signo came, so a storm costs a handler call per loop iteration. */
int evloop_signal(struct evloop *loop, int signo, evloop_signal_cb *cb, void *arg);

/* One pass: wait at most max_wait_ms (-1: until an event or timer), then
 * dispatch. Returns 0, or -1 with errno on a backend failure. */
int evloop_once(struct evloop *loop, int max_wait_ms);
/* Loop until evloop_stop() or until nothing is watched and no timer armed. */
int evloop_run(struct evloop *loop);
void evloop_stop(struct evloop *loop);

#endif

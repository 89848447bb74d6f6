/* The reflection guard (CVE-1999-0103): which datagrams the echo must not
 * answer, because the answer would start a loop with another service or
 * reach many hosts. Sources: system and known reflector ports, our own
 * ports, broadcast, multicast, unspecified and class E addresses;
 * destinations: broadcast and multicast. */
#ifndef AE_GUARD_H
#define AE_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "ratelimit.h"

#define GUARD_NBCAST 64 /* interfaces' IPv4 broadcast addresses kept */

struct guard_loops;

struct guard {
	bool off;
	size_t nown, capown;
	uint16_t *own;                  /* our own UDP ports, added before workers start */
	struct ratelimit *rl;           /* per-source budget, or NULL */
	struct guard_loops *loops;      /* the loop breaker's table, or NULL */
	/* Directed broadcast addresses (host order), read by every worker
	 * while one may replace them: a sequence lock, odd while changing. */
	unsigned bseq, nbcast;
	uint32_t bcast[GUARD_NBCAST];
};

/* Why a datagram from src gets no answer, or NULL when it does. Source
 * ports below 1024 (as OpenBSD's inetd) and known reflectors above it,
 * our own ports, broadcast (limited or directed), multicast, unspecified
 * and class E sources, also in their v4-mapped IPv6 forms. */
const char *guard_check(const struct guard *g, const struct sockaddr *src, socklen_t len);
/* The loop breaker. A reflection loop between two echo services on
 * ordinary ports carries the same datagram back and forth, from the same
 * peer address and port each time, which no rule on addresses or ports can
 * refuse. So each datagram's fingerprint (source address and port, length,
 * the first and last GUARD_LOOP_BYTES of the data) is counted in a table of
 * GUARD_LOOP_SLOTS slots, in buckets of GUARD_LOOP_WAYS, shared by every
 * worker (loops that meet in a bucket take turns: guard.c): the same fingerprint again
 * within GUARD_LOOP_GAP_MS of the last counts one more, and the
 * GUARD_LOOP_REPEATS-th repeat is not answered (and forgotten). One
 * unanswered datagram ends a loop, which carries only the datagrams
 * injected into it. The price: a client sending the same datagram, byte
 * for byte, from one port more than GUARD_LOOP_REPEATS times, each within
 * GUARD_LOOP_GAP_MS of the last, loses one answer in GUARD_LOOP_REPEATS+1. */
#define GUARD_LOOP_SLOTS   8192 /* 64 KiB, whatever the traffic */
#define GUARD_LOOP_WAYS    8    /* slots a fingerprint may take (a bucket) */
#define GUARD_LOOP_REPEATS 16
#define GUARD_LOOP_GAP_MS  1000
#define GUARD_LOOP_BYTES   64

/* key seeds the fingerprint: random in the server (no one can pick
 * datagrams that share a slot), fixed in tests. NULL on ENOMEM. */
struct guard_loops *guard_loops_new(uint64_t key);
void guard_loops_free(struct guard_loops *t);
/* Count one datagram from src; true when it is the repeat to drop. Pure:
 * the caller passes now. Safe between threads (see guard.c). */
bool guard_loops_repeat(struct guard_loops *t, const struct sockaddr *src, const void *data,
    size_t len, uint64_t now_ms);
/* Why the datagram (data, len) from src gets no answer as an echo loop's,
 * or NULL: guard_loops_repeat() where the guard is on and has a table. */
const char *guard_check_loop(const struct guard *g, const struct sockaddr *src, const void *data,
    size_t len, uint64_t now_ms);

/* Why a datagram sent to dst (its header destination) gets no answer:
 * broadcast, limited or directed, and multicast, v4-mapped too. Applies
 * even with the guard off: that is how one datagram becomes a flood. */
const char *guard_check_dst(const struct guard *g, const struct sockaddr *dst);
/* Refuse datagrams from one of our own UDP ports too (as many as are
 * bound). 0, or -1 with errno (ENOMEM). Before the workers start. */
int guard_add_port(struct guard *g, int port);
void guard_free_ports(struct guard *g);
/* Frees the ports and the loop table (not rl, which the server owns). */
void guard_free(struct guard *g);
/* Replace the directed broadcast list (one writer at a time; readers may
 * run in other threads). Pure: tests supply the list. */
void guard_set_broadcasts(struct guard *g, const uint32_t *a, size_t n);
/* The directed broadcast addresses worth refusing in an interface list,
 * at most max of them: not one that is some interface's own address (an
 * address added without a broadcast reports itself as one), nor any on a
 * /31 or /32. Pure: tests build the list. */
struct ifaddrs;
size_t guard_pick_broadcasts(const struct ifaddrs *ifs, uint32_t *out, size_t max);
/* Read the interfaces' broadcast addresses (getifaddrs) into the guard.
 * Returns how many, or -1 with errno (the old list stays). */
int guard_load_broadcasts(struct guard *g);

#endif

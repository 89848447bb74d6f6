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

struct guard {
	bool off;
	size_t nown, capown;
	uint16_t *own;                  /* our own UDP ports, added before workers start */
	struct ratelimit *rl;           /* per-source budget, or NULL */
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
/* Why a datagram sent to dst (its header destination) gets no answer:
 * broadcast, limited or directed, and multicast, v4-mapped too. Applies
 * even with the guard off: that is how one datagram becomes a flood. */
const char *guard_check_dst(const struct guard *g, const struct sockaddr *dst);
/* Refuse datagrams from one of our own UDP ports too (as many as are
 * bound). 0, or -1 with errno (ENOMEM). Before the workers start. */
int guard_add_port(struct guard *g, int port);
void guard_free_ports(struct guard *g);
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

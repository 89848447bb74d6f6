/* Per-source budgets for datagram replies: at most N a second to any one
 * source address (a burst of one second's worth), so a spoofed flood cannot
 * turn the server into a firehose aimed at one victim. Keyed by address,
 * not port (a spoofer varies ports): IPv4 by the address, IPv6 by its /64,
 * the network one host or one victim holds, link-local IPv6 (the same
 * fe80::/64 on every link) by its link, the scope id. Budgets live in a fixed table
 * of slots chosen by a keyed hash; sources that share a slot share its
 * budget, so none can refill another's. Safe between threads: each slot is
 * one 64-bit word changed by compare-and-swap. Pure: the caller passes now. */
#ifndef AE_RATELIMIT_H
#define AE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define RATELIMIT_MAX 1000000 /* per second, the largest budget */

struct ratelimit;

/* key seeds the hash: random in the server, fixed in tests. */
struct ratelimit *ratelimit_new(uint32_t per_sec, uint64_t key);
void ratelimit_free(struct ratelimit *rl);
/* May src have one more reply now? AF_UNIX sources are always allowed. */
bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr *src, uint64_t now_ms);

#endif

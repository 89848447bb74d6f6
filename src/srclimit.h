/* Connections per source, shared by every worker, so that one host cannot
 * take every connection slot. A source is an IPv4 address (v4-mapped IPv6
 * ones too) or an IPv6 /64, the network one host or one site holds: a
 * client given a /64 would otherwise have 2^64 sources. Link-local sources
 * (fe80::/10) are one per link, told apart by the scope id: every link has
 * the same fe80::/64, so the /64 alone made all links one source, and a
 * host may take any address in fe80::/10 on its link, so the address
 * would give it as many sources as it likes. AF_UNIX peers are
 * not counted: who may connect there is the socket file's mode. Counts are
 * exact (no two sources share one), in a hash table under one mutex that
 * is taken once per accept and once per close, never per byte. */
#ifndef AE_SRCLIMIT_H
#define AE_SRCLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Who a connection counts against; family 0: nobody (not limited). A
 * link-local source's prefix is SRCLIMIT_LINK_LOCAL | its scope id: no
 * global /64 begins with fe80::/10, so it is no other source's. */
#define SRCLIMIT_LINK_LOCAL 0xfe80000000000000ull
struct srclimit_id {
	uint64_t prefix;
	int family;
};

struct srclimit;

/* max per source; expected: about how many sources may be counted at once
 * (sizes the table); key seeds the hash: random in the server, fixed in
 * tests. NULL with errno on a bad argument or no memory. */
struct srclimit *srclimit_new(uint32_t max, size_t expected, uint64_t key);
void srclimit_free(struct srclimit *sl);
/* The identity of a peer address; false (family 0) when it is not limited. */
bool srclimit_id_of(const struct sockaddr *sa, socklen_t len, struct srclimit_id *id);
/* Count one more connection from id: false (and nothing counted) when the
 * source is at the limit or memory ran out. Always true for family 0. */
bool srclimit_take(struct srclimit *sl, const struct srclimit_id *id);
/* As srclimit_take(), and *ref is the entry's handle for
 * srclimit_put_ref(): 31 bits, 0 when nothing was counted (family 0 or
 * refused). A connection can keep that instead of its srclimit_id. */
bool srclimit_take_ref(struct srclimit *sl, const struct srclimit_id *id, uint32_t *ref);
/* A connection counted by srclimit_take() has ended. */
void srclimit_put(struct srclimit *sl, const struct srclimit_id *id);
/* A connection counted by srclimit_take_ref() has ended: once per counted
 * connection (the handle is reused once its source has none). 0: no-op. */
void srclimit_put_ref(struct srclimit *sl, uint32_t ref);
/* Connections counted now for id (for tests and logs). */
uint32_t srclimit_count(struct srclimit *sl, const struct srclimit_id *id);

#endif

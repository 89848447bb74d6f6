#include "common.h"

#include <ifaddrs.h>
#include <net/if.h>

#include "guard.h"

/* Source ports get no answer below 1024, where the system's services live
 * (OpenBSD's inetd rule: echoing to chargen, daytime, DNS, NTP... starts a
 * loop that one spoofed datagram sets off), nor from these services above
 * it that answer whatever they get. A port listed here is refused to every
 * client too, so none lies in Linux's ephemeral range (32768-60999); one
 * (memcached) lies in FreeBSD's (10000-65535) and is kept: memcached
 * answers its own replies, so a loop with it never ends, while a FreeBSD
 * client loses one source port in 55,536 (its retry from a new socket is
 * answered). Discovery services that answer only their own probes (DVR
 * 37810, Ubiquiti 10001) bounce once and stop: not listed. */
#define GUARD_LOW_PORTS 1024
static const uint16_t guard_ports[] = {
	1434,  /* MS SQL monitor */
	1900,  /* SSDP */
	2049,  /* NFS (OpenBSD's inetd refuses it too) */
	3283,  /* Apple Remote Desktop */
	3702,  /* WS-Discovery */
	5353,  /* mDNS */
	5683,  /* CoAP */
	11211, /* memcached */
};

int
guard_add_port(struct guard *g, int port)
{
	uint16_t *own;

	for (size_t i = 0; i < g->nown; i++)
		if (g->own[i] == port)
			return 0;
	if (g->nown == g->capown) {
		size_t cap = g->capown ? 2 * g->capown : 8;
		own = realloc(g->own, cap * sizeof(*own));
		if (own == NULL)
			return -1;
		g->own = own;
		g->capown = cap;
	}
	g->own[g->nown++] = (uint16_t)port;
	return 0;
}

void
guard_free_ports(struct guard *g)
{
	free(g->own);
	g->own = NULL;
	g->nown = g->capown = 0;
}

void
guard_set_broadcasts(struct guard *g, const uint32_t *a, size_t n)
{
	unsigned seq = __atomic_load_n(&g->bseq, __ATOMIC_RELAXED);

	if (n > GUARD_NBCAST)
		n = GUARD_NBCAST;
	/* A sequence lock without fences (which ThreadSanitizer cannot
	 * follow): each release store keeps the odd count before it, and the
	 * reader's acquire loads keep its second look at the count after. */
	__atomic_store_n(&g->bseq, seq + 1, __ATOMIC_RELAXED);
	for (size_t i = 0; i < n; i++)
		__atomic_store_n(&g->bcast[i], a[i], __ATOMIC_RELEASE);
	__atomic_store_n(&g->nbcast, (unsigned)n, __ATOMIC_RELEASE);
	__atomic_store_n(&g->bseq, seq + 2, __ATOMIC_RELEASE);
}

static uint32_t
ifa_v4(const struct sockaddr *sa)
{
	return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
}

/* Is a (host order) the address of some interface? */
static bool
local_unicast(const struct ifaddrs *ifs, uint32_t a)
{
	for (const struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
		    ifa_v4(i->ifa_addr) == a)
			return true;
	return false;
}

/* The broadcast address of one interface entry worth refusing, or 0. An
 * address added without one ("ip addr add X/24", no brd) is reported by
 * glibc with its own address as broadcast, and so is a /32 whose brd is
 * itself (GCE): refusing those would refuse all traffic to the host. /31
 * and /32 networks have no broadcast address at all (RFC 3021). */
static uint32_t
ifa_broadcast(const struct ifaddrs *i)
{
	const struct sockaddr *b = i->ifa_broadaddr, *m = i->ifa_netmask;
	uint32_t a;

	if (!(i->ifa_flags & IFF_BROADCAST) || b == NULL || b->sa_family != AF_INET ||
	    i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
		return 0;
	if (m != NULL && m->sa_family == AF_INET && ifa_v4(m) >= 0xfffffffeu)
		return 0;
	a = ifa_v4(b);
	return a == ifa_v4(i->ifa_addr) ? 0 : a;
}

size_t
guard_pick_broadcasts(const struct ifaddrs *ifs, uint32_t *out, size_t max)
{
	size_t n = 0;

	for (const struct ifaddrs *i = ifs; i != NULL && n < max; i = i->ifa_next) {
		uint32_t b = ifa_broadcast(i);
		bool dup = false;
		/* never any host's own address, whatever an entry claims */
		if (b == 0 || local_unicast(ifs, b))
			continue;
		for (size_t k = 0; k < n; k++)
			dup = dup || out[k] == b;
		if (!dup)
			out[n++] = b;
	}
	return n;
}

int
guard_load_broadcasts(struct guard *g)
{
	struct ifaddrs *ifs;
	uint32_t a[GUARD_NBCAST];
	size_t n;

	if (getifaddrs(&ifs) == -1)
		return -1;
	n = guard_pick_broadcasts(ifs, a, AE_NELEM(a));
	freeifaddrs(ifs);
	guard_set_broadcasts(g, a, n);
	return (int)n;
}

/* Is a (host order) one of the interfaces' broadcast addresses? */
static bool
directed_broadcast(const struct guard *g, uint32_t a)
{
	for (;;) {
		unsigned seq = __atomic_load_n(&g->bseq, __ATOMIC_ACQUIRE), n;
		bool hit = false;

		if (seq & 1)
			continue; /* a writer is in the middle: it is quick */
		n = __atomic_load_n(&g->nbcast, __ATOMIC_ACQUIRE);
		for (unsigned i = 0; i < n && i < GUARD_NBCAST; i++)
			if (__atomic_load_n(&g->bcast[i], __ATOMIC_ACQUIRE) == a)
				hit = true;
		if (__atomic_load_n(&g->bseq, __ATOMIC_RELAXED) == seq)
			return hit;
	}
}

/* What an address is that no datagram may come from or go to. */
enum guard_kind { GUARD_OK, GUARD_UNSPEC, GUARD_BCAST, GUARD_MCAST, GUARD_CLASS_E, GUARD_LOCAL_BCAST };

static const char *const guard_src_why[] = { NULL, "unspecified source address",
	"broadcast source address", "multicast source address",
	"reserved (class E) source address", "source is a local network's broadcast address" };
static const char *const guard_dst_why[] = { NULL, "sent to the unspecified address",
	"sent to the broadcast address", "sent to a multicast address",
	"sent to a reserved (class E) address", "sent to a local network's broadcast address" };

static enum guard_kind
guard_v4(const struct guard *g, uint32_t a)
{
	if ((a >> 24) == 0)
		return GUARD_UNSPEC;
	if (a == 0xffffffffu)
		return GUARD_BCAST;
	if ((a >> 28) == 0xe)
		return GUARD_MCAST;
	if ((a >> 28) == 0xf)
		return GUARD_CLASS_E;
	return directed_broadcast(g, a) ? GUARD_LOCAL_BCAST : GUARD_OK;
}

static uint32_t
v4_of_mapped(const struct in6_addr *a)
{
	uint32_t v4;

	memcpy(&v4, &a->s6_addr[12], 4);
	return ntohl(v4);
}

/* The address checks, the same for a source and a destination; a
 * v4-mapped address (dual-stack socket) is checked as the IPv4 one. */
static enum guard_kind
guard_addr(const struct guard *g, const struct sockaddr *sa)
{
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

	if (sa->sa_family == AF_INET)
		return guard_v4(g, ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (IN6_IS_ADDR_V4MAPPED(a6))
		return guard_v4(g, v4_of_mapped(a6));
	if (IN6_IS_ADDR_UNSPECIFIED(a6))
		return GUARD_UNSPEC;
	if (IN6_IS_ADDR_MULTICAST(a6))
		return GUARD_MCAST;
	return GUARD_OK;
}

static const char *
guard_port(const struct guard *g, uint16_t port)
{
	if (port == 0)
		return "source port 0";
	if (port < GUARD_LOW_PORTS)
		return "source port below 1024 (system services answer: reflection loop)";
	for (size_t i = 0; i < AE_NELEM(guard_ports); i++)
		if (guard_ports[i] == port)
			return "source port of a UDP service that answers (reflection loop)";
	for (size_t i = 0; i < g->nown; i++)
		if (g->own[i] == port)
			return "source port is one of our own (we would answer ourselves)";
	return NULL;
}

const char *
guard_check(const struct guard *g, const struct sockaddr *src, socklen_t len)
{
	enum guard_kind k;
	uint16_t port;

	if (g->off || (src->sa_family != AF_INET && src->sa_family != AF_INET6))
		return NULL;
	if (len < (src->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6)))
		return "malformed source address";
	k = guard_addr(g, src);
	if (k != GUARD_OK)
		return guard_src_why[k];
	port = ntohs(src->sa_family == AF_INET ? ((const struct sockaddr_in *)src)->sin_port :
	    ((const struct sockaddr_in6 *)src)->sin6_port);
	return guard_port(g, port);
}

const char *
guard_check_dst(const struct guard *g, const struct sockaddr *dst)
{
	if (dst->sa_family != AF_INET && dst->sa_family != AF_INET6)
		return NULL;
	return guard_dst_why[guard_addr(g, dst)];
}

/* ---- the loop breaker ---- */

/* A slot: the fingerprint's high 40 bits, the repeats counted (8 bits) and
 * when the last one came (16 bits of a 16 ms clock, which wraps in 17
 * minutes: a slot that old and on the dot counts one repeat too many,
 * never more). 0: empty. Slots go in buckets of GUARD_LOOP_WAYS: a
 * fingerprint has a place in one bucket, and takes only a slot that is
 * empty or has not counted for GUARD_LOOP_GAP_MS, never one a loop may
 * still be counting in. With one slot each, the newcomer winning, two
 * loops that met in a slot reset each other's count at every round trip
 * and ran for ever (among a few hundred loops some always meet); a slot
 * taken after 128 ms quiet did the same to loops of slower round trips
 * (150 ms to 500 ms: between continents), more than the ways of a bucket
 * evicting each other in turn. Now a loop that finds its bucket full
 * waits: every slot in it is freed within GUARD_LOOP_REPEATS round trips
 * of its loop, or a second after its loop died (a datagram lost). */
#define TAG_SHIFT   24
#define COUNT_SHIFT 16
#define TICK_SHIFT  4 /* ms >> 4: 16 ms ticks */
#define GAP_TICKS   (GUARD_LOOP_GAP_MS >> TICK_SHIFT)
#define WAYS        GUARD_LOOP_WAYS
#define BUCKETS     (GUARD_LOOP_SLOTS / WAYS)

struct guard_loops {
	uint64_t key;
	/* A bucket is one cache line. */
	_Alignas(64) uint64_t slot[GUARD_LOOP_SLOTS];
};

struct guard_loops *
guard_loops_new(uint64_t key)
{
	/* Aligned as declared (calloc() gives 16 bytes at most). */
	struct guard_loops *t = aligned_alloc(_Alignof(struct guard_loops), sizeof(*t));

	if (t != NULL) {
		memset(t, 0, sizeof(*t));
		t->key = key;
	}
	return t;
}

void
guard_loops_free(struct guard_loops *t)
{
	free(t);
}

void
guard_free(struct guard *g)
{
	guard_free_ports(g);
	guard_loops_free(g->loops);
	g->loops = NULL;
}

static uint64_t
fold(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* Up to 8 bytes as one word, whatever their alignment. */
static uint64_t
word(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, p, n < 8 ? n : 8);
	return w;
}

static uint64_t
fold_bytes(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8)
		h = fold(h, word(p + i, n - i));
	return h;
}

/* The fingerprint: a request and its echo share it (same data, sent to
 * the address and port it came from), so it follows one datagram around
 * a loop. Only the ends of the data: a hash over 128 bytes at most costs
 * next to nothing beside the system calls, and two datagrams of one
 * length and the same ends from one port are a repeat for our purpose. */
static uint64_t
fingerprint(uint64_t key, const struct sockaddr *src, const unsigned char *data, size_t len)
{
	uint64_t h = fold(key, len);
	size_t head = len < GUARD_LOOP_BYTES ? len : GUARD_LOOP_BYTES;

	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)src;
		h = fold_bytes(h, (const unsigned char *)&s4->sin_addr, 4);
		h = fold(h, s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
		h = fold_bytes(h, s6->sin6_addr.s6_addr, 16);
		h = fold(h, (uint64_t)s6->sin6_port << 32 | s6->sin6_scope_id);
	}
	h = fold_bytes(h, data, head);
	if (len > head) {
		size_t tail = len - head < GUARD_LOOP_BYTES ? len - head : GUARD_LOOP_BYTES;
		h = fold_bytes(h, data + len - tail, tail);
	}
	return fold(h, key >> 32);
}

/* Counting still: seen within the gap. Workers read the clock once per
 * batch, so one may store a tick a little ahead of another's "now": an
 * age just below zero (it wraps to near 0xffff) is live too, or a loop
 * answered by two workers would never be counted (review 7). */
#define SKEW_TICKS 4

static bool
live(uint64_t slot, uint64_t tick)
{
	uint64_t age = (tick - (slot & 0xffff)) & 0xffff;

	return slot != 0 && (age <= GAP_TICKS || age >= 0x10000 - SKEW_TICKS);
}

/* Relaxed loads and stores, no lock: two workers counting datagrams of one
 * bucket at once may lose a count, store an older one or take one slot
 * for two fingerprints, which at worst lets a loop run a few more round
 * trips or counts a repeat that was not one; every value a slot can hold
 * is a valid one, so no race can crash, spin or grow anything. */
bool
guard_loops_repeat(struct guard_loops *t, const struct sockaddr *src, const void *data,
    size_t len, uint64_t now_ms)
{
	uint64_t f = fingerprint(t->key, src, data, len);
	uint64_t *bucket = &t->slot[(f % BUCKETS) * WAYS], *free_slot = NULL;
	uint64_t tag = f >> TAG_SHIFT, tick = (now_ms >> TICK_SHIFT) & 0xffff;

	for (int i = 0; i < WAYS; i++) {
		uint64_t old = __atomic_load_n(&bucket[i], __ATOMIC_RELAXED);
		uint64_t count = 0;

		if (old == 0 || old >> TAG_SHIFT != tag) {
			if (free_slot == NULL && !live(old, tick))
				free_slot = &bucket[i];
			continue;
		}
		if (live(old, tick))
			count = ((old >> COUNT_SHIFT) & 0xff) + 1;
		if (count >= GUARD_LOOP_REPEATS) {
			__atomic_store_n(&bucket[i], 0, __ATOMIC_RELAXED);
			return true;
		}
		__atomic_store_n(&bucket[i], tag << TAG_SHIFT | count << COUNT_SHIFT | tick,
		    __ATOMIC_RELAXED);
		return false;
	}
	/* New here: remembered where there is room; where there is none, it
	 * is answered, comes back, and finds room once a loop here is broken
	 * or has died. */
	if (free_slot != NULL)
		__atomic_store_n(free_slot, tag << TAG_SHIFT | tick, __ATOMIC_RELAXED);
	return false;
}

const char *
guard_check_loop(const struct guard *g, const struct sockaddr *src, const void *data,
    size_t len, uint64_t now_ms)
{
	if (g->off || g->loops == NULL ||
	    (src->sa_family != AF_INET && src->sa_family != AF_INET6))
		return NULL;
	if (!guard_loops_repeat(g->loops, src, data, len, now_ms))
		return NULL;
	return "the same datagram again and again from this source: a reflection loop "
	       "(another echo service?), broken";
}

#include "common.h"

#include "ratelimit.h"

#define SLOTS 16384 /* 128 KiB: few real sources share a slot */
#define MILLI 1000u /* budgets count thousandths of a reply */
/* How far one worker's cached clock may lag another's: loops refresh
 * theirs on every wake-up, so a minute is far beyond any real lag. */
#define SKEW_MS 60000u

struct ratelimit {
	uint32_t per_sec;
	uint64_t key;
	uint64_t slot[SLOTS]; /* (ms clock << 32) | budget in thousandths; 0: unused */
};

struct ratelimit *
ratelimit_new(uint32_t per_sec, uint64_t key)
{
	struct ratelimit *rl;

	if (per_sec == 0 || per_sec > RATELIMIT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->per_sec = per_sec;
	rl->key = key;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	free(rl);
}

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The source's identity: IPv4 address (mapped ones too), IPv6 /64, or for
 * link-local sources (fe80::/10, the same /64 on every link) the link:
 * the scope id, in the low bits of fe80:: (no global /64 begins so).
 * Returns false for families that are not limited. */
static bool
identity(const struct sockaddr *src, uint64_t *id)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
	uint32_t v4;

	if (src->sa_family == AF_INET) {
		memcpy(&v4, &((const struct sockaddr_in *)src)->sin_addr, 4);
		*id = (uint64_t)ntohl(v4) | (4ull << 32);
		return true;
	}
	if (src->sa_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(&v4, s6->sin6_addr.s6_addr + 12, 4);
		*id = (uint64_t)ntohl(v4) | (4ull << 32);
	} else if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr)) {
		*id = (0xfe80000000000000ull | s6->sin6_scope_id) ^ (6ull << 56 | 6);
	} else {
		*id = 0;
		for (int i = 0; i < 8; i++) /* the /64 in network order, as fe80:: above */
			*id = *id << 8 | s6->sin6_addr.s6_addr[i];
		*id ^= 6ull << 56 | 6;
	}
	return true;
}

bool
ratelimit_allow(struct ratelimit *rl, const struct sockaddr *src, uint64_t now_ms)
{
	uint64_t id, *slot, old, full = (uint64_t)rl->per_sec * MILLI, now = now_ms & 0xffffffffu;
	bool ok;

	if (!identity(src, &id))
		return true;
	slot = &rl->slot[mix(id ^ rl->key) % SLOTS];
	old = __atomic_load_n(slot, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t budget = full, elapsed, next;
		uint64_t stamp = now;
		if (old != 0) {
			/* Refill for the time since the slot was last used. Each
			 * worker reads its own cached clock, so ours may be a
			 * little older than the stamp another one wrote: a gap
			 * just short of a wrap (under SKEW_MS) is that, refills
			 * nothing and leaves the newer stamp in place. Any other
			 * gap is time that passed: the 32-bit clock wraps every
			 * 49.7 days, so a slot idle for 25 of them must not read
			 * as "the clock went back" and stay spent. */
			uint32_t since = (uint32_t)(now - (old >> 32));
			bool behind = since > UINT32_MAX - SKEW_MS;
			elapsed = behind ? 0 : since;
			if (behind)
				stamp = old >> 32;
			budget = old & 0xffffffffu;
			budget = elapsed >= 1000 ? full : budget + elapsed * rl->per_sec;
			if (budget > full)
				budget = full;
		}
		ok = budget >= MILLI;
		next = stamp << 32 | (ok ? budget - MILLI : budget);
		if (next == 0)
			next = 1; /* 0 means unused */
		if (__atomic_compare_exchange_n(slot, &old, next, false, __ATOMIC_RELAXED,
			__ATOMIC_RELAXED))
			return ok;
	}
}

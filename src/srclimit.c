#include "common.h"

#include <pthread.h>

#include "srclimit.h"

/* One source with connections open; its slot is freed when its last one
 * closes, so the table holds only what is open. Entries live in one array
 * and link by index, so that a connection can keep its source as a 32-bit
 * handle (index + 1) instead of the source itself: that is all an idle
 * connection keeps of it. */
struct entry {
	uint64_t prefix;
	int family; /* 0: a free slot */
	uint32_t count;
	uint32_t next; /* the chain's (or free list's) next index + 1; 0 ends it */
};

struct srclimit {
	pthread_mutex_t lock;
	uint32_t max;
	uint64_t key;
	size_t mask;     /* buckets - 1: a power of two */
	uint32_t *bucket; /* index + 1 of its first entry, 0: none */
	struct entry *v;
	uint32_t nv, capv; /* slots used at some time, allocated */
	uint32_t free;     /* index + 1 of the first free slot, 0: none */
};

#define BUCKETS_MIN 64
#define BUCKETS_MAX ((size_t)1 << 20) /* 4 MiB of indices, touched only when used */
#define REF_MAX     0x7fffffffu       /* a handle fits 31 bits */

struct srclimit *
srclimit_new(uint32_t max, size_t expected, uint64_t key)
{
	struct srclimit *sl;
	size_t n = BUCKETS_MIN;

	if (max == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (n < expected && n < BUCKETS_MAX)
		n <<= 1;
	sl = calloc(1, sizeof(*sl));
	if (sl == NULL)
		return NULL;
	sl->bucket = calloc(n, sizeof(*sl->bucket));
	if (sl->bucket == NULL || pthread_mutex_init(&sl->lock, NULL) != 0) {
		free(sl->bucket);
		free(sl);
		errno = ENOMEM;
		return NULL;
	}
	sl->max = max;
	sl->key = key;
	sl->mask = n - 1;
	return sl;
}

void
srclimit_free(struct srclimit *sl)
{
	if (sl == NULL)
		return;
	pthread_mutex_destroy(&sl->lock);
	free(sl->v);
	free(sl->bucket);
	free(sl);
}

bool
srclimit_id_of(const struct sockaddr *sa, socklen_t len, struct srclimit_id *id)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	uint32_t v4;

	memset(id, 0, sizeof(*id));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memcpy(&v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(*s6)) {
		if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr)) {
			id->prefix = SRCLIMIT_LINK_LOCAL | s6->sin6_scope_id;
			id->family = AF_INET6;
			return true;
		}
		if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			for (int i = 0; i < 8; i++) /* the /64, in network order */
				id->prefix = id->prefix << 8 | s6->sin6_addr.s6_addr[i];
			id->family = AF_INET6;
			return true;
		}
		memcpy(&v4, s6->sin6_addr.s6_addr + 12, 4);
	} else
		return false;
	id->prefix = ntohl(v4);
	id->family = AF_INET;
	return true;
}

/* A keyed mix, so that a client cannot pick sources that share a chain. */
static size_t
slot(const struct srclimit *sl, const struct srclimit_id *id)
{
	uint64_t z = id->prefix ^ sl->key ^ (uint64_t)id->family << 56;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (size_t)(z ^ (z >> 31)) & sl->mask;
}

/* The entry for id, as the link that points at it; under the lock. */
static uint32_t *
find(struct srclimit *sl, const struct srclimit_id *id)
{
	uint32_t *p = &sl->bucket[slot(sl, id)];

	while (*p != 0 && (sl->v[*p - 1].prefix != id->prefix || sl->v[*p - 1].family != id->family))
		p = &sl->v[*p - 1].next;
	return p;
}

/* A free slot, as its index + 1, or 0 when out of memory; under the lock.
 * The array grows by half: it moves, but nothing outside holds a pointer
 * into it, only indices. */
static uint32_t
slot_new(struct srclimit *sl)
{
	uint32_t ref = sl->free;

	if (ref != 0) {
		sl->free = sl->v[ref - 1].next;
		return ref;
	}
	if (sl->nv == sl->capv) {
		uint32_t cap = sl->capv < 64 ? 64 : sl->capv + sl->capv / 2;
		struct entry *v;
		if (sl->capv >= REF_MAX)
			return 0;
		if (cap > REF_MAX)
			cap = REF_MAX;
		v = realloc(sl->v, (size_t)cap * sizeof(*v));
		if (v == NULL)
			return 0;
		sl->v = v;
		sl->capv = cap;
	}
	return ++sl->nv;
}

/* Unlink and free the entry that *p points at; under the lock. */
static void
slot_free(struct srclimit *sl, uint32_t *p)
{
	uint32_t ref = *p;
	struct entry *e = &sl->v[ref - 1];

	*p = e->next;
	e->family = 0;
	e->next = sl->free;
	sl->free = ref;
}

bool
srclimit_take_ref(struct srclimit *sl, const struct srclimit_id *id, uint32_t *ref)
{
	uint32_t *p, r;
	bool ok = true;

	*ref = 0;
	if (id->family == 0)
		return true;
	pthread_mutex_lock(&sl->lock);
	p = find(sl, id);
	r = *p;
	if (r == 0) {
		r = slot_new(sl);
		if (r == 0) {
			ok = false;
			goto out;
		}
		sl->v[r - 1] = (struct entry){ .prefix = id->prefix, .family = id->family };
		p = find(sl, id); /* again: slot_new() may have moved the array */
		*p = r;
	}
	if (sl->v[r - 1].count >= sl->max) {
		ok = false;
	} else {
		sl->v[r - 1].count++;
		*ref = r;
	}
out:
	pthread_mutex_unlock(&sl->lock);
	return ok;
}

bool
srclimit_take(struct srclimit *sl, const struct srclimit_id *id)
{
	uint32_t ref;

	return srclimit_take_ref(sl, id, &ref);
}

/* Under the lock: one connection fewer for the entry ref. */
static void
put_locked(struct srclimit *sl, uint32_t ref)
{
	struct entry *e = &sl->v[ref - 1];
	struct srclimit_id id = { .prefix = e->prefix, .family = e->family };

	if (e->family == 0 || e->count == 0 || --e->count > 0)
		return;
	slot_free(sl, find(sl, &id));
}

void
srclimit_put_ref(struct srclimit *sl, uint32_t ref)
{
	if (ref == 0)
		return;
	pthread_mutex_lock(&sl->lock);
	if (ref <= sl->nv)
		put_locked(sl, ref);
	pthread_mutex_unlock(&sl->lock);
}

void
srclimit_put(struct srclimit *sl, const struct srclimit_id *id)
{
	uint32_t ref;

	if (id->family == 0)
		return;
	pthread_mutex_lock(&sl->lock);
	ref = *find(sl, id);
	if (ref != 0)
		put_locked(sl, ref);
	pthread_mutex_unlock(&sl->lock);
}

uint32_t
srclimit_count(struct srclimit *sl, const struct srclimit_id *id)
{
	uint32_t ref, n;

	if (id->family == 0)
		return 0;
	pthread_mutex_lock(&sl->lock);
	ref = *find(sl, id);
	n = ref != 0 ? sl->v[ref - 1].count : 0;
	pthread_mutex_unlock(&sl->lock);
	return n;
}

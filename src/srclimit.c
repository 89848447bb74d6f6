#include "common.h"

#include <pthread.h>

#include "srclimit.h"

/* One source with connections open; freed when its last one closes, so the
 * table holds only what is open. */
struct entry {
	struct entry *next;
	uint64_t prefix;
	int family;
	uint32_t count;
};

struct srclimit {
	pthread_mutex_t lock;
	uint32_t max;
	uint64_t key;
	size_t mask; /* buckets - 1: a power of two */
	struct entry **bucket;
};

#define BUCKETS_MIN 64
#define BUCKETS_MAX ((size_t)1 << 20) /* 8 MiB of pointers, touched only when used */

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
	for (size_t i = 0; i <= sl->mask; i++)
		while (sl->bucket[i] != NULL) {
			struct entry *e = sl->bucket[i];
			sl->bucket[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&sl->lock);
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
static struct entry **
find(struct srclimit *sl, const struct srclimit_id *id)
{
	struct entry **p = &sl->bucket[slot(sl, id)];

	while (*p != NULL && ((*p)->prefix != id->prefix || (*p)->family != id->family))
		p = &(*p)->next;
	return p;
}

bool
srclimit_take(struct srclimit *sl, const struct srclimit_id *id)
{
	struct entry **p, *e;
	bool ok = true;

	if (id->family == 0)
		return true;
	pthread_mutex_lock(&sl->lock);
	p = find(sl, id);
	e = *p;
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			ok = false;
			goto out;
		}
		e->prefix = id->prefix;
		e->family = id->family;
		*p = e;
	}
	if (e->count >= sl->max)
		ok = false;
	else
		e->count++;
out:
	pthread_mutex_unlock(&sl->lock);
	return ok;
}

void
srclimit_put(struct srclimit *sl, const struct srclimit_id *id)
{
	struct entry **p, *e;

	if (id->family == 0)
		return;
	pthread_mutex_lock(&sl->lock);
	p = find(sl, id);
	e = *p;
	if (e != NULL && e->count > 0 && --e->count == 0) {
		*p = e->next;
		free(e);
	}
	pthread_mutex_unlock(&sl->lock);
}

uint32_t
srclimit_count(struct srclimit *sl, const struct srclimit_id *id)
{
	struct entry *e;
	uint32_t n;

	if (id->family == 0)
		return 0;
	pthread_mutex_lock(&sl->lock);
	e = *find(sl, id);
	n = e != NULL ? e->count : 0;
	pthread_mutex_unlock(&sl->lock);
	return n;
}

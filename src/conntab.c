#include "common.h"

#include "conntab.h"

void
conntab_free(struct conntab *t)
{
	for (int i = 0; i < t->nchunk; i++)
		free(t->chunk[i]);
	free(t->chunk);
	t->chunk = NULL;
	t->nchunk = t->n = 0;
}

/* Room for fd's chunk in the index, which doubles (8 bytes a chunk). */
static int
grow(struct conntab *t, int i)
{
	int n = t->nchunk > 0 ? t->nchunk : 4;
	struct conn **p;

	while (n <= i)
		n *= 2;
	p = realloc(t->chunk, (size_t)n * sizeof(*p));
	if (p == NULL)
		return -1;
	memset(p + t->nchunk, 0, (size_t)(n - t->nchunk) * sizeof(*p));
	t->chunk = p;
	t->nchunk = n;
	return 0;
}

struct conn *
conntab_add(struct conntab *t, int fd)
{
	int i = fd / CONNTAB_CHUNK;
	struct conn *c;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (i >= t->nchunk && grow(t, i) == -1)
		return NULL;
	/* Chunks are kept once made: one connection coming and going at a
	 * chunk's edge must not cost an allocation each time. */
	if (t->chunk[i] == NULL && (t->chunk[i] = calloc(CONNTAB_CHUNK, sizeof(**t->chunk))) == NULL)
		return NULL;
	c = &t->chunk[i][fd % CONNTAB_CHUNK];
	if (c->live) {
		errno = EEXIST;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->live = 1;
	t->n++;
	return c;
}

struct conn *
conntab_get(const struct conntab *t, int fd)
{
	int i = fd / CONNTAB_CHUNK;
	struct conn *c;

	if (fd < 0 || i >= t->nchunk || t->chunk[i] == NULL)
		return NULL;
	c = &t->chunk[i][fd % CONNTAB_CHUNK];
	return c->live ? c : NULL;
}

void
conntab_del(struct conntab *t, int fd)
{
	struct conn *c = conntab_get(t, fd);

	if (c == NULL)
		return;
	memset(c, 0, sizeof(*c));
	t->n--;
}

int
conntab_next(const struct conntab *t, int fd)
{
	for (fd = fd < 0 ? 0 : fd + 1; fd / CONNTAB_CHUNK < t->nchunk; fd++) {
		const struct conn *chunk = t->chunk[fd / CONNTAB_CHUNK];
		if (chunk == NULL) {
			fd = (fd / CONNTAB_CHUNK + 1) * CONNTAB_CHUNK - 1; /* the next chunk */
			continue;
		}
		if (chunk[fd % CONNTAB_CHUNK].live)
			return fd;
	}
	return -1;
}

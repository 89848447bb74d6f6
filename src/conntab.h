/* A worker's connections, indexed by fd: what every open connection keeps,
 * 16 bytes, in chunks allocated when an fd in them is first used and kept
 * (as the event loop keeps its per-fd entries), so that a connection costs
 * no allocation of its own. What only some connections need (bytes owed,
 * a place in a list, a seqpacket's state) hangs off `ext`, owned by the
 * caller. One table per worker; not thread-safe. */
#ifndef AE_CONNTAB_H
#define AE_CONNTAB_H

#include <stdbool.h>
#include <stdint.h>

#define CONNTAB_CHUNK 256 /* connections per chunk: 4 KiB */

struct conn {
	void *ext;         /* the caller's: NULL while the connection is idle */
	uint32_t last;     /* ms of the last activity, modulo 2^32 */
	uint32_t src : 31; /* srclimit_take_ref()'s handle, 0: not counted */
	uint32_t live : 1;
};

struct conntab {
	struct conn **chunk; /* fd / CONNTAB_CHUNK -> its chunk, or NULL */
	int nchunk;
	int n; /* live connections */
};

/* Frees the chunks (not what ext points to); the table is then empty. */
void conntab_free(struct conntab *t);
/* The zeroed, live entry of fd, or NULL with errno (ENOMEM, or EEXIST if
 * fd is already live). */
struct conn *conntab_add(struct conntab *t, int fd);
/* The live entry of fd, or NULL. */
struct conn *conntab_get(const struct conntab *t, int fd);
/* fd's entry is free again. */
void conntab_del(struct conntab *t, int fd);
/* The lowest live fd above fd (-1 to start), or -1: a walk that may
 * delete the entry it stands on. */
int conntab_next(const struct conntab *t, int fd);

#endif

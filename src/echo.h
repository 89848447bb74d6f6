/* The echo path. Streams: read, write back at once, and keep only what the
 * peer has not yet taken in a bounded per-connection buffer that exists
 * only while data is in flight. Datagrams: batches in, each answered whole
 * to its source from the address it came to, behind the reflection guard. */
#ifndef AE_ECHO_H
#define AE_ECHO_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "guard.h"

/* Counters: bumped by the loop that owns them, read by any thread. */
struct echo_stats {
	uint64_t conns, conns_refused, conns_idle, bytes, dgrams, dgrams_refused,
	    dgrams_limited, dgrams_dropped, errors;
	uint64_t dgrams_looped; /* the same datagram again: a loop broken (guard.h) */
	/* the budget of bytes owed, and the per-source limit (server.c) */
	uint64_t budget_paused, conns_stalled, conns_source;
};
#define ECHO_STAT_ADD(st, field, n) __atomic_fetch_add(&(st)->field, (n), __ATOMIC_RELAXED)
#define ECHO_STAT_GET(st, field)    __atomic_load_n(&(st)->field, __ATOMIC_RELAXED)

/* ---- streams ---- */

/* The bytes owed to peers that do not read, summed over every connection
 * of every worker: the memory the stream buffers hold, as allocated. A
 * connection that owes nothing takes a full buffer only while the budget
 * has room for it; once it is spent, it reads a little at a time, and what
 * its peer does not take at once comes out of a small overdraft (max/8);
 * when that is gone too, it reads nothing (TCP pushes back on the sender)
 * and echo_stream_io() says ECHO_PAUSED: the caller wakes it when the
 * budget has room again. The check costs one relaxed load per read; the
 * counter is written only when a buffer is taken or given back. Memory is
 * then bounded by max + max/8 + one buffer per thread (a check and its
 * charge are not one step). */
struct echo_budget {
	uint64_t max, overdraft;
	uint64_t used; /* atomic */
};
#define ECHO_SPENT_READ 4096 /* a read's size once the budget is spent */
#define ECHO_PAUSED     0x100 /* from echo_stream_io: waits for the budget */
#define ECHO_MORE       0x200 /* from echo_stream_io: stopped with more to read */

void echo_budget_init(struct echo_budget *b, uint64_t max);
uint64_t echo_budget_used(const struct echo_budget *b);
/* Bytes still free, counting the overdraft. */
uint64_t echo_budget_free(const struct echo_budget *b);
/* Could a buffer of n bytes be taken without the overdraft? */
bool echo_budget_room(const struct echo_budget *b, uint64_t n);

struct echo_stream {
	char *buf; /* NULL while nothing is owed */
	uint32_t off, len, cap;
	uint32_t size;                /* of buf, charged to the budget */
	struct echo_budget *budget;   /* NULL: no limit */
	uint64_t flushed;             /* bytes sent from buf: progress while owing */
	bool eof;
	bool records; /* seqpacket: one whole record at a time */
	/* A unix stream whose peer may pass descriptors: a read stops short
	 * after the bytes that carried them, which only recvmsg() tells
	 * (MSG_CTRUNC). Off, reads are recv(), and a short one proves the
	 * queue empty. Set by the caller after echo_stream_init(). */
	bool rights;
	/* Records only: set up on the first read (records_setup() in echo.c):
	 * whether an empty record can be told from the end of the stream, an
	 * empty record waiting for the socket, and the largest record read
	 * whole: the scratch buffer's size, or less where the socket's send
	 * buffer could not be raised to fit it. A larger one ends the
	 * connection with EMSGSIZE. */
	bool rec_ready, rec_marked, empty_owed;
	uint32_t record_max;
};

/* Shared by every connection of a loop: where bytes land before they are
 * written straight back, so a connection keeps nothing when the peer reads
 * as fast as it writes. Its size is also the largest record read whole. */
struct echo_scratch {
	char *buf;
	size_t size;
};

void echo_stream_init(struct echo_stream *es, uint32_t cap, bool records);
void echo_stream_free(struct echo_stream *es);
/* Move what can be moved now. Returns the events to wait for (EV_READ,
 * EV_WRITE; ECHO_PAUSED added when the budget keeps it from reading,
 * ECHO_MORE when it stopped reading with more maybe queued: an
 * edge-triggered caller must come back without waiting for news), 0
 * when the peer has closed and everything owed was sent (the caller then
 * closes: that is our EOF; a shutdown() first would cost a system call
 * per connection for nothing), or -1 with errno on a connection error. */
/* read_all: the caller was told a short read may not have emptied the
 * queue (EV_DRAIN): read until EAGAIN or the end. */
int echo_stream_io(struct echo_stream *es, int fd, struct echo_scratch *scratch,
    struct echo_stats *st, bool read_all);
/* Bytes owed to the peer. */
uint32_t echo_stream_pending(const struct echo_stream *es);

/* ---- datagrams ---- */

#define ECHO_DGRAM_MAX   65536 /* largest IP datagram payload fits */
struct echo_dgram;
/* senders: how many threads send on fd, this one included (unix: each
 * admits its share of what peers may leave unread). */
struct echo_dgram *echo_dgram_new(int fd, int family, const struct guard *guard, int senders);
void echo_dgram_free(struct echo_dgram *d);
/* Answer what has arrived, in batches. Returns the events to wait for, or
 * -1 with errno on a socket error. The last refusal, for the log: */
int echo_dgram_io(struct echo_dgram *d, struct echo_stats *st);
const char *echo_dgram_last_refusal(const struct echo_dgram *d, char *buf, size_t len);

#endif

#include "common.h"

#include <poll.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/sockios.h> /* SIOCOUTQ */
#endif

#include "echo.h"
#include "guard.h"
#include "evloop.h"

/* ---- streams ---- */

/* A connection gets this many reads per wake-up, so one fast peer cannot
 * starve the rest of the loop; echo_stream_io() then says ECHO_MORE. */
#define ECHO_READS_PER_CALL 8

static bool
would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

static ssize_t
xsend(int fd, const void *p, size_t n)
{
	ssize_t w;

	do
		w = send(fd, p, n, MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	return w;
}

/* A stream read. *cut: it may have stopped short of what is queued, after
 * bytes that carried descriptors (a unix read stops there; with no room
 * for control data the kernel closes them and says MSG_CTRUNC). Only
 * where the peer may pass them (es->rights) is that looked for: recvmsg()
 * costs what edge-triggering saves. */
static ssize_t
xrecv(const struct echo_stream *es, int fd, void *p, size_t n, bool *cut)
{
	struct iovec iov = { p, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	do
		r = es->rights ? recvmsg(fd, &mh, 0) : recv(fd, p, n, 0);
	while (r == -1 && errno == EINTR);
	*cut = r > 0 && (mh.msg_flags & MSG_CTRUNC);
	return r;
}

/* ---- records (seqpacket) ---- */

#define RECORD_END (-2) /* from recv_record: the peer shut down */
/* A unix socket refuses to send a record over its send buffer less this
 * (EMSGSIZE); asked for with some room. */
#define RECORD_SNDBUF_SLACK 64

static int
sndbuf_of(int fd)
{
	int have = 0;
	socklen_t len = sizeof(have);

	return getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &len) == 0 ? have : -1;
}

/* Raise the send buffer to take a record of max bytes whole: Linux doubles
 * what it is asked for (socket(7)), elsewhere ask for all of it. Plain
 * SO_SNDBUF: net.core.wmem_max, the admin's bound on what one socket may
 * hold, stays. Returns the largest record it can then send. */
static size_t
records_sndbuf(int fd, size_t max)
{
	size_t need = max + RECORD_SNDBUF_SLACK;
	int have = sndbuf_of(fd);

	for (int div = 2; div >= 1 && have >= 0 && (size_t)have < need; div--) {
		int want = (int)((need + (size_t)div - 1) / (size_t)div);
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
		have = sndbuf_of(fd);
	}
	if (have < 0 || (size_t)have >= need)
		return max; /* unknown: a send refused will say EMSGSIZE */
	return have > RECORD_SNDBUF_SLACK ? (size_t)have - RECORD_SNDBUF_SLACK : 0;
}

/* recv() returns 0 both for an empty record and at the end of the stream.
 * With SO_PASSCRED every record, empty or not, comes with its sender's
 * credentials, and the end with nothing: the same recvmsg that takes the
 * record says which it was, so no shutdown racing behind an empty record
 * can make us lose it or take it for the end (a poll for POLLRDHUP after
 * the read could not tell "empty record, then shutdown" from "shutdown"). */
static void
records_setup(struct echo_stream *es, int fd, size_t max)
{
#ifdef SO_PASSCRED
	int one = 1;

	es->rec_marked = setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0;
#endif
	es->record_max = (uint32_t)records_sndbuf(fd, max);
	es->rec_ready = true;
}

/* One whole record into p: its length (0: an empty record), -1 with errno
 * (EMSGSIZE: larger than n, it arrived truncated), or RECORD_END. Room for
 * the credentials and nothing else: descriptors a peer attaches
 * (SCM_RIGHTS) are closed by the kernel, never installed in our table. */
static ssize_t
recv_record(const struct echo_stream *es, int fd, void *p, size_t n)
{
#ifdef SO_PASSCRED
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
#endif
	struct iovec iov = { p, n };
	struct msghdr mh;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
#ifdef SO_PASSCRED
	if (es->rec_marked) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
	}
#endif
	do
		r = recvmsg(fd, &mh, 0);
	while (r == -1 && errno == EINTR);
	if (r > 0 && (mh.msg_flags & MSG_TRUNC)) {
		errno = EMSGSIZE;
		return -1;
	}
	/* Without the mark (not Linux), 0 can only be taken as the end. */
	if (r == 0 && (!es->rec_marked || (mh.msg_controllen == 0 &&
	    !(mh.msg_flags & MSG_CTRUNC))))
		return RECORD_END;
	return r;
}

void
echo_stream_init(struct echo_stream *es, uint32_t cap, bool records)
{
	memset(es, 0, sizeof(*es));
	es->cap = cap;
	es->records = records;
}

void
echo_budget_init(struct echo_budget *b, uint64_t max)
{
	b->max = max;
	b->overdraft = max / 8;
	b->used = 0;
}

uint64_t
echo_budget_used(const struct echo_budget *b)
{
	return __atomic_load_n(&b->used, __ATOMIC_RELAXED);
}

uint64_t
echo_budget_free(const struct echo_budget *b)
{
	uint64_t used = echo_budget_used(b), all = b->max + b->overdraft;

	return used < all ? all - used : 0;
}

bool
echo_budget_room(const struct echo_budget *b, uint64_t n)
{
	return echo_budget_used(b) + n <= b->max;
}

void
echo_stream_free(struct echo_stream *es)
{
	if (es->buf != NULL && es->budget != NULL)
		__atomic_fetch_sub(&es->budget->used, (uint64_t)es->size, __ATOMIC_RELAXED);
	free(es->buf);
	es->buf = NULL;
	es->off = es->len = es->size = 0;
}

/* Something to send: bytes, or an empty record. */
static bool
owes(const struct echo_stream *es)
{
	return es->len > 0 || es->empty_owed;
}

uint32_t
echo_stream_pending(const struct echo_stream *es)
{
	return es->len;
}

/* Send what is owed. 0 when all sent or the peer is full; -1 on error. */
static int
flush(struct echo_stream *es, int fd, struct echo_stats *st)
{
	if (es->empty_owed) {
		if (xsend(fd, "", 0) == -1)
			return would_block() ? 0 : -1;
		es->empty_owed = false;
	}
	while (es->len > 0) {
		ssize_t w = xsend(fd, es->buf + es->off, es->len);
		if (w == -1)
			return would_block() ? 0 : -1;
		ECHO_STAT_ADD(st, bytes, (uint64_t)w);
		es->off += (uint32_t)w;
		es->len -= (uint32_t)w;
		es->flushed += (uint64_t)w;
	}
	/* Drained: an idle connection holds no buffer. */
	echo_stream_free(es);
	return 0;
}

/* Keep what the peer did not take. Only called with nothing owed. Once the
 * budget is spent (small), the buffer holds just that: it is full at once,
 * so nothing more is read until it has been sent. */
static int
stash(struct echo_stream *es, const char *p, size_t n, bool small)
{
	size_t size = n > es->cap || small ? n : es->cap;

	es->buf = malloc(size);
	if (es->buf == NULL)
		return -1;
	memcpy(es->buf, p, n);
	es->off = 0;
	es->len = (uint32_t)n;
	es->size = (uint32_t)size;
	if (n > es->cap)
		es->cap = (uint32_t)n;
	if (es->budget != NULL)
		__atomic_fetch_add(&es->budget->used, (uint64_t)size, __ATOMIC_RELAXED);
	return 0;
}

/* Full: read no more until some of it is sent. */
static bool
full(const struct echo_stream *es)
{
	return es->buf != NULL && es->len == es->size;
}

/* How much a read with nothing owed may take: all it wants while a full
 * buffer would fit the budget, ECHO_SPENT_READ from the overdraft once it
 * is spent, or 0: pause. Records travel whole: no small reads for them. */
static size_t
budget_grant(const struct echo_stream *es, size_t want)
{
	const struct echo_budget *b = es->budget;

	if (b == NULL || echo_budget_room(b, want > es->cap ? want : es->cap))
		return want;
	if (es->records || echo_budget_free(b) < ECHO_SPENT_READ)
		return 0;
	return want < ECHO_SPENT_READ ? want : ECHO_SPENT_READ;
}

/* A stream read that returned less than it asked for emptied the socket:
 * another read now would only say EAGAIN, a system call per echo for
 * nothing. The loop calls again when more arrives, even edge-triggered.
 * Not so a read cut short at passed descriptors, nor one the caller was
 * told may not be the last (read_all: the peer's EOF or urgent data waits
 * behind it). Records are read one per call: a short one proves nothing. */
static bool
drained(const struct echo_stream *es, size_t got, size_t want, bool more)
{
	return !es->records && got < want && !more;
}

/* The budget has no room for the largest record: how much the next one
 * asks of it, then. Its real size where the kernel tells it (Linux: a
 * peek with MSG_TRUNC returns a record's length, 0 for an empty one or the
 * end), or else the largest: a small record, a probe, must not wait for
 * 64 KiB while streams read on with room for --buffer-size. -1 with errno
 * (EAGAIN: none waits). A system call only while the budget is short. */
static ssize_t
record_size(const struct echo_stream *es, int fd)
{
#ifdef __linux__
	char c;
	ssize_t n;

	(void)es;
	do
		n = recv(fd, &c, 1, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	return n;
#else
	(void)fd;
	return (ssize_t)es->record_max;
#endif
}

/* Records: one whole record, written back whole as one record, an empty
 * one too; what the peer cannot take yet is owed whole (send is all or
 * nothing on a seqpacket socket). Returns as echo_direct(). */
static int
echo_record(struct echo_stream *es, int fd, struct echo_scratch *sc, struct echo_stats *st)
{
	ssize_t n, w;

	if (!es->rec_ready)
		records_setup(es, fd, sc->size);
	if (budget_grant(es, es->record_max) == 0) {
		n = record_size(es, fd);
		if (n == -1)
			return would_block() ? 0 : -1;
		/* what keeping it would take (stash()); never 0, an empty one too */
		if (budget_grant(es, (size_t)n > es->cap ? (size_t)n : es->cap) == 0) {
			ECHO_STAT_ADD(st, budget_paused, 1);
			return 2;
		}
	}
	n = recv_record(es, fd, sc->buf, es->record_max);
	if (n == RECORD_END) {
		es->eof = true;
		return 1;
	}
	if (n == -1)
		return would_block() ? 0 : -1;
	w = xsend(fd, sc->buf, (size_t)n);
	if (w == -1) {
		if (!would_block())
			return -1;
		if (n == 0)
			es->empty_owed = true;
		else if (stash(es, sc->buf, (size_t)n, false) == -1)
			return -1;
		return 1; /* the next round's flush finds the peer still full */
	}
	ECHO_STAT_ADD(st, bytes, (uint64_t)w);
	return 1;
}

/* Nothing owed: read into the shared scratch buffer and write straight
 * back. Returns 1 to go on, 0 when the socket has nothing more, 2 when the
 * budget allows no read, -1. */
static int
echo_direct(struct echo_stream *es, int fd, struct echo_scratch *sc, struct echo_stats *st,
    bool read_all)
{
	size_t want = sc->size < es->cap ? sc->size : es->cap;
	size_t grant;
	ssize_t n, w;
	bool cut;

	if (es->records)
		return echo_record(es, fd, sc, st);
	grant = budget_grant(es, want);
	if (grant == 0) {
		ECHO_STAT_ADD(st, budget_paused, 1);
		return 2;
	}
	n = xrecv(es, fd, sc->buf, grant, &cut);
	if (n == 0) {
		es->eof = true;
		return 1;
	}
	if (n == -1)
		return would_block() ? 0 : -1;
	w = xsend(fd, sc->buf, (size_t)n);
	if (w == -1) {
		if (!would_block())
			return -1;
		w = 0;
	}
	ECHO_STAT_ADD(st, bytes, (uint64_t)w);
	if (w < n && stash(es, sc->buf + w, (size_t)(n - w), grant < want) == -1)
		return -1;
	return drained(es, (size_t)n, grant, cut || read_all) ? 0 : 1;
}

/* Something owed and room left: read more behind it. */
static int
echo_buffered(struct echo_stream *es, int fd, bool read_all)
{
	size_t want;
	ssize_t n;
	bool cut;

	if (es->off > 0) {
		memmove(es->buf, es->buf + es->off, es->len);
		es->off = 0;
	}
	want = es->size - es->len;
	n = xrecv(es, fd, es->buf + es->len, want, &cut);
	if (n == 0) {
		es->eof = true;
		return 1;
	}
	if (n == -1)
		return would_block() ? 0 : -1;
	es->len += (uint32_t)n;
	return drained(es, (size_t)n, want, cut || read_all) ? 0 : 1;
}

int
echo_stream_io(struct echo_stream *es, int fd, struct echo_scratch *sc, struct echo_stats *st,
    bool read_all)
{
	int rc = 1, want;

	for (int i = 0; i < ECHO_READS_PER_CALL && rc == 1; i++) {
		if (flush(es, fd, st) == -1)
			return -1;
		if (owes(es)) {
			/* The peer is slow: stop reading once the buffer is full
			 * (TCP pushes back on the sender), or at once for
			 * records, which travel whole. */
			if (es->eof || es->records || full(es))
				return EV_WRITE;
			rc = echo_buffered(es, fd, read_all);
		} else if (!es->eof)
			rc = echo_direct(es, fd, sc, st, read_all);
		else
			break;
	}
	if (rc == -1)
		return -1;
	if (rc == 2)
		return ECHO_PAUSED; /* owes nothing: no EV_WRITE either */
	if (es->eof && !owes(es))
		return 0; /* everything owed is sent: the caller's close is our EOF */
	want = (es->eof || full(es) || (es->records && owes(es)) ? 0 : EV_READ) |
	    (owes(es) ? EV_WRITE : 0);
	/* Stopped while reads were still going: more may be queued. */
	return rc == 1 && (want & EV_READ) ? want | ECHO_MORE : want;
}

static uint32_t
v4_of_mapped(const struct in6_addr *a)
{
	uint32_t v4;

	memcpy(&v4, &a->s6_addr[12], 4);
	return ntohl(v4);
}

/* ---- datagrams ---- */

/* Datagrams per recvmmsg/sendmmsg: fewer calls per datagram under load
 * (64: as many as refecho takes; 16 made four calls where it made one).
 * The buffers' pages cost memory only once a datagram that large came. */
#define ECHO_BATCH 64
#define ECHO_CTL   (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)))

#ifndef HAVE_RECVMMSG
struct mmsghdr {
	struct msghdr msg_hdr;
	unsigned int msg_len;
};
#endif

/* Unix datagram peers whose receive queue was found full: replies to them
 * are dropped without a system call until the entry expires. Short: a peer
 * that reads but keeps more in flight than its queue holds (a burst past
 * net.unix.max_dgram_qlen) must lose that burst, not a second of replies,
 * and a peer that never reads still costs only one failed send per period.
 * A direct-mapped table of name hashes: a newcomer evicts an old entry,
 * which then costs one more failed send before it is stalled again. */
#define ECHO_STALL_SLOTS 64
#define ECHO_STALL_MS    50

/* Replies to unix datagram peers are charged to our send buffer until the
 * peer reads them, and the kernel lets each peer hold up to its queue
 * length (net.unix.max_dgram_qlen, plus one) of them. So every reply is
 * counted, whatever its size, against a ceiling kept below the point where
 * the kernel would refuse us (the headroom absorbs what other workers send
 * meanwhile and our estimate's error): above it the reply is dropped,
 * never waited for, and the server reads on. The bigger a reply, the less
 * of the ceiling it may fill, so that non-readers of big replies, however
 * many, leave room for small ones; one reply may always go when nothing is
 * pending, so a small buffer still echoes. */
#define ECHO_UNIX_SMALL  512  /* replies up to this may use the whole ceiling */
#define ECHO_UNIX_MEDIUM 4096 /* up to this half of it, bigger ones a quarter */
#define ECHO_UNIX_SNDBUF (4 << 20) /* asked for; the kernel doubles and caps it */

struct echo_stall {
	uint64_t key, until;
};

struct echo_dgram {
	int fd, family;
	const struct guard *guard;
	char *bufs;
	int nout, sent; /* replies out[sent..nout) wait for the socket */
	int sndbuf;     /* unix: our send buffer, as the kernel counts it */
	int ceiling;    /* unix: what replies not yet read may hold of it */
	uint64_t now;   /* ms, read once per call where needed */
	int outq;       /* unix: the kernel's count of our unread bytes; -1: ask */
	int since;      /* unix: what we admitted since, sent or not */
	int unsent;     /* unix: what this batch admitted, not yet sent */
	int senders;    /* workers sending on this socket, this one included */
	int nused;      /* in[] entries the last receive may have changed */
	bool fixed_dst; /* bound to one address: every datagram was sent to dst */
	bool dst_bcast; /* ... which the kernel routes as a broadcast */
	bool want_ctl;  /* wildcard IP socket: each datagram's destination */
	struct sockaddr_storage dst;
	struct echo_stall stall[ECHO_STALL_SLOTS];
	struct mmsghdr in[ECHO_BATCH], out[ECHO_BATCH];
	struct iovec iov_in[ECHO_BATCH], iov_out[ECHO_BATCH];
	struct sockaddr_storage src[ECHO_BATCH];
	union {
		char buf[ECHO_CTL];
		struct cmsghdr align;
	} ctl_in[ECHO_BATCH], ctl_out[ECHO_BATCH];
	struct sockaddr_storage refused;
	socklen_t refused_len;
	const char *refused_why;
};

/* One call for a batch where the kernel can, one per datagram elsewhere. */
static int
mm_recv(int fd, struct mmsghdr *m, unsigned n)
{
#ifdef HAVE_RECVMMSG
	return recvmmsg(fd, m, n, MSG_DONTWAIT, NULL);
#else
	unsigned i;
	for (i = 0; i < n; i++) {
		ssize_t r = recvmsg(fd, &m[i].msg_hdr, MSG_DONTWAIT);
		if (r == -1)
			return i > 0 ? (int)i : -1;
		m[i].msg_len = (unsigned)r;
	}
	return (int)i;
#endif
}

static int
mm_send(int fd, struct mmsghdr *m, unsigned n)
{
#ifdef HAVE_SENDMMSG
	return sendmmsg(fd, m, n, MSG_DONTWAIT | MSG_NOSIGNAL);
#else
	unsigned i;
	for (i = 0; i < n; i++)
		if (sendmsg(fd, &m[i].msg_hdr, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
			return i > 0 ? (int)i : -1;
	return (int)i;
#endif
}

/* ---- unix datagram peers that do not read ---- */

/* FNV-1a over the peer's name: the key of the stalled table. */
static uint64_t
peer_key(const void *name, socklen_t len)
{
	const unsigned char *p = name;
	uint64_t h = 0xcbf29ce484222325ull;

	for (socklen_t i = 0; i < len && i < sizeof(struct sockaddr_storage); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h | 1; /* 0 marks a free slot */
}

static bool
stalled(const struct echo_dgram *d, const void *name, socklen_t len)
{
	uint64_t k = peer_key(name, len);
	const struct echo_stall *e = &d->stall[k % ECHO_STALL_SLOTS];

	return e->key == k && d->now < e->until;
}

static void
stall(struct echo_dgram *d, const struct msghdr *mh)
{
	uint64_t k = peer_key(mh->msg_name, mh->msg_namelen);
	struct echo_stall *e = &d->stall[k % ECHO_STALL_SLOTS];

	e->key = k;
	e->until = d->now + ECHO_STALL_MS;
}

/* Bytes we sent that unix peers have not read yet (they stay charged to our
 * send buffer until then), or -1 where the kernel cannot tell. */
static int
unix_outq(int fd)
{
#ifdef SIOCOUTQ
	int q;

	if (ioctl(fd, SIOCOUTQ, &q) == 0)
		return q;
#endif
	(void)fd;
	return -1;
}

/* EAGAIN from a send to a unix datagram peer means either that our own
 * send buffer is full (possible only past the ceiling's headroom, or where
 * the kernel cannot tell us what we hold) or that this one receiver's
 * queue is full while our socket stays writable: then that peer does not
 * read, and is stalled. */
static bool
own_buffer_full(const struct echo_dgram *d)
{
	int q = unix_outq(d->fd);
	struct pollfd p = { .fd = d->fd, .events = POLLOUT };

	if (q >= 0 && d->sndbuf > 0)
		return q >= d->sndbuf; /* the kernel allocates while below */
	return poll(&p, 1, 0) != 1;
}

/* What the kernel charges for a unix datagram of len bytes (its skb's
 * truesize, as SIOCOUTQ counts it): a power-of-two allocation for the data
 * and its shared info up to 16 KiB, pages beyond that, plus the skb
 * itself. Measured on Linux 6: 64 B cost 768, 2 KiB 4352, 64 KiB 69888. */
static size_t
unix_cost(size_t len)
{
	size_t head = 512, lin = len + 320;

	if (lin > 16384)
		return 16384 + 256 + ((len - (16384 - 320) + 4095) & ~(size_t)4095);
	while (head < lin)
		head *= 2;
	return head + 256;
}

/* Look at the kernel's count of what peers have not read: it holds every
 * reply sent, but not this batch's, admitted and not yet sent. */
static void
unix_ask(struct echo_dgram *d)
{
	d->outq = unix_outq(d->fd);
	d->since = d->unsent;
}

/* Would a reply of this cost pass the limit? The count is the kernel's at
 * the last look plus what we admitted since. Where n workers send on the
 * socket, each may admit only an n-th of what the kernel's count left,
 * and one reply more: they look at it at the same time, and none sees the
 * others' replies until they are sent. (The reply itself is not counted
 * n times: with 8 workers and an unprivileged buffer, one unread reply
 * anywhere then refused every 8 KiB one.) One reply may always go when
 * nothing is pending, so that a small buffer still echoes. */
static bool
unix_over(const struct echo_dgram *d, size_t cost, size_t limit)
{
	if (d->outq + d->since == 0)
		return false;
	return (size_t)d->outq + (size_t)d->senders * (size_t)d->since + cost > limit;
}

/* May this reply to a unix peer take a place in our send buffer? Peers
 * only take from the count by reading, so it errs high, never low: where
 * this worker alone sends, the kernel is asked again only when the count
 * says no room (peers may have read since): asking per batch cost one
 * ioctl per datagram at one in flight, the datagram echo's only call
 * beyond receive and send. Where others send too, it is asked per batch. */
static bool
unix_room(struct echo_dgram *d, size_t len)
{
	size_t cost = unix_cost(len), limit = (size_t)d->ceiling;
	bool fresh = false;

	if (d->family != AF_UNIX || d->ceiling <= 0)
		return true;
	if (d->outq < 0) {
		unix_ask(d);
		fresh = true;
	}
	if (len > ECHO_UNIX_MEDIUM)
		limit /= 4;
	else if (len > ECHO_UNIX_SMALL)
		limit /= 2;
	if (d->outq >= 0 && !fresh && unix_over(d, cost, limit))
		unix_ask(d);
	if (d->outq < 0)
		return true; /* the kernel cannot tell: EAGAIN decides */
	if (unix_over(d, cost, limit))
		return false;
	d->since += (int)cost;
	d->unsent += (int)cost;
	return true;
}

/* The ceiling for a send buffer: below it by room for two of the largest
 * replies (what our estimate of the kernel's charge may miss), or by half
 * of a buffer too small for that. */
static int
unix_ceiling(int sndbuf)
{
	int headroom = 2 * (int)unix_cost(ECHO_DGRAM_MAX);

	if (headroom > sndbuf / 2)
		headroom = sndbuf / 2;
	return sndbuf - headroom;
}

/* A bigger send buffer lets more non-readers' queues fill (and those
 * peers be stalled) before the ceiling is reached.
 * SO_SNDBUFFORCE where privileged, else what net.core.wmem_max allows. */
static int
unix_sndbuf(int fd)
{
	int want = ECHO_UNIX_SNDBUF, got = 0;
	socklen_t len = sizeof(got);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0 && got >= 2 * want)
		return got;
#ifdef SO_SNDBUFFORCE
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) == -1)
#endif
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	len = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == -1)
		return 0;
	return got;
}

static bool
wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		return IN6_IS_ADDR_UNSPECIFIED(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && v4_of_mapped(a) == INADDR_ANY);
	}
	return false;
}

static int
want_pktinfo(int fd, int family, int on)
{
#ifdef IP_PKTINFO
	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
#endif
#ifdef IPV6_RECVPKTINFO
	if (family == AF_INET6) {
#ifdef IP_PKTINFO
		/* IPv4 datagrams on a dual-stack socket come with their
		 * IP_PKTINFO too (Linux), whose local address tells a
		 * broadcast; best effort: the v4-mapped address is checked
		 * anyway. */
		(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
#endif
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	}
#endif
	(void)fd, (void)family, (void)on;
	return 0; /* no way to ask: replies leave from the routing table's source */
}

/* Is the bound IPv4 address one the kernel routes as a broadcast? Its own
 * word, asked once: a connect() there without SO_BROADCAST is refused
 * (EACCES). The guard's list of the interfaces' broadcast addresses says
 * the same, but only where it can be read: where netlink is denied (a
 * sandbox's RestrictAddressFamilies), a socket bound to a directed
 * broadcast answered every datagram sent to it. */
static bool
bound_to_broadcast(const struct sockaddr_storage *ss)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7) };
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	bool bcast;
	int fd;

	if (ss->ss_family == AF_INET)
		sin.sin_addr = ((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6))
		sin.sin_addr.s_addr = htonl(v4_of_mapped(a6));
	else
		return false;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	bcast = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 && errno == EACCES;
	close(fd);
	return bcast;
}

/* Where the datagrams on d's socket were sent, for the guard and for the
 * reply's source. A socket bound to one address hears only datagrams sent
 * to that address (Linux matches it before delivering, broadcasts and
 * multicast included): dst is known once, checked for each datagram as it
 * may become a broadcast address, and the kernel need not attach it to
 * every datagram (that costs 3-8 % CPU per echo) nor take it back with
 * each reply (the bound address is the source anyway). A wildcard socket
 * hears broadcasts too: there the kernel must say where each datagram was
 * sent, also on sockets we inherit (socket activation, inetd), or a
 * broadcast would be answered. */
static int
dst_setup(struct echo_dgram *d)
{
	socklen_t len = sizeof(d->dst);

	if (d->family == AF_UNIX)
		return 0;
	if (getsockname(d->fd, (struct sockaddr *)&d->dst, &len) == -1)
		return -1;
	d->fixed_dst = !wildcard(&d->dst);
	d->dst_bcast = d->fixed_dst && bound_to_broadcast(&d->dst);
	d->want_ctl = !d->fixed_dst;
	if (want_pktinfo(d->fd, d->dst.ss_family, d->want_ctl) == -1 && d->want_ctl)
		return -1;
	return 0;
}

struct echo_dgram *
echo_dgram_new(int fd, int family, const struct guard *guard, int senders)
{
	struct echo_dgram *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	/* Untouched pages cost nothing until a datagram that large arrives. */
	d->bufs = malloc((size_t)ECHO_BATCH * ECHO_DGRAM_MAX);
	if (d->bufs == NULL) {
		free(d);
		return NULL;
	}
	d->fd = fd;
	d->family = family;
	d->guard = guard;
	d->outq = -1;
	d->senders = senders > 1 ? senders : 1;
	if (family == AF_UNIX) {
		d->sndbuf = unix_sndbuf(fd);
		d->ceiling = unix_ceiling(d->sndbuf);
	}
	if (dst_setup(d) == -1) {
		int saved = errno;
		echo_dgram_free(d);
		errno = saved;
		return NULL;
	}
	for (int i = 0; i < ECHO_BATCH; i++) {
		d->iov_in[i].iov_base = d->bufs + (size_t)i * ECHO_DGRAM_MAX;
		d->iov_in[i].iov_len = ECHO_DGRAM_MAX;
	}
	d->nused = ECHO_BATCH;
	return d;
}

void
echo_dgram_free(struct echo_dgram *d)
{
	if (d == NULL)
		return;
	free(d->bufs);
	free(d);
}

static void
put_cmsg(struct msghdr *out, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *o = CMSG_FIRSTHDR(out);

	if (o == NULL)
		return;
	o->cmsg_level = level;
	o->cmsg_type = type;
	o->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(o), data, len);
	out->msg_controllen = CMSG_SPACE(len);
}

/* Reply from the address the datagram was sent to. Datagrams sent to a
 * multicast or broadcast address (limited, directed, v4-mapped) are not
 * answered: that is how one packet becomes a flood. Returns why to drop,
 * or NULL. */
static const char *
reply_source(const struct echo_dgram *d, struct msghdr *in, struct msghdr *out)
{
	const struct guard *g = d->guard;
	size_t room = out->msg_controllen;
	struct cmsghdr *c;
	const char *why;

	if (d->fixed_dst) {
		out->msg_controllen = 0;
		out->msg_control = NULL;
		if (d->dst_bcast)
			return "sent to a broadcast address the kernel knows";
		return guard_check_dst(g, (const struct sockaddr *)&d->dst);
	}
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
#ifdef IP_PKTINFO
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct sockaddr_in dst = { .sin_family = AF_INET };
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst.sin_addr = pi.ipi_addr; /* the header's destination */
			why = guard_check_dst(g, (struct sockaddr *)&dst);
			if (why != NULL)
				return why;
			/* The kernel's own word: for a datagram to one of the
			 * host's addresses it reports that address as the local
			 * one; for a broadcast, one the kernel knows even where
			 * the interfaces do not list it (an address added
			 * without brd still gets a broadcast route), another. */
			if (pi.ipi_spec_dst.s_addr != pi.ipi_addr.s_addr)
				return "sent to a broadcast address the kernel knows";
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			if (d->family == AF_INET) /* dual-stack: IPV6_PKTINFO's */
				put_cmsg(out, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
#endif
#ifdef IPV6_PKTINFO
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct sockaddr_in6 dst = { .sin6_family = AF_INET6 };
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst.sin6_addr = pi.ipi6_addr; /* v4-mapped on a dual-stack socket */
			why = guard_check_dst(g, (struct sockaddr *)&dst);
			if (why != NULL)
				return why;
			/* Pin the interface only where the address needs it. */
			if (!IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = 0;
			put_cmsg(out, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
#endif
	}
	if (out->msg_controllen == room) { /* no packet info came: none goes */
		out->msg_controllen = 0;
		out->msg_control = NULL;
	}
	return NULL;
}

static void
refuse(struct echo_dgram *d, int i, const char *why)
{
	d->refused = d->src[i];
	d->refused_len = d->in[i].msg_hdr.msg_namelen;
	d->refused_why = why;
}

/* Turn received datagram i into a reply, or drop it (and say why). */
static void
prepare(struct echo_dgram *d, int i, uint64_t now, struct echo_stats *st)
{
	struct msghdr *in = &d->in[i].msg_hdr, *out = &d->out[d->nout].msg_hdr;
	const char *why;

	/* Never echoed short; nor without knowing where it was sent. */
	if ((in->msg_flags & MSG_TRUNC) || (d->want_ctl && (in->msg_flags & MSG_CTRUNC))) {
		ECHO_STAT_ADD(st, dgrams_dropped, 1);
		return;
	}
	if (d->family == AF_UNIX && (in->msg_namelen <= offsetof(struct sockaddr_un, sun_path) ||
	    stalled(d, &d->src[i], in->msg_namelen))) {
		/* unbound sender: nowhere to answer; or one that does not read */
		ECHO_STAT_ADD(st, dgrams_dropped, 1);
		return;
	}
	why = guard_check(d->guard, (struct sockaddr *)&d->src[i], in->msg_namelen);
	if (why != NULL) {
		ECHO_STAT_ADD(st, dgrams_refused, 1);
		refuse(d, i, why);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->msg_name = &d->src[i];
	out->msg_namelen = in->msg_namelen;
	d->iov_out[d->nout].iov_base = d->iov_in[i].iov_base;
	d->iov_out[d->nout].iov_len = d->in[i].msg_len;
	out->msg_iov = &d->iov_out[d->nout];
	out->msg_iovlen = 1;
	out->msg_control = d->ctl_out[d->nout].buf;
	out->msg_controllen = sizeof(d->ctl_out[d->nout].buf);
	why = reply_source(d, in, out);
	if (why != NULL) {
		ECHO_STAT_ADD(st, dgrams_refused, 1);
		refuse(d, i, why);
		return;
	}
	why = guard_check_loop(d->guard, (struct sockaddr *)&d->src[i], d->iov_in[i].iov_base,
	    d->in[i].msg_len, now);
	if (why != NULL) {
		ECHO_STAT_ADD(st, dgrams_looped, 1);
		refuse(d, i, why);
		return;
	}
	if (d->guard->rl != NULL &&
	    !ratelimit_allow(d->guard->rl, (struct sockaddr *)&d->src[i], now)) {
		ECHO_STAT_ADD(st, dgrams_limited, 1);
		refuse(d, i, "over the per-source rate limit");
		return;
	}
	if (!unix_room(d, d->in[i].msg_len)) {
		ECHO_STAT_ADD(st, dgrams_dropped, 1);
		return;
	}
	d->nout++;
}

/* EAGAIN on a unix datagram socket whose ceiling we keep: the reply is
 * dropped, never waited for. Peers that do not read may hold our buffer
 * for good, and the kernel says writable only below a quarter of it:
 * waiting would stop the service for every peer. Elsewhere (IP, or no
 * SIOCOUTQ) EAGAIN is our own full buffer: back-pressure. */
static bool
unix_drop_not_wait(const struct echo_dgram *d)
{
	return d->family == AF_UNIX && d->ceiling > 0 && unix_outq(d->fd) >= 0;
}

/* Send waiting replies. 0 when all went (or were dropped by an error that
 * concerns only that reply), 1 when the socket is full. */
static int
send_replies(struct echo_dgram *d, struct echo_stats *st)
{
	while (d->sent < d->nout) {
		int n = mm_send(d->fd, d->out + d->sent, (unsigned)(d->nout - d->sent));
		if (n == -1) {
			bool again = would_block();
			if (errno == EINTR)
				continue;
			if (again && !unix_drop_not_wait(d))
				return 1;
			/* Unreachable peer, refused, EPERM from a firewall, a
			 * unix peer whose queue is full: lose that reply, not
			 * the socket; a peer that does not read gets no more
			 * replies for a while. */
			if (again && !own_buffer_full(d))
				stall(d, &d->out[d->sent].msg_hdr);
			if (again)
				d->outq = -1; /* our count was wrong: ask */
			ECHO_STAT_ADD(st, dgrams_dropped, 1);
			n = 1;
		} else
			ECHO_STAT_ADD(st, dgrams, (uint64_t)n);
		d->sent += n;
	}
	d->nout = d->sent = 0;
	d->unsent = 0;
	return 0;
}

int
echo_dgram_io(struct echo_dgram *d, struct echo_stats *st)
{
	for (int round = 0; round < 4; round++) {
		uint64_t now;
		int n;

		if (send_replies(d, st) == 1)
			return EV_WRITE; /* back-pressure: read no more until sent */
		/* Only what the last receive filled has changed. */
		for (int i = 0; i < d->nused; i++) {
			struct msghdr *mh = &d->in[i].msg_hdr;
			memset(mh, 0, sizeof(*mh));
			mh->msg_name = &d->src[i];
			mh->msg_namelen = sizeof(d->src[i]);
			mh->msg_iov = &d->iov_in[i];
			mh->msg_iovlen = 1;
			/* No room for control data where none is wanted: the
			 * kernel then installs no descriptor a unix peer
			 * attached (SCM_RIGHTS), it closes them. */
			if (d->want_ctl) {
				mh->msg_control = d->ctl_in[i].buf;
				mh->msg_controllen = sizeof(d->ctl_in[i].buf);
			}
		}
		n = mm_recv(d->fd, d->in, ECHO_BATCH);
		d->nused = n > 0 ? n : 0;
		if (d->senders > 1)
			d->outq = -1; /* what peers read, others sent: ask */
		if (n == -1) {
			if (would_block())
				return EV_READ;
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH)
				continue; /* an ICMP error for an earlier reply */
			ECHO_STAT_ADD(st, errors, 1);
			return -1;
		}
		/* Once per batch: the loop breaker needs it on every IP socket. */
		now = evloop_clock_ms();
		d->now = now;
		for (int i = 0; i < n; i++)
			prepare(d, i, now, st);
		if (n < ECHO_BATCH)
			return send_replies(d, st) == 1 ? EV_WRITE : EV_READ;
	}
	return send_replies(d, st) == 1 ? EV_WRITE : EV_READ;
}

const char *
echo_dgram_last_refusal(const struct echo_dgram *d, char *buf, size_t len)
{
	struct addr a;
	char ab[ADDR_STRLEN];

	if (d->refused_why == NULL)
		return NULL;
	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, &d->refused, sizeof(a.sa));
	a.len = d->refused_len;
	a.family = d->refused.ss_family;
	addr_unmap(&a);
	snprintf(buf, len, "%s: %s", addr_format(&a, ab, sizeof(ab)), d->refused_why);
	return buf;
}

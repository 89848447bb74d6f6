#include "common.h"

#include "echo.h"
#include "evloop.h"

/* ---- streams ---- */

/* A connection gets this many reads per wake-up, so one fast peer cannot
 * starve the rest of the loop; level-triggered events bring us back. */
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

/* recv that tells a record too large for the buffer (MSG_TRUNC) apart. */
static ssize_t
xrecv(int fd, void *p, size_t n, bool records)
{
	struct iovec iov = { p, n };
	struct msghdr mh;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	do
		r = recvmsg(fd, &mh, 0);
	while (r == -1 && errno == EINTR);
	if (r > 0 && records && (mh.msg_flags & MSG_TRUNC)) {
		errno = EMSGSIZE;
		return -1;
	}
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

uint32_t
echo_stream_pending(const struct echo_stream *es)
{
	return es->len;
}

/* Send what is owed. 0 when all sent or the peer is full; -1 on error. */
static int
flush(struct echo_stream *es, int fd, struct echo_stats *st)
{
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
 * nothing. The level-triggered loop calls again when more arrives (or the
 * EOF does). Records are read one per call, so a short one proves nothing. */
static bool
drained(const struct echo_stream *es, size_t got, size_t want)
{
	return !es->records && got < want;
}

/* Nothing owed: read into the shared scratch buffer and write straight
 * back. Returns 1 to go on, 0 when the socket has nothing more, 2 when the
 * budget allows no read, -1. */
static int
echo_direct(struct echo_stream *es, int fd, struct echo_scratch *sc, struct echo_stats *st)
{
	size_t want = es->records || sc->size < es->cap ? sc->size : es->cap;
	size_t grant = budget_grant(es, want);
	ssize_t n, w;

	if (grant == 0) {
		ECHO_STAT_ADD(st, budget_paused, 1);
		return 2;
	}
	n = xrecv(fd, sc->buf, grant, es->records);
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
	return drained(es, (size_t)n, grant) ? 0 : 1;
}

/* Something owed and room left: read more behind it. */
static int
echo_buffered(struct echo_stream *es, int fd)
{
	size_t want;
	ssize_t n;

	if (es->off > 0) {
		memmove(es->buf, es->buf + es->off, es->len);
		es->off = 0;
	}
	want = es->size - es->len;
	n = xrecv(fd, es->buf + es->len, want, false);
	if (n == 0) {
		es->eof = true;
		return 1;
	}
	if (n == -1)
		return would_block() ? 0 : -1;
	es->len += (uint32_t)n;
	return drained(es, (size_t)n, want) ? 0 : 1;
}

int
echo_stream_io(struct echo_stream *es, int fd, struct echo_scratch *sc, struct echo_stats *st)
{
	int rc = 1;

	for (int i = 0; i < ECHO_READS_PER_CALL && rc == 1; i++) {
		if (flush(es, fd, st) == -1)
			return -1;
		if (es->len > 0) {
			/* The peer is slow: stop reading once the buffer is full
			 * (TCP pushes back on the sender), or at once for
			 * records, which travel whole. */
			if (es->eof || es->records || full(es))
				return EV_WRITE;
			rc = echo_buffered(es, fd);
		} else if (!es->eof)
			rc = echo_direct(es, fd, sc, st);
		else
			break;
	}
	if (rc == -1)
		return -1;
	if (rc == 2)
		return ECHO_PAUSED; /* owes nothing: no EV_WRITE either */
	if (es->eof && es->len == 0) {
		/* Everything owed is sent: now the peer may see our EOF. */
		shutdown(fd, SHUT_WR);
		return 0;
	}
	return (es->eof || full(es) || (es->records && es->len) ? 0 : EV_READ) |
	    (es->len > 0 ? EV_WRITE : 0);
}

/* ---- the reflection guard (CVE-1999-0103) ---- */

/* UDP services that answer whatever they get: echoing to them can start a
 * loop that a single spoofed datagram sets off. 0 is never a real source. */
static const uint16_t guard_ports[] = {
	0,    /* no real sender uses it */
	7,    /* echo */
	9,    /* discard (often chargen's neighbour in inetd configs) */
	11,   /* systat */
	13,   /* daytime */
	15,   /* netstat */
	17,   /* qotd */
	19,   /* chargen */
	37,   /* time */
	53,   /* DNS */
	67,   /* DHCP server */
	68,   /* DHCP client */
	69,   /* TFTP: answers errors */
	111,  /* portmap */
	123,  /* NTP */
	137,  /* NetBIOS name */
	138,  /* NetBIOS datagram */
	161,  /* SNMP */
	162,  /* SNMP trap */
	389,  /* CLDAP */
	500,  /* IKE */
	520,  /* RIP */
	1900, /* SSDP */
	5353, /* mDNS */
	11211 /* memcached */
};

void
echo_guard_add_port(struct echo_guard *g, int port)
{
	for (size_t i = 0; i < g->nown; i++)
		if (g->own[i] == port)
			return;
	if (g->nown < ECHO_GUARD_PORTS)
		g->own[g->nown++] = (uint16_t)port;
}

static const char *
guard_v4(uint32_t a)
{
	if ((a >> 24) == 0)
		return "unspecified source address";
	if (a == 0xffffffffu)
		return "broadcast source address";
	if ((a >> 28) == 0xe)
		return "multicast source address";
	if ((a >> 28) == 0xf)
		return "reserved (class E) source address";
	return NULL;
}

const char *
echo_guard_check(const struct echo_guard *g, const struct sockaddr *src, socklen_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)src;
	uint16_t port;
	const char *why = NULL;

	if (g->off || (src->sa_family != AF_INET && src->sa_family != AF_INET6))
		return NULL;
	if (src->sa_family == AF_INET) {
		if (len < sizeof(*s4))
			return "malformed source address";
		port = ntohs(s4->sin_port);
		why = guard_v4(ntohl(s4->sin_addr.s_addr));
	} else {
		if (len < sizeof(*s6))
			return "malformed source address";
		port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			uint32_t a;
			memcpy(&a, &s6->sin6_addr.s6_addr[12], 4);
			why = guard_v4(ntohl(a));
		} else if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			why = "unspecified source address";
		else if (IN6_IS_ADDR_MULTICAST(&s6->sin6_addr))
			why = "multicast source address";
	}
	if (why != NULL)
		return why;
	for (size_t i = 0; i < AE_NELEM(guard_ports); i++)
		if (guard_ports[i] == port)
			return port == 0 ? "source port 0" :
			    "source port of a UDP service that answers (reflection loop)";
	for (size_t i = 0; i < g->nown; i++)
		if (g->own[i] == port)
			return "source port is one of our own (we would answer ourselves)";
	return NULL;
}

/* ---- datagrams ---- */

#define ECHO_BATCH 16
#define ECHO_CTL   (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)))

#ifndef HAVE_RECVMMSG
struct mmsghdr {
	struct msghdr msg_hdr;
	unsigned int msg_len;
};
#endif

struct echo_dgram {
	int fd, family;
	const struct echo_guard *guard;
	char *bufs;
	int nout, sent; /* replies out[sent..nout) wait for the socket */
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

struct echo_dgram *
echo_dgram_new(int fd, int family, const struct echo_guard *guard)
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
	for (int i = 0; i < ECHO_BATCH; i++) {
		d->iov_in[i].iov_base = d->bufs + (size_t)i * ECHO_DGRAM_MAX;
		d->iov_in[i].iov_len = ECHO_DGRAM_MAX;
	}
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
 * multicast or broadcast address are not answered: that is how one packet
 * becomes a flood. Returns false to drop. */
static bool
reply_source(struct msghdr *in, struct msghdr *out)
{
	size_t room = out->msg_controllen;
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
#ifdef IP_PKTINFO
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			uint32_t dst;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst = ntohl(pi.ipi_addr.s_addr);
			if ((dst >> 28) == 0xe || dst == 0xffffffffu)
				return false;
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			put_cmsg(out, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
#endif
#ifdef IPV6_PKTINFO
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr))
				return false;
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
	return true;
}

/* Turn received datagram i into a reply, or drop it (and say why). */
static void
prepare(struct echo_dgram *d, int i, uint64_t now, struct echo_stats *st)
{
	struct msghdr *in = &d->in[i].msg_hdr, *out = &d->out[d->nout].msg_hdr;
	const char *why;

	if (in->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		ECHO_STAT_ADD(st, dgrams_dropped, 1); /* never echoed short */
		return;
	}
	if (d->family == AF_UNIX && in->msg_namelen <= offsetof(struct sockaddr_un, sun_path)) {
		ECHO_STAT_ADD(st, dgrams_dropped, 1); /* unbound sender: nowhere to answer */
		return;
	}
	why = echo_guard_check(d->guard, (struct sockaddr *)&d->src[i], in->msg_namelen);
	if (why != NULL) {
		ECHO_STAT_ADD(st, dgrams_refused, 1);
	} else if (d->guard->rl != NULL &&
	    !ratelimit_allow(d->guard->rl, (struct sockaddr *)&d->src[i], now)) {
		why = "over the per-source rate limit";
		ECHO_STAT_ADD(st, dgrams_limited, 1);
	}
	if (why != NULL) {
		d->refused = d->src[i];
		d->refused_len = in->msg_namelen;
		d->refused_why = why;
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
	if (!reply_source(in, out)) {
		ECHO_STAT_ADD(st, dgrams_refused, 1);
		return;
	}
	d->nout++;
}

/* Send waiting replies. 0 when all went (or were dropped by an error that
 * concerns only that reply), 1 when the socket is full. */
static int
send_replies(struct echo_dgram *d, struct echo_stats *st)
{
	while (d->sent < d->nout) {
		int n = mm_send(d->fd, d->out + d->sent, (unsigned)(d->nout - d->sent));
		if (n == -1) {
			if (would_block())
				return 1;
			if (errno == EINTR)
				continue;
			/* Unreachable peer, refused, EPERM from a firewall:
			 * lose that reply, not the socket. */
			ECHO_STAT_ADD(st, dgrams_dropped, 1);
			n = 1;
		} else
			ECHO_STAT_ADD(st, dgrams, (uint64_t)n);
		d->sent += n;
	}
	d->nout = d->sent = 0;
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
		for (int i = 0; i < ECHO_BATCH; i++) {
			struct msghdr *mh = &d->in[i].msg_hdr;
			memset(mh, 0, sizeof(*mh));
			mh->msg_name = &d->src[i];
			mh->msg_namelen = sizeof(d->src[i]);
			mh->msg_iov = &d->iov_in[i];
			mh->msg_iovlen = 1;
			mh->msg_control = d->ctl_in[i].buf;
			mh->msg_controllen = sizeof(d->ctl_in[i].buf);
		}
		n = mm_recv(d->fd, d->in, ECHO_BATCH);
		if (n == -1) {
			if (would_block())
				return EV_READ;
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH)
				continue; /* an ICMP error for an earlier reply */
			ECHO_STAT_ADD(st, errors, 1);
			return -1;
		}
		now = d->guard->rl != NULL ? evloop_clock_ms() : 0;
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

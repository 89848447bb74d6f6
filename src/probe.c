/* The probe engine: numbered, verified probes over a connected stream or
 * datagram session; results through the client's report callbacks. */
#include "common.h"

#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "client_int.h"
#include "errq.h"
#include "payload.h"

/* Datagram probes awaiting a reply or the timeout, at most: a ring that
 * also remembers answered ones (duplicates, late replies) as long as it
 * can. When it is full the next probe waits for the oldest to be settled,
 * so memory stays bounded at any count and interval (-c 0 -i 0). */
#define PROBE_RING_MIN 64
#define PROBE_RING_MAX (1 << 16)
/* The sequence number in a datagram header: 31 bits, wrapping. */
#define SEQ_MASK 0x7fffffffLL

/* What became of a datagram probe, kept in the ring (uint8_t each). */
enum probe_slot_state {
	SLOT_PENDING = 0, /* sent, no reply yet, not yet timed out */
	SLOT_ANSWERED,    /* an intact reply came in time (counted received) */
	SLOT_LOST,        /* reported lost: a reply now is late */
	SLOT_ICMP,        /* ended by an ICMP error: a reply now is late, but
	                   * none is waited for after the last probe */
	SLOT_FORGOTTEN,   /* before the ring grew: nothing known of it */
	SLOT_LATE,        /* an intact reply came after -W (counted late) */
	SLOT_SETTLED,     /* a reply counted neither received nor late: a wrong
	                   * one (mismatched) */
	SLOT_HELD,        /* never sent (EAGAIN): reported lost by the sweep */
	SLOT_UNSENT       /* never sent: reported lost; no reply is ever its echo */
};
/* Any reply after a SLOT_ANSWERED, SLOT_LATE or SLOT_SETTLED one is a
 * duplicate. */

#define AT(s, seq)  ((s)->sent_at[(seq) & ((s)->cap - 1)])
#define GOT(s, seq) ((s)->got[(seq) & ((s)->cap - 1)])
/* A datagram probe's RTT in microseconds, once SLOT_ANSWERED: a wrong
 * duplicate takes it back out of the average. */
#define RTT(s, seq) ((s)->rtt_us[(seq) & ((s)->cap - 1)])

/* The oldest probe whose slot must be kept: unsettled datagrams; for a
 * stream only the probe in flight. */
static long long
oldest_needed(const struct session *s)
{
	return s->addr.socktype == SOCK_DGRAM ? s->sweep : s->nsent;
}

/* Room in the ring for probe seq: 0, or 1 when it is full (the probe
 * must wait), or -1 when out of memory. Growing copies every slot the old
 * ring held, in order; the new slots before those stand for probes whose
 * slots were reused long ago, so they are marked forgotten: a zero there
 * would read as pending since time 0, and a duplicate as a late reply. */
static int
probe_slot(struct session *s, long long seq)
{
	long long cap, from;
	uint64_t *at;
	uint8_t *got;
	uint32_t *rtt;

	if (seq - oldest_needed(s) < s->cap)
		return 0;
	if (s->cap >= PROBE_RING_MAX)
		return 1;
	cap = s->cap ? s->cap * 2 : PROBE_RING_MIN;
	at = calloc((size_t)cap, sizeof(*at));
	got = calloc((size_t)cap, 1);
	rtt = calloc((size_t)cap, sizeof(*rtt));
	if (at == NULL || got == NULL || rtt == NULL) {
		free(at);
		free(got);
		free(rtt);
		return -1;
	}
	memset(got, SLOT_FORGOTTEN, (size_t)cap);
	from = seq - s->cap > 0 ? seq - s->cap : 0;
	for (long long k = from; k < seq; k++) {
		at[k & (cap - 1)] = AT(s, k);
		got[k & (cap - 1)] = GOT(s, k);
		rtt[k & (cap - 1)] = RTT(s, k);
	}
	free(s->sent_at);
	free(s->got);
	free(s->rtt_us);
	s->sent_at = at;
	s->got = got;
	s->rtt_us = rtt;
	s->cap = cap;
	return 0;
}

static void
report_full(struct session *s, long long seq, int bytes, double rtt, enum probe_status st,
    const char *err, const struct probe_icmp *icmp, const struct addr *from, bool retransmitted)
{
	struct probe_result r = { s->t->text, &s->addr, seq + 1, bytes, rtt, st, err, icmp, from,
		retransmitted, s->t->c->o.timeout_ms };

	s->t->c->rep.probe(s->t->c->rep.arg, &r);
}

static void
report(struct session *s, long long seq, int bytes, double rtt, enum probe_status st,
    const char *err)
{
	report_full(s, seq, bytes, rtt, st, err, NULL, NULL, false);
}

static void
report_rt(struct session *s, long long seq, int bytes, double rtt, enum probe_status st,
    const char *err, bool retransmitted)
{
	report_full(s, seq, bytes, rtt, st, err, NULL, NULL, retransmitted);
}

/* TCP's own count of retransmitted segments on the connection (Linux
 * TCP_INFO), or -1 where there is none (unix sockets, other kernels). */
static long long
tcp_total_retrans(const struct session *s)
{
#if defined(TCP_INFO) && defined(__linux__)
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (s->fd == -1 || s->addr.socktype != SOCK_STREAM ||
	    (s->addr.family != AF_INET && s->addr.family != AF_INET6))
		return -1;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_total_retrans) + sizeof(ti.tcpi_total_retrans))
		return -1;
	return (long long)ti.tcpi_total_retrans;
#else
	(void)s;
	return -1;
#endif
}

long long
probe_tcp_retrans(const struct session *s)
{
	return tcp_total_retrans(s);
}

/* Retransmissions since probing began, kept in the session for its
 * summary (the socket is closed by then). Returns the kernel's count. */
static long long
tcp_retrans_update(struct session *s)
{
	long long now = tcp_total_retrans(s);

	if (now >= 0 && s->retrans0 >= 0)
		s->retransmits = now - s->retrans0;
	return now;
}

/* min and max keep what they were before each echo, for the stream's
 * last one, which may yet prove wrong (stream_out_of_step). */
static void
record_rtt(struct session *s, double rtt)
{
	s->pmin = s->rmin;
	s->pmax = s->rmax;
	s->pcmin = s->cmin;
	s->pcmax = s->cmax;
	if (s->received == 0 || rtt < s->rmin)
		s->rmin = rtt;
	if (rtt > s->rmax)
		s->rmax = rtt;
	s->rsum += rtt;
	s->rsq += rtt * rtt;
	s->received++;
}

/* TCP: an RTT that includes a retransmission measures TCP's recovery;
 * the others measure the path, kept apart for the summary. Called after
 * record_rtt(). */
static void
record_clean_rtt(struct session *s, double rtt, bool retransmitted)
{
	long long n = s->received - s->rtx_probes; /* this one included */

	s->last_retx = retransmitted;
	if (retransmitted) {
		s->rtx_probes++;
		return;
	}
	if (n == 1 || rtt < s->cmin)
		s->cmin = rtt;
	if (rtt > s->cmax)
		s->cmax = rtt;
	s->csum += rtt;
	s->csq += rtt * rtt;
}

static bool
more_probes(const struct session *s)
{
	const struct client *c = s->t->c;

	return !c->stopping && (c->o.count == 0 || s->nsent < c->o.count);
}

static void probe_send(struct session *s);
static void on_stream_io(struct evloop *loop, int fd, int events, void *arg);

static void
on_next_probe(struct evloop *loop, void *arg)
{
	(void)loop;
	probe_send(arg);
}

/* The next probe goes an interval after the last one was sent. */
static void
schedule_next(struct session *s)
{
	struct client *c = s->t->c;

	session_arm_at_us(c, &s->ptimer, AT(s, s->nsent - 1) + (uint64_t)c->o.interval_ms * 1000);
}

/* The session's stream socket: read always (bytes nobody asked for are
 * surplus), write while a probe is still going out. */
static void
stream_watch(struct session *s)
{
	size_t size = (size_t)s->t->c->o.size;
	int mask = (s->rd_end == 0 ? EV_READ : 0) | (s->awaiting && s->txoff < size ? EV_WRITE : 0);

	evloop_fd_set(s->t->c->loop, s->fd, mask, on_stream_io, s);
}

/* After the last reply: half-close and wait, at most the reply timeout,
 * for the server to close, so that bytes sent after the echo are seen. */
static void
stream_drain(struct session *s)
{
	struct client *c = s->t->c;

	s->draining = true;
	if (s->rd_end != 0 || shutdown(s->fd, SHUT_WR) == -1) {
		session_finish(s);
		return;
	}
	evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	stream_watch(s);
}

static void stream_lost(struct session *s, const char *why);

/* Stream: the reply is complete. One that took longer than -W is lost, as
 * the timer would have said: the loop hands out readiness before due
 * timers, so both can be ready in one turn. */
static void
stream_reply_done(struct session *s)
{
	struct client *c = s->t->c;
	long long seq = s->nsent - 1;
	size_t size = (size_t)c->o.size;
	double rtt = (double)(evloop_clock_us() - AT(s, seq)) / 1000.0;
	size_t d = payload_first_diff(s->tx, s->rx, size);
	long long rt = tcp_retrans_update(s);
	/* The RTT includes a retransmission: it measures TCP's recovery. */
	bool retransmitted = rt >= 0 && s->retrans_probe >= 0 && rt > s->retrans_probe;

	/* Past -W the echo is late even when its timer has not run yet (the
	 * loop hands out readiness before due timers, so both can be ready in
	 * one turn); past the one more -W it is lost, as the timer says. */
	bool late = s->overdue || rtt > (double)c->o.timeout_ms;

	if (rtt > 2.0 * c->o.timeout_ms) {
		stream_lost(s, "timeout");
		return;
	}
	s->awaiting = false;
	s->last_ok = d == size && !late;
	s->last_late = d == size && late;
	s->last_rtt = rtt;
	evloop_timer_cancel(c->loop, &s->rtimer);
	s->overdue = false;
	if (d == size && late) {
		/* Late, but back and intact: counted apart, like a datagram's. */
		s->late++;
		report_rt(s, seq, (int)size, rtt, PROBE_LATE, "reply after the timeout",
		    retransmitted);
	} else if (d < size) {
		char msg[96];
		snprintf(msg, sizeof(msg), "echo differs from sent data at byte %zu", d);
		s->mismatched++;
		snprintf(s->err, sizeof(s->err), "%s", msg);
		report_rt(s, seq, (int)size, rtt, PROBE_MISMATCH, msg, retransmitted);
	} else {
		record_rtt(s, rtt);
		record_clean_rtt(s, rtt, retransmitted);
		report_rt(s, seq, (int)size, rtt, PROBE_OK, NULL, retransmitted);
	}
	if (more_probes(s))
		schedule_next(s);
	else
		stream_drain(s);
}

/* The echo is out of step with the probes (msg says how; bytes: what
 * came): the probe awaited, or the last one if it was counted already, is
 * a mismatch, and the session ends, since what follows would not line up. */
static void
stream_out_of_step(struct session *s, size_t bytes, const char *msg)
{
	long long seq = s->nsent - 1;
	double rtt = s->last_rtt;

	if (s->awaiting) {
		rtt = (double)(evloop_clock_us() - AT(s, seq)) / 1000.0;
		s->awaiting = false;
		s->last_ok = false;
		s->mismatched++;
	} else if (s->last_ok) {
		/* Reported intact, counted received: it was not, and leaves
		 * every statistic (min and max as they were before it). */
		s->received--;
		s->rsum -= rtt;
		s->rsq -= rtt * rtt;
		s->rmin = s->pmin;
		s->rmax = s->pmax;
		if (s->last_retx)
			s->rtx_probes--;
		else {
			s->csum -= rtt;
			s->csq -= rtt * rtt;
			s->cmin = s->pcmin;
			s->cmax = s->pcmax;
		}
		s->mismatched++;
	} else if (s->last_late) { /* likewise for one counted late */
		s->late--;
		s->mismatched++;
	}
	snprintf(s->err, sizeof(s->err), "%s", msg);
	report(s, seq, (int)bytes, rtt, PROBE_MISMATCH, msg);
	session_finish(s);
}

/* Bytes beyond the probe's echo: the last probe's echo was too long. */
static void
stream_surplus(struct session *s, size_t extra)
{
	size_t size = (size_t)s->t->c->o.size;
	size_t d = s->awaiting ? payload_first_diff(s->tx, s->rx, size) : size;
	char msg[96];

	if (d < size)
		snprintf(msg, sizeof(msg), "echo differs from sent data at byte %zu", d);
	else
		snprintf(msg, sizeof(msg), "echo has %zu byte%s more than sent", extra,
		    extra == 1 ? "" : "s");
	stream_out_of_step(s, size + extra, msg);
}

/* Received bytes: the echo owed, then anything more is surplus.
 * Returns -1 when the session ended. */
static int
stream_bytes(struct session *s, const unsigned char *p, size_t n)
{
	size_t size = (size_t)s->t->c->o.size;
	size_t owed = s->awaiting ? size - s->rxlen : 0, k = n < owed ? n : owed;

	memcpy(s->rx + s->rxlen, p, k);
	s->rxlen += k;
	if (n > k) {
		stream_surplus(s, n - k);
		return -1;
	}
	return 0;
}

/* A TCP probe timed out on an established connection: what the kernel
 * knows says whose fault it is. Bytes still unacknowledged after
 * retransmissions, over a connection whose handshake passed, is how a
 * path MTU black hole looks from the sender: small segments pass, full
 * ones vanish and no Packet Too Big comes back. Everything acknowledged
 * and no echo: the path delivered, the server did not answer. */
static void
stream_kernel_view(const struct session *s, char *buf, size_t len)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	int unacked = 0;

	buf[0] = '\0';
	memset(&ti, 0, sizeof(ti));
	if (s->addr.family == AF_UNIX ||
	    getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == -1 ||
	    ioctl(s->fd, SIOCOUTQ, &unacked) == -1)
		return;
	snprintf(buf, len, "; kernel: %d bytes unacknowledged, %u retransmissions, path MTU %u, "
	    "MSS %u, RTT %.3f ms", unacked, ti.tcpi_total_retrans, ti.tcpi_pmtu, ti.tcpi_snd_mss,
	    ti.tcpi_rtt / 1000.0);
	if (unacked > 0 && ti.tcpi_total_retrans > 0) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, ": sent data is retransmitted and never acknowledged "
		    "although the connection was made%s", (int)ti.tcpi_snd_mss > 536 ?
		    ", as in a path MTU black hole (large packets vanish, no Packet Too Big)" : "");
	} else if (unacked == 0) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, ": the server acknowledged every byte and sent no echo");
	}
}

/* Part of the echo came, then no more (why: as for stream_lost): bytes
 * came back, so it is no loss but a wrong echo, and says how much came. */
static void
stream_short(struct session *s, const char *why)
{
	char w[ADDR_STRLEN + 16], then[64];
	int size = s->t->c->o.size;
	size_t d = payload_first_diff(s->tx, s->rx, s->rxlen);
	double rtt = (double)(evloop_clock_us() - AT(s, s->nsent - 1)) / 1000.0;

	session_where(&s->addr, w, sizeof(w));
	if (strcmp(why, "timeout") == 0)
		snprintf(then, sizeof(then), "the rest not within %d ms", s->t->c->o.timeout_ms);
	else
		snprintf(then, sizeof(then), "the connection %s", why);
	if (d < s->rxlen)
		snprintf(s->err, sizeof(s->err), "echo differs from sent data at byte %zu", d);
	else
		snprintf(s->err, sizeof(s->err), "short echo: %zu of %d bytes from %s, then %s",
		    s->rxlen, size, w, then);
	s->awaiting = false;
	s->mismatched++;
	report(s, s->nsent - 1, (int)s->rxlen, rtt, PROBE_MISMATCH, s->err);
	session_finish(s);
}

static void
stream_lost(struct session *s, const char *why)
{
	char w[ADDR_STRLEN + 16], kv[320];

	tcp_retrans_update(s);
	if (s->awaiting && s->rxlen > 0 && s->rxlen < (size_t)s->t->c->o.size) {
		stream_short(s, why);
		return;
	}
	session_where(&s->addr, w, sizeof(w));
	if (strcmp(why, "timeout") == 0) {
		stream_kernel_view(s, kv, sizeof(kv));
		snprintf(s->err, sizeof(s->err), "no reply from %s within %d ms%s", w,
		    s->t->c->o.timeout_ms, kv);
	} else
		snprintf(s->err, sizeof(s->err), "connection to %s %s after %zu of %d bytes", w,
		    why, s->rxlen, s->t->c->o.size);
	report(s, s->nsent - 1, (int)s->rxlen, 0, PROBE_LOST, s->err);
	session_finish(s);
}

/* The read side ended: the echo owed is lost; after the last reply it is
 * the close awaited; between probes the next probe will say it. */
static void
stream_ended(struct session *s, int e)
{
	if (s->draining)
		session_finish(s);
	else if (s->awaiting)
		stream_lost(s, e == 0 ? "was closed" : "was reset");
	else {
		s->rd_end = e == 0 ? -1 : e;
		stream_watch(s);
	}
}

/* Seqpacket: an echo is one record of exactly the probe's size. The
 * record is read whole into rx, which has one byte more than a probe so
 * that a longer one shows (MSG_TRUNC gives its real length). recv() says 0
 * both for an empty record and for the end: with SO_PASSCRED (set in
 * probe_start) every record comes with credentials and the end without.
 * Returns the record's length, -1 with errno, or RECORD_END. */
#define RECORD_END (-2)
static ssize_t
record_recv(struct session *s, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { s->rx, (size_t)s->t->c->o.size + 1 };
	struct msghdr mh;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	/* Room for the credentials only: descriptors a server attaches
	 * (SCM_RIGHTS) are closed by the kernel, never put in our table. */
	if (s->rec_marked) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
	}
	r = recvmsg(fd, &mh, MSG_TRUNC);
	/* Without the mark (SO_PASSCRED refused), 0 can only be the end. */
	if (r == 0 && (!s->rec_marked || (mh.msg_controllen == 0 && !(mh.msg_flags & MSG_CTRUNC))))
		return RECORD_END;
	return r;
}

/* A seqpacket record came: the echo awaited when it is one record of the
 * probe's size (its bytes are checked as a stream echo's); a record of
 * another length (its real one, however long), an empty one or one beyond
 * the echo is a mismatch named as such. Returns -1
 * when the caller must stop (the session ended, or its read side did). */
static int
record_read(struct session *s, int fd)
{
	size_t size = (size_t)s->t->c->o.size;
	ssize_t n = record_recv(s, fd);
	char msg[128];

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		stream_ended(s, n == RECORD_END ? 0 : errno);
		return -1;
	}
	if (s->awaiting && (size_t)n == size) {
		s->rxlen = size;
		return 0;
	}
	if (!s->awaiting)
		snprintf(msg, sizeof(msg), "a record of %zd byte%s after the echo", n,
		    n == 1 ? "" : "s");
	else if (n == 0)
		snprintf(msg, sizeof(msg), "echo is an empty record, %zu bytes were sent in one",
		    size);
	else /* shorter or longer: split or merged by the server, or neither */
		snprintf(msg, sizeof(msg), "echo is a record of %zd byte%s, %zu were sent in one",
		    n, n == 1 ? "" : "s", size);
	stream_out_of_step(s, (size_t)n, msg);
	return -1;
}

static void
on_stream_timeout(struct evloop *loop, void *arg)
{
	struct session *s = arg;

	(void)loop;
	if (s->draining) /* the server kept the connection open: its right */
		session_finish(s);
	else if (!s->overdue) {
		/* TCP delivers or resets: an echo past -W may still come, and
		 * is late, not lost, if it does within one more -W. */
		s->overdue = true;
		evloop_timer_arm(s->t->c->loop, &s->rtimer, (uint64_t)s->t->c->o.timeout_ms);
	} else
		stream_lost(s, "timeout");
}

/* SIGINT: the probe awaited is lost if -W ran out for it (it may be in
 * the one more -W a late echo gets), else in flight. */
static void
stream_interrupted(struct session *s)
{
	double age = (double)(evloop_clock_us() - AT(s, s->nsent - 1)) / 1000.0;

	if (!s->awaiting || s->draining)
		return;
	if (s->overdue || age > (double)s->t->c->o.timeout_ms)
		stream_lost(s, "timeout");
	else
		s->in_flight = 1;
}

static void
on_stream_io(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	struct client *c = s->t->c;
	size_t size = (size_t)c->o.size;
	ssize_t n;

	(void)loop;
	if ((events & EV_WRITE) && s->awaiting && s->txoff < size) {
		n = send(fd, s->tx + s->txoff, size - s->txoff, MSG_NOSIGNAL);
		if (n > 0)
			s->txoff += (size_t)n;
		else if (errno == EMSGSIZE) { /* seqpacket: over the send buffer's limit */
			snprintf(s->err, sizeof(s->err), "a record of %zu bytes is more than this "
			    "socket can send (net.core.wmem_max)", size);
			report(s, s->nsent - 1, 0, 0, PROBE_LOST, s->err);
			session_finish(s);
			return;
		} else if (errno != EAGAIN && errno != EINTR) {
			stream_lost(s, errno == ECONNRESET || errno == EPIPE ? "was reset" : "failed");
			return;
		}
	}
	if ((events & EV_READ) && s->rd_end == 0 && s->addr.socktype == SOCK_SEQPACKET) {
		if (record_read(s, fd) == -1)
			return;
	} else if ((events & EV_READ) && s->rd_end == 0) {
		n = recv(fd, c->rxbuf, sizeof(c->rxbuf), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			stream_ended(s, n == 0 ? 0 : errno);
			return;
		}
		if (n > 0 && stream_bytes(s, c->rxbuf, (size_t)n) == -1)
			return;
	}
	if (s->awaiting && s->rxlen >= size) {
		stream_reply_done(s);
		if (s->done)
			return;
	}
	stream_watch(s);
}

static void dgram_sweep(struct session *s);

static void
on_sweep(struct evloop *loop, void *arg)
{
	(void)loop;
	dgram_sweep(arg);
}

static void
dgram_arm_sweep(struct session *s)
{
	struct client *c = s->t->c;

	if (s->sweep < s->nsent)
		session_arm_at_us(c, &s->rtimer, AT(s, s->sweep) + (uint64_t)c->o.timeout_ms * 1000);
}

/* A probe the sweep has yet to call lost when -W is over. */
static bool
slot_awaited(const struct session *s, long long seq)
{
	return GOT(s, seq) == SLOT_PENDING || GOT(s, seq) == SLOT_HELD;
}

/* Finished when no more probes go out and every one sent is accounted for. */
static void
dgram_maybe_finish(struct session *s)
{
	while (s->sweep < s->nsent && !slot_awaited(s, s->sweep))
		s->sweep++;
	if (!more_probes(s) && s->sweep >= s->nsent) {
		/* Replies to probes reported lost may still come: wait one
		 * more -W for them (as ping waits for the last), no longer. */
		struct client *c = s->t->c;
		uint64_t now = evloop_clock_us();
		if (s->lost_open > 0 && !c->stopping) {
			if (s->linger_until == 0)
				s->linger_until = now + (uint64_t)c->o.timeout_ms * 1000;
			if (now < s->linger_until) {
				session_arm_at_us(c, &s->rtimer, s->linger_until);
				return;
			}
		}
		session_finish(s);
	} else if (s->blocked && s->nsent - s->sweep < s->cap) {
		s->blocked = false;
		probe_send(s);
	} else
		dgram_arm_sweep(s);
}

static void
dgram_sweep(struct session *s)
{
	struct client *c = s->t->c;
	uint64_t now = evloop_clock_us(), limit = (uint64_t)c->o.timeout_ms * 1000;
	char w[ADDR_STRLEN + 16], msg[ADDR_STRLEN + 64];

	session_where(&s->addr, w, sizeof(w));
	for (; s->sweep < s->nsent && AT(s, s->sweep) + limit <= now; s->sweep++) {
		if (!slot_awaited(s, s->sweep))
			continue;
		/* one never sent stays so: nothing can come back late for it */
		if (GOT(s, s->sweep) == SLOT_HELD)
			GOT(s, s->sweep) = SLOT_UNSENT;
		else {
			GOT(s, s->sweep) = SLOT_LOST;
			s->lost_open++;
		}
		snprintf(msg, sizeof(msg), "no reply from %s within %d ms", w, c->o.timeout_ms);
		if (s->err[0] == '\0')
			snprintf(s->err, sizeof(s->err), "%s", msg);
		report(s, s->sweep, c->o.size, 0, PROBE_LOST, msg);
	}
	dgram_maybe_finish(s);
}

/* SIGINT: the probes past -W are lost, said now as the sweep would have;
 * the rest had time left, so they are in flight, not lost (ping would
 * count them lost: a healthy path interrupted showed loss). A probe
 * waiting for room in the ring will not go out. */
static void
dgram_interrupted(struct session *s)
{
	s->blocked = false;
	dgram_sweep(s);
	if (s->done)
		return;
	for (long long seq = s->sweep; seq < s->nsent; seq++) {
		if (GOT(s, seq) == SLOT_PENDING) {
			s->in_flight++;
		} else if (GOT(s, seq) == SLOT_HELD) {
			/* never left (no room in the send buffer): lost, not
			 * in flight (review 9: 96 such shown "in flight", 0% loss) */
			GOT(s, seq) = SLOT_UNSENT;
			report(s, seq, s->t->c->o.size, 0, PROBE_LOST,
			    "not sent: no room in the socket's send buffer");
		}
	}
}

void
probe_interrupted(struct session *s)
{
	const struct client *c = s->t->c;

	if (s->done || c->o.pipe || c->o.pmtu || c->o.connect_only || s->nsent == 0)
		return;
	if (s->addr.socktype == SOCK_DGRAM)
		dgram_interrupted(s);
	else
		stream_interrupted(s);
}

/* The probe a header's 31-bit sequence number stands for: the latest
 * one sent with those bits; -1 when none was. */
static long long
dgram_full_seq(const struct session *s, int hdr)
{
	long long last = s->nsent - 1, full;

	if (hdr < 0 || last < 0)
		return -1;
	full = last - (((last & SEQ_MASK) - hdr) & SEQ_MASK);
	return full >= 0 ? full : -1;
}

static void
dgram_unrecognised(struct session *s, size_t n)
{
	/* not a probe's echo: counted apart, so loss stays a count of probes */
	s->unrecognised++;
	snprintf(s->err, sizeof(s->err), "unrecognised reply of %zu bytes", n);
	report(s, -1, (int)n, 0, PROBE_UNRECOGNISED, s->err);
}

/* A second reply to a probe already settled by one. An intact copy is a
 * duplicate and nothing more; a wrong one is a mismatch, and the probe,
 * counted received or late by its first reply, is counted mismatched
 * instead (as a stream echo found too long is): its echoes disagree. */
static void
dgram_duplicate(struct session *s, long long seq, size_t n, size_t d, double rtt)
{
	size_t size = (size_t)s->t->c->o.size;
	char msg[96];

	s->dups++;
	if (n == size && d == size) {
		report(s, seq, (int)n, rtt, PROBE_DUPLICATE, "duplicate reply");
		return;
	}
	if (GOT(s, seq) == SLOT_ANSWERED) {
		double first = (double)RTT(s, seq) / 1000.0;
		/* it leaves every statistic: min and max are worked out again
		 * for the summary (probe_rtt_settle) */
		s->received--;
		s->rsum -= first;
		s->rsq -= first * first;
		s->rtt_revoked = true;
		s->mismatched++;
	} else if (GOT(s, seq) == SLOT_LATE) {
		s->late--;
		s->mismatched++;
	}
	GOT(s, seq) = SLOT_SETTLED;
	if (n != size)
		snprintf(msg, sizeof(msg), "duplicate reply of %zu bytes, %zu were sent", n, size);
	else
		snprintf(msg, sizeof(msg), "duplicate reply differs from sent data at byte %zu", d);
	snprintf(s->err, sizeof(s->err), "%s", msg);
	report(s, seq, (int)n, rtt, PROBE_MISMATCH, msg);
}

/* A wrong first reply to probe seq, on time or late: a mismatch either
 * way (a late echo is no failure only when it is intact). */
static void
dgram_mismatch(struct session *s, long long seq, size_t n, size_t d, double rtt, bool late)
{
	size_t size = (size_t)s->t->c->o.size;
	const char *when = late ? ", after the timeout" : "";
	char msg[128];

	s->mismatched++;
	GOT(s, seq) = SLOT_SETTLED;
	if (n != size)
		snprintf(msg, sizeof(msg), "echo of %zu bytes, %zu were sent%s", n, size, when);
	else
		snprintf(msg, sizeof(msg), "echo differs from sent data at byte %zu%s", d, when);
	snprintf(s->err, sizeof(s->err), "%s", msg);
	report(s, seq, (int)n, rtt, PROBE_MISMATCH, msg);
}

/* A reply from the address probed: n bytes long, of which p holds the
 * first held (a unix datagram may be longer than the buffer). Its length
 * and bytes are checked before anything else: whether it is on time, late
 * or a duplicate, a wrong echo is a mismatch. */
static void
dgram_reply(struct session *s, const unsigned char *p, size_t held, size_t n)
{
	struct client *c = s->t->c;
	size_t size = (size_t)c->o.size, d;
	int hdr = payload_dgram_seq(p, held);
	long long seq = dgram_full_seq(s, hdr);
	/* The reply's time, before any output: the attempt record that a
	 * first reply prints is no part of its round trip (the RTT was once
	 * longer than the connect time it belongs to). */
	uint64_t now_us = evloop_clock_us(), rtt_us;
	double rtt;
	bool intact, late;

	if (seq < 0) {
		dgram_unrecognised(s, n);
		return;
	}
	if (!s->connected || !s->reported) /* the first reply: the address is reached */
		session_answered(s);
	d = payload_dgram_diff(c->seed, hdr, p, held, size);
	intact = n == size && d == size;
	if (s->nsent - seq > s->cap || GOT(s, seq) == SLOT_FORGOTTEN) {
		/* Older than the ring remembers: settled long ago, answered or
		 * said lost, we cannot tell. Most likely a duplicate; counting
		 * it late would take a loss back that was never undone. */
		if (!intact) {
			dgram_unrecognised(s, n);
			return;
		}
		s->dups++;
		report(s, seq, (int)n, 0, PROBE_DUPLICATE,
		    "duplicate reply (or one to a probe too old to track)");
		return;
	}
	if (GOT(s, seq) == SLOT_HELD || GOT(s, seq) == SLOT_UNSENT) {
		/* The probe never left: whatever claims to echo it was made
		 * by someone who knows the seed, and is no echo. */
		dgram_unrecognised(s, n);
		return;
	}
	rtt_us = now_us - AT(s, seq);
	rtt = (double)rtt_us / 1000.0;
	if (GOT(s, seq) != SLOT_PENDING && GOT(s, seq) != SLOT_LOST && GOT(s, seq) != SLOT_ICMP) {
		dgram_duplicate(s, seq, n, d, rtt);
		return;
	}
	/* A first reply to a probe older than one answered already. */
	if (seq < s->maxseq)
		s->reordered++;
	else
		s->maxseq = seq;
	late = GOT(s, seq) == SLOT_LOST || GOT(s, seq) == SLOT_ICMP || rtt > c->o.timeout_ms;
	/* A probe said lost came back after all (intact or not): it is no
	 * loss; once none is left, "no reply" is no longer the error. */
	if (GOT(s, seq) == SLOT_LOST && --s->lost_open == 0 &&
	    strncmp(s->err, "no reply from ", 14) == 0)
		s->err[0] = '\0';
	if (!intact) {
		dgram_mismatch(s, seq, n, d, rtt, late);
		return;
	}
	if (late) {
		bool icmp = GOT(s, seq) == SLOT_ICMP && rtt <= c->o.timeout_ms;
		s->late++;
		GOT(s, seq) = SLOT_LATE;
		report(s, seq, (int)n, rtt, PROBE_LATE,
		    icmp ? PROBE_AFTER_ERROR : "reply after the timeout");
		return;
	}
	GOT(s, seq) = SLOT_ANSWERED;
	RTT(s, seq) = (uint32_t)rtt_us; /* within -W: at most an hour */
	record_rtt(s, rtt);
	report(s, seq, (int)n, rtt, PROBE_OK, NULL);
}

/* An ICMP error (or a local one) from the socket's error queue: the
 * probe it quotes is over at once, with the cause and who reported it,
 * rather than waiting -W to be called lost. */
static void
dgram_icmp(struct session *s, const struct errq_msg *m, const unsigned char *quoted)
{
	struct client *c = s->t->c;
	long long seq = dgram_full_seq(s, payload_dgram_seq(quoted, m->len));
	char words[ADDR_STRLEN + 96], from[ADDR_STRLEN] = "";
	struct probe_icmp icmp = { m->type, m->code, NULL, errq_too_big(m) ? (int)m->info : 0 };
	struct addr a;

	if (m->from.ss_family == AF_INET || m->from.ss_family == AF_INET6) {
		memset(&a, 0, sizeof(a));
		memcpy(&a.sa, &m->from, sizeof(m->from));
		a.family = m->from.ss_family;
		addr_format_host(&a, from, sizeof(from));
		icmp.from = from;
	}
	errq_describe(m, words, sizeof(words));
	snprintf(s->err, sizeof(s->err), "%s", words);
	if (seq < 0 || s->nsent - seq > s->cap || GOT(s, seq) != SLOT_PENDING) {
		/* About no probe still waiting: said, not counted. */
		report_full(s, -1, 0, 0, PROBE_ICMP, words, &icmp, NULL, false);
		return;
	}
	/* An echo may still come (the error forged, the path back up): it
	 * is then late, but the run does not wait for one. */
	GOT(s, seq) = SLOT_ICMP;
	report_full(s, seq, c->o.size, 0, PROBE_ICMP, words, &icmp, NULL, false);
}

/* An ICMP error for a datagram attempt no reply has connected yet: the
 * attempt fails at once with the error's words, so that the race goes on
 * to the next address. Its target's last hope is not ended here: its
 * probes go on and report the error (false). */
static bool
dgram_attempt_icmp(struct session *s, const struct errq_msg *m)
{
	char words[ERRLEN];

	errq_describe(m, words, sizeof(words));
	snprintf(s->err, sizeof(s->err), "%s", words);
	return session_attempt_failed(s, 0);
}

static bool
same_endpoint(const struct addr *a, const struct sockaddr_storage *b)
{
	if (a->family != b->ss_family)
		return false;
	if (a->family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->sa, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&a->sa, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

/* Two unix socket names the same: an abstract name byte for byte, a path
 * up to its NUL (the kernel may count one, a caller not). An unnamed
 * socket (a length of 0 or just the family) is nobody's server. */
static bool
same_unix_name(const struct sockaddr_storage *a, socklen_t alen,
    const struct sockaddr_storage *b, socklen_t blen)
{
	const struct sockaddr_un *x = (const void *)a, *y = (const void *)b;
	size_t off = offsetof(struct sockaddr_un, sun_path), max = sizeof(x->sun_path), xl, yl;

	if (alen <= off || blen <= off || x->sun_family != AF_UNIX || y->sun_family != AF_UNIX)
		return false;
	xl = alen - off < max ? alen - off : max;
	yl = blen - off < max ? blen - off : max;
	if (x->sun_path[0] != '\0' && y->sun_path[0] != '\0') {
		xl = strnlen(x->sun_path, xl);
		yl = strnlen(y->sun_path, yl);
	}
	return xl == yl && memcmp(x->sun_path, y->sun_path, xl) == 0;
}

/* A datagram from the server probed. Over unix the kernel filters only
 * while the socket is connected: once the server's socket is gone and no
 * other is at the path, it is unconnected and any local process can
 * write to it, so the sender is checked as over IP, against the name the
 * server bound (learnt at connect time: the path typed may be relative,
 * or name a socket renamed into place). */
static bool
from_server(const struct session *s, const struct sockaddr_storage *src, socklen_t slen)
{
	if (s->addr.family == AF_UNIX)
		return same_unix_name(&s->peer, s->peer_len, src, slen);
	return slen == 0 || same_endpoint(&s->addr, src);
}

/* Unix datagrams: learn the server's name from the kernel, as it will
 * name the sender of its replies; the address probed when it cannot say
 * (the association already dissolved) and nothing was learnt before. */
static void
unix_peer_learn(struct session *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (s->addr.family != AF_UNIX)
		return;
	if (getpeername(s->fd, (struct sockaddr *)&ss, &len) == 0 &&
	    len > offsetof(struct sockaddr_un, sun_path)) {
		memcpy(&s->peer, &ss, sizeof(ss));
		s->peer_len = len;
	} else if (s->peer_len == 0) {
		memcpy(&s->peer, &s->addr.sa, sizeof(s->peer));
		s->peer_len = s->addr.len;
	}
}

/* A datagram from elsewhere: a server answering from another address
 * (multihomed, NAT) or a stranger. Named and counted apart, never as a
 * reply from the address probed, and it settles nothing: the probe's own
 * echo may still come (a copy from elsewhere made it a "duplicate").
 * n bytes long, the first held of them in p. */
static void
dgram_other_source(struct session *s, const struct sockaddr_storage *ss, socklen_t len,
    const unsigned char *p, size_t held, size_t n)
{
	struct client *c = s->t->c;
	int hdr = payload_dgram_seq(p, held);
	long long seq = dgram_full_seq(s, hdr);
	struct addr from;
	char fw[ADDR_STRLEN + 16], w[ADDR_STRLEN + 16];
	double rtt = 0;

	memset(&from, 0, sizeof(from));
	memcpy(&from.sa, ss, len < sizeof(from.sa) ? len : sizeof(from.sa));
	from.len = len;
	/* an unnamed unix sender gives no address at all (a length of 0) */
	from.family = len >= sizeof(sa_family_t) ? ss->ss_family : s->addr.family;
	from.sa.ss_family = (sa_family_t)from.family;
	from.socktype = SOCK_DGRAM;
	s->unrecognised++;
	snprintf(s->err, sizeof(s->err), "reply from %s, not from %s (%zu bytes)",
	    session_where(&from, fw, sizeof(fw)), session_where(&s->addr, w, sizeof(w)), n);
	/* Shown with its time, but no echo of the address probed: the probe
	 * still waits for that one, and is lost without it. */
	if (seq >= 0 && s->nsent - seq <= s->cap && GOT(s, seq) == SLOT_PENDING &&
	    n == (size_t)c->o.size && payload_dgram_diff(c->seed, hdr, p, held, n) == n)
		rtt = (double)(evloop_clock_us() - AT(s, seq)) / 1000.0;
	else
		seq = -1;
	report_full(s, seq, (int)n, rtt, PROBE_OTHER_SOURCE, s->err, NULL, &from, false);
}

static void
on_dgram_io(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	struct client *c = s->t->c;

	(void)loop;
	(void)events;
	for (int i = 0; i < 64 && !s->done; i++) {
		struct errq_msg m;
		struct sockaddr_storage src;
		socklen_t slen = sizeof(src);
		ssize_t n;
		size_t held;

		/* The error queue first: a read error below only echoes it. */
		if (s->errq && errq_read(fd, &m, c->rxbuf, sizeof(c->rxbuf)) == 1) {
			if (m.origin == ERRQ_LOCAL) /* local ones failed their send() */
				continue;
			/* An attempt not yet answered has failed: race on. */
			if (!s->connected && dgram_attempt_icmp(s, &m))
				return;
			dgram_icmp(s, &m, c->rxbuf);
			continue;
		}
		n = recvfrom(fd, c->rxbuf, sizeof(c->rxbuf), MSG_TRUNC, (struct sockaddr *)&src, &slen);
		if (n == -1) {
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
			    errno == EMSGSIZE || errno == EACCES) {
				if (s->errq)
					continue; /* the error queue has it, with its details */
				/* No error queue: an attempt not yet answered has
				 * failed (race on); otherwise the probe is lost. */
				if (!s->connected && session_attempt_failed(s, errno))
					return;
				session_connect_error(s, errno);
				continue;
			}
			break;
		}
		/* MSG_TRUNC: n is the datagram's real length, even past the
		 * buffer (a unix datagram may be longer than 64 KiB). */
		held = (size_t)n > sizeof(c->rxbuf) ? sizeof(c->rxbuf) : (size_t)n;
		if (!from_server(s, &src, slen)) {
			dgram_other_source(s, &src, slen, c->rxbuf, held, (size_t)n);
			continue;
		}
		dgram_reply(s, c->rxbuf, held, (size_t)n);
	}
	if (!s->done)
		dgram_maybe_finish(s);
}

/* A datagram probe the kernel would not send: over at once, with why. */
static void
dgram_send_failed(struct session *s, long long seq, int e)
{
	session_connect_error(s, e);
	GOT(s, seq) = SLOT_UNSENT; /* nothing can come back for it, late or not */
	report(s, seq, s->t->c->o.size, 0, PROBE_LOST, s->err);
}

/* See replies from any address (a connected socket drops them): the
 * route and source were chosen by connect(); keep that local address,
 * dissolve the association and send with sendto(). */
static void
dgram_unconnect(struct session *s)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	struct sockaddr unspec;

	if (s->addr.family != AF_INET && s->addr.family != AF_INET6)
		return;
	if (errq_enable(s->fd, s->addr.family) == -1)
		return;
	s->errq = true;
	if (getsockname(s->fd, (struct sockaddr *)&local, &len) == -1)
		return;
	memset(&unspec, 0, sizeof(unspec));
	unspec.sa_family = AF_UNSPEC;
	if (connect(s->fd, &unspec, sizeof(unspec)) == -1)
		return;
	if (bind(s->fd, (struct sockaddr *)&local, len) == -1) {
		/* The port went in between: any port on the same address. */
		if (local.ss_family == AF_INET)
			((struct sockaddr_in *)&local)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&local)->sin6_port = 0;
		(void)bind(s->fd, (struct sockaddr *)&local, len);
	}
	s->unconnected = true;
}

/* Unix datagrams: when the server's socket closes, the kernel refuses
 * the next send (ECONNREFUSED) and dissolves the association (ENOTCONN
 * from then on), and a server bound at the path later is never reached.
 * Connect again, as UDP reaches whatever listens at the port now: the
 * socket keeps its own bound address, so replies still find it. Returns 0
 * when connected (the probe may go), else -1 with errno saying why none
 * can be reached (ENOENT: no socket at the path; ECONNREFUSED: nobody
 * bound to it), or the send's errno when reconnecting is not the cure. */
static int
unix_dgram_reconnect(struct session *s)
{
	int e = errno;

	if (s->addr.family != AF_UNIX || (e != ECONNREFUSED && e != ENOTCONN))
		return -1;
	if (connect(s->fd, (const struct sockaddr *)&s->addr.sa, s->addr.len) == -1)
		return -1;
	unix_peer_learn(s); /* maybe another server, bound under another name */
	return 0;
}

/* A datagram probe's slot is reused: its intact echo can no longer be
 * taken back, so its RTT joins the min and max kept outside the ring. */
static void
rtt_fold(struct session *s, double rtt)
{
	if (s->nfolded == 0 || rtt < s->fmin)
		s->fmin = rtt;
	if (s->nfolded == 0 || rtt > s->fmax)
		s->fmax = rtt;
	s->nfolded++;
}

void
probe_rtt_settle(struct session *s)
{
	long long from = s->nsent > s->cap ? s->nsent - s->cap : 0;
	bool any = s->nfolded > 0;

	if (!s->rtt_revoked)
		return;
	s->rtt_revoked = false;
	s->rmin = s->fmin;
	s->rmax = s->fmax;
	for (long long k = from; k < s->nsent; k++) {
		double rtt = (double)RTT(s, k) / 1000.0;
		if (GOT(s, k) != SLOT_ANSWERED)
			continue;
		if (!any || rtt < s->rmin)
			s->rmin = rtt;
		if (!any || rtt > s->rmax)
			s->rmax = rtt;
		any = true;
	}
}

static void
probe_send(struct session *s)
{
	struct client *c = s->t->c;
	size_t size = (size_t)c->o.size;
	long long seq = s->nsent;
	int slot = probe_slot(s, seq);

	if (slot == -1) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		session_finish(s);
		return;
	}
	if (slot == 1) { /* sent again when the sweep makes room */
		s->blocked = true;
		return;
	}
	if (seq >= s->cap && GOT(s, seq) == SLOT_ANSWERED)
		rtt_fold(s, (double)RTT(s, seq - s->cap) / 1000.0);
	AT(s, seq) = evloop_clock_us();
	GOT(s, seq) = SLOT_PENDING;
	s->nsent++;
	if (s->addr.socktype == SOCK_DGRAM) {
		ssize_t n;
		payload_dgram_build(c->seed, (int)(seq & SEQ_MASK), s->tx, size);
		if (s->unconnected)
			n = sendto(s->fd, s->tx, size, MSG_NOSIGNAL, (const struct sockaddr *)&s->addr.sa,
			    s->addr.len);
		else
			n = send(s->fd, s->tx, size, MSG_NOSIGNAL);
		if (n == -1 && unix_dgram_reconnect(s) == 0)
			n = send(s->fd, s->tx, size, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			GOT(s, seq) = SLOT_HELD;
		else if (n == -1)
			dgram_send_failed(s, seq, errno);
		if (more_probes(s))
			schedule_next(s);
		dgram_maybe_finish(s);
		return;
	}
	payload_fill(c->seed, (int)(seq & SEQ_MASK), s->tx, size);
	s->retrans_probe = tcp_total_retrans(s);
	s->overdue = false;
	s->txoff = s->rxlen = 0;
	s->awaiting = true;
	if (s->rd_end != 0) { /* the server closed after the last reply */
		stream_lost(s, s->rd_end == -1 ? "was closed" : "was reset");
		return;
	}
	evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	on_stream_io(c->loop, s->fd, EV_WRITE, s);
}

/* Seqpacket: empty records told from the end (record_recv), and a send
 * buffer that takes a probe as one record where the kernel allows
 * (net.core.wmem_max; the kernel doubles what is asked). */
static void
record_setup(struct session *s)
{
	int one = 1, want = s->t->c->o.size + 4096, have = 0;
	socklen_t len = sizeof(have);

	s->rec_marked = setsockopt(s->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0;
	if (getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &have, &len) == 0 && have < 2 * want)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
}

/* The session connected: its first probe goes now. */
void
probe_start(struct session *s)
{
	struct client *c = s->t->c;
	size_t size = (size_t)c->o.size;

	if (c->o.pmtu && probe_pmtu_start(s))
		return;
	/* Datagram replies land in the client's rxbuf; a stream echo gathers
	 * in rx, the probe's size: stream_bytes() keeps no byte past it (one
	 * more is surplus, counted there). */
	s->tx = malloc(size);
	if (s->addr.socktype != SOCK_DGRAM) /* a record: one byte more shows a longer one */
		s->rx = malloc(s->addr.socktype == SOCK_SEQPACKET ? size + 1 : size);
	if (s->tx == NULL || (s->addr.socktype != SOCK_DGRAM && s->rx == NULL)) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		session_finish(s);
		return;
	}
	evtimer_init(&s->ptimer, on_next_probe, s);
	s->retrans0 = tcp_total_retrans(s);
	s->retransmits = s->retrans0 >= 0 ? 0 : -1;
	if (s->addr.socktype == SOCK_DGRAM) {
		evtimer_init(&s->rtimer, on_sweep, s);
		unix_peer_learn(s);
		dgram_unconnect(s);
		evloop_fd_set(c->loop, s->fd, EV_READ, on_dgram_io, s);
	} else
		evtimer_init(&s->rtimer, on_stream_timeout, s);
	if (s->addr.socktype == SOCK_SEQPACKET)
		record_setup(s);
	probe_send(s);
}

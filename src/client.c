#include "common.h"

#include <fcntl.h>
#include <math.h>
#include <sys/resource.h>

#include "addriter.h"
#include "client.h"
#include "log.h"
#include "payload.h"
#include "sock.h"

#define ERRLEN      512
#define PIPE_WINDOW (1u << 20) /* sent but not yet echoed, before stdin waits */
/* Datagram probes awaiting a reply or the timeout, at most: a ring that
 * also remembers answered ones (duplicates, late replies) as long as it
 * can. When it is full the next probe waits for the oldest to be settled,
 * so memory stays bounded at any count and interval (-c 0 -i 0). */
#define PROBE_RING_MIN 64
#define PROBE_RING_MAX (1 << 16)
/* The sequence number in a datagram header: 31 bits, wrapping. */
#define SEQ_MASK 0x7fffffffLL
/* --all: sessions (sockets) open at once across all targets; the rest
 * wait their turn, so that a name with hundreds of addresses neither runs
 * out of descriptors nor starves the resolver of them. */
#define ALL_INFLIGHT_MAX 32

struct target;

/* What became of a datagram probe, kept in the ring (uint8_t each). */
enum probe_slot_state {
	SLOT_PENDING = 0, /* sent, no reply yet, not yet timed out */
	SLOT_ANSWERED,    /* a reply came (so another is a duplicate) */
	SLOT_LOST         /* reported lost: a reply now is late */
};

struct session {
	struct session *next;
	struct target *t;
	struct addr addr;
	int fd;
	bool connected, done;
	uint64_t t0_us;
	double connect_ms;
	struct evtimer ctimer; /* connect timeout */
	struct evtimer ptimer; /* next probe */
	struct evtimer rtimer; /* reply timeout (stream, pipe) or loss sweep (dgram) */
	/* probes */
	long long nsent, received, mismatched, dups, late, unrecognised, reordered, sweep;
	long long maxseq; /* highest sequence number answered (reordering) */
	bool blocked;     /* a probe waits for room in the ring */
	uint64_t *sent_at; /* rings of cap entries, seq & (cap - 1) */
	uint8_t *got;      /* enum probe_slot_state */
	long long cap;
	double rmin, rmax, rsum, rsq;
	unsigned char *tx, *rx;
	size_t txoff, rxlen;
	bool awaiting;
	bool last_ok;     /* the last stream reply was counted intact */
	double last_rtt;
	bool draining;    /* stream: after the last reply, awaiting the close */
	int rd_end;       /* stream read side ended between probes: -1 EOF, or errno */
	/* pipe */
	unsigned char *unacked;
	size_t unacked_len, txlen;
	uint64_t bytes_sent, bytes_received;
	bool stdin_eof;
	bool closing;     /* input ended and sent: the -W deadline runs */
	char err[ERRLEN];
};

struct target {
	struct target *next;
	struct client *c;
	char text[ADDR_STRLEN + ADDR_HOSTMAX];
	struct addr_spec spec;
	int port;
	struct resolve_query *q[2];
	struct addriter it;
	struct evtimer pace;
	struct evtimer deadline;  /* race: the whole race within the connect timeout */
	bool raced;               /* the deadline was armed: once, at the first attempt */
	bool expired;
	struct addr_list queued;  /* --all: addresses waiting for a free slot */
	size_t nqueued_started;
	struct session *sessions;
	struct session *winner;
	bool done;
	char err[ERRLEN];  /* every failed connection attempt */
	char rerr[ERRLEN]; /* every failed lookup */
};

struct client {
	struct evloop *loop;
	struct resolver *res;
	struct client_opts o;
	struct client_report rep;
	struct target *targets, **tail;
	int active;
	int inflight, inflight_max; /* --all sessions open, and the bound */
	struct evtimer kick;        /* --all: the deferred all_pump() */
	bool stopping;
	uint64_t seed;
	unsigned char rxbuf[65536];
};

static void session_connected(struct session *s);
static void session_finish(struct session *s);
static void target_pump(struct target *t);
static void all_kick(struct client *c);
static int session_start(struct target *t, const struct addr *a);

/* Arm a timer for a deadline in monotonic microseconds, rounded up. */
static void
arm_at_us(struct client *c, struct evtimer *t, uint64_t due)
{
	uint64_t now = evloop_clock_us();

	evloop_timer_arm(c->loop, t, due > now ? (due - now + 999) / 1000 : 0);
}

static const char *
where(const struct addr *a, char *buf, size_t len)
{
	char host[ADDR_STRLEN];

	addr_format_host(a, host, sizeof(host));
	if (a->family == AF_UNIX)
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "%s port %d", host, addr_port(a));
	return buf;
}

/* Words for a failed connection, naming where. */
static void
connect_error(struct session *s, int e)
{
	char w[ADDR_STRLEN + 16];

	where(&s->addr, w, sizeof(w));
	switch (e) {
	case ECONNREFUSED: snprintf(s->err, sizeof(s->err), "connection refused by %s", w); break;
	case ETIMEDOUT:
		snprintf(s->err, sizeof(s->err), "no answer from %s within %d ms", w,
		    s->t->c->o.connect_timeout_ms);
		break;
	case ENETUNREACH: snprintf(s->err, sizeof(s->err), "network unreachable for %s", w); break;
	case EHOSTUNREACH: snprintf(s->err, sizeof(s->err), "host unreachable: %s", w); break;
	case ENOENT: snprintf(s->err, sizeof(s->err), "no socket at %s", w); break;
	case EAGAIN: snprintf(s->err, sizeof(s->err), "listen queue full at %s", w); break;
	case EAFNOSUPPORT:
		snprintf(s->err, sizeof(s->err), "%s not supported here (%s)",
		    addr_family_name(s->addr.family), w);
		break;
	default: snprintf(s->err, sizeof(s->err), "connect to %s: %s", w, strerror(e));
	}
}

/* ---- sessions: one socket to one address ---- */

static void
session_close(struct session *s)
{
	struct evloop *loop = s->t->c->loop;

	evloop_timer_cancel(loop, &s->ctimer);
	evloop_timer_cancel(loop, &s->ptimer);
	evloop_timer_cancel(loop, &s->rtimer);
	if (s->fd != -1) {
		evloop_fd_del(loop, s->fd);
		close(s->fd);
		s->fd = -1;
	}
}

static void
session_free(struct session *s)
{
	session_close(s);
	free(s->sent_at);
	free(s->got);
	free(s->tx);
	free(s->rx);
	free(s->unacked);
	free(s);
}

static void
target_done(struct target *t)
{
	struct client *c = t->c;

	if (t->done)
		return;
	t->done = true;
	evloop_timer_cancel(c->loop, &t->pace);
	evloop_timer_cancel(c->loop, &t->deadline);
	if (c->rep.target_done != NULL && c->o.mode == CLIENT_ALL)
		c->rep.target_done(c->rep.arg, t->text);
	if (--c->active == 0)
		evloop_stop(c->loop);
}

static void
summarize(struct session *s, struct session_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->target = s->t->text;
	sum->addr = &s->addr;
	sum->connected = s->connected;
	sum->connect_ms = s->connect_ms;
	sum->sent = s->nsent;
	sum->received = s->received;
	sum->mismatched = s->mismatched;
	sum->duplicates = s->dups;
	sum->late = s->late;
	sum->unrecognised = s->unrecognised;
	sum->reordered = s->reordered;
	if (s->received > 0) {
		double avg = s->rsum / s->received, var = s->rsq / s->received - avg * avg;
		sum->rtt_min = s->rmin;
		sum->rtt_max = s->rmax;
		sum->rtt_avg = avg;
		sum->rtt_mdev = var > 0 ? sqrt(var) : 0;
	}
	sum->error = s->err[0] != '\0' ? s->err : NULL;
	sum->pipe = s->t->c->o.pipe;
	sum->bytes_sent = s->bytes_sent;
	sum->bytes_received = s->bytes_received;
}

/* Are all sessions of the target over? Then so is the target. */
static void
target_check(struct target *t)
{
	/* A connect that fails at once (a unix path with no socket) ends the
	 * target inside target_pump, which then checks again. */
	if (t->done)
		return;
	for (struct session *s = t->sessions; s != NULL; s = s->next)
		if (!s->done)
			return;
	if (t->q[0] != NULL || t->q[1] != NULL)
		return;
	if (t->nqueued_started < t->queued.n)
		return;
	if (t->c->o.mode != CLIENT_ALL && t->winner == NULL) {
		struct session_summary sum;
		if (!addriter_exhausted(&t->it) && !t->expired)
			return;
		/* Every attempt failed: the target's summary says why, each. */
		memset(&sum, 0, sizeof(sum));
		sum.target = t->text;
		sum.error = t->err[0] != '\0' ? t->err : "no address to connect to";
		t->c->rep.summary(t->c->rep.arg, &sum);
	}
	target_done(t);
}

static void
session_finish(struct session *s)
{
	struct session_summary sum;
	struct target *t = s->t;

	if (s->done)
		return;
	session_close(s);
	s->done = true;
	if (s->connected || t->c->o.mode == CLIENT_ALL) {
		summarize(s, &sum);
		t->c->rep.summary(t->c->rep.arg, &sum);
	}
	if (t->c->o.mode == CLIENT_ALL) {
		t->c->inflight--;
		all_kick(t->c);
	}
	target_check(t);
}

static void target_kick(struct target *t);

static void
session_failed(struct session *s, int e)
{
	struct target *t = s->t;
	size_t len = strlen(t->err);

	connect_error(s, e);
	/* In a race the target's error lists every attempt. */
	snprintf(t->err + len, sizeof(t->err) - len, "%s%s", len ? "; " : "", s->err);
	if (t->c->o.mode == CLIENT_ALL) {
		session_finish(s);
		return;
	}
	session_close(s);
	s->done = true;
	addriter_failed(&t->it, evloop_now(t->c->loop));
	target_kick(t);
}

/* Pump the target's race from the loop, not from here: a failure may
 * come from inside target_pump() (a connect that fails at once), and
 * pumping there would recurse once per address. */
static void
target_kick(struct target *t)
{
	evloop_timer_arm(t->c->loop, &t->pace, 0);
}

static void
on_connect_timeout(struct evloop *loop, void *arg)
{
	(void)loop;
	session_failed(arg, ETIMEDOUT);
}

static void
on_connect(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;

	(void)loop;
	(void)events;
	if (sock_connect_result(fd) == -1)
		session_failed(s, errno);
	else
		session_connected(s);
}

/* Returns -1 only when no session could be made at all. */
static int
session_start(struct target *t, const struct addr *a)
{
	struct client *c = t->c;
	struct session *s = calloc(1, sizeof(*s));
	int inprog = 0;

	if (s == NULL) {
		size_t len = strlen(t->err);
		snprintf(t->err + len, sizeof(t->err) - len, "%sout of memory", len ? "; " : "");
		return -1;
	}
	s->t = t;
	s->addr = *a;
	s->fd = -1;
	evtimer_init(&s->ctimer, on_connect_timeout, s);
	s->next = t->sessions;
	t->sessions = s;
	s->t0_us = evloop_clock_us();
	if (c->o.mode == CLIENT_ALL)
		c->inflight++;
	else if (c->o.mode == CLIENT_RACE && !t->raced) {
		/* A flag, not evtimer_armed(): a deadline that is due but not
		 * yet run looks unarmed and would be pushed back. */
		t->raced = true;
		evloop_timer_arm(c->loop, &t->deadline, (uint64_t)c->o.connect_timeout_ms);
	}
	s->fd = sock_connect(a, &inprog);
	if (s->fd != -1 && inprog && a->family == AF_UNIX && a->socktype != SOCK_DGRAM) {
		/* A unix stream connect never goes on in the background: it
		 * is done, or (EAGAIN) the listener's queue is full and it
		 * never will be; a later writability would look connected. */
		close(s->fd);
		s->fd = -1;
		session_failed(s, EAGAIN);
	} else if (s->fd == -1)
		session_failed(s, errno);
	else if (!inprog)
		session_connected(s);
	else {
		evloop_fd_set(c->loop, s->fd, EV_WRITE, on_connect, s);
		evloop_timer_arm(c->loop, &s->ctimer, (uint64_t)c->o.connect_timeout_ms);
	}
	return 0;
}

/* ---- targets: resolution and the connection race ---- */

static void
on_pace(struct evloop *loop, void *arg)
{
	(void)loop;
	target_pump(arg);
}

static void
target_pump(struct target *t)
{
	struct client *c = t->c;

	while (t->winner == NULL && !c->stopping && !t->expired) {
		const struct addr *a;
		uint64_t wait = 0;
		enum addriter_step st = addriter_next(&t->it, evloop_now(c->loop), &a, &wait);

		if (st == ADDRITER_START) {
			/* The attempt was counted in flight: one that could not
			 * even start has failed, or the race would wait forever. */
			if (session_start(t, a) == -1)
				addriter_failed(&t->it, evloop_now(c->loop));
			continue;
		}
		if (st == ADDRITER_WAIT)
			evloop_timer_arm(c->loop, &t->pace, wait);
		break;
	}
	target_check(t);
}

/* The race is over: attempts still connecting fail, addresses not tried
 * are counted in the error, and the target ends. */
static void
on_race_deadline(struct evloop *loop, void *arg)
{
	struct target *t = arg;
	size_t started = 0, known, len;

	(void)loop;
	t->expired = true;
	for (int i = 0; i < 2; i++) {
		resolve_cancel(t->q[i]);
		t->q[i] = NULL;
	}
	for (struct session *s = t->sessions; s != NULL; s = s->next) {
		started++;
		if (s->done)
			continue;
		len = strlen(t->err);
		connect_error(s, ETIMEDOUT);
		snprintf(t->err + len, sizeof(t->err) - len, "%s%s", len ? "; " : "", s->err);
		session_close(s);
		s->done = true;
	}
	known = addriter_count(&t->it);
	if (known > started) { /* put first: a long list of attempts gets cut */
		char head[96];
		size_t hl, tl = strlen(t->err);
		snprintf(head, sizeof(head), "%zu of %zu addresses not tried within %d ms%s",
		    known - started, known, t->c->o.connect_timeout_ms, tl ? "; " : "");
		hl = strlen(head);
		if (hl + tl >= sizeof(t->err))
			tl = sizeof(t->err) - 1 - hl;
		memmove(t->err + hl, t->err, tl);
		memcpy(t->err, head, hl);
		t->err[hl + tl] = '\0';
	}
	target_check(t);
}

/* --all: start queued addresses, target by target, while slots are free.
 * A session that ends frees its slot through all_kick(), never by calling
 * this from inside it: a start that fails at once must not recurse. */
static void
all_pump(struct client *c)
{
	for (struct target *t = c->targets; t != NULL; t = t->next) {
		while (!c->stopping && c->inflight < c->inflight_max &&
		    t->nqueued_started < t->queued.n)
			session_start(t, &t->queued.v[t->nqueued_started++]);
		target_check(t);
	}
}

static void
on_kick(struct evloop *loop, void *arg)
{
	(void)loop;
	all_pump(arg);
}

static void
all_kick(struct client *c)
{
	evloop_timer_arm(c->loop, &c->kick, 0);
}

static void
target_resolve_failed(struct target *t, const char *errmsg)
{
	struct session_summary sum;

	memset(&sum, 0, sizeof(sum));
	sum.target = t->text;
	sum.error = errmsg;
	sum.resolve_failed = true;
	t->c->rep.summary(t->c->rep.arg, &sum);
	target_done(t);
}

static void
on_resolved(struct target *t, int i, enum resolve_status st, struct addr_list *list,
    const char *errmsg)
{
	struct client *c = t->c;
	bool all_in;

	t->q[i] = NULL;
	all_in = t->q[0] == NULL && t->q[1] == NULL;
	if (st != RESOLVE_OK) {
		size_t len = strlen(t->rerr);
		snprintf(t->rerr + len, sizeof(t->rerr) - len, "%s%s", len ? "; " : "", errmsg);
	}
	if (c->o.mode == CLIENT_ALL)
		for (size_t k = 0; k < list->n; k++)
			addr_list_add(&t->queued, &list->v[k]); /* out of memory: not tried */
	else
		addriter_answer(&t->it, i == 0, list, evloop_now(c->loop));
	addr_list_free(list);
	if (all_in && t->sessions == NULL && t->queued.n == 0 && addriter_count(&t->it) == 0) {
		/* Every lookup failed: a resolution failure (exit 2). */
		target_resolve_failed(t, t->rerr);
		return;
	}
	if (c->o.mode == CLIENT_ALL)
		all_pump(c);
	else
		target_pump(t);
}

static void
on_resolved6(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg)
{
	on_resolved(arg, 0, st, list, errmsg);
}

static void
on_resolved4(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg)
{
	on_resolved(arg, 1, st, list, errmsg);
}

/* Names get an AAAA and an A lookup of their own, so that connecting can
 * start on the first answer (RFC 8305 3). Literals, localhost and unix
 * paths are answered locally by one lookup. */
static int
target_resolve(struct target *t)
{
	struct client *c = t->c;
	struct addr_hints h = { c->o.family, c->o.socktype == SOCK_DGRAM ? ADDR_DGRAM : ADDR_STREAM,
		false, t->port };
	bool split = t->spec.kind == ADDR_KIND_HOST && t->spec.literal == 0 && c->o.family == AF_UNSPEC;

	/* One lookup (q[1]) unless split: then AAAA is pending too. */
	addriter_init(&t->it, split, true, c->o.attempt_delay_ms, c->o.mode == CLIENT_SEQUENTIAL);
	if (!split) {
		t->q[1] = resolve_start(c->res, &t->spec, &h, on_resolved4, t);
		return t->q[1] == NULL ? -1 : 0;
	}
	h.family = AF_INET6;
	t->q[0] = resolve_start(c->res, &t->spec, &h, on_resolved6, t);
	h.family = AF_INET;
	t->q[1] = resolve_start(c->res, &t->spec, &h, on_resolved4, t);
	return t->q[0] == NULL || t->q[1] == NULL ? -1 : 0;
}

/* ---- probes ---- */

#define AT(s, seq)  ((s)->sent_at[(seq) & ((s)->cap - 1)])
#define GOT(s, seq) ((s)->got[(seq) & ((s)->cap - 1)])

/* The oldest probe whose slot must be kept: unsettled datagrams; for a
 * stream only the probe in flight. */
static long long
oldest_needed(const struct session *s)
{
	return s->addr.socktype == SOCK_DGRAM ? s->sweep : s->nsent;
}

/* Room in the ring for probe seq: 0, or 1 when it is full (the probe
 * must wait), or -1 when out of memory. Growing keeps what it can. */
static int
probe_slot(struct session *s, long long seq)
{
	long long cap, from;
	uint64_t *at;
	uint8_t *got;

	if (seq - oldest_needed(s) < s->cap)
		return 0;
	if (s->cap >= PROBE_RING_MAX)
		return 1;
	cap = s->cap ? s->cap * 2 : PROBE_RING_MIN;
	at = calloc((size_t)cap, sizeof(*at));
	got = calloc((size_t)cap, 1);
	if (at == NULL || got == NULL) {
		free(at);
		free(got);
		return -1;
	}
	from = seq - s->cap > 0 ? seq - s->cap : 0;
	for (long long k = from; k < seq; k++) {
		at[k & (cap - 1)] = AT(s, k);
		got[k & (cap - 1)] = GOT(s, k);
	}
	free(s->sent_at);
	free(s->got);
	s->sent_at = at;
	s->got = got;
	s->cap = cap;
	return 0;
}

static void
report(struct session *s, long long seq, int bytes, double rtt, enum probe_status st,
    const char *err)
{
	struct probe_result r = { s->t->text, &s->addr, seq + 1, bytes, rtt, st, err };

	s->t->c->rep.probe(s->t->c->rep.arg, &r);
}

static void
record_rtt(struct session *s, double rtt)
{
	if (s->received == 0 || rtt < s->rmin)
		s->rmin = rtt;
	if (rtt > s->rmax)
		s->rmax = rtt;
	s->rsum += rtt;
	s->rsq += rtt * rtt;
	s->received++;
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

	arm_at_us(c, &s->ptimer, AT(s, s->nsent - 1) + (uint64_t)c->o.interval_ms * 1000);
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

/* Stream: the reply is complete. */
static void
stream_reply_done(struct session *s)
{
	struct client *c = s->t->c;
	long long seq = s->nsent - 1;
	size_t size = (size_t)c->o.size;
	double rtt = (double)(evloop_clock_us() - AT(s, seq)) / 1000.0;
	size_t d = payload_first_diff(s->tx, s->rx, size);

	s->awaiting = false;
	s->last_ok = d == size;
	s->last_rtt = rtt;
	evloop_timer_cancel(c->loop, &s->rtimer);
	if (d < size) {
		char msg[96];
		snprintf(msg, sizeof(msg), "echo differs from sent data at byte %zu", d);
		s->mismatched++;
		snprintf(s->err, sizeof(s->err), "%s", msg);
		report(s, seq, (int)size, rtt, PROBE_MISMATCH, msg);
	} else {
		record_rtt(s, rtt);
		report(s, seq, (int)size, rtt, PROBE_OK, NULL);
	}
	if (more_probes(s))
		schedule_next(s);
	else
		stream_drain(s);
}

/* Bytes beyond the probe's echo: the last probe's echo was too long. The
 * stream is now out of step with the probes, so the session ends. */
static void
stream_surplus(struct session *s, size_t extra)
{
	struct client *c = s->t->c;
	long long seq = s->nsent - 1;
	size_t size = (size_t)c->o.size, d = size;
	double rtt = s->last_rtt;
	char msg[96];

	if (s->awaiting) {
		rtt = (double)(evloop_clock_us() - AT(s, seq)) / 1000.0;
		d = payload_first_diff(s->tx, s->rx, size);
		s->awaiting = false;
		s->last_ok = false;
		s->mismatched++;
	} else if (s->last_ok) {
		/* Reported intact, counted received: it was not. (min and
		 * max keep it; the average and deviation do not.) */
		s->received--;
		s->rsum -= rtt;
		s->rsq -= rtt * rtt;
		s->mismatched++;
	}
	if (d < size)
		snprintf(msg, sizeof(msg), "echo differs from sent data at byte %zu", d);
	else
		snprintf(msg, sizeof(msg), "echo has %zu byte%s more than sent", extra,
		    extra == 1 ? "" : "s");
	snprintf(s->err, sizeof(s->err), "%s", msg);
	report(s, seq, (int)(size + extra), rtt, PROBE_MISMATCH, msg);
	session_finish(s);
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

static void
stream_lost(struct session *s, const char *why)
{
	char w[ADDR_STRLEN + 16];

	where(&s->addr, w, sizeof(w));
	if (strcmp(why, "timeout") == 0)
		snprintf(s->err, sizeof(s->err), "no reply from %s within %d ms", w,
		    s->t->c->o.timeout_ms);
	else
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

static void
on_stream_timeout(struct evloop *loop, void *arg)
{
	struct session *s = arg;

	(void)loop;
	if (s->draining) /* the server kept the connection open: its right */
		session_finish(s);
	else
		stream_lost(s, "timeout");
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
		else if (errno != EAGAIN && errno != EINTR) {
			stream_lost(s, errno == ECONNRESET || errno == EPIPE ? "was reset" : "failed");
			return;
		}
	}
	if ((events & EV_READ) && s->rd_end == 0) {
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
		arm_at_us(c, &s->rtimer, AT(s, s->sweep) + (uint64_t)c->o.timeout_ms * 1000);
}

/* Finished when no more probes go out and every one sent is accounted for. */
static void
dgram_maybe_finish(struct session *s)
{
	while (s->sweep < s->nsent && GOT(s, s->sweep) != SLOT_PENDING)
		s->sweep++;
	if (!more_probes(s) && s->sweep >= s->nsent)
		session_finish(s);
	else if (s->blocked && s->nsent - s->sweep < s->cap) {
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

	where(&s->addr, w, sizeof(w));
	for (; s->sweep < s->nsent && AT(s, s->sweep) + limit <= now; s->sweep++) {
		if (GOT(s, s->sweep) != SLOT_PENDING)
			continue;
		GOT(s, s->sweep) = SLOT_LOST;
		snprintf(msg, sizeof(msg), "no reply from %s within %d ms", w, c->o.timeout_ms);
		if (s->err[0] == '\0')
			snprintf(s->err, sizeof(s->err), "%s", msg);
		report(s, s->sweep, c->o.size, 0, PROBE_LOST, msg);
	}
	dgram_maybe_finish(s);
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

static void
dgram_reply(struct session *s, const unsigned char *p, size_t n)
{
	struct client *c = s->t->c;
	size_t size = (size_t)c->o.size, d;
	int hdr = payload_dgram_seq(p, n);
	long long seq = dgram_full_seq(s, hdr);
	double rtt;
	char msg[96];

	if (seq < 0) {
		dgram_unrecognised(s, n);
		return;
	}
	d = payload_dgram_diff(c->seed, hdr, p, n, size);
	if (s->nsent - seq > s->cap) {
		/* Older than the ring remembers: settled long ago. */
		if (n != size || d < size) {
			dgram_unrecognised(s, n);
			return;
		}
		s->late++;
		report(s, seq, (int)n, 0, PROBE_LATE, "reply after the timeout");
		return;
	}
	rtt = (double)(evloop_clock_us() - AT(s, seq)) / 1000.0;
	if (GOT(s, seq) == SLOT_ANSWERED) {
		s->dups++;
		report(s, seq, (int)n, rtt, PROBE_DUPLICATE, "duplicate reply");
		return;
	}
	/* A first reply to a probe older than one answered already. */
	if (seq < s->maxseq)
		s->reordered++;
	else
		s->maxseq = seq;
	if (GOT(s, seq) == SLOT_LOST || rtt > c->o.timeout_ms) {
		s->late++;
		GOT(s, seq) = SLOT_ANSWERED;
		report(s, seq, (int)n, rtt, PROBE_LATE, "reply after the timeout");
		return;
	}
	GOT(s, seq) = SLOT_ANSWERED;
	if (n != size || d < size) {
		s->mismatched++;
		if (n != size)
			snprintf(msg, sizeof(msg), "echo of %zu bytes, %zu were sent", n, size);
		else
			snprintf(msg, sizeof(msg), "echo differs from sent data at byte %zu", d);
		snprintf(s->err, sizeof(s->err), "%s", msg);
		report(s, seq, (int)n, rtt, PROBE_MISMATCH, msg);
		return;
	}
	record_rtt(s, rtt);
	report(s, seq, (int)n, rtt, PROBE_OK, NULL);
}

static void
on_dgram_io(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	struct client *c = s->t->c;

	(void)loop;
	(void)events;
	for (int i = 0; i < 64 && !s->done; i++) {
		ssize_t n = recv(fd, c->rxbuf, sizeof(c->rxbuf), MSG_TRUNC);
		if (n == -1) {
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) {
				/* An ICMP error: the probe it answers is lost; say why. */
				connect_error(s, errno);
				continue;
			}
			break;
		}
		dgram_reply(s, c->rxbuf, (size_t)n > sizeof(c->rxbuf) ? sizeof(c->rxbuf) : (size_t)n);
	}
	if (!s->done)
		dgram_maybe_finish(s);
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
	AT(s, seq) = evloop_clock_us();
	GOT(s, seq) = SLOT_PENDING;
	s->nsent++;
	if (s->addr.socktype == SOCK_DGRAM) {
		payload_dgram_build(c->seed, (int)(seq & SEQ_MASK), s->tx, size);
		if (send(s->fd, s->tx, size, MSG_NOSIGNAL) == -1 && errno != EAGAIN)
			connect_error(s, errno); /* counted lost by the sweep */
		if (more_probes(s))
			schedule_next(s);
		dgram_maybe_finish(s);
		return;
	}
	payload_fill(c->seed, (int)(seq & SEQ_MASK), s->tx, size);
	s->txoff = s->rxlen = 0;
	s->awaiting = true;
	if (s->rd_end != 0) { /* the server closed after the last reply */
		stream_lost(s, s->rd_end == -1 ? "was closed" : "was reset");
		return;
	}
	evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	on_stream_io(c->loop, s->fd, EV_WRITE, s);
}

/* ---- pipe mode: standard input out, the echo to standard output ---- */

static void pipe_update(struct session *s);

static void
pipe_end(struct session *s)
{
	char w[ADDR_STRLEN + 16];

	where(&s->addr, w, sizeof(w));
	if (s->err[0] == '\0' && s->unacked_len > 0) /* what waits in tx is counted there too */
		snprintf(s->err, sizeof(s->err), "echo from %s ended %zu bytes short", w,
		    s->unacked_len);
	session_finish(s);
}

/* While input flows: no progress within -W is the end. Once the input
 * has ended and is sent: -W from then, however the echo trickles. */
static void
on_pipe_timeout(struct evloop *loop, void *arg)
{
	struct session *s = arg;
	int ms = s->t->c->o.timeout_ms;
	char w[ADDR_STRLEN + 16];

	(void)loop;
	where(&s->addr, w, sizeof(w));
	if (!s->closing)
		snprintf(s->err, sizeof(s->err), "no reply from %s within %d ms", w, ms);
	else if (s->unacked_len > 0)
		snprintf(s->err, sizeof(s->err),
		    "echo from %s incomplete %d ms after the end of input: %zu bytes missing", w, ms,
		    s->unacked_len);
	/* else: all echoed intact, the server just did not close */
	session_finish(s);
}

/* Echoed bytes: those that match what went out are passed on; the first
 * wrong byte, or the first byte past what was sent, ends the session
 * (and is not written). Returns -1 when the session must end. */
static int
pipe_received(struct session *s, const unsigned char *p, size_t n)
{
	size_t cmp = n < s->unacked_len ? n : s->unacked_len;
	size_t d = payload_first_diff(s->unacked, p, cmp);

	for (size_t off = 0; off < d;) {
		ssize_t w = write(STDOUT_FILENO, p + off, d - off);
		if (w == -1 && errno != EINTR) {
			snprintf(s->err, sizeof(s->err), "standard output: %s", strerror(errno));
			return -1;
		}
		off += w > 0 ? (size_t)w : 0;
	}
	if (d < cmp)
		snprintf(s->err, sizeof(s->err), "echo differs from sent data at byte %llu",
		    (unsigned long long)(s->bytes_received + d));
	else if (n > cmp)
		snprintf(s->err, sizeof(s->err), "echo has %zu byte%s more than sent", n - cmp,
		    n - cmp == 1 ? "" : "s");
	memmove(s->unacked, s->unacked + d, s->unacked_len - d);
	s->unacked_len -= d;
	s->bytes_received += d;
	return d < n ? -1 : 0;
}

static void
on_pipe_sock(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	struct client *c = s->t->c;
	ssize_t n;

	(void)loop;
	if ((events & EV_WRITE) && s->txlen > 0) {
		n = send(fd, s->tx, s->txlen, MSG_NOSIGNAL);
		if (n > 0) {
			memmove(s->tx, s->tx + n, s->txlen - (size_t)n);
			s->txlen -= (size_t)n;
		} else if (errno != EAGAIN && errno != EINTR) {
			pipe_end(s);
			return;
		}
	}
	if (events & EV_READ) {
		n = recv(fd, c->rxbuf, sizeof(c->rxbuf), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR) ||
		    (n > 0 && pipe_received(s, c->rxbuf, (size_t)n) == -1)) {
			pipe_end(s);
			return;
		}
		if (n > 0 && !s->closing)
			evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	}
	pipe_update(s);
}

static void
on_pipe_stdin(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	size_t room = PIPE_WINDOW - s->unacked_len;
	ssize_t n;

	(void)loop;
	(void)events;
	n = read(fd, s->tx, room < 65536 ? room : 65536);
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		s->stdin_eof = true;
	} else {
		memcpy(s->unacked + s->unacked_len, s->tx, (size_t)n);
		s->unacked_len += (size_t)n;
		s->txlen = (size_t)n;
		s->bytes_sent += (uint64_t)n;
	}
	pipe_update(s);
}

/* Watch stdin only while nothing waits to be sent and the window has
 * room; half-close once stdin is done and everything is out. */
static void
pipe_update(struct session *s)
{
	struct client *c = s->t->c;
	bool read_stdin = !s->stdin_eof && s->txlen == 0 && s->unacked_len < PIPE_WINDOW;

	if (evloop_fd_set(c->loop, STDIN_FILENO, read_stdin ? EV_READ : 0, on_pipe_stdin, s) == -1) {
		s->stdin_eof = true;
		snprintf(s->err, sizeof(s->err), "cannot watch standard input: %s", strerror(errno));
	}
	if (s->stdin_eof && s->txlen == 0 && !s->closing && !s->done && s->fd != -1) {
		shutdown(s->fd, SHUT_WR);
		s->closing = true;
		evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	}
	if (!s->closing && s->unacked_len > 0 && !evtimer_armed(&s->rtimer))
		evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	if (!s->closing && s->unacked_len == 0)
		evloop_timer_cancel(c->loop, &s->rtimer);
	evloop_fd_set(c->loop, s->fd, EV_READ | (s->txlen > 0 ? EV_WRITE : 0), on_pipe_sock, s);
}

/* ---- the winner ---- */

static void
session_connected(struct session *s)
{
	struct target *t = s->t;
	struct client *c = t->c;
	size_t size = (size_t)c->o.size;

	evloop_timer_cancel(c->loop, &s->ctimer);
	s->connected = true;
	s->connect_ms = (double)(evloop_clock_us() - s->t0_us) / 1000.0;
	if (c->o.mode != CLIENT_ALL) {
		/* First to connect wins; the others are cancelled. */
		t->winner = s;
		evloop_timer_cancel(c->loop, &t->pace);
		evloop_timer_cancel(c->loop, &t->deadline);
		for (struct session *o = t->sessions; o != NULL; o = o->next)
			if (o != s && !o->done) {
				session_close(o);
				o->done = true;
			}
	}
	if (c->o.pipe) {
		s->tx = malloc(65536);
		s->unacked = malloc(PIPE_WINDOW);
		evtimer_init(&s->rtimer, on_pipe_timeout, s);
		if (s->tx == NULL || s->unacked == NULL) {
			snprintf(s->err, sizeof(s->err), "out of memory");
			session_finish(s);
			return;
		}
		pipe_update(s);
		return;
	}
	/* Datagram replies land in the client's rxbuf; a stream echo gathers
	 * in rx, one byte longer than the probe so an over-long echo shows. */
	s->tx = malloc(size);
	if (s->addr.socktype != SOCK_DGRAM)
		s->rx = malloc(size + 1);
	if (s->tx == NULL || (s->addr.socktype != SOCK_DGRAM && s->rx == NULL)) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		session_finish(s);
		return;
	}
	evtimer_init(&s->ptimer, on_next_probe, s);
	if (s->addr.socktype == SOCK_DGRAM) {
		evtimer_init(&s->rtimer, on_sweep, s);
		evloop_fd_set(c->loop, s->fd, EV_READ, on_dgram_io, s);
	} else
		evtimer_init(&s->rtimer, on_stream_timeout, s);
	probe_send(s);
}

/* ---- the client ---- */

/* Two descriptors a session at most leaves room for the resolver's. */
static int
all_inflight_max(void)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return ALL_INFLIGHT_MAX;
	room = rl.rlim_cur > 32 ? (rl.rlim_cur - 32) / 2 : 1;
	return room < ALL_INFLIGHT_MAX ? (int)(room > 0 ? room : 1) : ALL_INFLIGHT_MAX;
}

int
client_new(struct client **out, struct evloop *loop, const struct client_opts *o,
    const struct client_report *rep, char *err, size_t errlen)
{
	struct client *c = calloc(1, sizeof(*c));
	uint64_t seed = evloop_clock_us() ^ ((uint64_t)getpid() << 32);
	int fd;

	*out = NULL;
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->loop = loop;
	c->o = *o;
	c->rep = *rep;
	c->inflight_max = all_inflight_max();
	c->tail = &c->targets;
	evtimer_init(&c->kick, on_kick, c);
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		if (read(fd, &c->seed, sizeof(c->seed)) != (ssize_t)sizeof(c->seed))
			c->seed = 0;
		close(fd);
	}
	c->seed ^= seed;
	if (resolver_new(&c->res, loop, &o->resolve, err, errlen) == -1) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
client_free(struct client *c)
{
	struct target *t, *next;

	if (c == NULL)
		return;
	for (t = c->targets; t != NULL; t = next) {
		next = t->next;
		resolve_cancel(t->q[0]);
		resolve_cancel(t->q[1]);
		while (t->sessions != NULL) {
			struct session *s = t->sessions;
			t->sessions = s->next;
			session_free(s);
		}
		evloop_timer_cancel(c->loop, &t->pace);
		evloop_timer_cancel(c->loop, &t->deadline);
		addriter_free(&t->it);
		addr_list_free(&t->queued);
		free(t);
	}
	evloop_timer_cancel(c->loop, &c->kick);
	resolver_free(c->res);
	free(c);
}

int
client_add(struct client *c, const char *text, int port, char *err, size_t errlen)
{
	struct target *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (addr_parse(&t->spec, text, err, errlen) == -1) {
		free(t);
		return -1;
	}
	snprintf(t->text, sizeof(t->text), "%s", text);
	log_oneline(t->text); /* it starts every line printed about the target */
	t->c = c;
	t->port = port >= 0 ? port : c->o.port;
	if (t->spec.port >= 0)
		t->port = t->spec.port;
	evtimer_init(&t->pace, on_pace, t);
	evtimer_init(&t->deadline, on_race_deadline, t);
	*c->tail = t;
	c->tail = &t->next;
	return 0;
}

int
client_run(struct client *c)
{
	for (struct target *t = c->targets; t != NULL; t = t->next) {
		c->active++;
		if (target_resolve(t) == -1)
			target_resolve_failed(t, "out of memory");
	}
	if (c->active > 0)
		evloop_run(c->loop);
	return 0;
}

void
client_stop(struct client *c)
{
	c->stopping = true;
	for (struct target *t = c->targets; t != NULL; t = t->next) {
		for (struct session *s = t->sessions; s != NULL; s = s->next)
			if (s->connected && !s->done)
				session_finish(s);
		if (!t->done) {
			resolve_cancel(t->q[0]);
			resolve_cancel(t->q[1]);
			t->q[0] = t->q[1] = NULL;
			for (struct session *s = t->sessions; s != NULL; s = s->next)
				if (!s->done) {
					session_close(s);
					s->done = true;
				}
			target_done(t);
		}
	}
	evloop_stop(c->loop);
}

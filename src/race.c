/* The connection race: targets, their lookups, and the sessions (one per
 * connection attempt) that race for them; Happy Eyeballs pacing comes
 * from addriter.c. Nothing here recurses: a failure that happens inside
 * a start defers the next pump to a zero-delay timer. */
#include "common.h"

#include <math.h>
#include <sys/resource.h>

#include "client_int.h"
#include "sock.h"

static void session_connected(struct session *s);
static void session_failed(struct session *s, int e);
static void target_pump(struct target *t);
static void target_kick(struct target *t);
static void all_kick(struct client *c);
static int session_start(struct target *t, const struct addr *a);
static void target_cancel_lookups(struct target *t, const char *why);

/* Arm a timer for a deadline in monotonic microseconds, rounded up. */
void
session_arm_at_us(struct client *c, struct evtimer *t, uint64_t due)
{
	uint64_t now = evloop_clock_us();

	evloop_timer_arm(c->loop, t, due > now ? (due - now + 999) / 1000 : 0);
}

const char *
session_where(const struct addr *a, char *buf, size_t len)
{
	char host[ADDR_STRLEN];

	addr_format_host(a, host, sizeof(host));
	if (a->family == AF_UNIX)
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "%s port %d", host, addr_port(a));
	return buf;
}

static bool
link_local_unscoped(const struct addr *a)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;

	return a->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) &&
	    sin6->sin6_scope_id == 0;
}

/* Words for a failed connection, naming where. */
/* Out of descriptors: words that say whose limit it is. */
static void
local_limit_error(char *buf, size_t len, int e)
{
	struct rlimit rl;

	if (e == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		snprintf(buf, len, "out of file descriptors (this process's limit, ulimit -n %llu)",
		    (unsigned long long)rl.rlim_cur);
	else
		snprintf(buf, len, "out of file descriptors (%s)",
		    e == EMFILE ? "this process's limit" : "the system's limit");
}

void
session_connect_error(struct session *s, int e)
{
	char w[ADDR_STRLEN + 16];

	session_where(&s->addr, w, sizeof(w));
	switch (e) {
	case ECONNREFUSED: snprintf(s->err, sizeof(s->err), "connection refused by %s", w); break;
	case ETIMEDOUT:
		snprintf(s->err, sizeof(s->err), "no answer from %s within %d ms", w,
		    s->t->c->o.connect_timeout_ms);
		break;
	case ENETUNREACH: snprintf(s->err, sizeof(s->err), "network unreachable for %s", w); break;
	case EHOSTUNREACH: snprintf(s->err, sizeof(s->err), "host unreachable: %s", w); break;
	case EACCES: /* a local route of type prohibit, or a firewall rule (EPERM) */
	case EPERM:
		snprintf(s->err, sizeof(s->err), "prohibited here (route or firewall): %s", w);
		break;
	case ENOENT: snprintf(s->err, sizeof(s->err), "no socket at %s", w); break;
	case EAGAIN: snprintf(s->err, sizeof(s->err), "listen queue full at %s", w); break;
	case EAFNOSUPPORT:
		snprintf(s->err, sizeof(s->err), "%s not supported here (%s)",
		    addr_family_name(s->addr.family), w);
		break;
	case EMFILE: /* this host's limit, the same for every address: no address named */
	case ENFILE:
		s->local_fail = true;
		local_limit_error(s->err, sizeof(s->err), e);
		break;
	default:
		if (e == EINVAL && link_local_unscoped(&s->addr))
			snprintf(s->err, sizeof(s->err), "%s is link-local: give its interface "
			    "(%%eth0) or -I an interface", w);
		else
			snprintf(s->err, sizeof(s->err), "connect to %s: %s", w, strerror(e));
	}
}

/* ---- attempts: every connection attempt of a race, reported ---- */

/* TCP: the SYNs sent so far, before any data (TCP_INFO counts SYN
 * retransmissions with the rest): a handshake that took a second more
 * than the path's round trip lost its first SYN (or the SYN-ACK). */
static long long
session_syns(const struct session *s)
{
	long long r = probe_tcp_retrans(s);

	return r >= 0 ? r + 1 : 0;
}

static void
append_err(char *buf, size_t size, const char *msg)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? "; " : "", msg);
}

/* The attempt's outcome, once: to the report, and in a race, for IPv6
 * (the preferred family whenever there is an IPv6 address), to what the
 * fallback warning will say. In --all every address is one attempt,
 * numbered in the resolver's order (its row's place), its start counted
 * from the target's first: a late one waited for a free slot. */
static void
attempt_report(struct session *s, enum attempt_outcome o, const char *why)
{
	struct target *t = s->t;
	struct client *c = t->c;
	uint64_t now = evloop_clock_us();
	struct attempt_result r;

	if (s->reported || s->number == 0)
		return;
	s->reported = true;
	if (c->o.mode != CLIENT_ALL && o != ATTEMPT_CONNECTED && s->addr.family == AF_INET6)
		append_err(t->ferr, sizeof(t->ferr), why);
	if (c->rep.attempt == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.target = t->text;
	r.addr = &s->addr;
	r.number = s->number;
	r.start_ms = (double)(s->t0_us - t->first_us) / 1000.0;
	r.time_ms = (double)(now - s->t0_us) / 1000.0;
	r.outcome = o;
	r.error = o == ATTEMPT_CONNECTED ? NULL : why;
	r.pipe = c->o.pipe;
	r.syn_sent = s->syn_sent > 0 ? s->syn_sent : session_syns(s);
	c->rep.attempt(c->rep.arg, &r);
}

/* ---- sessions: one socket to one address ---- */

void
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

void
session_free(struct session *s)
{
	session_close(s);
	free(s->sent_at);
	free(s->got);
	free(s->rtt_us);
	free(s->tx);
	free(s->rx);
	free(s->unacked);
	free(s->pmtu);
	free(s);
}

/* The one way a target ends, at most once (t->done). Three callers:
 * target_check() once its sessions and lookups are all over,
 * target_resolve_failed() (no session ever started) and race_target_stop()
 * (SIGINT). Only target_check() waits for every address's outcome. */
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

static bool
is_ip(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* The family RFC 8305/6724 order ranks first: IPv6 as soon as the target
 * has an IPv6 address, whichever DNS answer came first (a slow AAAA makes
 * the first attempt IPv4, not IPv4 the preferred family). */
static int
target_pref_family(const struct target *t)
{
	return t->it.q[0].n > 0 ? AF_INET6 : t->pref_family;
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
	sum->in_flight = s->in_flight;
	probe_rtt_settle(s);
	if (s->received > 0) {
		double avg = s->rsum / s->received, var = s->rsq / s->received - avg * avg;
		sum->rtt_min = s->rmin;
		sum->rtt_max = s->rmax;
		sum->rtt_avg = avg;
		sum->rtt_mdev = var > 0 ? sqrt(var) : 0;
	}
	sum->error = s->err[0] != '\0' ? s->err : NULL;
	sum->local_error = s->local_fail;
	sum->pipe = s->t->c->o.pipe;
	sum->bytes_sent = s->bytes_sent;
	sum->bytes_received = s->bytes_received;
	sum->local = s->has_local ? &s->local : NULL;
	sum->connect_only = s->t->c->o.connect_only;
	sum->input_ended = s->stdin_eof && s->txlen == 0;
	sum->attempts = s->t->nattempts;
	sum->handshake_ms = s->handshake_ms;
	sum->syn_sent = s->syn_sent;
	sum->preferred_family = target_pref_family(s->t);
	if (s->t->c->o.mode == CLIENT_ALL) {
		/* --all: every address is one attempt of its own, no race,
		 * so no family goes first (the attempt record says so too) */
		sum->attempts = s->t0_us != 0 ? 1 : 0;
		sum->preferred_family = AF_UNSPEC;
	}
	/* A fallback only when an attempt of the preferred family really
	 * failed or was cancelled unanswered (t->ferr), not merely because
	 * another family won. */
	sum->fallback = s->t->c->o.mode != CLIENT_ALL && s->connected && !s->unanswered &&
	    is_ip(s->addr.family) && sum->preferred_family == AF_INET6 &&
	    s->addr.family != AF_INET6 && s->t->ferr[0] != '\0';
	sum->fallback_error = sum->fallback ? s->t->ferr : NULL;
	sum->retransmits = s->retransmits;
	sum->retransmitted_probes = s->rtx_probes;
	if (s->received > s->rtx_probes) {
		long long n = s->received - s->rtx_probes;
		double avg = s->csum / (double)n, var = s->csq / (double)n - avg * avg;
		sum->clean_min = s->cmin;
		sum->clean_max = s->cmax;
		sum->clean_avg = avg;
		sum->clean_mdev = var > 0 ? sqrt(var) : 0;
	}
	sum->index = s->index;
	if (s->unanswered) /* a datagram address that never answered */
		sum->connect_ms = sum->handshake_ms = -1;
}

/* The race ended without a winner (every attempt failed, or the run was
 * stopped): the target's summary carries the cause. */
static void
target_failed_summary(struct target *t, const char *fallback)
{
	struct session_summary sum;

	memset(&sum, 0, sizeof(sum));
	sum.target = t->text;
	sum.error = t->err[0] != '\0' ? t->err : fallback;
	sum.attempts = t->nattempts;
	sum.preferred_family = target_pref_family(t);
	sum.retransmits = -1;
	sum.connect_only = t->c->o.connect_only;
	t->c->rep.summary(t->c->rep.arg, &sum);
}

/* Are all sessions of the target over? Then so is the target. */
static void
target_check(struct target *t)
{
	/* Checked again by a deferred pump (target_kick) or another
	 * session after the target ended. */
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
		if (!addriter_exhausted(&t->it) && !t->expired)
			return;
		/* Every attempt failed: the target's summary says why, each. */
		target_failed_summary(t, "no address to connect to");
	}
	target_done(t);
}

/* Is s the target's last chance: no other attempt open, no address
 * left to try, no lookup to wait for? */
static bool
last_hope(const struct target *t, const struct session *s)
{
	for (const struct session *o = t->sessions; o != NULL; o = o->next)
		if (o != s && !o->done)
			return false;
	if (t->q[0] != NULL || t->q[1] != NULL)
		return false;
	for (int i = 0; i < 2; i++)
		if (t->it.taken[i] < t->it.q[i].n || t->it.pending[i])
			return false;
	return true;
}

void
session_finish(struct session *s)
{
	struct session_summary sum;
	struct target *t = s->t;

	if (s->done)
		return;
	if (!s->connected && s->probing && t->c->o.mode != CLIENT_ALL) {
		/* Every probe settled and none came back. With another address
		 * to try it is a failed attempt; as the last one, its probes
		 * are the target's result (100 % loss). */
		if (!last_hope(t, s)) {
			session_failed(s, 0);
			return;
		}
		attempt_report(s, ATTEMPT_FAILED, s->err[0] != '\0' ? s->err : "no reply");
		s->connected = true;
		s->unanswered = true;
		t->winner = s;
	}
	if (t->c->o.mode == CLIENT_ALL && t->c->stopping && !s->reported) {
		/* a datagram address not answered yet: still connecting */
		snprintf(s->err, sizeof(s->err), "interrupted");
		attempt_report(s, ATTEMPT_CANCELLED, s->err);
	}
	if (t->c->o.mode == CLIENT_ALL) /* a datagram address that never answered */
		attempt_report(s, ATTEMPT_FAILED, s->err[0] != '\0' ? s->err : "no reply");
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

/* -I could not be applied: words naming the source and why. */
static void
session_source_error(struct session *s, int e)
{
	const struct source *src = &s->t->c->o.source;
	char w[ADDR_STRLEN + 16], from[ADDR_STRLEN];
	struct addr sa = { .len = src->len, .family = src->family };

	session_where(&s->addr, w, sizeof(w));
	if (src->family == AF_UNSPEC) {
		snprintf(s->err, sizeof(s->err), "cannot bind to interface %s for %s: %s",
		    src->ifname, w, strerror(e));
		return;
	}
	memcpy(&sa.sa, &src->sa, sizeof(sa.sa));
	addr_format_host(&sa, from, sizeof(from));
	if (e == EAFNOSUPPORT)
		snprintf(s->err, sizeof(s->err), "source %s is %s, cannot reach %s", from,
		    addr_family_name(src->family), w);
	else
		snprintf(s->err, sizeof(s->err), "cannot bind source %s for %s: %s", from, w,
		    strerror(e));
}

static void
session_failed(struct session *s, int e)
{
	struct target *t = s->t;

	/* e 0: the cause is in s->err already (a datagram's silence) */
	if (s->source_failed)
		session_source_error(s, e != 0 ? e : EINVAL);
	else if (e != 0 || s->err[0] == '\0')
		session_connect_error(s, e != 0 ? e : ETIMEDOUT);
	/* In a race the target's error lists every attempt; a local cause
	 * once, as it is the same for all. */
	if (!s->local_fail || strstr(t->err, s->err) == NULL)
		append_err(t->err, sizeof(t->err), s->err);
	attempt_report(s, ATTEMPT_FAILED, s->err);
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

/* A datagram attempt that is its target's last hope keeps probing past
 * the connect timeout (`-c 0` watching a server that is down for a while):
 * it holds the race as the winner; its first reply connects it, and if
 * none comes its summary shows the loss. */
static bool
hold_last_probing(struct target *t, struct session *s)
{
	struct evloop *loop = t->c->loop;

	if (s == NULL || !s->probing || s->done || s->connected || !last_hope(t, s))
		return false;
	t->winner = s;
	evloop_timer_cancel(loop, &s->ctimer);
	evloop_timer_cancel(loop, &t->deadline);
	evloop_timer_cancel(loop, &t->pace);
	return true;
}

static void
on_connect_timeout(struct evloop *loop, void *arg)
{
	struct session *s = arg;

	(void)loop;
	if (!hold_last_probing(s->t, s))
		session_failed(s, ETIMEDOUT);
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

/* sock_connect_prep()'s hook: -I, between open and connect. */
static int
session_prep(int fd, const struct addr *a, void *arg)
{
	struct session *s = arg;

	if (source_apply(&s->t->c->o.source, fd, a) == -1) {
		s->source_failed = true;
		return -1;
	}
	return 0;
}

/* Our end of the session: after connect() the kernel has chosen it (for
 * datagrams too), so failed attempts show theirs as well. */
static void
session_note_local(struct session *s)
{
	if (s->addr.family == AF_INET || s->addr.family == AF_INET6)
		s->has_local = sock_local(s->fd, &s->addr, &s->local) == 0;
}

/* The target's addresses are a name's answer, not an address typed. */
static bool
from_dns(const struct target *t)
{
	return t->spec.kind == ADDR_KIND_HOST && t->spec.literal == 0 && t->spec.host[0] != '\0';
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
	s->retransmits = -1;
	evtimer_init(&s->ctimer, on_connect_timeout, s);
	s->next = t->sessions;
	t->sessions = s;
	s->t0_us = evloop_clock_us();
	if (c->o.mode != CLIENT_ALL) {
		s->number = ++t->nattempts;
		if (s->number == 1) {
			t->first_us = s->t0_us;
			t->pref_family = a->family;
		}
	}
	if (c->o.mode == CLIENT_ALL) {
		/* all_pump() counted it started: its place in the answer */
		s->index = t->nqueued_started - 1;
		s->number = (int)s->index + 1;
		if (s->index == 0)
			t->first_us = s->t0_us;
		c->inflight++;
	} else if (c->o.mode == CLIENT_RACE && !t->raced) {
		/* A flag, not evtimer_armed(): a deadline that is due but not
		 * yet run looks unarmed and would be pushed back. */
		t->raced = true;
		evloop_timer_arm(c->loop, &t->deadline, (uint64_t)c->o.connect_timeout_ms);
	}
	if (from_dns(t) && addr_not_a_path(a, s->err, sizeof(s->err))) {
		session_failed(s, 0); /* never probed: it would reach this host, or IPv4 */
		return 0;
	}
	s->fd = sock_connect_prep(a, source_set(&c->o.source) ? session_prep : NULL, s, &inprog);
	if (s->fd != -1)
		session_note_local(s);
	if (s->fd != -1 && inprog && a->family == AF_UNIX && a->socktype != SOCK_DGRAM) {
		/* A unix stream connect never goes on in the background: it
		 * is done, or (EAGAIN) the listener's queue is full and it
		 * never will be; a later writability would look connected. */
		close(s->fd);
		s->fd = -1;
		session_failed(s, EAGAIN);
	} else if (s->fd == -1)
		session_failed(s, errno);
	else if (!inprog && a->socktype == SOCK_DGRAM && a->family != AF_UNIX &&
	    c->o.mode != CLIENT_ALL) {
		/* A datagram connect() only sets the peer: the address is
		 * reached when the first probe comes back (session_answered),
		 * and until then the race goes on. */
		s->probing = true;
		evloop_timer_arm(c->loop, &s->ctimer, (uint64_t)c->o.connect_timeout_ms);
		probe_start(s);
	} else if (!inprog)
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
	struct session *open = NULL;
	size_t started = 0, known, nopen = 0;

	(void)loop;
	for (struct session *s = t->sessions; s != NULL; s = s->next)
		if (!s->done) {
			open = s;
			nopen++;
		}
	if (nopen == 1 && hold_last_probing(t, open))
		return;
	t->expired = true;
	target_cancel_lookups(t, "the connect timeout ended the race");
	for (struct session *s = t->sessions; s != NULL; s = s->next) {
		started++;
		if (s->done)
			continue;
		session_connect_error(s, ETIMEDOUT);
		append_err(t->err, sizeof(t->err), s->err);
		attempt_report(s, ATTEMPT_FAILED, s->err);
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
		    t->nqueued_started < t->queued.n) {
			t->nqueued_started++;
			session_start(t, &t->queued.v[t->nqueued_started - 1]);
		}
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

/* Names only: a literal or a unix path was not looked up. */
static void
target_report_dns(struct target *t, int i, enum resolve_status st, const struct addr_list *list,
    const char *errmsg, const struct resolve_info *info)
{
	struct dns_result d;
	struct addr_list none = { 0 };

	if (t->c->rep.dns == NULL || t->spec.kind != ADDR_KIND_HOST || t->spec.literal != 0 ||
	    t->spec.host[0] == '\0')
		return;
	memset(&d, 0, sizeof(d));
	d.target = t->text;
	d.name = t->spec.host;
	d.family = t->qfamily[i];
	d.status = st;
	d.list = list != NULL ? list : &none;
	d.error = errmsg;
	if (info != NULL) {
		d.ms = info->ms;
		d.server = info->server;
		d.answered = info->answered;
	} else
		d.ms = (double)(evloop_clock_us() - t->dns_t0_us) / 1000.0;
	t->c->rep.dns(t->c->rep.arg, &d);
}

/* Lookups still out are not waited for (the target has its answer, or
 * its race is over); their records say so. */
static void
target_cancel_lookups(struct target *t, const char *why)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "not waited for: %s", why);
	for (int i = 0; i < 2; i++) {
		if (t->q[i] == NULL)
			continue;
		resolve_cancel(t->q[i]);
		t->q[i] = NULL;
		target_report_dns(t, i, RESOLVE_ECANCELLED, NULL, msg, NULL);
	}
}

static void
on_resolved(struct target *t, int i, enum resolve_status st, struct addr_list *list,
    const char *errmsg, const struct resolve_info *info)
{
	struct client *c = t->c;
	bool all_in;

	t->q[i] = NULL;
	all_in = t->q[0] == NULL && t->q[1] == NULL;
	target_report_dns(t, i, st, list, errmsg, info);
	/* Both families failing alike (NXDOMAIN) say so once. */
	if (st != RESOLVE_OK && strstr(t->rerr, errmsg) == NULL) {
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
on_resolved6(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg,
    const struct resolve_info *info)
{
	on_resolved(arg, 0, st, list, errmsg, info);
}

static void
on_resolved4(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg,
    const struct resolve_info *info)
{
	on_resolved(arg, 1, st, list, errmsg, info);
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
	t->dns_t0_us = evloop_clock_us();
	t->qfamily[0] = AF_INET6;
	t->qfamily[1] = split ? AF_INET : c->o.family;
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

/* ---- the winner ---- */

/* --all: an IP datagram address is reached, as in the race, when its
 * first reply comes back (connect() only named the peer): its attempt
 * and connect time wait for that (session_answered), or it fails when
 * the session ends without one. --pmtu reads its own replies. */
static bool
all_dgram_waits(const struct session *s)
{
	return s->addr.socktype == SOCK_DGRAM &&
	    (s->addr.family == AF_INET || s->addr.family == AF_INET6) && !s->t->c->o.pmtu;
}

static void
session_connected(struct session *s)
{
	struct target *t = s->t;
	struct client *c = t->c;
	uint64_t now = evloop_clock_us();

	evloop_timer_cancel(c->loop, &s->ctimer);
	s->connected = true;
	s->syn_sent = session_syns(s);
	s->handshake_ms = (double)(now - s->t0_us) / 1000.0;
	/* In a race, the time the user waited: from the first attempt. */
	s->connect_ms = c->o.mode == CLIENT_ALL ? s->handshake_ms
						: (double)(now - t->first_us) / 1000.0;
	session_note_local(s);
	/* --all: a datagram connect() only names the peer; the address is
	 * reached when its first reply comes (session_answered), if ever
	 * (--pmtu, which probes sizes, keeps the connect time). */
	if (c->o.mode == CLIENT_ALL && all_dgram_waits(s))
		s->connect_ms = s->handshake_ms = -1;
	else if (c->o.mode == CLIENT_ALL)
		attempt_report(s, ATTEMPT_CONNECTED, NULL);
	else {
		char why[ERRLEN], w[ADDR_STRLEN + 16];
		/* First to connect wins; the others are cancelled. */
		t->winner = s;
		evloop_timer_cancel(c->loop, &t->pace);
		evloop_timer_cancel(c->loop, &t->deadline);
		/* Waiting for the other family would only delay the end
		 * (an AAAA never answered held the exit for the DNS timeout). */
		target_cancel_lookups(t, "connected");
		attempt_report(s, ATTEMPT_CONNECTED, NULL);
		session_where(&s->addr, w, sizeof(w));
		for (struct session *o = t->sessions; o != NULL; o = o->next)
			if (o != s && !o->done) {
				char ow[ADDR_STRLEN + 16];
				snprintf(why, sizeof(why),
				    "no answer from %s yet when %s connected",
				    session_where(&o->addr, ow, sizeof(ow)), w);
				attempt_report(o, ATTEMPT_CANCELLED, why);
				session_close(o);
				o->done = true;
			}
	}
	if (s->probing) /* a datagram session: its probes run already */
		return;
	if (c->o.connect_only)
		session_finish(s); /* -z: the handshake was the question */
	else if (c->o.pipe)
		pipe_start(s);
	else
		probe_start(s);
}

bool
session_attempt_failed(struct session *s, int e)
{
	if (s->t->c->o.mode == CLIENT_ALL) {
		session_finish(s);
		return true;
	}
	/* The target's last hope probes on: its probes report the error. */
	if (last_hope(s->t, s))
		return false;
	session_failed(s, e);
	return true;
}

void
session_answered(struct session *s)
{
	if (!s->connected) {
		session_connected(s);
		return;
	}
	if (s->t->c->o.mode == CLIENT_ALL && !s->reported) {
		s->connect_ms = s->handshake_ms = (double)(evloop_clock_us() - s->t0_us) / 1000.0;
		attempt_report(s, ATTEMPT_CONNECTED, NULL);
	}
}

/* ---- the race module's side of the client ---- */

void
race_client_init(struct client *c)
{
	evtimer_init(&c->kick, on_kick, c);
}

void
race_target_init(struct target *t)
{
	evtimer_init(&t->pace, on_pace, t);
	evtimer_init(&t->deadline, on_race_deadline, t);
}

void
race_target_start(struct target *t)
{
	t->c->active++;
	if (target_resolve(t) == -1)
		target_resolve_failed(t, "out of memory");
}

void
race_target_free(struct target *t)
{
	struct client *c = t->c;

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
}

/* --all stopped early: every address not through yet, open or still
 * queued, gets its row saying so, or the table would look complete. */
static void
all_target_interrupted(struct target *t)
{
	struct client *c = t->c;
	struct session_summary sum;

	for (struct session *s = t->sessions; s != NULL; s = s->next) {
		if (s->done)
			continue;
		snprintf(s->err, sizeof(s->err), "interrupted");
		attempt_report(s, ATTEMPT_CANCELLED, s->err); /* socket open: its SYNs */
		session_close(s);
		s->done = true;
		c->inflight--;
		summarize(s, &sum);
		c->rep.summary(c->rep.arg, &sum);
	}
	for (size_t k = t->nqueued_started; k < t->queued.n; k++) {
		memset(&sum, 0, sizeof(sum));
		sum.target = t->text;
		sum.addr = &t->queued.v[k];
		sum.error = "interrupted";
		sum.index = k;
		sum.retransmits = -1;
		sum.connect_only = c->o.connect_only;
		sum.pipe = c->o.pipe;
		sum.connect_ms = sum.handshake_ms = -1;
		c->rep.summary(c->rep.arg, &sum);
	}
	t->nqueued_started = t->queued.n;
}

void
race_target_stop(struct target *t)
{
	for (struct session *s = t->sessions; s != NULL; s = s->next)
		if ((s->connected || s == t->winner) && !s->done) {
			probe_interrupted(s);
			session_finish(s);
		}
	if (t->done)
		return;
	target_cancel_lookups(t, "interrupted");
	if (t->c->o.mode == CLIENT_ALL)
		all_target_interrupted(t);
	for (struct session *s = t->sessions; s != NULL; s = s->next)
		if (!s->done) {
			attempt_report(s, ATTEMPT_CANCELLED, "interrupted");
			append_err(t->err, sizeof(t->err), "interrupted while connecting to ");
			session_where(&s->addr, t->err + strlen(t->err),
			    sizeof(t->err) - strlen(t->err));
			session_close(s);
			s->done = true;
		}
	if (t->c->o.mode != CLIENT_ALL && t->winner == NULL) /* not "all well" */
		target_failed_summary(t, "interrupted before any address was tried");
	target_done(t);
}

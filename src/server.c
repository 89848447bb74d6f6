#include "common.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/sockios.h> /* SIOCOUTQ */
#endif
#include <pthread.h>
#include <signal.h>

#include "conntab.h"
#include "log.h"
#include "server.h"
#include "sockdiag.h"
#include "srclimit.h"

#define ACCEPTS_PER_CALL 64
#define LOG_EVERY_MS     10000 /* rate limit for repeated warnings */
#define DGRAM_PAUSE_MS   100   /* a datagram socket in error rests this long */
#define DGRAM_RETRY_MS   50    /* a full unix datagram socket is retried this often */
#define BCAST_REFRESH_MS 60000 /* interfaces' broadcast addresses re-read this often */
#define BUDGET_RETRY_MS  100   /* paused connections try the budget again */
/* The idle sweep looks at every connection once per idle timeout / 8, but
 * no more often than every SWEEP_MIN_MS (its cost is one look per
 * connection) nor less than every SWEEP_MAX_MS: a connection quiet for the
 * timeout T is closed between T and T + that period. */
#define SWEEP_MIN_MS 100
#define SWEEP_MAX_MS 1000

struct worker;

/* A socket bound once and shared by every worker's listener: a second
 * server is refused by the kernel at bind time, as it never could be with
 * one SO_REUSEPORT socket per worker. The last listener to let go of it
 * closes it, once no loop watches it any more. */
struct endpoint {
	int fd;
	int refs; /* listeners holding it; atomic */
	bool owns_path;
	bool rights; /* a unix stream whose peers may pass descriptors */
	struct sock_path_id path_id; /* the file our bind made */
	struct addr a;
};

struct listener {
	struct listener *next;
	struct worker *w;
	struct endpoint *ep;
	int fd; /* ep->fd */
	struct addr a;
	struct echo_dgram *dgram;
	int excl; /* EV_EXCLUSIVE when other workers watch fd too, else 0 */
	struct evtimer pause; /* accepting paused: out of file descriptors */
};

/* A connection's source, as accept() gave it. */
struct peer {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Where a connection stands with the budget of bytes owed. */
enum { CONN_FREE, CONN_OWING, CONN_PAUSED };

/* What a connection needs only while it owes its peer bytes, waits for the
 * budget, or speaks records (seqpacket: its state for the connection's
 * life): allocated then, freed once that ends, so that an idle stream
 * connection is only its 16 bytes in the worker's table (struct conn in
 * conntab.h) and the loop's entry for its fd. */
struct conn_ext {
	struct echo_stream es;
	struct conn_ext *bprev, *bnext; /* in the worker's owing or paused list */
	int fd;
	int bstate;
	uint64_t stall_since; /* owing: when the peer last took a byte */
	uint64_t flushed;     /* es.flushed when last looked at */
	long long outq;       /* what the kernel held for the peer at the last look */
	bool outq_unread;     /* outq counts bytes unread (sock_diag), not SIOCOUTQ */
	uint64_t took_at;     /* unix: when a look last saw outq shrink (or the first) */
};

struct clist {
	struct conn_ext *head, *tail;
};

struct worker {
	struct server *s;
	pthread_t thread;
	struct evloop *loop;
	struct listener *listeners;
	struct conntab conns;
	int nconns;
	int nblocks; /* conn_ext allocated; read by other threads */
	struct echo_stream es; /* where an idle connection's echo starts */
	struct echo_scratch scratch;
	struct echo_stats st;
	int wake[2];
	struct evtimer idle, grace, linger;
	bool stopping;
	bool failed; /* its loop failed */
	uint64_t refused_logged, refusal_log_at, limit_log_at, dgram_err_log_at;
	/* owing: longest stalled first; paused: longest waiting first */
	struct clist owing, paused;
	struct evtimer budget;
	uint64_t stall_log_at, source_log_at, record_log_at;
};

struct server {
	struct server_opts o;
	struct worker *w;
	int nw;
	int nconns; /* across workers, atomic */
	struct guard guard;
	uint64_t bcast_due;         /* loop clock (ms): re-read then; atomic */
	pthread_mutex_t reload_lock; /* one writer of the guard's list at a time */
	/* Spent to accept-and-close when out of fds: one for all workers.
	 * accept_lock is held around every accept, so that the slot the
	 * reserve frees goes to the accept meant to use it, not to another
	 * worker's connection, which would leave no reserve at all. */
	pthread_mutex_t accept_lock;
	int reserve_fd;
	struct echo_budget budget;
	/* seqpacket connections paused for the budget, across workers,
	 * atomic: each asks for room for its record, up to 64 KiB, which may
	 * be more than --buffer-size (stall_need()) */
	int records_paused;
	struct srclimit *sources; /* NULL: no per-source limit */
};

/* ---- connections ---- */

static void
worker_maybe_stop(struct worker *w)
{
	if (w->nconns == 0 && (w->stopping || w->listeners == NULL))
		evloop_stop(w->loop);
}

/* The low 32 bits of the loop's clock: enough for an age up to the idle
 * timeout (at most a day) plus a sweep period. */
static uint32_t
now32(const struct worker *w)
{
	return (uint32_t)evloop_now(w->loop);
}

/* ---- the budget of bytes owed ---- */

static void on_conn(struct evloop *loop, int fd, int events, void *arg);
static void on_conn_rights(struct evloop *loop, int fd, int events, void *arg);

/* A connection whose peer may pass descriptors (echo_stream.rights) is
 * told apart by its callback: the loop's entry for its fd names one
 * anyway, so the bit costs an idle connection no memory. */
static evloop_fd_cb *
conn_cb(bool rights)
{
	return rights ? on_conn_rights : on_conn;
}

/* Connections are edge-triggered: echo_stream_io() reads until a short
 * read proves the queue empty, is told by EV_DRAIN where that proof fails
 * (the peer's EOF or urgent data behind the bytes), and says ECHO_MORE
 * when it stopped early, which rearms the fd. On a unix stream the proof
 * also needs a peer that cannot pass descriptors (endpoint_new()), or
 * else recvmsg() to see where a read stopped at them. Level-triggered,
 * epoll looked again at every fd it had reported, on the next wait. */
#define CONN_READ (EV_READ | EV_EDGE)
static void conn_close(struct worker *w, int fd);
static bool warn_due(struct worker *w, uint64_t *at);

static struct clist *
blist(struct worker *w, int state)
{
	return state == CONN_OWING ? &w->owing : &w->paused;
}

/* Move x to the tail of the list for state (from wherever it was). */
static void
bstate_set(struct worker *w, struct conn_ext *x, int state)
{
	struct clist *l;

	if (x->es.records && (x->bstate == CONN_PAUSED) != (state == CONN_PAUSED))
		__atomic_fetch_add(&w->s->records_paused, state == CONN_PAUSED ? 1 : -1,
		    __ATOMIC_RELAXED);
	if (x->bstate != CONN_FREE) {
		l = blist(w, x->bstate);
		if (x->bprev != NULL)
			x->bprev->bnext = x->bnext;
		else
			l->head = x->bnext;
		if (x->bnext != NULL)
			x->bnext->bprev = x->bprev;
		else
			l->tail = x->bprev;
	}
	x->bstate = state;
	if (state == CONN_FREE)
		return;
	l = blist(w, state);
	x->bprev = l->tail;
	x->bnext = NULL;
	if (l->tail != NULL)
		l->tail->bnext = x;
	else
		l->head = x;
	l->tail = x;
}

/* The connection's block, holding es (moved there: its buffer, if any, is
 * the block's now). NULL when out of memory. */
static struct conn_ext *
ext_new(struct worker *w, struct conn *c, int fd, const struct echo_stream *es)
{
	struct conn_ext *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->es = *es;
	x->fd = fd;
	x->outq = -1;
	c->ext = x;
	__atomic_fetch_add(&w->nblocks, 1, __ATOMIC_RELAXED);
	return x;
}

static void
ext_free(struct worker *w, struct conn *c)
{
	struct conn_ext *x = c->ext;

	if (x == NULL)
		return;
	bstate_set(w, x, CONN_FREE);
	echo_stream_free(&x->es);
	free(x);
	c->ext = NULL;
	__atomic_fetch_sub(&w->nblocks, 1, __ATOMIC_RELAXED);
}

/* Free the block once the connection is idle again: it owes nothing, is in
 * no list, and is no seqpacket (whose record state lasts). */
static void
ext_release(struct worker *w, struct conn *c)
{
	struct conn_ext *x = c != NULL ? c->ext : NULL;

	if (x != NULL && x->es.buf == NULL && x->bstate == CONN_FREE && !x->es.records)
		ext_free(w, c);
}

/* Paused connections try again soon; owing ones are looked at often
 * enough to close the stalled ones near their time. */
static void
budget_arm(struct worker *w)
{
	uint64_t ms = (uint64_t)w->s->o.stall_ms / 2;

	if (evtimer_armed(&w->budget) || (w->paused.head == NULL && w->owing.head == NULL))
		return;
	if (w->paused.head != NULL || ms < BUDGET_RETRY_MS)
		ms = BUDGET_RETRY_MS;
	evloop_timer_arm(w->loop, &w->budget, ms > 1000 ? 1000 : ms);
}

/* Wake paused connections, the longest waiting first, as many as the
 * budget has reads for: the others stay asleep, so that nothing spins.
 * Their idle time starts now: while paused, it was the server that did
 * not read (on_idle() passes them by). */
static void
budget_resume(struct worker *w)
{
	uint64_t reads = echo_budget_free(&w->s->budget) / ECHO_SPENT_READ;

	while (w->paused.head != NULL && reads-- > 0) {
		struct conn_ext *x = w->paused.head;
		int fd = x->fd;
		bool rights = x->es.rights;
		struct conn *c = conntab_get(&w->conns, fd);
		bstate_set(w, x, CONN_FREE);
		if (c != NULL)
			c->last = now32(w);
		ext_release(w, c);
		if (evloop_fd_set(w->loop, fd, CONN_READ, conn_cb(rights), w) == -1) {
			ECHO_STAT_ADD(&w->st, errors, 1);
			conn_close(w, fd);
		}
	}
}

/* Keep the lists in step with what the connection just did; returns the
 * events to watch. A paused connection watches only for its peer's
 * hang-up: it owes nothing and may not read, and budget_resume() wakes it. Called only when one of
 * them has something to say: the ordinary echo does not come here. */
AE_COLD static int
budget_track(struct worker *w, struct conn_ext *x, int want)
{
	if (want & ECHO_PAUSED) {
		bool first = w->paused.head == NULL;
		bstate_set(w, x, CONN_PAUSED);
		if (first)
			evloop_timer_arm(w->loop, &w->budget, BUDGET_RETRY_MS);
		return want & ~ECHO_PAUSED;
	}
	if (echo_stream_pending(&x->es) > 0) {
		if (x->bstate != CONN_OWING || x->es.flushed != x->flushed) {
			x->flushed = x->es.flushed;
			x->stall_since = evloop_now(w->loop);
			x->outq = -1; /* peer_took_ms() looks afresh */
			bstate_set(w, x, CONN_OWING);
			budget_arm(w);
		}
	} else if (x->bstate == CONN_OWING) {
		bstate_set(w, x, CONN_FREE);
		if (w->paused.head != NULL)
			budget_resume(w);
	}
	return want;
}

/* peer_took_ms() on a unix socket without a block to keep its look in */
#define PEER_LOOK (-2)

/* How long ago (before now, ms) the peer took a byte of what the kernel
 * holds for it, by the kernel's count, -1 when it holds nothing or cannot
 * say, PEER_LOOK
 * when it must compare with a look that x == NULL cannot keep. Our
 * callback runs only when the socket turns writable, and a deep send
 * queue (megabytes) drains for seconds before it does: a peer reading
 * slowly but steadily is neither idle nor stalled. TCP says it outright
 * (ms since it last sent new data, which it does when the peer makes
 * room, and since the peer's last acknowledgement: a dead peer gets
 * retransmissions, not acknowledgements); elsewhere (unix) what the
 * queue held at the last look, kept in x, must have shrunk, and when it
 * last did is kept too: the stall check and the idle sweep look in turn,
 * and the second must not take "no change since the first" for "never".
 * Called only for connections about to be closed as quiet: no cost per
 * echo. */
static long long
peer_took_ms(int fd, struct conn_ext *x, uint64_t now)
{
	long long took, held;
	bool unread;
	int q = 0;
#ifdef TCP_INFO
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
#endif

#ifdef SIOCOUTQ
	if (ioctl(fd, SIOCOUTQ, &q) == -1)
		return -1;
#endif
	if (q <= 0) {
		/* held nothing: unless it held some at the last look, which the
		 * peer has read to the end since (unix) */
		took = x != NULL && x->outq > 0 ? 0 : -1;
		if (x != NULL) {
			x->outq = -1;
			x->took_at = now;
		}
		return took;
	}
#ifdef TCP_INFO
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
		return ti.tcpi_last_data_sent > ti.tcpi_last_ack_recv ? ti.tcpi_last_data_sent
								  : ti.tcpi_last_ack_recv;
#endif
	if (x == NULL)
		return PEER_LOOK;
	/* SIOCOUTQ shrinks only when the peer has read a whole buffer of
	 * the kernel's (one send, up to 64 KiB): a peer reading 10 KB/s
	 * shows no progress for seconds. What it has yet to read, to the
	 * byte, is sock_diag's; SIOCOUTQ only where that is not to be had
	 * (no unix_diag, the peer in another network namespace). */
	held = sockdiag_unix_unread(fd);
	unread = held >= 0;
	if (!unread)
		held = q;
	/* Less than at the last look (counted the same way): just now. At
	 * the first look there is nothing to compare with: one more period
	 * to show it. */
	if (x->outq < 0 || x->outq_unread != unread || x->outq > held)
		x->took_at = now;
	x->outq = held;
	x->outq_unread = unread;
	return (long long)(now - x->took_at);
}

/* The room the budget must have for no one to wait on it: a full
 * buffer, or while a seqpacket connection waits, the largest record (the
 * scratch buffer's size): a record smaller than that may have asked for
 * less (echo.c, record_size()), but never more. */
static uint64_t
stall_need(const struct worker *w)
{
	uint64_t need = w->s->o.bufsize;

	if (__atomic_load_n(&w->s->records_paused, __ATOMIC_RELAXED) > 0 && w->scratch.size > need)
		need = w->scratch.size;
	return need;
}

/* While the budget is spent, the connections whose peers have taken
 * nothing for stall_ms give theirs back, the longest stalled first. */
static void
on_budget(struct evloop *loop, void *arg)
{
	struct worker *w = arg;
	struct server *s = w->s;
	uint64_t now = evloop_now(loop);
	int closed = 0;

	while (w->owing.head != NULL && !echo_budget_room(&s->budget, stall_need(w)) &&
	    now - w->owing.head->stall_since >= (uint64_t)s->o.stall_ms) {
		struct conn_ext *x = w->owing.head;
		long long took = peer_took_ms(x->fd, x, now);
		if (took >= 0 && took < s->o.stall_ms) {
			/* still reading: to the back, as if it had just now */
			x->stall_since = now - (uint64_t)took;
			bstate_set(w, x, CONN_OWING);
			continue;
		}
		ECHO_STAT_ADD(&w->st, conns_stalled, 1);
		conn_close(w, x->fd);
		closed++;
	}
	if (closed > 0 && warn_due(w, &w->stall_log_at))
		log_warn("budget of %llu bytes owed spent: closing connections whose peers have "
		    "read nothing for %d ms", (unsigned long long)s->budget.max, s->o.stall_ms);
	budget_resume(w);
	budget_arm(w);
}

/* ---- the per-source limit ---- */

/* 0: counted (*ref its handle, 0 if not limited); -1: over the limit,
 * refused and counted. peer: the source accept() gave, NULL to ask. */
static int
source_take(struct worker *w, int fd, const struct peer *peer, uint32_t *ref)
{
	struct server *s = w->s;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[ADDR_STRLEN];
	struct srclimit_id id;
	struct addr a;

	*ref = 0;
	if (s->sources == NULL)
		return 0;
	if (peer != NULL) {
		len = peer->len <= sizeof(ss) ? peer->len : sizeof(ss);
		memcpy(&ss, &peer->ss, len);
	} else if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0; /* a peer gone already is not worth refusing */
	if (!srclimit_id_of((struct sockaddr *)&ss, len, &id) ||
	    srclimit_take_ref(s->sources, &id, ref))
		return 0;
	ECHO_STAT_ADD(&w->st, conns_source, 1);
	if (warn_due(w, &w->source_log_at)) {
		memset(&a, 0, sizeof(a));
		memcpy(&a.sa, &ss, len);
		a.len = len;
		a.family = ss.ss_family;
		a.socktype = SOCK_STREAM;
		addr_unmap(&a);
		log_warn("per-source limit (%u) reached: closing new connections from %s%s",
		    s->o.max_per_source, addr_format_host(&a, host, sizeof(host)),
		    a.family != AF_INET6 ? "" :
		    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)&a.sa)->sin6_addr) ? " (its link)" :
		    " (its /64)");
	}
	return -1;
}

static void
conn_close(struct worker *w, int fd)
{
	struct conn *c = conntab_get(&w->conns, fd);

	if (c == NULL)
		return;
	ext_free(w, c);
	if (w->s->sources != NULL)
		srclimit_put_ref(w->s->sources, c->src);
	/* inetd hands one socket over as fds 0, 1 and 2: closing fd 0 alone
	 * leaves it open, and epoll watching it. */
	evloop_fd_close(w->loop, fd, fd > 2);
	conntab_del(&w->conns, fd);
	w->nconns--;
	__atomic_fetch_sub(&w->s->nconns, 1, __ATOMIC_RELAXED);
	worker_maybe_stop(w);
}

/* Why the echo ended: worth a count and a line unless the peer just went. */
static void
conn_error(struct worker *w, const struct echo_stream *es)
{
	if (errno == ECONNRESET || errno == EPIPE)
		return;
	ECHO_STAT_ADD(&w->st, errors, 1);
	if (errno == EMSGSIZE && es->records && warn_due(w, &w->record_log_at))
		log_warn("seqpacket record over %u bytes (--buffer-size, or what "
		    "net.core.wmem_max allows): closing the connection", es->record_max);
	else
		log_debug("connection closed: %s", strerror(errno));
}

/* An idle connection's echo starts in the worker's own echo_stream: if it
 * leaves something behind (bytes owed, or a pause for the budget), that
 * moves to a block of the connection's own. */
static struct echo_stream *
idle_stream(struct worker *w, bool rights)
{
	struct echo_stream *es = &w->es;

	echo_stream_init(es, w->s->o.bufsize, false);
	es->rights = rights;
	if (w->s->budget.max > 0)
		es->budget = &w->s->budget;
	return es;
}

static void
conn_io(struct evloop *loop, int fd, int events, struct worker *w, bool rights)
{
	struct conn *c = conntab_get(&w->conns, fd);
	struct conn_ext *x;
	struct echo_stream *es;
	int want;
	bool more;

	if (c == NULL) { /* not one of ours: never watched as one */
		evloop_fd_del(loop, fd);
		return;
	}
	ext_release(w, c); /* a block that kept only an idle look (look_ext()) */
	x = c->ext;
	if (x != NULL && x->bstate == CONN_PAUSED && (events & EV_HANGUP)) {
		conn_close(w, fd); /* reset or gone while it waited: let go */
		return;
	}
	es = x != NULL ? &x->es : idle_stream(w, rights);
	want = echo_stream_io(es, fd, &w->scratch, &w->st, (events & EV_DRAIN) != 0);
	more = want > 0 && (want & ECHO_MORE);
	if (more)
		want &= ~ECHO_MORE;
	if (x == NULL && want > 0 && (es->buf != NULL || (want & ECHO_PAUSED))) {
		x = ext_new(w, c, fd, es);
		if (x == NULL) {
			echo_stream_free(es);
			errno = ENOMEM;
			want = -1;
		} else
			es = &x->es;
	}
	/* es.buf: owes (or did, if still listed); see budget_track() */
	if (want > 0 && es->budget != NULL && x != NULL &&
	    ((want & ECHO_PAUSED) || es->buf != NULL || x->bstate != CONN_FREE))
		want = budget_track(w, x, want);
	if (want < 0 || (want == 0 && (x == NULL || x->bstate != CONN_PAUSED))) {
		if (want == -1)
			conn_error(w, es);
		if (x == NULL)
			echo_stream_free(es); /* an error right after a stash */
		conn_close(w, fd);
		return;
	}
	/* Paused, it may not read, but a peer that resets or goes must not
	 * keep its place against the limits until the budget frees (level-
	 * triggered: nothing is read, so nothing would rearm it). */
	want = want == 0 ? EV_HANGUP : want | EV_EDGE;
	if (want != evloop_fd_events(loop, fd) ? evloop_fd_set(loop, fd, want, conn_cb(rights), w) == -1 :
	    more && evloop_fd_rearm(loop, fd) == -1) {
		ECHO_STAT_ADD(&w->st, errors, 1);
		conn_close(w, fd);
		return;
	}
	c->last = now32(w);
	ext_release(w, c);
}

static void
on_conn(struct evloop *loop, int fd, int events, void *arg)
{
	conn_io(loop, fd, events, arg, false);
}

static void
on_conn_rights(struct evloop *loop, int fd, int events, void *arg)
{
	conn_io(loop, fd, events, arg, true);
}

static uint64_t
sweep_ms(const struct server *s)
{
	uint64_t ms = (uint64_t)s->o.idle_ms / 8;

	return ms < SWEEP_MIN_MS ? SWEEP_MIN_MS : ms > SWEEP_MAX_MS ? SWEEP_MAX_MS : ms;
}

/* A block for an idle unix connection whose peer has bytes of ours left
 * to read: it keeps what the peer had yet to read at the last look, for
 * the next to compare with (a slow reader owes us nothing, and sends
 * nothing, for longer than the timeout). The connection's next event
 * frees it (conn_io()), as its own echo says the peer is there. */
static struct conn_ext *
look_ext(struct worker *w, struct conn *c, int fd)
{
	struct echo_stream es;

	echo_stream_init(&es, w->s->o.bufsize, false);
	return ext_new(w, c, fd, &es);
}

static bool
conn_paused(const struct conn *c)
{
	const struct conn_ext *x = c->ext;

	return x != NULL && x->bstate == CONN_PAUSED;
}

/* The idle sweep: every connection looked at once per period (no list to
 * keep in order on every echo), the quiet ones closed. Not one paused for
 * the budget: its peer may be sending, unread, and owes nothing to show
 * it is there; budget_resume() restarts its idle time. */
static void
on_idle(struct evloop *loop, void *arg)
{
	struct worker *w = arg;
	uint32_t now = now32(w), idle = (uint32_t)w->s->o.idle_ms;
	uint64_t now64 = evloop_now(loop);

	for (int fd = conntab_next(&w->conns, -1); fd != -1; fd = conntab_next(&w->conns, fd)) {
		struct conn *c = conntab_get(&w->conns, fd);
		long long took;
		if (c == NULL || now - c->last < idle || conn_paused(c))
			continue;
		took = peer_took_ms(fd, c->ext, now64);
		if (took == PEER_LOOK)
			took = look_ext(w, c, fd) != NULL ? peer_took_ms(fd, c->ext, now64) : -1;
		if (took >= 0 && took < idle) {
			c->last = now - (uint32_t)took; /* the peer is reading */
			continue;
		}
		ECHO_STAT_ADD(&w->st, conns_idle, 1);
		conn_close(w, fd);
	}
	if (w->nconns > 0)
		evloop_timer_arm(loop, &w->idle, sweep_ms(w->s));
}

static void
conns_close_all(struct worker *w)
{
	for (int fd = conntab_next(&w->conns, -1); fd != -1; fd = conntab_next(&w->conns, fd))
		conn_close(w, fd);
}

static bool
warn_due(struct worker *w, uint64_t *at)
{
	uint64_t now = evloop_now(w->loop);

	if (*at != 0 && now - *at < LOG_EVERY_MS)
		return false;
	*at = now;
	return true;
}

/* Over the limit, or out of memory for the connection: close it at once. */
static int
conn_refuse(struct worker *w, int fd, bool over_limit)
{
	close(fd);
	ECHO_STAT_ADD(&w->st, conns_refused, 1);
	if (warn_due(w, &w->limit_log_at)) {
		if (over_limit)
			log_warn("connection limit (%d) reached: closing new connections",
			    w->s->o.max_conns);
		else
			log_warn("cannot serve a new connection: %s: closing it", strerror(ENOMEM));
	}
	return -1;
}

/* Seqpacket connections keep their block for life: the record state. */
static int
conn_records(struct worker *w, struct conn *c, int fd)
{
	struct echo_stream es;

	echo_stream_init(&es, w->s->o.bufsize, true);
	if (w->s->budget.max > 0)
		es.budget = &w->s->budget;
	return ext_new(w, c, fd, &es) != NULL ? 0 : -1;
}

/* rights: the peer may pass descriptors (echo_stream.rights). */
static int
conn_new(struct worker *w, int fd, const struct addr *la, const struct peer *peer, bool rights)
{
	struct server *s = w->s;
	struct conn *c;
	uint32_t src;
	bool over;

	if (source_take(w, fd, peer, &src) == -1) {
		close(fd);
		return -1;
	}
	/* Take the slot before checking it: a load then an add would let
	 * every worker pass the check at once, threads - 1 over the limit. */
	if (__atomic_fetch_add(&s->nconns, 1, __ATOMIC_RELAXED) >= s->o.max_conns) {
		over = true;
		goto refuse;
	}
	c = conntab_add(&w->conns, fd);
	if (c == NULL)
		goto nomem;
	if (la->family != AF_UNIX && la->socktype == SOCK_STREAM) {
		int one = 1; /* an echo must not wait for Nagle */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	/* On every stream, not only on the listener: unix sockets never
	 * take it from theirs, nor TCP ones queued before we set it on an
	 * inherited one. Best effort: a kernel may refuse it on unix. */
	if (la->socktype == SOCK_STREAM)
		(void)sock_urgent_inline(fd);
	c->last = now32(w);
	c->src = src & 0x7fffffffu;
	if ((la->socktype == SOCK_SEQPACKET && conn_records(w, c, fd) == -1) ||
	    evloop_fd_set(w->loop, fd, CONN_READ, conn_cb(rights), w) == -1) {
		ext_free(w, c);
		conntab_del(&w->conns, fd);
		goto nomem;
	}
	w->nconns++;
	ECHO_STAT_ADD(&w->st, conns, 1);
	if (s->o.idle_ms > 0 && !evtimer_armed(&w->idle))
		evloop_timer_arm(w->loop, &w->idle, sweep_ms(s));
	return 0;
nomem:
	over = false;
refuse:
	__atomic_fetch_sub(&s->nconns, 1, __ATOMIC_RELAXED);
	if (s->sources != NULL)
		srclimit_put_ref(s->sources, src);
	return conn_refuse(w, fd, over);
}

/* ---- listeners ---- */

/* The peer's address comes with the connection: no getpeername() after. */
static int
xaccept(int fd, struct peer *p)
{
	p->len = sizeof(p->ss);
#ifdef HAVE_ACCEPT4
	return accept4(fd, (struct sockaddr *)&p->ss, &p->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	int c = accept(fd, (struct sockaddr *)&p->ss, &p->len);
	if (c != -1 && sock_nonblock(c) == -1) {
		close(c);
		return -1;
	}
	return c;
#endif
}

/* May the peer of c, accepted on l, pass descriptors (echo_stream.rights)?
 * A listener set off decides only for sockets that connected after
 * (sock_rights_may_wait()): one queued before, as the client that
 * triggers socket activation is, may have sent some already: those are
 * read with recvmsg() and closed, and it can send no more. */
static bool
accepted_rights(const struct listener *l, int c)
{
	if (l->a.family != AF_UNIX || l->a.socktype != SOCK_STREAM)
		return false;
	if (l->ep->rights)
		return true;
	if (!sock_rights_may_wait(c))
		return false;
	(void)sock_refuse_rights(c);
	return true;
}

static void on_accept(struct evloop *loop, int fd, int events, void *arg);
static void on_dgram(struct evloop *loop, int fd, int events, void *arg);
static void bcast_refresh_due(struct server *s, uint64_t now);

static void
on_unpause(struct evloop *loop, void *arg)
{
	struct listener *l = arg;

	if (l->dgram != NULL)
		on_dgram(loop, l->fd, 0, l);
	else if (evloop_fd_set(loop, l->fd, EV_READ | l->excl, on_accept, l) == -1)
		evloop_timer_arm(loop, &l->pause, 100);
}

/* Spend the reserve fd to accept and close what waits on fd: how many.
 * If the reserve could not be had back (something else took the fd), it is
 * taken again on the next call, as soon as an fd is free: never lost for
 * good. */
static int
reserve_spend(struct server *s, int fd, bool *have_reserve)
{
	int n = 0;

	pthread_mutex_lock(&s->accept_lock);
	if (s->reserve_fd == -1)
		s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	while (s->reserve_fd != -1 && n < ACCEPTS_PER_CALL) {
		int c;
		close(s->reserve_fd);
		c = accept(fd, NULL, NULL);
		if (c != -1) {
			close(c);
			n++;
		}
		s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (c == -1)
			break;
	}
	*have_reserve = s->reserve_fd != -1;
	pthread_mutex_unlock(&s->accept_lock);
	return n;
}

/* Out of file descriptors. Accept and close what waits, so clients are
 * told at once instead of hanging; if even that is impossible, stop
 * watching the listener for a moment rather than wake up to the same
 * failure at 100% CPU. */
static void
fds_exhausted(struct listener *l)
{
	struct worker *w = l->w;
	bool have_reserve;
	int n = reserve_spend(w->s, l->fd, &have_reserve);

	ECHO_STAT_ADD(&w->st, conns_refused, (uint64_t)n);
	if (warn_due(w, &w->limit_log_at))
		log_warn("out of file descriptors: closing new connections (raise the fd limit "
		    "or lower --max-conns)");
	if (n == 0 || !have_reserve) {
		evloop_fd_del(w->loop, l->fd);
		evloop_timer_arm(w->loop, &l->pause, 100);
	}
}

static void
on_accept(struct evloop *loop, int fd, int events, void *arg)
{
	struct listener *l = arg;

	(void)loop;
	(void)events;
	for (int i = 0; i < ACCEPTS_PER_CALL; i++) {
		struct peer peer;
		int c;
		pthread_mutex_lock(&l->w->s->accept_lock);
		c = xaccept(fd, &peer);
		pthread_mutex_unlock(&l->w->s->accept_lock);
		if (c != -1) {
			conn_new(l->w, c, &l->a, &peer, accepted_rights(l, c));
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			fds_exhausted(l);
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			ECHO_STAT_ADD(&l->w->st, errors, 1);
		return;
	}
}

static void
log_refusals(struct listener *l)
{
	struct worker *w = l->w;
	uint64_t refused = ECHO_STAT_GET(&w->st, dgrams_refused) +
	    ECHO_STAT_GET(&w->st, dgrams_limited) + ECHO_STAT_GET(&w->st, dgrams_looped);
	char buf[ADDR_STRLEN + 96];

	if (refused == w->refused_logged || !warn_due(w, &w->refusal_log_at))
		return;
	if (echo_dgram_last_refusal(l->dgram, buf, sizeof(buf)) != NULL)
		log_warn("left %llu datagram(s) unanswered, latest from %s",
		    (unsigned long long)(refused - w->refused_logged), buf);
	w->refused_logged = refused;
}

static void
on_dgram(struct evloop *loop, int fd, int events, void *arg)
{
	struct listener *l = arg;
	int want;

	(void)events;
	bcast_refresh_due(l->w->s, evloop_now(loop));
	want = echo_dgram_io(l->dgram, &l->w->st);
	evloop_timer_cancel(loop, &l->pause);
	if (want == -1) {
		/* The socket would wake us again at once with the same error
		 * (ENOTSOCK from a wrong inherited fd, ENOMEM): rest it. */
		if (warn_due(l->w, &l->w->dgram_err_log_at))
			log_warn("datagram socket: %s (retrying every %d ms)", strerror(errno),
			    DGRAM_PAUSE_MS);
		evloop_fd_del(loop, fd);
		evloop_timer_arm(loop, &l->pause, DGRAM_PAUSE_MS);
	} else if (evloop_fd_set(loop, fd, want | l->excl, on_dgram, l) == -1) {
		evloop_timer_arm(loop, &l->pause, DGRAM_PAUSE_MS);
	} else if (want & EV_WRITE && l->a.family == AF_UNIX) {
		/* Only where the kernel cannot tell what we have queued
		 * (no SIOCOUTQ) does a unix datagram socket wait here. It
		 * is reported writable only below a quarter of its buffer:
		 * peers that never read may hold more than that for good,
		 * so look again in a while. */
		evloop_timer_arm(loop, &l->pause, DGRAM_RETRY_MS);
	}
	log_refusals(l);
	if (l->w->s->o.exit_when_idle && l->w->s->o.idle_ms > 0)
		evloop_timer_arm(loop, &l->w->linger, (uint64_t)l->w->s->o.idle_ms);
}

static struct endpoint *
endpoint_new(int fd, const struct addr *a, const struct sock_path_id *id)
{
	struct endpoint *ep = calloc(1, sizeof(*ep));

	if (ep == NULL)
		return NULL;
	ep->fd = fd;
	ep->a = *a;
	ep->owns_path = id != NULL;
	/* Where the kernel can refuse descriptors (Linux 6.16), none sit in
	 * the queue of a connection made after this (accepted_rights()), and
	 * a short read proves it empty. */
	ep->rights = a->family == AF_UNIX && a->socktype == SOCK_STREAM &&
	    sock_refuse_rights(fd) == -1;
	if (id != NULL)
		ep->path_id = *id;
	return ep;
}

/* Called by each listener as it lets go, after its loop stopped watching
 * the fd: only the last one closes it, so no loop ever watches a closed
 * fd, or a new one that took its number. */
static void
endpoint_release(struct endpoint *ep, bool unlink_path)
{
	if (__atomic_sub_fetch(&ep->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	/* Before close: while our socket lives, no server of ours can
	 * take the path, so it is still ours when sock_unlink checks. */
	if (unlink_path && ep->owns_path)
		sock_unlink(&ep->a, &ep->path_id);
	close(ep->fd);
	free(ep);
}

/* Watch ep on w's loop. With several workers every loop watches the same
 * socket, and EV_EXCLUSIVE wakes one loop per arrival, not all of them. */
static int
listener_add(struct worker *w, struct endpoint *ep)
{
	struct listener *l = calloc(1, sizeof(*l));
	const struct addr *a = &ep->a;
	bool dgram = a->socktype == SOCK_DGRAM;

	if (l == NULL)
		return -1;
	l->w = w;
	l->ep = ep;
	l->fd = ep->fd;
	l->a = *a;
	l->excl = w->s->nw > 1 ? EV_EXCLUSIVE : 0;
	evtimer_init(&l->pause, on_unpause, l);
	/* Unix datagram sockets are one for all workers (no SO_REUSEPORT). */
	if (dgram && (l->dgram = echo_dgram_new(l->fd, a->family, &w->s->guard,
	    w->s->nw)) == NULL)
		goto fail;
	if (evloop_fd_set(w->loop, l->fd, EV_READ | l->excl, dgram ? on_dgram : on_accept, l) == -1)
		goto fail;
	__atomic_add_fetch(&ep->refs, 1, __ATOMIC_RELAXED);
	l->next = w->listeners;
	w->listeners = l;
	return 0;
fail:
	echo_dgram_free(l->dgram);
	free(l);
	return -1;
}

static void
listeners_close(struct worker *w, bool unlink_paths)
{
	while (w->listeners != NULL) {
		struct listener *l = w->listeners;
		w->listeners = l->next;
		evloop_timer_cancel(w->loop, &l->pause);
		evloop_fd_del(w->loop, l->fd);
		echo_dgram_free(l->dgram);
		endpoint_release(l->ep, unlink_paths);
		free(l);
	}
}

/* ---- workers ---- */

static void
on_grace(struct evloop *loop, void *arg)
{
	struct worker *w = arg;

	(void)loop;
	if (w->nconns > 0)
		log_info("grace period over: closing %d connection(s)", w->nconns);
	conns_close_all(w);
	evloop_stop(w->loop);
}

static void
worker_stop(struct worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	listeners_close(w, true);
	evloop_timer_cancel(w->loop, &w->linger);
	if (w->nconns == 0)
		evloop_stop(w->loop);
	else
		evloop_timer_arm(w->loop, &w->grace, (uint64_t)w->s->o.grace_ms);
}

static void
on_wake(struct evloop *loop, int fd, int events, void *arg)
{
	char buf[16];

	(void)loop;
	(void)events;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	worker_stop(arg);
}

static void
on_linger(struct evloop *loop, void *arg)
{
	(void)arg;
	evloop_stop(loop); /* inetd "wait": no datagram for idle_ms */
}

/* Every field worker_done() looks at, so that it can undo a worker whose
 * worker_init() never ran: fds not opened are -1, never 0. */
static void
worker_preinit(struct worker *w, struct server *s)
{
	w->s = s;
	w->wake[0] = w->wake[1] = -1;
}

static int
worker_init(struct worker *w)
{
	struct server *s = w->s;

	evtimer_init(&w->idle, on_idle, w);
	evtimer_init(&w->grace, on_grace, w);
	evtimer_init(&w->linger, on_linger, w);
	evtimer_init(&w->budget, on_budget, w);
	w->loop = evloop_new(EVLOOP_DEFAULT);
	w->scratch.size = s->o.bufsize > 65536 ? s->o.bufsize : 65536;
	w->scratch.buf = malloc(w->scratch.size);
	if (w->loop == NULL || w->scratch.buf == NULL || pipe(w->wake) == -1 ||
	    sock_nonblock(w->wake[0]) == -1 || sock_nonblock(w->wake[1]) == -1 ||
	    evloop_fd_set(w->loop, w->wake[0], EV_READ, on_wake, w) == -1)
		return -1;
	return 0;
}

static void
worker_done(struct worker *w)
{
	if (w->loop != NULL)
		conns_close_all(w);
	conntab_free(&w->conns);
	if (w->loop != NULL) {
		listeners_close(w, true);
		evloop_timer_cancel(w->loop, &w->idle);
		evloop_timer_cancel(w->loop, &w->grace);
		evloop_timer_cancel(w->loop, &w->linger);
		evloop_timer_cancel(w->loop, &w->budget);
		evloop_free(w->loop);
	}
	for (int i = 0; i < 2; i++)
		if (w->wake[i] != -1)
			close(w->wake[i]);
	free(w->scratch.buf);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	if (evloop_run(w->loop) == -1) {
		log_err("event loop failed: %s", strerror(errno));
		w->failed = true; /* read after pthread_join */
		/* Stop the first loop, which stops the server: a server that
		 * lost a worker (and its connections) should be restarted. */
		if (w != &w->s->w[0])
			(void)!write(w->s->w[0].wake[1], "x", 1);
	}
	return NULL;
}

int
server_reload(struct server *s)
{
	int rc;

	/* SIGHUP on the first loop and a refresh on any worker's may meet:
	 * the guard's sequence lock takes one writer at a time. */
	pthread_mutex_lock(&s->reload_lock);
	rc = guard_load_broadcasts(&s->guard);
	pthread_mutex_unlock(&s->reload_lock);
	if (rc == -1) {
		log_warn("cannot list the interfaces' broadcast addresses: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Addresses come and go (DHCP, VPNs): a directed broadcast the guard does
 * not know would be answered. Re-read once a BCAST_REFRESH_MS at most (a
 * netlink dump is far dearer than an echo), by the first worker with
 * datagrams to answer after that: only they need it. A timer of its own
 * kept an idle server waking, and every sleep of a busy one armed a
 * kernel timer (epoll_wait with a timeout rather than none). */
static void
bcast_refresh_due(struct server *s, uint64_t now)
{
	uint64_t due = __atomic_load_n(&s->bcast_due, __ATOMIC_RELAXED);

	if (now < due || !__atomic_compare_exchange_n(&s->bcast_due, &due,
	    now + BCAST_REFRESH_MS, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	(void)server_reload(s);
}

/* A key no peer can guess: the kernel's randomness where it can be read,
 * the clock in any case. */
static uint64_t
secret_key(void)
{
	uint64_t k = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd != -1) {
		if (read(fd, &k, sizeof(k)) != (ssize_t)sizeof(k))
			k = 0;
		close(fd);
	}
	return k ^ evloop_clock_us();
}

int
server_new(struct server **out, const struct server_opts *o)
{
	struct server *s = calloc(1, sizeof(*s));
	int saved;

	*out = NULL;
	if (s == NULL)
		return -1;
	s->o = *o;
	s->nw = o->threads > 0 ? o->threads : 1;
	s->reserve_fd = -1;
	pthread_mutex_init(&s->accept_lock, NULL);
	s->guard.off = o->guard_off;
	pthread_mutex_init(&s->reload_lock, NULL);
	(void)server_reload(s);
	s->bcast_due = evloop_clock_ms() + BCAST_REFRESH_MS;
	echo_budget_init(&s->budget, o->max_owed);
	/* Keyed, so that no client can pick sources that share one chain. */
	if (o->max_per_source > 0 &&
	    (s->sources = srclimit_new(o->max_per_source, (size_t)(o->max_conns / 4),
		 evloop_clock_us() ^ (uintptr_t)s ^ 0x5eed)) == NULL)
		goto fail;
	/* The key only spreads sources over the table; it guards nothing: a
	 * spoofer who wants a victim's budget spent just spoofs the victim. */
	if (o->rate_limit > 0 &&
	    (s->guard.rl = ratelimit_new(o->rate_limit, evloop_clock_us() ^ (uintptr_t)s)) == NULL)
		goto fail;
	/* Keyed with a secret: a spoofer who could pick a second datagram
	 * for a loop's slot would reset its count on every round trip. */
	if (!o->guard_off && (s->guard.loops = guard_loops_new(secret_key())) == NULL)
		goto fail;
	s->w = calloc((size_t)s->nw, sizeof(*s->w));
	if (s->w == NULL)
		goto fail;
	for (int i = 0; i < s->nw; i++)
		worker_preinit(&s->w[i], s);
	for (int i = 0; i < s->nw; i++)
		if (worker_init(&s->w[i]) == -1)
			goto fail;
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	*out = s;
	return 0;
fail:
	saved = errno;
	server_free(s);
	errno = saved;
	return -1;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	for (int i = 0; s->w != NULL && i < s->nw; i++)
		worker_done(&s->w[i]);
	free(s->w);
	if (s->reserve_fd != -1)
		close(s->reserve_fd);
	pthread_mutex_destroy(&s->accept_lock);
	pthread_mutex_destroy(&s->reload_lock);
	ratelimit_free(s->guard.rl);
	guard_free(&s->guard);
	srclimit_free(s->sources);
	free(s);
}

struct evloop *
server_loop(struct server *s)
{
	return s->w[0].loop;
}

int
server_run(struct server *s)
{
	sigset_t all, old;
	int started = 1;

	/* Signals belong to the first loop: the workers block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; started < s->nw; started++)
		if (pthread_create(&s->w[started].thread, NULL, worker_main, &s->w[started]) != 0) {
			log_warn("could not start worker thread %d: running with %d", started, started);
			break;
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	worker_main(&s->w[0]);
	for (int i = 1; i < started; i++) {
		server_shutdown(s);
		pthread_join(s->w[i].thread, NULL);
	}
	for (int i = 0; i < started; i++)
		if (s->w[i].failed)
			return -1;
	return 0;
}

void
server_shutdown(struct server *s)
{
	worker_stop(&s->w[0]);
	for (int i = 1; i < s->nw; i++)
		(void)!write(s->w[i].wake[1], "x", 1);
}

void
server_stats(const struct server *s, struct echo_stats *sum, int *open_conns)
{
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < s->nw; i++) {
		const struct echo_stats *st = &s->w[i].st;
		sum->conns += ECHO_STAT_GET(st, conns);
		sum->conns_refused += ECHO_STAT_GET(st, conns_refused);
		sum->conns_idle += ECHO_STAT_GET(st, conns_idle);
		sum->bytes += ECHO_STAT_GET(st, bytes);
		sum->dgrams += ECHO_STAT_GET(st, dgrams);
		sum->dgrams_refused += ECHO_STAT_GET(st, dgrams_refused);
		sum->dgrams_limited += ECHO_STAT_GET(st, dgrams_limited);
		sum->dgrams_dropped += ECHO_STAT_GET(st, dgrams_dropped);
		sum->dgrams_looped += ECHO_STAT_GET(st, dgrams_looped);
		sum->errors += ECHO_STAT_GET(st, errors);
		sum->budget_paused += ECHO_STAT_GET(st, budget_paused);
		sum->conns_stalled += ECHO_STAT_GET(st, conns_stalled);
		sum->conns_source += ECHO_STAT_GET(st, conns_source);
	}
	*open_conns = __atomic_load_n(&s->nconns, __ATOMIC_RELAXED);
}

int
server_conn_blocks(const struct server *s)
{
	int n = 0;

	for (int i = 0; i < s->nw; i++)
		n += __atomic_load_n(&s->w[i].nblocks, __ATOMIC_RELAXED);
	return n;
}

void
server_owed(const struct server *s, uint64_t *owed, uint64_t *max)
{
	*owed = echo_budget_used(&s->budget);
	*max = s->budget.max;
}

/* ---- endpoints ---- */

static bool
is_unix_path(const struct addr *a)
{
	return a->family == AF_UNIX && ((const struct sockaddr_un *)&a->sa)->sun_path[0] != '\0';
}

/* Bind one entry, once, and give every worker a listener on it. */
static int
bind_entry(struct server *s, const struct addr *e, struct addr *bound, char *err, size_t errlen)
{
	struct endpoint *ep;
	struct sock_path_id id;
	int fd = sock_listen(e, &s->o.sock, &id, err, errlen);

	if (fd == -1)
		return -1;
	if (sock_local(fd, e, bound) == -1 || bound->len == 0)
		*bound = *e;
	ep = endpoint_new(fd, bound, is_unix_path(e) ? &id : NULL);
	if (ep == NULL || listener_add(&s->w[0], ep) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		sock_unlink(e, &id);
		close(fd);
		free(ep);
		return -1;
	}
	/* A worker that cannot watch it leaves it to the others. */
	for (int i = 1; i < s->nw; i++)
		(void)listener_add(&s->w[i], ep);
	return 0;
}

/* With --dualstack, a bound [::] of the same type and port already takes
 * IPv4: 0.0.0.0 would only fail with EADDRINUSE. Port 0 asks for any
 * port: the [::] bound for it, on whichever port it got, takes IPv4 too
 * (comparing 0 with that port opened a second socket on another port). */
static bool
covered_by_dualstack(const struct server *s, const struct addr *a)
{
	if (!s->o.sock.dualstack || a->family != AF_INET || !addr_is_wildcard(a))
		return false;
	for (const struct listener *l = s->w[0].listeners; l != NULL; l = l->next)
		if (l->a.family == AF_INET6 && l->a.socktype == a->socktype && addr_is_wildcard(&l->a) &&
		    (addr_port(a) == 0 || addr_port(&l->a) == addr_port(a)))
			return true;
	return false;
}

/* An endpoint this host cannot have (a family the kernel lacks, an address
 * or interface not here) is skipped, so that one list serves every host.
 * Anything else stops the start: another server has the address, the
 * port needs privileges, a path's directory is missing or not ours. Going
 * on would serve part of what was asked, and say ready. */
static bool
bind_skippable(int e)
{
	return e == EAFNOSUPPORT || e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT ||
	    e == EADDRNOTAVAIL || e == ENODEV;
}

int
server_bind(struct server *s, const struct addr_list *list, server_report_cb *report, void *arg)
{
	char err[ADDR_STRLEN + 160];
	int bound = 0;

	int shared = 0;

	for (size_t i = 0; i < list->n; i++) {
		const struct addr *e = &list->v[i];
		struct addr b, same;
		int rc = -1;

		if (covered_by_dualstack(s, e))
			continue;
		memset(&b, 0, sizeof(b));
		/* Port 0: every socket takes the port the first one got, where it
		 * is free, so that one name has one port in every family. */
		if (e->family != AF_UNIX && addr_port(e) == 0 && shared != 0) {
			same = *e;
			addr_set_port(&same, shared);
			rc = bind_entry(s, &same, &b, err, sizeof(err));
		}
		if (rc == -1 && bind_entry(s, e, &b, err, sizeof(err)) == -1) {
			int saved = errno;
			report(arg, e, err);
			if (!bind_skippable(saved)) {
				errno = saved;
				return -1;
			}
			continue;
		}
		if (e->family != AF_UNIX && addr_port(e) == 0 && shared == 0)
			shared = addr_port(&b);
		if (b.socktype == SOCK_DGRAM && b.family != AF_UNIX &&
		    guard_add_port(&s->guard, addr_port(&b)) == -1) {
			int saved = errno; /* out of memory at start: stop */
			snprintf(err, sizeof(err), "reflection guard: %s", strerror(saved));
			report(arg, &b, err);
			errno = saved;
			return -1;
		}
		report(arg, &b, NULL);
		bound++;
	}
	return bound;
}

int
server_adopt(struct server *s, int fd, const struct addr *a, bool connected)
{
	struct worker *w = &s->w[0];
	struct endpoint *ep;

	if (sock_nonblock(fd) == -1)
		return -1;
	if (a->family != AF_UNIX && a->socktype == SOCK_STREAM)
		(void)sock_urgent_inline(fd); /* best effort: as systemd made it */
	/* Connected (inetd): its peer may have passed descriptors already
	 * (conn_new() keeps its urgent data inline). */
	if (connected)
		return conn_new(w, fd, a, NULL, a->family == AF_UNIX && a->socktype == SOCK_STREAM);
	if (a->socktype == SOCK_DGRAM && a->family != AF_UNIX &&
	    guard_add_port(&s->guard, addr_port(a)) == -1)
		return -1;
	ep = endpoint_new(fd, a, NULL);
	if (ep == NULL || listener_add(w, ep) == -1) {
		free(ep);
		return -1;
	}
	for (int i = 1; i < s->nw; i++)
		(void)listener_add(&s->w[i], ep);
	/* idle_ms 0 means never, here too. */
	if (s->o.exit_when_idle && a->socktype == SOCK_DGRAM && s->o.idle_ms > 0)
		evloop_timer_arm(w->loop, &w->linger, (uint64_t)s->o.idle_ms);
	return 0;
}

#include "common.h"

#include <ares.h>
#include <net/if.h>

#include "log.h"
#include "resolve.h"

/* A c-ares channel on our loop: its sockets lead back to it. */
struct rchan {
	struct resolver *r;
	ares_channel ch;
};

struct resolver {
	struct evloop *loop;
	struct rchan main;  /* every lookup */
	struct rchan check; /* NOCHECKRESP: hands back any answer (query_check) */
	struct evtimer ares_timer; /* the one timer both channels ask for */
	int timeout_ms;
	char servers[256];
	int io_fd; /* the socket c-ares reads now: an answer's callback runs
	            * inside that read, so the peer is the server that answered */
	struct resolve_query *queries; /* every live query, to free at the end */
};

struct resolve_query {
	struct resolver *r;
	struct resolve_query *prev, *next;
	resolve_cb *cb;
	void *arg;
	struct addr_hints hints;
	int port;
	char name[ADDR_HOSTMAX + 2];
	uint64_t started_us; /* for reports: how long the lookup took */
	double ms;
	char server[256]; /* who answered, or the servers asked (r->servers) */
	bool answered;
	struct evtimer deadline;
	struct evtimer deliver; /* results found synchronously wait for the loop */
	struct addr_list list;
	enum resolve_status status;
	char errmsg[RESOLVE_ERRLEN];
	bool ares_busy; /* c-ares holds a pointer to us */
	bool in_start;  /* inside ares_getaddrinfo(): its callback may run there */
	bool done;      /* delivered or cancelled: free once c-ares lets go */
	bool checking;  /* asking again what the servers said (query_check) */
	/* Both families of a name: a lookup per family (query_split) */
	struct resolve_query *part[2]; /* AAAA, A: still out */
	struct addr_list plist[2];
	enum resolve_status pst[2];
	char perr[2][RESOLVE_ERRLEN];
};

/* ---- errors ---- */

enum resolve_status
resolve_status_from_ares(int s)
{
	switch (s) {
	case ARES_SUCCESS: return RESOLVE_OK;
	case ARES_ENOTFOUND: return RESOLVE_ENOTFOUND;
	case ARES_ENODATA: return RESOLVE_ENODATA;
	case ARES_ETIMEOUT: return RESOLVE_ETIMEOUT;
	case ARES_ESERVFAIL: return RESOLVE_ESERVFAIL;
	case ARES_EREFUSED: return RESOLVE_EREFUSED;
	case ARES_ECONNREFUSED: return RESOLVE_ECONN;
	case ARES_EFORMERR:
	case ARES_ENOTIMP:
	case ARES_EBADRESP: return RESOLVE_EBADRESP;
	case ARES_EBADNAME: return RESOLVE_EBADNAME;
	case ARES_ENOMEM: return RESOLVE_ENOMEM;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return RESOLVE_ECANCELLED;
	default: return RESOLVE_EOTHER;
	}
}

/* DNS RCODEs (RFC 1035 4.1.1), as c-ares would map them had it looked. */
enum resolve_status
resolve_status_classify(int ares_status, int rcode)
{
	if (ares_status == ARES_ECONNREFUSED) {
		switch (rcode) {
		case 1: return RESOLVE_EBADRESP;  /* FORMERR: it did not understand us */
		case 2: return RESOLVE_ESERVFAIL;
		case 3: return RESOLVE_ENOTFOUND;
		case 4: return RESOLVE_EBADRESP;  /* NOTIMP */
		case 5: return RESOLVE_EREFUSED;
		default: break; /* no answer (-1), or one that now says all is well */
		}
	}
	return resolve_status_from_ares(ares_status);
}

static const char *const status_names[][2] = {
	[RESOLVE_OK] = { "ok", "ok" },
	[RESOLVE_ENOTFOUND] = { "nxdomain", "NXDOMAIN" },
	[RESOLVE_ENODATA] = { "nodata", "NODATA" },
	[RESOLVE_ETIMEOUT] = { "timeout", "timeout" },
	[RESOLVE_ESERVFAIL] = { "servfail", "SERVFAIL" },
	[RESOLVE_EREFUSED] = { "refused", "REFUSED" },
	[RESOLVE_ECONN] = { "unreachable", "unreachable" },
	[RESOLVE_EBADRESP] = { "bad_answer", "bad answer" },
	[RESOLVE_EBADNAME] = { "bad_name", "bad name" },
	[RESOLVE_ENOMEM] = { "no_memory", "out of memory" },
	[RESOLVE_ECANCELLED] = { "cancelled", "cancelled" },
	[RESOLVE_EOTHER] = { "error", "error" },
};

const char *
resolve_status_name(enum resolve_status st)
{
	return (size_t)st < AE_NELEM(status_names) ? status_names[st][0] : "error";
}

const char *
resolve_status_word(enum resolve_status st)
{
	return (size_t)st < AE_NELEM(status_names) ? status_names[st][1] : "error";
}

void
resolve_describe(char *buf, size_t len, enum resolve_status st, int ares_status,
    const char *name, int family, const char *servers, int timeout_ms)
{
	const char *fam = family == AF_INET6 ? "IPv6 " : family == AF_INET ? "IPv4 " : "";

	switch (st) {
	case RESOLVE_OK:
		snprintf(buf, len, "ok");
		break;
	case RESOLVE_ENOTFOUND:
		snprintf(buf, len, "name not found: %s", name);
		break;
	case RESOLVE_ENODATA:
		snprintf(buf, len, "no %saddress for %s", fam, name);
		break;
	case RESOLVE_ETIMEOUT:
		snprintf(buf, len, "DNS server %s did not answer within %d ms for %s", servers,
		    timeout_ms, name);
		break;
	case RESOLVE_ESERVFAIL:
		snprintf(buf, len, "DNS server %s failed to resolve %s (SERVFAIL)", servers, name);
		break;
	case RESOLVE_EREFUSED:
		snprintf(buf, len, "DNS server %s refused to resolve %s", servers, name);
		break;
	case RESOLVE_ECONN:
		snprintf(buf, len, "could not reach DNS server %s to resolve %s", servers, name);
		break;
	case RESOLVE_EBADRESP:
		snprintf(buf, len, "bad answer from DNS server %s for %s (%s)", servers, name,
		    ares_strerror(ares_status));
		break;
	case RESOLVE_EBADNAME:
		snprintf(buf, len, "bad name: %s", name);
		break;
	case RESOLVE_ENOMEM:
		snprintf(buf, len, "out of memory resolving %s", name);
		break;
	case RESOLVE_ECANCELLED:
		snprintf(buf, len, "lookup of %s cancelled", name);
		break;
	default:
		snprintf(buf, len, "lookup of %s failed: %s", name, ares_strerror(ares_status));
	}
}

/* ---- c-ares on our loop ---- */

static void
resolver_rearm(struct resolver *r)
{
	struct timeval tv1, tv2, *tvp = ares_timeout(r->main.ch, NULL, &tv1);

	tvp = ares_timeout(r->check.ch, tvp, &tv2);

	if (tvp == NULL)
		evloop_timer_cancel(r->loop, &r->ares_timer);
	else
		evloop_timer_arm(r->loop, &r->ares_timer,
		    (uint64_t)tvp->tv_sec * 1000 + ((uint64_t)tvp->tv_usec + 999) / 1000);
}

static void
on_ares_timer(struct evloop *loop, void *arg)
{
	struct resolver *r = arg;

	(void)loop;
	ares_process_fd(r->main.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	ares_process_fd(r->check.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_rearm(r);
}

static void
on_ares_fd(struct evloop *loop, int fd, int events, void *arg)
{
	struct rchan *c = arg;
	struct resolver *r = c->r;

	(void)loop;
	r->io_fd = (events & EV_READ) ? fd : -1;
	ares_process_fd(c->ch, (events & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (events & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	r->io_fd = -1;
	resolver_rearm(r);
}

static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct rchan *c = data;
	int ev = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	/* Failure here means c-ares would wait for an event that never comes;
	 * the lookup's deadline still ends it with a clear timeout. */
	(void)evloop_fd_set(c->r->loop, fd, ev, on_ares_fd, c);
}

/* The server at the other end of a c-ares socket (they are connected),
 * written as servers_describe() does: a link-local one with its
 * interface, as c-ares writes it ("[fe80::1]:53%eth0"). */
static bool
server_of_fd(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE];

	if (fd == -1 || getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%d", ip, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
		bool scoped = sin6->sin6_scope_id != 0 &&
		    if_indextoname(sin6->sin6_scope_id, ifname) != NULL;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%d%s%s", ip, ntohs(sin6->sin6_port), scoped ? "%" : "",
		    scoped ? ifname : "");
	} else
		return false;
	return true;
}

/* The servers a channel holds, written as c-ares 1.24 and later write
 * them: ip:port, [ip6]:port, [ip6]:port%iface, comma-separated. malloc'd
 * ("" when none), NULL when out of memory. */
#ifdef HAVE_ARES_GET_SERVERS_CSV
/* ares_get_servers_ports is deprecated from 1.28, and knows no interface. */
static char *
servers_csv(ares_channel ch)
{
	char *csv = ares_get_servers_csv(ch), *s;

	s = strdup(csv != NULL ? csv : "");
	if (csv != NULL)
		ares_free_string(csv);
	return s;
}
#else
static char *
servers_csv(ares_channel ch)
{
	struct ares_addr_port_node *servers = NULL, *s;
	size_t n = 0, off = 0, size;
	char *out;

	if (ares_get_servers_ports(ch, &servers) != ARES_SUCCESS)
		return NULL;
	for (s = servers; s != NULL; s = s->next)
		n++;
	size = n * (INET6_ADDRSTRLEN + sizeof("[]:65535,")) + 1;
	out = malloc(size);
	if (out != NULL) {
		out[0] = '\0';
		for (s = servers; s != NULL; s = s->next) {
			char ip[INET6_ADDRSTRLEN];
			int port = s->udp_port ? s->udp_port : 53;

			inet_ntop(s->family, &s->addr, ip, sizeof(ip));
			off += (size_t)snprintf(out + off, size - off,
			    s->family == AF_INET6 ? "%s[%s]:%d" : "%s%s:%d", off ? "," : "", ip, port);
		}
	}
	ares_free_data(servers);
	return out;
}
#endif

static void
servers_describe(struct resolver *r)
{
	char *csv = servers_csv(r->main.ch);

	snprintf(r->servers, sizeof(r->servers), "%s",
	    csv != NULL && csv[0] != '\0' ? csv : "(none configured)");
	free(csv);
}

/* Does this c-ares take a link-local server with its interface? It
 * should from 1.24.0, but 1.34.0 to 1.34.5 drop every one without a word
 * (ares_set_socket_functions_ex leaves the interface lookups unset; fixed
 * by c-ares PR #997, in 1.34.6, which distributions may backport): ask it,
 * with an interface this host has. */
static bool
cares_takes_iface(void)
{
	struct if_nameindex *ifs;
	struct ares_options ao;
	ares_channel ch;
	char probe[IF_NAMESIZE + 16], *csv = NULL;
	bool ok = false;

	ifs = if_nameindex();
	if (ifs == NULL || ifs[0].if_name == NULL) {
		if_freenameindex(ifs);
		return false;
	}
	snprintf(probe, sizeof(probe), "[fe80::1]%%%s", ifs[0].if_name);
	if_freenameindex(ifs);
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return false;
	memset(&ao, 0, sizeof(ao));
	if (ares_init_options(&ch, &ao, 0) == ARES_SUCCESS) {
		if (ares_set_servers_ports_csv(ch, probe) == ARES_SUCCESS)
			csv = servers_csv(ch);
		ok = csv != NULL && csv[0] != '\0';
		free(csv);
		ares_destroy(ch);
	}
	ares_library_cleanup();
	return ok;
}

void
resolve_cares(struct resolve_cares *out)
{
	out->text = ares_version(&out->version);
	out->iface = out->version >= RESOLVE_IFACE_VERSION && cares_takes_iface();
}

/* Whether the comma-separated list csv holds s. */
static bool
csv_has(const char *csv, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = csv; *p != '\0';) {
		size_t k = strcspn(p, ",");

		if (k == n && strncmp(p, s, n) == 0)
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* Did c-ares take the server el of list, now on the main channel (as
 * all says)? Handed alone to the check channel, el shows how c-ares
 * writes it, or that c-ares drops it even alone. 0, or -1 with err. */
static int
server_taken(struct resolver *r, const char *list, const char *el, const char *all, char *err,
    size_t errlen)
{
	const char *ver = ares_version(NULL);
	char *one = NULL;
	int st, rc = -1;

	st = ares_set_servers_ports_csv(r->check.ch, el);
	if (st == ARES_SUCCESS) {
		one = servers_csv(r->check.ch);
		st = one != NULL ? ARES_SUCCESS : ARES_ENOMEM;
	}
	if (st != ARES_SUCCESS)
		log_errbuf(err, errlen, "bad DNS server list '%s': c-ares %s refuses '%s': %s",
		    list, ver, el, ares_strerror(st));
	else if (one[0] == '\0')
		log_errbuf(err, errlen, "bad DNS server list '%s': c-ares %s drops '%s' without a "
		    "word (a link-local server without an interface it can find, or a site-local "
		    "fec0::/10 one)", list, ver, el);
	else if (all != NULL && !csv_has(all, one))
		log_errbuf(err, errlen, "bad DNS server list '%s': c-ares %s drops '%s' (%s): it "
		    "keeps one server per address and port, whatever the interface", list, ver, el,
		    one);
	else
		rc = 0;
	free(one);
	return rc;
}

/* Hand c-ares the list, and make sure it took every server in it: from
 * 1.24, c-ares drops without a word a link-local server without an
 * interface it can find, a site-local (fec0::/10) one, and one with the
 * address and port of another even on another link, and would resolve
 * through fewer servers than asked, or through the system's. 0, or -1
 * with err naming the server. */
static int
servers_set(struct resolver *r, const char *list, char *err, size_t errlen)
{
	char *all = NULL, *el = NULL;
	const char *p = list;
	int st, rc = -1;

	/* When c-ares refuses the list, the loop finds the element it refuses. */
	st = ares_set_servers_ports_csv(r->main.ch, list);
	if (st == ARES_SUCCESS) {
		all = servers_csv(r->main.ch);
		if (all == NULL)
			goto nomem;
	}
	for (;;) {
		size_t n = strcspn(p, ", "); /* c-ares from 1.24 also splits at blanks */

		if (n > 0) {
			el = strndup(p, n);
			if (el == NULL)
				goto nomem;
			if (server_taken(r, list, el, all, err, errlen) == -1)
				goto out;
			free(el);
			el = NULL;
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (st == ARES_SUCCESS)
		st = ares_set_servers_ports_csv(r->check.ch, list);
	if (st != ARES_SUCCESS) {
		log_errbuf(err, errlen, "bad DNS server list '%s': %s", list, ares_strerror(st));
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	log_errbuf(err, errlen, "out of memory");
out:
	free(el);
	free(all);
	return rc;
}

static int
rchan_init(struct resolver *r, struct rchan *c, int flags, int tries)
{
	struct ares_options ao;
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;

	c->r = r;
	memset(&ao, 0, sizeof(ao));
	ao.sock_state_cb = on_sock_state;
	ao.sock_state_cb_data = c;
	/* Spread the tries over the deadline. c-ares versions differ in their
	 * defaults and back-off; our own deadline timer is what a user sees. */
	ao.timeout = r->timeout_ms / tries > 0 ? r->timeout_ms / tries : 1;
	ao.tries = tries;
	ao.flags = flags;
	return ares_init_options(&c->ch, &ao, mask);
}

int
resolver_new(struct resolver **out, struct evloop *loop, const struct resolve_opts *opts,
    char *err, size_t errlen)
{
	struct resolver *r;
	int tries = opts->tries > 0 ? opts->tries : RESOLVE_TRIES;
	int status;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return log_errbuf(err, errlen, "out of memory");
	r->loop = loop;
	r->io_fd = -1;
	r->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : RESOLVE_TIMEOUT_MS;
	evtimer_init(&r->ares_timer, on_ares_timer, r);
	status = ares_library_init(ARES_LIB_INIT_ALL);
	if (status != ARES_SUCCESS)
		goto fail;
	status = rchan_init(r, &r->main, 0, tries);
	if (status == ARES_SUCCESS) {
		status = rchan_init(r, &r->check, ARES_FLAG_NOCHECKRESP, tries);
		if (status != ARES_SUCCESS)
			ares_destroy(r->main.ch);
	}
	if (status != ARES_SUCCESS) {
		ares_library_cleanup();
		goto fail;
	}
	if (opts->servers != NULL && servers_set(r, opts->servers, err, errlen) == -1) {
		resolver_free(r);
		return -1;
	}
	servers_describe(r);
	*out = r;
	return 0;
fail:
	log_errbuf(err, errlen, "cannot start the resolver: %s", ares_strerror(status));
	free(r);
	return -1;
}

/* ---- queries ---- */

static void
query_free(struct resolve_query *q)
{
	struct resolver *r = q->r;

	evloop_timer_cancel(r->loop, &q->deadline);
	evloop_timer_cancel(r->loop, &q->deliver);
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		r->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	addr_list_free(&q->list);
	addr_list_free(&q->plist[0]);
	addr_list_free(&q->plist[1]);
	free(q);
}

static void
query_deliver(struct resolve_query *q)
{
	struct addr_list list = q->list;
	struct resolve_info info = { q->hints.family, q->ms, q->server, q->answered };

	memset(&q->list, 0, sizeof(q->list));
	q->done = true;
	evloop_timer_cancel(q->r->loop, &q->deadline);
	evloop_timer_cancel(q->r->loop, &q->deliver);
	q->cb(q->arg, q->status, &list, q->status == RESOLVE_OK ? NULL : q->errmsg, &info);
	if (!q->ares_busy)
		query_free(q);
}

static void
on_deliver(struct evloop *loop, void *arg)
{
	(void)loop;
	query_deliver(arg);
}

static void
query_stamp(struct resolve_query *q)
{
	q->ms = (double)(evloop_clock_us() - q->started_us) / 1000.0;
}

/* Whether this process is out of descriptors (EMFILE, ENFILE): c-ares
 * then cannot open the socket to ask, and says "could not reach" (or
 * nothing, and the deadline says "did not answer"); 0 when a socket opens. */
static int
sockets_exhausted(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd != -1) {
		close(fd);
		return 0;
	}
	return errno == EMFILE || errno == ENFILE ? errno : 0;
}

/* Words for a failure. A timeout names the configured time: that is when
 * we gave up, and the clock's rounding would make 800 ms look like 799. */
static void
query_describe(struct resolve_query *q, int ares_status)
{
	int e = q->status == RESOLVE_ECONN || q->status == RESOLVE_ETIMEOUT ? sockets_exhausted() : 0;

	if (e != 0)
		snprintf(q->errmsg, sizeof(q->errmsg), "cannot open a socket to ask DNS server %s "
		    "about %s: %s", q->r->servers, q->name, strerror(e));
	else
		resolve_describe(q->errmsg, sizeof(q->errmsg), q->status, ares_status, q->name,
		    q->hints.family, q->server, q->r->timeout_ms);
}

/* Who answered: the peer of the socket being read, when c-ares says a
 * server answered at all; otherwise the servers that were asked. */
static void
query_note_server(struct resolve_query *q, bool answered)
{
	q->answered = answered && server_of_fd(q->r->io_fd, q->server, sizeof(q->server));
	if (!q->answered)
		snprintf(q->server, sizeof(q->server), "%s", q->r->servers);
}

static void
on_deadline(struct evloop *loop, void *arg)
{
	struct resolve_query *q = arg;

	(void)loop;
	query_stamp(q);
	query_note_server(q, false);
	/* Out of time while asking again (query_check): what c-ares said
	 * stands, as no answer came. */
	q->status = q->checking ? RESOLVE_ECONN : RESOLVE_ETIMEOUT;
	query_describe(q, q->checking ? ARES_ECONNREFUSED : ARES_ETIMEOUT);
	addr_list_free(&q->list);
	query_deliver(q);
}

static void
query_set_result(struct resolve_query *q, int ares_status, int rcode, struct ares_addrinfo *res)
{
	struct ares_addrinfo_node *n;

	query_stamp(q);
	q->status = resolve_status_classify(ares_status, rcode);
	for (n = res != NULL ? res->nodes : NULL; n != NULL && q->status == RESOLVE_OK; n = n->ai_next) {
		if (n->ai_family != AF_INET && n->ai_family != AF_INET6)
			continue;
		if (q->hints.family != AF_UNSPEC && n->ai_family != q->hints.family)
			continue;
		if (addr_list_add_ip(&q->list, n->ai_addr, &q->hints, q->port) == -1)
			q->status = RESOLVE_ENOMEM;
	}
	/* Never a silent empty list. */
	if (q->status == RESOLVE_OK && q->list.n == 0)
		q->status = RESOLVE_ENODATA;
	if (q->status != RESOLVE_OK) {
		addr_list_free(&q->list);
		query_describe(q, ares_status);
	}
}

static void
check_done(struct resolve_query *q, int status, int rcode)
{
	q->ares_busy = false;
	q->checking = false;
	if (q->done || status == ARES_EDESTRUCTION) {
		if (q->done)
			query_free(q);
		return;
	}
	query_note_server(q, rcode >= 0);
	query_set_result(q, ARES_ECONNREFUSED, rcode, NULL);
	query_deliver(q);
}

/* The check asks for the family that failed (A for both): c-ares sends
 * AAAA and A alike to the same servers. */
#ifdef HAVE_ARES_QUERY_DNSREC
static void
on_check(void *arg, ares_status_t status, size_t timeouts, const ares_dns_record_t *rec)
{
	(void)timeouts;
	check_done(arg, (int)status, rec != NULL ? (int)ares_dns_record_get_rcode(rec) : -1);
}

static void
check_send(struct resolve_query *q)
{
	ares_query_dnsrec(q->r->check.ch, q->name, ARES_CLASS_IN,
	    q->hints.family == AF_INET6 ? ARES_REC_TYPE_AAAA : ARES_REC_TYPE_A, on_check, q, NULL);
}
#else
static void
on_check(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	/* RCODE: the low 4 bits of the header's fourth byte (RFC 1035 4.1.1) */
	check_done(arg, status, abuf != NULL && alen >= 12 ? abuf[3] & 0x0f : -1);
}

static void
check_send(struct resolve_query *q)
{
	ares_query(q->r->check.ch, q->name, 1 /* IN */, q->hints.family == AF_INET6 ? 28 : 1,
	    on_check, q);
}
#endif

/* c-ares 1.18 says ECONNREFUSED both when no server could be reached and
 * when every one answered SERVFAIL or REFUSED (it skips such a server and
 * keeps only its first guess). Ask once more on the channel that hands
 * back any answer (ARES_FLAG_NOCHECKRESP), within the same deadline, to
 * tell which; the check's callback delivers. */
static void
query_check(struct resolve_query *q)
{
	struct resolver *r = q->r; /* c-ares may answer at once: q may be gone */

	q->checking = true;
	q->ares_busy = true;
	check_send(q);
	resolver_rearm(r);
}

static void
on_ares_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct resolve_query *q = arg;
	bool answered;

	(void)timeouts;
	q->ares_busy = false;
	if (q->done || status == ARES_EDESTRUCTION) {
		ares_freeaddrinfo(res);
		if (q->done)
			query_free(q);
		return;
	}
	/* Inside ares_getaddrinfo() no server has answered yet (c-ares 1.34
	 * fails there when the server's port is closed), and a check could
	 * deliver from inside resolve_start(). */
	if (status == ARES_ECONNREFUSED && !q->in_start) {
		ares_freeaddrinfo(res);
		query_check(q);
		return;
	}
	if (q->in_start && status == ARES_SUCCESS) { /* the hosts file, at once */
		snprintf(q->server, sizeof(q->server), "hosts file");
		q->answered = true;
	} else {
		answered = status != ARES_ETIMEOUT && status != ARES_ECONNREFUSED &&
		    status != ARES_ECANCELLED;
		query_note_server(q, answered);
	}
	query_set_result(q, status, -1, res);
	ares_freeaddrinfo(res);
	if (q->in_start)
		evloop_timer_arm(q->r->loop, &q->deliver, 0);
	else
		query_deliver(q);
}

static void
query_ask_dns(struct resolve_query *q)
{
	struct ares_addrinfo_hints ah;

	memset(&ah, 0, sizeof(ah));
	ah.ai_family = q->hints.family;
	/* CARES_HOSTS, when set, names the hosts file (tests, and users who
	 * want a private one); otherwise the system's is read. */
	ah.ai_flags = ARES_AI_ENVHOSTS;
	q->ares_busy = true;
	q->in_start = true;
	ares_getaddrinfo(q->r->main.ch, q->name, NULL, &ah, on_ares_done, q);
	q->in_start = false;
	if (q->ares_busy)
		evloop_timer_arm(q->r->loop, &q->deadline, (uint64_t)q->r->timeout_ms);
	resolver_rearm(q->r);
}

/* Both families' answers, AAAA's addresses first: any address makes it a
 * success (as c-ares' own AF_UNSPEC lookup); with none, the A lookup's
 * failure unless it merely had no data. */
static void
query_merge(struct resolve_query *q)
{
	int i;

	q->status = RESOLVE_OK;
	for (i = 0; i < 2; i++)
		for (size_t k = 0; k < q->plist[i].n; k++)
			if (addr_list_add(&q->list, &q->plist[i].v[k]) == -1)
				q->status = RESOLVE_ENOMEM;
	if (q->status == RESOLVE_OK && q->list.n > 0)
		return;
	addr_list_free(&q->list);
	if (q->status == RESOLVE_ENOMEM) {
		snprintf(q->errmsg, sizeof(q->errmsg), "out of memory resolving %s", q->name);
		return;
	}
	i = q->pst[1] != RESOLVE_ENODATA ? 1 : 0;
	q->status = q->pst[i];
	if (q->pst[0] == RESOLVE_ENODATA && q->pst[1] == RESOLVE_ENODATA)
		resolve_describe(q->errmsg, sizeof(q->errmsg), RESOLVE_ENODATA, ARES_ENODATA,
		    q->name, AF_UNSPEC, q->server, q->r->timeout_ms);
	else
		snprintf(q->errmsg, sizeof(q->errmsg), "%s", q->perr[i]);
}

static void
on_part(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg,
    const struct resolve_info *info)
{
	struct resolve_query *q = arg;
	int i = info->family == AF_INET6 ? 0 : 1;

	q->part[i] = NULL;
	q->pst[i] = st;
	q->plist[i] = *list;
	memset(list, 0, sizeof(*list));
	snprintf(q->perr[i], sizeof(q->perr[i]), "%s", errmsg != NULL ? errmsg : "");
	if (info->ms > q->ms)
		q->ms = info->ms;
	/* who answered: a server that did, else the servers asked */
	if (!q->answered)
		snprintf(q->server, sizeof(q->server), "%s", info->server);
	q->answered = q->answered || info->answered;
	if (q->part[0] != NULL || q->part[1] != NULL)
		return;
	query_merge(q);
	query_deliver(q);
}

/* A name of both families is asked as two lookups, AAAA and A, each
 * taking only its own family's records: c-ares' AF_UNSPEC lookup takes
 * any address record from either answer, so a server that answers the
 * AAAA question with an A record (and the A question with an AAAA) gave
 * both addresses here, and none to the client's per-family lookups. */
static int
query_split(struct resolve_query *q, const struct addr_spec *spec)
{
	struct addr_hints h = q->hints;

	h.family = AF_INET6;
	q->part[0] = resolve_start(q->r, spec, &h, on_part, q);
	h.family = AF_INET;
	q->part[1] = q->part[0] != NULL ? resolve_start(q->r, spec, &h, on_part, q) : NULL;
	if (q->part[1] != NULL)
		return 0;
	resolve_cancel(q->part[0]);
	return -1;
}

struct resolve_query *
resolve_start(struct resolver *r, const struct addr_spec *spec, const struct addr_hints *hints,
    resolve_cb *cb, void *arg)
{
	struct resolve_query *q = calloc(1, sizeof(*q));
	int rc;

	if (q == NULL)
		return NULL;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->hints = *hints;
	q->port = spec->port >= 0 ? spec->port : hints->port;
	q->started_us = evloop_clock_us();
	snprintf(q->name, sizeof(q->name), "%s", spec->host);
	evtimer_init(&q->deadline, on_deadline, q);
	evtimer_init(&q->deliver, on_deliver, q);
	q->next = r->queries;
	if (r->queries != NULL)
		r->queries->prev = q;
	r->queries = q;

	rc = addr_local(spec, hints, &q->list, q->errmsg, sizeof(q->errmsg));
	if (rc == 0 && hints->family == AF_UNSPEC) {
		if (query_split(q, spec) == 0)
			return q;
		query_free(q);
		return NULL;
	}
	if (rc == 0) {
		query_ask_dns(q);
		return q;
	}
	/* Literals, localhost, unix paths: no server was asked. */
	snprintf(q->server, sizeof(q->server), "local");
	q->answered = true;
	q->status = rc == 1 ? RESOLVE_OK : RESOLVE_ENODATA;
	evloop_timer_arm(r->loop, &q->deliver, 0);
	return q;
}

void
resolve_cancel(struct resolve_query *q)
{
	if (q == NULL || q->done)
		return;
	q->done = true;
	resolve_cancel(q->part[0]);
	resolve_cancel(q->part[1]);
	if (!q->ares_busy)
		query_free(q);
	else {
		evloop_timer_cancel(q->r->loop, &q->deadline);
		evloop_timer_cancel(q->r->loop, &q->deliver);
	}
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	/* ares_destroy() answers every pending lookup with ARES_EDESTRUCTION;
	 * on_ares_done() then lets go of it, and query_free() below takes the
	 * rest. */
	ares_destroy(r->main.ch);
	ares_destroy(r->check.ch);
	while (r->queries != NULL)
		query_free(r->queries);
	evloop_timer_cancel(r->loop, &r->ares_timer);
	ares_library_cleanup();
	free(r);
}

/* ---- many at once ---- */

struct item_ctx {
	struct resolve_item *item;
	struct evloop *loop;
	size_t *pending;
};

static void
on_item(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg,
    const struct resolve_info *info)
{
	struct item_ctx *x = arg;

	(void)info;
	x->item->status = st;
	if (st == RESOLVE_OK)
		x->item->list = *list;
	else
		snprintf(x->item->err, sizeof(x->item->err), "%s", errmsg);
	/* Done when every lookup has answered, not when c-ares has finished
	 * retrying those that already hit their deadline. */
	if (--*x->pending == 0)
		evloop_stop(x->loop);
}

int
resolve_items(struct resolver *r, struct resolve_item *items, size_t n,
    const struct addr_hints *hints)
{
	struct item_ctx *x = calloc(n > 0 ? n : 1, sizeof(*x));
	size_t pending = 0;
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		struct addr_spec spec;

		memset(&items[i].list, 0, sizeof(items[i].list));
		items[i].err[0] = '\0';
		items[i].status = RESOLVE_ENOMEM;
		if (x == NULL) {
			snprintf(items[i].err, sizeof(items[i].err), "out of memory");
			continue;
		}
		x[i] = (struct item_ctx){ &items[i], r->loop, &pending };
		if (addr_parse(&spec, items[i].text, items[i].err, sizeof(items[i].err)) == -1) {
			items[i].status = RESOLVE_EBADNAME;
			continue;
		}
		if (resolve_start(r, &spec, hints, on_item, &x[i]) == NULL)
			snprintf(items[i].err, sizeof(items[i].err), "out of memory");
		else
			pending++;
	}
	if (pending > 0)
		evloop_run(r->loop);
	for (size_t i = 0; i < n; i++)
		failed += items[i].err[0] != '\0';
	free(x);
	return failed;
}

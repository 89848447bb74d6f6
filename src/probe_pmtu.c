/* --pmtu: the path MTU search (pmtu.c decides the sizes) over one
 * datagram session. Probes go with fragmentation forbidden and the
 * kernel's own path MTU ignored (IP_PMTUDISC_PROBE), so each size really
 * leaves at that size; the error queue brings Packet Too Big /
 * Fragmentation Needed with the router that sent it and its MTU. */
#include "common.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include "client_int.h"
#include "errq.h"
#include "payload.h"
#include "pmtu.h"

#define SEQ_MASK 0x7fffffffLL
/* The smallest sizes every path must carry: IPv6 (RFC 8200) and the
 * IPv4 datagram every host must accept (RFC 791); as UDP payloads, the
 * 1232 and 548 bytes DNS uses. */
#define PMTU_MIN6 1280
#define PMTU_MIN4 576

struct pmtu_run {
	struct pmtu p;
	int hdr;          /* IP and UDP headers: size - hdr is the payload */
	long long seq;    /* of the probe in flight */
	uint64_t sent_at;
	bool waiting;     /* a probe is in flight */
	char by[ADDR_STRLEN];
};

/* The MTU of the interface the session's route leaves by: the address
 * connect() chose, looked up among the interfaces. A learned path MTU
 * (IP_MTU) would hide what the search is for; it is only the fallback. */
static int
iface_mtu(int fd, int family)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	struct ifaddrs *ifs = NULL;
	int mtu = 0, sock = -1;

	if (getsockname(fd, (struct sockaddr *)&local, &len) == 0 && getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i != NULL && mtu == 0; i = i->ifa_next) {
			struct ifreq ifr;
			const struct sockaddr *a = i->ifa_addr;
			bool same = a != NULL && a->sa_family == local.ss_family &&
			    (family == AF_INET
				    ? memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
					  &((struct sockaddr_in *)&local)->sin_addr, 4) == 0
				    : memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
					  &((struct sockaddr_in6 *)&local)->sin6_addr, 16) == 0);
			if (!same)
				continue;
			memset(&ifr, 0, sizeof(ifr));
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->ifa_name);
			sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (sock != -1 && ioctl(sock, SIOCGIFMTU, &ifr) == 0)
				mtu = ifr.ifr_mtu;
			if (sock != -1)
				close(sock);
		}
		freeifaddrs(ifs);
	}
	if (mtu == 0) {
		len = sizeof(mtu);
		if (getsockopt(fd, family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
			family == AF_INET6 ? IPV6_MTU : IP_MTU, &mtu, &len) == -1)
			mtu = 1500;
	}
	return mtu > 65535 ? 65535 : mtu;
}

static void
pmtu_probe_line(struct session *s, int size, double rtt, enum probe_status st, const char *why,
    const struct probe_icmp *icmp)
{
	char w[ADDR_STRLEN + 16], msg[ERRLEN + ADDR_STRLEN + 32];
	struct probe_result r = { s->t->text, &s->addr, s->pmtu->seq + 1, size, rtt, st, NULL,
		icmp, NULL, false, s->t->c->o.timeout_ms };

	/* Two addresses search at once: each line says which, and the size. */
	if (why != NULL) {
		snprintf(msg, sizeof(msg), "%d bytes to %s: %s", size,
		    session_where(&s->addr, w, sizeof(w)), why);
		r.error = msg;
	}
	s->t->c->rep.probe(s->t->c->rep.arg, &r);
}

static void
pmtu_verdict_words(struct session *s, struct pmtu_report *r, char *buf, size_t len)
{
	const struct pmtu *p = &s->pmtu->p;
	const char *tb = s->addr.family == AF_INET6 ? "Packet Too Big" : "Fragmentation Needed";

	switch (pmtu_verdict(p)) {
	case PMTU_FULL:
		r->kind = PMTU_KIND_FULL;
		snprintf(buf, len, "path MTU %d: the interface MTU, the whole way", p->lo);
		break;
	case PMTU_ANNOUNCED:
		r->kind = PMTU_KIND_ANNOUNCED;
		snprintf(buf, len, "path MTU %d, announced by %s", p->announced,
		    s->pmtu->by[0] ? s->pmtu->by : "an unknown router");
		break;
	case PMTU_BLACK_HOLE:
		r->kind = PMTU_KIND_BLACK_HOLE;
		snprintf(buf, len, "sizes above %d vanish and no %s arrives: black hole", p->lo, tb);
		break;
	case PMTU_FOUND:
		r->kind = PMTU_KIND_FOUND;
		snprintf(buf, len, "path MTU %d (larger sizes refused, no MTU announced)", p->lo);
		break;
	default:
		r->kind = PMTU_KIND_NOTHING;
		snprintf(buf, len, "nothing came back, not even %d bytes", p->min);
	}
}

static void
pmtu_finish(struct session *s)
{
	struct client *c = s->t->c;
	const struct pmtu *p = &s->pmtu->p;
	struct pmtu_report r;
	char words[ADDR_STRLEN + 96];

	memset(&r, 0, sizeof(r));
	r.target = s->t->text;
	r.addr = &s->addr;
	r.min = p->min;
	r.max = p->max;
	r.largest = p->lo;
	r.announced = p->announced;
	r.announced_by = s->pmtu->by[0] ? s->pmtu->by : NULL;
	r.vanished = p->vanished;
	r.probes = (int)s->nsent;
	if (s->err[0] != '\0') { /* an ICMP error other than "too big", or a wrong echo */
		r.kind = s->mismatched > 0 ? PMTU_KIND_WRONG_ECHO : PMTU_KIND_ERROR;
		r.verdict = s->err;
	} else {
		pmtu_verdict_words(s, &r, words, sizeof(words));
		r.verdict = words;
		if (r.kind == PMTU_KIND_BLACK_HOLE || r.kind == PMTU_KIND_NOTHING)
			snprintf(s->err, sizeof(s->err), "%s", words);
	}
	if (c->rep.pmtu != NULL)
		c->rep.pmtu(c->rep.arg, &r);
	session_finish(s);
}

static void pmtu_send(struct session *s);

static void
on_pmtu_next(struct evloop *loop, void *arg)
{
	(void)loop;
	pmtu_send(arg);
}

/* The probe in flight has its outcome: the next one goes from the loop,
 * not from here (a send that fails at once would recurse). */
static void
pmtu_settle(struct session *s, enum pmtu_outcome o, int mtu)
{
	struct client *c = s->t->c;

	s->pmtu->waiting = false;
	evloop_timer_cancel(c->loop, &s->rtimer);
	pmtu_result(&s->pmtu->p, o, mtu);
	evloop_timer_arm(c->loop, &s->ptimer, 0);
}

static void
pmtu_send(struct session *s)
{
	struct client *c = s->t->c;
	struct pmtu_run *run = s->pmtu;
	int size = pmtu_next(&run->p);
	size_t n;

	if (size == 0) {
		pmtu_finish(s);
		return;
	}
	n = (size_t)(size - run->hdr);
	run->seq = s->nsent++;
	run->sent_at = evloop_clock_us();
	run->waiting = true;
	payload_dgram_build(c->seed, (int)(run->seq & SEQ_MASK), s->tx, n);
	evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	if (send(s->fd, s->tx, n, MSG_NOSIGNAL) == -1 && errno != EAGAIN) {
		if (errno == EMSGSIZE) { /* larger than this host sends at all */
			pmtu_probe_line(s, size, 0, PROBE_LOST, "too big to send here", NULL);
			pmtu_settle(s, PMTU_TOO_BIG, 0);
			return;
		}
		session_connect_error(s, errno);
		pmtu_probe_line(s, size, 0, PROBE_LOST, s->err, NULL);
		pmtu_finish(s);
	}
}

static void
on_pmtu_timeout(struct evloop *loop, void *arg)
{
	struct session *s = arg;
	char msg[64];

	(void)loop;
	snprintf(msg, sizeof(msg), "no reply within %d ms", s->t->c->o.timeout_ms);
	pmtu_probe_line(s, s->pmtu->p.size, 0, PROBE_LOST, msg, NULL);
	pmtu_settle(s, PMTU_VANISHED, 0);
}

/* An error from the queue: "too big" is an answer for the search; any
 * other ICMP error (port unreachable...) ends the address. */
static void
pmtu_icmp(struct session *s, const struct errq_msg *m, const unsigned char *quoted)
{
	struct pmtu_run *run = s->pmtu;
	int hdr = payload_dgram_seq(quoted, m->len);
	char words[ADDR_STRLEN + 96], from[ADDR_STRLEN] = "";
	struct probe_icmp icmp = { m->type, m->code, NULL, errq_too_big(m) ? (int)m->info : 0 };

	if (m->origin == ERRQ_LOCAL || !run->waiting || (hdr >= 0 && hdr != (run->seq & SEQ_MASK)))
		return; /* the send() said it, or about an earlier probe */
	if (m->from.ss_family == AF_INET || m->from.ss_family == AF_INET6) {
		struct addr a;
		memset(&a, 0, sizeof(a));
		memcpy(&a.sa, &m->from, sizeof(m->from));
		a.family = m->from.ss_family;
		addr_format_host(&a, from, sizeof(from));
		icmp.from = from;
	}
	errq_describe(m, words, sizeof(words));
	pmtu_probe_line(s, run->p.size, 0, PROBE_ICMP, words, &icmp);
	if (!errq_too_big(m)) {
		snprintf(s->err, sizeof(s->err), "%s", words);
		evloop_timer_cancel(s->t->c->loop, &s->rtimer);
		pmtu_finish(s);
		return;
	}
	if (icmp.mtu > 0 && icmp.mtu < run->p.size &&
	    (run->p.announced == 0 || icmp.mtu < run->p.announced))
		snprintf(run->by, sizeof(run->by), "%s", from);
	pmtu_settle(s, PMTU_TOO_BIG, icmp.mtu);
}

/* The probe in flight came back, but not as sent: the probe reached the
 * server at its size, so what is wrong is the server's echo, not the path.
 * The search ends there, with a verdict that names the server. */
static void
pmtu_wrong_echo(struct session *s, const unsigned char *p, size_t n, double rtt)
{
	struct pmtu_run *run = s->pmtu;
	size_t want = (size_t)(run->p.size - run->hdr);
	size_t d = payload_dgram_diff(s->t->c->seed, (int)(run->seq & SEQ_MASK), p, n, want);
	char what[96];

	if (d < n && d < want)
		snprintf(what, sizeof(what), "echo differs from sent data at byte %zu", d);
	else
		snprintf(what, sizeof(what), "echo of %zu bytes, %zu were sent", n, want);
	s->mismatched++;
	session_answered(s); /* it did answer: its connect time */
	pmtu_probe_line(s, run->p.size, rtt, PROBE_MISMATCH, what, NULL);
	snprintf(s->err, sizeof(s->err), "wrong echo from the server at %d bytes (%s): the "
	    "server's fault, not the path's", run->p.size, what);
	run->waiting = false;
	evloop_timer_cancel(s->t->c->loop, &s->rtimer);
	pmtu_finish(s);
}

static void
pmtu_reply(struct session *s, const unsigned char *p, size_t n)
{
	struct client *c = s->t->c;
	struct pmtu_run *run = s->pmtu;
	int hdr = payload_dgram_seq(p, n);
	size_t want = (size_t)(run->p.size - run->hdr);
	double rtt;

	/* Only the echo of the probe in flight counts; an earlier size's
	 * late echo says nothing the search still needs. */
	if (!run->waiting || hdr != (run->seq & SEQ_MASK))
		return;
	rtt = (double)(evloop_clock_us() - run->sent_at) / 1000.0;
	if (n != want || payload_dgram_diff(c->seed, hdr, p, n, want) != want) {
		pmtu_wrong_echo(s, p, n, rtt);
		return;
	}
	session_answered(s); /* its connect time: the first reply */
	s->received++;
	if (s->received == 1 || rtt < s->rmin)
		s->rmin = rtt;
	if (rtt > s->rmax)
		s->rmax = rtt;
	s->rsum += rtt;
	s->rsq += rtt * rtt;
	pmtu_probe_line(s, run->p.size, rtt, PROBE_OK, NULL, NULL);
	pmtu_settle(s, PMTU_ECHOED, 0);
}

static void
on_pmtu_io(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	struct client *c = s->t->c;

	(void)loop;
	(void)events;
	for (int i = 0; i < 64 && !s->done; i++) {
		struct errq_msg m;
		ssize_t n;

		if (errq_read(fd, &m, c->rxbuf, sizeof(c->rxbuf)) == 1) {
			pmtu_icmp(s, &m, c->rxbuf);
			continue;
		}
		n = recv(fd, c->rxbuf, sizeof(c->rxbuf), MSG_TRUNC);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			continue; /* an error the queue holds, with its details */
		}
		pmtu_reply(s, c->rxbuf, (size_t)n > sizeof(c->rxbuf) ? sizeof(c->rxbuf) : (size_t)n);
	}
}

bool
probe_pmtu_start(struct session *s)
{
	struct client *c = s->t->c;
	int fam = s->addr.family, max;
	int v6 = IPV6_PMTUDISC_PROBE, v4 = IP_PMTUDISC_PROBE;

	if (s->addr.socktype != SOCK_DGRAM || (fam != AF_INET && fam != AF_INET6))
		return false;
	s->pmtu = calloc(1, sizeof(*s->pmtu));
	max = iface_mtu(s->fd, fam);
	s->tx = malloc(max > PMTU_MIN6 ? (size_t)max : PMTU_MIN6);
	if (s->pmtu == NULL || s->tx == NULL) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		session_finish(s);
		return true;
	}
	if (errq_enable(s->fd, fam) == -1 ||
	    (fam == AF_INET6 ? setsockopt(s->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6))
			     : setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4))) == -1) {
		snprintf(s->err, sizeof(s->err), "cannot forbid fragmentation: %s", strerror(errno));
		session_finish(s);
		return true;
	}
	s->pmtu->hdr = fam == AF_INET6 ? 40 + 8 : 20 + 8;
	pmtu_init(&s->pmtu->p, fam == AF_INET6 ? PMTU_MIN6 : PMTU_MIN4, max, 1);
	evtimer_init(&s->ptimer, on_pmtu_next, s);
	evtimer_init(&s->rtimer, on_pmtu_timeout, s);
	evloop_fd_set(c->loop, s->fd, EV_READ, on_pmtu_io, s);
	pmtu_send(s);
	return true;
}

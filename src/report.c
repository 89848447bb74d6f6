/* anyecho's output: probe lines, summaries, the --all table, as text or
 * as JSON (one object per line); and the worst outcome, for the exit
 * status. It prints; the client core (client.h) never does. */
#include "common.h"

#include <time.h>

#include "log.h"
#include "report.h"

static struct report_opts ro;

/* Where records and tables go: stdout, but in pipe mode (--stdin) that is
 * the echo, so there they go to stderr, one JSON record a line. */
static FILE *
rout(void)
{
	return ro.pipe ? stderr : stdout;
}

/* What the run found, for the outcome and the --all table. */
static struct {
	enum report_outcome status;
	struct row {
		struct addr addr;
		struct session_summary s;
		char error[160];
		struct addr local; /* s.local points here */
	} *rows;
	size_t nrows, caprows;
	/* --all: addresses not probed for a cause of this host's (out of
	 * descriptors), and that cause: said once, not once per address */
	long long local_fails;
	bool local_said;
	char local_err[160];
} run;

/* Every name lookup's outcome, for the --all table and the race's warning. */
static struct {
	struct dnsrow {
		char *target;
		int family;
		enum resolve_status status;
		char *error;
		bool warned;
	} *v;
	size_t n, cap;
} dns;

/* Standard output's first write error (0: none yet), and whom to tell. */
static struct {
	int err;
	void (*stop)(void *arg);
	void *arg;
} out;

static void
worse(enum report_outcome status)
{
	if (status > run.status)
		run.status = status;
}

/* ---- JSON: one object per line ---- */

static void json_strval(const char *v);
static void dns_warn(const char *target);
static const struct dnsrow *dns_find(const char *target, int family);
static void print_dns_row(const char *target, int family, int sw);
static bool dns_interrupted(int status);
static bool target_lookup_interrupted(const char *target);
static const char *dns_qtype(int family);

static void
json_str(const char *key, const char *v)
{
	fprintf(rout(), "\"%s\":", key);
	json_strval(v);
}

static void
json_strval(const char *v)
{
	if (v == NULL) {
		fprintf(rout(), "null");
		return;
	}
	fputc('"', rout());
	/* Valid UTF-8 goes as it is; controls (C0, DEL, C1) as \\u escapes;
	 * a byte that is not UTF-8 (a unix path may hold any) as U+FFFD,
	 * so every line stays valid JSON. */
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0';) {
		size_t n = log_utf8_len(p);
		if (n == 0)
			fprintf(rout(), "\\ufffd");
		else if (*p == '"' || *p == '\\')
			fprintf(rout(), "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(rout(), "\\u%04x", *p);
		else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			fprintf(rout(), "\\u%04x", p[1]);
		else
			fwrite(p, 1, n, rout());
		p += n > 0 ? n : 1;
	}
	fputc('"', rout());
}

/* Every record ends with when it was written: Unix seconds, to the ms. */
static void
json_end(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(rout(), ",\"timestamp\":%lld.%03ld}\n", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
}

static void
json_addr(const struct addr *a)
{
	char host[ADDR_STRLEN];

	if (a == NULL) {
		fprintf(rout(), ",\"address\":null,\"port\":null,\"family\":null,\"protocol\":null");
		return;
	}
	fprintf(rout(), ",");
	json_str("address", addr_format_host(a, host, sizeof(host)));
	if (a->family == AF_UNIX)
		fprintf(rout(), ",\"port\":null");
	else
		fprintf(rout(), ",\"port\":%d", addr_port(a));
	fprintf(rout(), ",\"family\":\"%s\",\"protocol\":\"%s\"", addr_family_name(a->family),
	    addr_type_name(a->socktype));
}

static void
json_ms(const char *key, double v, bool valid)
{
	if (valid)
		fprintf(rout(), ",\"%s\":%.3f", key, v);
	else
		fprintf(rout(), ",\"%s\":null", key);
}

/* A count that is 0 when unknown: null then. */
static void
json_count(const char *key, long long n)
{
	if (n > 0)
		fprintf(rout(), ",\"%s\":%lld", key, n);
	else
		fprintf(rout(), ",\"%s\":null", key);
}

/* TCP: " (SYN sent 2 times)" when the handshake lost a SYN, else "". */
static const char *
syn_text(long long syn_sent, char *buf, size_t len)
{
	if (syn_sent > 1)
		snprintf(buf, len, " (SYN sent %lld times)", syn_sent);
	else
		buf[0] = '\0';
	return buf;
}

static const char *const status_names[] = { "ok", "lost", "mismatch", "duplicate", "late",
	"unrecognised", "icmp_error", "other_source" };

/* New fields of a probe record: the ICMP error and who reported it; the
 * address a reply came from when it was not the one probed. */
static void
json_probe_extra(const struct probe_result *r)
{
	char host[ADDR_STRLEN];

	if (r->icmp != NULL) {
		fprintf(rout(), ",\"icmp_type\":%d,\"icmp_code\":%d,", r->icmp->type, r->icmp->code);
		json_str("icmp_from", r->icmp->from);
		if (r->icmp->mtu > 0)
			fprintf(rout(), ",\"mtu\":%d", r->icmp->mtu);
	}
	if (r->from != NULL) {
		fprintf(rout(), ",");
		json_str("from", addr_format_host(r->from, host, sizeof(host)));
		fprintf(rout(), ",\"from_port\":%d", addr_port(r->from));
	}
}

static void
json_probe(const struct probe_result *r)
{
	fprintf(rout(), "{\"type\":\"probe\",");
	json_str("target", r->target);
	json_addr(r->addr);
	fprintf(rout(), ",\"seq\":%lld,\"bytes\":%d", r->seq, r->bytes);
	json_ms("rtt_ms", r->rtt_ms,
	    r->status != PROBE_LOST && r->status != PROBE_ICMP && r->seq > 0);
	fprintf(rout(), ",\"status\":\"%s\",", status_names[r->status]);
	json_str("error", r->error);
	json_probe_extra(r);
	fprintf(rout(), ",\"retransmitted\":%s", r->retransmitted ? "true" : "false");
	json_end();
}

/* Probes that never came back: a late reply came back, so it is not one,
 * and one still in flight when the run was stopped had -W left. */
static long long
lost(const struct session_summary *s)
{
	long long n = s->sent - s->received - s->mismatched - s->late - s->in_flight;

	return n > 0 ? n : 0;
}

/* The probes loss is a share of: those whose fate is known. */
static long long
settled(const struct session_summary *s)
{
	return s->sent - s->in_flight;
}

/* Stopped with every probe sent still in flight: no loss is known. */
static bool
loss_unknown(const struct session_summary *s)
{
	return s->in_flight > 0 && settled(s) <= 0;
}

static double
loss_pct(const struct session_summary *s)
{
	return settled(s) > 0 ? 100.0 * (double)lost(s) / (double)settled(s) : 100.0;
}


/* A loss that one decimal would round to 0.0 % or 100.0 % (-1, +1), or
 * neither (0). In integers: x87's extended precision (i386) put 1 of 2000
 * on the wrong side of a floating-point 0.05. */
static int
loss_edge(long long sent, long long nlost)
{
	if (sent <= 0 || nlost <= 0 || nlost >= sent)
		return 0;
	if (nlost * 2000 < sent)
		return -1;
	return (sent - nlost) * 2000 <= sent ? 1 : 0;
}

const char *
report_loss_text(long long sent, long long nlost, char *buf, size_t len)
{
	double p = sent > 0 ? 100.0 * (double)nlost / (double)sent : 100.0;
	int edge = loss_edge(sent, nlost);

	if (edge < 0)
		snprintf(buf, len, "<0.1%%");
	else if (edge > 0)
		snprintf(buf, len, ">99.9%%");
	else if (sent > 0 && (nlost * 100) % sent != 0)
		snprintf(buf, len, "%.1f%%", p);
	else
		snprintf(buf, len, "%.0f%%", p);
	return buf;
}

static const char *
loss_text(const struct session_summary *s, char *buf, size_t len)
{
	if (loss_unknown(s)) {
		snprintf(buf, len, "n/a");
		return buf;
	}
	return report_loss_text(settled(s), lost(s), buf, len);
}

/* A reply that came back after -W still came back. */
static bool
reachable(const struct session_summary *s)
{
	if (s->pipe) /* all the input went through and came back */
		return s->connected && s->error == NULL && s->input_ended &&
		    s->bytes_received == s->bytes_sent;
	return s->connected && (s->received > 0 || s->late > 0 || s->connect_only);
}

/* Our end of the session, "192.0.2.1:40312", or "-" when unknown. */
static const char *
source_text(const struct session_summary *s, char *buf, size_t len, bool host_only)
{
	if (s->local == NULL)
		return "-";
	return host_only ? addr_format_host(s->local, buf, len) : addr_format(s->local, buf, len);
}

/* TCP: RTTs of the probes that waited for no retransmission, the path's
 * own; the full set's average measures TCP's recovery as well. */
static bool
has_clean_rtt(const struct session_summary *s)
{
	return !s->pipe && s->connected && s->retransmits >= 0 &&
	    s->received > s->retransmitted_probes;
}

static void
json_source(const struct session_summary *s)
{
	char host[ADDR_STRLEN];

	fprintf(rout(), ",");
	json_str("source", s->local != NULL ? addr_format_host(s->local, host, sizeof(host)) : NULL);
	if (s->local != NULL)
		fprintf(rout(), ",\"source_port\":%d", addr_port(s->local));
	else
		fprintf(rout(), ",\"source_port\":null");
	fprintf(rout(), ",\"connect_only\":%s", s->connect_only ? "true" : "false");
}

static void
json_summary(const struct session_summary *s)
{
	fprintf(rout(), "{\"type\":\"summary\",");
	json_str("target", s->target);
	json_addr(s->addr);
	fprintf(rout(), ",\"reachable\":%s", reachable(s) ? "true" : "false");
	json_ms("connect_ms", s->connect_ms, s->connected && s->connect_ms >= 0);
	if (s->pipe) /* bytes, not probes: no probe counts to give */
		fprintf(rout(), ",\"sent\":null,\"received\":null,\"mismatched\":null,\"duplicates\":null"
		       ",\"late\":null,\"unrecognised\":null,\"reordered\":null,\"in_flight\":null"
		       ",\"loss_pct\":null");
	else {
		fprintf(rout(), ",\"sent\":%lld,\"received\":%lld,\"mismatched\":%lld,\"duplicates\":%lld"
		       ",\"late\":%lld,\"unrecognised\":%lld,\"reordered\":%lld,\"in_flight\":%lld",
		    s->sent, s->received, s->mismatched, s->duplicates, s->late, s->unrecognised,
		    s->reordered, s->in_flight);
		/* One decimal, but a loss is never written as 0.0 or 100.0. */
		if (s->connect_only || loss_unknown(s))
			fprintf(rout(), ",\"loss_pct\":null");
		else if (loss_edge(settled(s), lost(s)) != 0)
			fprintf(rout(), ",\"loss_pct\":%.6g", loss_pct(s));
		else
			fprintf(rout(), ",\"loss_pct\":%.1f", loss_pct(s));
	}
	fprintf(rout(), ",\"attempts\":%d", s->attempts);
	json_ms("handshake_ms", s->handshake_ms,
	    s->connected && s->attempts > 0 && s->handshake_ms >= 0);
	json_count("syn_sent", s->connected ? s->syn_sent : 0);
	fprintf(rout(), ",\"preferred_family\":");
	if (s->preferred_family == AF_INET || s->preferred_family == AF_INET6)
		fprintf(rout(), "\"%s\"", addr_family_name(s->preferred_family));
	else
		fprintf(rout(), "null");
	fprintf(rout(), ",\"fallback\":%s,", s->fallback ? "true" : "false");
	json_str("fallback_error", s->fallback_error);
	if (s->connected && s->retransmits >= 0)
		fprintf(rout(), ",\"tcp_retransmits\":%lld,\"retransmitted_probes\":%lld",
		    s->retransmits, s->retransmitted_probes);
	else
		fprintf(rout(), ",\"tcp_retransmits\":null,\"retransmitted_probes\":null");
	json_ms("rtt_min_ms", s->rtt_min, s->received > 0);
	json_ms("rtt_avg_ms", s->rtt_avg, s->received > 0);
	json_ms("rtt_max_ms", s->rtt_max, s->received > 0);
	json_ms("rtt_mdev_ms", s->rtt_mdev, s->received > 0);
	json_ms("rtt_clean_min_ms", s->clean_min, has_clean_rtt(s));
	json_ms("rtt_clean_avg_ms", s->clean_avg, has_clean_rtt(s));
	json_ms("rtt_clean_max_ms", s->clean_max, has_clean_rtt(s));
	json_ms("rtt_clean_mdev_ms", s->clean_mdev, has_clean_rtt(s));
	if (s->pipe)
		fprintf(rout(), ",\"bytes_sent\":%llu,\"bytes_received\":%llu",
		    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received);
	json_source(s);
	fprintf(rout(), ",");
	json_str("error", s->error);
	json_end();
}

static const char *const outcome_names[] = { "connected", "failed", "cancelled" };

static void
json_attempt(const struct attempt_result *r)
{
	fprintf(rout(), "{\"type\":\"attempt\",");
	json_str("target", r->target);
	json_addr(r->addr);
	fprintf(rout(), ",\"attempt\":%d,\"start_ms\":%.3f,\"time_ms\":%.3f,\"outcome\":\"%s\",",
	    r->number, r->start_ms, r->time_ms, outcome_names[r->outcome]);
	json_str("error", r->error);
	json_count("syn_sent", r->syn_sent);
	json_end();
}

/* ---- text ---- */

/* Each connection attempt: -v text (stderr: stdout may carry a pipe's
 * echo), and always a JSON record (in pipe mode on stderr, see rout()). */
static void
on_attempt(void *arg, const struct attempt_result *r)
{
	char w[ADDR_STRLEN + 16], host[ADDR_STRLEN], syn[48];
	const char *fam, *type;

	(void)arg;
	if (ro.pmtu) /* every address is searched alone: its pmtu record says it */
		return;
	if (ro.json) {
		json_attempt(r);
		return;
	}
	if (!ro.verbose)
		return;
	addr_format_host(r->addr, host, sizeof(host));
	if (r->addr->family == AF_UNIX)
		snprintf(w, sizeof(w), "%s", host);
	else
		snprintf(w, sizeof(w), "%s port %d", host, addr_port(r->addr));
	fam = addr_family_name(r->addr->family);
	type = addr_type_name(r->addr->socktype);
	syn_text(r->syn_sent, syn, sizeof(syn));
	if (r->outcome == ATTEMPT_CONNECTED)
		log_info("%s: attempt %d to %s (%s %s) at +%.1f ms: connected in %.3f ms%s",
		    r->target, r->number, w, fam, type, r->start_ms, r->time_ms, syn);
	else
		log_info("%s: attempt %d to %s (%s %s) at +%.1f ms: %s after %.1f ms: %s%s",
		    r->target, r->number, w, fam, type, r->start_ms,
		    r->outcome == ATTEMPT_FAILED ? "failed" : "cancelled", r->time_ms,
		    r->error != NULL ? r->error : "unknown", syn);
}

static void
on_probe(void *arg, const struct probe_result *r)
{
	char buf[ADDR_STRLEN];

	(void)arg;
	/* Loss is the summary's to judge: a probe reported lost may yet
	 * come back late, and a late reply is no failure; nor is an intact
	 * duplicate (a wrong one is a mismatch), as ping's DUPs are none.
	 * --pmtu: losses are the search's answers. */
	if (r->status != PROBE_OK && r->status != PROBE_LATE && r->status != PROBE_LOST &&
	    r->status != PROBE_DUPLICATE && !ro.pmtu)
		worse(REPORT_FAILED);
	if (ro.json) {
		json_probe(r);
		return;
	}
	if (ro.quiet || ro.all)
		return;
	addr_format(r->addr, buf, sizeof(buf));
	if (ro.name_target)
		fprintf(rout(), "%s: ", r->target);
	if (r->status == PROBE_OK)
		fprintf(rout(), "%d bytes from %s (%s %s): seq=%lld time=%.3f ms%s\n", r->bytes, buf,
		    addr_family_name(r->addr->family), addr_type_name(r->addr->socktype), r->seq,
		    r->rtt_ms, r->retransmitted ? " (retransmitted)" : "");
	else if (r->status == PROBE_LATE && r->rtt_ms > 0 && r->error != NULL &&
	    strcmp(r->error, PROBE_AFTER_ERROR) == 0) /* within -W: after its ICMP error */
		fprintf(rout(), "%d bytes from %s (%s %s): seq=%lld time=%.3f ms (late: after its error "
		       "was reported)\n",
		    r->bytes, buf, addr_family_name(r->addr->family),
		    addr_type_name(r->addr->socktype), r->seq, r->rtt_ms);
	else if (r->status == PROBE_LATE && r->rtt_ms > 0)
		fprintf(rout(), "%d bytes from %s (%s %s): seq=%lld time=%.3f ms (late: after the %d ms "
		       "timeout)\n",
		    r->bytes, buf, addr_family_name(r->addr->family),
		    addr_type_name(r->addr->socktype), r->seq, r->rtt_ms, r->timeout_ms);
	else if (ro.name_target && r->seq > 0)
		fprintf(rout(), "seq=%lld: %s\n", r->seq, r->error);
	else if (ro.name_target)
		fprintf(rout(), "%s\n", r->error);
	else if (r->seq > 0)
		fprintf(rout(), "%s: seq=%lld: %s\n", r->target, r->seq, r->error);
	else
		fprintf(rout(), "%s: %s\n", r->target, r->error);
}

/* -z: one line per session, like tcping. */
static void
print_connected(const struct session_summary *s)
{
	char buf[ADDR_STRLEN], syn[48];

	fprintf(rout(), "%s: %s (%s %s) open, handshake %.3f ms%s", s->target,
	    addr_format(s->addr, buf, sizeof(buf)), addr_family_name(s->addr->family),
	    addr_type_name(s->addr->socktype), s->connect_ms, syn_text(s->syn_sent, syn, sizeof(syn)));
	if (s->local != NULL)
		fprintf(rout(), ", source %s", source_text(s, buf, sizeof(buf), false));
	fprintf(rout(), "\n");
}

static void
print_summary(const struct session_summary *s)
{
	char buf[ADDR_STRLEN], pct[16], syn[48];

	if (s->pipe) {
		if (s->error != NULL)
			log_err("%s: %s", s->target, s->error);
		else if (ro.verbose)
			log_info("%s: %llu bytes sent, %llu echoed intact", s->target,
			    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received);
		return;
	}
	if (!s->connected) {
		log_err("%s: %s", s->target, s->error != NULL ? s->error : "not reached");
		return;
	}
	if (s->connect_only) {
		print_connected(s);
		return;
	}
	fprintf(rout(), "--- %s (%s, %s %s", s->target, addr_format(s->addr, buf, sizeof(buf)),
	    addr_family_name(s->addr->family), addr_type_name(s->addr->socktype));
	if (s->local != NULL)
		fprintf(rout(), ", source %s", source_text(s, buf, sizeof(buf), false));
	fprintf(rout(), ") ---\n");
	fprintf(rout(), "%lld sent, %lld received, %lld mismatched, %s loss", s->sent, s->received,
	    s->mismatched, loss_text(s, pct, sizeof(pct)));
	if (s->in_flight > 0)
		fprintf(rout(), ", %lld in flight when stopped", s->in_flight);
	if (s->connect_ms >= 0)
		fprintf(rout(), ", connect %.3f ms", s->connect_ms);
	else
		fprintf(rout(), ", no reply to connect");
	if (s->attempts > 1)
		fprintf(rout(), " (%d attempts)", s->attempts);
	fprintf(rout(), "%s", syn_text(s->syn_sent, syn, sizeof(syn)));
	if (s->duplicates > 0 || s->late > 0)
		fprintf(rout(), ", %lld duplicates, %lld late", s->duplicates, s->late);
	if (s->unrecognised > 0)
		fprintf(rout(), ", %lld unrecognised", s->unrecognised);
	if (s->reordered > 0)
		fprintf(rout(), ", %lld reordered", s->reordered);
	if (s->retransmits >= 0)
		fprintf(rout(), ", %lld retransmission%s", s->retransmits, s->retransmits == 1 ? "" : "s");
	fprintf(rout(), "\n");
	if (s->received > 0)
		fprintf(rout(), "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", s->rtt_min, s->rtt_avg,
		    s->rtt_max, s->rtt_mdev);
	if (has_clean_rtt(s) && s->retransmitted_probes > 0)
		fprintf(rout(), "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms without the %lld "
		       "retransmitted probe%s\n",
		    s->clean_min, s->clean_avg, s->clean_max, s->clean_mdev, s->retransmitted_probes,
		    s->retransmitted_probes == 1 ? "" : "s");
}

/* The rows' summaries point into the rows: after a realloc, again. */
static void
rows_moved(void)
{
	for (size_t i = 0; i < run.nrows; i++) {
		struct row *r = &run.rows[i];
		r->s.addr = &r->addr;
		r->s.error = r->error;
		r->s.local = r->s.local != NULL ? &r->local : NULL;
	}
}

static void
on_summary(void *arg, const struct session_summary *s)
{
	(void)arg;
	if (s->resolve_failed)
		worse(REPORT_UNRESOLVED);
	else if (ro.pmtu && s->connected) {
		/* the verdict said it all; a black hole is a failure */
		if (s->error != NULL)
			worse(REPORT_FAILED);
		if (ro.json)
			json_summary(s);
		else if (ro.verbose)
			print_summary(s);
		return;
	} else if (!reachable(s) || s->error != NULL || lost(s) > 0 || s->mismatched > 0 ||
	    s->unrecognised > 0)
		worse(REPORT_FAILED);
	if (s->fallback) {
		/* Reached, but not as it should be: a script sees exit 4. */
		worse(REPORT_FALLBACK);
		log_warn("%s: %s failed (%s); reached over %s", s->target,
		    addr_family_name(s->preferred_family),
		    s->fallback_error != NULL ? s->fallback_error : "slower than the attempt delay",
		    addr_family_name(s->addr->family));
	}
	if (!ro.all && !ro.json && !s->resolve_failed)
		dns_warn(s->target);
	if (ro.json)
		json_summary(s);
	if (ro.all && s->local_error && s->error != NULL) {
		if (run.local_fails++ == 0)
			snprintf(run.local_err, sizeof(run.local_err), "%s", s->error);
	}
	if (ro.all && s->addr != NULL) {
		struct row *r;
		if (run.nrows == run.caprows) {
			size_t cap = run.caprows ? run.caprows * 2 : 16;
			struct row *v = realloc(run.rows, cap * sizeof(*v));
			if (v == NULL)
				return;
			run.rows = v;
			run.caprows = cap;
			rows_moved();
		}
		r = &run.rows[run.nrows++];
		r->addr = *s->addr;
		r->s = *s;
		r->s.addr = &r->addr;
		if (s->local != NULL)
			r->local = *s->local;
		r->s.local = s->local != NULL ? &r->local : NULL;
		snprintf(r->error, sizeof(r->error), "%s", s->error != NULL ? s->error : "");
		r->s.error = r->error;
		return;
	}
	if (!ro.json)
		print_summary(s);
}

/* Short reason for the table: the error without the address it names. */
static const char *
short_error(const char *e)
{
	static const char *const known[] = { "connection refused", "no answer", "no reply",
		"network unreachable", "host unreachable", "echo differs", "no socket", "listen queue full", "echo has",
		"out of file descriptors" };

	for (size_t i = 0; i < AE_NELEM(known); i++)
		if (strncmp(e, known[i], strlen(known[i])) == 0)
			return known[i];
	return e;
}

#define CAUSES_MAX 32

/* Every distinct short cause among the family's failed rows, in order
 * (at most CAUSES_MAX); returns how many. */
static size_t
family_causes(const char *target, int family, const char **causes)
{
	size_t n = 0;

	for (size_t i = 0; i < run.nrows && n < CAUSES_MAX; i++) {
		const struct row *r = &run.rows[i];
		const char *why;
		bool seen = false;
		if (strcmp(r->s.target, target) != 0 || r->addr.family != family ||
		    reachable(&r->s) || r->error[0] == '\0')
			continue;
		why = short_error(r->error);
		for (size_t k = 0; k < i && !seen; k++) {
			const struct row *o = &run.rows[k];
			seen = strcmp(o->s.target, target) == 0 && o->addr.family == family &&
			    !reachable(&o->s) && o->error[0] != '\0' &&
			    strcmp(short_error(o->error), why) == 0;
		}
		if (!seen)
			causes[n++] = why;
	}
	return n;
}

static void
print_family_line(const char *target, int family)
{
	int total = 0, ok = 0;
	const char *causes[CAUSES_MAX];
	size_t ncauses;
	const struct dnsrow *d = dns_find(target, family);

	for (size_t i = 0; i < run.nrows; i++) {
		const struct row *r = &run.rows[i];
		if (strcmp(r->s.target, target) != 0 || r->addr.family != family)
			continue;
		total++;
		if (reachable(&r->s))
			ok++;
	}
	if (total == 0 && (d == NULL || d->status == RESOLVE_OK ||
	    (d->status == RESOLVE_ECANCELLED && !dns_interrupted(d->status))))
		return;
	ncauses = family_causes(target, family, causes);
	if (ro.json) {
		/* "reachable" is a boolean in every record; the count apart.
		 * The causes are an array: one may hold a comma itself. */
		fprintf(rout(), "{\"type\":\"family\",");
		json_str("target", target);
		fprintf(rout(), ",\"family\":\"%s\",\"reachable\":%s,\"reachable_count\":%d,\"total\":%d,",
		    addr_family_name(family), ok > 0 ? "true" : "false", ok, total);
		fprintf(rout(), "\"errors\":[");
		for (size_t k = 0; k < ncauses; k++) {
			fprintf(rout(), "%s", k > 0 ? "," : "");
			json_strval(causes[k]);
		}
		fprintf(rout(), "],\"dns\":");
		if (d != NULL)
			fprintf(rout(), "\"%s\"", resolve_status_name(d->status));
		else
			fprintf(rout(), "null");
		json_end();
		return;
	}
	if (total == 0) {
		fprintf(rout(), "%s: no address (%s: %s)\n", addr_family_name(family), dns_qtype(family),
		    d->error);
		return;
	}
	fprintf(rout(), "%s: %d of %d address%s reachable", addr_family_name(family), ok, total,
	    total == 1 ? "" : "es");
	for (size_t k = 0; ok < total && k < ncauses; k++)
		fprintf(rout(), "%s%s", k == 0 ? " (" : ", ", causes[k]);
	fprintf(rout(), "%s\n", ok < total && ncauses > 0 ? ")" : "");
}

/* The SOURCE column as wide as the target's longest source, so that the
 * table stays within 100 columns where it can. */
static int
source_width(const char *target)
{
	char buf[ADDR_STRLEN];
	size_t w = strlen("SOURCE");

	for (size_t i = 0; i < run.nrows; i++) {
		const struct row *r = &run.rows[i];
		size_t n;
		if (strcmp(r->s.target, target) != 0)
			continue;
		n = strlen(source_text(&r->s, buf, sizeof(buf), true));
		if (n > w)
			w = n;
	}
	return (int)w;
}

/* The row of the target and family that comes next in the resolver's
 * order after index `after` (SIZE_MAX: the first); NULL when none. */
static const struct row *
next_row(const char *target, int family, size_t *after)
{
	const struct row *best = NULL;

	for (size_t i = 0; i < run.nrows; i++) {
		const struct row *r = &run.rows[i];
		if (strcmp(r->s.target, target) != 0 || r->addr.family != family)
			continue;
		if (*after != SIZE_MAX && r->s.index <= *after)
			continue;
		if (best == NULL || r->s.index < best->s.index)
			best = r;
	}
	if (best != NULL)
		*after = best->s.index;
	return best;
}

static void
on_target_done(void *arg, const char *target)
{
	static const int families[] = { AF_INET6, AF_INET, AF_UNIX };
	char buf[ADDR_STRLEN], src[ADDR_STRLEN], rtt[40], conn[16], pct[16];
	int sw = source_width(target);
	size_t i;

	(void)arg;
	for (i = 0; i < run.nrows && strcmp(run.rows[i].s.target, target) != 0; i++)
		;
	if (i == run.nrows && !target_lookup_interrupted(target))
		return; /* nothing to tabulate: the name did not resolve, as said */
	if (!ro.json) {
		/* 80 columns before the source and the error, whose short
		 * form is under 20. */
		fprintf(rout(), "%s\n%-32s %-*s %-4s %-6s %8s %-18s %5s  %s\n", target, "ADDRESS", sw,
		    "SOURCE", "FAM", "PROTO", "CONNECT", "RTT min/avg/max ms", "LOSS", "ERROR");
		/* Rows by family, IPv6 first, then in the resolver's order. */
		for (size_t f = 0; f < AE_NELEM(families); f++) {
			size_t after = SIZE_MAX;
			for (const struct row *r = next_row(target, families[f], &after); r != NULL;
			    r = next_row(target, families[f], &after)) {
				/* "-": not connected, or a datagram address that
				 * never answered */
				if (r->s.connected && r->s.connect_ms >= 0)
					snprintf(conn, sizeof(conn), "%.1f ms", r->s.connect_ms);
				else
					snprintf(conn, sizeof(conn), "-");
				if (r->s.received > 0)
					snprintf(rtt, sizeof(rtt), "%.2f/%.2f/%.2f", r->s.rtt_min,
					    r->s.rtt_avg, r->s.rtt_max);
				else
					snprintf(rtt, sizeof(rtt), "-");
				if (r->s.connect_only)
					snprintf(pct, sizeof(pct), "-");
				else
					loss_text(&r->s, pct, sizeof(pct));
				fprintf(rout(), "%-32s %-*s %-4s %-6s %8s %-18s %5s  %s\n",
				    addr_format(&r->addr, buf, sizeof(buf)), sw,
				    source_text(&r->s, src, sizeof(src), true),
				    addr_family_name(r->addr.family), addr_type_name(r->addr.socktype),
				    conn, rtt, pct, short_error(r->error));
			}
		}
		print_dns_row(target, AF_INET6, sw);
		print_dns_row(target, AF_INET, sw);
	}
	for (i = 0; i < AE_NELEM(families); i++)
		print_family_line(target, families[i]);
}

/* ---- DNS: one record per lookup ---- */

static bool
same_host(const struct addr *a, const struct addr *b)
{
	char x[ADDR_STRLEN], y[ADDR_STRLEN];

	return strcmp(addr_format_host(a, x, sizeof(x)), addr_format_host(b, y, sizeof(y))) == 0;
}

static const char *
dns_qtype(int family)
{
	return family == AF_INET6 ? "AAAA" : family == AF_INET ? "A" : "A+AAAA";
}

/* A lookup that found nothing usable: NODATA and cancelled are answers. */
static bool
dns_failed(enum resolve_status st)
{
	return st != RESOLVE_OK && st != RESOLVE_ENODATA && st != RESOLVE_ECANCELLED;
}

static void
json_dns(const struct dns_result *d)
{
	char host[ADDR_STRLEN];

	fprintf(rout(), "{\"type\":\"dns\",");
	json_str("target", d->target);
	fprintf(rout(), ",");
	json_str("name", d->name);
	fprintf(rout(), ",\"query\":\"%s\",\"family\":", dns_qtype(d->family));
	if (d->family == AF_UNSPEC)
		fprintf(rout(), "null");
	else
		fprintf(rout(), "\"%s\"", addr_family_name(d->family));
	fprintf(rout(), ",\"status\":\"%s\",\"addresses\":[", resolve_status_name(d->status));
	for (size_t i = 0, n = 0; i < d->list->n; i++) {
		/* one entry per address and socket type: each address once */
		if (i > 0 && same_host(&d->list->v[i], &d->list->v[i - 1]))
			continue;
		fprintf(rout(), "%s", n++ ? "," : "");
		json_strval(addr_format_host(&d->list->v[i], host, sizeof(host)));
	}
	fprintf(rout(), "]");
	json_ms("time_ms", d->ms, true);
	fprintf(rout(), ",");
	json_str("server", d->server);
	fprintf(rout(), ",\"answered\":%s,", d->answered ? "true" : "false");
	json_str("error", d->error);
	json_end();
}

/* -v: like dig's status line, one per lookup. */
static void
print_dns(const struct dns_result *d)
{
	char host[ADDR_STRLEN];

	fprintf(rout(), "dns %s %s: ", d->name, dns_qtype(d->family));
	if (d->status == RESOLVE_OK) {
		for (size_t i = 0, n = 0; i < d->list->n; i++) {
			if (i > 0 && same_host(&d->list->v[i], &d->list->v[i - 1]))
				continue;
			fprintf(rout(), "%s%s", n++ ? ", " : "",
			    addr_format_host(&d->list->v[i], host, sizeof(host)));
		}
	} else if (d->status == RESOLVE_ECANCELLED) {
		fprintf(rout(), "cancelled after %.1f ms (%s)\n", d->ms, d->error);
		return;
	} else
		fprintf(rout(), "%s", resolve_status_word(d->status));
	if (d->answered)
		fprintf(rout(), " in %.1f ms from %s\n", d->ms, d->server);
	else
		fprintf(rout(), " after %.1f ms, asked %s\n", d->ms, d->server);
}

static void
dns_keep(const struct dns_result *d)
{
	struct dnsrow *r;

	if (dns.n == dns.cap) {
		size_t cap = dns.cap ? dns.cap * 2 : 8;
		struct dnsrow *v = realloc(dns.v, cap * sizeof(*v));
		if (v == NULL)
			return;
		dns.v = v;
		dns.cap = cap;
	}
	r = &dns.v[dns.n];
	r->target = strdup(d->target);
	r->error = strdup(d->error != NULL ? d->error : "");
	if (r->target == NULL || r->error == NULL) {
		free(r->target);
		free(r->error);
		return;
	}
	r->family = d->family;
	r->status = d->status;
	r->warned = false;
	dns.n++;
}

static void
on_dns(void *arg, const struct dns_result *d)
{
	(void)arg;
	/* --all reports every family; a failed one is a failure there. */
	if (ro.all && (dns_failed(d->status) || dns_interrupted(d->status)))
		worse(REPORT_FAILED);
	dns_keep(d);
	if (ro.json)
		json_dns(d);
	else if (ro.verbose && !ro.quiet)
		print_dns(d);
}

/* The race reached the target over one family while the other's lookup
 * failed: say so once, before its summary (the --all table has a row). */
static void
dns_warn(const char *target)
{
	for (size_t i = 0; i < dns.n; i++) {
		struct dnsrow *r = &dns.v[i];
		if (r->warned || !dns_failed(r->status) || strcmp(r->target, target) != 0)
			continue;
		r->warned = true;
		log_warn("%s: %s lookup failed: %s", target, dns_qtype(r->family), r->error);
	}
}

static const struct dnsrow *
dns_find(const char *target, int family)
{
	for (size_t i = 0; i < dns.n; i++)
		if (dns.v[i].family == family && strcmp(dns.v[i].target, target) == 0)
			return &dns.v[i];
	return NULL;
}

/* --all never cancels a lookup but when stopped (SIGINT): there a
 * cancelled lookup is one interrupted, a row and a failure. */
static bool
dns_interrupted(int status)
{
	return ro.all && status == RESOLVE_ECANCELLED;
}

static bool
target_lookup_interrupted(const char *target)
{
	const struct dnsrow *a = dns_find(target, AF_INET6), *b = dns_find(target, AF_INET);

	return (a != NULL && dns_interrupted(a->status)) || (b != NULL && dns_interrupted(b->status));
}

/* --all: a family whose lookup gave no address still has its row, with
 * every column of the others (no source: nothing was sent). */
static void
print_dns_row(const char *target, int family, int sw)
{
	const struct dnsrow *r = dns_find(target, family);
	char what[48], why[48];

	if (r == NULL || (!dns_failed(r->status) && !dns_interrupted(r->status)))
		return;
	snprintf(what, sizeof(what), "(%s lookup)", dns_qtype(family));
	if (dns_interrupted(r->status))
		snprintf(why, sizeof(why), "interrupted");
	else
		snprintf(why, sizeof(why), "DNS %s", resolve_status_word(r->status));
	fprintf(rout(), "%-32s %-*s %-4s %-6s %8s %-18s %5s  %s\n", what, sw, "-",
	    addr_family_name(family), "-", "-", "-", "-", why);
}

/* ---- --pmtu: one verdict per address ---- */

static const char *const pmtu_kinds[] = { "full", "announced", "found", "black_hole", "nothing",
	"error", "wrong_echo" };

static void
on_pmtu(void *arg, const struct pmtu_report *r)
{
	char buf[ADDR_STRLEN];

	(void)arg;
	if (ro.json) {
		fprintf(rout(), "{\"type\":\"pmtu\",");
		json_str("target", r->target);
		json_addr(r->addr);
		fprintf(rout(), ",\"verdict\":\"%s\",\"largest\":%d,\"announced\":%d,", pmtu_kinds[r->kind],
		    r->largest, r->announced);
		json_str("announced_by", r->announced_by);
		fprintf(rout(), ",\"vanished\":%d,\"min\":%d,\"interface_mtu\":%d,\"probes\":%d,", r->vanished,
		    r->min, r->max, r->probes);
		json_str("message", r->verdict);
		json_end();
		return;
	}
	fprintf(rout(), "%s (%s, %s): %s (largest echo %d bytes, interface MTU %d, %d probes)\n", r->target,
	    addr_format(r->addr, buf, sizeof(buf)), addr_family_name(r->addr->family), r->verdict,
	    r->largest, r->max, r->probes);
}

/* Push what a record left in stdout's buffer to the reader now (the
 * buffer is a full one when stdout is a pipe or a file), and note the
 * first failure: fflush() gives its errno; a write that failed within
 * the record, the buffer being full, left only the error flag and errno. */
static void
out_flush(void)
{
	if (ro.pipe || out.err != 0)
		return;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	out.err = errno != 0 ? errno : EIO;
	if (out.stop != NULL)
		out.stop(out.arg);
}

/* Each callback, then its record out of the buffer. */
static void
flushed_probe(void *arg, const struct probe_result *r)
{
	on_probe(arg, r);
	out_flush();
}

static void
flushed_summary(void *arg, const struct session_summary *s)
{
	on_summary(arg, s);
	out_flush();
}

static void
flushed_target_done(void *arg, const char *target)
{
	on_target_done(arg, target);
	out_flush();
}

static void
flushed_dns(void *arg, const struct dns_result *d)
{
	on_dns(arg, d);
	out_flush();
}

static void
flushed_pmtu(void *arg, const struct pmtu_report *r)
{
	on_pmtu(arg, r);
	out_flush();
}

static void
flushed_attempt(void *arg, const struct attempt_result *r)
{
	on_attempt(arg, r);
	out_flush();
}

void
report_setup(const struct report_opts *o, struct client_report *rep)
{
	ro = *o;
	rep->probe = flushed_probe;
	rep->summary = flushed_summary;
	rep->target_done = ro.pmtu ? NULL : flushed_target_done;
	rep->arg = NULL;
	rep->dns = flushed_dns;
	rep->pmtu = flushed_pmtu;
	rep->attempt = flushed_attempt;
}

void
report_on_output_error(void (*stop)(void *arg), void *arg)
{
	out.stop = stop;
	out.arg = arg;
}

int
report_output_error(void)
{
	out_flush();
	return out.err;
}

/* --all: the rows name a local cause briefly; its words come once, after
 * every table (the tables end before stderr speaks). */
void
report_end(void)
{
	if (run.local_fails == 0 || run.local_said || ro.json)
		return;
	run.local_said = true;
	out_flush();
	log_err("%s: %lld address%s not probed; the limit is this host's, not the addresses'",
	    run.local_err, run.local_fails, run.local_fails == 1 ? "" : "es");
}

enum report_outcome
report_outcome(void)
{
	return run.status;
}

void
report_free(void)
{
	free(run.rows);
	run.rows = NULL;
	run.nrows = run.caprows = 0;
	for (size_t i = 0; i < dns.n; i++) {
		free(dns.v[i].target);
		free(dns.v[i].error);
	}
	free(dns.v);
	dns.v = NULL;
	dns.n = dns.cap = 0;
}

/* --resolve --json: one record per endpoint, in the order given, with
 * every entry it resolved to (none when it failed: error says why). */
void
report_resolved(const char *target, const struct addr_list *list, const char *error)
{
	char host[ADDR_STRLEN];

	fprintf(rout(), "{\"type\":\"resolved\",");
	json_str("target", target);
	fprintf(rout(), ",\"addresses\":[");
	for (size_t i = 0; i < list->n; i++) {
		const struct addr *a = &list->v[i];
		fprintf(rout(), "%s{", i ? "," : "");
		json_str("address", addr_format_host(a, host, sizeof(host)));
		if (a->family == AF_UNIX)
			fprintf(rout(), ",\"port\":null");
		else
			fprintf(rout(), ",\"port\":%d", addr_port(a));
		fprintf(rout(), ",\"family\":\"%s\",\"protocol\":\"%s\"}",
		    addr_family_name(a->family), addr_type_name(a->socktype));
	}
	fprintf(rout(), "],");
	json_str("error", error);
	json_end();
}

/* anyecho's output: probe lines, summaries, the --all table, as text or
 * as JSON (one object per line); and the worst outcome, for the exit
 * status. It prints; the client core (client.h) never does. */
#include "common.h"

#include <time.h>

#include "log.h"
#include "report.h"

static struct report_opts ro;

/* What the run found, for the outcome and the --all table. */
static struct {
	enum report_outcome status;
	struct row {
		struct addr addr;
		struct session_summary s;
		char error[160];
	} *rows;
	size_t nrows, caprows;
} run;

static void
worse(enum report_outcome status)
{
	if (status > run.status)
		run.status = status;
}

/* ---- JSON: one object per line ---- */

static void
json_str(const char *key, const char *v)
{
	printf("\"%s\":", key);
	if (v == NULL) {
		printf("null");
		return;
	}
	putchar('"');
	/* Valid UTF-8 goes as it is; controls (C0, DEL, C1) as \\u escapes;
	 * a byte that is not UTF-8 (a unix path may hold any) as U+FFFD,
	 * so every line stays valid JSON. */
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0';) {
		size_t n = log_utf8_len(p);
		if (n == 0)
			printf("\\ufffd");
		else if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			printf("\\u%04x", p[1]);
		else
			fwrite(p, 1, n, stdout);
		p += n > 0 ? n : 1;
	}
	putchar('"');
}

/* Every record ends with when it was written: Unix seconds, to the ms. */
static void
json_end(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf(",\"timestamp\":%lld.%03ld}\n", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
}

static void
json_addr(const struct addr *a)
{
	char host[ADDR_STRLEN];

	if (a == NULL) {
		printf(",\"address\":null,\"port\":null,\"family\":null,\"protocol\":null");
		return;
	}
	printf(",");
	json_str("address", addr_format_host(a, host, sizeof(host)));
	if (a->family == AF_UNIX)
		printf(",\"port\":null");
	else
		printf(",\"port\":%d", addr_port(a));
	printf(",\"family\":\"%s\",\"protocol\":\"%s\"", addr_family_name(a->family),
	    addr_type_name(a->socktype));
}

static void
json_ms(const char *key, double v, bool valid)
{
	if (valid)
		printf(",\"%s\":%.3f", key, v);
	else
		printf(",\"%s\":null", key);
}

static const char *const status_names[] = { "ok", "lost", "mismatch", "duplicate", "late",
	"unrecognised" };

static void
json_probe(const struct probe_result *r)
{
	printf("{\"type\":\"probe\",");
	json_str("target", r->target);
	json_addr(r->addr);
	printf(",\"seq\":%lld,\"bytes\":%d", r->seq, r->bytes);
	json_ms("rtt_ms", r->rtt_ms, r->status != PROBE_LOST && r->seq > 0);
	printf(",\"status\":\"%s\",", status_names[r->status]);
	json_str("error", r->error);
	printf(",\"retransmitted\":%s", r->retransmitted ? "true" : "false");
	json_end();
}

/* Probes that never came back: a late reply came back, so it is not one. */
static long long
lost(const struct session_summary *s)
{
	long long n = s->sent - s->received - s->mismatched - s->late;

	return n > 0 ? n : 0;
}

static double
loss_pct(const struct session_summary *s)
{
	return s->sent > 0 ? 100.0 * (double)lost(s) / (double)s->sent : 100.0;
}

const char *
report_loss_text(long long sent, long long nlost, char *buf, size_t len)
{
	double p = sent > 0 ? 100.0 * (double)nlost / (double)sent : 100.0;

	if (sent > 0 && nlost > 0 && p < 0.05)
		snprintf(buf, len, "<0.1%%");
	else if (sent > 0 && nlost < sent && p >= 99.95)
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
	return report_loss_text(s->sent, lost(s), buf, len);
}

/* A reply that came back after -W still came back. */
static bool
reachable(const struct session_summary *s)
{
	return s->connected && (s->received > 0 || s->late > 0 || (s->pipe && s->error == NULL));
}

static void
json_summary(const struct session_summary *s)
{
	printf("{\"type\":\"summary\",");
	json_str("target", s->target);
	json_addr(s->addr);
	printf(",\"reachable\":%s", reachable(s) ? "true" : "false");
	json_ms("connect_ms", s->connect_ms, s->connected && s->connect_ms >= 0);
	printf(",\"sent\":%lld,\"received\":%lld,\"mismatched\":%lld,\"duplicates\":%lld"
	       ",\"late\":%lld,\"unrecognised\":%lld,\"reordered\":%lld",
	    s->sent, s->received, s->mismatched, s->duplicates, s->late, s->unrecognised,
	    s->reordered);
	/* One decimal, but a loss is never written as 0.0 or 100.0. */
	if (lost(s) > 0 && lost(s) < s->sent && (loss_pct(s) < 0.05 || loss_pct(s) >= 99.95))
		printf(",\"loss_pct\":%.6g", loss_pct(s));
	else
		printf(",\"loss_pct\":%.1f", loss_pct(s));
	printf(",\"attempts\":%d", s->attempts);
	json_ms("handshake_ms", s->handshake_ms,
	    s->connected && s->attempts > 0 && s->handshake_ms >= 0);
	printf(",\"preferred_family\":");
	if (s->preferred_family == AF_INET || s->preferred_family == AF_INET6)
		printf("\"%s\"", addr_family_name(s->preferred_family));
	else
		printf("null");
	printf(",\"fallback\":%s,", s->fallback ? "true" : "false");
	json_str("fallback_error", s->fallback_error);
	if (s->connected && s->retransmits >= 0)
		printf(",\"tcp_retransmits\":%lld", s->retransmits);
	else
		printf(",\"tcp_retransmits\":null");
	json_ms("rtt_min_ms", s->rtt_min, s->received > 0);
	json_ms("rtt_avg_ms", s->rtt_avg, s->received > 0);
	json_ms("rtt_max_ms", s->rtt_max, s->received > 0);
	json_ms("rtt_mdev_ms", s->rtt_mdev, s->received > 0);
	if (s->pipe)
		printf(",\"bytes_sent\":%llu,\"bytes_received\":%llu",
		    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received);
	printf(",");
	json_str("error", s->error);
	json_end();
}

static const char *const outcome_names[] = { "connected", "failed", "cancelled" };

static void
json_attempt(const struct attempt_result *r)
{
	printf("{\"type\":\"attempt\",");
	json_str("target", r->target);
	json_addr(r->addr);
	printf(",\"attempt\":%d,\"start_ms\":%.3f,\"time_ms\":%.3f,\"outcome\":\"%s\",",
	    r->number, r->start_ms, r->time_ms, outcome_names[r->outcome]);
	json_str("error", r->error);
	json_end();
}

/* ---- text ---- */

/* Each connection attempt: -v text (stderr: stdout may carry a pipe's
 * echo), and always a JSON record (but not into a pipe's echo). */
static void
on_attempt(void *arg, const struct attempt_result *r)
{
	char w[ADDR_STRLEN + 16], host[ADDR_STRLEN];
	const char *fam, *type;

	(void)arg;
	if (ro.json) {
		if (!r->pipe)
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
	if (r->outcome == ATTEMPT_CONNECTED)
		log_info("%s: attempt %d to %s (%s %s) at +%.1f ms: connected in %.3f ms",
		    r->target, r->number, w, fam, type, r->start_ms, r->time_ms);
	else
		log_info("%s: attempt %d to %s (%s %s) at +%.1f ms: %s after %.1f ms: %s",
		    r->target, r->number, w, fam, type, r->start_ms,
		    r->outcome == ATTEMPT_FAILED ? "failed" : "cancelled", r->time_ms,
		    r->error != NULL ? r->error : "unknown");
}

static void
on_probe(void *arg, const struct probe_result *r)
{
	char buf[ADDR_STRLEN];

	(void)arg;
	/* Loss is the summary's to judge: a probe reported lost may yet
	 * come back late, and a late reply is no failure. */
	if (r->status != PROBE_OK && r->status != PROBE_LATE && r->status != PROBE_LOST)
		worse(REPORT_FAILED);
	if (ro.json) {
		json_probe(r);
		return;
	}
	if (ro.quiet || ro.all)
		return;
	addr_format(r->addr, buf, sizeof(buf));
	if (ro.name_target)
		printf("%s: ", r->target);
	if (r->status == PROBE_OK)
		printf("%d bytes from %s (%s %s): seq=%lld time=%.3f ms%s\n", r->bytes, buf,
		    addr_family_name(r->addr->family), addr_type_name(r->addr->socktype), r->seq,
		    r->rtt_ms, r->retransmitted ? " (retransmitted)" : "");
	else if (r->status == PROBE_LATE && r->rtt_ms > 0)
		printf("%d bytes from %s (%s %s): seq=%lld time=%.3f ms (late: after the %d ms "
		       "timeout)\n",
		    r->bytes, buf, addr_family_name(r->addr->family),
		    addr_type_name(r->addr->socktype), r->seq, r->rtt_ms, r->timeout_ms);
	else if (ro.name_target && r->seq > 0)
		printf("seq=%lld: %s\n", r->seq, r->error);
	else if (ro.name_target)
		printf("%s\n", r->error);
	else if (r->seq > 0)
		printf("%s: seq=%lld: %s\n", r->target, r->seq, r->error);
	else
		printf("%s: %s\n", r->target, r->error);
}

static void
print_summary(const struct session_summary *s)
{
	char buf[ADDR_STRLEN], pct[16];

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
	printf("--- %s (%s, %s %s) ---\n", s->target, addr_format(s->addr, buf, sizeof(buf)),
	    addr_family_name(s->addr->family), addr_type_name(s->addr->socktype));
	printf("%lld sent, %lld received, %lld mismatched, %s loss", s->sent, s->received,
	    s->mismatched, loss_text(s, pct, sizeof(pct)));
	if (s->connect_ms >= 0)
		printf(", connect %.3f ms", s->connect_ms);
	else
		printf(", no reply to connect");
	if (s->attempts > 1)
		printf(" (%d attempts)", s->attempts);
	if (s->duplicates > 0 || s->late > 0)
		printf(", %lld duplicates, %lld late", s->duplicates, s->late);
	if (s->unrecognised > 0)
		printf(", %lld unrecognised", s->unrecognised);
	if (s->reordered > 0)
		printf(", %lld reordered", s->reordered);
	if (s->retransmits >= 0)
		printf(", %lld retransmission%s", s->retransmits, s->retransmits == 1 ? "" : "s");
	printf("\n");
	if (s->received > 0)
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", s->rtt_min, s->rtt_avg,
		    s->rtt_max, s->rtt_mdev);
}

static void
on_summary(void *arg, const struct session_summary *s)
{
	(void)arg;
	if (s->resolve_failed)
		worse(REPORT_UNRESOLVED);
	else if (!reachable(s) || s->error != NULL || lost(s) > 0 || s->mismatched > 0 ||
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
	if (ro.json)
		json_summary(s);
	if (ro.all && s->addr != NULL) {
		struct row *r;
		if (run.nrows == run.caprows) {
			size_t cap = run.caprows ? run.caprows * 2 : 16;
			struct row *v = realloc(run.rows, cap * sizeof(*v));
			if (v == NULL)
				return;
			run.rows = v;
			run.caprows = cap;
		}
		r = &run.rows[run.nrows++];
		r->addr = *s->addr;
		r->s = *s;
		r->s.addr = &r->addr;
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
		"network unreachable", "host unreachable", "echo differs", "no socket", "listen queue full", "echo has" };

	for (size_t i = 0; i < AE_NELEM(known); i++)
		if (strncmp(e, known[i], strlen(known[i])) == 0)
			return known[i];
	return e;
}

/* Every distinct short cause among the family's failed rows, in order. */
static void
family_causes(const char *target, int family, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < run.nrows; i++) {
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
		if (!seen) {
			size_t l = strlen(buf);
			snprintf(buf + l, len - l, "%s%s", l ? ", " : "", why);
		}
	}
}

static void
print_family_line(const char *target, int family)
{
	int total = 0, ok = 0;
	char why[512];

	for (size_t i = 0; i < run.nrows; i++) {
		const struct row *r = &run.rows[i];
		if (strcmp(r->s.target, target) != 0 || r->addr.family != family)
			continue;
		total++;
		if (reachable(&r->s))
			ok++;
	}
	if (total == 0)
		return;
	family_causes(target, family, why, sizeof(why));
	if (ro.json) {
		/* "reachable" is a boolean in every record; the count apart. */
		printf("{\"type\":\"family\",");
		json_str("target", target);
		printf(",\"family\":\"%s\",\"reachable\":%s,\"reachable_count\":%d,\"total\":%d,",
		    addr_family_name(family), ok > 0 ? "true" : "false", ok, total);
		json_str("errors", why[0] != '\0' ? why : NULL);
		json_end();
		return;
	}
	printf("%s: %d of %d address%s reachable", addr_family_name(family), ok, total,
	    total == 1 ? "" : "es");
	if (ok < total && why[0] != '\0')
		printf(" (%s)", why);
	printf("\n");
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
	char buf[ADDR_STRLEN], rtt[40], conn[16], pct[16];

	(void)arg;
	if (!ro.json) {
		/* 80 columns before the error, whose short form is under 20. */
		printf("%s\n%-32s %-4s %-6s %8s %-18s %5s  %s\n", target, "ADDRESS", "FAM", "PROTO",
		    "CONNECT", "RTT min/avg/max ms", "LOSS", "ERROR");
		/* Rows by family, IPv6 first, then in the resolver's order. */
		for (size_t f = 0; f < AE_NELEM(families); f++) {
			size_t after = SIZE_MAX;
			for (const struct row *r = next_row(target, families[f], &after); r != NULL;
			    r = next_row(target, families[f], &after)) {
				snprintf(conn, sizeof(conn), r->s.connected ? "%.1f ms" : "-",
				    r->s.connect_ms);
				if (r->s.received > 0)
					snprintf(rtt, sizeof(rtt), "%.2f/%.2f/%.2f", r->s.rtt_min,
					    r->s.rtt_avg, r->s.rtt_max);
				else
					snprintf(rtt, sizeof(rtt), "-");
				printf("%-32s %-4s %-6s %8s %-18s %5s  %s\n",
				    addr_format(&r->addr, buf, sizeof(buf)),
				    addr_family_name(r->addr.family),
				    addr_type_name(r->addr.socktype), conn, rtt,
				    loss_text(&r->s, pct, sizeof(pct)), short_error(r->error));
			}
		}
	}
	for (size_t i = 0; i < AE_NELEM(families); i++)
		print_family_line(target, families[i]);
}

void
report_setup(const struct report_opts *o, struct client_report *rep)
{
	ro = *o;
	rep->probe = on_probe;
	rep->summary = on_summary;
	rep->target_done = on_target_done;
	rep->arg = NULL;
	rep->attempt = on_attempt;
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
}

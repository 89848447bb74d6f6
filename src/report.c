/* anyecho's output: probe lines, summaries, the --all table, as text or
 * as JSON (one object per line); and the worst outcome, for the exit
 * status. It prints; the client core (client.h) never does. */
#include "common.h"

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
	"unrecognised", "icmp_error", "other_source" };

/* New fields of a probe record: the ICMP error and who reported it; the
 * address a reply came from when it was not the one probed. */
static void
json_probe_extra(const struct probe_result *r)
{
	char host[ADDR_STRLEN];

	if (r->icmp != NULL) {
		printf(",\"icmp_type\":%d,\"icmp_code\":%d,", r->icmp->type, r->icmp->code);
		json_str("icmp_from", r->icmp->from);
		if (r->icmp->mtu > 0)
			printf(",\"mtu\":%d", r->icmp->mtu);
	}
	if (r->from != NULL) {
		printf(",");
		json_str("from", addr_format_host(r->from, host, sizeof(host)));
		printf(",\"from_port\":%d", addr_port(r->from));
	}
}

static void
json_probe(const struct probe_result *r)
{
	printf("{\"type\":\"probe\",");
	json_str("target", r->target);
	json_addr(r->addr);
	printf(",\"seq\":%lld,\"bytes\":%d", r->seq, r->bytes);
	json_ms("rtt_ms", r->rtt_ms,
	    r->status != PROBE_LOST && r->status != PROBE_ICMP && r->seq > 0);
	printf(",\"status\":\"%s\",", status_names[r->status]);
	json_str("error", r->error);
	json_probe_extra(r);
	printf("}\n");
}

static double
loss_pct(const struct session_summary *s)
{
	return s->sent > 0 ? 100.0 * (double)(s->sent - s->received - s->mismatched) / (double)s->sent
			   : 100.0;
}

static bool
reachable(const struct session_summary *s)
{
	return s->connected && (s->received > 0 || (s->pipe && s->error == NULL));
}

static void
json_summary(const struct session_summary *s)
{
	printf("{\"type\":\"summary\",");
	json_str("target", s->target);
	json_addr(s->addr);
	printf(",\"reachable\":%s", reachable(s) ? "true" : "false");
	json_ms("connect_ms", s->connect_ms, s->connected);
	printf(",\"sent\":%lld,\"received\":%lld,\"mismatched\":%lld,\"duplicates\":%lld"
	       ",\"late\":%lld,\"unrecognised\":%lld,\"reordered\":%lld",
	    s->sent, s->received, s->mismatched, s->duplicates, s->late, s->unrecognised,
	    s->reordered);
	printf(",\"loss_pct\":%.1f", loss_pct(s));
	json_ms("rtt_min_ms", s->rtt_min, s->received > 0);
	json_ms("rtt_avg_ms", s->rtt_avg, s->received > 0);
	json_ms("rtt_max_ms", s->rtt_max, s->received > 0);
	json_ms("rtt_mdev_ms", s->rtt_mdev, s->received > 0);
	if (s->pipe)
		printf(",\"bytes_sent\":%llu,\"bytes_received\":%llu",
		    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received);
	printf(",");
	json_str("error", s->error);
	printf("}\n");
}

/* ---- text ---- */

static void
on_probe(void *arg, const struct probe_result *r)
{
	char buf[ADDR_STRLEN];

	(void)arg;
	if (r->status != PROBE_OK && !ro.pmtu) /* --pmtu: losses are the search's answers */
		worse(REPORT_FAILED);
	if (ro.json) {
		json_probe(r);
		return;
	}
	if (ro.quiet || ro.all)
		return;
	addr_format(r->addr, buf, sizeof(buf));
	if (r->status == PROBE_OK)
		printf("%d bytes from %s (%s %s): seq=%lld time=%.3f ms\n", r->bytes, buf,
		    addr_family_name(r->addr->family), addr_type_name(r->addr->socktype), r->seq,
		    r->rtt_ms);
	else if (r->seq > 0)
		printf("%s: seq=%lld: %s\n", r->target, r->seq, r->error);
	else
		printf("%s: %s\n", r->target, r->error);
}

static void
print_summary(const struct session_summary *s)
{
	char buf[ADDR_STRLEN];

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
	printf("%lld sent, %lld received, %lld mismatched, %.0f%% loss, connect %.3f ms", s->sent,
	    s->received, s->mismatched, loss_pct(s), s->connect_ms);
	if (s->duplicates > 0 || s->late > 0)
		printf(", %lld duplicates, %lld late", s->duplicates, s->late);
	if (s->unrecognised > 0)
		printf(", %lld unrecognised", s->unrecognised);
	if (s->reordered > 0)
		printf(", %lld reordered", s->reordered);
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
	else if (ro.pmtu && s->connected) {
		/* the verdict said it all; a black hole is a failure */
		if (s->error != NULL)
			worse(REPORT_FAILED);
		if (ro.json)
			json_summary(s);
		else if (ro.verbose)
			print_summary(s);
		return;
	} else if (!reachable(s) || s->error != NULL || s->received + s->mismatched < s->sent ||
	    s->mismatched > 0 || s->unrecognised > 0)
		worse(REPORT_FAILED);
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

static void
print_family_line(const char *target, int family)
{
	int total = 0, ok = 0;
	const char *why = NULL;

	for (size_t i = 0; i < run.nrows; i++) {
		const struct row *r = &run.rows[i];
		if (strcmp(r->s.target, target) != 0 || r->addr.family != family)
			continue;
		total++;
		if (reachable(&r->s))
			ok++;
		else if (why == NULL && r->error[0] != '\0')
			why = short_error(r->error);
	}
	if (total == 0)
		return;
	if (ro.json) {
		printf("{\"type\":\"family\",");
		json_str("target", target);
		printf(",\"family\":\"%s\",\"reachable\":%d,\"total\":%d}\n", addr_family_name(family),
		    ok, total);
		return;
	}
	printf("%s: %d of %d address%s reachable", addr_family_name(family), ok, total,
	    total == 1 ? "" : "es");
	if (ok < total && why != NULL)
		printf(" (%s)", why);
	printf("\n");
}

static void
on_target_done(void *arg, const char *target)
{
	static const int families[] = { AF_INET6, AF_INET, AF_UNIX };
	char buf[ADDR_STRLEN], rtt[40], conn[16];

	(void)arg;
	if (!ro.json) {
		/* 80 columns before the error, whose short form is under 20. */
		printf("%s\n%-32s %-4s %-6s %8s %-18s %5s  %s\n", target, "ADDRESS", "FAM", "PROTO",
		    "CONNECT", "RTT min/avg/max ms", "LOSS", "ERROR");
		/* Rows by family, IPv6 first, then in the order they finished. */
		for (size_t i = 0; i < run.nrows * AE_NELEM(families); i++) {
			const struct row *r = &run.rows[i % run.nrows];
			if (strcmp(r->s.target, target) != 0 ||
			    r->addr.family != families[i / run.nrows])
				continue;
			snprintf(conn, sizeof(conn), r->s.connected ? "%.1f ms" : "-", r->s.connect_ms);
			if (r->s.received > 0)
				snprintf(rtt, sizeof(rtt), "%.2f/%.2f/%.2f", r->s.rtt_min, r->s.rtt_avg,
				    r->s.rtt_max);
			else
				snprintf(rtt, sizeof(rtt), "-");
			printf("%-32s %-4s %-6s %8s %-18s %4.0f%%  %s\n",
			    addr_format(&r->addr, buf, sizeof(buf)), addr_family_name(r->addr.family),
			    addr_type_name(r->addr.socktype), conn, rtt, loss_pct(&r->s),
			    short_error(r->error));
		}
	}
	for (size_t i = 0; i < AE_NELEM(families); i++)
		print_family_line(target, families[i]);
}

/* ---- --pmtu: one verdict per address ---- */

static const char *const pmtu_kinds[] = { "full", "announced", "found", "black_hole", "nothing",
	"error" };

static void
on_pmtu(void *arg, const struct pmtu_report *r)
{
	char buf[ADDR_STRLEN];

	(void)arg;
	if (ro.json) {
		printf("{\"type\":\"pmtu\",");
		json_str("target", r->target);
		json_addr(r->addr);
		printf(",\"verdict\":\"%s\",\"largest\":%d,\"announced\":%d,", pmtu_kinds[r->kind],
		    r->largest, r->announced);
		json_str("announced_by", r->announced_by);
		printf(",\"vanished\":%d,\"min\":%d,\"interface_mtu\":%d,\"probes\":%d,", r->vanished,
		    r->min, r->max, r->probes);
		json_str("message", r->verdict);
		printf("}\n");
		return;
	}
	printf("%s (%s, %s): %s (largest echo %d bytes, interface MTU %d, %d probes)\n", r->target,
	    addr_format(r->addr, buf, sizeof(buf)), addr_family_name(r->addr->family), r->verdict,
	    r->largest, r->max, r->probes);
}

void
report_setup(const struct report_opts *o, struct client_report *rep)
{
	ro = *o;
	rep->probe = on_probe;
	rep->summary = on_summary;
	rep->target_done = ro.pmtu ? NULL : on_target_done;
	rep->arg = NULL;
	rep->pmtu = on_pmtu;
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

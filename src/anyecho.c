/* anyecho: the client. Options, output (text or JSON), signals and exit
 * codes; resolving, connecting and probing are done by client.c. */
#include "common.h"

#include <getopt.h>
#include <signal.h>

#include "addriter.h"
#include "cli.h"
#include "client.h"
#include "log.h"
#include "payload.h"

#define EXIT_FAILED  1 /* unreachable, lost or wrong */
#define EXIT_USAGE   2 /* usage error, a malformed endpoint included */
#define EXIT_RESOLVE 3 /* a name that did not resolve (was 2 before 0.1.0) */
/* Like ping (iputils MIN_USER_INTERVAL_MS): shorter needs root. */
#define MIN_USER_INTERVAL_MS 2

static struct {
	struct client_opts co;
	struct addr_hints hints; /* --resolve */
	bool resolve_only, json, quiet, verbose;
} opt;

/* What the run found, for the exit status and the --all table. */
static struct {
	int status;
	struct row {
		struct addr addr;
		struct session_summary s;
		char error[160];
	} *rows;
	size_t nrows, caprows;
} run;

/* The synopsis; with --help (to stdout) also one line per option, as
 * in anyecho(1). */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: anyecho [-46tuAqvV] [-c count] [-s size] [-i interval] [-W timeout]\n"
	    "               [--connect-timeout time] [--attempt-delay time] [--sequential]\n"
	    "               [--json] [--dns-server list] [--dns-timeout time] [-p port]\n"
	    "               target [port] ...\n"
	    "       anyecho [options] --stdin target [port]\n"
	    "       anyecho [-46tu] [-p port] [--passive] --resolve endpoint ...\n");
	if (f != stdout)
		return;
	fputs("\nOptions:\n"
	      "  -4, -6                  IPv4 or IPv6 only\n"
	      "  -t, -u                  stream (TCP, the default) or datagram (UDP)\n"
	      "  -c, --count N           probes per address (default 3; 0: until stopped)\n"
	      "  -s, --size BYTES        bytes per probe (default 64)\n"
	      "  -i, --interval TIME     between probes (default 1s; under 2ms: root only)\n"
	      "  -W, --timeout TIME      wait for each echo; pipe mode: after the input\n"
	      "                          ended (default 2s)\n"
	      "      --connect-timeout TIME  a connection attempt, and a whole race\n"
	      "                          (default 5s)\n"
	      "      --attempt-delay TIME  between Happy Eyeballs attempts (default 250ms)\n"
	      "      --sequential        try addresses one after the other\n"
	      "  -A, --all               probe every address at once, then a table\n"
	      "      --json              one JSON object per line\n"
	      "      --stdin, -          pipe mode: stdin to the server, its echo to stdout\n"
	      "  -p, --port PORT         for targets that name none (default 7)\n"
	      "      --dns-server LIST   DNS servers to ask: ip[:port],...\n"
	      "      --dns-timeout TIME  give up on a lookup after this long (default 5s)\n"
	      "      --dns-tries N       send each query this often (default 3)\n"
	      "      --resolve           resolve only and print the addresses\n"
	      "      --passive           with --resolve: as a server would\n"
	      "  -q, --quiet             summaries only\n"
	      "  -v, --verbose           more detail\n"
	      "  -h, --help              this help\n"
	      "  -V, --version           the version\n"
	      "TIME: seconds, or a number and a unit: 800ms, 1.5s, 2m.\n"
	      "Exit: 0 all well, 1 unreachable or a bad echo, 2 usage, 3 name not resolved.\n",
	    f);
}

static void
worse(int status)
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
	if (r->status != PROBE_OK)
		worse(EXIT_FAILED);
	if (opt.json) {
		json_probe(r);
		return;
	}
	if (opt.quiet || opt.co.mode == CLIENT_ALL)
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
		else if (opt.verbose)
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
		worse(EXIT_RESOLVE);
	else if (!reachable(s) || s->error != NULL || s->received + s->mismatched < s->sent ||
	    s->mismatched > 0 || s->unrecognised > 0)
		worse(EXIT_FAILED);
	if (opt.json)
		json_summary(s);
	if (opt.co.mode == CLIENT_ALL && s->addr != NULL) {
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
	if (!opt.json)
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
	if (opt.json) {
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
	if (!opt.json) {
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

/* ---- --resolve: the resolver layer on the command line ---- */

/* Every endpoint at once on one channel; printed in the order given, one
 * line per entry, like getent ahosts. */
static int
run_resolve(struct evloop *loop, char **names, int n)
{
	struct resolve_item *items = calloc((size_t)n, sizeof(*items));
	struct resolver *res = NULL;
	char err[RESOLVE_ERRLEN];
	int rc = 0, bad = 0, failed;

	if (items == NULL)
		return EXIT_FAILED;
	if (resolver_new(&res, loop, &opt.co.resolve, err, sizeof(err)) == -1) {
		log_err("%s", err);
		free(items);
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		struct addr_spec spec;
		items[i].text = names[i];
		/* Endpoints that do not parse are usage errors; the rest that
		 * fail did not resolve. */
		if (addr_parse(&spec, names[i], err, sizeof(err)) == -1)
			bad++;
	}
	failed = resolve_items(res, items, (size_t)n, &opt.hints);
	if (bad > 0)
		rc = EXIT_USAGE;
	else if (failed > 0)
		rc = EXIT_RESOLVE;
	for (int i = 0; i < n; i++) {
		if (items[i].err[0] != '\0')
			log_err("%s: %s", items[i].text, items[i].err);
		for (size_t j = 0; j < items[i].list.n; j++) {
			const struct addr *a = &items[i].list.v[j];
			char buf[ADDR_STRLEN];
			printf("%-24s %-5s %-9s %s\n", items[i].text, addr_family_name(a->family),
			    addr_type_name(a->socktype), addr_format(a, buf, sizeof(buf)));
		}
		addr_list_free(&items[i].list);
	}
	resolver_free(res);
	free(items);
	return rc;
}

/* ---- options ---- */

enum {
	OPT_RESOLVE = 256, OPT_PASSIVE, OPT_CONNECT_TIMEOUT, OPT_ATTEMPT_DELAY, OPT_SEQUENTIAL,
	OPT_JSON, OPT_STDIN,
};

static const struct option longopts[] = {
	{ "count", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "interval", required_argument, NULL, 'i' },
	{ "timeout", required_argument, NULL, 'W' },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "attempt-delay", required_argument, NULL, OPT_ATTEMPT_DELAY },
	{ "sequential", no_argument, NULL, OPT_SEQUENTIAL },
	{ "all", no_argument, NULL, 'A' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "stdin", no_argument, NULL, OPT_STDIN },
	{ "port", required_argument, NULL, 'p' },
	{ "resolve", no_argument, NULL, OPT_RESOLVE },
	{ "passive", no_argument, NULL, OPT_PASSIVE },
	CLI_RESOLVE_LONGOPTS,
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_option(int c, const char *arg, unsigned *types)
{
	char err[ADDR_ERRLEN] = "";
	long v;
	int rc = cli_resolve_option(c, arg, &opt.co.resolve, err, sizeof(err));

	if (rc == 1 && err[0] != '\0')
		log_warn("%s", err); /* an old spelling, still taken */
	if (rc != 0)
		goto out;
	switch (c) {
	case '4': opt.co.family = opt.hints.family = AF_INET; break;
	case '6': opt.co.family = opt.hints.family = AF_INET6; break;
	case 't': *types |= ADDR_STREAM; break;
	case 'u': *types |= ADDR_DGRAM; break;
	case 'A': opt.co.mode = CLIENT_ALL; break;
	case 'q': opt.quiet = true; break;
	case 'v': opt.verbose = true; break;
	case 'c':
		rc = cli_number("count", arg, 0, 100000000, &v, err, sizeof(err));
		opt.co.count = (int)v;
		break;
	case 's':
		rc = cli_size("size", arg, 1, 16 << 20, &v, err, sizeof(err));
		opt.co.size = (int)v;
		break;
	case 'i':
		rc = cli_duration("interval", arg, 3600000, &opt.co.interval_ms, err, sizeof(err));
		break;
	case 'W': rc = cli_duration("timeout", arg, 3600000, &opt.co.timeout_ms, err, sizeof(err)); break;
	case OPT_CONNECT_TIMEOUT:
		rc = cli_duration("connect timeout", arg, 3600000, &opt.co.connect_timeout_ms, err,
		    sizeof(err));
		break;
	case OPT_ATTEMPT_DELAY:
		rc = cli_duration("attempt delay", arg, 3600000, &opt.co.attempt_delay_ms, err,
		    sizeof(err));
		break;
	case OPT_SEQUENTIAL: opt.co.mode = CLIENT_SEQUENTIAL; break;
	case OPT_JSON: opt.json = true; break;
	case OPT_STDIN: opt.co.pipe = true; break;
	case 'p':
		rc = addr_parse_port(arg, &opt.co.port, err, sizeof(err));
		opt.hints.port = opt.co.port;
		break;
	case OPT_RESOLVE: opt.resolve_only = true; break;
	case OPT_PASSIVE: opt.hints.passive = true; break;
	case 'h': usage(stdout); exit(0);
	case 'V': printf("anyecho %s\n", PACKAGE_VERSION); exit(0);
	default: usage(stderr); return -1;
	}
out:
	if (rc == -1)
		log_err("%s", err);
	return rc == -1 ? -1 : 0;
}

static int
parse_options(int argc, char **argv)
{
	unsigned types = 0;
	int c;

	opt.co.family = opt.hints.family = AF_UNSPEC;
	opt.co.port = opt.hints.port = 7;
	opt.co.count = 3;
	opt.co.size = 64;
	opt.co.interval_ms = 1000;
	opt.co.timeout_ms = 2000;
	opt.co.connect_timeout_ms = 5000;
	opt.co.attempt_delay_ms = ADDRITER_ATTEMPT_DELAY_MS;
	while ((c = getopt_long(argc, argv, "46tuAqvVhc:s:i:W:p:", longopts, NULL)) != -1)
		if (parse_option(c, optarg, &types) == -1)
			return -1;
	opt.hints.types = types ? types : ADDR_STREAM | ADDR_DGRAM;
	if (opt.resolve_only)
		return 0;
	if (types == (ADDR_STREAM | ADDR_DGRAM)) {
		log_err("-t and -u: choose one (run twice to test both)");
		return -1;
	}
	opt.co.socktype = types == ADDR_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	if (opt.co.socktype == SOCK_DGRAM && opt.co.size > 65507) {
		log_err("bad size '%d': the largest datagram is 65507 bytes", opt.co.size);
		return -1;
	}
	if (opt.co.socktype == SOCK_DGRAM && opt.co.size < PAYLOAD_DGRAM_HEADER) {
		log_err("bad size '%d': datagram probes carry an %d-byte header, use %d or more",
		    opt.co.size, PAYLOAD_DGRAM_HEADER, PAYLOAD_DGRAM_HEADER);
		return -1;
	}
	if (opt.co.interval_ms < MIN_USER_INTERVAL_MS && geteuid() != 0) {
		log_err("interval %d ms: less than %d ms is a flood, only root may (as with ping)",
		    opt.co.interval_ms, MIN_USER_INTERVAL_MS);
		return -1;
	}
	if (opt.co.attempt_delay_ms != addriter_clamp_delay(opt.co.attempt_delay_ms)) {
		log_warn("attempt delay %d ms clamped to %d ms (RFC 8305: 10 ms to 2 s)",
		    opt.co.attempt_delay_ms, addriter_clamp_delay(opt.co.attempt_delay_ms));
		opt.co.attempt_delay_ms = addriter_clamp_delay(opt.co.attempt_delay_ms);
	}
	return 0;
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* "target [port] ...": a number after a target is its port. "-" asks
 * for pipe mode. */
static int
add_targets(struct client *c, int argc, char **argv, int *ntargets)
{
	char err[ADDR_ERRLEN];

	*ntargets = 0;
	for (int i = 0; i < argc; i++) {
		int port = -1;

		if (strcmp(argv[i], "-") == 0) {
			opt.co.pipe = true;
			continue;
		}
		if (i + 1 < argc && all_digits(argv[i + 1]) &&
		    addr_parse_port(argv[i + 1], &port, err, sizeof(err)) == -1) {
			log_err("%s: %s", argv[i], err);
			return -1;
		}
		if (client_add(c, argv[i], port, err, sizeof(err)) == -1) {
			log_err("%s: %s", argv[i], err);
			return -1;
		}
		(*ntargets)++;
		if (port >= 0)
			i++;
	}
	return 0;
}

static int
check_pipe(int ntargets)
{
	if (!opt.co.pipe)
		return 0;
	if (ntargets != 1 || opt.co.mode == CLIENT_ALL || opt.co.socktype != SOCK_STREAM) {
		log_err("--stdin needs exactly one target, a stream (-t), and no --all");
		return -1;
	}
	return 0;
}

static void
on_interrupt(struct evloop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	client_stop(arg);
}

int
main(int argc, char **argv)
{
	struct client_report rep = { on_probe, on_summary, on_target_done, NULL };
	struct evloop *loop = NULL;
	struct client *c = NULL;
	char err[RESOLVE_ERRLEN];
	int ntargets = 0, rc = EXIT_USAGE;
	bool piped;

	log_init("anyecho", LOG_LVL_INFO, false);
	signal(SIGPIPE, SIG_IGN);
	if (parse_options(argc, argv) == -1)
		return EXIT_USAGE;
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Pipe mode reads standard input, which may be a plain file: poll
	 * takes those, epoll does not. */
	piped = opt.co.pipe;
	for (int i = optind; i < argc; i++)
		piped |= strcmp(argv[i], "-") == 0;
	loop = evloop_new(piped ? EVLOOP_POLL : EVLOOP_DEFAULT);
	if (loop == NULL) {
		log_err("cannot create event loop: %s", strerror(errno));
		return EXIT_FAILED;
	}
	if (opt.resolve_only) {
		rc = run_resolve(loop, argv + optind, argc - optind);
		goto out;
	}
	if (client_new(&c, loop, &opt.co, &rep, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}
	if (add_targets(c, argc - optind, argv + optind, &ntargets) == -1)
		goto out;
	if (ntargets == 0) {
		usage(stderr);
		goto out;
	}
	if (check_pipe(ntargets) == -1)
		goto out;
	if (opt.co.pipe) {
		/* client_new copied the options before "-" was seen. */
		client_free(c);
		if (client_new(&c, loop, &opt.co, &rep, err, sizeof(err)) == -1 ||
		    add_targets(c, argc - optind, argv + optind, &ntargets) == -1)
			goto out;
	}
	evloop_signal(loop, SIGINT, on_interrupt, c);
	evloop_signal(loop, SIGTERM, on_interrupt, c);
	client_run(c);
	fflush(stdout);
	rc = run.status;
out:
	client_free(c);
	evloop_free(loop);
	free(run.rows);
	return rc;
}

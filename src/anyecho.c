/* anyecho: the client. Options, signals and exit codes; resolving,
 * connecting and probing are done by client.c, the output by report.c. */
#include "common.h"

#include <getopt.h>
#include <signal.h>

#include "addriter.h"
#include "cli.h"
#include "client.h"
#include "log.h"
#include "payload.h"
#include "report.h"

#define EXIT_FAILED  1 /* unreachable, lost or wrong */
#define EXIT_USAGE   2 /* usage error, a malformed endpoint included */
#define EXIT_RESOLVE 3 /* a name that did not resolve (was 2 before 0.1.0) */
#define EXIT_FALLBACK 4 /* reached, but the preferred family (IPv6) failed */
/* Like ping (iputils MIN_USER_INTERVAL_MS): shorter needs root. */
#define MIN_USER_INTERVAL_MS 2

static struct {
	struct client_opts co;
	struct addr_hints hints; /* --resolve */
	bool resolve_only, json, quiet, verbose;
	const char *source; /* -I, checked once all options are in */
	const char *size_text; /* -s as typed ("64k"), for the errors that check it later */
} opt;

/* The synopsis; with --help (to stdout) also one line per option, as
 * in anyecho(1). */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: anyecho [-46tuAqvVz] [-c count] [-s size] [-i interval] [-W timeout]\n"
	    "               [-I address|interface]\n"
	    "               [--connect-timeout time] [--attempt-delay time] [--sequential]\n"
	    "               [--json] [--dns-server list] [--dns-timeout time] [--dns-tries n]\n"
	    "               [-p port]\n"
	    "               target [port] ...\n"
	    "       anyecho [options] --stdin target [port]\n"
	    "       anyecho [-46tu] [-p port] [--passive] [--json] --resolve endpoint ...\n"
	    "       anyecho [-46u] [-W timeout] [--json] --pmtu target [port] ...\n");
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
	      "  -I, --source ADDR|IFACE connect from this address (its family only) or\n"
	      "                          through this interface\n"
	      "  -z, --connect-only      connect, report the handshake, close (any TCP\n"
	      "                          service, not only echo)\n"
	      "      --stdin, -          pipe mode: stdin to the server, its echo to stdout\n"
	      "  -p, --port PORT         for targets that name none (default 7)\n"
	      "      --dns-server LIST   DNS servers to ask: ip[:port],...\n"
	      "      --dns-timeout TIME  give up on a lookup after this long (default 5s)\n"
	      "      --dns-tries N       send each query this often (default 3)\n"
	      "      --resolve           resolve only and print the addresses\n"
	      "      --passive           with --resolve: as a server would\n"
	      "      --pmtu              path MTU of each address (datagrams)\n"
	      "  -q, --quiet             summaries only\n"
	      "  -v, --verbose           more detail\n"
	      "  -h, --help              this help\n"
	      "  -V, --version           the version\n"
	      "TIME: seconds, or a number and a unit: 800ms, 1.5s, 2m.\n"
	      "Exit: 0 all well, 1 unreachable or a bad echo, 2 usage, 3 name not resolved,\n"
	      "      4 reached, but the preferred family (IPv6) failed.\n",
	    f);
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
	if (opt.json) {
		struct report_opts ro = { .json = true };
		struct client_report rep;

		report_setup(&ro, &rep);
	}
	for (int i = 0; i < n && opt.json; i++)
		report_resolved(items[i].text, &items[i].list,
		    items[i].err[0] != '\0' ? items[i].err : NULL);
	for (int i = 0; i < n && !opt.json; i++) {
		/* what the user typed, made safe for a terminal */
		char *text = log_oneline(strdup(items[i].text));

		if (text == NULL) {
			log_err("%s", strerror(ENOMEM));
			rc = EXIT_FAILED;
			break;
		}
		if (items[i].err[0] != '\0')
			log_err("%s: %s", text, items[i].err);
		for (size_t j = 0; j < items[i].list.n; j++) {
			const struct addr *a = &items[i].list.v[j];
			char buf[ADDR_STRLEN];
			printf("%-24s %-5s %-9s %s\n", text, addr_family_name(a->family),
			    addr_type_name(a->socktype), addr_format(a, buf, sizeof(buf)));
		}
		free(text);
	}
	for (int i = 0; i < n; i++)
		addr_list_free(&items[i].list);
	resolver_free(res);
	free(items);
	return rc;
}

/* ---- options ---- */

enum {
	OPT_RESOLVE = 256, OPT_PASSIVE, OPT_CONNECT_TIMEOUT, OPT_ATTEMPT_DELAY, OPT_SEQUENTIAL,
	OPT_JSON, OPT_STDIN,
	OPT_PMTU,
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
	{ "source", required_argument, NULL, 'I' },
	{ "connect-only", no_argument, NULL, 'z' },
	{ "port", required_argument, NULL, 'p' },
	{ "resolve", no_argument, NULL, OPT_RESOLVE },
	{ "passive", no_argument, NULL, OPT_PASSIVE },
	{ "pmtu", no_argument, NULL, OPT_PMTU },
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
	char err[RESOLVE_ERRLEN] = ""; /* a DNS server list and why */
	struct resolve_cares cares;
	long v;
	int rc = cli_resolve_option(c, arg, &opt.co.resolve, err, sizeof(err));

	if (rc == 1 && err[0] != '\0')
		log_warn("%s", err); /* an old spelling, still taken */
	if (rc != 0)
		goto out;
	switch (c) {
	case '4':
	case '6':
		/* as -t -u: one family or (neither) both, never the last one typed */
		if (opt.co.family == (c == '4' ? AF_INET6 : AF_INET)) {
			snprintf(err, sizeof(err), "-4 and -6: choose one (without either, both "
			    "families are tested)");
			rc = -1;
		}
		opt.co.family = opt.hints.family = c == '4' ? AF_INET : AF_INET6;
		break;
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
		opt.size_text = arg;
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
	case 'I': opt.source = arg; break;
	case 'z': opt.co.connect_only = true; break;
	case 'p':
		rc = addr_parse_port(arg, &opt.co.port, err, sizeof(err));
		opt.hints.port = opt.co.port;
		break;
	case OPT_RESOLVE: opt.resolve_only = true; break;
	case OPT_PASSIVE: opt.hints.passive = true; break;
	case OPT_PMTU: opt.co.pmtu = true; break;
	case 'h': usage(stdout); exit(0);
	case 'V': /* and the c-ares that runs: it decides what --dns-server takes */
		resolve_cares(&cares);
		printf("anyecho %s (c-ares %s)\n", PACKAGE_VERSION, cares.text);
		exit(0);
	default: usage(stderr); return -1;
	}
out:
	if (rc == -1)
		log_err("%s", err);
	else if (rc == 0 && err[0] != '\0')
		log_warn("%s", err); /* a time rounded to whole milliseconds */
	return rc == -1 ? -1 : 0;
}

/* -I: an address limits the run to its family (a source of the other
 * family could reach nothing), as -4 or -6 would; an interface does not. */
static int
check_source(void)
{
	char err[ADDR_ERRLEN + 64];
	int fam;

	if (opt.source == NULL)
		return 0;
	if (source_parse(&opt.co.source, opt.source, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	fam = opt.co.source.family;
	if (fam == AF_UNSPEC)
		return 0;
	if (opt.co.family != AF_UNSPEC && opt.co.family != fam) {
		log_err("bad source '%s': an %s address, but %s asks for %s", opt.source,
		    addr_family_name(fam), opt.co.family == AF_INET ? "-4" : "-6",
		    addr_family_name(opt.co.family));
		return -1;
	}
	opt.co.family = fam;
	return 0;
}

/* -z: a handshake is what is measured, and datagrams have none. */
static int
check_connect_only(void)
{
	if (!opt.co.connect_only)
		return 0;
	if (opt.co.socktype == SOCK_DGRAM) {
		log_err("-z: datagrams have no handshake to measure; -z is for streams (-t)");
		return -1;
	}
	if (opt.co.pipe) {
		log_err("-z and --stdin: -z sends nothing");
		return -1;
	}
	return 0;
}

/* Datagram probes: a header, and at most what IP can carry (the limit
 * for unix datagram targets too: the reply is read into 64 KiB). target:
 * a unix-dgram: target the check is for, or NULL for -u. */
static int
check_dgram_size(const char *target)
{
	char what[ADDR_STRLEN + 16] = "", val[48];
	/* The value as typed ("64k"), and in bytes where the unit hides them. */
	const char *typed = opt.size_text != NULL ? opt.size_text : "64";

	if (target != NULL)
		snprintf(what, sizeof(what), " for %s", target);
	if (strspn(typed, "0123456789") == strlen(typed))
		snprintf(val, sizeof(val), "'%s'", typed);
	else
		snprintf(val, sizeof(val), "'%s' (%d bytes)", typed, opt.co.size);
	if (opt.co.size > 65507) {
		log_err("bad size %s%s: more than the largest datagram, 65507 bytes", val, what);
		return -1;
	}
	if (opt.co.size < PAYLOAD_DGRAM_HEADER) {
		log_err("bad size %s%s: datagram probes carry an %d-byte header, use %d or more",
		    val, what, PAYLOAD_DGRAM_HEADER, PAYLOAD_DGRAM_HEADER);
		return -1;
	}
	return 0;
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
	while ((c = getopt_long(argc, argv, "46tuAqvVhzc:s:i:W:p:I:", longopts, NULL)) != -1)
		if (parse_option(c, optarg, &types) == -1)
			return -1;
	opt.hints.types = types ? types : ADDR_STREAM | ADDR_DGRAM;
	if (opt.resolve_only)
		return 0;
	if (opt.hints.passive) {
		log_err("--passive is for --resolve: the addresses a server would bind");
		return -1;
	}
	/* Nothing comes back in no time: 0 would fail every probe or attempt. */
	if (opt.co.timeout_ms == 0 || opt.co.connect_timeout_ms == 0) {
		log_err("%s 0: nothing can answer in no time; give 1ms or more",
		    opt.co.timeout_ms == 0 ? "-W" : "--connect-timeout");
		return -1;
	}
	if (types == (ADDR_STREAM | ADDR_DGRAM)) {
		log_err("-t and -u: choose one (run twice to test both)");
		return -1;
	}
	if (opt.co.pmtu) {
		/* Every address on its own, with datagrams: each size must
		 * leave as one packet, which a stream does not promise. */
		if (types == ADDR_STREAM || opt.co.pipe) {
			log_err("--pmtu probes with datagrams: no -t, no --stdin");
			return -1;
		}
		types = ADDR_DGRAM;
		opt.co.mode = CLIENT_ALL;
	}
	opt.co.socktype = types == ADDR_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	if (check_source() == -1 || check_connect_only() == -1)
		return -1;
	if (opt.co.socktype == SOCK_DGRAM && check_dgram_size(NULL) == -1)
		return -1;
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

/* -I ADDR with an address of the other family as target: a usage error
 * naming both, rather than "only IPv4 was asked for" when nobody asked. */
static int
check_target_family(const char *text)
{
	struct addr_spec spec;
	char err[ADDR_ERRLEN];
	int fam = opt.co.source.family;

	if (addr_parse(&spec, text, err, sizeof(err)) == -1 || spec.kind != ADDR_KIND_HOST ||
	    spec.literal == 0)
		return 0; /* a parse error is client_add's to report */
	/* A literal is no name to resolve: its family against -4 or -6 is a
	 * usage error, as against -I's. */
	if (opt.hints.family != AF_UNSPEC && spec.literal != opt.hints.family) {
		log_err("%s is an %s address, but only %s was asked for (%s)", text,
		    addr_family_name(spec.literal), addr_family_name(opt.hints.family),
		    opt.hints.family == AF_INET ? "-4" : "-6");
		return -1;
	}
	if (opt.source == NULL || fam == AF_UNSPEC || spec.literal == fam)
		return 0;
	log_err("%s: an %s address, and the source %s is %s: it cannot reach it", text,
	    addr_family_name(spec.literal), opt.source, addr_family_name(fam));
	return -1;
}

/* Port 0 is no service's port: every host refuses a connect there. */
static int
check_target_port(const char *text, int port)
{
	struct addr_spec spec;
	char err[ADDR_ERRLEN];

	if (addr_parse(&spec, text, err, sizeof(err)) == -1 || spec.kind != ADDR_KIND_HOST)
		return 0;
	if (port < 0)
		port = spec.port >= 0 ? spec.port : opt.co.port;
	if (port != 0)
		return 0;
	log_err("%s: port 0: no service listens there (the echo port is 7)", text);
	return -1;
}

/* A unix datagram target was given ("unix-dgram:"): pipe mode refuses it
 * as it does -u, whether "-" comes before it or after. */
static bool dgram_target;

/* A unix endpoint's own type ("unix-dgram:", "unix-seqpacket:") meets the
 * checks -u or -t would: the same usage errors, naming the target. */
static int
check_target_type(const char *text)
{
	struct addr_spec spec;
	char err[ADDR_ERRLEN];
	int want = opt.hints.types == ADDR_DGRAM ? SOCK_DGRAM :
	    opt.hints.types == ADDR_STREAM ? SOCK_STREAM : 0;

	if (addr_parse(&spec, text, err, sizeof(err)) == -1 || spec.kind != ADDR_KIND_UNIX)
		return 0; /* a parse error is client_add's to report */
	if (opt.co.pmtu) {
		log_err("--pmtu and %s: --pmtu needs IP datagrams (a path MTU is an IP path's)",
		    text);
		return -1;
	}
	if (spec.socktype == 0)
		return 0; /* "unix:" follows -t or -u */
	dgram_target |= spec.socktype == SOCK_DGRAM; /* for check_pipe() */
	if (opt.co.connect_only && spec.socktype == SOCK_DGRAM) {
		log_err("-z and %s: datagrams have no handshake to measure; -z is for streams",
		    text);
		return -1;
	}
	if (want != 0 && (want == SOCK_DGRAM) != (spec.socktype == SOCK_DGRAM)) {
		log_err("%s and %s: choose one", want == SOCK_DGRAM ? "-u" : "-t", text);
		return -1;
	}
	if (spec.socktype == SOCK_DGRAM && !opt.co.pipe)
		return check_dgram_size(text);
	return 0;
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
		if (check_target_family(argv[i]) == -1 || check_target_type(argv[i]) == -1 ||
		    check_target_port(argv[i], port) == -1)
			return -1;
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
	if (opt.co.connect_only) {
		log_err("-z and --stdin: -z sends nothing");
		return -1;
	}
	if (ntargets != 1 || opt.co.mode == CLIENT_ALL || opt.co.socktype != SOCK_STREAM ||
	    dgram_target) {
		log_err("--stdin needs exactly one target, a stream (-t), and no --all");
		return -1;
	}
	return 0;
}

static int
outcome_status(enum report_outcome o)
{
	switch (o) {
	case REPORT_ALL_WELL: return 0;
	case REPORT_FALLBACK: return EXIT_FALLBACK;
	case REPORT_FAILED: return EXIT_FAILED;
	case REPORT_UNRESOLVED: return EXIT_RESOLVE;
	}
	return EXIT_FAILED;
}

static void
on_interrupt(struct evloop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	client_stop(arg);
}

/* Standard output failed (report.h): stop as on SIGINT, but from the
 * loop, not from within the client callback that found it. */
static struct evtimer output_stop;

static void
on_output_stop(struct evloop *loop, void *arg)
{
	(void)loop;
	client_stop(arg);
}

static void
on_output_error(void *arg)
{
	evloop_timer_arm(arg, &output_stop, 0);
}

/* A report that did not reach standard output (its reader gone, a full
 * disk) fails the run: a script must not take a lost report for a good
 * one. A resolution or usage failure keeps its own status. */
static int
output_status(int rc)
{
	int e = report_output_error();

	if (e == 0)
		return rc;
	log_err("cannot write the report: %s", strerror(e));
	return rc == EXIT_RESOLVE || rc == EXIT_USAGE ? rc : EXIT_FAILED;
}

int
main(int argc, char **argv)
{
	struct client_report rep;
	struct report_opts ro;
	struct evloop *loop = NULL;
	struct client *c = NULL;
	char err[RESOLVE_ERRLEN];
	int ntargets = 0, rc = EXIT_USAGE;
	bool piped;

	/* Before anything opens a descriptor: a closed standard fd must not
	 * be handed to a socket or the loop's signal pipe. */
	if (cli_std_fds() == -1)
		return EXIT_FAILED;
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
		rc = output_status(run_resolve(loop, argv + optind, argc - optind));
		goto out;
	}
	ro = (struct report_opts){ opt.json, opt.quiet, opt.verbose,
		opt.co.mode == CLIENT_ALL && !opt.co.pmtu, opt.co.pmtu, false, opt.co.pipe };
	report_setup(&ro, &rep);
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
	ro.name_target = ntargets > 1;
	/* A "-" target set pipe mode: stdout is the echo's alone. */
	ro.pipe = opt.co.pipe;
	report_setup(&ro, &rep);
	if (opt.co.pipe) {
		/* client_new copied the options before "-" was seen. */
		client_free(c);
		if (client_new(&c, loop, &opt.co, &rep, err, sizeof(err)) == -1 ||
		    add_targets(c, argc - optind, argv + optind, &ntargets) == -1)
			goto out;
	}
	evloop_signal(loop, SIGINT, on_interrupt, c);
	evloop_signal(loop, SIGTERM, on_interrupt, c);
	evtimer_init(&output_stop, on_output_stop, c);
	report_on_output_error(on_output_error, loop);
	client_run(c);
	report_end();
	rc = output_status(outcome_status(report_outcome()));
out:
	client_free(c);
	evloop_free(loop);
	report_free();
	return rc;
}

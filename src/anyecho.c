/* anyecho: the client. Option parsing, signals and exit codes; the work is
 * done by the modules below it. */
#include "common.h"

#include <getopt.h>
#include <limits.h>

#include "addr.h"
#include "evloop.h"
#include "log.h"
#include "resolve.h"

#define EXIT_USAGE 2

struct lookup {
	const char *text;
	struct evloop *loop;
	int *pending;
	struct addr_list list;
	char err[RESOLVE_ERRLEN];
	bool failed;
};

static struct {
	struct addr_hints hints;
	struct resolve_opts ropts;
	bool resolve_only;
} opt;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: anyecho [-46tuV] [--passive] [--dns-server LIST] [--dns-timeout MS]\n"
	    "               [--dns-tries N] [-p PORT] --resolve ENDPOINT ...\n");
}

static int
parse_int(const char *what, const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
		log_err("bad %s '%s': expected a number from %ld to %ld", what, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void
on_resolved(void *arg, enum resolve_status st, struct addr_list *list, const char *errmsg)
{
	struct lookup *l = arg;

	if (st != RESOLVE_OK) {
		l->failed = true;
		snprintf(l->err, sizeof(l->err), "%s", errmsg);
	} else
		l->list = *list;
	/* Done when every lookup has answered, not when c-ares has finished
	 * retrying those that already timed out. */
	if (--*l->pending == 0)
		evloop_stop(l->loop);
}

/* Resolve every endpoint concurrently on one channel, then print them in
 * the order given, one line per entry, like getent ahosts. */
static int
run_resolve(struct evloop *loop, struct resolver *res, char **names, int n)
{
	struct lookup *l = calloc((size_t)n, sizeof(*l));
	int rc = 0, pending = 0;

	if (l == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		struct addr_spec spec;

		l[i].text = names[i];
		l[i].loop = loop;
		l[i].pending = &pending;
		if (addr_parse(&spec, names[i], l[i].err, sizeof(l[i].err)) == -1) {
			l[i].failed = true;
			continue;
		}
		if (resolve_start(res, &spec, &opt.hints, on_resolved, &l[i]) == NULL) {
			snprintf(l[i].err, sizeof(l[i].err), "out of memory");
			l[i].failed = true;
			continue;
		}
		pending++;
	}
	if (pending > 0)
		evloop_run(loop);
	for (int i = 0; i < n; i++) {
		if (l[i].failed) {
			log_err("%s: %s", l[i].text, l[i].err);
			rc = EXIT_USAGE;
			continue;
		}
		for (size_t j = 0; j < l[i].list.n; j++) {
			const struct addr *a = &l[i].list.v[j];
			char buf[ADDR_STRLEN];
			printf("%-24s %-5s %-9s %s\n", l[i].text, addr_family_name(a->family),
			    addr_type_name(a->socktype), addr_format(a, buf, sizeof(buf)));
		}
		addr_list_free(&l[i].list);
	}
	free(l);
	return rc;
}

enum { OPT_RESOLVE = 256, OPT_PASSIVE, OPT_DNS_SERVER, OPT_DNS_TIMEOUT, OPT_DNS_TRIES };

static const struct option longopts[] = {
	{ "resolve", no_argument, NULL, OPT_RESOLVE },
	{ "passive", no_argument, NULL, OPT_PASSIVE },
	{ "dns-server", required_argument, NULL, OPT_DNS_SERVER },
	{ "dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },
	{ "dns-tries", required_argument, NULL, OPT_DNS_TRIES },
	{ "port", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_options(int argc, char **argv)
{
	char err[ADDR_ERRLEN];
	int c;

	opt.hints.family = AF_UNSPEC;
	opt.hints.port = 7;
	while ((c = getopt_long(argc, argv, "46tup:hV", longopts, NULL)) != -1) {
		switch (c) {
		case '4': opt.hints.family = AF_INET; break;
		case '6': opt.hints.family = AF_INET6; break;
		case 't': opt.hints.types |= ADDR_STREAM; break;
		case 'u': opt.hints.types |= ADDR_DGRAM; break;
		case 'p':
			if (addr_parse_port(optarg, &opt.hints.port, err, sizeof(err)) == -1) {
				log_err("%s", err);
				return -1;
			}
			break;
		case OPT_RESOLVE: opt.resolve_only = true; break;
		case OPT_PASSIVE: opt.hints.passive = true; break;
		case OPT_DNS_SERVER: opt.ropts.servers = optarg; break;
		case OPT_DNS_TIMEOUT:
			if (parse_int("DNS timeout", optarg, 1, 600000, &opt.ropts.timeout_ms) == -1)
				return -1;
			break;
		case OPT_DNS_TRIES:
			if (parse_int("DNS tries", optarg, 1, 20, &opt.ropts.tries) == -1)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("anyecho %s\n", PACKAGE_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (opt.hints.types == 0)
		opt.hints.types = ADDR_STREAM | ADDR_DGRAM;
	return 0;
}

int
main(int argc, char **argv)
{
	struct evloop *loop = NULL;
	struct resolver *res = NULL;
	char err[ADDR_ERRLEN];
	int rc;

	log_init("anyecho", LOG_LVL_INFO, false);
	if (parse_options(argc, argv) == -1)
		return EXIT_USAGE;
	if (!opt.resolve_only || optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	loop = evloop_new(EVLOOP_DEFAULT);
	if (loop == NULL) {
		log_err("cannot create event loop: %s", strerror(errno));
		return 1;
	}
	if (resolver_new(&res, loop, &opt.ropts, err, sizeof(err)) == -1) {
		log_err("%s", err);
		evloop_free(loop);
		return EXIT_USAGE;
	}
	rc = run_resolve(loop, res, argv + optind, argc - optind);
	resolver_free(res);
	evloop_free(loop);
	return rc;
}

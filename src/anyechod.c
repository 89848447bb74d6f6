/* anyechod: the echo server. Options, endpoints, privileges, signals and
 * exit codes; the serving is done by server.c. */
#include "common.h"

#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli.h"
#include "log.h"
#include "resolve.h"
#include "server.h"

#define EXIT_RUNTIME  1
#define EXIT_USAGE    2
#define EXIT_TEMPFAIL 75 /* sysexits' EX_TEMPFAIL: DNS did not answer; try again */

static struct {
	const char *endpoints[64];
	int nendpoints;
	struct addr_hints hints;
	struct server_opts so;
	struct resolve_opts ro;
	const char *port_file, *user;
	struct passwd *pw; /* --user, looked up before anything is bound */
	bool check_only, inetd, use_syslog, bind_given;
	enum log_level level;
} opt;

/* The synopsis; with --help (to stdout) also one line per option, as
 * in anyechod(8). */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: anyechod [-46tunqvV] [-l endpoint]... [-p port] [--port-file file]\n"
	    "                [--max-conns n] [--idle-timeout time] [--buffer-size bytes]\n"
	    "                [--threads n] [--grace time] [--user user] [--unix-mode mode]\n"
	    "                [--dualstack] [--no-guard] [--rate-limit n] [--inetd] [--syslog]\n"
	    "                [--max-owed bytes] [--stall-timeout time]\n"
	    "                [--max-conns-per-source n]\n"
	    "                [--dns-server list] [--dns-timeout time] [--dns-tries n]\n");
	if (f != stdout)
		return;
	fputs("\nOptions:\n"
	      "  -l, --listen ENDPOINT   listen here, not on the wildcards (repeatable)\n"
	      "  -p, --port PORT         for endpoints that name none (default 7; 0: any)\n"
	      "  -4, -6                  IPv4 or IPv6 only\n"
	      "  -t, -u                  stream or datagram only (default both)\n"
	      "      --port-file FILE    write family, type, address, port per socket\n"
	      "      --max-conns N       more connections are closed at once\n"
	      "      --idle-timeout TIME close quiet connections (default 300s; 0: never)\n"
	      "      --buffer-size BYTES what a connection may owe its peer (default 65536)\n"
	      "      --threads N         event loops, 1-256 (default: one per usable CPU, 64 at most)\n"
	      "      --grace TIME        after SIGTERM, for connections to end (default 5s)\n"
	      "      --user USER         switch to this user once the sockets are open\n"
	      "      --unix-mode MODE    permissions of unix socket files, octal\n"
	      "      --dualstack         one IPv6 socket for both families\n"
	      "      --no-guard          answer datagrams from every source, loops included\n"
	      "      --rate-limit N      datagram replies a second per source\n"
	      "      --max-owed SIZE     bytes owed to all peers together (default 64M; 0: no limit)\n"
	      "      --stall-timeout TIME  over the budget, close peers that read nothing this long (default 10s)\n"
	      "      --max-conns-per-source N  per IPv4 address, IPv6 /64 or link (default 256; 0: no limit)\n"
	      "      --inetd             started by inetd: stdin is the socket\n"
	      "      --syslog            log to syslog, not standard error\n"
	      "      --dns-server LIST   DNS servers to ask: ip[:port],...\n"
	      "      --dns-timeout TIME  give up on a lookup after this long (default 5s)\n"
	      "      --dns-tries N       send each query this often (default 3)\n"
	      "  -n, --check             resolve and print what would be opened, then exit\n"
	      "  -q, --quiet             warnings and errors only\n"
	      "  -v, --verbose           everything, debugging included\n"
	      "  -h, --help              this help\n"
	      "  -V, --version           the version\n"
	      "TIME: seconds, or a number and a unit: 800ms, 1.5s, 2m.\n",
	    f);
}

static int
bad(const char *what, const char *val, const char *why)
{
	log_err("bad %s '%s': %s", what, val, why);
	return -1;
}

enum {
	OPT_PORT_FILE = 256, OPT_MAX_CONNS, OPT_IDLE, OPT_BUFSIZE, OPT_THREADS, OPT_GRACE,
	OPT_USER, OPT_UNIX_MODE, OPT_DUALSTACK, OPT_NO_GUARD, OPT_RATE_LIMIT, OPT_INETD,
	OPT_SYSLOG, OPT_MAX_OWED, OPT_STALL, OPT_PER_SOURCE,
};

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "port", required_argument, NULL, 'p' },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "buffer-size", required_argument, NULL, OPT_BUFSIZE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "unix-mode", required_argument, NULL, OPT_UNIX_MODE },
	{ "dualstack", no_argument, NULL, OPT_DUALSTACK },
	{ "no-guard", no_argument, NULL, OPT_NO_GUARD },
	{ "rate-limit", required_argument, NULL, OPT_RATE_LIMIT },
	{ "inetd", no_argument, NULL, OPT_INETD },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "max-owed", required_argument, NULL, OPT_MAX_OWED },
	{ "stall-timeout", required_argument, NULL, OPT_STALL },
	{ "max-conns-per-source", required_argument, NULL, OPT_PER_SOURCE },
	CLI_RESOLVE_LONGOPTS,
	{ "check", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Warnings about options (a time rounded, an old spelling) wait for the
 * final log_init(): under --inetd stderr is the client's socket, and a
 * line there came back to the client inside its echo. */
static char opt_notes[8][RESOLVE_ERRLEN];
static int nnotes;

static void
notes_flush(void)
{
	for (int i = 0; i < nnotes; i++)
		log_warn("%s", opt_notes[i]);
	nnotes = 0;
}

static int
parse_option(int c, const char *arg)
{
	char err[RESOLVE_ERRLEN] = ""; /* a DNS server list and why */
	long v;
	int rc = cli_resolve_option(c, arg, &opt.ro, err, sizeof(err));

	if (rc != 0)
		goto out; /* taken (1) or refused by the resolver options */
	switch (c) {
	/* As in anyecho: one family (type) or, with neither, both; never
	 * the last one typed, nor both said as "only". */
	case '4':
	case '6':
		if (opt.hints.family == (c == '4' ? AF_INET6 : AF_INET)) {
			log_err("-4 and -6: choose one (without either, both families are served)");
			return -1;
		}
		opt.hints.family = c == '4' ? AF_INET : AF_INET6;
		break;
	case 't':
	case 'u':
		if (opt.hints.types == (c == 't' ? ADDR_DGRAM : ADDR_STREAM)) {
			log_err("-t and -u: choose one (without either, both types are served)");
			return -1;
		}
		opt.hints.types = c == 't' ? ADDR_STREAM : ADDR_DGRAM;
		break;
	case 'n': opt.check_only = true; break;
	case 'q': opt.level = LOG_LVL_WARN; break;
	case 'v': opt.level = LOG_LVL_DEBUG; break;
	case 'l':
		if (opt.nendpoints == (int)AE_NELEM(opt.endpoints))
			return bad("endpoint", arg, "too many -l options (64 at most)");
		opt.endpoints[opt.nendpoints++] = arg;
		opt.bind_given = true;
		break;
	case 'p':
		rc = addr_parse_port(arg, &opt.hints.port, err, sizeof(err));
		opt.bind_given = true;
		break;
	case OPT_PORT_FILE: opt.port_file = arg; break;
	case OPT_MAX_CONNS:
		rc = cli_number("--max-conns", arg, 1, 10000000, &v, err, sizeof(err));
		opt.so.max_conns = (int)v;
		break;
	case OPT_IDLE:
		rc = cli_duration("--idle-timeout", arg, 86400000, &opt.so.idle_ms, err, sizeof(err));
		break;
	case OPT_GRACE:
		rc = cli_duration("--grace", arg, 3600000, &opt.so.grace_ms, err, sizeof(err));
		break;
	case OPT_BUFSIZE:
		rc = cli_size("--buffer-size", arg, SERVER_BUFSIZE_MIN, SERVER_BUFSIZE_MAX, &v, err,
		    sizeof(err));
		opt.so.bufsize = (uint32_t)v;
		break;
	case OPT_THREADS:
		rc = cli_number("--threads", arg, 1, 256, &v, err, sizeof(err));
		opt.so.threads = (int)v;
		break;
	case OPT_USER:
		if (*arg == '\0')
			return bad("--user", arg, "empty");
		opt.user = arg;
		break;
	case OPT_UNIX_MODE: {
		char *end;
		v = strtol(arg, &end, 8);
		if (*arg == '\0' || *end != '\0' || v < 0 || v > 07777)
			return bad("--unix-mode", arg, "expected an octal mode such as 0660");
		opt.so.sock.unix_mode = (int)v;
		break;
	}
	case OPT_DUALSTACK: opt.so.sock.dualstack = true; break;
	case OPT_NO_GUARD: opt.so.guard_off = true; break;
	case OPT_RATE_LIMIT:
		rc = cli_number("--rate-limit", arg, 1, RATELIMIT_MAX, &v, err, sizeof(err));
		opt.so.rate_limit = (uint32_t)v;
		break;
	case OPT_MAX_OWED:
		/* 0: no budget; else at least one default buffer's worth */
		rc = cli_size("--max-owed", arg, 0, LONG_MAX, &v, err, sizeof(err));
		if (rc == 0 && v > 0 && v < SERVER_BUFSIZE)
			return bad("--max-owed", arg, "expected 0 (no limit) or at least 64K");
		opt.so.max_owed = (uint64_t)v;
		break;
	case OPT_STALL:
		rc = cli_duration("--stall-timeout", arg, 3600000, &opt.so.stall_ms, err, sizeof(err));
		break;
	case OPT_PER_SOURCE:
		rc = cli_number("--max-conns-per-source", arg, 0, 10000000, &v, err, sizeof(err));
		opt.so.max_per_source = (uint32_t)v;
		break;
	case OPT_INETD: opt.inetd = true; break;
	case OPT_SYSLOG: opt.use_syslog = true; break;
	case 'h': usage(stdout); exit(0);
	case 'V': printf("anyechod %s\n", PACKAGE_VERSION); exit(0);
	default: usage(stderr); return -1;
	}
out:
	if (rc == -1)
		log_err("%s", err);
	else if (err[0] != '\0' && nnotes < (int)AE_NELEM(opt_notes))
		memcpy(opt_notes[nnotes++], err, sizeof(err)); /* said once logging is set */
	return rc == -1 ? -1 : 0;
}

/* The port file is first written as its name plus this (mkstemp). */
#define PORT_FILE_SUFFIX ".XXXXXX"

/* A name whose temporary name cannot exist: longer than the directory's
 * file system allows a name to be (250 bytes passed the check, then
 * failed with "File name too long" once the sockets were bound). 0, or -1
 * with why. */
static int
port_file_name_fits(const char *dir, const char *name, char *why, size_t len)
{
	long max = pathconf(dir, _PC_NAME_MAX);
	size_t n = strlen(name);

	if (max <= 0)
		max = NAME_MAX;
	if (n + strlen(PORT_FILE_SUFFIX) <= (size_t)max)
		return 0;
	snprintf(why, len, "file name too long: %zu bytes, and the temporary name written first "
	    "(%zu more: " PORT_FILE_SUFFIX ") must fit in %ld", n, strlen(PORT_FILE_SUFFIX), max);
	return -1;
}

/* A --port-file that cannot be written, refused before anything is bound:
 * found out only at the end of start-up, it came after "listening on"
 * lines for sockets already closed again. What only trying tells (no
 * right to write there, a full disk) is still found out then. */
static int
check_port_file(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], why[PATH_MAX + 100];
	struct stat st;

	if (*path == '\0')
		return bad("--port-file", path, "empty");
	if (slash != NULL && slash[1] == '\0')
		return bad("--port-file", path, "names a directory (ends in '/')");
	if (strlen(path) + strlen(PORT_FILE_SUFFIX) >= PATH_MAX)
		return bad("--port-file", path, "path too long: with the temporary name's "
		    PORT_FILE_SUFFIX " it must be shorter than PATH_MAX");
	/* lstat: rename replaces a symlink, even one to a directory */
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return bad("--port-file", path, "is a directory");
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else /* "/x" keeps its "/" */
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(dir, &st) == -1)
		snprintf(why, sizeof(why), "its directory %s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, sizeof(why), "%s is not a directory", dir);
	else if (port_file_name_fits(dir, slash == NULL ? path : slash + 1, why, sizeof(why)) == 0)
		return 0;
	return bad("--port-file", path, why);
}

static int
parse_options(int argc, char **argv)
{
	int c;

	opt.level = LOG_LVL_INFO;
	opt.hints.family = AF_UNSPEC;
	opt.hints.port = 7;
	opt.hints.passive = true;
	opt.so.bufsize = SERVER_BUFSIZE;
	opt.so.idle_ms = SERVER_IDLE_MS;
	opt.so.grace_ms = SERVER_GRACE_MS;
	opt.so.max_owed = SERVER_MAX_OWED;
	opt.so.stall_ms = SERVER_STALL_MS;
	opt.so.max_per_source = SERVER_PER_SOURCE;
	opt.so.sock.backlog = 1024;
	opt.so.sock.unix_mode = -1;
	while ((c = getopt_long(argc, argv, "46tunqvVhl:p:", longopts, NULL)) != -1)
		if (parse_option(c, optarg) == -1)
			return -1;
	if (optind < argc) {
		log_err("unexpected argument '%s' (endpoints go with -l)", argv[optind]);
		return -1;
	}
	/* Else no connection could ever take a full buffer, and the budget
	 * would count as spent (closing stalled peers) while nearly empty. */
	if (opt.so.max_owed > 0 && opt.so.max_owed < opt.so.bufsize) {
		log_err("--max-owed (%llu) is less than --buffer-size (%u)",
		    (unsigned long long)opt.so.max_owed, opt.so.bufsize);
		return -1;
	}
	if (opt.port_file != NULL && check_port_file(opt.port_file) == -1)
		return -1;
	if (opt.hints.types == 0)
		opt.hints.types = ADDR_STREAM | ADDR_DGRAM;
	if (opt.nendpoints == 0)
		opt.endpoints[opt.nendpoints++] = "*";
	return 0;
}

/* ---- endpoints: resolve every -l at once, keep the order given ---- */

/* DNS that did not answer, or failed, may answer the next time: not a
 * usage error, and a service manager may restart us for it. */
static bool
resolve_transient(enum resolve_status st)
{
	return st == RESOLVE_ETIMEOUT || st == RESOLVE_ESERVFAIL || st == RESOLVE_EREFUSED ||
	    st == RESOLVE_ECONN || st == RESOLVE_ENOMEM;
}

/* Why two of our endpoints cannot both be bound, in words (see
 * addr_overlaps). */
static void
overlap_why(const struct addr *b, const struct addr *l, char *buf, size_t len)
{
	char bs[ADDR_STRLEN], ls[ADDR_STRLEN];
	const char *fam = addr_family_name(l->family), *type = addr_type_name(l->socktype);
	const char *ds = b->family != l->family ? "dual-stack " : "";

	addr_format(b, bs, sizeof(bs));
	addr_format(l, ls, sizeof(ls));
	if (l->family == AF_UNIX && b->socktype == l->socktype)
		snprintf(buf, len, "%s and %s name one socket file", bs, ls);
	else if (l->family == AF_UNIX)
		snprintf(buf, len, "%s holds one socket, not a %s one and a %s one", ls,
		    addr_type_name(b->socktype), type);
	else if (addr_is_wildcard(l) && (b->family == l->family || l->family == AF_INET6))
		snprintf(buf, len, "%s %s %s%s takes %s", fam, type, ds, ls, bs);
	else if (addr_is_wildcard(b))
		snprintf(buf, len, "%s %s %s is within %s%s", fam, type, ls, ds, bs);
	else
		snprintf(buf, len, "%s %s %s and %s are one address", fam, type, ls, bs);
}

/* One unix socket file named two ways (x.sock and /dir/x.sock, a doubled
 * slash, a symlinked directory): the same name in the same directory. The
 * file need not exist yet; its directory must, or bind fails anyway. */
static bool
same_unix_file(const struct addr *a, const struct addr *b)
{
	const struct sockaddr_un *ua = (const struct sockaddr_un *)&a->sa;
	const struct sockaddr_un *ub = (const struct sockaddr_un *)&b->sa;
	char da[sizeof(ua->sun_path) + 2], db[sizeof(ub->sun_path) + 2];
	const char *na, *nb;
	struct stat sa, sb;

	if (a->family != AF_UNIX || b->family != AF_UNIX || ua->sun_path[0] == '\0' ||
	    ub->sun_path[0] == '\0' || a->socktype != b->socktype)
		return false; /* another type: addr_overlaps() said */
	if (a->len == b->len && memcmp(ua, ub, a->len) == 0)
		return false; /* spelled the same: merged */
	snprintf(da, sizeof(da), "%.*s", (int)sizeof(ua->sun_path), ua->sun_path);
	snprintf(db, sizeof(db), "%.*s", (int)sizeof(ub->sun_path), ub->sun_path);
	na = strrchr(da, '/');
	nb = strrchr(db, '/');
	if (strcmp(na != NULL ? na + 1 : da, nb != NULL ? nb + 1 : db) != 0)
		return false;
	if (na != NULL)
		da[na - da + 1] = '\0'; /* "/x" keeps its "/" */
	if (nb != NULL)
		db[nb - db + 1] = '\0';
	return stat(na != NULL ? da : ".", &sa) == 0 && stat(nb != NULL ? db : ".", &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The first endpoint before entry j of item i that it overlaps, or NULL;
 * *k says whose it is. */
static const struct addr *
overlapped(const struct resolve_item *items, int i, size_t j, int *k)
{
	const struct addr *l = &items[i].list.v[j];

	for (*k = 0; *k <= i; (*k)++)
		for (size_t m = 0; m < (*k < i ? items[*k].list.n : j); m++)
			if (addr_overlaps(&items[*k].list.v[m], l, opt.so.sock.dualstack) ||
			    same_unix_file(&items[*k].list.v[m], l))
				return &items[*k].list.v[m];
	return NULL;
}

/* Two of our own endpoints that cannot both be bound: a usage error, said
 * as such before anything is bound. Binding would fail with EADDRINUSE,
 * whose words ("address already in use") are for another process. */
static int
check_overlaps(const struct resolve_item *items, int n)
{
	char why[3 * ADDR_STRLEN];
	const struct addr *b;
	int k;

	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < items[i].list.n; j++) {
			b = overlapped(items, i, j, &k);
			if (b == NULL)
				continue;
			overlap_why(b, &items[i].list.v[j], why, sizeof(why));
			if (k == i)
				log_err("endpoint %s overlaps itself (%s)", items[i].text, why);
			else
				log_err("endpoint %s overlaps %s given before (%s)", items[i].text,
				    items[k].text, why);
			return -1;
		}
	return 0;
}

/* 0, or the exit status: EXIT_TEMPFAIL when every failure may pass. */
static int
resolve_endpoints(struct evloop *loop, struct addr_list *out)
{
	struct resolve_item items[AE_NELEM(opt.endpoints)];
	struct resolver *res = NULL;
	char err[RESOLVE_ERRLEN];
	int rc = 0;
	bool transient = true;

	memset(items, 0, sizeof(items));
	if (resolver_new(&res, loop, &opt.ro, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return EXIT_RUNTIME;
	}
	for (int i = 0; i < opt.nendpoints; i++)
		items[i].text = opt.endpoints[i];
	if (resolve_items(res, items, (size_t)opt.nendpoints, &opt.hints) > 0)
		rc = -1;
	else if (check_overlaps(items, opt.nendpoints) == -1) {
		rc = -1;
		transient = false;
	}
	for (int i = 0; i < opt.nendpoints; i++) {
		if (items[i].err[0] != '\0') {
			log_err("endpoint %s: %s", items[i].text, items[i].err);
			transient = transient && resolve_transient(items[i].status);
		}
		for (size_t j = 0; j < items[i].list.n && rc == 0; j++)
			if (addr_list_add(out, &items[i].list.v[j]) == -1)
				rc = -1;
		addr_list_free(&items[i].list);
	}
	resolver_free(res);
	if (rc == -1)
		return transient ? EXIT_TEMPFAIL : EXIT_USAGE;
	return 0;
}

/* ---- what we listen on, and the port file ---- */

struct report {
	struct addr_list bound; /* said and written once start-up is done */
	int failed;
};

static void
on_bound(void *arg, const struct addr *a, const char *err)
{
	struct report *r = arg;

	if (err != NULL) {
		/* One line each, and go on: the next entry may bind. */
		log_warn("cannot listen on %s %s: %s", addr_family_name(a->family),
		    addr_type_name(a->socktype), err);
		r->failed++;
		return;
	}
	if (addr_list_add(&r->bound, a) == -1)
		r->failed++; /* ENOMEM: bind_all says so */
}

/* The port file is the sign that we are ready: it appears, complete, only
 * once every socket is bound, the signal handlers are installed and we
 * run as --user. It is written under a temporary name and renamed, so
 * that a script waiting for it never reads half of it. The temporary
 * file is new (mkstemp: O_EXCL, a name nobody could plant a symlink at),
 * in the same directory so that rename is atomic, and rename replaces a
 * symlink at the final name instead of writing through it. */
struct port_file {
	char tmp[PATH_MAX];
	bool made;    /* tmp exists, and is ours to rename or remove */
	pid_t helper; /* writes the file for us after --user; -1: none */
	int go;       /* to the helper: "r" writes and renames, EOF: nothing */
	bool placed;  /* in place: withdrawn when we stop */
	int id_err;   /* 0: dev and ino say which file is ours; else lstat's errno */
	dev_t dev;
	ino_t ino;
};

/* The port file once in place, for on_stop() to withdraw. */
static struct port_file *placed_pf;

static int
port_file_fail(struct port_file *pf)
{
	log_err("cannot write port file %s: %s", opt.port_file, strerror(errno));
	if (pf->made)
		unlink(pf->tmp);
	pf->made = false;
	return -1;
}

static void
port_file_line(FILE *f, const struct addr *a)
{
	char host[ADDR_STRLEN];

	addr_format_host(a, host, sizeof(host));
	if (a->family == AF_UNIX)
		fprintf(f, "unix %s %s -\n", addr_type_name(a->socktype), host + 5);
	else
		fprintf(f, "%s %s %s %d\n", addr_family_name(a->family),
		    addr_type_name(a->socktype), host, addr_port(a));
}

/* The file under a new temporary name beside the final one (into tmp,
 * tmplen bytes), complete but not yet in place. 0, or -1 with errno and
 * nothing left behind. */
static int
port_file_make(char *tmp, size_t tmplen, const struct addr_list *bound)
{
	FILE *f = NULL;
	int fd, saved;

	snprintf(tmp, tmplen, "%s" PORT_FILE_SUFFIX, opt.port_file);
	fd = mkstemp(tmp);
	if (fd == -1)
		return -1;
	/* mkstemp makes it 0600: the ports are no secret. */
	if (fchmod(fd, 0644) == -1 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	for (size_t i = 0; i < bound->n; i++)
		port_file_line(f, &bound->v[i]);
	saved = fclose(f);
	f = NULL;
	fd = -1;
	if (saved == 0)
		return 0;
fail:
	saved = errno;
	if (f != NULL)
		fclose(f);
	else if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/* Written as the user we started as, but not yet in place. */
static int
port_file_write(struct port_file *pf, const struct addr_list *bound)
{
	if (port_file_make(pf->tmp, sizeof(pf->tmp), bound) == -1)
		return port_file_fail(pf); /* the path given: that is the user's word */
	pf->made = true;
	return 0;
}

/* The port file's directory may be writable only by the user we started
 * as (a test's private directory, /run), and the file appears only after
 * the switch to --user: a child forked before the switch keeps the
 * starting user, and when told writes the file and renames it into place
 * (its errno as its exit status if it cannot), or exits when we go away
 * without a word. Nothing is on disk until it is told: a helper killed
 * before (it blocks every signal it can: ours go to us) leaves nothing. */
static int
port_file_helper(struct port_file *pf, const struct addr_list *bound)
{
	sigset_t all, old;
	int p[2], saved;
	char c = '\0';

	if (pipe(p) == -1)
		return port_file_fail(pf);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pf->helper = fork();
	if (pf->helper == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		if (c != 'r')
			_exit(0);
		if (port_file_make(pf->tmp, sizeof(pf->tmp), bound) == -1)
			_exit(errno > 0 && errno < 256 ? errno : EIO);
		if (rename(pf->tmp, opt.port_file) == 0)
			_exit(0);
		saved = errno;
		unlink(pf->tmp);
		_exit(saved > 0 && saved < 256 ? saved : EIO);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (pf->helper == -1) {
		close(p[1]);
		errno = saved;
		return port_file_fail(pf);
	}
	pf->go = p[1];
	return 0;
}

/* Tell the helper what to do with the file. 0, or -1 with why it was not
 * done in why: the helper's errno, or how the helper ended if it did not
 * say (killed: an errno of nobody's would be a made-up cause). */
static int
port_file_helper_done(struct port_file *pf, const char *what, char *why, size_t len)
{
	pid_t got, pid = pf->helper;
	int st = 0;

	if (what != NULL)
		(void)!write(pf->go, what, 1);
	close(pf->go);
	pf->go = -1;
	do
		got = waitpid(pid, &st, 0);
	while (got == -1 && errno == EINTR);
	pf->helper = -1;
	if (got == -1)
		snprintf(why, len, "waiting for the helper process %ld: %s", (long)pid,
		    strerror(errno));
	else if (WIFSIGNALED(st))
		snprintf(why, len, "the helper process %ld that puts it in place died of signal %d "
		    "(%s)", (long)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (WEXITSTATUS(st) != 0)
		snprintf(why, len, "%s", strerror(WEXITSTATUS(st)));
	else
		return 0;
	return -1;
}

/* The file now in place is ours: note which it is, so that only it is
 * removed when we stop (a server started since may have put its own at
 * that name). After --user we may not be able to look (the helper put it
 * in a directory we cannot search): then the reason is kept. */
static void
port_file_placed(struct port_file *pf)
{
	struct stat st;

	pf->placed = true;
	pf->id_err = 0;
	if (lstat(opt.port_file, &st) == -1)
		pf->id_err = errno;
	else {
		pf->dev = st.st_dev;
		pf->ino = st.st_ino;
	}
	placed_pf = pf;
}

/* Put the port file in place: the last step of start-up. */
static int
port_file_publish(struct port_file *pf)
{
	char why[160];

	if (pf->helper > 0) {
		if (port_file_helper_done(pf, "r", why, sizeof(why)) == -1) {
			log_err("cannot write port file %s: %s", opt.port_file, why);
			return -1;
		}
		port_file_placed(pf);
		return 0;
	}
	if (!pf->made)
		return 0;
	if (rename(pf->tmp, opt.port_file) == -1)
		return port_file_fail(pf);
	pf->made = false;
	port_file_placed(pf);
	return 0;
}

/* We stop: the port file goes with the sockets it names. Left behind, it
 * told a supervisor waiting for the next server's file this one's ports.
 * Only our own file is removed, and one already gone is no matter. Under
 * --user the directory may not let us (the starting user's, or root's;
 * keeping a root helper alive for this would undo the switch): one line
 * says the file stays. */
static void
port_file_withdraw(struct port_file *pf)
{
	struct stat st;
	int err;

	if (pf == NULL || !pf->placed)
		return;
	pf->placed = false;
	err = pf->id_err;
	if (err == 0 && lstat(opt.port_file, &st) == -1)
		err = errno;
	else if (err == 0 && (st.st_dev != pf->dev || st.st_ino != pf->ino))
		return; /* another's now */
	else if (err == 0 && unlink(opt.port_file) == -1)
		err = errno;
	if (err != 0 && err != ENOENT)
		log_warn("port file %s left in place: %s", opt.port_file, strerror(err));
}

/* Start-up failed: nothing of the port file is left. */
static void
port_file_discard(struct port_file *pf)
{
	char why[160];

	if (pf->helper > 0)
		(void)port_file_helper_done(pf, NULL, why, sizeof(why)); /* it wrote nothing */
	if (pf->made)
		unlink(pf->tmp);
	pf->made = false;
}

static int
bind_all(struct server *srv, const struct addr_list *list, struct addr_list *bound)
{
	struct report r = { { 0 }, 0 };
	int n = server_bind(srv, list, on_bound, &r);

	*bound = r.bound;
	if (n == -1) /* in use, not allowed: the one line is said */
		return -1;
	if (bound->n < (size_t)n) {
		log_err("cannot start: %s", strerror(ENOMEM));
		return -1;
	}
	if (n == 0) {
		log_err("nothing to listen on: all %d endpoint(s) failed", r.failed);
		return -1;
	}
	return 0;
}

static void
say_listening(const struct addr_list *bound)
{
	char buf[ADDR_STRLEN];

	for (size_t i = 0; i < bound->n; i++)
		log_info("listening on %s %s %s", addr_family_name(bound->v[i].family),
		    addr_type_name(bound->v[i].socktype), addr_format(&bound->v[i], buf, sizeof(buf)));
}

/* ---- inherited sockets: systemd socket activation and inetd ---- */

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262 /* Linux 5.6; older headers lack it */
#endif

struct inherited {
	struct addr a;
	int protocol;   /* SO_PROTOCOL; -1 where the system cannot say */
	bool connected; /* a connection-type socket that is not listening */
};

static int
describe_fd(int fd, struct inherited *in)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return -1;
	memset(in, 0, sizeof(*in));
	in->a.socktype = type;
	in->a.len = sizeof(in->a.sa);
	if (getsockname(fd, (struct sockaddr *)&in->a.sa, &in->a.len) == -1)
		return -1;
	in->a.family = in->a.sa.ss_family;
	in->protocol = -1;
#ifdef SO_PROTOCOL
	len = sizeof(in->protocol);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &in->protocol, &len) == -1)
		in->protocol = -1;
#endif
	if (sock_is_connection_type(type)) {
#ifdef SO_ACCEPTCONN
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1)
			return -1;
#endif
		in->connected = !listening;
	}
	return 0;
}

/* What we can serve: TCP (and MPTCP and SCTP, which systemd may pass as
 * stream sockets), UDP (and UDP-Lite), unix stream, datagram, seqpacket.
 * Anything else got a listener that never drains it: a raw socket's
 * readiness, which neither accept() nor our datagram path consumes, spun
 * its worker. */
static bool
served_kind(const struct inherited *in)
{
	int t = in->a.socktype, p = in->protocol;

	if (in->a.family == AF_UNIX)
		return t == SOCK_STREAM || t == SOCK_DGRAM || t == SOCK_SEQPACKET;
	if (in->a.family != AF_INET && in->a.family != AF_INET6)
		return false;
	if (t == SOCK_STREAM)
		return p == -1 || p == IPPROTO_TCP || p == IPPROTO_MPTCP || p == IPPROTO_SCTP;
#ifdef IPPROTO_UDPLITE
	if (t == SOCK_DGRAM && p == IPPROTO_UDPLITE)
		return true;
#endif
	return t == SOCK_DGRAM && (p == -1 || p == IPPROTO_UDP);
}

/* "a raw IPv4 socket (protocol 1)", "a dgram netlink socket". */
static void
describe_kind(const struct inherited *in, char *buf, size_t len)
{
	int f = in->a.family, t = in->a.socktype;
	const char *fam = f == AF_INET || f == AF_INET6 || f == AF_UNIX ? addr_family_name(f) : NULL;
	const char *type = t == SOCK_STREAM || t == SOCK_DGRAM || t == SOCK_SEQPACKET ?
	    addr_type_name(t) : t == SOCK_RAW ? "raw" : NULL;
	char fbuf[24], tbuf[24], pbuf[24] = "";

#ifdef AF_NETLINK
	if (f == AF_NETLINK)
		fam = "netlink";
#endif
#ifdef AF_PACKET
	if (f == AF_PACKET)
		fam = "packet";
#endif
	if (fam == NULL)
		snprintf(fbuf, sizeof(fbuf), "family %d", f);
	if (type == NULL)
		snprintf(tbuf, sizeof(tbuf), "type %d", t);
	if ((f == AF_INET || f == AF_INET6) && in->protocol >= 0)
		snprintf(pbuf, sizeof(pbuf), " (protocol %d)", in->protocol);
	snprintf(buf, len, "a %s %s socket%s", type != NULL ? type : tbuf, fam != NULL ? fam : fbuf,
	    pbuf);
}

/* A connection-type socket that is not listening must be connected (inetd,
 * systemd's Accept=yes); one on which listen() was never called is
 * neither, and would be served as a connection that fails at once. */
static bool
has_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* A TCP connection its peer ended before we looked at it (a health
 * check's connect and RST, handed on by systemd's Accept=yes or inetd):
 * getpeername() fails for it as for a socket never connected. What tells
 * them apart: the error the connection left (ECONNRESET), or a receive
 * MSS, which only a handshake sets. True with what happened in why. */
static bool
connection_gone(int fd, const struct inherited *in, char *why, size_t len)
{
	int err = 0;
	socklen_t sl = sizeof(err);

	if ((in->a.family != AF_INET && in->a.family != AF_INET6) ||
	    (in->protocol != -1 && in->protocol != IPPROTO_TCP))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err != 0) {
		snprintf(why, len, "%s", strerror(err));
		return true;
	}
#ifdef TCP_INFO
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	sl = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) == 0 && ti.tcpi_rcv_mss > 0) {
		snprintf(why, len, "closed");
		return true;
	}
#endif
	return false;
}

/* A datagram socket nothing can send to, so nothing to serve: an IP one
 * on port 0 was never bound (bind() to port 0 and connect() both take a
 * port), a unix one without a name has no address to send to, unless it
 * has a peer (one end of a socketpair). Served, it ran forever answering
 * nobody ("serving IPv4 dgram 0.0.0.0:0"). */
static bool
unreachable_dgram(int fd, const struct inherited *in)
{
	if (sock_is_connection_type(in->a.socktype))
		return false;
	if (in->a.family == AF_UNIX)
		return in->a.len <= offsetof(struct sockaddr_un, sun_path) && !has_peer(fd);
	return addr_port(&in->a) == 0;
}

/* Refused before anything is served: one line naming the fd and what it
 * is, -1. A connection already gone is no fault of ours nor of whoever
 * started us: 1, said once at info level, and nothing to serve. */
static int
check_inherited(int fd, const struct inherited *in, const char *origin)
{
	char kind[96], why[64];

	describe_kind(in, kind, sizeof(kind));
	if (!served_kind(in)) {
		log_err("%s: fd %d is %s: anyechod serves TCP, UDP and unix stream, dgram and "
		    "seqpacket sockets", origin, fd, kind);
		return -1;
	}
	if (unreachable_dgram(fd, in)) {
		log_err("%s: fd %d is %s %s: nothing can send to it (bind() was not called)", origin,
		    fd, kind, in->a.family == AF_UNIX ? "with no name" : "bound to no port");
		return -1;
	}
	if (in->connected && !has_peer(fd) && connection_gone(fd, in, why, sizeof(why))) {
		log_info("%s: fd %d is %s whose connection ended before it was served (%s)",
		    origin, fd, kind, why);
		return 1;
	}
	if (in->connected && !has_peer(fd)) {
		log_err("%s: fd %d is %s neither listening nor connected (listen() was not called)",
		    origin, fd, kind);
		return -1;
	}
	return 0;
}

/* 0: served; 1: a connection already gone, nothing to serve; -1: refused. */
static int
adopt(struct server *srv, int fd, const char *origin)
{
	char buf[ADDR_STRLEN];
	struct inherited in;
	int rc;

	if (describe_fd(fd, &in) == -1) {
		log_err("%s: fd %d is not a usable socket: %s", origin, fd, strerror(errno));
		return -1;
	}
	rc = check_inherited(fd, &in, origin);
	if (rc != 0)
		return rc;
	if (server_adopt(srv, fd, &in.a, in.connected) == -1) {
		log_err("%s: cannot serve fd %d: %s", origin, fd, strerror(errno));
		return -1;
	}
	log_info("%s: serving %s %s %s%s", origin, addr_family_name(in.a.family),
	    addr_type_name(in.a.socktype), addr_format(&in.a, buf, sizeof(buf)),
	    in.connected ? " (one connection)" : "");
	return 0;
}

/* A count in the environment: decimal digits only, at most 9 of them (so
 * that fd 3 + n fits an int). -1 when it is not one. */
static long
env_count(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n == 0 || s[n] != '\0' || n > 9 ? -1 : strtol(s, NULL, 10);
}

/* LISTEN_FDS sockets start at fd 3 and are ours only if LISTEN_PID is.
 * Read as sd_listen_fds(3) does: another process's, or LISTEN_FDS=0, is
 * none; but a value that is not a pid or a count, or a count of fds that
 * are not all open, is an error (-1, the line in err) rather than a
 * reason to bind port 7 instead: whoever started us meant to hand us
 * sockets. Called before anything (syslog) opens a descriptor. */
static int
activation_fds(char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long p, n;

	if (pid == NULL || fds == NULL)
		return 0;
	p = env_count(pid);
	if (p <= 0) {
		return log_errbuf(err, errlen, "socket activation: LISTEN_PID '%s': not a process "
		    "id", pid);
	}
	if (p != (long)getpid())
		return 0;
	n = env_count(fds);
	if (n < 0) {
		return log_errbuf(err, errlen, "socket activation: LISTEN_FDS '%s': not a number "
		    "of descriptors", fds);
	}
	for (long fd = 3; fd < 3 + n; fd++)
		if (fcntl((int)fd, F_GETFD) == -1)
			return log_errbuf(err, errlen, "socket activation: LISTEN_FDS '%s': fd %ld is "
			    "not open (%ld inherited)", fds, fd, fd - 3);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

/* ---- process setup ---- */

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The default --max-conns: the descriptor limit less room for listeners,
 * the resolver and what each worker holds (its loop and wake-up pipe: 3;
 * 64 threads took 192 of a limit of 256, and connections ran out of
 * descriptors at 54 of a default 192, attack 8). Never below 64. */
static void
default_max_conns(int threads)
{
	struct rlimit rl;
	long lim, spare = 64 + 4L * threads;

	if (opt.so.max_conns != 0)
		return;
	lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ?
	    (long)rl.rlim_cur : 1048576;
	if (lim > 1048576)
		lim = 1048576;
	opt.so.max_conns = lim - spare > 64 ? (int)(lim - spare) : 64;
}

/* Before anything is bound or written: a --user that cannot work is one
 * line and exit 1, not a server that opened its ports and then died. */
static int
check_user(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		log_err("--user '%s': no such user", user);
		return -1;
	}
	if (geteuid() != 0 && pw->pw_uid != geteuid()) {
		log_err("--user '%s': only root can switch user", user);
		return -1;
	}
	/* getpwnam's buffer is overwritten by the next call: keep a copy. */
	opt.pw = calloc(1, sizeof(*opt.pw));
	if (opt.pw == NULL || (opt.pw->pw_name = strdup(pw->pw_name)) == NULL) {
		log_err("--user '%s': %s", user, strerror(ENOMEM));
		return -1;
	}
	opt.pw->pw_uid = pw->pw_uid;
	opt.pw->pw_gid = pw->pw_gid;
	return 0;
}

/* Each step named: "Operation not permitted" alone does not say that a
 * user namespace refused setgroups, or that the uid is not mapped. */
static int
drop_privileges(const char *user)
{
	struct passwd *pw = opt.pw;
	const char *step = NULL;

	if (geteuid() != 0)
		return 0; /* check_user: already this user */
	if (initgroups(pw->pw_name, pw->pw_gid) == -1)
		step = "initgroups";
	else if (setgid(pw->pw_gid) == -1)
		step = "setgid";
	else if (setuid(pw->pw_uid) == -1)
		step = "setuid";
	if (step != NULL) {
		log_err("--user '%s': cannot switch: %s: %s", user, step, strerror(errno));
		return -1;
	}
	/* Verify: a process that can get root back has not dropped it. */
	if (pw->pw_uid != 0 && (setuid(0) != -1 || geteuid() != pw->pw_uid || getegid() != pw->pw_gid)) {
		log_err("--user '%s': privileges were not dropped", user);
		return -1;
	}
	log_info("running as %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	return 0;
}

/* SIGHUP does real work (a syslog reconnect, a getifaddrs dump, a log
 * line): a storm of them must not stall the first worker nor flood the
 * log. It runs at most once a second; one that comes sooner is done when
 * the second is up, so the last signal is never lost. (SIGUSR1, one log
 * line, is only coalesced by the loop: scripts poll it for counters.) */
#define SIG_WORK_MS 1000

struct sig_work {
	struct evtimer later;
	uint64_t last; /* ms, when it last ran; 0: never */
	void (*run)(struct server *);
	struct server *srv;
};

static void
sig_work_later(struct evloop *loop, void *arg)
{
	struct sig_work *w = arg;

	w->last = evloop_now(loop);
	w->run(w->srv);
}

static void
sig_work_due(struct evloop *loop, struct sig_work *w)
{
	uint64_t now = evloop_now(loop);

	if (evtimer_armed(&w->later))
		return; /* already due: that run will see this signal's state */
	if (w->last == 0 || now >= w->last + SIG_WORK_MS) {
		w->last = now;
		w->run(w->srv);
	} else
		evloop_timer_arm(loop, &w->later, w->last + SIG_WORK_MS - now);
}

static void
hup_run(struct server *srv)
{
	log_reopen();
	if (server_reload(srv) == 0)
		log_info("SIGHUP: logs reopened, interfaces' broadcast addresses re-read");
	else
		log_info("SIGHUP: logs reopened, the broadcast addresses read before kept");
}

static void
on_usr1(struct evloop *loop, int signo, void *arg)
{
	struct server *srv = arg;
	struct echo_stats st;
	uint64_t owed, max;
	int open;

	(void)loop;
	(void)signo;
	server_stats(srv, &st, &open);
	server_owed(srv, &owed, &max);
	log_info("connections %llu (open %d, refused %llu, idle-closed %llu, source-refused %llu), "
	    "bytes %llu, owed %llu of %llu (budget-paused %llu, stall-closed %llu), "
	    "datagrams %llu (refused %llu, rate-limited %llu, dropped %llu, loops broken %llu), "
	    "errors %llu",
	    (unsigned long long)st.conns, open, (unsigned long long)st.conns_refused,
	    (unsigned long long)st.conns_idle, (unsigned long long)st.conns_source,
	    (unsigned long long)st.bytes, (unsigned long long)owed, (unsigned long long)max,
	    (unsigned long long)st.budget_paused, (unsigned long long)st.conns_stalled,
	    (unsigned long long)st.dgrams, (unsigned long long)st.dgrams_refused,
	    (unsigned long long)st.dgrams_limited, (unsigned long long)st.dgrams_dropped,
	    (unsigned long long)st.dgrams_looped, (unsigned long long)st.errors);
}

static struct sig_work hup_work = { .run = hup_run };

static void
on_stop(struct evloop *loop, int signo, void *arg)
{
	log_info("%s: stopping (grace %d ms)", strsignal(signo), opt.so.grace_ms);
	/* Work still due would keep the loop alive up to a second. */
	evloop_timer_cancel(loop, &hup_work.later);
	server_shutdown(arg);
	/* the listeners are closing: their ports are no longer ours to publish */
	port_file_withdraw(placed_pf);
}

static void
on_hup(struct evloop *loop, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	sig_work_due(loop, &hup_work);
}

static int
setup_signals(struct server *srv)
{
	struct evloop *loop = server_loop(srv);

	hup_work.srv = srv;
	evtimer_init(&hup_work.later, sig_work_later, &hup_work);
	signal(SIGPIPE, SIG_IGN);
	/* Ignored by whoever started us (exec keeps that), children would be
	 * reaped unasked and the port file's helper never waited for. */
	signal(SIGCHLD, SIG_DFL);
	if (evloop_signal(loop, SIGTERM, on_stop, srv) == -1 ||
	    evloop_signal(loop, SIGINT, on_stop, srv) == -1 ||
	    evloop_signal(loop, SIGHUP, on_hup, srv) == -1 ||
	    evloop_signal(loop, SIGUSR1, on_usr1, srv) == -1) {
		log_err("cannot set up signals: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* One open file, as fstat() tells it: a socket's inode is its own. */
struct file_id {
	dev_t dev;
	ino_t ino;
	bool known;
};

/* The first of ids[0..n) that is the same socket as ids[n], or -1. */
static int
same_socket(const struct file_id *ids, int n)
{
	for (int i = 0; i < n && ids[n].known; i++)
		if (ids[i].known && ids[i].dev == ids[n].dev && ids[i].ino == ids[n].ino)
			return i;
	return -1;
}

/* How many sockets are served (0: every one was a connection already
 * gone), or -1. One socket passed as two fds (systemd never does; a
 * supervisor's mistake) was served twice: two listeners on one socket,
 * two "serving" lines. Nothing is lost by serving it once, so that is
 * done, with a warning, rather than refusing a service that would work;
 * the duplicate fd is closed. */
static int
serve_inherited(struct server *srv, int nact)
{
	struct file_id *ids;
	struct stat st;
	int rc = 0, first, served = 0;

	if (opt.inetd) {
		rc = adopt(srv, STDIN_FILENO, "inetd");
		return rc == -1 ? -1 : rc == 0;
	}
	ids = calloc((size_t)nact, sizeof(*ids));
	if (ids == NULL) {
		log_err("socket activation: %s", strerror(ENOMEM));
		return -1;
	}
	for (int fd = 3; fd < 3 + nact && rc != -1; fd++) {
		if (fstat(fd, &st) == 0)
			ids[fd - 3] = (struct file_id){ st.st_dev, st.st_ino, true };
		first = same_socket(ids, fd - 3);
		if (first >= 0) {
			log_warn("socket activation: fd %d is fd %d again (one socket passed twice): "
			    "serving it once", fd, first + 3);
			close(fd);
			continue;
		}
		rc = adopt(srv, fd, "socket activation");
		if (rc == 1)
			close(fd); /* a connection already gone: held for nothing */
		served += rc == 0;
	}
	free(ids);
	return rc == -1 ? -1 : served;
}

/* Inherited sockets are served as given: -l and -p do not apply, and under
 * inetd (one connection or one socket to serve until idle) neither does
 * --threads. Say so once rather than drop the options silently. */
static void
note_ignored(bool inetd)
{
	bool threads = inetd && opt.so.threads > 0;

	if (opt.bind_given || threads)
		log_warn("%s: ignoring %s%s%s: serving the inherited sockets%s",
		    inetd ? "inetd" : "socket activation", opt.bind_given ? "-l/-p" : "",
		    opt.bind_given && threads ? " and " : "", threads ? "--threads" : "",
		    inetd ? " with one thread" : "");
}

/* The CPUs this process may run on (its affinity mask, as taskset, a
 * cpuset cgroup or a container's --cpuset-cpus set it, and as nproc(1)
 * counts), else those online. sysconf() alone counts the online CPUs on
 * glibc but the allowed ones on musl: pinned to one CPU of two, anyechod
 * started two loops on glibc and one on musl. */
static long
usable_cpus(void)
{
#ifdef CPU_COUNT /* a macro of <sched.h> in glibc and musl, with sched_getaffinity() */
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
#endif
	return sysconf(_SC_NPROCESSORS_ONLN);
}

static int
choose_threads(bool inetd)
{
	long ncpu = usable_cpus();

	if (inetd)
		return 1;
	if (opt.so.threads > 0)
		return opt.so.threads;
	return ncpu > 0 ? (int)(ncpu > 64 ? 64 : ncpu) : 1;
}

/* 0, or the exit status. */
static int
resolve_all(struct addr_list *list)
{
	struct evloop *loop = evloop_new(EVLOOP_DEFAULT);
	int rc;

	if (loop == NULL) {
		log_err("cannot create event loop: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	rc = resolve_endpoints(loop, list);
	evloop_free(loop);
	return rc;
}

/* Start-up, in the order that leaves nothing half-started: the signal
 * handlers before any socket (a signal that comes early waits for the
 * loop, instead of killing us by its default action with socket files
 * left behind); the sockets; the port file, written aside; the switch to
 * --user; and only then the signs that we are ready: the "listening"
 * lines and the port file in place. What fails on the way, main() undoes:
 * server_free() closes the sockets and removes their files (we are still
 * the starting user then), port_file_discard() the file. 0, -1, or 1
 * when there is nothing to serve: every inherited socket was a
 * connection its peer had already ended (said, and not a failure). */
static int
start(struct server *srv, int nact, const struct addr_list *list, struct addr_list *bound,
    struct port_file *pf)
{
	bool inherited = nact > 0 || opt.inetd;
	int served, rc;

	if (setup_signals(srv) == -1)
		return -1;
	if (inherited) {
		served = serve_inherited(srv, nact);
		if (served <= 0)
			return served == 0 ? 1 : -1;
	} else if (bind_all(srv, list, bound) == -1)
		return -1;
	if (!inherited && opt.port_file != NULL) {
		/* switching from root to --user: the helper writes it, at the end */
		rc = opt.user != NULL && geteuid() == 0 ? port_file_helper(pf, bound) :
		    port_file_write(pf, bound);
		if (rc == -1)
			return -1;
	}
	if (opt.user != NULL && drop_privileges(opt.user) == -1)
		return -1;
	if (port_file_publish(pf) == -1)
		return -1;
	say_listening(bound);
	return 0;
}

int
main(int argc, char **argv)
{
	struct addr_list list = { 0 }, bound = { 0 };
	struct port_file pf = { .made = false, .helper = -1, .go = -1 };
	struct server *srv = NULL;
	char err[160];
	int nact, status, rc = EXIT_RUNTIME;

	/* Before anything opens a descriptor: a closed standard fd must not
	 * be handed to a socket or the loop's signal pipe. */
	if (cli_std_fds() == -1)
		return EXIT_RUNTIME;
	log_init("anyechod", LOG_LVL_INFO, false);
	if (parse_options(argc, argv) == -1)
		return EXIT_USAGE;
	nact = activation_fds(err, sizeof(err));
	/* Under inetd, stdout and stderr are the client's socket. */
	if (opt.inetd)
		opt.use_syslog = true;
	log_init("anyechod", opt.level, opt.use_syslog);
	notes_flush();
	if (nact == -1) {
		log_err("%s", err);
		return EXIT_RUNTIME;
	}
	raise_fd_limit();
	if (nact > 0 || opt.inetd)
		note_ignored(opt.inetd);
	opt.so.threads = choose_threads(opt.inetd);
	default_max_conns(opt.so.threads);
	opt.so.exit_when_idle = opt.inetd;
	if (opt.user != NULL && check_user(opt.user) == -1)
		return EXIT_RUNTIME;
	if (nact == 0 && !opt.inetd && (status = resolve_all(&list)) != 0)
		return status;
	if (opt.check_only) {
		char buf[ADDR_STRLEN];
		for (size_t i = 0; i < list.n; i++)
			printf("%s %s %s\n", addr_family_name(list.v[i].family),
			    addr_type_name(list.v[i].socktype), addr_format(&list.v[i], buf, sizeof(buf)));
		addr_list_free(&list);
		return 0;
	}
	if (server_new(&srv, &opt.so) == -1) {
		log_err("cannot start: %s", strerror(errno));
		goto out;
	}
	status = start(srv, nact, &list, &bound, &pf);
	if (status != 0) {
		if (status == 1)
			rc = 0;
		goto out;
	}
	log_debug("%d thread(s), max %d connections (%u per source), buffer %u bytes, "
	    "%llu bytes owed at most, idle timeout %d ms",
	    opt.so.threads, opt.so.max_conns, opt.so.max_per_source, opt.so.bufsize,
	    (unsigned long long)opt.so.max_owed, opt.so.idle_ms);
	if (server_run(srv) == 0)
		rc = 0;
out:
	port_file_discard(&pf);
	server_free(srv);
	port_file_withdraw(&pf); /* a run that ended without SIGTERM (a loop failed) */
	addr_list_free(&list);
	addr_list_free(&bound);
	if (opt.pw != NULL)
		free(opt.pw->pw_name);
	free(opt.pw);
	return rc;
}

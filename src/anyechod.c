/* anyechod: the echo server. Options, endpoints, privileges, signals and
 * exit codes; the serving is done by server.c. */
#include "common.h"

#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>

#include "cli.h"
#include "log.h"
#include "resolve.h"
#include "server.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

static struct {
	const char *endpoints[64];
	int nendpoints;
	struct addr_hints hints;
	struct server_opts so;
	struct resolve_opts ro;
	const char *port_file, *user;
	bool check_only, inetd, use_syslog, bind_given;
	enum log_level level;
} opt;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: anyechod [-46tunqvV] [-l endpoint]... [-p port] [--port-file file]\n"
	    "                [--max-conns n] [--idle-timeout time] [--buffer-size bytes]\n"
	    "                [--threads n] [--grace time] [--user user] [--unix-mode mode]\n"
	    "                [--dualstack] [--no-guard] [--rate-limit n] [--inetd] [--syslog]\n"
	    "                [--dns-server list] [--dns-timeout ms] [--dns-tries n]\n");
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
	OPT_SYSLOG,
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
	CLI_RESOLVE_LONGOPTS,
	{ "check", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_option(int c, const char *arg)
{
	char err[ADDR_ERRLEN];
	long v;
	int rc = cli_resolve_option(c, arg, &opt.ro, err, sizeof(err));

	if (rc != 0)
		goto out;
	switch (c) {
	case '4': opt.hints.family = AF_INET; break;
	case '6': opt.hints.family = AF_INET6; break;
	case 't': opt.hints.types |= ADDR_STREAM; break;
	case 'u': opt.hints.types |= ADDR_DGRAM; break;
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
		rc = cli_number("--buffer-size", arg, 512, 64 << 20, &v, err, sizeof(err));
		opt.so.bufsize = (uint32_t)v;
		break;
	case OPT_THREADS:
		rc = cli_number("--threads", arg, 1, 256, &v, err, sizeof(err));
		opt.so.threads = (int)v;
		break;
	case OPT_USER: opt.user = arg; break;
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
	case OPT_INETD: opt.inetd = true; break;
	case OPT_SYSLOG: opt.use_syslog = true; break;
	case 'h': usage(stdout); exit(0);
	case 'V': printf("anyechod %s\n", PACKAGE_VERSION); exit(0);
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
	int c;

	opt.level = LOG_LVL_INFO;
	opt.hints.family = AF_UNSPEC;
	opt.hints.port = 7;
	opt.hints.passive = true;
	opt.so.bufsize = SERVER_BUFSIZE;
	opt.so.idle_ms = SERVER_IDLE_MS;
	opt.so.grace_ms = SERVER_GRACE_MS;
	opt.so.sock.backlog = 1024;
	opt.so.sock.unix_mode = -1;
	while ((c = getopt_long(argc, argv, "46tunqvVhl:p:", longopts, NULL)) != -1)
		if (parse_option(c, optarg) == -1)
			return -1;
	if (optind < argc) {
		log_err("unexpected argument '%s' (endpoints go with -l)", argv[optind]);
		return -1;
	}
	if (opt.hints.types == 0)
		opt.hints.types = ADDR_STREAM | ADDR_DGRAM;
	if (opt.nendpoints == 0)
		opt.endpoints[opt.nendpoints++] = "*";
	return 0;
}

/* ---- endpoints: resolve every -l at once, keep the order given ---- */

static int
resolve_endpoints(struct evloop *loop, struct addr_list *out)
{
	struct resolve_item items[AE_NELEM(opt.endpoints)];
	struct resolver *res = NULL;
	char err[RESOLVE_ERRLEN];
	int rc = 0;

	memset(items, 0, sizeof(items));
	if (resolver_new(&res, loop, &opt.ro, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	for (int i = 0; i < opt.nendpoints; i++)
		items[i].text = opt.endpoints[i];
	if (resolve_items(res, items, (size_t)opt.nendpoints, &opt.hints) > 0)
		rc = -1;
	for (int i = 0; i < opt.nendpoints; i++) {
		if (items[i].err[0] != '\0')
			log_err("endpoint %s: %s", items[i].text, items[i].err);
		for (size_t j = 0; j < items[i].list.n && rc == 0; j++)
			if (addr_list_add(out, &items[i].list.v[j]) == -1)
				rc = -1;
		addr_list_free(&items[i].list);
	}
	resolver_free(res);
	return rc;
}

/* ---- reporting what we listen on ---- */

struct report {
	FILE *port_file;
	int failed;
};

static void
on_bound(void *arg, const struct addr *a, const char *err)
{
	struct report *r = arg;
	char buf[ADDR_STRLEN], host[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	if (err != NULL) {
		/* One line each, and go on: the next entry may bind. */
		log_warn("cannot listen on %s %s: %s", addr_family_name(a->family),
		    addr_type_name(a->socktype), err);
		r->failed++;
		return;
	}
	log_info("listening on %s %s %s", addr_family_name(a->family), addr_type_name(a->socktype),
	    buf);
	if (r->port_file != NULL) {
		addr_format_host(a, host, sizeof(host));
		if (a->family == AF_UNIX)
			fprintf(r->port_file, "unix %s %s -\n", addr_type_name(a->socktype), host + 5);
		else
			fprintf(r->port_file, "%s %s %s %d\n", addr_family_name(a->family),
			    addr_type_name(a->socktype), host, addr_port(a));
	}
}

/* Written under a temporary name and renamed when complete, so that a
 * script waiting for the file never reads half of it. */
static int
bind_all(struct server *srv, const struct addr_list *list)
{
	struct report r = { NULL, 0 };
	char tmp[4096];
	int n;

	if (opt.port_file != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", opt.port_file);
		r.port_file = fopen(tmp, "w");
		if (r.port_file == NULL) {
			log_err("cannot write port file %s: %s", tmp, strerror(errno));
			return -1;
		}
	}
	n = server_bind(srv, list, on_bound, &r);
	if (r.port_file != NULL) {
		if (fclose(r.port_file) != 0 || (n > 0 && rename(tmp, opt.port_file) == -1)) {
			log_err("cannot write port file %s: %s", opt.port_file, strerror(errno));
			unlink(tmp);
			return -1;
		}
		if (n == 0)
			unlink(tmp);
	}
	if (n == 0) {
		log_err("nothing to listen on: all %d endpoint(s) failed", r.failed);
		return -1;
	}
	return 0;
}

/* ---- inherited sockets: systemd socket activation and inetd ---- */

static int
describe_fd(int fd, struct addr *a, bool *connected)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return -1;
	memset(a, 0, sizeof(*a));
	a->socktype = type;
	a->len = sizeof(a->sa);
	if (getsockname(fd, (struct sockaddr *)&a->sa, &a->len) == -1)
		return -1;
	a->family = a->sa.ss_family;
	*connected = false;
	if (sock_is_connection_type(type)) {
#ifdef SO_ACCEPTCONN
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1)
			return -1;
#endif
		*connected = !listening;
	}
	return 0;
}

static int
adopt(struct server *srv, int fd, const char *origin)
{
	char buf[ADDR_STRLEN];
	struct addr a;
	bool connected;

	if (describe_fd(fd, &a, &connected) == -1) {
		log_err("%s: fd %d is not a usable socket: %s", origin, fd, strerror(errno));
		return -1;
	}
	if (server_adopt(srv, fd, &a, connected) == -1) {
		log_err("%s: cannot serve fd %d: %s", origin, fd, strerror(errno));
		return -1;
	}
	log_info("%s: serving %s %s %s%s", origin, addr_family_name(a.family),
	    addr_type_name(a.socktype), addr_format(&a, buf, sizeof(buf)),
	    connected ? " (one connection)" : "");
	return 0;
}

/* LISTEN_FDS sockets start at fd 3 and are ours only if LISTEN_PID is. */
static int
activation_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n;

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	n = strtol(fds, NULL, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return n > 0 && n < 1024 ? (int)n : 0;
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
	if (opt.so.max_conns == 0) {
		/* Leave room for listeners, the loops and the resolver. */
		long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ?
		    (long)rl.rlim_cur : 1048576;
		opt.so.max_conns = lim > 128 ? (int)(lim > 1048576 ? 1048576 - 64 : lim - 64) : 64;
	}
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		log_err("--user %s: no such user", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return 0;
		log_err("--user %s: only root can switch user", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		log_err("--user %s: cannot switch: %s", user, strerror(errno));
		return -1;
	}
	/* Verify: a process that can get root back has not dropped it. */
	if (pw->pw_uid != 0 && (setuid(0) != -1 || geteuid() != pw->pw_uid || getegid() != pw->pw_gid)) {
		log_err("--user %s: privileges were not dropped", user);
		return -1;
	}
	log_info("running as %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	return 0;
}

static void
on_stop(struct evloop *loop, int signo, void *arg)
{
	(void)loop;
	log_info("%s: stopping (grace %d ms)", strsignal(signo), opt.so.grace_ms);
	server_shutdown(arg);
}

static void
on_hup(struct evloop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	(void)arg;
	log_init("anyechod", opt.level, opt.use_syslog);
	log_info("SIGHUP: logs reopened");
}

static void
on_usr1(struct evloop *loop, int signo, void *arg)
{
	struct echo_stats st;
	int open;

	(void)loop;
	(void)signo;
	server_stats(arg, &st, &open);
	log_info("connections %llu (open %d, refused %llu, idle-closed %llu), bytes %llu, "
	    "datagrams %llu (refused %llu, rate-limited %llu, dropped %llu), errors %llu",
	    (unsigned long long)st.conns, open, (unsigned long long)st.conns_refused,
	    (unsigned long long)st.conns_idle, (unsigned long long)st.bytes,
	    (unsigned long long)st.dgrams, (unsigned long long)st.dgrams_refused,
	    (unsigned long long)st.dgrams_limited, (unsigned long long)st.dgrams_dropped,
	    (unsigned long long)st.errors);
}

static int
setup_signals(struct server *srv)
{
	struct evloop *loop = server_loop(srv);

	signal(SIGPIPE, SIG_IGN);
	if (evloop_signal(loop, SIGTERM, on_stop, srv) == -1 ||
	    evloop_signal(loop, SIGINT, on_stop, srv) == -1 ||
	    evloop_signal(loop, SIGHUP, on_hup, srv) == -1 ||
	    evloop_signal(loop, SIGUSR1, on_usr1, srv) == -1) {
		log_err("cannot set up signals: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
serve_inherited(struct server *srv, int nact)
{
	if (opt.inetd)
		return adopt(srv, STDIN_FILENO, "inetd");
	for (int fd = 3; fd < 3 + nact; fd++)
		if (adopt(srv, fd, "socket activation") == -1)
			return -1;
	return 0;
}

/* Inherited sockets are served as given, by one thread: say so once rather
 * than drop the options silently. */
static void
note_ignored(const char *origin)
{
	bool threads = opt.so.threads > 0;

	if (opt.bind_given || threads)
		log_warn("%s: ignoring %s%s%s: serving the inherited sockets with one thread", origin,
		    opt.bind_given ? "-l/-p" : "", opt.bind_given && threads ? " and " : "",
		    threads ? "--threads" : "");
}

static int
choose_threads(bool inherited)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

#ifndef SO_REUSEPORT
	inherited = true; /* one listener per thread needs SO_REUSEPORT */
#endif
	if (inherited)
		return 1;
	if (opt.so.threads > 0)
		return opt.so.threads;
	return ncpu > 0 ? (int)(ncpu > 64 ? 64 : ncpu) : 1;
}

static int
resolve_all(struct addr_list *list)
{
	struct evloop *loop = evloop_new(EVLOOP_DEFAULT);
	int rc;

	if (loop == NULL) {
		log_err("cannot create event loop: %s", strerror(errno));
		return -1;
	}
	rc = resolve_endpoints(loop, list);
	evloop_free(loop);
	return rc;
}

int
main(int argc, char **argv)
{
	struct addr_list list = { 0 };
	struct server *srv = NULL;
	int nact, rc = EXIT_RUNTIME;

	log_init("anyechod", LOG_LVL_INFO, false);
	if (parse_options(argc, argv) == -1)
		return EXIT_USAGE;
	nact = activation_fds();
	/* Under inetd, stdout and stderr are the client's socket. */
	if (opt.inetd)
		opt.use_syslog = true;
	log_init("anyechod", opt.level, opt.use_syslog);
	raise_fd_limit();
	if (nact > 0 || opt.inetd)
		note_ignored(opt.inetd ? "inetd" : "socket activation");
	opt.so.threads = choose_threads(nact > 0 || opt.inetd);
	opt.so.exit_when_idle = opt.inetd;
	if (nact == 0 && !opt.inetd && resolve_all(&list) == -1)
		return EXIT_USAGE;
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
	if (nact > 0 || opt.inetd ? serve_inherited(srv, nact) == -1 : bind_all(srv, &list) == -1)
		goto out;
	if (opt.user != NULL && drop_privileges(opt.user) == -1)
		goto out;
	if (setup_signals(srv) == -1)
		goto out;
	log_debug("%d thread(s), max %d connections, buffer %u bytes, idle timeout %d ms",
	    opt.so.threads, opt.so.max_conns, opt.so.bufsize, opt.so.idle_ms);
	if (server_run(srv) == 0)
		rc = 0;
out:
	server_free(srv);
	addr_list_free(&list);
	return rc;
}

/*
 * echoload: the benchmark's load generator. CONNS flows to an echo server,
 * each keeping WINDOW bytes (stream) or datagrams (-u) in flight for
 * SECONDS, every echoed byte checked against what was sent. WINDOW = SIZE on
 * a stream is request/response (ping-pong); a large WINDOW is bulk transfer.
 * -C makes every stream flow connect, echo SIZE bytes and close, again and
 * again. -I opens CONNS connections, echoes one byte on each and leaves them
 * idle, to weigh the server's memory per connection.
 *
 * It is built to cost the server's core as little as it can: one epoll_wait
 * returns every ready flow, and an echo costs one recv and one send, no
 * epoll_ctl. With -a it pins the server (every thread) to the first CPU it
 * may use and itself to the last, so each has a core of its own. With -b it
 * never sleeps in epoll_wait (it polls), so the server never pays to wake it
 * and its CPU time is its own work.
 *
 * A stall is a failure: a flow with bytes (or datagrams) outstanding that
 * gets nothing back for STALL_MS ends the run with exit 1, and so does a
 * stream flow whose outstanding bytes do not all come back after the
 * measured interval (sending stops then, and the echo must drain). When
 * the server and the load waited for a CPU for most of that time, or the
 * kernel dropped packets meanwhile (an overloaded machine drops even on
 * loopback), it proves nothing: exit 3 instead, to be run again.
 *
 * usage: echoload [-abCIu] [-c conns] [-s size] [-w window] [-t seconds]
 *                 [-P pid] (numeric-host port | unix:PATH)
 * prints: requests N bytes N seconds S lost N server_cpu_s S load_cpu_s S
 *     or, with -I: conns N rss_before_kb N rss_after_kb N bytes_per_conn B
 * IPv4 flows beyond the first 100 come from 127.1.0.1, 127.1.0.2, ... (100
 * each), so that a per-source connection limit counts them as many clients.
 */
#define _GNU_SOURCE 1 /* sched_setaffinity */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PATLEN 65521u /* prime: a shifted copy never lines up by accident */
#define CHUNK  65536u
#define LOSS_MS 200    /* a datagram window unanswered this long is resent */
#define STALL_MS 1000  /* a flow with nothing back this long has stalled */
#define DRAIN_MS 10000 /* bound on the end-of-run drain, progress or not */
#define PER_SOURCE 100

struct flow {
	int fd;
	bool out;          /* EPOLLOUT armed (stream) */
	uint64_t tx, rx;   /* stream: bytes; datagrams: sequence numbers */
	uint64_t epoch;    /* datagrams: replies below this are late */
	uint64_t last_ms;  /* last progress (or the flow's start) */
	uint64_t sent_ms;  /* datagrams: last (re)send of the window */
};

static struct {
	bool udp, churn, idle, pin, busy;
	unsigned conns, size, window, seconds;
	long pid;
} opt = { false, false, false, false, false, 64, 64, 0, 5, 0 };

static struct sockaddr_storage dst;
static socklen_t dstlen;
static unsigned char pat[PATLEN + CHUNK];
static unsigned char rbuf[CHUNK];
static uint64_t nreq, nbytes, nlost;
static bool draining;
static int ep;

static void
die(const char *what)
{
	fprintf(stderr, "echoload: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

/* Run-queue waits, sampled every CHECK_MS, tell a stall of the server from
 * one of the machine: a server that waited for a CPU (runnable, not run)
 * for most of the stalled time was starved, not stuck. */
#define CHECK_MS 100
#define NSAMPLES 64
static struct sample {
	uint64_t t, server_wait, load_wait, drops; /* ms; ns; ns; packets */
} samples[NSAMPLES];
static unsigned nsamples;

/* Nanoseconds the threads of PID (0: ourselves) waited on a run queue. */
static uint64_t
runq_wait_ns(long pid)
{
	char path[64], line[512];
	unsigned long long run, wait, total = 0;
	struct dirent *d;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), pid ? "/proc/%ld/task" : "/proc/self/task", pid);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(line, sizeof(line), "%s/%s/schedstat", path, d->d_name);
		if ((f = fopen(line, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu %llu", &run, &wait) == 2)
			total += wait;
		fclose(f);
	}
	closedir(dir);
	return total;
}

/* Packets the kernel dropped for want of room in a CPU's input backlog
 * (/proc/net/softnet_stat, second column): loopback traffic too, and TCP
 * then waits for a retransmission timeout, 200 ms doubling. */
static uint64_t
softnet_drops(void)
{
	unsigned long processed, dropped;
	uint64_t total = 0;
	FILE *f = fopen("/proc/net/softnet_stat", "r");

	if (f == NULL)
		return 0;
	while (fscanf(f, "%lx %lx%*[^\n]", &processed, &dropped) == 2)
		total += dropped;
	fclose(f);
	return total;
}

static void
sample(uint64_t now)
{
	struct sample *sp = &samples[nsamples % NSAMPLES];

	sp->t = now;
	sp->server_wait = opt.pid ? runq_wait_ns(opt.pid) : 0;
	sp->load_wait = runq_wait_ns(0);
	sp->drops = softnet_drops();
	nsamples++;
}

/* Exit 1: the server stalled. Exit 3: the server and the load together
 * waited for a CPU over half of that time, or the kernel dropped packets:
 * the machine was overloaded, which proves nothing; run again. */
static void
stalled(unsigned i, const struct flow *f, uint64_t now, const char *unit)
{
	const struct sample *last, *from;
	uint64_t sw, lw;

	sample(now); /* the load itself may not have run for a while */
	last = from = &samples[(nsamples - 1) % NSAMPLES];
	for (unsigned k = 1; k < NSAMPLES && k < nsamples; k++) {
		const struct sample *sp = &samples[(nsamples - 1 - k) % NSAMPLES];
		from = sp;
		if (sp->t <= f->last_ms)
			break;
	}
	sw = (last->server_wait - from->server_wait) / 1000000;
	lw = (last->load_wait - from->load_wait) / 1000000;
	fprintf(stderr,
	    "echoload: STALL: flow %u has %llu %s outstanding%s and nothing came back for %llu ms%s; "
	    "over the last %llu ms the server waited %llu ms for a CPU, the load %llu ms, "
	    "the kernel dropped %llu packets (softnet backlog)\n",
	    i, (unsigned long long)(f->tx - f->rx), unit,
	    f->out ? ", its socket takes no more (the server's queue is full)," : "",
	    (unsigned long long)(now - f->last_ms),
	    draining ? " (after the measured interval)" : "",
	    (unsigned long long)(last->t - from->t), (unsigned long long)sw,
	    (unsigned long long)lw, (unsigned long long)(last->drops - from->drops));
	if (2 * (sw + lw) > last->t - from->t || last->drops != from->drops) {
		fprintf(stderr, "echoload: the machine is overloaded: not the server's fault\n");
		exit(3);
	}
	exit(1);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* utime + stime of the server, in seconds; 0 when not asked. */
static double
server_cpu(void)
{
	char path[64], line[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	if (opt.pid == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", opt.pid);
	if ((f = fopen(path, "r")) == NULL || fgets(line, sizeof(line), f) == NULL)
		die("cannot read the server's /proc stat");
	fclose(f);
	/* fields after the ")" that ends the command name: 12th and 13th */
	if ((p = strrchr(line, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		die("cannot parse the server's /proc stat");
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
load_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The server's resident memory in kB, from /proc/PID/status. */
static long
server_rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", opt.pid);
	if ((f = fopen(path, "r")) == NULL)
		die("cannot read the server's /proc status");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		die("no VmRSS in the server's /proc status");
	return kb;
}

/* The server on the first CPU we may use, every thread of it; we on the
 * last. Nothing is pinned on a single CPU. */
static void
pin(void)
{
	cpu_set_t all, one;
	char path[64];
	struct dirent *d;
	DIR *dir;
	int first = -1, last = -1;

	if (sched_getaffinity(0, sizeof(all), &all) == -1)
		die("sched_getaffinity");
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all)) {
			first = first < 0 ? c : first;
			last = c;
		}
	if (first == last)
		return;
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == -1)
		die("pinning the load");
	if (opt.pid == 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	snprintf(path, sizeof(path), "/proc/%ld/task", opt.pid);
	if ((dir = opendir(path)) == NULL)
		die("cannot list the server's threads");
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' && sched_setaffinity(atoi(d->d_name), sizeof(one), &one) == -1)
			die("pinning the server");
	closedir(dir);
}

/* A socket connected (or connecting, non-blocking) to the server. IPv4
 * flow i comes from a source address of its own hundred. */
static int
open_sock(unsigned i, int type, bool nonblock)
{
	int one = 1, fd = socket(dst.ss_family, type | (nonblock ? SOCK_NONBLOCK : 0), 0);
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_un me = { .sun_family = AF_UNIX };
	unsigned g = i / PER_SOURCE;

	if (fd == -1)
		die("socket");
	if (dst.ss_family == AF_INET && g > 0) {
		src.sin_addr.s_addr = htonl(0x7f010000u | (g / 250) << 8 | (1 + g % 250));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
			die("bind to a 127.1/16 source");
	}
	if (dst.ss_family == AF_UNIX && type == SOCK_DGRAM) {
		/* a unix datagram is answered only to a named sender: abstract */
		snprintf(me.sun_path + 1, sizeof(me.sun_path) - 1, "echoload.%ld.%u",
		    (long)getpid(), i);
		if (bind(fd, (struct sockaddr *)&me,
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			    strlen(me.sun_path + 1))) == -1)
			die("bind a unix datagram socket");
	}
	if (type == SOCK_STREAM && dst.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == -1 && errno != EINPROGRESS)
		die("connect");
	return fd;
}

static void
watch(struct flow *f, int op, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = f };

	if (epoll_ctl(ep, op, f->fd, &e) == -1)
		die("epoll_ctl");
}

static void
want_out(struct flow *f, bool on)
{
	if (f->out != on)
		watch(f, EPOLL_CTL_MOD, EPOLLIN | (on ? EPOLLOUT : 0));
	f->out = on;
}

/* ---- streams: ping-pong and bulk ---- */

static void
tcp_send(struct flow *f)
{
	while (!draining && f->tx - f->rx < opt.window) {
		size_t n = opt.window - (size_t)(f->tx - f->rx);
		ssize_t w = send(f->fd, pat + f->tx % PATLEN, n < CHUNK ? n : CHUNK, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno != EAGAIN && errno != ENOTCONN)
				die("send");
			want_out(f, true);
			return;
		}
		f->tx += (uint64_t)w;
	}
	want_out(f, false);
}

/* Returns the bytes received, checked. */
static size_t
tcp_take(struct flow *f, uint64_t now)
{
	ssize_t n = recv(f->fd, rbuf, sizeof(rbuf), 0);

	if (n == 0) {
		errno = 0;
		die("the server closed a connection");
	}
	if (n == -1) {
		if (errno == EAGAIN)
			return 0;
		die("recv");
	}
	if ((uint64_t)n > f->tx - f->rx || memcmp(rbuf, pat + f->rx % PATLEN, (size_t)n) != 0) {
		errno = 0;
		die("echo differs from what was sent");
	}
	f->rx += (uint64_t)n;
	f->last_ms = now;
	return (size_t)n;
}

static void
tcp_recv(struct flow *f, uint64_t now)
{
	size_t n = tcp_take(f, now);

	if (!draining)
		nbytes += n;
	if (n > 0)
		tcp_send(f);
}

/* ---- connect, echo, close ---- */

static void
churn_start(struct flow *f, unsigned i, uint64_t now)
{
	f->fd = open_sock(i, SOCK_STREAM, true);
	f->tx = opt.size; /* owed from the start: a connect that hangs is a stall */
	f->rx = 0;
	f->last_ms = now;
	f->out = true;
	watch(f, EPOLL_CTL_ADD, EPOLLOUT);
}

static void
churn_event(struct flow *f, unsigned i, uint64_t now)
{
	ssize_t n;

	if (f->out) { /* connected: send the request */
		ssize_t w = send(f->fd, pat + (i * 7u) % PATLEN, opt.size, MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == ENOTCONN))
			return;
		if (w != (ssize_t)opt.size)
			die("send of a request");
		f->out = false;
		watch(f, EPOLL_CTL_MOD, EPOLLIN);
		return;
	}
	n = recv(f->fd, rbuf, sizeof(rbuf), 0);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0 || (uint64_t)n > f->tx - f->rx ||
	    memcmp(rbuf, pat + (i * 7u) % PATLEN + f->rx, (size_t)n) != 0) {
		if (n == 0)
			errno = 0;
		die(n == -1 ? "recv" : "echo differs from what was sent (or the server closed)");
	}
	f->rx += (uint64_t)n;
	f->last_ms = now;
	if (f->rx < f->tx)
		return;
	close(f->fd);
	if (!draining) {
		nreq++;
		nbytes += opt.size;
		churn_start(f, i, now);
	} else {
		f->fd = -1;
	}
}

/* ---- datagrams ---- */

/* Sends the next datagram; false when the socket refused it for want of
 * room (a unix server's receive queue holds net.unix.max_dgram_qlen
 * datagrams): it never left, so it is not outstanding, and the flow waits
 * to be writable. Counted as outstanding, it made a flow that found the
 * queue full at every resend look stalled (1 round in 24, either server). */
static bool
udp_send(struct flow *f)
{
	uint64_t seq = f->tx;

	memcpy(rbuf, &seq, sizeof(seq));
	memcpy(rbuf + sizeof(seq), pat + (seq * opt.size) % PATLEN, opt.size - sizeof(seq));
	if (send(f->fd, rbuf, opt.size, 0) == -1) {
		if (errno == EAGAIN || errno == ENOBUFS) {
			want_out(f, true);
			return false;
		}
		if (errno != ECONNREFUSED)
			die("send");
	}
	f->tx++;
	return true;
}

/* Keeps the window full, as far as the socket takes it. */
static void
udp_fill(struct flow *f)
{
	while (f->tx - f->rx < opt.window)
		if (!udp_send(f))
			return;
	want_out(f, false);
}

static void
udp_recv(struct flow *f, uint64_t now)
{
	for (;;) {
		ssize_t n = recv(f->fd, rbuf, sizeof(rbuf), 0);
		uint64_t seq;

		if (n == -1) {
			if (errno == EAGAIN || errno == ECONNREFUSED)
				return;
			die("recv");
		}
		memcpy(&seq, rbuf, sizeof(seq));
		if ((size_t)n != opt.size || seq >= f->tx ||
		    memcmp(rbuf + sizeof(seq), pat + (seq * opt.size) % PATLEN,
			opt.size - sizeof(seq)) != 0) {
			errno = 0;
			die("a datagram came back different");
		}
		f->last_ms = now;
		if (seq < f->epoch)
			continue; /* already counted lost and replaced */
		f->rx++;
		nreq++;
		nbytes += (uint64_t)n;
		udp_fill(f);
	}
}

/* A datagram window unanswered for LOSS_MS is counted lost and sent anew,
 * so that loss does not stall a flow; nothing at all back for STALL_MS is a
 * stall. */
static void
udp_sweep(struct flow *fl, uint64_t now)
{
	for (unsigned i = 0; i < opt.conns; i++) {
		struct flow *f = &fl[i];
		if (now - f->last_ms > STALL_MS)
			stalled(i, f, now, "datagrams");
		if (now - f->last_ms < LOSS_MS || now - f->sent_ms < LOSS_MS)
			continue;
		nlost += f->tx - f->rx;
		f->epoch = f->tx;
		f->rx = f->tx;
		f->sent_ms = now;
		udp_fill(f);
	}
}

/* ---- the run ---- */

static void
open_flows(struct flow *fl)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < opt.conns; i++) {
		struct flow *f = &fl[i];
		if (opt.churn) {
			churn_start(f, i, now);
			continue;
		}
		f->fd = open_sock(i, opt.udp ? SOCK_DGRAM : SOCK_STREAM, true);
		watch(f, EPOLL_CTL_ADD, EPOLLIN);
		f->last_ms = f->sent_ms = now;
	}
	for (unsigned i = 0; i < opt.conns && !opt.churn; i++)
		if (opt.udp)
			udp_fill(&fl[i]);
		else
			tcp_send(&fl[i]);
}

/* Stream flows: one waiting with bytes outstanding and none back for
 * STALL_MS has stalled. Returns how many still owe bytes. */
static unsigned
stream_check(struct flow *fl, uint64_t now)
{
	unsigned owing = 0;

	for (unsigned i = 0; i < opt.conns; i++) {
		struct flow *f = &fl[i];
		if (f->fd == -1 || f->tx == f->rx)
			continue;
		owing++;
		if (now - f->last_ms > STALL_MS)
			stalled(i, f, now, "bytes");
	}
	return owing;
}

static void
dispatch(struct flow *fl, struct epoll_event *evs, int n, uint64_t now)
{
	for (int i = 0; i < n; i++) {
		struct flow *f = evs[i].data.ptr;
		if (opt.udp) {
			/* writable again: refill first, then take what came */
			if (evs[i].events & EPOLLOUT)
				udp_fill(f);
			udp_recv(f, now);
		} else if (opt.churn)
			churn_event(f, (unsigned)(f - fl), now);
		else if (evs[i].events & EPOLLOUT)
			tcp_send(f);
		else
			tcp_recv(f, now);
	}
}

static void
run(struct flow *fl)
{
	static struct epoll_event evs[1024];
	uint64_t t0 = now_ms(), end = t0 + opt.seconds * 1000ull, now = t0, last_check = t0;
	double c0 = server_cpu(), l0 = load_cpu(), secs, sc, lc;
	int n;

	sample(now);

	for (;;) {
		n = epoll_wait(ep, evs, 1024, opt.busy ? 0 : 10);
		if (n == -1 && errno != EINTR)
			die("epoll_wait");
		if ((now = now_ms()) >= end)
			break; /* what is ready now is taken by the drain */
		if (n > 0)
			dispatch(fl, evs, n, now);
		if (now - last_check >= CHECK_MS) {
			sample(now);
			if (opt.udp)
				udp_sweep(fl, now);
			else
				stream_check(fl, now);
			last_check = now;
		}
	}
	secs = (double)(now - t0) / 1000.0;
	sc = server_cpu() - c0;
	lc = load_cpu() - l0;
	/* Sending stops; what is outstanding must come back. */
	draining = true;
	for (last_check = now; !opt.udp; now = now_ms()) {
		if (now - last_check >= CHECK_MS) {
			sample(now);
			last_check = now;
		}
		if (stream_check(fl, now) == 0)
			break;
		if (now - end > DRAIN_MS) {
			errno = 0;
			die("the echo did not drain (still progressing) within 10 s");
		}
		n = epoll_wait(ep, evs, 1024, 10);
		if (n == -1 && errno != EINTR)
			die("epoll_wait");
		now = now_ms();
		if (n > 0)
			dispatch(fl, evs, n, now);
	}
	if (!opt.udp && !opt.churn)
		nreq = nbytes / opt.size;
	printf("requests %llu bytes %llu seconds %.3f lost %llu server_cpu_s %.3f load_cpu_s %.3f\n",
	    (unsigned long long)nreq, (unsigned long long)nbytes, secs, (unsigned long long)nlost,
	    sc, lc);
}

/* CONNS connections, one byte echoed on each (so the server has accepted
 * and served it), then idle: the server's RSS growth per connection. */
static void
idle(void)
{
	struct timeval tv = { .tv_sec = STALL_MS / 1000 };
	struct timespec settle = { 0, 500 * 1000000 };
	long before = server_rss_kb(), after;
	char c;

	for (unsigned i = 0; i < opt.conns; i++) {
		int fd = open_sock(i, SOCK_STREAM, false);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
			die("send on an idle connection");
		if (recv(fd, &c, 1, 0) != 1 || c != 'x') {
			fprintf(stderr, "echoload: STALL: idle connection %u: no echo of its byte "
					"within %d ms\n", i, STALL_MS);
			exit(1);
		}
	}
	nanosleep(&settle, NULL);
	after = server_rss_kb();
	printf("conns %u rss_before_kb %ld rss_after_kb %ld bytes_per_conn %.1f\n", opt.conns,
	    before, after, (double)(after - before) * 1024.0 / opt.conns);
}

static int
parse_target(char **argv, int argc)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst;
	struct sockaddr_un *su = (struct sockaddr_un *)&dst;

	if (argc == 1 && strncmp(argv[0], "unix:", 5) == 0 &&
	    strlen(argv[0] + 5) < sizeof(su->sun_path)) {
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, argv[0] + 5);
		dstlen = sizeof(*su);
		return 0;
	}
	if (argc != 2)
		return -1;
	if (inet_pton(AF_INET, argv[0], &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(argv[1]));
		dstlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, argv[0], &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(argv[1]));
		dstlen = sizeof(*s6);
	} else
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct flow *fl = NULL;
	int c;

	while ((c = getopt(argc, argv, "abCIuc:s:w:t:P:")) != -1) {
		switch (c) {
		case 'a': opt.pin = true; break;
		case 'b': opt.busy = true; break;
		case 'C': opt.churn = true; break;
		case 'I': opt.idle = true; break;
		case 'u': opt.udp = true; break;
		case 'c': opt.conns = (unsigned)atoi(optarg); break;
		case 's': opt.size = (unsigned)atoi(optarg); break;
		case 'w': opt.window = (unsigned)atoi(optarg); break;
		case 't': opt.seconds = (unsigned)atoi(optarg); break;
		case 'P': opt.pid = atol(optarg); break;
		default: goto usage;
		}
	}
	if (opt.window == 0)
		opt.window = opt.udp ? 1 : opt.size;
	if (parse_target(argv + optind, argc - optind) == -1 || opt.conns == 0 || opt.size == 0 ||
	    opt.size > CHUNK || (opt.udp && opt.size < 8) || opt.seconds == 0 ||
	    (opt.idle && opt.pid == 0) || (opt.udp && (opt.churn || opt.idle)))
		goto usage;

	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = i < PATLEN ? (unsigned char)(rand() >> 7) : pat[i - PATLEN];
	if (opt.pin)
		pin();
	if (opt.idle) {
		idle();
		return 0;
	}
	if ((ep = epoll_create1(0)) == -1 || (fl = calloc(opt.conns, sizeof(*fl))) == NULL)
		die("setup");
	open_flows(fl);
	run(fl);
	return 0;
usage:
	fprintf(stderr, "usage: echoload [-abCIu] [-c conns] [-s size] [-w window] [-t seconds] "
			"[-P pid] (numeric-host port | unix:PATH)\n");
	return 2;
}

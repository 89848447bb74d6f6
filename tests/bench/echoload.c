/*
 * echoload: the benchmark's load generator. CONNS flows to an echo server
 * on a numeric address, each keeping WINDOW bytes (TCP) or datagrams (UDP)
 * in flight for SECONDS, every echoed byte checked against what was sent.
 * WINDOW = SIZE over TCP is request/response (ping-pong); a large WINDOW is
 * bulk transfer. With -P PID it also reads that process's CPU time over the
 * measured interval, so one line gives throughput and cost.
 *
 * usage: echoload [-u] [-c conns] [-s size] [-w window] [-t seconds] [-P pid]
 *                 host port
 * prints: requests N bytes N seconds S lost N server_cpu_s S
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATLEN 65521u /* prime: a shifted copy never lines up by accident */
#define CHUNK  65536u
#define LOSS_MS 200

struct flow {
	int fd;
	bool out;          /* EPOLLOUT armed (TCP) */
	uint64_t tx, rx;   /* TCP: bytes; UDP: sequence numbers */
	uint64_t epoch;    /* UDP: replies below this are late */
	uint64_t last_ms;  /* UDP: last progress */
};

static struct {
	bool udp;
	unsigned conns, size, window, seconds;
	long pid;
} opt = { false, 64, 64, 0, 5, 0 };

static unsigned char pat[PATLEN + CHUNK];
static unsigned char rbuf[CHUNK];
static uint64_t nreq, nbytes, nlost;
static int ep;

static void
die(const char *what)
{
	fprintf(stderr, "echoload: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
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

static void
want_out(struct flow *f, bool on)
{
	struct epoll_event e = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = f };

	if (f->out != on && epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &e) == -1)
		die("epoll_ctl");
	f->out = on;
}

static void
tcp_send(struct flow *f)
{
	while (f->tx - f->rx < opt.window) {
		size_t n = opt.window - (size_t)(f->tx - f->rx);
		ssize_t w = send(f->fd, pat + f->tx % PATLEN, n < CHUNK ? n : CHUNK, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno != EAGAIN)
				die("send");
			want_out(f, true);
			return;
		}
		f->tx += (uint64_t)w;
	}
	want_out(f, false);
}

static void
tcp_recv(struct flow *f)
{
	ssize_t n = recv(f->fd, rbuf, sizeof(rbuf), 0);

	if (n == 0) {
		errno = 0;
		die("the server closed a connection");
	}
	if (n == -1) {
		if (errno == EAGAIN)
			return;
		die("recv");
	}
	if (memcmp(rbuf, pat + f->rx % PATLEN, (size_t)n) != 0) {
		errno = 0;
		die("echo differs from what was sent");
	}
	f->rx += (uint64_t)n;
	nbytes += (uint64_t)n;
	tcp_send(f);
}

static void
udp_send(struct flow *f)
{
	uint64_t seq = f->tx++;

	memcpy(rbuf, &seq, sizeof(seq));
	memcpy(rbuf + sizeof(seq), pat + (seq * opt.size) % PATLEN, opt.size - sizeof(seq));
	if (send(f->fd, rbuf, opt.size, 0) == -1 && errno != EAGAIN && errno != ECONNREFUSED)
		die("send");
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
		if (seq < f->epoch)
			continue; /* already counted lost and replaced */
		nreq++;
		nbytes += (uint64_t)n;
		f->last_ms = now;
		udp_send(f);
	}
}

/* A UDP flow with no reply for LOSS_MS counts its window lost and starts a
 * new one, so lost datagrams do not stall it. */
static void
udp_sweep(struct flow *fl, uint64_t now)
{
	for (unsigned i = 0; i < opt.conns; i++) {
		struct flow *f = &fl[i];
		if (now - f->last_ms < LOSS_MS)
			continue;
		nlost += f->tx - f->epoch < opt.window ? f->tx - f->epoch : opt.window;
		f->epoch = f->tx;
		f->last_ms = now;
		for (unsigned k = 0; k < opt.window; k++)
			udp_send(f);
	}
}

static void
open_flows(struct flow *fl, const struct sockaddr *sa, socklen_t sl)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < opt.conns; i++) {
		struct flow *f = &fl[i];
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = f };
		int one = 1;

		f->fd = socket(sa->sa_family, opt.udp ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (f->fd == -1 || connect(f->fd, sa, sl) == -1)
			die("connect");
		if (!opt.udp)
			setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(f->fd, F_SETFL, O_NONBLOCK);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &e) == -1)
			die("epoll_ctl");
		f->last_ms = now;
	}
	for (unsigned i = 0; i < opt.conns; i++)
		if (opt.udp)
			for (unsigned k = 0; k < opt.window; k++)
				udp_send(&fl[i]);
		else
			tcp_send(&fl[i]);
}

static void
run(struct flow *fl)
{
	struct epoll_event evs[256];
	uint64_t t0 = now_ms(), end = t0 + opt.seconds * 1000ull, now, last_sweep = t0;
	double c0 = server_cpu(), secs;

	while ((now = now_ms()) < end) {
		int n = epoll_wait(ep, evs, 256, 10);
		if (n == -1 && errno != EINTR)
			die("epoll_wait");
		now = now_ms();
		for (int i = 0; i < n; i++) {
			struct flow *f = evs[i].data.ptr;
			if (opt.udp)
				udp_recv(f, now);
			else if (evs[i].events & EPOLLOUT)
				tcp_send(f);
			else
				tcp_recv(f);
		}
		if (opt.udp && now - last_sweep >= 50) {
			udp_sweep(fl, now);
			last_sweep = now;
		}
	}
	secs = (double)(now - t0) / 1000.0;
	if (!opt.udp)
		nreq = nbytes / opt.size;
	printf("requests %llu bytes %llu seconds %.3f lost %llu server_cpu_s %.3f\n",
	    (unsigned long long)nreq, (unsigned long long)nbytes, secs,
	    (unsigned long long)nlost, server_cpu() - c0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct flow *fl = NULL;
	int c;

	while ((c = getopt(argc, argv, "uc:s:w:t:P:")) != -1) {
		switch (c) {
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
	if (argc - optind != 2 || opt.conns == 0 || opt.size == 0 || opt.size > CHUNK ||
	    (opt.udp && opt.size < 8) || opt.seconds == 0)
		goto usage;
	if (inet_pton(AF_INET, argv[optind], &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	} else if (inet_pton(AF_INET6, argv[optind], &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(argv[optind + 1]));
	} else
		goto usage;

	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = i < PATLEN ? (unsigned char)(rand() >> 7) : pat[i - PATLEN];
	if ((ep = epoll_create1(0)) == -1 || (fl = calloc(opt.conns, sizeof(*fl))) == NULL)
		die("setup");
	open_flows(fl, (struct sockaddr *)&ss, sizeof(ss));
	run(fl);
	return 0;
usage:
	fprintf(stderr, "usage: echoload [-u] [-c conns] [-s size] [-w window] [-t seconds] "
			"[-P pid] numeric-host port\n");
	return 2;
}

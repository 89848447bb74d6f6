/* A user-space relay that delays and drops IP packets, for the
 * integration tests' namespace labs (this kernel has no netem):
 *   netrelay TUN DELAY_MS EVERY SECONDS STATS
 * creates the TUN device TUN (IFF_TUN, no packet information) in the
 * current network namespace, reads every IP packet the kernel routes out
 * of it, holds each for DELAY_MS and writes it back into the same device,
 * where it arrives as received on TUN and is routed on (the lab's policy
 * rules send one direction of forwarded traffic out of TUN). Every EVERY-th
 * data packet (a TCP segment with payload, a UDP datagram) is dropped
 * instead: deterministic, so a test can count what was lost; other
 * packets (SYN, pure ACKs, FIN, ICMP) are delayed, never dropped. EVERY 0
 * drops nothing. SIGUSR1 turns on, and again off, SYN mode: the first
 * transmission of every SYN is dropped, its retransmission passes, so
 * each handshake costs one SYN timeout, and no data packet is dropped (a
 * test of the SYN alone must not meet the count's 10th packet: it did
 * once, where a retransmission earlier had moved the count). The relay ends by itself after
 * SECONDS.
 * STATS is rewritten (renamed into place, never seen half-written) after
 * each packet: "packets P data D dropped X overflow O tcp T udp U syn S"
 * (T and U: the data drops of each protocol, so that a test counting UDP
 * is not misled by a stray TCP retransmission; S: SYNs dropped), "synmode"
 * at its end while SYN mode is on (stderr notes each change and SYN
 * dropped), and holds the same line with zeros as soon as the device
 * exists, so a test waits for the file.
 * Linux only; elsewhere it says so and exits 77. Exit 1 on errors. */
#ifdef __linux__
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX 4096 /* packets held at once; more are dropped and counted */
#define PKT_MAX   65536

struct held {
	uint64_t due_us;
	size_t len;
	unsigned char *data;
};

static struct held queue[QUEUE_MAX];
static size_t qhead, qlen;
static unsigned long long npackets, ndata, ndropped, noverflow, ntcp, nudp, nsyn;
static volatile sig_atomic_t syn_toggled;
static int synmode;
/* SYNs seen once (SYN mode): a hash of addresses, ports and sequence */
#define SYNS_MAX 256
static uint64_t syns[SYNS_MAX];
static size_t nsyns;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int
tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd == -1) {
		perror("netrelay: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1 || fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		perror("netrelay: TUNSETIFF");
		close(fd);
		return -1;
	}
	return fd;
}

/* A TCP segment with payload (6), or a UDP datagram (17): what a probe
 * is made of; 0 for anything else. IPv6 extension headers are not
 * followed (the labs send none). */
static int
is_data(const unsigned char *p, size_t len)
{
	size_t ihl, l4len;
	int proto;

	if (len >= 20 && p[0] >> 4 == 4) {
		ihl = (size_t)(p[0] & 0x0f) * 4;
		proto = p[9];
		l4len = ((size_t)p[2] << 8 | p[3]);
		if (ihl < 20 || l4len < ihl || l4len > len)
			return 0;
		l4len -= ihl;
	} else if (len >= 40 && p[0] >> 4 == 6) {
		ihl = 40;
		proto = p[6];
		l4len = ((size_t)p[4] << 8 | p[5]);
		if (l4len + 40 > len)
			return 0;
	} else
		return 0;
	if (proto == 17)
		return proto;
	if (proto == 6 && l4len >= 20 && l4len > (size_t)(p[ihl + 12] >> 4) * 4)
		return proto;
	return 0;
}

static void
on_usr1(int signo)
{
	(void)signo;
	syn_toggled = 1;
}

static uint64_t
fnv(uint64_t h, const unsigned char *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 1099511628211u;
	return h;
}

/* SYN mode: a SYN (not a SYN-ACK) dropped the first time it is seen. */
static int
syn_first(const unsigned char *p, size_t len)
{
	size_t ihl, alen;
	uint64_t h = 14695981039346656037u;

	if (len >= 20 && p[0] >> 4 == 4 && p[9] == 6) {
		ihl = (size_t)(p[0] & 0x0f) * 4;
		alen = 8;
		h = fnv(h, p + 12, alen);
	} else if (len >= 40 && p[0] >> 4 == 6 && p[6] == 6) {
		ihl = 40;
		alen = 32;
		h = fnv(h, p + 8, alen);
	} else
		return 0;
	if (len < ihl + 20 || (p[ihl + 13] & 0x12) != 0x02) /* SYN without ACK */
		return 0;
	h = fnv(h, p + ihl, 8); /* ports and sequence number */
	for (size_t i = 0; i < nsyns && i < SYNS_MAX; i++)
		if (syns[i] == h)
			return 0;
	syns[nsyns++ % SYNS_MAX] = h;
	return 1;
}

static void
stats_write(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "packets %llu data %llu dropped %llu overflow %llu tcp %llu udp %llu syn %llu%s\n",
	    npackets, ndata, ndropped, noverflow, ntcp, nudp, nsyn, synmode ? " synmode" : "");
	if (fclose(f) == 0)
		rename(tmp, path);
}

/* Read what the kernel routed out; drop or hold each packet. */
static void
take(int fd, uint64_t delay_us, unsigned long every, const char *stats)
{
	static unsigned char buf[PKT_MAX];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		struct held *h;
		int proto = is_data(buf, (size_t)n);
		npackets++;
		if (synmode && syn_first(buf, (size_t)n)) {
			fprintf(stderr, "netrelay: first SYN dropped (packet %llu)\n", npackets);
			nsyn++;
			stats_write(stats);
			continue;
		}
		if (proto != 0) {
			ndata++;
			if (every > 0 && !synmode && ndata % every == 0) {
				ndropped++;
				if (proto == 6)
					ntcp++;
				else
					nudp++;
				stats_write(stats);
				continue;
			}
		}
		if (qlen == QUEUE_MAX) {
			noverflow++;
			stats_write(stats);
			continue;
		}
		h = &queue[(qhead + qlen) % QUEUE_MAX];
		h->data = malloc((size_t)n);
		if (h->data == NULL) {
			noverflow++;
			continue;
		}
		memcpy(h->data, buf, (size_t)n);
		h->len = (size_t)n;
		h->due_us = now_us() + delay_us;
		qlen++;
		stats_write(stats);
	}
}

/* Write back every packet whose time has come (one delay for all: the
 * queue is in due order). */
static void
release(int fd)
{
	uint64_t now = now_us();

	while (qlen > 0 && queue[qhead].due_us <= now) {
		struct held *h = &queue[qhead];
		if (write(fd, h->data, h->len) == -1 && errno == EAGAIN)
			break;
		free(h->data);
		qhead = (qhead + 1) % QUEUE_MAX;
		qlen--;
	}
}

int
main(int argc, char **argv)
{
	uint64_t delay_us, end_us;
	unsigned long every;
	sigset_t usr1, waitmask;
	int fd;

	if (argc != 6) {
		fprintf(stderr, "usage: netrelay TUN DELAY_MS EVERY SECONDS STATS\n");
		return 2;
	}
	delay_us = strtoull(argv[2], NULL, 10) * 1000u;
	every = strtoul(argv[3], NULL, 10);
	end_us = now_us() + strtoull(argv[4], NULL, 10) * 1000000u;
	fd = tun_open(argv[1]);
	if (fd == -1)
		return 1;
	/* SIGUSR1 only inside ppoll(), so that one sent while a packet is
	 * handled is not left waiting for the next packet. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	signal(SIGUSR1, on_usr1);
	stats_write(argv[5]);
	for (;;) {
		uint64_t now = now_us(), until = end_us;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct timespec ts;

		if (now >= end_us)
			break;
		if (qlen > 0 && queue[qhead].due_us < until)
			until = queue[qhead].due_us;
		until = until > now ? until - now : 0;
		ts.tv_sec = (time_t)(until / 1000000u);
		ts.tv_nsec = (long)(until % 1000000u) * 1000;
		if (ppoll(&p, 1, &ts, &waitmask) == -1 && errno != EINTR) {
			perror("netrelay: poll");
			return 1;
		}
		if (syn_toggled) {
			syn_toggled = 0;
			synmode = !synmode;
			fprintf(stderr, "netrelay: SYN mode %s after %llu packets\n", synmode ? "on" : "off",
			    npackets);
			stats_write(argv[5]);
		}
		if (p.revents & POLLIN)
			take(fd, delay_us, every, argv[5]);
		release(fd);
	}
	return 0;
}
#else
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "netrelay: TUN devices are Linux only here\n");
	return 77;
}
#endif

/* echo: the stream buffer over socketpairs (nothing kept while the peer
 * reads, bounded and read-stopping while it does not, everything owed sent
 * before our EOF, records whole) and the reflection guard from a table. */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "echo.h"
#include "evloop.h"
#include "sock.h"

static char scratch_buf[65536];
static struct echo_scratch scratch = { scratch_buf, sizeof(scratch_buf) };

static void
pair(int type, int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, type, 0, sv), 0);
	assert_int_equal(sock_nonblock(sv[0]), 0);
}

/* Read what is there on the blocking peer side, up to n bytes. */
static size_t
drain(int fd, char *out, size_t n)
{
	size_t got = 0;
	ssize_t r;

	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	while (got < n && (r = read(fd, out + got, n - got)) > 0)
		got += (size_t)r;
	return got;
}

static void
test_direct_path_keeps_nothing(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[100];
	int sv[2];

	(void)state;
	pair(SOCK_STREAM, sv);
	echo_stream_init(&es, 4096, false);
	assert_int_equal(write(sv[1], "hello", 5), 5);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), EV_READ);
	assert_null(es.buf);
	assert_int_equal(echo_stream_pending(&es), 0);
	assert_int_equal(drain(sv[1], out, sizeof(out)), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(st.bytes, 5);
	close(sv[0]);
	close(sv[1]);
}

static void
test_backpressure_bounded_then_drains(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	static char in[4 << 20], out[4 << 20];
	size_t sent = 0, got = 0;
	int sv[2], want = EV_READ;
	uint32_t cap = 8192;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7 + i / 251);
	pair(SOCK_STREAM, sv);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	echo_stream_init(&es, cap, false);
	/* The peer writes and never reads until the server stops reading. */
	for (int round = 0; round < 10000 && want != EV_WRITE; round++) {
		ssize_t w = write(sv[1], in + sent, sizeof(in) - sent);
		if (w > 0)
			sent += (size_t)w;
		want = echo_stream_io(&es, sv[0], &scratch, &st, false);
		assert_true(echo_stream_pending(&es) <= cap);
	}
	assert_int_equal(want, EV_WRITE); /* full: only waiting to write */
	assert_int_equal(echo_stream_pending(&es), cap);
	assert_true(sent < sizeof(in));
	/* Now the peer reads and writes the rest, then half-closes. */
	while (want > 0) {
		ssize_t r = read(sv[1], out + got, sizeof(out) - got);
		if (r > 0)
			got += (size_t)r;
		if (sent < sizeof(in)) {
			ssize_t w = write(sv[1], in + sent, sizeof(in) - sent);
			if (w > 0)
				sent += (size_t)w;
			if (sent == sizeof(in))
				shutdown(sv[1], SHUT_WR);
		}
		want = echo_stream_io(&es, sv[0], &scratch, &st, false);
		assert_true(want >= 0);
	}
	got += drain(sv[1], out + got, sizeof(out) - got);
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_null(es.buf);
	close(sv[0]);
	close(sv[1]);
}

static void
test_eof_sends_owed_then_shuts_down(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[16];
	int sv[2];

	(void)state;
	pair(SOCK_STREAM, sv);
	echo_stream_init(&es, 4096, false);
	assert_int_equal(write(sv[1], "bye", 3), 3);
	shutdown(sv[1], SHUT_WR);
	/* The short read emptied the socket: no second read in the same call
	 * (it would cost a system call per echo); the loop calls again for
	 * the EOF, which is still readable. */
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), EV_READ);
	assert_int_equal(read(sv[1], out, sizeof(out)), 3);
	/* 0: everything owed is sent; closing is the caller's EOF. */
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), 0);
	echo_stream_free(&es);
	close(sv[0]);
	assert_int_equal(read(sv[1], out, sizeof(out)), 0);
	close(sv[1]);
}

/* Edge-triggered, the EOF behind the bytes brings no news: told so
 * (EV_DRAIN), one call reads on to the end. */
static void
test_read_all_reaches_eof(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[16];
	int sv[2];

	(void)state;
	pair(SOCK_STREAM, sv);
	echo_stream_init(&es, 4096, false);
	assert_int_equal(write(sv[1], "bye", 3), 3);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, true), 0);
	assert_int_equal(read(sv[1], out, sizeof(out)), 3);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

/* Stopped by the per-call cap with bytes still queued: ECHO_MORE, so an
 * edge-triggered caller comes back; a read that emptied the queue: not. */
static void
test_more_after_the_cap(void **state)
{
	struct echo_scratch small = { scratch_buf, 1024 };
	struct echo_stream es;
	struct echo_stats st = { 0 };
	static char in[9 * 1024], out[9 * 1024];
	int sv[2];

	(void)state;
	pair(SOCK_STREAM, sv);
	echo_stream_init(&es, 4096, false);
	assert_int_equal(write(sv[1], in, sizeof(in)), (ssize_t)sizeof(in));
	assert_int_equal(echo_stream_io(&es, sv[0], &small, &st, false), EV_READ | ECHO_MORE);
	assert_int_equal(echo_stream_io(&es, sv[0], &small, &st, false), EV_READ);
	assert_int_equal(read(sv[1], out, sizeof(out)), (ssize_t)sizeof(out));
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

/* sendmsg() of n bytes from p carrying one descriptor (a pipe's end,
 * closed here after): what sendmsg() returned. */
static ssize_t
send_with_fd(int fd, const char *p, size_t n)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char buf[64];
	struct iovec iov = { buf, n };
	struct msghdr mh;
	struct cmsghdr *c;
	int pfd[2];
	ssize_t r;

	assert_true(n <= sizeof(buf));
	memcpy(buf, p, n);
	assert_int_equal(pipe(pfd), 0);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
	r = sendmsg(fd, &mh, 0);
	close(pfd[0]);
	close(pfd[1]);
	return r;
}

/* A unix stream whose peer may pass descriptors: the read stops after the
 * bytes that carried them, and the call must read on (MSG_CTRUNC), or
 * "def" waits for news that an edge-triggered loop never gets. The
 * descriptor is closed, not kept. */
static void
test_rights_read_past_descriptors(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[16];
	int sv[2], lowest;

	(void)state;
	pair(SOCK_STREAM, sv);
	echo_stream_init(&es, 4096, false);
	es.rights = true;
	assert_int_equal(send_with_fd(sv[1], "abc", 3), 3);
	assert_int_equal(write(sv[1], "def", 3), 3);
	lowest = dup(0);
	close(lowest);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), EV_READ);
	assert_int_equal(drain(sv[1], out, sizeof(out)), 6);
	assert_memory_equal(out, "abcdef", 6);
	assert_int_equal(dup(0), lowest); /* the descriptor came and went */
	close(lowest);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

/* Refused (Linux 6.16), descriptors never reach our queue: the peer's
 * sendmsg() fails, and its plain bytes echo over recv(). */
static void
test_refused_rights_fail_at_the_sender(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[16];
	int sv[2];

	(void)state;
	pair(SOCK_STREAM, sv);
	if (sock_refuse_rights(sv[0]) == -1) {
		assert_true(errno == ENOPROTOOPT || errno == EINVAL);
		close(sv[0]);
		close(sv[1]);
		skip();
	}
	echo_stream_init(&es, 4096, false);
	errno = 0;
	assert_int_equal(send_with_fd(sv[1], "abc", 3), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(write(sv[1], "def", 3), 3);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), EV_READ);
	assert_int_equal(drain(sv[1], out, sizeof(out)), 3);
	assert_memory_equal(out, "def", 3);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

static void
test_reset_is_an_error(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	int sv[2];

	(void)state;
	pair(SOCK_STREAM, sv);
	echo_stream_init(&es, 4096, false);
	assert_int_equal(write(sv[1], "x", 1), 1);
	close(sv[1]);
	/* The write back fails (EPIPE): -1, and the buffer is released. */
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), -1);
	echo_stream_free(&es);
	close(sv[0]);
}

static void
test_records_whole(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[3000];
	int sv[2];

	(void)state;
	pair(SOCK_SEQPACKET, sv);
	echo_stream_init(&es, 1024, true);
	memset(out, 'r', sizeof(out));
	assert_int_equal(write(sv[1], out, 2000), 2000); /* larger than the buffer */
	assert_int_equal(write(sv[1], out, 10), 10);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), EV_READ);
	assert_int_equal(read(sv[1], out, sizeof(out)), 2000);
	assert_int_equal(read(sv[1], out, sizeof(out)), 10);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

#ifdef SO_PASSCRED
/* One record on the test's side, or -2 for the end of the stream: recv()
 * says 0 for both, but with SO_PASSCRED a record, even an empty one,
 * carries its sender's credentials and the end carries nothing. */
static ssize_t
peer_record(int fd, char *p, size_t n)
{
	union {
		char b[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { p, n };
	struct msghdr mh;
	int one = 1;
	ssize_t r;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	r = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (r == 0 && mh.msg_controllen == 0)
		return -2;
	return r;
}

/* An empty record is a record, not the end of the stream: it comes back
 * as an empty record, the records after it come back, and only the
 * peer's shutdown ends the echo (the attack: "abc", "", "def" lost "def"
 * and reset the connection). */
static void
test_records_empty(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[16];
	int sv[2], want = EV_READ;

	(void)state;
	pair(SOCK_SEQPACKET, sv);
	echo_stream_init(&es, 1024, true);
	assert_int_equal(write(sv[1], "abc", 3), 3);
	assert_int_equal(write(sv[1], "", 0), 0);
	assert_int_equal(write(sv[1], "def", 3), 3);
	assert_int_equal(write(sv[1], "", 0), 0);
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	for (int i = 0; i < 10 && want != 0; i++)
		want = echo_stream_io(&es, sv[0], &scratch, &st, false);
	assert_int_equal(want, 0);
	assert_int_equal(peer_record(sv[1], out, sizeof(out)), 3);
	assert_int_equal(peer_record(sv[1], out, sizeof(out)), 0);
	assert_int_equal(peer_record(sv[1], out, sizeof(out)), 3);
	assert_memory_equal(out, "def", 3);
	assert_int_equal(peer_record(sv[1], out, sizeof(out)), 0);
	echo_stream_free(&es);
	close(sv[0]); /* the caller's close is our EOF */
	assert_int_equal(peer_record(sv[1], out, sizeof(out)), -2);
	close(sv[1]);
}

/* Empty records the peer cannot take yet are owed like any other: none
 * is lost while it does not read, and the connection waits for
 * writability instead of reading on. */
static void
test_records_empty_owed(void **state)
{
	static char small_buf[1024];
	struct echo_scratch small = { small_buf, sizeof(small_buf) };
	struct echo_stream es;
	struct echo_stats st = { 0 };
	char out[16];
	int sv[2], want = EV_READ, tiny = 1, sent = 0, empties = 0;
	bool blocked = false, end_sent = false, end = false;
	const int n = 2000;

	(void)state;
	pair(SOCK_SEQPACKET, sv);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny)), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	echo_stream_init(&es, 1024, true);
	/* The peer writes empty records and does not read until we stop. */
	for (int round = 0; round < 10000 && !blocked; round++) {
		while (sent < n && write(sv[1], "", 0) == 0)
			sent++;
		want = echo_stream_io(&es, sv[0], &small, &st, false);
		assert_true(want > 0);
		blocked = want == EV_WRITE;
	}
	assert_true(blocked);
	/* Now it reads: every empty record comes back, then "end". */
	for (int round = 0; round < 100000 && !end; round++) {
		ssize_t r;
		while ((r = peer_record(sv[1], out, sizeof(out))) >= 0) {
			if (r == 0)
				empties++;
			else
				end = r == 3 && memcmp(out, "end", 3) == 0;
		}
		while (sent < n && write(sv[1], "", 0) == 0)
			sent++;
		if (sent == n && !end_sent)
			end_sent = write(sv[1], "end", 3) == 3;
		assert_true(echo_stream_io(&es, sv[0], &small, &st, false) > 0);
	}
	assert_true(end);
	assert_int_equal(empties, n);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}
#endif

/* Records up to the scratch buffer's size come back whole; a larger one
 * cannot be (it arrives truncated): the connection ends with EMSGSIZE, and
 * the limit is there for the log line. */
static void
test_records_limit(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	static char in[65537], out[65537];
	int sv[2], big = 1 << 20;

	(void)state;
	pair(SOCK_SEQPACKET, sv);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
	echo_stream_init(&es, 1024, true);
	memset(in, 'L', sizeof(in));
	assert_int_equal(write(sv[1], in, 65536), 65536);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), EV_READ);
	assert_int_equal(read(sv[1], out, sizeof(out)), 65536);
	assert_int_equal(es.record_max, sizeof(scratch_buf));
	assert_int_equal(write(sv[1], in, 65537), 65537);
	errno = 0;
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), -1);
	assert_int_equal(errno, EMSGSIZE);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

/* A record as large as a big scratch buffer (--buffer-size) is read whole
 * and must be sent whole too: a unix socket refuses a record larger than
 * its send buffer (EMSGSIZE), so ours is raised to fit. */
static void
test_records_larger_than_sndbuf(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	static char big_buf[1 << 20], in[300000], out[300001];
	struct echo_scratch sc = { big_buf, sizeof(big_buf) };
	int sv[2], big = 1 << 20;

	(void)state;
	pair(SOCK_SEQPACKET, sv);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
	echo_stream_init(&es, 65536, true);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 11 + i / 257);
	assert_int_equal(write(sv[1], in, sizeof(in)), sizeof(in));
	assert_int_equal(write(sv[1], "next", 4), 4);
	assert_int_equal(echo_stream_io(&es, sv[0], &sc, &st, false), EV_READ);
	assert_true(es.record_max >= sizeof(in));
	assert_int_equal(read(sv[1], out, sizeof(out)), sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(read(sv[1], out, sizeof(out)), 4);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

/* A peer may attach descriptors to a record (SCM_RIGHTS): none may land
 * in the server, which would run out of them. */
static void
test_records_no_fds_taken(void **state)
{
	struct echo_stream es;
	struct echo_stats st = { 0 };
	union {
		char b[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} ctl;
	char fd_msg[] = "fd";
	struct iovec iov = { fd_msg, 2 };
	struct msghdr mh;
	struct cmsghdr *c;
	char out[16];
	int sv[2], fds[2], lowest;

	(void)state;
	pair(SOCK_SEQPACKET, sv);
	echo_stream_init(&es, 1024, true);
	assert_int_equal(pipe(fds), 0);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[1], &mh, 0), 2);
	close(fds[0]);
	close(fds[1]);
	lowest = dup(0);
	close(lowest);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), EV_READ);
	assert_int_equal(read(sv[1], out, sizeof(out)), 2);
	fds[0] = dup(0);
	assert_int_equal(fds[0], lowest); /* nothing took the lowest free fd */
	close(fds[0]);
	echo_stream_free(&es);
	close(sv[0]);
	close(sv[1]);
}

struct guard_case {
	const char *addr;
	int port;
	bool refused;
};

static const struct guard_case guard_cases[] = {
	{ "127.0.0.1", 40000, false },
	{ "::1", 40000, false },
	{ "192.0.2.1", 1024, false },
	{ "127.0.0.1", 0, true },
	{ "127.0.0.1", 7, true },
	{ "192.0.2.1", 19, true },
	{ "2001:db8::1", 13, true },
	{ "192.0.2.1", 37, true },
	{ "192.0.2.1", 17, true },
	{ "192.0.2.1", 123, true },
	{ "192.0.2.1", 7007, true }, /* our own port, below */
	{ "::ffff:192.0.2.1", 7007, true },
	{ "0.0.0.0", 40000, true },
	{ "255.255.255.255", 40000, true },
	{ "224.0.0.1", 40000, true },
	{ "239.255.255.250", 40000, true },
	{ "240.0.0.1", 40000, true },
	{ "::", 40000, true },
	{ "ff02::1", 40000, true },
	{ "::ffff:224.0.0.1", 40000, true },
	{ "::ffff:127.0.0.1", 40000, false },
	/* OpenBSD's inetd rule: no source port below 1024, nor NFS's */
	{ "192.0.2.1", 1, true },
	{ "192.0.2.1", 9, true },
	{ "192.0.2.1", 1023, true },
	{ "2001:db8::1", 1023, true },
	{ "::ffff:192.0.2.1", 1023, true },
	{ "::ffff:192.0.2.1", 19, true },
	{ "192.0.2.1", 2049, true },
	{ "192.0.2.1", 1025, false },
	{ "192.0.2.1", 65535, false },
	/* reflectors above 1024 */
	{ "192.0.2.1", 1900, true },
	{ "192.0.2.1", 5353, true },
	{ "2001:db8::1", 11211, true },
	/* our own ports past the sixteenth, added below */
	{ "192.0.2.1", 40040, true },
	{ "192.0.2.1", 40041, false },
	/* ephemeral ports of Linux (32768-60999) and FreeBSD (10000-) */
	{ "192.0.2.1", 37810, false },
	{ "192.0.2.1", 10001, false },
	/* broadcast sources, limited and directed, v4-mapped too; the
	 * local networks' broadcast addresses are set below */
	{ "::ffff:255.255.255.255", 40000, true },
	{ "::ffff:0.0.0.0", 40000, true },
	{ "::ffff:240.0.0.1", 40000, true },
	{ "192.0.2.255", 40000, true },
	{ "::ffff:192.0.2.255", 40000, true },
	{ "10.1.255.255", 40000, true },
	{ "198.51.100.255", 40000, false }, /* not ours: a host of some /23 */
};

static socklen_t
make_sa(struct sockaddr_storage *ss, const char *addr, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		return sizeof(*s4);
	}
}

static const uint32_t local_bcast[] = { 0xc00002ffu /* 192.0.2.255 */, 0x0a01ffffu };

static void
test_guard_table(void **state)
{
	struct echo_guard g = { 0 }, off = { 0 };

	(void)state;
	assert_int_equal(echo_guard_add_port(&g, 7007), 0);
	assert_int_equal(echo_guard_add_port(&g, 7007), 0);
	assert_int_equal(g.nown, 1);
	/* as many own ports as are bound: none ignored past a fixed count */
	for (int p = 40001; p <= 40040; p++)
		assert_int_equal(echo_guard_add_port(&g, p), 0);
	assert_int_equal(g.nown, 41);
	echo_guard_set_broadcasts(&g, local_bcast, AE_NELEM(local_bcast));
	off.off = true;
	for (size_t i = 0; i < AE_NELEM(guard_cases); i++) {
		const struct guard_case *c = &guard_cases[i];
		struct sockaddr_storage ss;
		socklen_t len = make_sa(&ss, c->addr, c->port);
		const char *why;

		why = echo_guard_check(&g, (struct sockaddr *)&ss, len);
		print_message("%s port %d: %s\n", c->addr, c->port, why ? why : "answered");
		assert_int_equal(why != NULL, c->refused);
		assert_null(echo_guard_check(&off, (struct sockaddr *)&ss, len));
	}
	echo_guard_free_ports(&g);
}

struct dst_case {
	const char *addr;
	bool refused;
};

static const struct dst_case dst_cases[] = {
	{ "192.0.2.1", false },
	{ "::ffff:192.0.2.1", false },
	{ "2001:db8::1", false },
	{ "255.255.255.255", true },
	{ "::ffff:255.255.255.255", true },
	{ "192.0.2.255", true }, /* directed: a local network's broadcast */
	{ "::ffff:192.0.2.255", true },
	{ "10.1.255.255", true },
	{ "224.0.0.1", true },
	{ "::ffff:239.1.2.3", true },
	{ "ff02::1", true },
	{ "ff05::2", true },
	{ "198.51.100.255", false },
};

/* Where a datagram was sent to: checked with the guard on or off. */
static void
test_guard_destinations(void **state)
{
	struct echo_guard g = { 0 };

	(void)state;
	echo_guard_set_broadcasts(&g, local_bcast, AE_NELEM(local_bcast));
	for (int off = 0; off < 2; off++) {
		g.off = off;
		for (size_t i = 0; i < AE_NELEM(dst_cases); i++) {
			struct sockaddr_storage ss;
			const char *why;

			make_sa(&ss, dst_cases[i].addr, 7);
			why = echo_guard_check_dst(&g, (struct sockaddr *)&ss);
			print_message("to %s: %s\n", dst_cases[i].addr, why ? why : "answered");
			assert_int_equal(why != NULL, dst_cases[i].refused);
		}
	}
	/* The list is replaced whole: an address gone is answered again. */
	echo_guard_set_broadcasts(&g, local_bcast + 1, 1);
	{
		struct sockaddr_storage ss;
		make_sa(&ss, "192.0.2.255", 7);
		assert_null(echo_guard_check_dst(&g, (struct sockaddr *)&ss));
		make_sa(&ss, "::ffff:10.1.255.255", 7);
		assert_non_null(echo_guard_check_dst(&g, (struct sockaddr *)&ss));
	}
	/* The real interfaces: whatever they are, loading them works. */
	assert_true(echo_guard_load_broadcasts(&g) >= 0);
}

struct fake_if {
	const char *addr, *mask, *bcast; /* bcast NULL: no IFF_BROADCAST */
};

static const struct fake_if fake_ifs[] = {
	{ "127.0.0.1", "255.0.0.0", NULL },
	{ "192.0.2.1", "255.255.255.0", "192.0.2.255" },    /* kept */
	{ "10.7.7.1", "255.255.255.0", "10.7.7.1" },        /* added without brd */
	{ "10.9.9.9", "255.255.255.255", "10.9.9.9" },      /* GCE: /32, brd itself */
	{ "10.8.8.8", "255.255.255.255", "10.8.8.255" },    /* /32: no broadcast */
	{ "100.64.0.0", "255.255.255.254", "100.64.0.1" },  /* /31: none either */
	{ "172.16.0.1", "255.255.0.0", "172.16.255.255" },  /* kept */
	{ "172.16.5.1", "255.255.0.0", "172.16.255.255" },  /* the same, once */
	{ "198.51.100.7", "255.255.255.0", "203.0.113.9" }, /* brd another's address */
	{ "203.0.113.9", "255.255.255.0", "203.0.113.255" }, /* kept */
};

/* Which broadcast addresses of an interface list the guard takes. */
static void
test_guard_pick_broadcasts(void **state)
{
	static char ifname[] = "test0";
	struct ifaddrs ifa[AE_NELEM(fake_ifs)];
	struct sockaddr_in sa[AE_NELEM(fake_ifs)][3];
	uint32_t out[8];
	size_t n;

	(void)state;
	memset(ifa, 0, sizeof(ifa));
	memset(sa, 0, sizeof(sa));
	for (size_t i = 0; i < AE_NELEM(fake_ifs); i++) {
		const char *a[3] = { fake_ifs[i].addr, fake_ifs[i].mask, fake_ifs[i].bcast };
		for (int k = 0; k < 3; k++) {
			sa[i][k].sin_family = AF_INET;
			if (a[k] != NULL)
				assert_int_equal(inet_pton(AF_INET, a[k], &sa[i][k].sin_addr), 1);
		}
		ifa[i].ifa_next = i + 1 < AE_NELEM(fake_ifs) ? &ifa[i + 1] : NULL;
		ifa[i].ifa_name = ifname;
		ifa[i].ifa_flags = IFF_UP | (a[2] != NULL ? IFF_BROADCAST : IFF_LOOPBACK);
		ifa[i].ifa_addr = (struct sockaddr *)&sa[i][0];
		ifa[i].ifa_netmask = (struct sockaddr *)&sa[i][1];
		ifa[i].ifa_broadaddr = a[2] != NULL ? (struct sockaddr *)&sa[i][2] : NULL;
	}
	n = echo_guard_pick_broadcasts(ifa, out, AE_NELEM(out));
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 0xc00002ffu);
	assert_int_equal(out[1], 0xac10ffffu);
	assert_int_equal(out[2], 0xcb0071ffu);
	/* bounded by the room given */
	assert_int_equal(echo_guard_pick_broadcasts(ifa, out, 1), 1);
}

/* The peer reads into out (got bytes there already) and writes the rest
 * of in, half-closing after it, while the stream moves what it can, until
 * it is done. Returns the bytes in out. Both are len long. */
static size_t
finish(struct echo_stream *es, int sv[2], const char *in, size_t len, size_t sent, char *out,
    size_t got, struct echo_stats *st)
{
	int want = 1;

	while (want > 0) {
		ssize_t r = read(sv[1], out + got, len - got);
		if (r > 0)
			got += (size_t)r;
		if (sent < len) {
			ssize_t w = write(sv[1], in + sent, len - sent);
			if (w > 0)
				sent += (size_t)w;
			if (sent == len)
				shutdown(sv[1], SHUT_WR);
		}
		want = echo_stream_io(es, sv[0], &scratch, st, false);
		assert_true(want >= 0);
	}
	return got + drain(sv[1], out + got, len - got);
}

/* Other connections owe all but 1000 bytes of the budget: this one may
 * not take a full buffer, only small reads from the overdraft; with the
 * overdraft gone too it reads nothing and says so; when the budget frees,
 * it goes on, and every byte comes back in order. */
static void
test_budget_spent_small_then_paused(void **state)
{
	struct echo_budget b;
	struct echo_stream es;
	struct echo_stats st = { 0 };
	static char in[1 << 20], out[1 << 20];
	size_t sent = 0, got;
	int sv[2], want = EV_READ;
	uint64_t others = 65536 - 1000;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 13 + i / 241);
	pair(SOCK_STREAM, sv);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	echo_budget_init(&b, 65536);
	assert_int_equal(b.overdraft, 8192);
	b.used = others;
	echo_stream_init(&es, 65536, false);
	es.budget = &b;
	for (int round = 0; round < 10000 && want != EV_WRITE; round++) {
		ssize_t w = write(sv[1], in + sent, sizeof(in) - sent);
		if (w > 0)
			sent += (size_t)w;
		want = echo_stream_io(&es, sv[0], &scratch, &st, false);
		assert_true(echo_stream_pending(&es) <= ECHO_SPENT_READ);
		assert_true(echo_budget_used(&b) <= b.max + b.overdraft);
	}
	assert_int_equal(want, EV_WRITE); /* a small buffer, full at once */
	assert_int_equal(echo_budget_used(&b), others + es.size);
	/* Everything else is taken: once it owes nothing, it may not read. */
	b.used = b.max + b.overdraft + es.size;
	got = drain(sv[1], out, sizeof(out));
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), ECHO_PAUSED);
	assert_null(es.buf);
	assert_int_equal(echo_budget_used(&b), b.max + b.overdraft);
	assert_int_equal(st.budget_paused, 1);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st, false), ECHO_PAUSED);
	/* The budget frees: on to the end, all of it, in order. */
	b.used = 0;
	got = finish(&es, sv, in, sizeof(in), sent, out, got, &st);
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(echo_budget_used(&b), 0);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_path_keeps_nothing),
		cmocka_unit_test(test_backpressure_bounded_then_drains),
		cmocka_unit_test(test_budget_spent_small_then_paused),
		cmocka_unit_test(test_eof_sends_owed_then_shuts_down),
		cmocka_unit_test(test_read_all_reaches_eof),
		cmocka_unit_test(test_more_after_the_cap),
		cmocka_unit_test(test_rights_read_past_descriptors),
		cmocka_unit_test(test_refused_rights_fail_at_the_sender),
		cmocka_unit_test(test_reset_is_an_error),
		cmocka_unit_test(test_records_whole),
#ifdef SO_PASSCRED
		cmocka_unit_test(test_records_empty),
		cmocka_unit_test(test_records_empty_owed),
#endif
		cmocka_unit_test(test_records_limit),
		cmocka_unit_test(test_records_larger_than_sndbuf),
		cmocka_unit_test(test_records_no_fds_taken),
		cmocka_unit_test(test_guard_table),
		cmocka_unit_test(test_guard_destinations),
		cmocka_unit_test(test_guard_pick_broadcasts),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

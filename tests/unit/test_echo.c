/* echo: the stream buffer over socketpairs (nothing kept while the peer
 * reads, bounded and read-stopping while it does not, everything owed sent
 * before our EOF, records whole). */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
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
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

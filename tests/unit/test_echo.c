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
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st), EV_READ);
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
		want = echo_stream_io(&es, sv[0], &scratch, &st);
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
		want = echo_stream_io(&es, sv[0], &scratch, &st);
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
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st), EV_READ);
	assert_int_equal(read(sv[1], out, sizeof(out)), 3);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st), 0);
	assert_int_equal(read(sv[1], out, sizeof(out)), 0); /* our EOF */
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
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st), -1);
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
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st), EV_READ);
	assert_int_equal(read(sv[1], out, sizeof(out)), 2000);
	assert_int_equal(read(sv[1], out, sizeof(out)), 10);
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
		want = echo_stream_io(es, sv[0], &scratch, st);
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
		want = echo_stream_io(&es, sv[0], &scratch, &st);
		assert_true(echo_stream_pending(&es) <= ECHO_SPENT_READ);
		assert_true(echo_budget_used(&b) <= b.max + b.overdraft);
	}
	assert_int_equal(want, EV_WRITE); /* a small buffer, full at once */
	assert_int_equal(echo_budget_used(&b), others + es.size);
	/* Everything else is taken: once it owes nothing, it may not read. */
	b.used = b.max + b.overdraft + es.size;
	got = drain(sv[1], out, sizeof(out));
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st), ECHO_PAUSED);
	assert_null(es.buf);
	assert_int_equal(echo_budget_used(&b), b.max + b.overdraft);
	assert_int_equal(st.budget_paused, 1);
	assert_int_equal(echo_stream_io(&es, sv[0], &scratch, &st), ECHO_PAUSED);
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
		cmocka_unit_test(test_reset_is_an_error),
		cmocka_unit_test(test_records_whole),
		cmocka_unit_test(test_guard_table),
		cmocka_unit_test(test_guard_destinations),
		cmocka_unit_test(test_guard_pick_broadcasts),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* server: what a connection holds. A stream connection that owes its peer
 * bytes gets a block of its own and gives it back once drained (with and
 * without the budget of bytes owed), a seqpacket one keeps it for life,
 * and the idle sweep closes a quiet connection after the timeout, never
 * before it and within the sweep period of it. The loop is driven here,
 * one pass at a time, on one worker. */
#include "common.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "server.h"

#define CHUNK 16384

static struct server *
server_with(uint64_t max_owed, int idle_ms)
{
	struct server_opts o = { .bufsize = SERVER_BUFSIZE, .max_conns = 10, .grace_ms = 100,
		.threads = 1, .max_owed = max_owed, .stall_ms = 60000, .idle_ms = idle_ms };
	struct server *s = NULL;

	if (server_new(&s, &o) != 0)
		fail_msg("server_new: %s", strerror(errno));
	return s;
}

/* A socketpair: the server adopts one end as a connection, the test keeps
 * the other (non-blocking); returns it. */
static int
adopt_pair(struct server *s, int type)
{
	struct addr a = { .family = AF_UNIX, .socktype = type };
	int p[2];

	assert_int_equal(socketpair(AF_UNIX, type, 0, p), 0);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	a.sa.ss_family = AF_UNIX;
	a.len = sizeof(sa_family_t);
	assert_int_equal(server_adopt(s, p[0], &a, true), 0);
	return p[1];
}

static int
open_conns(const struct server *s)
{
	struct echo_stats st;
	int n;

	server_stats(s, &st, &n);
	return n;
}

/* Write without reading until the server owes, then read it all back. */
static void
owe_then_drain(uint64_t max_owed)
{
	struct server *s = server_with(max_owed, 0);
	struct evloop *loop;
	static char out[CHUNK], in[CHUNK];
	size_t sent = 0, got = 0;
	int peer, i;

	if (s == NULL)
		return;
	loop = server_loop(s);
	peer = adopt_pair(s, SOCK_STREAM);
	assert_int_equal(server_conn_blocks(s), 0); /* idle: none */
	for (i = 0; i < 2000 && server_conn_blocks(s) == 0; i++) {
		ssize_t n;
		memset(out, 'a' + (int)(sent / CHUNK % 26), sizeof(out));
		n = write(peer, out, sizeof(out));
		if (n > 0)
			sent += (size_t)n;
		assert_int_equal(evloop_once(loop, n > 0 ? 0 : 10), 0);
	}
	assert_int_equal(server_conn_blocks(s), 1);
	for (i = 0; i < 5000 && (got < sent || server_conn_blocks(s) > 0); i++) {
		ssize_t n = read(peer, in, sizeof(in));
		if (n > 0) {
			/* every byte as sent: 'a' + its chunk's number */
			for (ssize_t k = 0; k < n; k++)
				assert_int_equal(in[k], 'a' + (int)((got + (size_t)k) / CHUNK % 26));
			got += (size_t)n;
		}
		assert_int_equal(evloop_once(loop, n > 0 ? 0 : 10), 0);
	}
	print_message("owed, drained: %zu bytes echoed; %d block(s) left\n", got,
	    server_conn_blocks(s));
	assert_int_equal(got, sent);
	assert_int_equal(server_conn_blocks(s), 0);
	assert_int_equal(open_conns(s), 1);
	close(peer);
	for (i = 0; i < 500 && open_conns(s) > 0; i++)
		assert_int_equal(evloop_once(loop, 10), 0);
	assert_int_equal(open_conns(s), 0);
	server_free(s);
}

static void
test_block_released_budget(void **state)
{
	(void)state;
	owe_then_drain(SERVER_MAX_OWED);
}

static void
test_block_released_no_budget(void **state)
{
	(void)state;
	owe_then_drain(0);
}

/* With the budget spent, a new connection pauses (a block for its place
 * in the paused list); once the others drain it is woken, echoes, and
 * gives its block back like them. */
static void
test_paused_block_released(void **state)
{
	struct server *s = server_with(65536, 0);
	struct evloop *loop;
	static char buf[CHUNK];
	size_t sent[3] = { 0 }, got[3] = { 0 };
	struct echo_stats st;
	uint64_t owed = 0, max = 0;
	int peer[3], b, i, n;
	bool done = false;
	char hello[8];
	ssize_t hn = -1;

	(void)state;
	if (s == NULL)
		return;
	loop = server_loop(s);
	memset(buf, 'x', sizeof(buf));
	for (int k = 0; k < 3; k++)
		peer[k] = adopt_pair(s, SOCK_STREAM);
	/* 64 KiB for the first, 4 KiB each from the overdraft for the others */
	server_owed(s, &owed, &max);
	for (i = 0; i < 5000 && owed < max + max / 8; i++) {
		for (int k = 0; k < 3; k++) {
			ssize_t w = write(peer[k], buf, sizeof(buf));
			if (w > 0)
				sent[k] += (size_t)w;
		}
		assert_int_equal(evloop_once(loop, 1), 0);
		server_owed(s, &owed, &max);
	}
	assert_true(owed >= max + max / 8);
	b = adopt_pair(s, SOCK_STREAM);
	assert_int_equal(write(b, "hello", 5), 5);
	for (i = 0; i < 20; i++)
		assert_int_equal(evloop_once(loop, 1), 0);
	server_stats(s, &st, &n);
	print_message("owed %llu of %llu, paused %llu, blocks %d, open %d\n",
	    (unsigned long long)owed, (unsigned long long)max,
	    (unsigned long long)st.budget_paused, server_conn_blocks(s), n);
	assert_true(st.budget_paused >= 1);
	assert_int_equal(server_conn_blocks(s), 4);
	for (i = 0; i < 5000 && !done; i++) {
		done = true;
		for (int k = 0; k < 3; k++) {
			ssize_t r = read(peer[k], buf, sizeof(buf));
			if (r > 0)
				got[k] += (size_t)r;
			done = done && got[k] == sent[k];
		}
		if (hn == -1)
			hn = read(b, hello, sizeof(hello));
		done = done && hn != -1 && server_conn_blocks(s) == 0;
		assert_int_equal(evloop_once(loop, 1), 0);
	}
	assert_int_equal(hn, 5);
	assert_memory_equal(hello, "hello", 5);
	for (int k = 0; k < 3; k++)
		assert_int_equal(got[k], sent[k]);
	assert_int_equal(server_conn_blocks(s), 0);
	server_owed(s, &owed, &max);
	assert_int_equal(owed, 0);
	for (int k = 0; k < 3; k++)
		close(peer[k]);
	close(b);
	server_free(s);
}

/* Records keep their block (their state) until the connection ends. */
static void
test_records_block(void **state)
{
	struct server *s = server_with(SERVER_MAX_OWED, 0);
	struct evloop *loop;
	char buf[16];
	ssize_t n = -1;
	int peer, i;

	(void)state;
	if (s == NULL)
		return;
	loop = server_loop(s);
	peer = adopt_pair(s, SOCK_SEQPACKET);
	assert_int_equal(server_conn_blocks(s), 1);
	assert_int_equal(write(peer, "rec", 3), 3);
	for (i = 0; i < 500 && n == -1; i++) {
		assert_int_equal(evloop_once(loop, 10), 0);
		n = read(peer, buf, sizeof(buf));
	}
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "rec", 3);
	assert_int_equal(server_conn_blocks(s), 1);
	close(peer);
	for (i = 0; i < 500 && open_conns(s) > 0; i++)
		assert_int_equal(evloop_once(loop, 10), 0);
	assert_int_equal(open_conns(s), 0);
	assert_int_equal(server_conn_blocks(s), 0);
	server_free(s);
}

/* Timeout 200 ms: the sweep runs every 100 ms (its least period), so the
 * connection goes between 200 and 300 ms of the loop's clock; a loaded
 * machine may run a timer late, hence the margin above. */
static void
test_idle_sweep(void **state)
{
	struct server *s = server_with(SERVER_MAX_OWED, 200);
	struct evloop *loop;
	struct echo_stats st;
	uint64_t t0, at = 0;
	char c;
	int peer, n;

	(void)state;
	if (s == NULL)
		return;
	loop = server_loop(s);
	peer = adopt_pair(s, SOCK_STREAM);
	t0 = evloop_now(loop); /* the connection's last activity */
	for (int i = 0; i < 1000 && open_conns(s) > 0; i++) {
		assert_int_equal(evloop_once(loop, 20), 0);
		at = evloop_now(loop);
	}
	print_message("closed idle after %llu ms\n", (unsigned long long)(at - t0));
	assert_int_equal(open_conns(s), 0);
	assert_true(at - t0 >= 200);
	assert_true(at - t0 <= 300 + 700);
	assert_int_equal(read(peer, &c, 1), 0); /* the peer sees the end */
	server_stats(s, &st, &n);
	assert_int_equal(st.conns_idle, 1);
	close(peer);
	server_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_released_budget),
		cmocka_unit_test(test_block_released_no_budget),
		cmocka_unit_test(test_paused_block_released),
		cmocka_unit_test(test_records_block),
		cmocka_unit_test(test_idle_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

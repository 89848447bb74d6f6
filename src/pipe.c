/* Pipe mode: standard input to the server, its verified echo to
 * standard output, with a bounded window of bytes sent but not echoed. */
#include "common.h"

#include "client_int.h"
#include "payload.h"

#define PIPE_WINDOW (1u << 20) /* sent but not yet echoed, before stdin waits */

static void pipe_update(struct session *s);

static void
pipe_end(struct session *s)
{
	char w[ADDR_STRLEN + 16];

	session_where(&s->addr, w, sizeof(w));
	if (s->err[0] == '\0' && s->unacked_len > 0) /* what waits in tx is counted there too */
		snprintf(s->err, sizeof(s->err), "echo from %s ended %zu bytes short", w,
		    s->unacked_len);
	session_finish(s);
}

/* While input flows: no progress within -W is the end. Once the input
 * has ended and is sent: -W from then, however the echo trickles. */
static void
on_pipe_timeout(struct evloop *loop, void *arg)
{
	struct session *s = arg;
	int ms = s->t->c->o.timeout_ms;
	char w[ADDR_STRLEN + 16];

	(void)loop;
	session_where(&s->addr, w, sizeof(w));
	if (!s->closing)
		snprintf(s->err, sizeof(s->err), "no reply from %s within %d ms", w, ms);
	else if (s->unacked_len > 0)
		snprintf(s->err, sizeof(s->err),
		    "echo from %s incomplete %d ms after the end of input: %zu bytes missing", w, ms,
		    s->unacked_len);
	/* else: all echoed intact, the server just did not close */
	session_finish(s);
}

/* Echoed bytes: those that match what went out are passed on; the first
 * wrong byte, or the first byte past what was sent, ends the session
 * (and is not written). Returns -1 when the session must end. */
static int
pipe_received(struct session *s, const unsigned char *p, size_t n)
{
	size_t cmp = n < s->unacked_len ? n : s->unacked_len;
	size_t d = payload_first_diff(s->unacked, p, cmp);

	for (size_t off = 0; off < d;) {
		ssize_t w = write(STDOUT_FILENO, p + off, d - off);
		if (w == -1 && errno != EINTR) {
			snprintf(s->err, sizeof(s->err), "standard output: %s", strerror(errno));
			return -1;
		}
		off += w > 0 ? (size_t)w : 0;
	}
	if (d < cmp)
		snprintf(s->err, sizeof(s->err), "echo differs from sent data at byte %llu",
		    (unsigned long long)(s->bytes_received + d));
	else if (n > cmp)
		snprintf(s->err, sizeof(s->err), "echo has %zu byte%s more than sent", n - cmp,
		    n - cmp == 1 ? "" : "s");
	memmove(s->unacked, s->unacked + d, s->unacked_len - d);
	s->unacked_len -= d;
	s->bytes_received += d;
	return d < n ? -1 : 0;
}

static void
on_pipe_sock(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	struct client *c = s->t->c;
	ssize_t n;

	(void)loop;
	if ((events & EV_WRITE) && s->txlen > 0) {
		n = send(fd, s->tx, s->txlen, MSG_NOSIGNAL);
		if (n > 0) {
			memmove(s->tx, s->tx + n, s->txlen - (size_t)n);
			s->txlen -= (size_t)n;
		} else if (errno != EAGAIN && errno != EINTR) {
			pipe_end(s);
			return;
		}
	}
	if (events & EV_READ) {
		n = recv(fd, c->rxbuf, sizeof(c->rxbuf), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR) ||
		    (n > 0 && pipe_received(s, c->rxbuf, (size_t)n) == -1)) {
			pipe_end(s);
			return;
		}
		if (n > 0 && !s->closing)
			evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	}
	pipe_update(s);
}

static void
on_pipe_stdin(struct evloop *loop, int fd, int events, void *arg)
{
	struct session *s = arg;
	size_t room = PIPE_WINDOW - s->unacked_len;
	ssize_t n;

	(void)loop;
	(void)events;
	n = read(fd, s->tx, room < 65536 ? room : 65536);
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		s->stdin_eof = true;
	} else {
		memcpy(s->unacked + s->unacked_len, s->tx, (size_t)n);
		s->unacked_len += (size_t)n;
		s->txlen = (size_t)n;
		s->bytes_sent += (uint64_t)n;
	}
	pipe_update(s);
}

/* Watch stdin only while nothing waits to be sent and the window has
 * room; half-close once stdin is done and everything is out. */
static void
pipe_update(struct session *s)
{
	struct client *c = s->t->c;
	bool read_stdin = !s->stdin_eof && s->txlen == 0 && s->unacked_len < PIPE_WINDOW;

	if (evloop_fd_set(c->loop, STDIN_FILENO, read_stdin ? EV_READ : 0, on_pipe_stdin, s) == -1) {
		s->stdin_eof = true;
		snprintf(s->err, sizeof(s->err), "cannot watch standard input: %s", strerror(errno));
	}
	if (s->stdin_eof && s->txlen == 0 && !s->closing && !s->done && s->fd != -1) {
		shutdown(s->fd, SHUT_WR);
		s->closing = true;
		evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	}
	if (!s->closing && s->unacked_len > 0 && !evtimer_armed(&s->rtimer))
		evloop_timer_arm(c->loop, &s->rtimer, (uint64_t)c->o.timeout_ms);
	if (!s->closing && s->unacked_len == 0)
		evloop_timer_cancel(c->loop, &s->rtimer);
	evloop_fd_set(c->loop, s->fd, EV_READ | (s->txlen > 0 ? EV_WRITE : 0), on_pipe_sock, s);
}

/* The session connected: standard input goes to it from now on. */
void
pipe_start(struct session *s)
{
	s->tx = malloc(65536);
	s->unacked = malloc(PIPE_WINDOW);
	evtimer_init(&s->rtimer, on_pipe_timeout, s);
	if (s->tx == NULL || s->unacked == NULL) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		session_finish(s);
		return;
	}
	pipe_update(s);
}

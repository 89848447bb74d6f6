/* Pipe mode: standard input to the server, its verified echo to
 * standard output, with a bounded window of bytes sent but not echoed. */
#include "common.h"

#include <poll.h>

#include "client_int.h"
#include "payload.h"

#define PIPE_WINDOW (1u << 20) /* sent but not yet echoed, before stdin waits */

static void pipe_update(struct session *s);

/* The input has ended and all of it went out. */
static bool
input_done(const struct session *s)
{
	return s->stdin_eof && s->txlen == 0;
}

/* The session ends now, cut short by WHY ("server ... closed", "connection
 * reset by ...", "interrupted") unless it already has its error. Ending
 * before the end of input is a failure even when all sent so far came
 * back: the copy is cut short. After it, only bytes still owed are. */
static void
pipe_end(struct session *s, const char *why)
{
	if (s->err[0] == '\0' && !input_done(s))
		snprintf(s->err, sizeof(s->err),
		    "%s before the end of input (%llu bytes sent, %llu echoed)", why,
		    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received);
	else if (s->err[0] == '\0' && s->unacked_len > 0)
		snprintf(s->err, sizeof(s->err), "%s with the echo %zu bytes short", why,
		    s->unacked_len);
	session_finish(s);
}

/* The server closed while we had not seen the end of input: it may be
 * there, unread (a file, a writer gone while the echo came back). Only
 * an end already there counts; a byte read here is input never sent. */
static void
peek_input_end(struct session *s)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char b;

	if (!s->stdin_eof && s->txlen == 0 && poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLIN | POLLHUP)) && read(STDIN_FILENO, &b, 1) == 0)
		s->stdin_eof = true;
}

/* The connection ended, by EOF (e 0) or error e: words for it. */
static void
pipe_lost(struct session *s, int e)
{
	char w[ADDR_STRLEN + 16], why[ADDR_STRLEN + 96];

	session_where(&s->addr, w, sizeof(w));
	peek_input_end(s);
	if (e == 0 && input_done(s) && s->unacked_len > 0 && s->err[0] == '\0')
		snprintf(s->err, sizeof(s->err), "echo from %s ended %zu bytes short", w,
		    s->unacked_len);
	if (e == 0 || e == EPIPE)
		snprintf(why, sizeof(why), "server %s closed", w);
	else if (e == ECONNRESET)
		snprintf(why, sizeof(why), "connection reset by %s", w);
	else
		snprintf(why, sizeof(why), "connection to %s failed (%s)", w, strerror(e));
	pipe_end(s, why);
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
			pipe_lost(s, errno);
			return;
		}
	}
	if (events & EV_READ) {
		n = recv(fd, c->rxbuf, sizeof(c->rxbuf), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			pipe_lost(s, n == 0 ? 0 : errno);
			return;
		}
		if (n > 0 && pipe_received(s, c->rxbuf, (size_t)n) == -1) {
			session_finish(s); /* its error is said */
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
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) { /* not an end of input: what is left of it is lost */
		snprintf(s->err, sizeof(s->err), "standard input: %s", strerror(errno));
		session_finish(s);
		return;
	}
	if (n == 0) {
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

/* SIGINT, SIGTERM: the session ends as if cut, so that an input not yet
 * through is a failure; all of it through and echoed is not. */
void
pipe_stop(struct session *s)
{
	if (!s->done)
		pipe_end(s, "interrupted");
}

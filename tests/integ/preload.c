/* An LD_PRELOAD shim for the integration tests: it shows what anyechod did
 * at moments a shell cannot observe, without strace. Each hook appends one
 * line to $AE_SHIM_LOG:
 *   bind PATH MODE   the mode a unix socket file had the moment it appeared
 *   close0           fd 0 was closed (under --inetd it is the client)
 * With $AE_SHIM_FAIL_WAIT naming a file, epoll_wait() and poll() fail
 * with EIO once that file exists, to make an event loop fail on demand;
 * with $AE_SHIM_NOMEM_ADD naming a file, epoll_ctl(EPOLL_CTL_ADD) fails
 * with ENOMEM once it exists, as when the kernel is out of memory.
 * With $AE_SHIM_SLOW_NODELAY set, setting TCP_NODELAY (done for each new
 * connection) takes that many milliseconds, to widen race windows.
 * With $AE_SHIM_WMEM set, SO_SNDBUF and SO_SNDBUFFORCE ask for at most that
 * many bytes, as an unprivileged process under net.core.wmem_max would
 * (Debian's default is 212992), whoever runs the test.
 * With $AE_SHIM_BUSY_WAIT set, a wait that returns events returns that many
 * milliseconds late, as in a loop kept busy elsewhere: readiness and a due
 * timer then meet in one turn.
 * With $AE_SHIM_NO_PASSRIGHTS set, setting SO_PASSRIGHTS fails with
 * ENOPROTOOPT, as on a kernel before Linux 6.16.
 * With $AE_SHIM_NO_IPV6 set, socket(AF_INET6) fails with EAFNOSUPPORT, as
 * on a kernel booted with ipv6.disable=1.
 * With $AE_SHIM_NO_NETLINK set, socket(AF_NETLINK) and getifaddrs() fail
 * with EAFNOSUPPORT, as under systemd's RestrictAddressFamilies without
 * AF_NETLINK (libc's getifaddrs opens its socket past this shim).
 * With $AE_SHIM_UNLINK_WAIT naming a file, the first unlink() logs
 * "unlink-wait" and waits until that file exists (20 s at most): between
 * finding a socket file stale and removing it.
 * With $AE_SHIM_SETUID_WAIT naming a file, the first setuid() logs
 * "setuid-wait" and waits until that file exists (20 s at most).
 * With $AE_SHIM_WAITS set, each epoll_wait() logs "wait TIMEOUT": whether
 * an idle loop sleeps until something happens (-1) or wakes for a timer. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "passrights.h" /* as src/sock.c has it */

static int (*real_close)(int);

static void
note(const char *line)
{
	const char *path = getenv("AE_SHIM_LOG");
	int fd, saved = errno;

	if (path == NULL)
		return;
	if (real_close == NULL)
		real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd != -1) {
		(void)!write(fd, line, strlen(line));
		real_close(fd);
	}
	errno = saved;
}

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
	    (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
	int rc = real(fd, sa, len), saved = errno;
	struct stat st;
	char line[256];

	if (rc == 0 && sa->sa_family == AF_UNIX && len > sizeof(sa_family_t) &&
	    sun->sun_path[0] != '\0' && lstat(sun->sun_path, &st) == 0) {
		snprintf(line, sizeof(line), "bind %s %o\n", sun->sun_path,
		    (unsigned)(st.st_mode & 07777));
		note(line);
	}
	errno = saved;
	return rc;
}

int
close(int fd)
{
	if (real_close == NULL)
		real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (fd == 0)
		note("close0\n");
	return real_close(fd);
}

static int
flagged(const char *var, int e)
{
	const char *flag = getenv(var);

	if (flag == NULL || access(flag, F_OK) != 0)
		return 0;
	errno = e;
	return 1;
}

static int
must_fail(void)
{
	return flagged("AE_SHIM_FAIL_WAIT", EIO);
}

int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int (*real)(int, int, int, struct epoll_event *) =
	    (int (*)(int, int, int, struct epoll_event *))dlsym(RTLD_NEXT, "epoll_ctl");

	if (op == EPOLL_CTL_ADD && flagged("AE_SHIM_NOMEM_ADD", ENOMEM))
		return -1;
	return real(epfd, op, fd, ev);
}

static void
busy(int nready)
{
	const char *ms = getenv("AE_SHIM_BUSY_WAIT");
	struct timespec ts;

	if (ms == NULL || nready <= 0)
		return;
	ts.tv_sec = atoi(ms) / 1000;
	ts.tv_nsec = (long)(atoi(ms) % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout)
{
	int (*real)(int, struct epoll_event *, int, int) =
	    (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");

	int r;

	if (getenv("AE_SHIM_WAITS") != NULL) {
		char line[32];
		snprintf(line, sizeof(line), "wait %d\n", timeout);
		note(line);
	}
	r = must_fail() ? -1 : real(epfd, ev, n, timeout);
	busy(r);
	return r;
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int (*real)(struct pollfd *, nfds_t, int) =
	    (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");

	int r = must_fail() ? -1 : real(fds, n, timeout);

	busy(r);
	return r;
}

int
setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	int (*real)(int, int, int, const void *, socklen_t) =
	    (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
	const char *slow = getenv("AE_SHIM_SLOW_NODELAY"), *wmem = getenv("AE_SHIM_WMEM");

	if (slow != NULL && level == IPPROTO_TCP && name == TCP_NODELAY) {
		long ms = atol(slow);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	}
#ifdef SO_PASSRIGHTS
	if (getenv("AE_SHIM_NO_PASSRIGHTS") != NULL && level == SOL_SOCKET &&
	    name == SO_PASSRIGHTS) {
		errno = ENOPROTOOPT;
		return -1;
	}
#endif
	if (wmem != NULL && level == SOL_SOCKET && len == sizeof(int) &&
	    (name == SO_SNDBUF || name == SO_SNDBUFFORCE)) {
		int want, max = atoi(wmem);
		memcpy(&want, v, sizeof(want));
		if (want > max)
			want = max;
		return real(fd, level, SO_SNDBUF, &want, sizeof(want));
	}
	return real(fd, level, name, v, len);
}

int
socket(int family, int type, int protocol)
{
	int (*real)(int, int, int) = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");

	if ((family == AF_INET6 && getenv("AE_SHIM_NO_IPV6") != NULL) ||
	    (family == AF_NETLINK && getenv("AE_SHIM_NO_NETLINK") != NULL)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return real(family, type, protocol);
}

int
getifaddrs(struct ifaddrs **ifap)
{
	int (*real)(struct ifaddrs **) = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");

	if (getenv("AE_SHIM_NO_NETLINK") != NULL) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return real(ifap);
}

/* $AE_SHIM_UNLINK_WAIT: see the top. */
int
unlink(const char *path)
{
	int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
	const char *flag = getenv("AE_SHIM_UNLINK_WAIT");
	struct timespec ts = { 0, 50000000 };
	static int waited;

	if (flag != NULL && !waited++) {
		note("unlink-wait\n");
		for (int i = 0; i < 400 && access(flag, F_OK) != 0; i++)
			nanosleep(&ts, NULL);
	}
	return real(path);
}

/* With $AE_SHIM_SETUID_WAIT naming a file, the first setuid() notes
 * "setuid-wait" and waits (20 s at most) for that file to exist: the
 * moment between a fork before the switch to --user and the switch, held
 * open. */
int
setuid(uid_t uid)
{
	int (*real)(uid_t) = (int (*)(uid_t))dlsym(RTLD_NEXT, "setuid");
	const char *flag = getenv("AE_SHIM_SETUID_WAIT");
	struct timespec ts = { 0, 50000000 };
	static int waited; /* the first call only: the next may not see the flag */

	if (flag != NULL && !waited++) {
		note("setuid-wait\n");
		for (int i = 0; i < 400 && access(flag, F_OK) != 0; i++)
			nanosleep(&ts, NULL);
	}
	return real(uid);
}

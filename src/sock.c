#include "common.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "passrights.h"
#include "sock.h"


int
sock_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

int
sock_open(int family, int socktype, int protocol)
{
	int fd;

#ifdef SOCK_NONBLOCK
	fd = socket(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (fd != -1 || errno != EINVAL)
		return fd;
#endif
	fd = socket(family, socktype, protocol);
	if (fd != -1 && sock_nonblock(fd) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

bool
sock_is_connection_type(int socktype)
{
	return socktype == SOCK_STREAM || socktype == SOCK_SEQPACKET;
}

static int
setint(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

/* Urgent data (MSG_OOB: TCP, and unix streams since Linux 5.15) is a
 * byte the client sent: keep it in the stream, to be echoed in its place,
 * instead of setting it aside where a plain read never sees it. Accepted
 * TCP sockets take this from their listener when the connection
 * completes, so not those already queued when we set it on an inherited
 * one; unix ones never take it. */
int
sock_urgent_inline(int fd)
{
	return setint(fd, SOL_SOCKET, SO_OOBINLINE, 1);
}

/* With SO_PASSRIGHTS off, a peer's sendmsg() with SCM_RIGHTS to the
 * socket fails (EPERM), so no descriptors ever wait in its queue. Sockets
 * accepted from a listener take the setting at connect() time, before a
 * peer could send anything. */
int
sock_refuse_rights(int fd)
{
#ifdef SO_PASSRIGHTS
	return setint(fd, SOL_SOCKET, SO_PASSRIGHTS, 0);
#else
	(void)fd;
	errno = ENOPROTOOPT;
	return -1;
#endif
}

/* Whether descriptors may wait in an accepted unix stream's queue. A
 * socket takes SO_PASSRIGHTS from its listener at connect() time, so one
 * that connected before the listener was set off (queued in the backlog
 * of an activated listener, or between our listen() and the setting)
 * took them, and only the socket itself can say so. Where the kernel
 * lacks the option, or will not say, they may. */
bool
sock_rights_may_wait(int fd)
{
#ifdef SO_PASSRIGHTS
	int v = 1;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &v, &len) == -1 || v != 0;
#else
	(void)fd;
	return true;
#endif
}

static bool
unix_is_path(const struct addr *a)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->sa;

	return a->family == AF_UNIX && a->len > offsetof(struct sockaddr_un, sun_path) &&
	    sun->sun_path[0] != '\0';
}

/* Record which file our bind made, so that we remove that one only. */
static void
unix_path_id(const struct addr *a, struct sock_path_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (unix_is_path(a) && lstat(((const struct sockaddr_un *)&a->sa)->sun_path, &st) == 0 &&
	    S_ISSOCK(st.st_mode)) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
}

/* A server that stops must not remove a path that is no longer its own:
 * someone may have removed ours and started another server there. The
 * check and the unlink are two steps; done while our socket is still open,
 * no server of ours takes the path between them (it would find it live). */
void
sock_unlink(const struct addr *a, const struct sock_path_id *id)
{
	const char *path = ((const struct sockaddr_un *)&a->sa)->sun_path;
	struct stat st;

	if (!unix_is_path(a) || id == NULL || (id->dev == 0 && id->ino == 0))
		return;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == id->dev &&
	    st.st_ino == id->ino)
		unlink(path);
}

/* Replacing a stale socket file is check, unlink, bind, listen: another
 * server doing the same in between could see our file dead before we
 * listen and then unlink it, and both would run, one on no path. So the
 * steps hold an advisory lock on the path's directory, which every
 * anyechod takes (a few microseconds; a lock held for seconds by someone
 * else is waited for up to UNIX_LOCK_MS, then done without). -1: none. */
#define UNIX_LOCK_MS 5000

static int
unix_lock(const struct addr *a)
{
	const char *path = ((const struct sockaddr_un *)&a->sa)->sun_path;
	const char *slash = strrchr(path, '/');
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	struct timespec ts = { 0, 10 * 1000000 };
	int fd;

	if (!unix_is_path(a))
		return -1;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	for (int i = 0; i < UNIX_LOCK_MS / 10; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&ts, NULL);
	}
	close(fd);
	return -1;
}

static void
unix_unlock(int fd)
{
	if (fd != -1)
		close(fd); /* the lock goes with the last descriptor */
}

/* A unix path may hold a socket file left by a server that died. Replace
 * it only when nothing answers there; never touch anything else. */
static int
unix_prepare(const struct addr *a, char *err, size_t errlen)
{
	const char *path = ((const struct sockaddr_un *)&a->sa)->sun_path;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_errbuf(err, errlen, "%s exists and is not a socket: not removing it", path);
		errno = EEXIST;
		return -1;
	}
	fd = socket(AF_UNIX, a->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	/* Datagram sockets "connect" too: it fails with ECONNREFUSED when
	 * nobody is bound there any more. A full backlog (EAGAIN) is alive. */
	rc = connect(fd, (const struct sockaddr *)&a->sa, a->len);
	close(fd);
	if (rc == 0 || (errno != ECONNREFUSED && errno != ENOENT)) {
		log_errbuf(err, errlen, "%s is in use by a running server", path);
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

static void
bind_error(const struct addr *a, int e, char *err, size_t errlen)
{
	char buf[ADDR_STRLEN];
	int port = addr_port(a);

	addr_format(a, buf, sizeof(buf));
	if (e == EACCES && port > 0 && port < 1024)
		log_errbuf(err, errlen, "%s: port %d needs privileges: run as root, grant "
		    "CAP_NET_BIND_SERVICE, or choose a port >= 1024 with -p", buf, port);
	else if (e == EADDRINUSE)
		log_errbuf(err, errlen, "%s: address already in use", buf);
	else if (e == EADDRNOTAVAIL)
		log_errbuf(err, errlen, "%s: address not available on this host", buf);
	else if (e == EAFNOSUPPORT)
		log_errbuf(err, errlen, "%s: %s not supported by the kernel", buf,
		    addr_family_name(a->family));
	else
		log_errbuf(err, errlen, "%s: %s", buf, strerror(e));
}

/* Reuse is for TCP only: SO_REUSEADDR lets a restarted server bind over
 * connections in TIME_WAIT and never admits a second listener. On UDP it
 * would let any local user bind the same port and take its datagrams, and
 * SO_REUSEPORT would let a second server of ours split the traffic
 * silently: datagram sockets get neither, so a bind conflict is always
 * the kernel's EADDRINUSE. */
static int
listen_options(int fd, const struct addr *a, const struct sock_opts *o)
{
	if (a->family != AF_UNIX && sock_is_connection_type(a->socktype) &&
	    (setint(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1 || sock_urgent_inline(fd) == -1))
		return -1;
	/* Explicit on every kernel: Linux defaults to dual-stack, the BSDs to
	 * v6-only, and binding 0.0.0.0 then :: depends on it. */
	if (a->family == AF_INET6 && setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, !o->dualstack) == -1)
		return -1;
	/* Datagram sockets: whether the kernel reports each datagram's
	 * destination is echo_dgram_new()'s choice, for inherited sockets
	 * too. */
	return 0;
}

/* A unix socket's file is made by bind with mode 0777 less the umask
 * (Linux and the BSDs alike). Setting the umask to the complement of the
 * mode asked for around bind gives the file exactly that mode from the
 * moment it exists, with no chmod of a path afterwards (which would follow
 * a symlink planted there). The umask is per process: binding happens
 * before any other thread exists (sock.h). */
static int
bind_with_mode(int fd, const struct addr *a, const struct sock_opts *o)
{
	mode_t old;
	int rc, saved;

	if (!unix_is_path(a) || o->unix_mode < 0)
		return bind(fd, (const struct sockaddr *)&a->sa, a->len);
	old = umask(~(mode_t)o->unix_mode & 0777);
	rc = bind(fd, (const struct sockaddr *)&a->sa, a->len);
	saved = errno;
	umask(old);
	errno = saved;
	return rc;
}

int
sock_listen(const struct addr *a, const struct sock_opts *o, struct sock_path_id *id,
    char *err, size_t errlen)
{
	struct sock_path_id mine;
	int fd, saved, lock = -1;

	err[0] = '\0';
	memset(&mine, 0, sizeof(mine));
	fd = sock_open(a->family, a->socktype, a->protocol);
	if (fd == -1)
		goto fail;
	if (listen_options(fd, a, o) == -1)
		goto fail;
	lock = unix_lock(a);
	if (unix_is_path(a) && unix_prepare(a, err, errlen) == -1)
		goto fail;
	if (bind_with_mode(fd, a, o) == -1)
		goto fail;
	unix_path_id(a, &mine);
	if (sock_is_connection_type(a->socktype) && listen(fd, o->backlog) == -1)
		goto fail_bound;
	unix_unlock(lock);
	if (id != NULL)
		*id = mine;
	return fd;
fail_bound:
	saved = errno;
	sock_unlink(a, &mine);
	errno = saved;
fail:
	saved = errno;
	unix_unlock(lock);
	if (err[0] == '\0')
		bind_error(a, saved, err, errlen);
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

int
sock_local(int fd, const struct addr *like, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->sa);
	if (getsockname(fd, (struct sockaddr *)&out->sa, &out->len) == -1)
		return -1;
	out->family = out->sa.ss_family;
	out->socktype = like->socktype;
	out->protocol = like->protocol;
	return 0;
}

/* A unix datagram client needs an address of its own for the reply:
 * Linux gives an unused abstract name when bound with no name at all. */
static int
unix_autobind(int fd)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	return bind(fd, (struct sockaddr *)&sun, sizeof(sa_family_t));
}

int
sock_connect(const struct addr *a, int *in_progress)
{
	return sock_connect_prep(a, NULL, NULL, in_progress);
}

int
sock_connect_prep(const struct addr *a, sock_prep_fn *prep, void *arg, int *in_progress)
{
	int fd = sock_open(a->family, a->socktype, a->protocol);

	*in_progress = 0;
	if (fd == -1)
		return -1;
	if (a->family != AF_UNIX && a->socktype == SOCK_STREAM)
		(void)setint(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (a->family == AF_UNIX && a->socktype == SOCK_DGRAM && unix_autobind(fd) == -1)
		goto fail;
	if (prep != NULL && prep(fd, a, arg) == -1)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0)
		return fd;
	if (errno == EINPROGRESS || errno == EAGAIN) {
		*in_progress = 1;
		return fd;
	}
fail:
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

int
sock_connect_result(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		return -1;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

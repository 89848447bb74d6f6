/* What the machine running the tests can do, asked without python3:
 *   netprobe loop ADDR         TCP and UDP to ourselves on ADDR work (exit 0)
 *   netprobe port ADDR         print a TCP port on ADDR that nobody listens on
 *   netprobe connect ADDR PORT a TCP connect to ADDR PORT succeeds in 2 s
 *   netprobe bind ADDR PORT    a UDP socket can be bound to ADDR PORT
 *   netprobe strerror ENAME    print strerror(ENAME) in the libc the programs
 *                              under test use (glibc and musl words differ)
 * A bind alone proves little: with loopback down, 127.0.0.1 binds and every
 * connect fails with "network unreachable", so "loop" talks to itself.
 * Exit 0 yes, 1 no (the reason on stderr), 2 usage. Every wait is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 2000

static int
parse(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	long p = port ? strtol(port, NULL, 10) : 0;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((unsigned short)p);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)p);
		*len = sizeof(*in6);
		return 0;
	}
	fprintf(stderr, "netprobe: not a numeric address: %s\n", host);
	return -1;
}

static int
why(const char *what)
{
	fprintf(stderr, "netprobe: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Wait for EVENTS on FD; 0 when they came, 1 (with the reason) otherwise. */
static int
wait_fd(int fd, short events, const char *what)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, WAIT_MS);

	if (n == 1)
		return 0;
	if (n == 0)
		errno = ETIMEDOUT;
	return why(what);
}

/* A non-blocking connect finished within the bound, and without error. */
static int
connect_bounded(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		return why("fcntl");
	if (connect(fd, (const struct sockaddr *)ss, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return why("connect");
	if (wait_fd(fd, POLLOUT, "connect") != 0)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		return why("getsockopt");
	errno = err;
	return err == 0 ? 0 : why("connect");
}

static int
bound_socket(const char *host, const char *port, int type, struct sockaddr_storage *ss,
             socklen_t *len)
{
	int fd;

	if (parse(host, port, ss, len) == -1)
		return -1;
	fd = socket(ss->ss_family, type, 0);
	if (fd == -1) {
		why("socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)ss, *len) == -1 ||
	    getsockname(fd, (struct sockaddr *)ss, len) == -1) {
		why("bind");
		close(fd);
		return -1;
	}
	return fd;
}

static int
probe_tcp(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, cfd = -1, rc = 1;

	lfd = bound_socket(host, NULL, SOCK_STREAM, &ss, &len);
	if (lfd == -1)
		return 1;
	if (listen(lfd, 1) == -1) {
		why("listen");
		goto cleanup;
	}
	cfd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (cfd == -1) {
		why("socket");
		goto cleanup;
	}
	rc = connect_bounded(cfd, &ss, len);
cleanup:
	if (cfd != -1)
		close(cfd);
	close(lfd);
	return rc;
}

static int
probe_udp(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char c = 'p';
	int fd, rc = 1;

	fd = bound_socket(host, NULL, SOCK_DGRAM, &ss, &len);
	if (fd == -1)
		return 1;
	if (sendto(fd, &c, 1, 0, (struct sockaddr *)&ss, len) != 1) {
		why("sendto");
		goto cleanup;
	}
	if (wait_fd(fd, POLLIN, "recv") != 0)
		goto cleanup;
	rc = recv(fd, &c, 1, 0) == 1 ? 0 : why("recv");
cleanup:
	close(fd);
	return rc;
}

static int
cmd_port(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = bound_socket(host, NULL, SOCK_STREAM, &ss, &len);

	if (fd == -1)
		return 1;
	/* Both families keep the port at the same offset. */
	printf("%u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	close(fd);
	return 0;
}

static int
cmd_connect(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rc;

	if (parse(host, port, &ss, &len) == -1)
		return 2;
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd == -1)
		return why("socket");
	rc = connect_bounded(fd, &ss, len);
	close(fd);
	return rc;
}

/* The kernel checks the privilege for a low port before whether the port
 * is taken, so "in use" still answers "may bind here". */
static int
cmd_bind(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (parse(host, port, &ss, &len) == -1)
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd == -1)
		return why("socket");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 && errno != EADDRINUSE) {
		close(fd);
		return why("bind");
	}
	close(fd);
	return 0;
}

/* The errno names the tests expect messages for. */
static int
cmd_strerror(const char *name)
{
	static const struct {
		const char *name;
		int num;
	} names[] = {
		{ "EACCES", EACCES },
		{ "EISDIR", EISDIR },
		{ "EMFILE", EMFILE },
		{ "ENOENT", ENOENT },
		{ "ENOMEM", ENOMEM },
		{ "ENOSPC", ENOSPC },
		{ "EPIPE", EPIPE },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			printf("%s\n", strerror(names[i].num));
			return 0;
		}
	}
	fprintf(stderr, "netprobe: no such errno name here: %s\n", name);
	return 2;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "loop") == 0)
		return probe_tcp(argv[2]) || probe_udp(argv[2]);
	if (argc == 3 && strcmp(argv[1], "port") == 0)
		return cmd_port(argv[2]);
	if (argc == 4 && strcmp(argv[1], "connect") == 0)
		return cmd_connect(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "bind") == 0)
		return cmd_bind(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "strerror") == 0)
		return cmd_strerror(argv[2]);
	fprintf(stderr, "usage: netprobe loop|port ADDR, netprobe connect|bind ADDR PORT, "
			"netprobe strerror ENAME\n");
	return 2;
}

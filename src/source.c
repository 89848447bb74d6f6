/* The client's source address or interface (source.h). */
#include "common.h"

#include <arpa/inet.h>

#include "source.h"

bool
source_set(const struct source *src)
{
	return src->family != AF_UNSPEC || src->ifname[0] != '\0';
}

/* "fe80::1%eth0" or "fe80::1%2": the address and its scope. */
static int
parse_ip(struct source *src, const char *text)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&src->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&src->sa;
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	char *pct;

	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		src->family = AF_INET;
		src->len = sizeof(*sin);
		return 0;
	}
	if (strlen(text) >= sizeof(host))
		return -1;
	snprintf(host, sizeof(host), "%s", text);
	pct = strchr(host, '%');
	if (pct != NULL)
		*pct++ = '\0';
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	sin6->sin6_family = AF_INET6;
	if (pct != NULL) {
		/* by name or index, one this host has (addr.c's rule) */
		sin6->sin6_scope_id = addr_scope_index(pct);
		if (sin6->sin6_scope_id == 0)
			return -2;
	}
	src->family = AF_INET6;
	src->len = sizeof(*sin6);
	return 0;
}

/* Is the address one of this host's? A trial bind says, as connect would. */
static int
check_local(const struct source *src, const char *text, char *err, size_t errlen)
{
	int fd = socket(src->family, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc, e;

	if (fd == -1) {
		snprintf(err, errlen, "bad source '%s': %s", text, strerror(errno));
		return -1;
	}
	rc = bind(fd, (const struct sockaddr *)&src->sa, src->len);
	e = errno;
	close(fd);
	if (rc == 0)
		return 0;
	if (e == EADDRNOTAVAIL)
		snprintf(err, errlen, "bad source '%s': not an address of this host", text);
	else if (e == EINVAL && src->family == AF_INET6)
		snprintf(err, errlen, "bad source '%s': a link-local address needs its interface "
		    "(%s%%eth0)", text, text);
	else
		snprintf(err, errlen, "bad source '%s': %s", text, strerror(e));
	return -1;
}

/* SO_BINDTODEVICE needs CAP_NET_RAW before Linux 5.7: tried here, once. */
static int
check_device(const struct source *src, const char *text, char *err, size_t errlen)
{
#ifdef SO_BINDTODEVICE
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc, e;

	if (fd == -1)
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "bad source '%s': %s", text, strerror(errno));
		return -1;
	}
	rc = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, src->ifname,
	    (socklen_t)strlen(src->ifname));
	e = errno;
	close(fd);
	if (rc == 0)
		return 0;
	if (e == EPERM)
		snprintf(err, errlen, "bad source '%s': binding to an interface needs CAP_NET_RAW "
		    "here; give one of its addresses instead", text);
	else
		snprintf(err, errlen, "bad source '%s': %s", text, strerror(e));
	return -1;
#else
	snprintf(err, errlen, "bad source '%s': binding to an interface is not supported here; "
	    "give one of its addresses instead", text);
	(void)src;
	return -1;
#endif
}

int
source_parse(struct source *src, const char *text, char *err, size_t errlen)
{
	int rc;

	memset(src, 0, sizeof(*src));
	src->family = AF_UNSPEC;
	rc = parse_ip(src, text);
	if (rc == -2) {
		snprintf(err, errlen, "bad source '%s': no interface of that name or index after "
		    "'%%'", text);
		return -1;
	}
	if (rc == 0)
		return check_local(src, text, err, errlen);
	memset(src, 0, sizeof(*src));
	src->family = AF_UNSPEC;
	if (text[0] == '\0' || strlen(text) >= sizeof(src->ifname) || if_nametoindex(text) == 0) {
		snprintf(err, errlen, "bad source '%s': not an IP address, and no interface of "
		    "that name", text);
		return -1;
	}
	snprintf(src->ifname, sizeof(src->ifname), "%s", text);
	return check_device(src, text, err, errlen);
}

int
source_apply(const struct source *src, int fd, const struct addr *a)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return 0;
#ifdef SO_BINDTODEVICE
	if (src->ifname[0] != '\0' && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, src->ifname,
	    (socklen_t)strlen(src->ifname)) == -1)
		return -1;
#endif
	if (src->family == AF_UNSPEC)
		return 0;
	if (src->family != a->family) {
		/* -I implies its family (anyecho.c): only a caller that
		 * asked for both gets here. */
		errno = EAFNOSUPPORT;
		return -1;
	}
	return bind(fd, (const struct sockaddr *)&src->sa, src->len);
}

/* The client's source (-I/--source): a local address to bind before
 * connecting, or an interface to bind to (SO_BINDTODEVICE). Parsed and
 * checked once, up front, so that a bad value is one line before any
 * connection starts; applied to each socket between open and connect. */
#ifndef AE_SOURCE_H
#define AE_SOURCE_H

#include <net/if.h>

#include "addr.h"

struct source {
	int family; /* AF_INET or AF_INET6 when an address; AF_UNSPEC otherwise */
	struct sockaddr_storage sa; /* the address, port 0 */
	socklen_t len;
	char ifname[IF_NAMESIZE]; /* an interface; empty when an address or none */
};

/* Fill src from an IP address (IPv6 may carry "%scope") or an interface
 * name, checked on this host: 0, or -1 with one sentence in err naming the
 * value and the reason. */
int source_parse(struct source *src, const char *text, char *err, size_t errlen);
/* Is a source set at all? */
bool source_set(const struct source *src);
/* Bind fd, about to connect to a, as src says: 0, or -1 with errno.
 * Unix endpoints have no source: nothing is done for them. */
int source_apply(const struct source *src, int fd, const struct addr *a);

#endif

/* Endpoints: parsing "host:port", "[v6]:port", "unix:/path" and friends,
 * answering whatever needs no network (literals, wildcards, localhost, unix
 * paths), and the getaddrinfo-style list every core iterates. */
#ifndef AE_ADDR_H
#define AE_ADDR_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* Socket types a lookup is expanded into. */
#define ADDR_STREAM    0x1
#define ADDR_DGRAM     0x2
#define ADDR_SEQPACKET 0x4

#define ADDR_HOSTMAX 253 /* longest DNS name, without the trailing dot */
#define ADDR_UNIXMAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define ADDR_STRLEN  128 /* fits "unix-seqpacket:@" + 107 bytes, or [v6%if]:port */
#define ADDR_ERRLEN  192

struct addr {
	struct sockaddr_storage sa;
	socklen_t len;
	int family;
	int socktype;
	int protocol;
};

struct addr_list {
	struct addr *v;
	size_t n, cap;
};

enum addr_kind { ADDR_KIND_HOST, ADDR_KIND_UNIX };

struct addr_spec {
	enum addr_kind kind;
	/* host: empty for "no host" (wildcard when passive, loopback if not) */
	char host[ADDR_HOSTMAX + 2];
	int literal; /* AF_INET or AF_INET6 when host is an address, else 0 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} ip;
	uint32_t scope; /* IPv6 scope id from "%if" */
	int port;       /* -1: not given */
	/* unix */
	int socktype; /* from "unix-dgram:" etc.; 0: not given */
	bool abstract;
	size_t pathlen;
	char path[ADDR_UNIXMAX + 2];
};

struct addr_hints {
	int family;     /* AF_UNSPEC, AF_INET or AF_INET6; unix endpoints ignore it */
	unsigned types; /* ADDR_STREAM | ADDR_DGRAM | ADDR_SEQPACKET */
	bool passive;   /* no host means the wildcards, not loopback */
	int port;       /* used when the endpoint names none */
};

/* 0, or -1 with a message naming the wrong part in err. */
int addr_parse(struct addr_spec *spec, const char *s, char *err, size_t errlen);
int addr_parse_port(const char *s, int *port, char *err, size_t errlen);
/* The index of this host's interface that a scope id names, by name or by
 * number ("eth0", "2"); 0 when no interface has that name or index. */
uint32_t addr_scope_index(const char *id);

/* Answer a spec without the network. Returns 1 and appends to list when it
 * could (literal, no host, localhost, unix), 0 when DNS must be asked, -1
 * with err set when the spec cannot give any entry for these hints. */
int addr_local(const struct addr_spec *spec, const struct addr_hints *hints,
    struct addr_list *list, char *err, size_t errlen);

/* Append one entry per requested socket type for this IP address. */
int addr_list_add_ip(struct addr_list *list, const struct sockaddr *sa,
    const struct addr_hints *hints, int port);
int addr_list_add(struct addr_list *list, const struct addr *a);
void addr_list_free(struct addr_list *list);

/* Whether an address a name resolved to is no path to that name: an
 * unspecified one (0.0.0.0, ::: a DNS blocker's answer, which connect()
 * takes for this host) or an IPv4-mapped IPv6 one (::ffff:a.b.c.d, which
 * the kernel carries over IPv4). True with the words for it in buf. */
bool addr_not_a_path(const struct addr *a, char *buf, size_t len);
/* Turn an IPv4-mapped IPv6 address into plain IPv4; others are unchanged. */
void addr_unmap(struct addr *a);
int addr_port(const struct addr *a);
void addr_set_port(struct addr *a, int port);
/* "[::1]:7", "127.0.0.1:7", "unix:/path", "unix:@name"; host only without port. */
const char *addr_format(const struct addr *a, char *buf, size_t len);
const char *addr_format_host(const struct addr *a, char *buf, size_t len);
const char *addr_family_name(int family);
const char *addr_type_name(int socktype);

/* Whether one server could not bind both: later, given after before, is
 * within it (a wildcard and an address of the family on the same port and
 * type; with dualstack, IPv6 sockets take IPv4 too) or shares its unix
 * path. False for the same endpoint twice, port 0 (each socket gets its
 * own), and 0.0.0.0 after a dual-stack [::] (which already takes it). */
bool addr_overlaps(const struct addr *before, const struct addr *later, bool dualstack);
/* 0.0.0.0 or [::]; false for unix endpoints. */
bool addr_is_wildcard(const struct addr *a);

#endif

#include "common.h"

#include <ctype.h>
#include <net/if.h>
#include <netdb.h>
#include <strings.h>

#include "addr.h"
#include "log.h"

int
addr_parse_port(const char *s, int *port, char *err, size_t errlen)
{
	const char *p;
	long v = 0;
	struct servent *se;

	if (*s == '\0')
		return log_errbuf(err, errlen, "missing port number");
	for (p = s; isdigit((unsigned char)*p); p++)
		if (v <= 65535)
			v = v * 10 + (*p - '0');
	if (*p == '\0') {
		if (p - s > 5 || v > 65535)
			return log_errbuf(err, errlen, "port %s out of range (0-65535)", s);
		*port = (int)v;
		return 0;
	}
	if (isdigit((unsigned char)*s) || *s == '-' || *s == '+')
		return log_errbuf(err, errlen, "bad port '%s': not a number or service name", s);
	/* The echo port is ours to know, even where /etc/services is missing. */
	if (strcmp(s, "echo") == 0) {
		*port = 7;
		return 0;
	}
	se = getservbyname(s, NULL);
	if (se == NULL)
		return log_errbuf(err, errlen, "unknown service '%s' (not in /etc/services)", s);
	*port = ntohs((uint16_t)se->s_port);
	return 0;
}

static int
parse_unix(struct addr_spec *spec, const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path);

	spec->kind = ADDR_KIND_UNIX;
	if (len == 0)
		return log_errbuf(err, errlen, "empty unix socket path");
	if (path[0] == '@') {
#ifndef __linux__
		return log_errbuf(err, errlen, "abstract unix name '%s' needs Linux", path);
#endif
		if (len == 1)
			return log_errbuf(err, errlen, "empty abstract unix name after '@'");
		spec->abstract = true;
	}
	/* An abstract name spends its '@' on the leading NUL; a path needs its
	 * terminating NUL: either way at most sun_path - 1 bytes remain. */
	if ((spec->abstract ? len - 1 : len) > (size_t)ADDR_UNIXMAX)
		return log_errbuf(err, errlen, "unix %s is %zu bytes, limit is %d",
		    spec->abstract ? "abstract name" : "path",
		    spec->abstract ? len - 1 : len, ADDR_UNIXMAX);
	memcpy(spec->path, path, len + 1);
	spec->pathlen = len;
	return 0;
}

static bool
all_digits_and_dots(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

static int
check_hostname(const char *h, char *err, size_t errlen)
{
	size_t len = strlen(h), label = 0;

	if (len > 0 && h[len - 1] == '.')
		len--;
	if (len > ADDR_HOSTMAX)
		return log_errbuf(err, errlen, "host name is %zu bytes, limit is %d", len, ADDR_HOSTMAX);
	if (all_digits_and_dots(h))
		return log_errbuf(err, errlen, "bad IPv4 address '%s'", h);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '.') {
			if (label == 0)
				return log_errbuf(err, errlen, "empty label in host name '%s'", h);
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return log_errbuf(err, errlen, "label longer than 63 bytes in host name '%.70s...'", h);
		} else {
			return log_errbuf(err, errlen, "bad character '%c' in host name '%s'",
			    isprint(c) ? c : '?', h);
		}
	}
	return 0;
}

/* Classify a host: an IPv4 or IPv6 literal (with an optional %scope), or a
 * name to look up. v6only: the text was in brackets or had several colons. */
static int
parse_host(struct addr_spec *spec, const char *h, bool v6only, char *err, size_t errlen)
{
	char buf[ADDR_STRLEN];
	const char *pct = strchr(h, '%');
	size_t alen = pct != NULL ? (size_t)(pct - h) : strlen(h);

	if (strlen(h) > ADDR_HOSTMAX + 1)
		return log_errbuf(err, errlen, "host name is %zu bytes, limit is %d", strlen(h), ADDR_HOSTMAX);
	if (strcmp(h, "*") == 0)
		h = "";
	memcpy(spec->host, h, strlen(h) + 1);
	if (*h == '\0')
		return v6only ? log_errbuf(err, errlen, "empty IPv6 address in '[]'") : 0;
	if (alen < sizeof(buf)) {
		memcpy(buf, h, alen);
		buf[alen] = '\0';
		if (inet_pton(AF_INET6, buf, &spec->ip.v6) == 1)
			spec->literal = AF_INET6;
		else if (!v6only && pct == NULL && inet_pton(AF_INET, buf, &spec->ip.v4) == 1)
			spec->literal = AF_INET;
	}
	if (spec->literal == 0) {
		if (v6only)
			return log_errbuf(err, errlen, "bad IPv6 address '%s'", h);
		if (pct != NULL)
			return log_errbuf(err, errlen, "scope id '%s' needs an IPv6 address", pct);
		return check_hostname(h, err, errlen);
	}
	if (pct != NULL) {
		const char *id = pct + 1;
		uint32_t v;

		if (*id == '\0')
			return log_errbuf(err, errlen, "empty scope id after '%%' in '%s'", h);
		v = addr_scope_index(id);
		if (v == 0)
			return log_errbuf(err, errlen, "unknown interface '%s' in scope id", id);
		spec->scope = (uint32_t)v;
		spec->host[alen] = '\0';
	}
	return 0;
}

/* An index is taken only if an interface has it, as a name is: %99999
 * was taken (and failed later as "network unreachable") while
 * %4294967296 was refused. */
uint32_t
addr_scope_index(const char *id)
{
	char name[IF_NAMESIZE];
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*id))
		return if_nametoindex(id);
	errno = 0;
	v = strtoul(id, &end, 10);
	if (*end != '\0')
		return if_nametoindex(id);
	if (errno != 0 || v == 0 || v > UINT32_MAX || if_indextoname((unsigned)v, name) == NULL)
		return 0;
	return (uint32_t)v;
}

static const struct {
	const char *prefix;
	int socktype;
} unix_schemes[] = {
	{ "unix:", 0 },
	{ "unix-stream:", SOCK_STREAM },
	{ "unix-dgram:", SOCK_DGRAM },
	{ "unix-seqpacket:", SOCK_SEQPACKET },
};

int
addr_parse(struct addr_spec *spec, const char *s, char *err, size_t errlen)
{
	const char *colon, *close, *hostpart;
	char host[ADDR_HOSTMAX + 64];
	size_t hlen;
	bool brackets = false;

	memset(spec, 0, sizeof(*spec));
	spec->port = -1;
	if (s == NULL || *s == '\0')
		return log_errbuf(err, errlen, "empty endpoint");
	for (size_t i = 0; i < AE_NELEM(unix_schemes); i++) {
		size_t plen = strlen(unix_schemes[i].prefix);
		if (strncmp(s, unix_schemes[i].prefix, plen) == 0) {
			spec->socktype = unix_schemes[i].socktype;
			return parse_unix(spec, s + plen, err, errlen);
		}
	}
	hostpart = s;
	colon = strchr(s, ':');
	if (*s == '[') {
		close = strchr(s, ']');
		if (close == NULL)
			return log_errbuf(err, errlen, "missing ']' in '%s'", s);
		if (close[1] != '\0' && close[1] != ':')
			return log_errbuf(err, errlen, "unexpected '%s' after ']'", close + 1);
		hostpart = s + 1;
		hlen = (size_t)(close - hostpart);
		colon = close[1] == ':' ? close + 1 : NULL;
		brackets = true;
	} else if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* Several colons and no brackets: a bare IPv6 address, no port. */
		hlen = strlen(s);
		colon = NULL;
		brackets = true;
	} else {
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen >= sizeof(host))
		return log_errbuf(err, errlen, "host name is %zu bytes, limit is %d", hlen, ADDR_HOSTMAX);
	memcpy(host, hostpart, hlen);
	host[hlen] = '\0';
	if (parse_host(spec, host, brackets, err, errlen) == -1)
		return -1;
	if (colon != NULL) {
		if (colon[1] == '\0')
			return log_errbuf(err, errlen, "missing port after ':' in '%s'", s);
		if (addr_parse_port(colon + 1, &spec->port, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* ---- lists ---- */

void
addr_list_free(struct addr_list *list)
{
	if (list == NULL)
		return;
	free(list->v);
	memset(list, 0, sizeof(*list));
}

int
addr_list_add(struct addr_list *list, const struct addr *a)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->v[i].socktype == a->socktype && list->v[i].len == a->len &&
		    memcmp(&list->v[i].sa, &a->sa, a->len) == 0)
			return 0;
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct addr *v = realloc(list->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = *a;
	return 0;
}

static const int inet_types[][3] = {
	{ ADDR_STREAM, SOCK_STREAM, IPPROTO_TCP },
	{ ADDR_DGRAM, SOCK_DGRAM, IPPROTO_UDP },
};

int
addr_list_add_ip(struct addr_list *list, const struct sockaddr *sa,
    const struct addr_hints *hints, int port)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = sa->sa_family;
	a.len = a.family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(&a.sa, sa, a.len);
	addr_set_port(&a, port);
	for (size_t i = 0; i < AE_NELEM(inet_types); i++) {
		if (!(hints->types & (unsigned)inet_types[i][0]))
			continue;
		a.socktype = inet_types[i][1];
		a.protocol = inet_types[i][2];
		if (addr_list_add(list, &a) == -1)
			return -1;
	}
	return 0;
}

static int
add_v4(struct addr_list *list, const struct addr_hints *hints, int port, in_addr_t ip)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = ip;
	return addr_list_add_ip(list, (struct sockaddr *)&sin, hints, port);
}

static int
add_v6(struct addr_list *list, const struct addr_hints *hints, int port,
    const struct in6_addr *ip, uint32_t scope)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = *ip;
	sin6.sin6_scope_id = scope;
	return addr_list_add_ip(list, (struct sockaddr *)&sin6, hints, port);
}

static int
add_unix(const struct addr_spec *spec, const struct addr_hints *hints,
    struct addr_list *list, char *err, size_t errlen)
{
	struct sockaddr_un *sun;
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_UNIX;
	/* A unix path holds one socket: one type, the scheme's or the first asked. */
	a.socktype = spec->socktype;
	if (a.socktype == 0)
		a.socktype = (hints->types & ADDR_STREAM) ? SOCK_STREAM :
		    (hints->types & ADDR_DGRAM) ? SOCK_DGRAM : SOCK_SEQPACKET;
	sun = (struct sockaddr_un *)&a.sa;
	sun->sun_family = AF_UNIX;
	if (spec->abstract) {
		/* Abstract names are not NUL-terminated: the length says it all. */
		memcpy(sun->sun_path + 1, spec->path + 1, spec->pathlen - 1);
		a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + spec->pathlen);
	} else {
		memcpy(sun->sun_path, spec->path, spec->pathlen + 1);
		a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + spec->pathlen + 1);
	}
	if (addr_list_add(list, &a) == -1)
		return log_errbuf(err, errlen, "out of memory");
	return 1;
}

static bool
is_localhost(const char *h)
{
	size_t len = strlen(h);

	if (len > 0 && h[len - 1] == '.')
		len--;
	/* RFC 6761 6.3: localhost and every name below it. */
	return (len == 9 && strncasecmp(h, "localhost", 9) == 0) ||
	    (len > 10 && strncasecmp(h + len - 10, ".localhost", 10) == 0);
}

int
addr_local(const struct addr_spec *spec, const struct addr_hints *hints,
    struct addr_list *list, char *err, size_t errlen)
{
	int port = spec->port >= 0 ? spec->port : hints->port;
	bool v4 = hints->family != AF_INET6, v6 = hints->family != AF_INET;
	size_t before = list->n;
	int rc = 0;

	if (spec->kind == ADDR_KIND_UNIX)
		return add_unix(spec, hints, list, err, errlen);
	if (!(hints->types & (ADDR_STREAM | ADDR_DGRAM)))
		return log_errbuf(err, errlen, "seqpacket is available on unix endpoints only");
	if (spec->literal == AF_INET6 && !v6)
		return log_errbuf(err, errlen, "%s is an IPv6 address, but only IPv4 was asked for", spec->host);
	if (spec->literal == AF_INET && !v4)
		return log_errbuf(err, errlen, "%s is an IPv4 address, but only IPv6 was asked for", spec->host);
	if (spec->literal == AF_INET6)
		rc = add_v6(list, hints, port, &spec->ip.v6, spec->scope);
	else if (spec->literal == AF_INET)
		rc = add_v4(list, hints, port, spec->ip.v4.s_addr);
	else if (spec->host[0] == '\0' || is_localhost(spec->host)) {
		/* IPv6 first: the order of the wildcards is documented, and for
		 * loopback it is what RFC 6724 sorting gives. */
		bool any = spec->host[0] == '\0' && hints->passive;
		if (v6 && add_v6(list, hints, port, any ? &in6addr_any : &in6addr_loopback, 0) == -1)
			rc = -1;
		if (v4 && add_v4(list, hints, port, htonl(any ? INADDR_ANY : INADDR_LOOPBACK)) == -1)
			rc = -1;
	} else
		return 0;
	if (rc == -1) {
		list->n = before;
		return log_errbuf(err, errlen, "out of memory");
	}
	return 1;
}

/* ---- addresses ---- */

bool
addr_not_a_path(const struct addr *a, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->sa;
	char host[ADDR_STRLEN];

	if (a->family == AF_INET && s4->sin_addr.s_addr == htonl(INADDR_ANY)) {
		snprintf(buf, len, "DNS answered 0.0.0.0, unspecified: the name is blocked or unset");
		return true;
	}
	if (a->family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
		snprintf(buf, len, "DNS answered ::, unspecified: the name is blocked or unset");
		return true;
	}
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		snprintf(buf, len, "DNS answered %s, a v4-mapped address: not an IPv6 path",
		    addr_format_host(a, host, sizeof(host)));
		return true;
	}
	return false;
}

void
addr_unmap(struct addr *a)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;
	struct sockaddr_in sin;

	if (a->family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = s6->sin6_port;
	memcpy(&sin.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memset(&a->sa, 0, sizeof(a->sa));
	memcpy(&a->sa, &sin, sizeof(sin));
	a->family = AF_INET;
	a->len = sizeof(sin);
}

int
addr_port(const struct addr *a)
{
	if (a->family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
	if (a->family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->sa)->sin6_port);
	return -1;
}

void
addr_set_port(struct addr *a, int port)
{
	if (a->family == AF_INET)
		((struct sockaddr_in *)&a->sa)->sin_port = htons((uint16_t)port);
	else if (a->family == AF_INET6)
		((struct sockaddr_in6 *)&a->sa)->sin6_port = htons((uint16_t)port);
}

/* inet_ntop() for IPv6, the same whatever the C library: an
 * IPv4-compatible address (::a.b.c.d, deprecated by RFC 4291) is dotted in
 * glibc (::1.2.3.4) and hex in musl (::102:304). Hex, as RFC 5952 section 5
 * keeps the dotted form for IPv4-mapped and translated addresses; those,
 * and every other address, both libraries write alike. */
static void
ntop6(const struct in6_addr *in, char *ip, size_t len)
{
	static const uint8_t zero[12];
	const uint8_t *b = in->s6_addr;

	if (memcmp(b, zero, sizeof(zero)) == 0 && (b[12] | b[13]) != 0)
		snprintf(ip, len, "::%x:%x", (unsigned)(b[12] << 8 | b[13]),
		    (unsigned)(b[14] << 8 | b[15]));
	else
		inet_ntop(AF_INET6, in, ip, (socklen_t)len);
}

const char *
addr_format_host(const struct addr *a, char *buf, size_t len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;
	char ip[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE];
	int pathlen;

	switch (a->family) {
	case AF_INET:
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->sa)->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s", ip);
		break;
	case AF_INET6:
		ntop6(&s6->sin6_addr, ip, sizeof(ip));
		if (s6->sin6_scope_id == 0)
			snprintf(buf, len, "%s", ip);
		else if (if_indextoname(s6->sin6_scope_id, ifname) != NULL)
			snprintf(buf, len, "%s%%%s", ip, ifname);
		else
			snprintf(buf, len, "%s%%%u", ip, (unsigned)s6->sin6_scope_id);
		break;
	case AF_UNIX:
		pathlen = (int)a->len - (int)offsetof(struct sockaddr_un, sun_path);
		if (pathlen <= 0)
			snprintf(buf, len, "unix:(unnamed)");
		else if (sun->sun_path[0] == '\0')
			snprintf(buf, len, "unix:@%.*s", pathlen - 1, sun->sun_path + 1);
		else
			snprintf(buf, len, "unix:%.*s", (int)strnlen(sun->sun_path, (size_t)pathlen),
			    sun->sun_path);
		log_oneline(buf); /* a path may hold any byte: keep output lines whole */
		break;
	default:
		snprintf(buf, len, "(family %d)", a->family);
	}
	return buf;
}

const char *
addr_format(const struct addr *a, char *buf, size_t len)
{
	char host[ADDR_STRLEN];

	addr_format_host(a, host, sizeof(host));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%d", host, addr_port(a));
	else if (a->family == AF_INET)
		snprintf(buf, len, "%s:%d", host, addr_port(a));
	else
		snprintf(buf, len, "%s", host);
	return buf;
}

const char *
addr_family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" :
	    family == AF_UNIX ? "unix" : "unknown";
}

const char *
addr_type_name(int socktype)
{
	return socktype == SOCK_STREAM ? "stream" : socktype == SOCK_DGRAM ? "dgram" :
	    socktype == SOCK_SEQPACKET ? "seqpacket" : "unknown";
}

/* ---- overlaps between the endpoints of one server ---- */

bool
addr_is_wildcard(const struct addr *a)
{
	if (a->family == AF_INET)
		return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	return a->family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
}

/* Same family: the same address (link-local ones on the same link, or one
 * bound to no link), or a wildcard, which takes every address. */
static bool
same_family_overlap(const struct addr *a, const struct addr *b)
{
	const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->sa;
	const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->sa;

	if (addr_is_wildcard(a) || addr_is_wildcard(b))
		return true;
	if (a->family == AF_INET)
		return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)&b->sa)->sin_addr.s_addr;
	return IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) &&
	    (x->sin6_scope_id == y->sin6_scope_id || x->sin6_scope_id == 0 ||
	    y->sin6_scope_id == 0);
}

/* IPv6 and IPv4: only a dual-stack (V6ONLY off) [::] or v4-mapped address
 * reaches into IPv4. A dual-stack [::] before 0.0.0.0 covers it: the server
 * binds [::] alone (what "*" gives with --dualstack), no overlap. */
static bool
cross_family_overlap(const struct addr *before, const struct addr *later, bool dualstack)
{
	const struct addr *v6 = before->family == AF_INET6 ? before : later;
	const struct addr *v4 = v6 == before ? later : before;
	const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&v6->sa)->sin6_addr;
	uint32_t in4 = ((const struct sockaddr_in *)&v4->sa)->sin_addr.s_addr, mapped;

	if (!dualstack)
		return false;
	if (IN6_IS_ADDR_UNSPECIFIED(in6))
		return !(v6 == before && addr_is_wildcard(v4));
	if (!IN6_IS_ADDR_V4MAPPED(in6))
		return false;
	memcpy(&mapped, in6->s6_addr + 12, 4);
	return in4 == htonl(INADDR_ANY) || in4 == mapped;
}

bool
addr_overlaps(const struct addr *before, const struct addr *later, bool dualstack)
{
	if (before->len == later->len && before->socktype == later->socktype &&
	    memcmp(&before->sa, &later->sa, before->len) == 0)
		return false; /* the same endpoint twice: addr_list_add merges it */
	if (before->family == AF_UNIX || later->family == AF_UNIX)
		/* A path (or abstract name) holds one socket, whatever its type. */
		return before->family == later->family && before->len == later->len &&
		    memcmp(&before->sa, &later->sa, before->len) == 0;
	if (before->socktype != later->socktype || addr_port(before) == 0 ||
	    addr_port(before) != addr_port(later))
		return false; /* port 0: each socket gets a port of its own */
	if (before->family == later->family)
		return same_family_overlap(before, later);
	return cross_family_overlap(before, later, dualstack);
}

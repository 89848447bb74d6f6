#include "common.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>

#include "cli.h"
#include "log.h"

/* strtol and strtod would also take leading blanks, '+', hexadecimal and
 * exponents ("\n5", "0x10", "1e3"): a value is digits, or a minus sign
 * then digits where negative numbers are allowed. */
int
cli_number(const char *what, const char *s, long lo, long hi, long *out, char *err, size_t errlen)
{
	const char *d = s[0] == '-' && lo < 0 ? s + 1 : s;
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!isdigit((unsigned char)d[0]) || *end != '\0' || errno != 0 || v < lo || v > hi)
		return log_errbuf(err, errlen, "bad %s '%s': expected a number from %ld to %ld", what, s,
		    lo, hi);
	*out = v;
	return 0;
}

int
cli_size(const char *what, const char *s, long lo, long hi, long *out, char *err, size_t errlen)
{
	static const char units[] = "KMG";
	size_t n = strspn(s, "0123456789");
	const char *u = s + n, *unit = NULL;
	char digits[24];
	long v = -1;
	int shift = 0;

	if (*u != '\0') {
		unit = strchr(units, toupper((unsigned char)*u));
		shift = unit != NULL && u[1] == '\0' ? 10 * (int)(unit - units + 1) : -1;
	}
	if (n > 0 && n < sizeof(digits) && shift >= 0) {
		memcpy(digits, s, n);
		digits[n] = '\0';
		errno = 0;
		v = strtol(digits, NULL, 10);
		if (errno != 0 || v > (LONG_MAX >> shift))
			v = -1;
		else
			v <<= shift;
	}
	if (v < lo || v > hi)
		return log_errbuf(err, errlen,
		    "bad %s '%s': expected a size from %ld to %ld bytes (K, M, G: KiB, MiB, GiB)", what,
		    s, lo, hi);
	*out = v;
	return 0;
}

#define DURATION_SYNTAX "expected a time such as 30, 30s, 5m or 250ms"

/* A time such as 30, 30s, 5m or 250ms into milliseconds: -1 when it is
 * not written as one (the range is the caller's, with its own words). */
static int
duration_ms(const char *s, double *ms)
{
	const char *u = s + strspn(s, "0123456789.");
	double v, unit = 1000;
	char *end;

	if (strcmp(u, "ms") == 0)
		unit = 1;
	else if (strcmp(u, "m") == 0)
		unit = 60000;
	else if (*u != '\0' && strcmp(u, "s") != 0)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (u == s || end != u || errno != 0)
		return -1;
	*ms = v * unit;
	return 0;
}

/* Timers count whole milliseconds: a fraction is rounded to the nearest,
 * and said in err (-i 1.9ms silently became 1 ms, almost twice the rate
 * asked for; --dns-timeout 1.9ms too). 0 has a meaning of its own to
 * several callers ("never" for --idle-timeout, "at once" for --grace, a
 * flood for -i; -W refuses it): a time written above 0 must not become
 * it. err is empty when nothing was rounded. */
static void
whole_ms(const char *what, const char *s, double v, int *ms, char *err, size_t errlen)
{
	*ms = v > 0 && v < 1 ? 1 : (int)(v + 0.5);
	err[0] = '\0';
	if (v - *ms > 1e-6 || *ms - v > 1e-6)
		log_errbuf(err, errlen, "%s '%s' taken as %d ms (times are whole milliseconds)", what,
		    s, *ms);
}

int
cli_duration(const char *what, const char *s, long max_ms, int *ms, char *err, size_t errlen)
{
	double v;

	if (duration_ms(s, &v) == -1)
		return log_errbuf(err, errlen, "bad %s '%s': " DURATION_SYNTAX, what, s);
	/* The range of what it is taken as: the nearest whole ms. */
	if (v >= (double)max_ms + 0.5)
		return log_errbuf(err, errlen, "bad %s '%s': expected a time from 0 to %ld ms", what, s,
		    max_ms);
	whole_ms(what, s, v, ms, err, errlen);
	return 0;
}

/* Every duration reads a bare number as seconds. --dns-timeout used to
 * take bare milliseconds (documented, default 5000): a bare integer of
 * CLI_DNS_OLD_MS or more keeps that meaning, with a deprecation note in
 * err; below it no DNS timeout in milliseconds was sensible. */
int
cli_dns_timeout(const char *s, int *ms, char *err, size_t errlen)
{
	long v;
	double d;

	err[0] = '\0';
	if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 7) {
		v = strtol(s, NULL, 10);
		if (v >= CLI_DNS_OLD_MS) {
			if (v > CLI_DNS_MAX_MS)
				return log_errbuf(err, errlen,
				    "bad DNS timeout '%s': expected a time from 1 ms to %d s", s,
				    CLI_DNS_MAX_MS / 1000);
			*ms = (int)v;
			log_errbuf(err, errlen,
			    "DNS timeout '%s' taken as %ld ms (old rule, deprecated): write %ldms", s, v,
			    v);
			return 0;
		}
	}
	if (duration_ms(s, &d) == -1)
		return log_errbuf(err, errlen, "bad DNS timeout '%s': " DURATION_SYNTAX, s);
	/* The range in one wording, however the time was written. */
	if (d < 1 || d > CLI_DNS_MAX_MS)
		return log_errbuf(err, errlen, "bad DNS timeout '%s': expected a time from 1 ms to %d s",
		    s, CLI_DNS_MAX_MS / 1000);
	whole_ms("--dns-timeout", s, d, ms, err, errlen);
	return 0;
}

#define DNS_SERVER_SYNTAX "expected ip[:port] (IPv6 in brackets when a port follows)"
#define DNS_SERVER_NOT_IP \
	"not an IP address (expected ip[:port], IPv6 in brackets when a port follows)"

/* A port of a DNS server: digits, 1 to 65535 (c-ares reads 99999 as 34463
 * and 0 as "the default", 53). No service names: c-ares takes none. */
static int
dns_port(const char *p, char *why, size_t whylen)
{
	size_t n = strspn(p, "0123456789");
	long v;

	if (*p == '\0')
		return log_errbuf(why, whylen, "missing port number");
	if (n == 0 || p[n] != '\0')
		return log_errbuf(why, whylen, "bad port '%s': not a number", p);
	v = n > 5 ? 0 : strtol(p, NULL, 10);
	if (v < 1 || v > 65535)
		return log_errbuf(why, whylen, "port %s out of range (1-65535)", p);
	return 0;
}

/* One element of the list, cut in place into its parts. */
struct dns_el {
	char *host;  /* the address, without brackets or interface */
	char *port;  /* NULL: none given (c-ares' default, 53) */
	char *iface; /* NULL: none given */
	char ifname[IF_NAMESIZE]; /* the interface by name, as c-ares takes it */
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* "[ip6]", "[ip6]:port", with an interface inside the brackets as URLs
 * write it (RFC 6874, without its "%25") or after them as c-ares does:
 * "[fe80::1%eth0]:53", "[fe80::1]:53%eth0", "[fe80::1]%eth0". */
static int
dns_split_brackets(char *el, struct dns_el *d, char *why, size_t whylen)
{
	char *close = strchr(el, ']'), *after, *pct, *iface = NULL;

	if (close == NULL)
		return log_errbuf(why, whylen, "missing ']'");
	*close = '\0';
	after = close + 1;
	d->host = el + 1;
	pct = strchr(d->host, '%');
	if (pct != NULL) {
		*pct = '\0';
		d->iface = pct + 1;
	}
	if (*after == ':') {
		d->port = after + 1;
		iface = strchr(d->port, '%');
	} else if (*after == '%')
		iface = after;
	else if (*after != '\0')
		return log_errbuf(why, whylen, "expected ':port' after ']'");
	if (iface != NULL) {
		*iface++ = '\0';
		if (d->iface != NULL)
			return log_errbuf(why, whylen, "an interface both inside and after the "
			    "brackets");
		d->iface = iface;
	}
	if (inet_pton(AF_INET6, d->host, &d->addr.v6) != 1)
		return log_errbuf(why, whylen, "not an IPv6 address in brackets");
	d->family = AF_INET6;
	return 0;
}

/* ip4, ip4:port, ip6 (no port: it would read as part of the address),
 * ip6%iface. */
static int
dns_split(char *el, struct dns_el *d, char *why, size_t whylen)
{
	char *pct, *colon;

	memset(d, 0, sizeof(*d));
	if (el[0] == '[')
		return dns_split_brackets(el, d, why, whylen);
	pct = strchr(el, '%');
	if (pct != NULL) {
		*pct = '\0';
		d->iface = pct + 1;
	}
	d->host = el;
	if (inet_pton(AF_INET6, el, &d->addr.v6) == 1) {
		d->family = AF_INET6;
		return 0;
	}
	colon = strchr(el, ':');
	if (colon != NULL) {
		*colon = '\0';
		d->port = colon + 1;
	}
	if (inet_pton(AF_INET, el, &d->addr.v4) != 1)
		return log_errbuf(why, whylen, DNS_SERVER_NOT_IP);
	d->family = AF_INET;
	return 0;
}

/* What c-ares (ares_update_servers.c) reads as an interface name after
 * '%'; it refuses the whole list at any other character. */
#define DNS_IFACE_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_\\:{}"

/* The interface of this host that iface names (or numbers: c-ares would
 * take an index too, but the name is what it reports), into d->ifname. */
static int
dns_iface(struct dns_el *d, char *why, size_t whylen)
{
	const char *s = d->iface;

	if (*s == '\0')
		return log_errbuf(why, whylen, "no interface name after '%%'");
	/* No interface name holds one (Linux reads "eth0:53" as eth0's
	 * alias label "53", which would take the port for part of it). */
	if (strchr(s, ':') != NULL)
		return log_errbuf(why, whylen, "no interface '%s' here (a port after an IPv6 "
		    "address needs brackets: [%s%%IFACE]:PORT)", s, d->host);
	if (strspn(s, "0123456789") == strlen(s)) {
		unsigned long long v = strlen(s) <= 10 ? strtoull(s, NULL, 10) : 0;
		if (v == 0 || v > UINT_MAX || if_indextoname((unsigned)v, d->ifname) == NULL)
			return log_errbuf(why, whylen, "no interface with index %s here", s);
	} else if (strlen(s) >= sizeof(d->ifname) || if_nametoindex(s) == 0)
		return log_errbuf(why, whylen, "no interface '%s' here", s);
	else
		snprintf(d->ifname, sizeof(d->ifname), "%s", s);
	if (strspn(d->ifname, DNS_IFACE_CHARS) != strlen(d->ifname))
		return log_errbuf(why, whylen, "c-ares cannot read the interface name '%s'",
		    d->ifname);
	return 0;
}

/* The scope rules: a link-local server needs its interface, which c-ares
 * takes from RESOLVE_IFACE_VERSION (else it drops the server without a
 * word, or cannot reach it); on any other address c-ares ignores an
 * interface, which then would not be the one the user meant. */
static int
dns_scope(struct dns_el *d, const struct resolve_cares *cares, char *why, size_t whylen)
{
	bool ll = d->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&d->addr.v6);
	bool old = cares->version < RESOLVE_IFACE_VERSION;
	/* the known culprits: the probe found it, the version explains it */
	const char *fixed = cares->version >= 0x012200 && cares->version <= 0x012205 ?
	    " (fixed in 1.34.6)" : "";

	if (d->iface != NULL && !ll)
		return log_errbuf(why, whylen, "an interface ('%%%s') belongs only to a link-local "
		    "address (fe80::/10)", d->iface);
	if (!ll)
		return 0;
	if (d->iface == NULL && old)
		return log_errbuf(why, whylen, "a link-local address needs its interface "
		    "(%s%%IFACE), which c-ares %s here cannot take (1.24.0 or later can)", d->host,
		    cares->text);
	if (d->iface == NULL && !cares->iface)
		return log_errbuf(why, whylen, "a link-local address needs its interface "
		    "(%s%%IFACE), and c-ares %s here drops every link-local server%s", d->host,
		    cares->text, fixed);
	if (d->iface == NULL)
		return log_errbuf(why, whylen, "a link-local address needs its interface: "
		    "%s%%IFACE", d->host);
	if (old)
		return log_errbuf(why, whylen, "c-ares %s here cannot take a server's interface "
		    "(1.24.0 or later can)", cares->text);
	if (!cares->iface)
		return log_errbuf(why, whylen, "c-ares %s here drops every link-local server%s",
		    cares->text, fixed);
	return dns_iface(d, why, whylen);
}

/* The list as c-ares will read it, written as it is checked. */
struct dns_out {
	char *buf;
	size_t len, size;
	bool full; /* something did not fit */
};

static void dns_out_add(struct dns_out *o, const char *fmt, ...) AE_PRINTF(2, 3);
static void
dns_out_add(struct dns_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* One element, copied out of the list into el: checked, then appended to
 * out as c-ares reads it. 0, or -1 with the reason in why. */
static int
dns_server(char *el, const char *text, size_t n, const struct resolve_cares *cares,
    struct dns_out *out, char *why, size_t whylen)
{
	struct dns_el d;

	if (dns_split(el, &d, why, whylen) == -1)
		return -1;
	if (d.port != NULL && dns_port(d.port, why, whylen) == -1)
		return -1;
	if (dns_scope(&d, cares, why, whylen) == -1)
		return -1;
	/* Without an interface, as typed: every c-ares reads these so, but
	 * for brackets without a port, which c-ares 1.18 refuses
	 * ("Misformatted string") and 1.34 takes: the bare address reads the
	 * same in both. With an interface, c-ares' own spelling, the
	 * interface by name. */
	if (d.iface == NULL && d.port == NULL && text[0] == '[')
		dns_out_add(out, "%s%s", out->len > 0 ? "," : "", d.host);
	else if (d.iface == NULL)
		dns_out_add(out, "%s%.*s", out->len > 0 ? "," : "", (int)n, text);
	else
		dns_out_add(out, "%s[%s]%s%s%%%s", out->len > 0 ? "," : "", d.host,
		    d.port != NULL ? ":" : "", d.port != NULL ? d.port : "", d.ifname);
	return 0;
}

/* A value quoted in a message, at most QUOTE_MAX characters: a longer one
 * is shown by its start and its end with "..." between, so that the
 * message stays one line and the reason after it is never cut off. */
#define QUOTE_MAX 72
#define QUOTE_TAIL 20

static const char *
quote_short(const char *s, size_t n, char *buf, size_t size)
{
	if (n <= QUOTE_MAX && n < size)
		snprintf(buf, size, "%.*s", (int)n, s);
	else
		snprintf(buf, size, "%.*s...%s", QUOTE_MAX - QUOTE_TAIL - 3, s,
		    s + n - QUOTE_TAIL);
	return buf;
}

/* c-ares parses the list loosely (ports modulo 65536, an unclosed bracket
 * taken, an empty list meaning the system's servers, a link-local server
 * without its interface dropped): check it here, one element at a time,
 * so that the message names the one that is wrong. */
int
cli_dns_servers(const char *list, const struct resolve_cares *cares, char *out, size_t outlen,
    char *err, size_t errlen)
{
	char el[INET6_ADDRSTRLEN + IF_NAMESIZE + 16], why[192], q1[QUOTE_MAX + 1], q2[QUOTE_MAX + 1];
	struct dns_out o = { out, 0, outlen, outlen == 0 };
	const char *p = list;

	if (*list == '\0')
		return log_errbuf(err, errlen, "bad DNS server list '': expected ip[:port],... "
		    "(IPv6 in brackets when a port follows)");
	for (;;) {
		size_t n = strcspn(p, ",");
		int rc;

		if (n == 0)
			rc = log_errbuf(why, sizeof(why), DNS_SERVER_SYNTAX);
		else if (n >= sizeof(el))
			rc = log_errbuf(why, sizeof(why), DNS_SERVER_NOT_IP);
		else {
			memcpy(el, p, n);
			el[n] = '\0';
			rc = dns_server(el, p, n, cares, &o, why, sizeof(why));
		}
		if (rc == -1) {
			bool whole = n == strlen(list);
			return log_errbuf(err, errlen, "bad DNS server '%s'%s%s%s: %s",
			    quote_short(p, n, q1, sizeof(q1)), whole ? "" : " in '",
			    whole ? "" : quote_short(list, strlen(list), q2, sizeof(q2)),
			    whole ? "" : "'", why);
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (o.full)
		return log_errbuf(err, errlen, "bad DNS server list '%s': longer than %zu "
		    "characters", quote_short(list, strlen(list), q1, sizeof(q1)),
		    outlen > 0 ? outlen - 1 : 0);
	return 0;
}

int
cli_resolve_option(int c, const char *arg, struct resolve_opts *ro, char *err, size_t errlen)
{
	char list[sizeof(ro->servers_buf)];
	struct resolve_cares cares;
	long v;

	switch (c) {
	case CLI_OPT_DNS_SERVER:
		/* A refused list leaves the one taken before as it was. */
		resolve_cares(&cares);
		if (cli_dns_servers(arg, &cares, list, sizeof(list), err, errlen) == -1)
			return -1;
		memcpy(ro->servers_buf, list, sizeof(list));
		ro->servers = ro->servers_buf;
		return 1;
	case CLI_OPT_DNS_TIMEOUT:
		return cli_dns_timeout(arg, &ro->timeout_ms, err, errlen) == -1 ? -1 : 1;
	case CLI_OPT_DNS_TRIES:
		if (cli_number("DNS tries", arg, 1, 20, &v, err, errlen) == -1)
			return -1;
		ro->tries = (int)v;
		return 1;
	default:
		return 0;
	}
}

int
cli_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n == -1)
			return -1;
		if (n != fd) { /* a lower one was closed too and took it */
			close(n);
			errno = EBADF;
			return -1;
		}
	}
	return 0;
}

#include "common.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>

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

int
cli_duration(const char *what, const char *s, long max_ms, int *ms, char *err, size_t errlen)
{
	double v;

	if (duration_ms(s, &v) == -1)
		return log_errbuf(err, errlen, "bad %s '%s': " DURATION_SYNTAX, what, s);
	if (v > (double)max_ms)
		return log_errbuf(err, errlen, "bad %s '%s': expected a time from 0 to %ld ms", what, s,
		    max_ms);
	/* 0 has a meaning of its own to several callers ("never" for
	 * --idle-timeout, "at once" for --grace, a flood for -i; -W refuses
	 * it): a time written above 0 must not become it by losing its
	 * fraction of a millisecond. */
	*ms = v > 0 && v < 1 ? 1 : (int)v;
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
	*ms = (int)d;
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

/* One element of the list, copied out of it: 0, or -1 with the reason. */
static int
dns_server(char *el, char *why, size_t whylen)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char *colon, *close;

	if (el[0] == '[') {
		close = strchr(el, ']');
		if (close == NULL)
			return log_errbuf(why, whylen, "missing ']'");
		*close = '\0';
		if (inet_pton(AF_INET6, el + 1, buf) != 1)
			return log_errbuf(why, whylen, "not an IPv6 address in brackets");
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return log_errbuf(why, whylen, "expected ':port' after ']'");
		return dns_port(close + 2, why, whylen);
	}
	if (inet_pton(AF_INET6, el, buf) == 1) /* bare IPv6: no port */
		return 0;
	colon = strchr(el, ':');
	if (colon != NULL)
		*colon = '\0';
	if (inet_pton(AF_INET, el, buf) != 1)
		return log_errbuf(why, whylen, DNS_SERVER_NOT_IP);
	return colon != NULL ? dns_port(colon + 1, why, whylen) : 0;
}

/* c-ares parses the list loosely (ports modulo 65536, an unclosed bracket
 * taken, an empty list meaning the system's servers): check it here, one
 * element at a time, so that the message names the one that is wrong. */
int
cli_dns_servers(const char *list, char *err, size_t errlen)
{
	char el[INET6_ADDRSTRLEN + 16], why[128];
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
			rc = dns_server(el, why, sizeof(why));
		}
		if (rc == -1) {
			bool whole = n == strlen(list);
			return log_errbuf(err, errlen, "bad DNS server '%.*s'%s%s%s: %s", (int)n, p,
			    whole ? "" : " in '", whole ? "" : list, whole ? "" : "'", why);
		}
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

int
cli_resolve_option(int c, const char *arg, struct resolve_opts *ro, char *err, size_t errlen)
{
	long v;

	switch (c) {
	case CLI_OPT_DNS_SERVER:
		if (cli_dns_servers(arg, err, errlen) == -1)
			return -1;
		ro->servers = arg;
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

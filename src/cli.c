#include "common.h"

#include "cli.h"

int
cli_number(const char *what, const char *s, long lo, long hi, long *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
		snprintf(err, errlen, "bad %s '%s': expected a number from %ld to %ld", what, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_duration(const char *what, const char *s, long max_ms, int *ms, char *err, size_t errlen)
{
	double v, unit = 1000;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "m") == 0)
		unit = 60000;
	else if (*end != '\0' && strcmp(end, "s") != 0) {
		snprintf(err, errlen, "bad %s '%s': expected a time such as 30, 30s, 5m or 250ms", what, s);
		return -1;
	}
	if (end == s || errno != 0 || !(v >= 0) || v * unit > (double)max_ms) {
		snprintf(err, errlen, "bad %s '%s': expected a time from 0 to %ld ms", what, s, max_ms);
		return -1;
	}
	*ms = (int)(v * unit);
	return 0;
}

int
cli_resolve_option(int c, const char *arg, struct resolve_opts *ro, char *err, size_t errlen)
{
	long v;

	switch (c) {
	case CLI_OPT_DNS_SERVER:
		ro->servers = arg;
		return 1;
	case CLI_OPT_DNS_TIMEOUT:
		if (cli_number("DNS timeout", arg, 1, 600000, &v, err, errlen) == -1)
			return -1;
		ro->timeout_ms = (int)v;
		return 1;
	case CLI_OPT_DNS_TRIES:
		if (cli_number("DNS tries", arg, 1, 20, &v, err, errlen) == -1)
			return -1;
		ro->tries = (int)v;
		return 1;
	default:
		return 0;
	}
}

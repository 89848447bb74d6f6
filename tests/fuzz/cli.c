/* Numbers, sizes, durations and DNS server lists from the command line. Invariants: a value that
 * is accepted is within the bounds asked for; a refusal is one line that
 * names the option. */
#include "common.h"

#include "cli.h"
#include "server.h"
#include "source.h"
#include "fuzz.h"
#include "log.h"

static void
refused(const char *err, const char *what)
{
	if (strstr(err, what) == NULL || strchr(err, '\n') != NULL)
		abort();
}

/* log_oneline: what is left is UTF-8 without C0, DEL or C1 controls. */
static void
one_line(const char *in)
{
	char s[256];

	snprintf(s, sizeof(s), "%s", in);
	log_oneline(s);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
		size_t n = log_utf8_len(p);
		if (n == 0 || *p < 0x20 || *p == 0x7f || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			abort();
		p += n;
	}
}

/* -I: an address of a family with its length, or an interface named by
 * the whole value; else a refusal naming the value (log_err makes it one
 * line). */
static void
source_check(const char *s, char *err, size_t errlen)
{
	struct source src;

	if (source_parse(&src, s, err, errlen) == -1) {
		if (strncmp(err, "bad source '", 12) != 0)
			abort();
		return;
	}
	if (src.family == AF_INET ? src.len != sizeof(struct sockaddr_in)
	    : src.family == AF_INET6 ? src.len != sizeof(struct sockaddr_in6)
	    : strcmp(src.ifname, s) != 0)
		abort();
}

/* c-ares 1.18 takes no interface, so an accepted list goes to it element
 * by element as typed, but for "[ip6]" without a port, which goes bare
 * (1.18 refuses the brackets). */
static void
as_typed_118(const char *in, const char *out)
{
	for (;;) {
		size_t n = strcspn(in, ","), m = strcspn(out, ",");

		if (!(m == n && memcmp(in, out, n) == 0) &&
		    !(n == m + 2 && in[0] == '[' && in[n - 1] == ']' && memcmp(in + 1, out, m) == 0))
			abort();
		if (in[n] == '\0' || out[m] == '\0') {
			if (in[n] != out[m])
				abort();
			return;
		}
		in += n + 1;
		out += m + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256], err[512];
	/* Set: under LTO gcc sees through the calls but not that every
	 * refusal path returns -1, and warns they may be read unset. */
	long v = 0;
	int ms = 0;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	one_line(s);
	if (cli_number("count", s, -5, 100000, &v, err, sizeof(err)) == 0) {
		if (v < -5 || v > 100000)
			abort();
	} else
		refused(err, "count");
	if (cli_size("size", s, 0, 1L << 30, &v, err, sizeof(err)) == 0) {
		if (v < 0 || v > 1L << 30)
			abort();
	} else
		refused(err, "size");
	/* a lower bound above 0, as --buffer-size has: "0K" must not pass */
	if (cli_size("--buffer-size", s, SERVER_BUFSIZE_MIN, SERVER_BUFSIZE_MAX, &v, err,
	    sizeof(err)) == 0) {
		if (v < SERVER_BUFSIZE_MIN || v > SERVER_BUFSIZE_MAX)
			abort();
	} else
		refused(err, "--buffer-size");
	if (cli_duration("interval", s, 3600000, &ms, err, sizeof(err)) == 0) {
		/* above 0 as written, above 0 as read: 0 often means never */
		if (ms < 0 || ms > 3600000 || (ms == 0 && strpbrk(s, "123456789") != NULL))
			abort();
	} else
		refused(err, "interval");
	if (cli_dns_timeout(s, &ms, err, sizeof(err)) == 0) {
		if (ms < 1 || ms > CLI_DNS_MAX_MS || strchr(err, '\n') != NULL)
			abort();
	} else
		refused(err, "DNS timeout");
	/* --dns-server: accepted, no element is empty and no port is 0 or
	 * above 65535 (what c-ares would have taken); else one line. c-ares
	 * 1.18 gets the list as typed (as_typed_118); 1.34.6 gets as many
	 * elements as were typed. */
	for (int i = 0; i < 2; i++) {
		char out[RESOLVE_SERVERS_MAX];
		size_t commas = 0;

		static const struct resolve_cares c[2] = { { 0x011201, "1.18.1", false },
			{ 0x012206, "1.34.6", true } };

		if (cli_dns_servers(s, &c[i], out, sizeof(out), err, sizeof(err)) == -1) {
			refused(err, "DNS server");
			continue;
		}
		if (s[0] == '\0' || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,") != NULL)
			abort();
		if (i == 0)
			as_typed_118(s, out);
		for (const char *p = s; *p != '\0'; p++)
			commas += *p == ',';
		for (const char *p = out; *p != '\0'; p++)
			commas -= *p == ',';
		if (commas != 0)
			abort();
	}
	source_check(s, err, sizeof(err));
	return 0;
}

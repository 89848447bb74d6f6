/* Endpoint strings (command line, unit files, scripts): addr_parse and the
 * no-network answers. Invariants: a failure leaves a one-line message; an
 * IP entry printed with addr_format parses back to the same address. */
#include "common.h"

#include "addr.h"
#include "fuzz.h"

static void
must(bool ok)
{
	if (!ok)
		abort();
}

static void
one_line(const char *err)
{
	must(err[0] != '\0' && strchr(err, '\n') == NULL);
}

/* An IP entry, formatted and parsed again, is the same socket address. */
static void
round_trip(const struct addr *a, const struct addr_hints *h)
{
	struct addr_hints h1 = *h;
	struct addr_spec spec;
	struct addr_list l = { 0 };
	char buf[ADDR_STRLEN], err[ADDR_ERRLEN];

	if (a->family == AF_UNIX)
		return;
	addr_format(a, buf, sizeof(buf));
	must(addr_parse(&spec, buf, err, sizeof(err)) == 0);
	h1.family = a->family;
	must(addr_local(&spec, &h1, &l, err, sizeof(err)) == 1 && l.n > 0);
	must(l.v[0].len == a->len && memcmp(&l.v[0].sa, &a->sa, a->len) == 0);
	addr_list_free(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct addr_hints hints[] = {
		{ AF_UNSPEC, ADDR_STREAM | ADDR_DGRAM, true, 7 },
		{ AF_UNSPEC, ADDR_STREAM, false, -1 },
		{ AF_INET6, ADDR_DGRAM | ADDR_SEQPACKET, false, 7007 },
	};
	char s[1024], err[ADDR_ERRLEN], buf[ADDR_STRLEN];
	struct addr_spec spec;
	int port;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_parse_port(s, &port, err, sizeof(err)) == 0)
		must(port >= 0 && port <= 65535);
	else
		one_line(err);
	if (addr_parse(&spec, s, err, sizeof(err)) == -1) {
		one_line(err);
		return 0;
	}
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		struct addr_list l = { 0 };
		int rc = addr_local(&spec, &hints[i], &l, err, sizeof(err));
		if (rc == -1)
			one_line(err);
		for (size_t k = 0; rc == 1 && k < l.n; k++) {
			must(strlen(addr_format(&l.v[k], buf, sizeof(buf))) < sizeof(buf) - 1);
			round_trip(&l.v[k], &hints[i]);
		}
		addr_list_free(&l);
	}
	return 0;
}

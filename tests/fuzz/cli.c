/* Numbers and durations from the command line. Invariants: a value that
 * is accepted is within the bounds asked for; a refusal is one line that
 * names the option. */
#include "common.h"

#include "cli.h"
#include "fuzz.h"

static void
refused(const char *err, const char *what)
{
	if (strstr(err, what) == NULL || strchr(err, '\n') != NULL)
		abort();
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
	if (cli_number("count", s, -5, 100000, &v, err, sizeof(err)) == 0) {
		if (v < -5 || v > 100000)
			abort();
	} else
		refused(err, "count");
	if (cli_duration("interval", s, 3600000, &ms, err, sizeof(err)) == 0) {
		if (ms < 0 || ms > 3600000)
			abort();
	} else
		refused(err, "interval");
	return 0;
}

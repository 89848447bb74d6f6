/* Command-line values shared by both programs: numbers and durations, with
 * one-line errors that name the option, the value and the reason. */
#ifndef AE_CLI_H
#define AE_CLI_H

#include <stddef.h>

int cli_number(const char *what, const char *s, long lo, long hi, long *out, char *err,
    size_t errlen);
/* "30", "30s", "1.5", "5m", "250ms" -> milliseconds, at most max_ms. */
int cli_duration(const char *what, const char *s, long max_ms, int *ms, char *err,
    size_t errlen);

#endif

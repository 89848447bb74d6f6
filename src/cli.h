/* Command-line values shared by both programs: numbers, durations and DNS
 * server lists, with one-line errors that name the option, the value and
 * the reason. */
#ifndef AE_CLI_H
#define AE_CLI_H

#include <stddef.h>

#include "resolve.h"

int cli_number(const char *what, const char *s, long lo, long hi, long *out, char *err,
    size_t errlen);
/* "65536", "64K", "1M", "2G" -> bytes (K, M, G: powers of 1024), from lo to hi. */
int cli_size(const char *what, const char *s, long lo, long hi, long *out, char *err,
    size_t errlen);
/* "30", "30s", "1.5", "5m", "250ms" -> milliseconds, at most max_ms; a
 * fraction of a millisecond is rounded to the nearest, but a time above 0
 * is never 0 (which often means never). On success err is empty, or holds
 * a note for the caller to show when the time was rounded. */
int cli_duration(const char *what, const char *s, long max_ms, int *ms, char *err,
    size_t errlen);

/* --dns-timeout: a duration like the others (bare number: seconds), but
 * a bare integer of 100 or more is milliseconds, as it used to be; then
 * err holds a deprecation note for the caller to show (returns 0). */
#define CLI_DNS_OLD_MS 100
#define CLI_DNS_MAX_MS 600000
int cli_dns_timeout(const char *s, int *ms, char *err, size_t errlen);

/* --dns-server: a comma-separated list of ip[:port] (IPv6 bare, or in
 * brackets when a port follows), port 1 to 65535. A link-local IPv6
 * server carries its interface, by name or index, one of this host's:
 * fe80::1%eth0, [fe80::1%eth0]:53 (as in URLs), [fe80::1]:53%eth0 (as
 * c-ares writes it), if cares (the c-ares that will read the list, see
 * resolve_cares()) takes one. 0 with the list as c-ares reads it in out
 * (outlen bytes), or -1 with one line naming the bad element in err. */
int cli_dns_servers(const char *list, const struct resolve_cares *cares, char *out,
    size_t outlen, char *err, size_t errlen);

/* The resolver's options, alike in both programs: put the long options in
 * the getopt table and offer every option code to cli_resolve_option(). */
enum { CLI_OPT_DNS_SERVER = 0x1000, CLI_OPT_DNS_TIMEOUT, CLI_OPT_DNS_TRIES };
#define CLI_RESOLVE_LONGOPTS \
	{ "dns-server", required_argument, NULL, CLI_OPT_DNS_SERVER }, \
	{ "dns-timeout", required_argument, NULL, CLI_OPT_DNS_TIMEOUT }, \
	{ "dns-tries", required_argument, NULL, CLI_OPT_DNS_TRIES }
/* 1: c was one of them and is taken (err may then hold a note to show,
 * else it is empty); 0: not one of them; -1: bad value. */
int cli_resolve_option(int c, const char *arg, struct resolve_opts *ro, char *err,
    size_t errlen);

/* Open /dev/null on whichever of fds 0, 1 and 2 is closed, so that no
 * socket or pipe the program opens later takes its place (and is then
 * read as standard input or written as output). 0, or -1 with errno. */
int cli_std_fds(void);

#endif

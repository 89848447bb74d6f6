/* Leveled logging to stderr or syslog. Never exits: the programs decide. */
#ifndef AE_LOG_H
#define AE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Under systemd (JOURNAL_STREAM naming our stderr) stderr lines carry the
 * sd-daemon <N> priority prefix instead of the program's name. */
void log_init(const char *progname, enum log_level level, bool use_syslog);
/* SIGHUP: reconnect to syslog. Safe while other threads log. */
void log_reopen(void);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) AE_PRINTF(2, 3);

/* Messages quote what users and peers typed: control bytes (a newline, a
 * terminal escape, C1 controls such as CSI 0x9b) and bytes that are not
 * UTF-8 become '?' in place, so a message stays one harmless line. */
char *log_oneline(char *s);
/* The length of the valid UTF-8 sequence at p (1 to 4; 1 for ASCII), or
 * 0 when the byte there does not start one: overlong, surrogate, cut. */
size_t log_utf8_len(const unsigned char *p);
/* Library code's errors: format into the caller's buffer, one line (as
 * above), and return -1, so that "return log_errbuf(...)" ends a failure. */
int log_errbuf(char *err, size_t errlen, const char *fmt, ...) AE_PRINTF(3, 4);

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif

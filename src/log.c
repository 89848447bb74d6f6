#include "common.h"

#include <stdarg.h>
#include <syslog.h>

#include "log.h"

static const char *log_prog = "anyecho";
static enum log_level log_level = LOG_LVL_INFO;
static bool log_syslog;

void
log_init(const char *progname, enum log_level level, bool use_syslog)
{
	log_prog = progname;
	log_level = level;
	if (log_syslog && !use_syslog)
		closelog();
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool
log_enabled(enum log_level level)
{
	return level <= log_level;
}

size_t
log_utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0; /* a continuation byte, or 0xc0, 0xc1, 0xf5-0xff */
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return 0;
	return n;
}

/* Terminals act on C0 and C1 controls: raw 0x9b is CSI on an 8-bit
 * terminal, U+009B (c2 9b) on a UTF-8 one. Both become '?', as does any
 * byte that is not UTF-8; the string can only get shorter. */
char *
log_oneline(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;

	while (*r != '\0') {
		size_t n = log_utf8_len(r);
		if (n == 0 || *r < 0x20 || *r == 0x7f || (n == 2 && r[0] == 0xc2 && r[1] < 0xa0)) {
			*w++ = '?';
			r += n > 0 ? n : 1;
			continue;
		}
		memmove(w, r, n);
		w += n;
		r += n;
	}
	*w = '\0';
	return s;
}

int
log_errbuf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		log_oneline(err);
	}
	return -1;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char buf[1024];
	va_list ap;
	int saved = errno;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_oneline(buf);
	if (log_syslog)
		syslog(prio[level], "%s", buf);
	else
		fprintf(stderr, "%s: %s\n", log_prog, buf);
	errno = saved;
}

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

char *
log_oneline(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
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

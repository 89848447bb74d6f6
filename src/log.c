#include "common.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <syslog.h>

#include "log.h"

/* Set by log_init() in the main thread; read by every worker. SIGHUP's
 * log_reopen() runs while workers log, so what it touches is atomic or
 * under log_lock. */
static const char *log_prog = "anyecho";
static int log_level = LOG_LVL_INFO;   /* atomic */
static int log_dest;                   /* atomic: enum log_dest */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER; /* openlog, closelog, syslog */

enum log_dest { DEST_STDERR, DEST_JOURNAL, DEST_SYSLOG };

/* systemd connects stderr to the journal and says so in JOURNAL_STREAM
 * ("dev:ino" of that stream). Trust it only while stderr is still that
 * stream, as sd-daemon does: a child whose stderr was redirected inherits
 * the variable but not the journal. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *progname, enum log_level level, bool use_syslog)
{
	int dest = use_syslog ? DEST_SYSLOG : stderr_is_journal() ? DEST_JOURNAL : DEST_STDERR;

	pthread_mutex_lock(&log_lock);
	log_prog = progname;
	if (__atomic_load_n(&log_dest, __ATOMIC_RELAXED) == DEST_SYSLOG && !use_syslog)
		closelog();
	if (use_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	__atomic_store_n(&log_dest, dest, __ATOMIC_RELAXED);
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&log_lock);
}

void
log_reopen(void)
{
	pthread_mutex_lock(&log_lock);
	if (__atomic_load_n(&log_dest, __ATOMIC_RELAXED) == DEST_SYSLOG) {
		closelog();
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	pthread_mutex_unlock(&log_lock);
}

bool
log_enabled(enum log_level level)
{
	return (int)level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
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
	switch (__atomic_load_n(&log_dest, __ATOMIC_RELAXED)) {
	case DEST_SYSLOG:
		pthread_mutex_lock(&log_lock);
		syslog(prio[level], "%s", buf);
		pthread_mutex_unlock(&log_lock);
		break;
	case DEST_JOURNAL:
		/* sd-daemon(3) priority prefix; the journal names the program. */
		fprintf(stderr, "<%d>%s\n", prio[level], buf);
		break;
	default:
		fprintf(stderr, "%s: %s\n", log_prog, buf);
		break;
	}
	errno = saved;
}

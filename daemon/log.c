/*
 * log.c - pvd's log: one line per message on stderr.
 *
 * Under systemd (JOURNAL_STREAM names our stderr) every line starts with the
 * sd-daemon level prefix "<N>" so journald records the priority; elsewhere a
 * line reads "YYYY-mm-ddTHH:MM:SS.mmmZ pvd[pid] level: message". Debug lines
 * are written only with --verbose. Message text never contains a newline:
 * control characters are replaced so one event is always one line.
 * State: the two flags below, set once by log_init before the loop starts.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
	int verbose;
	int journal;
} log_state;

static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(int verbose)
{
	log_state.verbose = verbose;
	log_state.journal = stderr_is_journal();
}

static const char *level_name(int level)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"
	};
	return names[level & 7];
}

void log_msg(int level, const char *fmt, ...)
{
	char text[2048], stamp[40];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (level >= LOG_DEBUG && !log_state.verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (log_state.verbose < 0 && level > LOG_ERR)
		return;		/* quiet (the fuzz targets): formatted, not written */
	if (log_state.journal) {
		fprintf(stderr, "<%d>%s\n", level & 7, text);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03dZ pvd[%d] %s: %s\n", stamp, (int)(tv.tv_usec / 1000),
		(int)getpid(), level_name(level), text);
}

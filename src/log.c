/* log.c: the daemon's log: stderr, syslog or a file, reopened on USR1. */
/*
 * Owns the log target and the only global state of the daemon (the open
 * target and the debug switch). The lowest layer: calls nothing of baton's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Logging state is the daemon's only global state (STYLE.md). */
static struct {
	enum { LOG_TO_STDERR, LOG_TO_SYSLOG, LOG_TO_FILE } kind;
	char path[4096];
	int fd; /* file descriptor written to: 2 or the log file */
	int debug;
} log_state = {LOG_TO_STDERR, "", 2, 0};

static int
log_open_file(const char *path)
{
	return open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int
log_open(const char *target)
{
	int fd;

	if (target == NULL || strcmp(target, "stderr") == 0) {
		log_close();
		log_state.kind = LOG_TO_STDERR;
		return 0;
	}
	if (strcmp(target, "syslog") == 0) {
		log_close();
		openlog("baton", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_state.kind = LOG_TO_SYSLOG;
		return 0;
	}
	if ((fd = log_open_file(target)) == -1)
		return -1;
	log_close();
	snprintf(log_state.path, sizeof(log_state.path), "%s", target);
	log_state.kind = LOG_TO_FILE;
	log_state.fd = fd;
	return 0;
}

int
log_reopen(void)
{
	int fd;

	if (log_state.kind != LOG_TO_FILE)
		return 0;
	if ((fd = log_open_file(log_state.path)) == -1)
		return -1;
	/* Keep the same descriptor number: nothing else needs to know. */
	if (dup3(fd, log_state.fd, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
log_close(void)
{
	if (log_state.kind == LOG_TO_FILE && log_state.fd > 2)
		close(log_state.fd);
	if (log_state.kind == LOG_TO_SYSLOG)
		closelog();
	log_state.kind = LOG_TO_STDERR;
	log_state.fd = 2;
}

void
log_set_debug(int on)
{
	log_state.debug = on;
}

static void log_vwrite(int prio, const char *fmt, va_list ap,
    const char *suffix) __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int prio, const char *fmt, va_list ap, const char *suffix)
{
	static const char *names[] = {[LOG_ERR] = "error",
	    [LOG_WARNING] = "warn",
	    [LOG_INFO] = "info",
	    [LOG_DEBUG] = "debug"};
	char msg[2048], line[2300];
	struct timespec ts;
	struct tm tm;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_state.kind == LOG_TO_SYSLOG) {
		syslog(prio, "%s%s%s", msg, suffix ? ": " : "",
		    suffix ? suffix : "");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02d %02d:%02d:%02d.%03ld [%s] baton[%d]: %s%s%s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, names[prio], (int)getpid(), msg,
	    suffix ? ": " : "", suffix ? suffix : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write(2) per line: O_APPEND keeps concurrent writers whole. */
	while (write(log_state.fd, line, (size_t)n) == -1 && errno == EINTR)
		;
}

#define LOG_FN(name, prio, with_errno)                                         \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vwrite(                                                    \
		    prio, fmt, ap, with_errno ? strerror(saved) : NULL);       \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	}

LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_state.debug)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/* log.h: the daemon's log: stderr, syslog or a file, reopened on USR1. */
#ifndef BATON_LOG_H
#define BATON_LOG_H

#include <stdarg.h>

/*
 * target is "stderr", "syslog" or a path (appended to, created 0640).
 * Returns 0, or -1 with errno set when the file cannot be opened; logging
 * then stays on stderr.
 */
int log_open(const char *target);

/* Reopen the log file (after rotation); a no-op for stderr and syslog. */
int log_reopen(void);

void log_close(void);

/* Enable debug messages (baton -d). */
void log_set_debug(int on);

/* Messages: lower case, "what: why". log_warn appends strerror(errno). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif

/*
 * parse.c: the one family of checked parsers for values written as text.
 *
 * Owns: what a number, duration, size, boolean, mode or signal looks like,
 * its range check and the reason given when it is wrong. Must not touch:
 * anything about files or keys; it never allocates and never exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

#define DIGITS        "0123456789"
#define DURATION_HINT "(use 30, 30s, 500ms, 2m)"
#define SIZE_HINT     "(use 512, 64K, 512M, 2G)"
#define BOOL_HINT     "(yes/no, true/false, on/off, 1/0)"

struct unit {
	const char *suffix;
	long long scale;
};

/* "" is the bare number: seconds, as nginx and systemd read it. */
static const struct unit duration_units[] = {
    {"", 1000},
    {"s", 1000},
    {"ms", 1},
    {"m", 60 * 1000},
    {"h", 3600 * 1000},
};

static const struct unit size_units[] = {
    {"", 1},
    {"K", 1LL << 10},
    {"k", 1LL << 10},
    {"M", 1LL << 20},
    {"m", 1LL << 20},
    {"G", 1LL << 30},
    {"g", 1LL << 30},
};

/*
 * The number that starts s, digits only: strtoll alone would also take
 * blanks, a sign and, past the range, a clamped value without telling why.
 * Returns the number of digits (0: none), *v saturated at LLONG_MAX.
 */
static size_t
parse_digits(const char *s, long long *v)
{
	size_t n = strspn(s, DIGITS);

	if (n == 0)
		return 0;
	/* On overflow strtoll gives LLONG_MAX: still out of every range. */
	*v = strtoll(s, NULL, 10);
	return n;
}

/* Say why in err (when given), set errno to error, and return -1. */
static int __attribute__((format(printf, 4, 5)))
parse_fail(int error, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = error;
	return -1;
}

/* The unit whose suffix is exactly rest, or NULL. */
static const struct unit *
parse_unit(const struct unit *units, size_t n, const char *rest)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(rest, units[i].suffix) == 0)
			return &units[i];
	}
	return NULL;
}

/* The largest unit that divides v exactly, for messages: "24h", "1G". */
static void
parse_format(char *buf, size_t len, long long v, const struct unit *units,
    size_t n, const char *bare)
{
	const struct unit *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (units[i].suffix[0] == '\0' ||
		    (best != NULL && units[i].scale <= best->scale))
			continue;
		if (v != 0 && v % units[i].scale == 0)
			best = &units[i];
	}
	if (best == NULL)
		snprintf(buf, len, "%lld%s", v, bare);
	else
		snprintf(buf, len, "%lld%s", v / best->scale, best->suffix);
}

int
parse_int(const char *s, long long min, long long max, long long *out,
    char *err, size_t errlen)
{
	const char *p = s;
	long long v;

	if (min < 0 && *p == '-')
		p++;
	if (*p == '\0' || p[strspn(p, DIGITS)] != '\0')
		return parse_fail(EINVAL, err, errlen,
		    "\"%s\" is not a number (%lld..%lld)", s, min, max);
	errno = 0;
	v = strtoll(s, NULL, 10);
	if (errno == ERANGE || v < min || v > max)
		return parse_fail(ERANGE, err, errlen,
		    "%s is out of range (%lld..%lld)", s, min, max);
	*out = v;
	return 0;
}

/* The part both durations and sizes share: digits, then a unit. */
static int
parse_scaled(const char *s, const struct unit *units, size_t nunits,
    long long *v, long long *scale)
{
	const struct unit *u;
	size_t n = parse_digits(s, v);

	if (n == 0 || (u = parse_unit(units, nunits, s + n)) == NULL)
		return -1;
	*scale = u->scale;
	return 0;
}

int
parse_duration(const char *s, long long min_ms, long long max_ms, long long *ms,
    char *err, size_t errlen)
{
	const size_t n = sizeof(duration_units) / sizeof(duration_units[0]);
	long long v, scale;
	char lim[32];

	if (parse_scaled(s, duration_units, n, &v, &scale) == -1)
		return parse_fail(EINVAL, err, errlen,
		    "\"%s\" is not a duration " DURATION_HINT, s);
	if (v > max_ms / scale) {
		parse_format(lim, sizeof(lim), max_ms, duration_units, n, "ms");
		return parse_fail(
		    ERANGE, err, errlen, "\"%s\" is too long (max %s)", s, lim);
	}
	if (v * scale < min_ms) {
		if (min_ms == 1)
			return parse_fail(ERANGE, err, errlen,
			    "\"%s\" is too short (must be more than 0)", s);
		parse_format(lim, sizeof(lim), min_ms, duration_units, n, "ms");
		return parse_fail(ERANGE, err, errlen,
		    "\"%s\" is too short (min %s)", s, lim);
	}
	*ms = v * scale;
	return 0;
}

int
parse_size(const char *s, long long min, long long max, long long *bytes,
    char *err, size_t errlen)
{
	const size_t n = sizeof(size_units) / sizeof(size_units[0]);
	long long v, scale;
	char lim[32];

	if (parse_scaled(s, size_units, n, &v, &scale) == -1)
		return parse_fail(
		    EINVAL, err, errlen, "\"%s\" is not a size " SIZE_HINT, s);
	if (v > max / scale) {
		parse_format(lim, sizeof(lim), max, size_units, n, "");
		return parse_fail(ERANGE, err, errlen,
		    "\"%s\" is too large (max %s)", s, lim);
	}
	if (v * scale < min) {
		parse_format(lim, sizeof(lim), min, size_units, n, "");
		return parse_fail(ERANGE, err, errlen,
		    "\"%s\" is too small (min %s)", s, lim);
	}
	*bytes = v * scale;
	return 0;
}

int
parse_bool(const char *s, int *out, char *err, size_t errlen)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return parse_fail(
	    EINVAL, err, errlen, "\"%s\" is not a boolean " BOOL_HINT, s);
}

int
parse_mode(const char *s, int *mode, char *err, size_t errlen)
{
	long v;

	if (*s == '\0' || s[strspn(s, "01234567")] != '\0')
		return parse_fail(EINVAL, err, errlen,
		    "\"%s\" is not an octal mode (like 0660)", s);
	errno = 0;
	v = strtol(s, NULL, 8);
	if (errno == ERANGE || v > 07777)
		return parse_fail(ERANGE, err, errlen,
		    "\"%s\" is not an octal mode (like 0660)", s);
	*mode = (int)v;
	return 0;
}

/* Names as kill -l prints them; numbers beyond are real-time signals. */
static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
    {"IO", SIGIO},
    {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int
parse_signal(const char *s, int *sig, char *err, size_t errlen)
{
	const char *name = s;
	long long n;
	size_t i;

	if (*s >= '0' && *s <= '9') {
		if (parse_int(s, 1, PARSE_SIGNAL_MAX, &n, NULL, 0) == 0) {
			*sig = (int)n;
			return 0;
		}
	} else {
		if (strncasecmp(name, "SIG", 3) == 0)
			name += 3;
		for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
			if (strcasecmp(name, signals[i].name) == 0) {
				*sig = signals[i].sig;
				return 0;
			}
		}
	}
	return parse_fail(EINVAL, err, errlen,
	    "\"%s\" is not a signal (use a name like TERM or QUIT, or a "
	    "number 1..%d)",
	    s, PARSE_SIGNAL_MAX);
}

const char *
parse_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (signals[i].sig == sig)
			return signals[i].name;
	}
	return "?";
}

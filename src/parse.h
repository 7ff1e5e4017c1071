/*
 * parse.h: the one family of checked parsers for values written as text
 * (integers, durations, sizes, booleans, modes, signals).
 *
 * Owns: the syntax and the range checks of those values, and their reason
 * texts. Must not touch: files, sections, keys; callers add "file:line: key".
 */
#ifndef BATON_PARSE_H
#define BATON_PARSE_H

#include <stddef.h>

/* The longest duration any key accepts. */
#define PARSE_DURATION_MAX_MS (24LL * 3600 * 1000)
/* Signal numbers go up to SIGRTMAX. */
#define PARSE_SIGNAL_MAX 64

/*
 * Every parser, like strtonum(3), takes the whole of s or nothing: no blank,
 * no sign unless min < 0, no "0x", no trailing text. It returns 0 and stores
 * the value, or returns -1 and leaves *out alone, with errno EINVAL (not a
 * value of that kind) or ERANGE (outside min..max, overflow included) and a
 * reason in err, such as "\"x\" is not a number (1..4096)".
 */

/* Decimal digits, with a '-' only when min < 0. */
int parse_int(const char *s, long long min, long long max, long long *out,
    char *err, size_t errlen);

/*
 * "30" (seconds), "30s", "500ms", "2m", "1h" -> milliseconds, within
 * min_ms..max_ms.
 */
int parse_duration(const char *s, long long min_ms, long long max_ms,
    long long *ms, char *err, size_t errlen);

/*
 * "512" (bytes), "64K", "512M", "2G" (powers of 1024, either case) ->
 * bytes, within min..max.
 */
int parse_size(const char *s, long long min, long long max, long long *bytes,
    char *err, size_t errlen);

/* yes/no, true/false, on/off, 1/0, in any case -> 1 or 0. */
int parse_bool(const char *s, int *out, char *err, size_t errlen);

/* Octal permission bits, "0660" or "660", at most 07777. */
int parse_mode(const char *s, int *mode, char *err, size_t errlen);

/*
 * "TERM", "SIGTERM", "term" or "15" (1..PARSE_SIGNAL_MAX) -> signal number.
 */
int parse_signal(const char *s, int *sig, char *err, size_t errlen);

/* Signal number -> "TERM" (a static string), "?" when it has no name. */
const char *parse_signal_name(int sig);

#endif

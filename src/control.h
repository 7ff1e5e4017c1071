/* control.h: the control protocol: requests and answers, as lines of JSON. */
#ifndef BATON_CONTROL_H
#define BATON_CONTROL_H

#include <sys/types.h>
#include <stddef.h>
#include <ev.h>
#include <jansson.h>

/* The "v" of every message, each way. */
#define CONTROL_VERSION 1
/* A request line longer than this is refused and its client closed. */
#define CONTROL_REQUEST_MAX 65536

enum control_cmd {
	CONTROL_STATUS,
	CONTROL_RELOAD,
	CONTROL_SCALE,
	CONTROL_RETIRE,
	CONTROL_REOPEN,
	CONTROL_STOP,
	CONTROL_METRICS,
};

/* One request, as parsed from (or formatted into) a line. */
struct control_request {
	enum control_cmd cmd;
	int wait;     /* reload: answer once the outcome is known */
	int relative; /* scale: n is a change (+N, -N), not a count */
	long n;       /* scale: the count, or the change */
	int fast;     /* stop */
};

/*
 * Parse one request line (without its newline): a JSON object with "v":1,
 * "cmd" and the command's own members, nothing else. Returns 0, or -1 with
 * a reason in err. Pure: no I/O.
 */
int control_request_parse(const char *line, size_t len,
    struct control_request *req, char *err, size_t errlen);

/* The request as one line with its newline (malloc'd), or NULL. */
char *control_request_format(const struct control_request *req);

/* "4", "+1", "-2" -> a scale request. Returns 0, or -1 with a reason. */
int control_scale_parse(
    const char *s, struct control_request *req, char *err, size_t errlen);

/* The command's name ("status"), as on the wire. */
const char *control_cmd_name(enum control_cmd cmd);

/*
 * The status object (as the owner fills it for CONTROL_STATUS) in the
 * Prometheus text format. Returns a malloc'd string, or NULL.
 */
char *control_metrics(const json_t *status);

/* Client half (batonctl). */

/* Connect to the socket at path. Returns the fd, or -1 with err. */
int control_connect(const char *path, char *err, size_t errlen);

/*
 * Send req on fd and read the one-line answer, for at most timeout_s
 * seconds (0: no limit). Returns the parsed answer (checked to be an
 * object with "v" and "ok"), or NULL with a reason in err.
 */
json_t *control_call(int fd, const struct control_request *req,
    double timeout_s, char *err, size_t errlen);

#endif

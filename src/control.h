/* control.h: the control socket: batonctl's requests in, answers out. */
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
/* Clients at once; the next one is told "busy" and closed. */
#define CONTROL_CLIENTS_MAX 64
/* Seconds a client may take to send a whole line (or read our answer). */
#define CONTROL_IDLE_S 10.0

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

/*
 * What the control socket reports to its owner. request() is called for
 * each request of an authorised client, except that a reload is first
 * registered as waiting (see control_reload_begin). For status and metrics
 * the owner fills status (an empty object); for the others it acts. It
 * returns NULL, or an error message (copied) that becomes the reply.
 */
struct control_events {
	const char *(*request)(
	    const struct control_request *req, json_t *status, void *owner);
};

struct control_client;

/* The last reload the owner reported, for status. */
struct control_reload {
	int valid; /* a reload was reported once */
	int done;  /* its outcome is known */
	int ok;
	unsigned generation;
	ev_tstamp begun_at; /* wall clock (ev_time) */
	ev_tstamp took_s;
	char reason[512];
};

struct control {
	struct ev_loop *loop; /* ro: NULL until opened */
	int fd;               /* ro: the listening socket */
	char *path;           /* ro */
	dev_t dev;            /* ro: the path's inode once bound: removed at */
	ino_t ino;            /*     close only if it is still ours */
	uid_t uid;            /* ro: the master's effective uid */
	gid_t gid;            /* ro: control_group, when has_group */
	int has_group;
	ev_io io;
	struct control_client *clients; /* rw */
	int nclients;
	struct control_reload last; /* rw: the last reload */
	const struct control_events *events;
	void *owner;
	ev_tstamp log_at[8]; /* rate limit: last line per kind */
	unsigned long log_dropped[8];
};

/*
 * What is at path, for `baton -t`: nothing, or a socket (stale or live),
 * is fine. Anything else (a regular file, a directory, a symlink) is an
 * error that would stop the master at start. Returns 0, or -1 with err.
 */
int control_check_path(const char *path, char *err, size_t errlen);

/*
 * Listen on path: mode 0600, or 0660 with group gid (has_group). A stale
 * socket is replaced; a live one only with takeover (a new master after
 * USR2 replaces its old master's); never anything else, and never through
 * a symlink. Returns 0, or -1 with a reason in err (nothing left open).
 */
int control_open(struct control *c, struct ev_loop *loop, const char *path,
    int has_group, gid_t gid, int takeover, const struct control_events *ev,
    void *owner, char *err, size_t errlen);

/*
 * Close every client (a reload still awaited is answered "the master is
 * exiting") and the socket; the path is removed if it is still ours.
 * A no-op when not open.
 */
void control_close(struct control *c);

/*
 * The owner starts a reload: the clients that asked for one so far get
 * the outcome of this one (the next control_reload_done). Those that ask
 * later wait for the next begin.
 */
void control_reload_begin(struct control *c);

/*
 * The outcome of the reload begun last: ok with the generation now active,
 * or not with the reason exactly as logged.
 */
void control_reload_done(
    struct control *c, int ok, unsigned generation, const char *reason);

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

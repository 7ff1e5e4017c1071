/* control_server.h: the master's control socket: its path, clients, limits. */
#ifndef BATON_CONTROL_SERVER_H
#define BATON_CONTROL_SERVER_H

#include <sys/types.h>
#include <ev.h>
#include <jansson.h>

#include "control.h"

/* Clients at once; the next one is told "busy" and closed. */
#define CONTROL_CLIENTS_MAX 64
/* Seconds a client may take to send a whole line (or read our answer). */
#define CONTROL_IDLE_S 10.0

/*
 * What the control socket reports to its owner. request() is called for
 * each request of an authorised client, except that a reload is first
 * registered as waiting (see control_server_reload_begin). For status and
 * metrics the owner fills status (an empty object); for the others it acts. It
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

struct control_server {
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
int control_server_check_path(const char *path, char *err, size_t errlen);

/*
 * Listen on path: mode 0600, or 0660 with group gid (has_group). A stale
 * socket is replaced; a live one only with takeover (a new master after
 * USR2 replaces its old master's); never anything else, and never through
 * a symlink. Returns 0, or -1 with a reason in err (nothing left open).
 */
int control_server_open(struct control_server *c, struct ev_loop *loop,
    const char *path, int has_group, gid_t gid, int takeover,
    const struct control_events *ev, void *owner, char *err, size_t errlen);

/*
 * Close every client (a reload still awaited is answered "the master is
 * exiting") and the socket; the path is removed if it is still ours.
 * A no-op when not open.
 */
void control_server_close(struct control_server *c);

/*
 * The owner starts a reload: the clients that asked for one so far get
 * the outcome of this one (the next control_server_reload_done). Those that ask
 * later wait for the next begin.
 */
void control_server_reload_begin(struct control_server *c);

/*
 * The outcome of the reload begun last: ok with the generation now active,
 * or not with the reason exactly as logged.
 */
void control_server_reload_done(
    struct control_server *c, int ok, unsigned generation, const char *reason);

#endif

/* worker.h: one application process: fork/exec, signals, exit status. */
#ifndef BATON_WORKER_H
#define BATON_WORKER_H

#include <sys/types.h>
#include <ev.h>

#include "intercept.h"
#include "readiness.h"

struct config;
struct credentials;
struct listener;
struct worker;

enum worker_state {
	WORKER_STARTING, /* exec'd, readiness check running */
	WORKER_READY,    /* passed the check (and ready_delay) */
	WORKER_DRAINING, /* intercept_accept: accept() held, until idle */
	WORKER_STOPPING, /* stop signal sent, waiting for it to exit */
	WORKER_EXITED, /* reaped, or not started yet; may wait for a respawn */
};

/*
 * What a worker reports to its owner. Each call is the last thing the
 * worker does in that turn: the owner may free the worker in it.
 */
struct worker_events {
	void (*ready)(struct worker *w, void *owner);
	/* Reaped (status as from waitpid), or could not be spawned (127). */
	void (*exited)(struct worker *w, int status, void *owner);
	/* Not ready within ready_timeout. */
	void (*timeout)(struct worker *w, void *owner);
};

/*
 * What every worker of one generation shares, owned by the generation and
 * set before its first worker is made; workers only read it.
 */
struct worker_shared {
	struct ev_loop *loop; /* the default loop */
	unsigned generation;  /* BATON_GENERATION */
	struct config *cfg;
	struct listener **listeners; /* cfg order: fds 3, 4, ... */
	size_t nlisteners;
	const char *notify_socket;      /* NOTIFY_SOCKET, or NULL */
	const struct credentials *cred; /* user/group to switch to, or NULL */
	const struct worker_events *events;
	void *owner;
};

struct worker {
	const struct worker_shared *sh; /* ro */
	int index;                      /* ro: BATON_WORKER */
	pid_t pid;                      /* rw: 0 when not running */
	enum worker_state state;        /* rw: worker_set_state only */
	ev_tstamp started_at;
	ev_tstamp backoff_s; /* next respawn delay */
	int retired;         /* scaled away: do not respawn */
	int killed;          /* SIGKILL already sent */
	int restarts;        /* respawns after an exit */
	int last_status;     /* of the last exit, -1 before any */
	char label[48];      /* "generation 3 worker 0", for messages */
	char why[256];       /* why it failed to start, for the log */

	/* Readiness timeout, stop timeout or respawn delay, by state. */
	ev_timer deadline;
	struct readiness ready;
	/* intercept.c: seccomp interception, when configured. */
	struct intercept icpt;
};

const char *worker_state_name(enum worker_state s);

/* A worker in state EXITED, not started. */
struct worker *worker_new(const struct worker_shared *sh, int index);
void worker_free(struct worker *w);

/*
 * Fork and exec the generation's command. The worker is STARTING and its
 * readiness check runs. Failures before exec (fork, chdir, credentials,
 * exec) are logged with their reason; the child then exits 127 and is seen
 * like any other early exit. Returns 0, or -1 when nothing was started (the
 * reason is in w->why).
 */
int worker_spawn(struct worker *w);

/* Spawn again after delay_s (an EXITED worker of a serving generation). */
void worker_respawn_after(struct worker *w, ev_tstamp delay_s);

/* Send the stop signal; SIGKILL the process group after timeout_s. */
void worker_stop(struct worker *w, int sig, ev_tstamp timeout_s);

/*
 * Retire gracefully: stop_signal and stop_timeout. With intercept_accept, a
 * ready worker drains first (DRAINING) for at most stop_timeout, and gets
 * its stop signal once it holds no connection.
 */
void worker_retire(struct worker *w);

/* The drain is over (no connection left, or we cannot tell): stop it. */
void worker_drained(struct worker *w);

/* SIGKILL the worker's process group now. */
void worker_kill(struct worker *w);

/* The state machine's one transition function: checks and logs. */
void worker_set_state(struct worker *w, enum worker_state s);

/* The master reaped this worker: ends in events->exited. */
void worker_exited(struct worker *w, int status);

/* A READY=1 from this worker's process (ready = notify). */
void worker_notified(struct worker *w);

/* "exited with status 1", "killed by signal 9 (KILL)". */
void worker_describe_status(int status, char *buf, size_t len);

#endif

/* worker.h: one application process: fork/exec, signals, exit status. */
#ifndef BATON_WORKER_H
#define BATON_WORKER_H

#include <sys/types.h>
#include <ev.h>

#include "intercept.h"

struct generation;

enum worker_state {
	WORKER_STARTING, /* exec'd, readiness check running */
	WORKER_READY,	 /* passed the check (and ready_delay) */
	WORKER_DRAINING, /* intercept_accept: accept() held, until idle */
	WORKER_STOPPING, /* stop signal sent, waiting for it to exit */
	WORKER_EXITED,	 /* reaped; may wait for a respawn */
};

struct worker {
	struct generation *gen; /* ro */
	int index;		/* ro: BATON_WORKER */
	pid_t pid;		/* rw: 0 when not running */
	enum worker_state state;
	ev_tstamp started_at;
	ev_tstamp backoff_s; /* next respawn delay */
	int retired;	     /* scaled away: do not respawn */
	int killed;	     /* SIGKILL already sent */
	char why[256];	     /* why it failed to start, for the log */

	/* Readiness timeout, stop timeout or respawn delay, by state. */
	ev_timer deadline;
	/* readiness.c: probe retries, delay:, ready_delay settle. */
	ev_timer tick;
	ev_io probe_io;
	int probe_fd;
	int settling;
	ev_tstamp probe_started;
	size_t probe_len;
	char probe_buf[64];

	/* intercept.c: bind interception, when intercept_bind = yes. */
	struct intercept icpt;
};

const char *worker_state_name(enum worker_state s);

struct worker *worker_new(struct generation *gen, int index);
void worker_free(struct worker *w);

/*
 * Fork and exec the generation's command. The worker is STARTING and its
 * readiness check runs. Failures before exec (fork, chdir, credentials,
 * exec) are logged with their reason; the child then exits 127 and is seen
 * like any other early exit. Returns 0, or -1 when fork itself failed.
 */
int worker_spawn(struct worker *w);

/* Send the stop signal; SIGKILL the process group after timeout_s. */
void worker_stop(struct worker *w, int sig, ev_tstamp timeout_s);

/*
 * Retire gracefully: stop_signal and stop_timeout. With intercept_accept, a
 * ready worker drains first (DRAINING: see intercept_drain_start) for at
 * most stop_timeout, and gets its stop signal once it holds no connection.
 */
void worker_retire(struct worker *w);

/* The drain is over (no connection left, or we cannot tell): stop it. */
void worker_drained(struct worker *w);

/* SIGKILL the worker's process group now. */
void worker_kill(struct worker *w);

/* The state machine's one transition function: logs every change. */
void worker_set_state(struct worker *w, enum worker_state s);

/* Readiness reached (called by readiness.c after ready_delay). */
void worker_ready(struct worker *w);

/* The master reaped this worker. */
void worker_exited(struct worker *w, int status);

/* "exited with status 1", "killed by signal 9 (KILL)". */
void worker_describe_status(int status, char *buf, size_t len);

#endif

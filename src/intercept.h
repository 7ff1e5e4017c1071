/* intercept.h: intercept_bind: a worker's bind() gets the master's socket. */
/*
 * Owns one worker's seccomp notifier at run time: bind() to a configured
 * address answered by installing the master's socket (ADDFD with SETFD),
 * listen() and shutdown() on it answered without touching it, O_NONBLOCK
 * followed, and the accept() notifications handed to its drain (drain.c).
 * Takes a loop, a pid and the listeners from its owner and reports through
 * the owner's callbacks; must not know workers, generations or the master.
 */
#ifndef BATON_INTERCEPT_H
#define BATON_INTERCEPT_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#include "drain.h"
#include "seccomp.h"

struct config;
struct listener;

/* What a worker's filter sends to the master (seccomp_child_install). */
#define INTERCEPT_BIND   SECCOMP_TRAP_BIND   /* bind(), listen(), shutdown() */
#define INTERCEPT_ACCEPT SECCOMP_TRAP_ACCEPT /* accept(), accept4() */

/*
 * One worker's interception, embedded in its owner (struct worker), as a
 * libev watcher is. The owner sets the fields marked "owner" before each
 * intercept_start and keeps them valid until intercept_stop. The master
 * that spawned a worker serves its notifications until the worker's filter
 * has no process left (the filter outlives exec, and outlives an old
 * master's retirement after USR2: the old master keeps serving its own
 * workers). Bit i of the masks is listener i (64 at most,
 * CONFIG_LISTENERS_MAX).
 */
struct intercept {
	struct ev_loop *loop;              /* owner: ro */
	pid_t pid;                         /* owner: the worker */
	struct listener *const *listeners; /* owner: in config order */
	size_t nlisteners;                 /* owner */
	const struct config *cfg;          /* owner: [listen] names, for logs */
	char label[64]; /* owner: "generation 3 worker 0 pid 42", for logs */
	/*
	 * Every socket the worker bound is listening now (ready = listen);
	 * called at each listen() that leaves it so.
	 */
	void (*listened)(struct intercept *ic, void *owner);
	/* The drain is over (see drain.h); the owner stops the worker. */
	void (*drained)(struct intercept *ic, void *owner);
	void *owner;

	/* Private to intercept.c; reset by intercept_start. */
	int fd;               /* seccomp notify fd, -1 when not used (ro) */
	ev_io io;             /* readable: a notification is pending */
	uint64_t bound;       /* bit i: listener i installed by bind() */
	uint64_t listening;   /* bit i: listen() called on it after */
	uint64_t nonblock;    /* bit i: the caller wanted O_NONBLOCK */
	int nonblock_logged;  /* the O_NONBLOCK disagreement was logged */
	int shutdown_logged;  /* an ignored shutdown() was logged */
	int foreign_logged;   /* a foreign-ABI system call was logged */
	unsigned withdrawn;   /* notifications a signal took back (restarts) */
	unsigned recv_failed; /* receives failed since the last log line */
	ev_tstamp recv_logged_at; /* when that line was logged */
	struct drain drain;       /* intercept_accept (ro for the owner) */
};

/* The INTERCEPT_* a worker of cfg runs under, 0 for no filter at all. */
unsigned intercept_wanted(const struct config *cfg);

/*
 * Watch fd, the worker's notify fd (taken over, closed by intercept_stop):
 * resets the private state. ic->fd must be -1 (or a previous start's) when
 * first called.
 */
void intercept_start(struct intercept *ic, int fd);

/* Stop watching and close, end any drain (worker exit). */
void intercept_stop(struct intercept *ic);

/*
 * intercept_accept: the worker is being retired while serving: hold its
 * accept() calls and call drained() once it holds no connection (see
 * drain_start). The owner bounds the whole with stop_timeout.
 */
void intercept_drain_start(struct intercept *ic);

/*
 * The stop signal was sent (or the drain was cut short): held accept()
 * calls return EINTR, later ones on a listener EAGAIN (see drain_end).
 */
void intercept_drain_end(struct intercept *ic);

/* ---- pure helpers, exposed for the unit tests ---- */

/*
 * The listener among ls[0..n) whose address a bind() of the len bytes at sa
 * asks for (same family, address and port, or path), or -1. Port 0,
 * abstract and unnamed UNIX addresses never match.
 */
int intercept_match(
    struct listener *const *ls, size_t n, const void *sa, size_t len);

#endif

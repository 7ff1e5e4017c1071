/* master.h: the master process: reload, retire and shutdown orchestration. */
#ifndef BATON_MASTER_H
#define BATON_MASTER_H

#include <sys/types.h>
#include <ev.h>

#include "pidfile.h"
#include "readiness.h"
#include "sdnotify.h"

struct config;
struct generation;
struct listener;
struct worker;

enum master_state {
	MASTER_RUNNING,
	MASTER_STOPPING, /* QUIT/TERM/INT: waiting for workers */
};

struct master {
	struct ev_loop *loop;	  /* ro: the default loop */
	const char *config_path;  /* ro */
	const char *exe_path;	  /* ro: absolute, resolved at start (USR2) */
	char **argv;		  /* ro: to re-exec the same command line */
	pid_t upgrade_pid;	  /* rw: the new master a USR2 started */
	pid_t old_master;	  /* rw: the master we replaced, 0 if none */
	struct sdnotify sd;	  /* rw: systemd's NOTIFY_SOCKET */
	struct config *cfg;	  /* rw: the config in force */
	struct listener *listeners;	/* rw: every open socket */
	struct listener **active; /* rw: refs for cfg, cfg order */
	struct generation *generations; /* rw: all, newest first */
	struct generation *current; /* serving, NULL after WINCH */
	struct generation *next;    /* starting during a reload */
	unsigned last_id;
	int reload_pending; /* HUP during a reload: once more after it */
	int started;	    /* the first generation became ready once */
	enum master_state state;
	int stop_signals;   /* TERM/INT received */
	int exit_code;
	int scaled_workers; /* TTIN/TTOU count, 0: none */
	int scaled_base;    /* cfg->workers when it was scaled */
	struct pidfile pidfile;
	struct readiness_notify notify;
	ev_signal sig[9];
	ev_child child;
};

/*
 * Take ownership of cfg, open its listeners and pidfile, start the first
 * generation. Returns 0, or -1 with a reason in err (nothing left open).
 */
int master_init(struct master *m, struct ev_loop *loop, const char *path,
    const char *exe, char **argv, struct config *cfg, char *err,
    size_t errlen);

/* Run until shutdown; returns the exit code. */
int master_run(struct master *m);

/* Signal actions, also the future control-socket commands. */
void master_reload(struct master *m);
void master_retire(struct master *m);
void master_shutdown(struct master *m, int fast);
void master_scale(struct master *m, int delta);
void master_reopen(struct master *m);
void master_upgrade(struct master *m);

/* Start a generation of the config in force, without reading the file. */
void master_respawn(struct master *m);

/* Events from generations. */
void master_generation_ready(struct master *m, struct generation *g);
void master_generation_failed(struct master *m, struct generation *g,
    const char *why);
void master_generation_gone(struct master *m, struct generation *g);

struct worker *master_find_pid(struct master *m, pid_t pid);

#endif

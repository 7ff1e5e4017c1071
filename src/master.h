/* master.h: the master process: reload, retire and shutdown orchestration. */
#ifndef BATON_MASTER_H
#define BATON_MASTER_H

#include <sys/types.h>
#include <ev.h>

#include "control_server.h"
#include "notify.h"
#include "pidfile.h"
#include "sdnotify.h"
#include "signals.h"

struct config;
struct generation;
struct listener;

/*
 * Everything the master can be doing, one at a time; master_set_state is
 * the one place that changes it, rejects what the table does not allow and
 * logs "master: serving -> reloading". Whether a new master of ours runs
 * (upgrade_pid) or the master we replaced still does (old_master) are
 * facts about other processes, kept beside it.
 */
enum master_state {
	MASTER_STARTING,      /* the first generation is starting */
	MASTER_SERVING,       /* a generation serves, nothing in flight */
	MASTER_RELOADING,     /* a next generation is starting */
	MASTER_RELOAD_QUEUED, /* reloading, and a HUP came meanwhile */
	MASTER_UPGRADING,     /* our new master (USR2) runs; ours serve */
	MASTER_HANDED_OVER,   /* our new master runs; ours retired (WINCH) */
	MASTER_RETIRED,       /* no generation serves (WINCH) */
	MASTER_STOPPING,      /* QUIT/TERM/INT: waiting for every worker */
	MASTER_EXITED,        /* done; the loop ends */
};

/* What status and metrics count, since the master started. */
struct master_counters {
	unsigned long reloads_ok;          /* a next generation took over */
	unsigned long reloads_rejected;    /* config or listeners refused */
	unsigned long reloads_rolled_back; /* the next generation failed */
	unsigned long worker_crashes;      /* exits nobody asked for */
	unsigned long respawns;            /* crashes in a serving generation */
	unsigned long upgrades;            /* upgrades asked for (USR2) */
};

struct master {
	struct ev_loop *loop;       /* ro: the default loop */
	const char *config_path;    /* ro */
	const char *exe_path;       /* ro: absolute, resolved at start (USR2) */
	char **argv;                /* ro: to re-exec the same command line */
	enum master_state state;    /* rw: master_set_state only */
	ev_tstamp started_at;       /* ro */
	pid_t upgrade_pid;          /* rw: the new master a USR2 started */
	pid_t old_master;           /* ro: the master we replaced, 0 if none */
	struct sdnotify sd;         /* rw: systemd's NOTIFY_SOCKET */
	struct config *cfg;         /* rw: the config in force */
	struct listener *listeners; /* rw: every open socket */
	struct listener **active;   /* rw: refs for cfg, cfg order */
	struct generation *generations; /* rw: all, newest first */
	struct generation *current;     /* serving, NULL after WINCH */
	struct generation *next;        /* starting: the first, or a reload's */
	unsigned last_id;               /* the newest generation number used */
	int started;      /* a first generation became ready once */
	int stop_signals; /* TERM/INT received */
	int exit_code;
	int scaled_workers; /* TTIN/TTOU count, 0: none */
	int scaled_base;    /* cfg->workers when it was scaled */
	struct pidfile pidfile;
	struct notify notify;
	struct control_server ctl; /* rw: the control socket, if configured */
	struct master_counters counters;
	ev_signal sig[SIGNALS_COUNT];
	ev_child child;
	ev_idle step; /* runs master_step after events from below */
};

/* master_state.c */
const char *master_state_name(enum master_state s);
/* The one place that changes the state: 0, or -1 (refused, logged). */
int master_state_set(struct master *m, enum master_state s);
/* Where the master rests when no generation is starting. */
enum master_state master_state_settled(const struct master *m);
/* A generation is starting: the first one, or a reload's. */
int master_state_busy(const struct master *m);
/* Stopping or exited: no new work starts. */
int master_state_stopping(const struct master *m);

/*
 * Take ownership of cfg, open its listeners and pidfile, start the first
 * generation. Returns 0, or -1 with a reason in err (nothing left open).
 */
int master_init(struct master *m, struct ev_loop *loop, const char *path,
    const char *exe, char **argv, struct config *cfg, char *err, size_t errlen);

/* Run until shutdown; returns the exit code. */
int master_run(struct master *m);

/* The actions of the signals, and of the control socket's commands. */
void master_reload(struct master *m);
void master_retire(struct master *m);
void master_shutdown(struct master *m, int fast);
/* Returns the generation's new worker count, or -1 (ignored, logged). */
int master_scale(struct master *m, int delta);
void master_reopen(struct master *m);
void master_upgrade(struct master *m);

/* Start a generation of the config in force, without reading the file. */
void master_respawn(struct master *m);

/* master_control.c: the answers to the control socket's requests. */
extern const struct control_events master_control_events;

/* master_systemd.c: listeners into systemd's fd store (names the config
 * no longer gives to the same socket are removed first). */
void master_systemd_store_fds(
    struct master *m, const struct config *oldcfg, struct listener **oldset);
/* master_systemd.c: adopt systemd's sockets (activation, fd store). */
int master_systemd_adopt(struct master *m, char *err, size_t errlen);
/* master_systemd.c: no new master of ours runs, so we speak for the unit. */
int master_systemd_speaks(const struct master *m);
/* master_systemd.c: STATUS=what (with READY=1 when ready). */
void master_systemd_status_send(struct master *m, int ready, const char *what);
/* master_systemd.c: READY=1 and STATUS=what. */
void master_systemd_status(struct master *m, const char *what);

/* master_upgrade.c: the new master we started exited with status. */
void master_upgrade_exited(struct master *m, int status);
/* master_upgrade.c: in a new master, its first generation is ready. */
void master_upgrade_ready(struct master *m);

#endif

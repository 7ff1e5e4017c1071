/* generation.h: the workers started from one reading of the config. */
#ifndef BATON_GENERATION_H
#define BATON_GENERATION_H

#include <stddef.h>
#include <ev.h>

struct config;
struct listener;
struct master;
struct worker;

enum generation_state {
	GEN_STARTING, /* workers spawned, not all ready yet */
	GEN_ACTIVE,   /* serving; crashed workers are respawned */
	GEN_DRAINING, /* stop signal sent, waiting for every worker */
	GEN_GONE,     /* every worker reaped; about to be freed */
};

struct generation {
	struct master *master;	    /* ro */
	unsigned id;		    /* ro: BATON_GENERATION */
	enum generation_state state;
	struct config *cfg;	    /* ro: shared, see master_config_gc */
	struct listener **listeners; /* ro: refs, cfg order */
	size_t nlisteners;
	struct worker **workers;    /* rw: every process not yet reaped */
	size_t nworkers;
	int target;		    /* rw: workers wanted (TTIN/TTOU) */
	int failed;		    /* rolled back */
	struct generation *next;    /* master's list */
};

const char *generation_state_name(enum generation_state s);

struct generation *generation_new(struct master *m, unsigned id,
    struct config *cfg, struct listener **listeners, int target);
void generation_free(struct generation *g);

/* Spawn target workers; the generation is STARTING. */
void generation_start(struct generation *g);

/* Every state change goes through here, and is logged here. */
void generation_set_state(struct generation *g, enum generation_state s);

/*
 * Stop every worker: stop_signal and stop_timeout, or with fast, SIGTERM and
 * one second. The generation is DRAINING until its last worker is reaped.
 */
void generation_retire(struct generation *g, int fast);

/* SIGKILL every worker now. */
void generation_kill(struct generation *g);

/* One worker more (delta 1) or fewer (-1). Returns the new target. */
int generation_scale(struct generation *g, int delta);

/* Events from the workers. */
void generation_worker_ready(struct generation *g, struct worker *w);
void generation_worker_exited(struct generation *g, struct worker *w,
    int status);
void generation_worker_timeout(struct generation *g, struct worker *w);

/* Count of workers in a state, or all running processes with -1. */
int generation_count(const struct generation *g, int state);

struct worker *generation_find_pid(const struct generation *g, pid_t pid);

#endif

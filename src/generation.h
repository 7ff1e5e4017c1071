/* generation.h: the workers started from one reading of the config. */
#ifndef BATON_GENERATION_H
#define BATON_GENERATION_H

#include <stddef.h>
#include <ev.h>

#include "credentials.h"
#include "worker.h"

struct config;
struct generation;
struct listener;

enum generation_state {
	GEN_STARTING, /* workers spawned, not all ready yet */
	GEN_ACTIVE,   /* serving; crashed workers are respawned */
	GEN_FAILED,   /* a worker failed before all were ready; see why */
	GEN_DRAINING, /* stop signal sent, waiting for every worker */
	GEN_GONE,     /* every worker reaped; the owner frees it */
};

/*
 * What a generation reports to its owner. changed() only says "look at me":
 * every worker is ready (generation_all_ready), the generation FAILED, or it
 * is GONE. The owner acts later, from its own state, never inside the call.
 */
struct generation_events {
	void (*changed)(struct generation *g, void *owner);
};

struct generation {
	unsigned id;                 /* ro: BATON_GENERATION */
	enum generation_state state; /* rw: generation_set_state only */
	struct config *cfg;          /* ro: shared with the owner */
	struct listener **listeners; /* ro: refs, cfg order */
	size_t nlisteners;
	struct worker **workers; /* rw: every process not yet reaped */
	size_t nworkers;
	int target;              /* rw: workers wanted (TTIN/TTOU) */
	ev_tstamp started_at;    /* ro */
	char why[400];           /* FAILED: why it was rolled back */
	struct credentials cred; /* ro: its workers' user and group */
	struct worker_shared sh; /* ro: what its workers share */
	const struct generation_events *events;
	void *owner;
	struct generation *next; /* the owner's list */
};

const char *generation_state_name(enum generation_state s);

/*
 * A STARTING generation of cfg with target workers on listeners (cfg
 * order), none spawned yet. notify_socket: the NOTIFY_SOCKET for ready =
 * notify, or NULL. cred (may be NULL): what cfg's user and group resolved
 * to; the generation takes it over (*cred is left empty). Returns NULL
 * when out of memory (cred untouched).
 */
struct generation *generation_new(struct ev_loop *loop, unsigned id,
    struct config *cfg, struct listener **listeners, int target,
    const char *notify_socket, struct credentials *cred,
    const struct generation_events *events, void *owner);
void generation_free(struct generation *g);

/* Spawn target workers. A failure makes the generation FAILED. */
void generation_start(struct generation *g);

/* Every state change goes through here, is checked and logged here. */
void generation_set_state(struct generation *g, enum generation_state s);

/* STARTING and every worker is ready: the owner may promote it. */
int generation_all_ready(const struct generation *g);

/*
 * Stop every worker: stop_signal and stop_timeout, or with fast, SIGTERM and
 * one second. The generation is DRAINING until its last worker is reaped.
 */
void generation_retire(struct generation *g, int fast);

/* SIGKILL every worker now. */
void generation_kill(struct generation *g);

/* One worker more (delta 1) or fewer (-1). Returns the new target. */
int generation_scale(struct generation *g, int delta);

/* Count of workers in a state, or all running processes with -1. */
int generation_count(const struct generation *g, int state);

struct worker *generation_find_pid(const struct generation *g, pid_t pid);

#endif

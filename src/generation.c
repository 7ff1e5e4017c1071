/* generation.c: the workers started from one reading of the config. */
/*
 * Owns its workers: how many, their indexes, respawn with backoff, scaling,
 * and when the whole is ready, failed or gone. Reports to its owner (the
 * master) through struct generation_events; must not reach the master,
 * nor decide which generation serves.
 */
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "generation.h"
#include "log.h"
#include "worker.h"

/* sysexits.h's EX_CONFIG: the app says its configuration is wrong. */
#define GENERATION_EX_CONFIG     78
#define GENERATION_BACKOFF_MAX_S 60.0
#define GENERATION_STABLE_S      60.0

static const char *generation_state_names[] = {
    "starting", "active", "failed", "draining", "gone"};

static void generation_worker_ready(struct worker *w, void *owner);
static void generation_worker_exited(struct worker *w, int status, void *owner);
static void generation_worker_timeout(struct worker *w, void *owner);

static const struct worker_events generation_worker_events = {
    .ready = generation_worker_ready,
    .exited = generation_worker_exited,
    .timeout = generation_worker_timeout,
};

const char *
generation_state_name(enum generation_state s)
{
	return generation_state_names[s];
}

struct generation *
generation_new(struct ev_loop *loop, unsigned id, struct config *cfg,
    struct listener **listeners, int target, const char *notify_socket,
    struct credentials *cred, const struct generation_events *events,
    void *owner)
{
	struct generation *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->id = id;
	g->state = GEN_STARTING;
	g->cfg = cfg;
	g->listeners = listeners;
	g->nlisteners = cfg->nlisteners;
	g->target = target;
	g->started_at = ev_now(loop);
	g->events = events;
	g->owner = owner;
	g->sh.loop = loop;
	g->sh.generation = id;
	g->sh.cfg = cfg;
	g->sh.listeners = listeners;
	g->sh.nlisteners = cfg->nlisteners;
	g->sh.notify_socket = notify_socket;
	if (cred != NULL && cred->groups != NULL) {
		g->cred = *cred;
		memset(cred, 0, sizeof(*cred));
		g->sh.cred = &g->cred;
	}
	g->sh.events = &generation_worker_events;
	g->sh.owner = g;
	return g;
}

void
generation_free(struct generation *g)
{
	size_t i;

	for (i = 0; i < g->nworkers; i++)
		worker_free(g->workers[i]);
	free(g->workers);
	credentials_free(&g->cred);
	free(g);
}

/* Which transitions a generation can make: bit t of [s] allows s -> t. */
#define GEN_TO(s) (1u << (s))
static const unsigned generation_transitions[] = {
    [GEN_STARTING] =
        GEN_TO(GEN_ACTIVE) | GEN_TO(GEN_FAILED) | GEN_TO(GEN_DRAINING),
    [GEN_ACTIVE] = GEN_TO(GEN_DRAINING),
    [GEN_FAILED] = GEN_TO(GEN_DRAINING),
    [GEN_DRAINING] = GEN_TO(GEN_GONE),
    [GEN_GONE] = 0,
};

void
generation_set_state(struct generation *g, enum generation_state s)
{
	if (g->state == s)
		return;
	if (!(generation_transitions[g->state] & GEN_TO(s))) {
		log_warnx("generation %u: impossible transition %s -> %s, "
		          "ignored",
		    g->id, generation_state_name(g->state),
		    generation_state_name(s));
		return;
	}
	log_info("generation %u: %s -> %s", g->id,
	    generation_state_name(g->state), generation_state_name(s));
	g->state = s;
}

static struct worker *
generation_add_worker(struct generation *g, int index)
{
	struct worker **v, *w;

	v = realloc(g->workers, (g->nworkers + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	g->workers = v;
	if ((w = worker_new(&g->sh, index)) == NULL)
		return NULL;
	g->workers[g->nworkers++] = w;
	return w;
}

static void
generation_remove_worker(struct generation *g, struct worker *w)
{
	size_t i;

	for (i = 0; i < g->nworkers; i++) {
		if (g->workers[i] != w)
			continue;
		memmove(&g->workers[i], &g->workers[i + 1],
		    (g->nworkers - i - 1) * sizeof(*g->workers));
		g->nworkers--;
		break;
	}
	worker_free(w);
}

int
generation_count(const struct generation *g, int state)
{
	size_t i;
	int n = 0;

	for (i = 0; i < g->nworkers; i++) {
		if (state == -1 ? g->workers[i]->pid != 0
		                : (int)g->workers[i]->state == state)
			n++;
	}
	return n;
}

struct worker *
generation_find_pid(const struct generation *g, pid_t pid)
{
	size_t i;

	for (i = 0; i < g->nworkers; i++)
		if (g->workers[i]->pid == pid)
			return g->workers[i];
	return NULL;
}

/* Tell the owner to look at us (it acts later, not in this call). */
static void
generation_changed(struct generation *g)
{
	g->events->changed(g, g->owner);
}

/* A worker failed before every worker was ready: roll this one back. */
static void
generation_fail(struct generation *g, const char *why)
{
	if (g->state != GEN_STARTING)
		return;
	snprintf(g->why, sizeof(g->why), "%s", why);
	generation_set_state(g, GEN_FAILED);
	generation_changed(g);
}

/* DRAINING and no process left: GONE, for the owner to free. */
static void
generation_check_gone(struct generation *g)
{
	if (g->state != GEN_DRAINING || generation_count(g, -1) > 0)
		return;
	generation_set_state(g, GEN_GONE);
	generation_changed(g);
}

int
generation_all_ready(const struct generation *g)
{
	return g->state == GEN_STARTING &&
	       generation_count(g, WORKER_READY) == g->target;
}

void
generation_start(struct generation *g)
{
	struct worker *w;
	char why[300];
	int i;

	log_info("generation %u: starting %d worker%s: %s", g->id, g->target,
	    g->target == 1 ? "" : "s", g->cfg->command);
	for (i = 0; i < g->target; i++) {
		if ((w = generation_add_worker(g, i)) == NULL) {
			generation_fail(g, "out of memory");
			return;
		}
		if (worker_spawn(w) == -1) {
			snprintf(why, sizeof(why), "worker %d: %s", i, w->why);
			generation_fail(g, why);
			return;
		}
	}
}

void
generation_retire(struct generation *g, int fast)
{
	int sig = fast ? SIGTERM : g->cfg->stop_signal;
	ev_tstamp timeout = fast ? 1.0 : g->cfg->stop_timeout_ms / 1000.0;
	size_t i;

	generation_set_state(g, GEN_DRAINING);
	for (i = 0; i < g->nworkers;) {
		struct worker *w = g->workers[i];

		if (w->pid == 0) {
			/* Waiting for a respawn: nothing to stop. */
			generation_remove_worker(g, w);
			continue;
		}
		if (fast)
			worker_stop(w, sig, timeout);
		else
			worker_retire(w);
		i++;
	}
	generation_check_gone(g);
}

void
generation_kill(struct generation *g)
{
	size_t i;

	for (i = 0; i < g->nworkers; i++)
		worker_kill(g->workers[i]);
}

/* The lowest BATON_WORKER index no live, unretired worker holds. */
static int
generation_free_index(const struct generation *g)
{
	int index;
	size_t i;

	for (index = 0;; index++) {
		for (i = 0; i < g->nworkers; i++)
			if (!g->workers[i]->retired &&
			    g->workers[i]->index == index)
				break;
		if (i == g->nworkers)
			return index;
	}
}

int
generation_scale(struct generation *g, int delta)
{
	struct worker *w = NULL;
	size_t i;

	if (delta > 0) {
		g->target++;
		if ((w = generation_add_worker(g, generation_free_index(g))) ==
		    NULL) {
			g->target--;
			log_warnx("generation %u: out of memory", g->id);
		} else if (worker_spawn(w) == -1)
			generation_worker_exited(w, 127 << 8, g);
		return g->target;
	}
	if (g->target <= 1)
		return g->target;
	for (i = 0; i < g->nworkers; i++) {
		struct worker *c = g->workers[i];

		if (!c->retired && (w == NULL || c->index > w->index))
			w = c;
	}
	if (w == NULL)
		return g->target;
	g->target--;
	w->retired = 1;
	if (w->pid == 0)
		generation_remove_worker(g, w);
	else
		worker_retire(w);
	return g->target;
}

static void
generation_worker_ready(struct worker *w, void *owner)
{
	struct generation *g = owner;

	(void)w;
	if (generation_all_ready(g))
		generation_changed(g);
}

static void
generation_respawn(struct generation *g, struct worker *w)
{
	ev_tstamp delay;

	if (ev_now(g->sh.loop) - w->started_at >= GENERATION_STABLE_S)
		w->backoff_s = 1;
	delay = w->backoff_s;
	w->backoff_s *= 2;
	if (w->backoff_s > GENERATION_BACKOFF_MAX_S)
		w->backoff_s = GENERATION_BACKOFF_MAX_S;
	log_info("generation %u worker %d: respawning in %.0f s", g->id,
	    w->index, delay);
	worker_respawn_after(w, delay);
}

static void
generation_worker_exited(struct worker *w, int status, void *owner)
{
	struct generation *g = owner;
	char how[64], why[400];

	switch (g->state) {
	case GEN_STARTING:
		worker_describe_status(status, how, sizeof(how));
		snprintf(why, sizeof(why),
		    "worker %d %s before it was ready%s%s", w->index, how,
		    w->why[0] ? ": " : "", w->why);
		generation_fail(g, why);
		return;
	case GEN_ACTIVE:
		if (w->retired) {
			generation_remove_worker(g, w);
			return;
		}
		if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == GENERATION_EX_CONFIG) {
			log_warnx("generation %u worker %d: exit status 78 "
			          "(EX_CONFIG) means a configuration error: "
			          "not respawning it",
			    g->id, w->index);
			g->target--;
			generation_remove_worker(g, w);
			if (g->target == 0)
				log_warnx("generation %u: no worker left: "
				          "nothing accepts connections until "
				          "a reload (HUP) succeeds",
				    g->id);
			return;
		}
		generation_respawn(g, w);
		return;
	case GEN_FAILED:
		/* Its retirement is the owner's; nothing to respawn. */
		generation_remove_worker(g, w);
		return;
	case GEN_DRAINING:
		generation_remove_worker(g, w);
		generation_check_gone(g);
		return;
	case GEN_GONE:
		return;
	}
}

static void
generation_worker_timeout(struct worker *w, void *owner)
{
	struct generation *g = owner;
	char why[200];
	long ms = g->cfg->ready_timeout_ms;

	snprintf(why, sizeof(why),
	    "worker %d (pid %d) not ready after %ld.%03ld s", w->index,
	    (int)w->pid, ms / 1000, ms % 1000);
	if (g->state == GEN_FAILED)
		return; /* being rolled back already */
	if (g->state == GEN_STARTING) {
		generation_fail(g, why);
		return;
	}
	/* A respawned worker of the serving generation: try it again. */
	log_warnx("generation %u: %s, restarting it", g->id, why);
	worker_stop(w, g->cfg->stop_signal, g->cfg->stop_timeout_ms / 1000.0);
}

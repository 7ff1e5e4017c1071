/* master_state.c: the master's state machine: names, transitions, rest. */
/*
 * Owns the table of the transitions the master may make and the one
 * function that changes its state; decides nothing else. A change the table
 * does not allow is refused and logged, never made.
 */
#include "log.h"
#include "master.h"

static const char *master_state_names[] = {
    [MASTER_STARTING] = "starting",
    [MASTER_SERVING] = "serving",
    [MASTER_RELOADING] = "reloading",
    [MASTER_RELOAD_QUEUED] = "reload queued",
    [MASTER_UPGRADING] = "upgrading",
    [MASTER_HANDED_OVER] = "handed over",
    [MASTER_RETIRED] = "retired",
    [MASTER_STOPPING] = "stopping",
    [MASTER_EXITED] = "exited",
};

const char *
master_state_name(enum master_state s)
{
	return master_state_names[s];
}

/* Which transitions the master can make: bit t of [s] allows s -> t. */
#define TO(s) (1u << (s))
/* Where a reload or an upgrade settles (master_state_settled). */
#define SETTLED                                                                \
	(TO(MASTER_SERVING) | TO(MASTER_UPGRADING) | TO(MASTER_HANDED_OVER) |  \
	    TO(MASTER_RETIRED))
static const unsigned master_transitions[] = {
    [MASTER_STARTING] =
        SETTLED | TO(MASTER_RELOAD_QUEUED) | TO(MASTER_STOPPING),
    [MASTER_SERVING] = TO(MASTER_RELOADING) | TO(MASTER_UPGRADING) |
                       TO(MASTER_RETIRED) | TO(MASTER_STOPPING),
    [MASTER_RELOADING] =
        SETTLED | TO(MASTER_RELOAD_QUEUED) | TO(MASTER_STOPPING),
    [MASTER_RELOAD_QUEUED] = SETTLED | TO(MASTER_STOPPING),
    [MASTER_UPGRADING] = TO(MASTER_SERVING) | TO(MASTER_HANDED_OVER) |
                         TO(MASTER_RELOADING) | TO(MASTER_STOPPING),
    [MASTER_HANDED_OVER] = TO(MASTER_UPGRADING) | TO(MASTER_RETIRED) |
                           TO(MASTER_RELOADING) | TO(MASTER_STOPPING),
    [MASTER_RETIRED] =
        TO(MASTER_RELOADING) | TO(MASTER_HANDED_OVER) | TO(MASTER_STOPPING),
    [MASTER_STOPPING] = TO(MASTER_EXITED),
    [MASTER_EXITED] = 0,
};

/* The one place that changes the master's state. Returns 0, or -1. */
int
master_state_set(struct master *m, enum master_state s)
{
	if (m->state == s)
		return 0;
	if (!(master_transitions[m->state] & TO(s))) {
		log_warnx("master: impossible transition %s -> %s, ignored",
		    master_state_name(m->state), master_state_name(s));
		return -1;
	}
	log_info("master: %s -> %s", master_state_name(m->state),
	    master_state_name(s));
	m->state = s;
	return 0;
}

/* Where the master rests when no generation is starting. */
enum master_state
master_state_settled(const struct master *m)
{
	if (m->upgrade_pid != 0)
		return m->current ? MASTER_UPGRADING : MASTER_HANDED_OVER;
	return m->current ? MASTER_SERVING : MASTER_RETIRED;
}

/* A generation is starting: the first one, or a reload's. */
int
master_state_busy(const struct master *m)
{
	return m->state == MASTER_STARTING || m->state == MASTER_RELOADING ||
	       m->state == MASTER_RELOAD_QUEUED;
}

int
master_state_stopping(const struct master *m)
{
	return m->state == MASTER_STOPPING || m->state == MASTER_EXITED;
}

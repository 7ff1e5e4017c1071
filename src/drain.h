/* drain.h: intercept_accept: hold a retiring worker's accept() until idle. */
/*
 * Owns the accept() calls held unanswered, the stop-and-continue that
 * pulls an accept() already asleep in the kernel into the hold, the count
 * of connections the worker still holds, and the end of the drain. Takes a
 * pid, a notify fd and the listeners; must not know workers, generations
 * or the master: it reports through the callback its owner gave it.
 */
#ifndef BATON_DRAIN_H
#define BATON_DRAIN_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>

struct listener;

/* accept() calls of one draining worker held unanswered at once. */
#define DRAIN_HELD_MAX 16

enum drain_state {
	DRAIN_OFF,      /* serving: accept() goes on at once */
	DRAIN_HOLDING,  /* retiring: accept() on a listener is held */
	DRAIN_REFUSING, /* stop signal sent: accept() gets EAGAIN */
};

/*
 * One worker's drain, embedded in its owner (struct intercept). The owner
 * sets the fields marked "owner" before drain_init and keeps them valid
 * while the drain runs.
 */
struct drain {
	struct ev_loop *loop;              /* owner: ro */
	pid_t pid;                         /* owner: the worker, its group */
	int nfd;                           /* owner: notifier of held calls */
	struct listener *const *listeners; /* owner: the worker's sockets */
	size_t nlisteners;                 /* owner */
	const char *label;                 /* owner: for log lines */
	/*
	 * The drain is over: no connection left, or we cannot tell. Called
	 * from the drain's timer; the owner may call drain_end from it, but
	 * must not free the drain there.
	 */
	void (*drained)(struct drain *d, void *owner);
	void *owner;

	/* ro for the owner, for its log line once drained() came. */
	enum drain_state state;
	ev_tstamp started_at; /* when the drain began */
	int conns_at_start;   /* held when the watch began, -1: not looked */
	int conns_last;       /* at the last look, -1: could not look */

	/* Private. */
	uint64_t held[DRAIN_HELD_MAX]; /* ids of accept() calls held */
	size_t nheld;
	ev_timer timer;       /* the stop-and-continue, then the watch */
	int stopped;          /* SIGSTOP sent, SIGCONT not yet */
	int conns_err_logged; /* could not look at them: logged */
};

/* Resets the state (DRAIN_OFF, nothing held); the owner's fields stay. */
void drain_init(struct drain *d);

/*
 * The worker (serving) is being retired. From now on its accept() on one
 * of the listeners is held unanswered (drain_accept), so it takes no new
 * connection. Its process group is stopped and continued once, so that an
 * accept() already blocked in the kernel restarts through the filter and
 * is held too; then the connections it holds are looked at every 20 ms,
 * and drained() is called once none is left. The owner bounds the whole
 * with its stop_timeout.
 */
void drain_start(struct drain *d);

/*
 * The stop signal was sent (or the drain was cut short, or the worker is
 * gone): continue the group if it is still stopped, answer every held
 * accept() with EINTR, so that the app meets its signal there; any later
 * accept() on a listener gets EAGAIN (DRAIN_REFUSING).
 */
void drain_end(struct drain *d);

/*
 * Is an accept() on one of the listeners to be answered by the drain
 * (DRAIN_HOLDING or DRAIN_REFUSING) rather than let through?
 */
int drain_active(const struct drain *d);

/*
 * Call id is a pending accept() on one of the listeners, and the drain is
 * active: hold it (DRAIN_HOLDING, room left), else answer EAGAIN.
 */
void drain_accept(struct drain *d, uint64_t id);

/*
 * How many connections accepted from one of ls[0..n) (stream sockets whose
 * local address is a listener's) process pid holds, or -1 with errno set
 * (ptrace rules, or it is gone).
 */
int drain_connections(pid_t pid, struct listener *const *ls, size_t n);

#endif

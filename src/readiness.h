/* readiness.h: when is a worker ready: notify, delay, tcp and http checks. */
#ifndef BATON_READINESS_H
#define BATON_READINESS_H

#include <stddef.h>
#include <ev.h>

struct config;

/*
 * One worker's readiness check, embedded in struct worker. The owner fills
 * it with readiness_init and hears of success through reached(), called at
 * most once per readiness_start, after ready_delay; failure is the owner's
 * ready_timeout. Knows nothing of workers or generations.
 */
struct readiness {
	struct ev_loop *loop;     /* ro */
	const struct config *cfg; /* ro: ready, probe, ready_delay */
	const char *label;        /* ro: "generation 3 worker 0", for logs */
	void (*reached)(struct readiness *r, void *owner);
	void *owner;

	int running;   /* a check runs: started, not yet reached or stopped */
	int settling;  /* passed; waiting out ready_delay */
	ev_timer tick; /* probe retries, delay:, ready_delay */
	ev_io probe_io;
	int probe_fd;
	ev_tstamp probe_started;
	size_t probe_len;
	char probe_buf[64];
};

void readiness_init(struct readiness *r, struct ev_loop *loop,
    const struct config *cfg, const char *label,
    void (*reached)(struct readiness *, void *), void *owner);

/* Start the check for a freshly spawned process. */
void readiness_start(struct readiness *r);

/* Stop any check in progress (exit, stop, rollback). */
void readiness_stop(struct readiness *r);

/*
 * The process said it is ready (READY=1 for ready = notify, or listen() on
 * every socket for ready = listen): honours ready_delay, then reached().
 * Ignored when no check runs.
 */
void readiness_signal(struct readiness *r);

/*
 * An HTTP response's first bytes: 1 for a 2xx or 3xx status line, 0 for any
 * other or a malformed one, -1 while incomplete. Exposed for unit tests.
 */
int readiness_http_status(const char *buf, size_t len);

#endif

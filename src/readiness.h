/* readiness.h: when is a worker ready: notify, delay, tcp and http checks. */
#ifndef BATON_READINESS_H
#define BATON_READINESS_H

#include <ev.h>

struct master;
struct worker;

/*
 * The master's own NOTIFY_SOCKET for `ready = notify`: an abstract datagram
 * socket with SO_PASSCRED, so each READY=1 is matched to its sender's pid.
 * Never systemd's socket. Opened on first use.
 */
struct readiness_notify {
	int fd;		/* -1 until opened */
	char name[64];	/* "@baton/PID/notify" as given to workers */
	ev_io io;
};

int readiness_notify_open(struct master *m);
void readiness_notify_close(struct master *m);

/* Start the check for a freshly spawned worker; ends in worker_ready(). */
void readiness_start(struct worker *w);

/* Stop any check in progress (exit, stop, rollback). */
void readiness_stop(struct worker *w);

/* A READY=1 (or the settle after it) for w: honours ready_delay. */
void readiness_reached(struct worker *w);

#endif

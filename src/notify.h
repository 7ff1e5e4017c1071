/* notify.h: the master's own NOTIFY_SOCKET, for workers with ready = notify. */
#ifndef BATON_NOTIFY_H
#define BATON_NOTIFY_H

#include <sys/types.h>
#include <ev.h>

/*
 * An abstract datagram socket with SO_PASSCRED, so that each message is
 * matched to the pid that sent it. Never systemd's socket. Kernel-facing:
 * it knows pids and lines, nothing of generations or workers; the owner
 * decides what a line from a pid means.
 */
struct notify {
	int fd;        /* ro: -1 until opened */
	char name[32]; /* ro: "@XXXXX", the NOTIFY_SOCKET given to workers */
	ev_io io;
	struct ev_loop *loop;
	/* One line of a message from pid (newline removed). */
	void (*line)(pid_t pid, const char *line, void *owner);
	void *owner;
};

/* Ready to open; nothing is created yet. */
void notify_init(struct notify *n, struct ev_loop *loop,
    void (*line)(pid_t, const char *, void *), void *owner);

/*
 * Open the socket (once; later calls return 0). The kernel picks the
 * abstract name (autobind), so no local user can take it in advance and
 * two masters sharing a network namespace never collide. Returns 0, or -1
 * with errno set.
 */
int notify_open(struct notify *n);

void notify_close(struct notify *n);

#endif

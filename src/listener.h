/* listener.h: the master's listening sockets: bind once, reuse by address. */
#ifndef BATON_LISTENER_H
#define BATON_LISTENER_H

#include <stddef.h>

#include "address.h"

struct config;

/*
 * One open listening socket. The master keeps it open for as long as any
 * generation or the config in force refers to it (refs); a reload that keeps
 * the address keeps the very same socket, so no connection in its queue is
 * ever dropped.
 */
struct listener {
	struct address addr; /* ro */
	int fd;              /* ro: O_CLOEXEC, blocking */
	int v6only;          /* ro: part of the identity for IPv6 */
	int backlog;         /* rw: listen() is redone when it changes */
	int mode;            /* rw: UNIX sockets only, -1 unset */
	int unlink_path;     /* rw: remove the UNIX path when closing */
	int own_path;        /* ro: the path is ours (not systemd's) */
	int refs;            /* rw */
	char hint[65];       /* ro: adopted: the name it was passed under */
	const char *origin;  /* ro: adopted: "systemd", "the old master" */
	/* intercept.c: live intercepted workers that installed it wanting
	 * O_NONBLOCK, or not (the flag is shared: a change is worth a word). */
	int intercept_nonblock;
	int intercept_blocking;
	struct listener *next;
};

/*
 * For every [listen] section of cfg, take a reference on the open listener
 * with the same address (adjusting backlog and mode), or bind a new one.
 * On success *set is a malloc'd array of cfg->nlisteners pointers, in config
 * order. On failure nothing changes (sockets bound by this call are closed),
 * -1 is returned and err names the section, the address and the reason.
 */
int listener_acquire(struct listener **list, const struct config *cfg,
    struct listener ***set, char *err, size_t errlen);

/*
 * Adopt an open listening socket passed to us (systemd socket activation or
 * fd store, or the master we replace on USR2) under name (may be ""). It
 * joins list with no reference: the next listener_acquire gives it to the
 * [listen] section of that name, else to the one with its address. Returns
 * 0, or -1 with a reason (not a listening stream socket, unknown family).
 * With own_path, a UNIX socket's path is ours to remove at exit (passed by
 * the master we replace); systemd's sockets are systemd's to remove.
 */
int listener_adopt(struct listener **list, int fd, const char *name,
    const char *origin, int own_path, char *err, size_t errlen);

/* Close the adopted sockets no section took (logged). */
void listener_drop_unused(struct listener **list);

/* Drop the references of a set (and free it); close what nobody uses. */
void listener_release(struct listener **list, struct listener **set, size_t n);

/* Close every listener (master exit); UNIX paths we created are removed. */
void listener_close_all(struct listener **list);

#endif

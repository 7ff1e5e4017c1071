/* intercept.h: seccomp user-notify bind interception (intercept_bind). */
#ifndef BATON_INTERCEPT_H
#define BATON_INTERCEPT_H

#include <stddef.h>
#include <ev.h>

struct config;
struct worker;

/*
 * Per-worker interception state, embedded in struct worker. The master that
 * spawned a worker serves its notifications until the worker's filter has
 * no process left (the filter outlives exec, and outlives an old master's
 * retirement after USR2: the old master keeps serving its own workers).
 */
struct intercept {
	int fd;		       /* seccomp notify fd, -1 when not used */
	ev_io io;	       /* readable: a notification is pending */
	unsigned bound;	       /* bit i: listener i installed by bind() */
	unsigned listened;     /* bit i: listen() called on it after */
	int nonblock_logged;   /* the O_NONBLOCK disagreement was logged */
};

/*
 * Does this kernel have what intercept_bind needs (seccomp user
 * notification, SECCOMP_USER_NOTIF_FLAG_CONTINUE, SECCOMP_IOCTL_NOTIF_ADDFD
 * with SETFD: Linux 5.9), and is the architecture supported (x86_64,
 * aarch64)? Returns 0, or -1 with a message naming the missing feature and
 * the kernel version it needs. Used by `baton -t` and at start.
 */
int intercept_supported(char *err, size_t errlen);

/*
 * In the child between fork and exec (after the listeners are at 3..):
 * install the filter (bind, listen and shutdown go to the master; every
 * other syscall is allowed; other ABIs are killed) and send its notify fd
 * over sock with SCM_RIGHTS. Sets PR_SET_NO_NEW_PRIVS unless the process
 * has CAP_SYS_ADMIN. Returns 0, or -1 with errno set. Async-signal-safe.
 */
int intercept_child_install(int sock);

/*
 * In the parent: receive the notify fd the child sent over sock (blocks
 * until the child sent it or closed its end). Returns the fd (O_CLOEXEC),
 * or -1 with errno set (the child failed before sending: its exit tells
 * why).
 */
int intercept_receive(int sock);

/* Watch w's notify fd (takes ownership of fd). */
void intercept_start(struct worker *w, int fd);

/* Stop watching and close (worker exit). */
void intercept_stop(struct worker *w);

#endif

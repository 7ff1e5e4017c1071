/* intercept.h: seccomp user-notify bind interception (intercept_bind). */
#ifndef BATON_INTERCEPT_H
#define BATON_INTERCEPT_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>

struct config;
struct listener;
struct worker;

/* What a worker's filter sends to the master (intercept_child_install). */
#define INTERCEPT_BIND   0x1 /* bind(), listen(), shutdown() */
#define INTERCEPT_ACCEPT 0x2 /* accept(), accept4() */

/* accept() calls of one draining worker held unanswered at once. */
#define INTERCEPT_HELD_MAX 16

/*
 * Per-worker interception state, embedded in struct worker. The master that
 * spawned a worker serves its notifications until the worker's filter has
 * no process left (the filter outlives exec, and outlives an old master's
 * retirement after USR2: the old master keeps serving its own workers).
 * Bit i of the masks is listener i of the worker's generation (64 at most,
 * CONFIG_LISTENERS_MAX).
 */
struct intercept {
	int fd;              /* seccomp notify fd, -1 when not used */
	ev_io io;            /* readable: a notification is pending */
	uint64_t bound;      /* bit i: listener i installed by bind() */
	uint64_t listened;   /* bit i: listen() called on it after */
	uint64_t nonblock;   /* bit i: the caller wanted O_NONBLOCK */
	int nonblock_logged; /* the O_NONBLOCK disagreement was logged */
	int shutdown_logged; /* an ignored shutdown() was logged */
	int foreign_logged;  /* a foreign-ABI system call was logged */
	unsigned withdrawn;  /* notifications a signal took back (restarts) */

	/* intercept_accept: the drain of a retiring worker. */
	uint64_t held[INTERCEPT_HELD_MAX]; /* ids of accept() calls held */
	size_t nheld;
	ev_timer drain;       /* the stop-and-continue, then the watch */
	ev_tstamp drain_t0;   /* when the drain began */
	int stopped;          /* SIGSTOP sent, SIGCONT not yet */
	int conns_at_start;   /* connections held when the watch began */
	int conns_last;       /* at the last look */
	int conns_err_logged; /* could not look at them: logged */
};

/* The INTERCEPT_* a worker of cfg runs under, 0 for no filter at all. */
unsigned intercept_wanted(const struct config *cfg);

/*
 * intercept_accept: w (READY, now DRAINING) is being retired. From now on
 * its accept() on a baton listener is held unanswered, so it takes no new
 * connection. Its process group is stopped and continued once, so that an
 * accept() already blocked in the kernel restarts through the filter and is
 * held too; then the connections it holds are looked at every 20 ms, and
 * worker_drained(w) is called once none is left. The caller bounds the
 * whole with stop_timeout.
 */
void intercept_drain_start(struct worker *w);

/*
 * The stop signal was sent (or the drain was cut short): continue the
 * group if it is still stopped, answer every held accept() with EINTR, so
 * that the app sees its signal there; any later accept() on a baton
 * listener gets EAGAIN.
 */
void intercept_drain_end(struct worker *w);

/*
 * How many connections accepted from a baton listener (stream sockets
 * whose local address is one of the generation's listeners') the worker
 * process holds, or -1 with errno set (ptrace rules, or it is gone).
 */
int intercept_connections(const struct worker *w);

/*
 * Does this kernel have what intercept_bind needs (seccomp user
 * notification, SECCOMP_USER_NOTIF_FLAG_CONTINUE, pidfd_getfd,
 * SECCOMP_IOCTL_NOTIF_ADDFD with SETFD: Linux 5.9), is the architecture
 * supported (x86_64, aarch64), and may this process read a worker's memory
 * and descriptors (ptrace rules)? Probed in a short-lived child, so the
 * caller must not have a SIGCHLD watcher that would reap it. Returns 0, or
 * -1 with a message naming the missing feature and the kernel version it
 * needs. Used by `baton -t` and at start.
 */
int intercept_supported(char *err, size_t errlen);

/*
 * In the child between fork and exec (after the listeners are at 3..):
 * install the filter (with INTERCEPT_BIND, bind, listen and shutdown other
 * than SHUT_WR go to the master; with INTERCEPT_ACCEPT, accept and accept4;
 * every other system call is allowed; a system call of another ABI, such as
 * i386 on x86_64, goes to the master too, which refuses it and kills the
 * process) and send its notify fd over sock with SCM_RIGHTS. Sets
 * PR_SET_NO_NEW_PRIVS only when the kernel demands it (no CAP_SYS_ADMIN).
 * Returns 0, or -1 with errno set. Async-signal-safe.
 */
int intercept_child_install(int sock, unsigned what);

/*
 * In the parent: receive the notify fd the child sent over sock (blocks
 * until the child sent it or closed its end). Returns the fd (O_CLOEXEC),
 * or -1 with errno set (the child failed before sending: its exit tells
 * why).
 */
int intercept_receive(int sock);

/* Watch w's notify fd (takes ownership of fd); resets w's state. */
void intercept_start(struct worker *w, int fd);

/* Stop watching and close, end any drain (worker exit). */
void intercept_stop(struct worker *w);

/* ---- pure helpers, exposed for the unit tests ---- */

/*
 * The listener among ls[0..n) whose address a bind() of the len bytes at sa
 * asks for (same family, address and port, or path), or -1. Port 0,
 * abstract and unnamed UNIX addresses never match.
 */
int intercept_match(
    struct listener *const *ls, size_t n, const void *sa, size_t len);

/*
 * The "flags:" line of a /proc/PID/fdinfo/FD text (octal; O_CLOEXEC there
 * means FD_CLOEXEC). Returns 0, or -1 when there is none.
 */
int intercept_fdinfo_flags(const char *text, int *flags);

/* The "Tgid:" of a /proc/PID/status text, or -1. */
pid_t intercept_status_tgid(const char *text);

#endif

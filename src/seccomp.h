/* seccomp.h: the seccomp user-notify plumbing under bind interception. */
/*
 * Owns the BPF filter, its notify fd's trip from the child to the parent,
 * the notification ioctls (RECV, SEND, ID_VALID, ADDFD) and what may be
 * read of a caller (its memory, its descriptors, /proc). The kernel probe
 * is seccomp_probe.c's.
 * Knows system calls, pids and fds; must not know workers, generations or
 * the master, nor decide what a call means to them (intercept.c, drain.c).
 */
#ifndef BATON_SECCOMP_H
#define BATON_SECCOMP_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

struct listener;

/* What a filter sends to the master (seccomp_child_install). */
#define SECCOMP_TRAP_BIND   0x1 /* bind(), listen(), shutdown() but SHUT_WR */
#define SECCOMP_TRAP_ACCEPT 0x2 /* accept(), accept4() */

/* What a notification is, once its ABI and number are known. */
enum seccomp_call_kind {
	SECCOMP_CALL_OTHER, /* cannot happen with our filter: continue it */
	SECCOMP_CALL_BIND,
	SECCOMP_CALL_LISTEN,
	SECCOMP_CALL_SHUTDOWN,
	SECCOMP_CALL_ACCEPT,  /* accept() or accept4() */
	SECCOMP_CALL_FOREIGN, /* a system call of another ABI (i386, arm) */
};

/*
 * One notification, as received, and what was learnt about its caller.
 * Anything read about the caller (memory, /proc, its descriptors) is only
 * the caller's if seccomp_id_valid() says the call is still pending after
 * the reading: its tid could be someone else's by then.
 */
struct seccomp_call {
	int nfd;     /* the notifier it came from */
	uint64_t id; /* the kernel's cookie for the answer */
	enum seccomp_call_kind kind;
	uint32_t arch; /* audit arch, as the kernel reported it */
	int nr;        /* system call number, likewise */
	uint64_t args[6];
	pid_t tid;         /* calling thread in our pid namespace, or 0 */
	int callfd;        /* args[0] as an int: the socket */
	int dupfd;         /* seccomp_peek: our copy of it, or -1 */
	int fdflags;       /* seccomp_peek: its fdinfo flags, or -1 */
	const char *label; /* set by the receiver: for log lines */
};

/* The notification buffers: room for a kernel newer than our headers. */
#define SECCOMP_NOTIF_BUF 512

/* "x86_64", "aarch64": the only ABI the filter serves; NULL elsewhere. */
const char *seccomp_arch_name(void);

/* ---- the child's side, and the notify fd's way to the parent ---- */

/*
 * In the child between fork and exec (after the listeners are at 3..):
 * install the filter (what: SECCOMP_TRAP_*; every other system call is
 * allowed; a system call of another ABI, such as i386 on x86_64, is sent
 * too, to be refused) and send its notify fd over sock with SCM_RIGHTS.
 * Sets PR_SET_NO_NEW_PRIVS only when the kernel demands it (no
 * CAP_SYS_ADMIN). Returns 0, or -1 with errno set. Async-signal-safe.
 */
int seccomp_child_install(int sock, unsigned what);

/*
 * In the parent: receive the notify fd the child sent over sock (blocks
 * until the child sent it or closed its end). Returns the fd (O_CLOEXEC),
 * or -1 with errno set: the errno the child sent as an int instead of the
 * fd (the probe's child does), else ECONNRESET when it closed its end
 * without sending (a worker's exit then tells why).
 */
int seccomp_receive(int sock);

/* ---- notifications (the master's side) ---- */

/*
 * Receive one pending notification from nfd into c (dupfd and fdflags -1,
 * label NULL). Bounded in time (see seccomp.c's guard), so call it only
 * when poll() says one is pending. Returns 0, or -1 with errno: ENOENT or
 * EINTR when the notification was withdrawn (a signal took the call back;
 * it restarts), anything else when the notifier is unusable.
 */
int seccomp_recv(int nfd, struct seccomp_call *c);

/*
 * Answer call id on nfd: error (a negative errno, or 0 for success), or
 * with cont, let the kernel run the call as if nobody had looked. Returns
 * 0, or -1 (logged under label unless ENOENT: the caller was killed or
 * interrupted, and retries).
 */
int seccomp_respond(
    int nfd, uint64_t id, int error, int cont, const char *label);

/* seccomp_respond(c, 0, continue): what would have happened without us. */
void seccomp_continue(const struct seccomp_call *c);

/* Is call id still pending on nfd (its caller waiting for the answer)? */
int seccomp_id_valid(int nfd, uint64_t id);

/*
 * Take a copy of the caller's file behind c->callfd into c->dupfd, and
 * with want_flags its fdinfo flags (O_CLOEXEC there means FD_CLOEXEC)
 * into c->fdflags. Returns 0, or -1 when the caller's fd is not there or
 * cannot be read. seccomp_call_done closes the copy.
 */
int seccomp_peek(struct seccomp_call *c, int want_flags);

/* Closes what seccomp_peek opened. */
void seccomp_call_done(struct seccomp_call *c);

/*
 * Read len bytes at addr of the caller's memory into buf. Returns 0, or -1
 * with errno (EFAULT: the caller's bad pointer, the kernel will say so).
 */
int seccomp_read_mem(
    const struct seccomp_call *c, void *buf, uint64_t addr, size_t len);

/*
 * Install our srcfd at the caller's c->callfd (ADDFD with SETFD), with
 * O_CLOEXEC when cloexec; bounded in time like seccomp_recv. Returns 0, or
 * -1 with errno (EINTR: the caller did not run in time; ENOENT: withdrawn).
 */
int seccomp_addfd(const struct seccomp_call *c, int srcfd, int cloexec);

/* The thread group (process) of thread tid, from /proc, or -1. */
pid_t seccomp_tgid(pid_t tid);

/* A pidfd whose descriptor table is thread tid's, or -1 with errno. */
int seccomp_pidfd_open(pid_t tid);

/* Reads a small /proc file into buf (NUL-terminated); -1 on any error. */
int seccomp_read_proc(const char *path, char *buf, size_t len);

/* The index of the listener among ls[0..n) that is fd's very file, or -1. */
int seccomp_listener_of(int fd, struct listener *const *ls, size_t n);

/* ---- pure helpers, exposed for the unit tests ---- */

/*
 * The "flags:" line of a /proc/PID/fdinfo/FD text (octal; O_CLOEXEC there
 * means FD_CLOEXEC). Returns 0, or -1 when there is none.
 */
int seccomp_fdinfo_flags(const char *text, int *flags);

/* The "Tgid:" of a /proc/PID/status text, or -1. */
pid_t seccomp_status_tgid(const char *text);

#endif

/* seccomp.c: the seccomp user-notify plumbing under bind interception. */
/*
 * Owns the filter a worker runs under, the trip of its notify fd to the
 * master, the notification ioctls and what may be read of a caller (the
 * kernel probe is seccomp_probe.c's). It takes fds, pids and system calls;
 * it must not know workers, generations or the master, nor what a call
 * means to them: that is intercept.c's (bind, listen, shutdown) and
 * drain.c's (accept). The master is single-threaded, so nothing here may
 * block it for long: the ioctls that can wait for a caller run under a
 * short timer.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "seccomp.h"

extern char **environ;

#if defined(__x86_64__)
#define SECCOMP_ARCH      AUDIT_ARCH_X86_64
#define SECCOMP_ARCH_NAME "x86_64"
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_ARCH      AUDIT_ARCH_AARCH64
#define SECCOMP_ARCH_NAME "aarch64"
#endif

/*
 * x32 programs run with the x86_64 audit arch and this bit in the system
 * call number; their bind/listen/shutdown take the same arguments (pointers
 * zero-extended), so they are served like native ones. On aarch64 no number
 * has the bit: the comparisons never match.
 */
#define SECCOMP_X32_BIT 0x40000000U

/* Kernels newer than our headers may know these; older ones refuse them. */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* How long a RECV or ADDFD ioctl may hold the loop (see seccomp_guard). */
#define SECCOMP_GUARD_US 50000

/* Test hook: behave as on a kernel without WAIT_KILLABLE_RECV (< 5.19). */
#define SECCOMP_ENV_NO_KILLABLE "BATON_INTERCEPT_NO_KILLABLE"

#ifdef SECCOMP_ARCH
/* The low 32 bits of argument n: an int argument, whatever the upper half. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#else
#define SECCOMP_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#endif

/* The longest filter seccomp_filter_build writes. */
#define SECCOMP_FILTER_MAX 24

/*
 * The filter for what (SECCOMP_TRAP_*) into f; returns its length.
 * Async-signal-safe: it runs in the child before exec.
 *
 *	load arch; another ABI: notify
 *	load nr; each trapped call: notify
 *	shutdown: load how; SHUT_WR: allow, else notify
 *	allow
 *
 * shutdown(SHUT_WR) is let through without a round trip: it is what servers
 * do to every connection (Python's socketserver does it per request), and
 * on a listening socket it does nothing (inet_shutdown ignores it; on a UNIX
 * listener it only sets a flag that accept and connect never look at). A
 * system call of another ABI (i386 on x86_64, arm on aarch64) has other
 * numbers and a socketcall(): it goes to the master, which refuses it.
 */
static unsigned short
seccomp_filter_build(struct sock_filter *f, unsigned what)
{
	unsigned notify[8], shut[2], nn = 0, ns = 0, k, i, at_how, at_notify;

	if (what & SECCOMP_TRAP_BIND) {
		notify[nn++] = __NR_bind;
		notify[nn++] = __NR_listen;
		notify[nn++] = __NR_bind | SECCOMP_X32_BIT;
		notify[nn++] = __NR_listen | SECCOMP_X32_BIT;
		shut[ns++] = __NR_shutdown;
		shut[ns++] = __NR_shutdown | SECCOMP_X32_BIT;
	}
	if (what & SECCOMP_TRAP_ACCEPT) {
		notify[nn++] = __NR_accept;
		notify[nn++] = __NR_accept4;
		notify[nn++] = __NR_accept | SECCOMP_X32_BIT;
		notify[nn++] = __NR_accept4 | SECCOMP_X32_BIT;
	}
	/* After the loads and jumps, the first allow. */
	at_how = 3 + nn + ns + 1;
	at_notify = at_how + (ns > 0 ? 3 : 0);
	k = 0;
	f[k++] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SECCOMP_ARCH, 0, (unsigned char)(at_notify - k - 1));
	k++;
	f[k++] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (i = 0; i < nn; i++, k++)
		f[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    notify[i], (unsigned char)(at_notify - k - 1), 0);
	for (i = 0; i < ns; i++, k++)
		f[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    shut[i], (unsigned char)(at_how - k - 1), 0);
	f[k++] =
	    (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	if (ns > 0) {
		f[k++] = (struct sock_filter)BPF_STMT(
		    BPF_LD | BPF_W | BPF_ABS, SECCOMP_ARG_LO(1));
		f[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    SHUT_WR, 0, (unsigned char)(at_notify - k - 1));
		k++;
		f[k++] = (struct sock_filter)BPF_STMT(
		    BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	f[k++] = (struct sock_filter)BPF_STMT(
	    BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	return (unsigned short)k;
}

/* Async-signal-safe: environ is read without getenv's locale games. */
static int
seccomp_env_set(const char *name)
{
	size_t len = strlen(name);
	char **e;

	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=' &&
		    (*e)[len + 1] != '\0' && (*e)[len + 1] != '0')
			return 1;
	return 0;
}

/* Installs the filter on the calling thread; returns the notify fd. */
static int
seccomp_filter_install(unsigned what)
{
	struct sock_filter f[SECCOMP_FILTER_MAX];
	struct sock_fprog prog = {seccomp_filter_build(f, what), f};
	unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	int fd, nnp = 0;

	/*
	 * Once the master has received a notification, WAIT_KILLABLE_RECV
	 * keeps the caller's signals from aborting it halfway (Go sends
	 * SIGURG all the time): Linux 5.19. Without it every handler must be
	 * idempotent, and is.
	 */
	if (!seccomp_env_set(SECCOMP_ENV_NO_KILLABLE))
		flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	for (;;) {
		fd = (int)syscall(
		    SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
		if (fd >= 0)
			return fd;
		if (errno == EACCES && !nnp) {
			/* No CAP_SYS_ADMIN: the kernel wants NO_NEW_PRIVS. */
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
				return -1;
			nnp = 1;
		} else if (errno == EINVAL &&
		           (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
			flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		} else {
			return -1;
		}
	}
}

/* Sends fd over sock with one byte of data (SEQPACKET: 0 bytes is EOF). */
static int
seccomp_send_fd(int sock, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	char byte = 'f';
	struct iovec iov = {&byte, 1};
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	memset(&control, 0, sizeof(control));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}
#endif /* SECCOMP_ARCH */

const char *
seccomp_arch_name(void)
{
#ifdef SECCOMP_ARCH
	return SECCOMP_ARCH_NAME;
#else
	return NULL;
#endif
}

int
seccomp_child_install(int sock, unsigned what)
{
#ifdef SECCOMP_ARCH
	int fd, rc, saved;

	if ((fd = seccomp_filter_install(what)) == -1)
		return -1;
	rc = seccomp_send_fd(sock, fd);
	saved = errno;
	/* The app must never hold its own notifier. */
	close(fd);
	errno = saved;
	return rc;
#else
	(void)sock;
	(void)what;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Receives one message of at most len bytes into buf; returns the first
 * descriptor it carried (O_CLOEXEC) or -1, with the data length in *n (0:
 * the peer closed, -1: error in errno). Extra descriptors are closed.
 */
static int
seccomp_recv_fd(int sock, void *buf, size_t len, ssize_t *n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	struct iovec iov = {buf, len};
	struct msghdr msg;
	struct cmsghdr *c;
	int fds[4], fd = -1;
	size_t k, nfds;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	while ((*n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	       errno == EINTR)
		;
	if (*n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds > 4)
			nfds = 4;
		memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
		for (k = 0; k < nfds; k++) {
			if (fd == -1)
				fd = fds[k];
			else
				close(fds[k]);
		}
	}
	return fd;
}

int
seccomp_receive(int sock)
{
	ssize_t n;
	int fd, e = 0;

	fd = seccomp_recv_fd(sock, &e, sizeof(e), &n);
	if (fd != -1 || n == -1)
		return fd;
	/* A child that failed may have sent its errno as plain data. */
	if (n == (ssize_t)sizeof(e) && e > 0)
		errno = e;
	else
		errno = n == 0 ? ECONNRESET : EPROTO;
	return -1;
}

/* ---- the master's side ---- */

/*
 * A RECV with nothing to receive sleeps until a notification comes, and a
 * notification that poll() announced can be withdrawn by a signal to its
 * caller before we get to it; ADDFD waits for the caller to run. So each
 * such ioctl runs with a one-shot ITIMER_REAL armed: its SIGALRM, with a
 * handler installed without SA_RESTART, makes the ioctl fail with EINTR.
 * The master takes every other signal through libev, so this costs nothing
 * else; the itimer is not inherited by the workers we fork.
 */
static void
seccomp_alarm(int sig)
{
	(void)sig;
}

static int
seccomp_guarded_ioctl(int fd, unsigned long req, void *arg)
{
	static int handler_set;
	struct itimerval on = {{0, 0}, {0, SECCOMP_GUARD_US}};
	struct itimerval off = {{0, 0}, {0, 0}};
	struct sigaction sa;
	int rc, saved;

	if (!handler_set) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = seccomp_alarm;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0; /* no SA_RESTART: that is the point */
		if (sigaction(SIGALRM, &sa, NULL) == 0)
			handler_set = 1;
	}
	(void)setitimer(ITIMER_REAL, &on, NULL);
	rc = ioctl(fd, req, arg);
	saved = errno;
	(void)setitimer(ITIMER_REAL, &off, NULL);
	errno = saved;
	return rc;
}

int
seccomp_read_proc(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* What a notification of this ABI and number is under our filter. */
static enum seccomp_call_kind
seccomp_kind(uint32_t arch, int nr)
{
#ifdef SECCOMP_ARCH
	if (arch != SECCOMP_ARCH)
		return SECCOMP_CALL_FOREIGN;
	switch ((unsigned)nr & ~SECCOMP_X32_BIT) {
	case __NR_bind:
		return SECCOMP_CALL_BIND;
	case __NR_listen:
		return SECCOMP_CALL_LISTEN;
	case __NR_shutdown:
		return SECCOMP_CALL_SHUTDOWN;
	case __NR_accept:
	case __NR_accept4:
		return SECCOMP_CALL_ACCEPT;
	}
#else
	(void)arch;
	(void)nr;
#endif
	return SECCOMP_CALL_OTHER;
}

int
seccomp_recv(int nfd, struct seccomp_call *c)
{
	union {
		struct seccomp_notif n;
		char pad[SECCOMP_NOTIF_BUF];
	} req;

	/* The kernel insists on a zeroed buffer. */
	memset(&req, 0, sizeof(req));
	if (seccomp_guarded_ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == -1)
		return -1;
	memset(c, 0, sizeof(*c));
	c->nfd = nfd;
	c->id = req.n.id;
	c->arch = req.n.data.arch;
	c->nr = req.n.data.nr;
	memcpy(c->args, req.n.data.args, sizeof(c->args));
	/* 0: the caller is outside our pid namespace. */
	c->tid = (pid_t)req.n.pid;
	c->callfd = (int)(uint32_t)c->args[0];
	c->dupfd = -1;
	c->fdflags = -1;
	c->kind = seccomp_kind(c->arch, c->nr);
	return 0;
}

int
seccomp_respond(int nfd, uint64_t id, int error, int cont, const char *label)
{
	union {
		struct seccomp_notif_resp r;
		char pad[SECCOMP_NOTIF_BUF];
	} resp;

	memset(&resp, 0, sizeof(resp));
	resp.r.id = id;
	resp.r.error = error;
	resp.r.flags = cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0)
		return 0;
	/* ENOENT: the caller was killed or interrupted; it will retry. */
	if (errno != ENOENT)
		log_warn("%s: seccomp notification reply", label);
	return -1;
}

void
seccomp_continue(const struct seccomp_call *c)
{
	(void)seccomp_respond(c->nfd, c->id, 0, 1, c->label);
}

int
seccomp_id_valid(int nfd, uint64_t id)
{
	__u64 v = id;

	return ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &v) == 0;
}

pid_t
seccomp_tgid(pid_t tid)
{
	char path[64], buf[2048];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (seccomp_read_proc(path, buf, sizeof(buf)) == -1)
		return -1;
	return seccomp_status_tgid(buf);
}

int
seccomp_pidfd_open(pid_t tid)
{
	pid_t tgid;
	int fd;

	/* Linux 6.9 opens a thread directly. */
	if ((fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD)) != -1)
		return fd;
	/* Before: a thread-group leader opens as itself... */
	if ((fd = (int)syscall(SYS_pidfd_open, tid, 0)) != -1)
		return fd;
	/* ...any other thread through its leader. */
	if (errno != EINVAL || (tgid = seccomp_tgid(tid)) == -1)
		return -1;
	return (int)syscall(SYS_pidfd_open, tgid, 0);
}

int
seccomp_peek(struct seccomp_call *c, int want_flags)
{
	char path[64], buf[512];
	int pidfd;

	if (c->callfd < 0 || c->tid <= 0)
		return -1;
	if ((pidfd = seccomp_pidfd_open(c->tid)) == -1) {
		log_debug("%s: pidfd_open %d: %s", c->label, (int)c->tid,
		    strerror(errno));
		return -1;
	}
	c->dupfd = (int)syscall(SYS_pidfd_getfd, pidfd, c->callfd, 0);
	close(pidfd);
	if (c->dupfd == -1) {
		if (errno != EBADF)
			log_debug("%s: pidfd_getfd %d/%d: %s", c->label,
			    (int)c->tid, c->callfd, strerror(errno));
		return -1;
	}
	if (!want_flags)
		return 0;
	snprintf(
	    path, sizeof(path), "/proc/%d/fdinfo/%d", (int)c->tid, c->callfd);
	if (seccomp_read_proc(path, buf, sizeof(buf)) == -1 ||
	    seccomp_fdinfo_flags(buf, &c->fdflags) == -1)
		return -1;
	return 0;
}

void
seccomp_call_done(struct seccomp_call *c)
{
	if (c->dupfd != -1)
		close(c->dupfd);
	c->dupfd = -1;
}

int
seccomp_read_mem(
    const struct seccomp_call *c, void *buf, uint64_t addr, size_t len)
{
	struct iovec local = {buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	ssize_t n;

	if ((n = process_vm_readv(c->tid, &local, 1, &remote, 1, 0)) == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EFAULT;
		return -1;
	}
	return 0;
}

int
seccomp_addfd(const struct seccomp_call *c, int srcfd, int cloexec)
{
	struct seccomp_notif_addfd addfd;

	memset(&addfd, 0, sizeof(addfd));
	addfd.id = c->id;
	addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
	addfd.srcfd = (__u32)srcfd;
	addfd.newfd = (__u32)c->callfd;
	addfd.newfd_flags = cloexec ? O_CLOEXEC : 0;
	/* On success the ioctl returns the caller's new fd number. */
	if (seccomp_guarded_ioctl(c->nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) ==
	    -1)
		return -1;
	return 0;
}

int
seccomp_listener_of(int fd, struct listener *const *ls, size_t n)
{
	struct stat st, lst;
	size_t i;

	if (fd < 0 || fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	for (i = 0; i < n; i++)
		if (fstat(ls[i]->fd, &lst) == 0 && lst.st_dev == st.st_dev &&
		    lst.st_ino == st.st_ino)
			return (int)i;
	return -1;
}

/* ---- pure helpers ---- */

/*
 * The number after "key" at the start of a line of a /proc text, in base,
 * within [min, max] (the field ends at the number: blanks and the newline
 * follow it). Returns 0, or -1 when the line is missing or malformed.
 */
static int
seccomp_proc_number(
    const char *text, const char *key, int base, long min, long max, long *out)
{
	size_t klen = strlen(key);
	const char *p;
	char *end;
	long v;

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, key, klen) != 0)
			continue;
		errno = 0;
		v = strtol(p + klen, &end, base);
		if (errno != 0 || end == p + klen || v < min || v > max)
			return -1;
		*out = v;
		return 0;
	}
	return -1;
}

int
seccomp_fdinfo_flags(const char *text, int *flags)
{
	long v;

	if (seccomp_proc_number(text, "flags:", 8, 0, INT32_MAX, &v) == -1)
		return -1;
	*flags = (int)v;
	return 0;
}

pid_t
seccomp_status_tgid(const char *text)
{
	long v;

	if (seccomp_proc_number(text, "Tgid:", 10, 1, INT32_MAX, &v) == -1)
		return -1;
	return (pid_t)v;
}

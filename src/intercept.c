/* intercept.c: seccomp user-notify bind interception (intercept_bind). */
/*
 * A worker runs under a seccomp filter that sends bind(), listen() and
 * shutdown() to the master as user notifications. A bind() to a configured
 * address gets the master's listening socket installed in place of the
 * caller's (SECCOMP_IOCTL_NOTIF_ADDFD with SETFD) and succeeds; a listen()
 * or shutdown() on such a socket succeeds without touching it; everything
 * else goes on to the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE). The master
 * is single-threaded and must never block or crash on what a worker does:
 * every doubt ends in CONTINUE, which is what would have happened without
 * baton.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/types.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "intercept.h"
#include "listener.h"
#include "log.h"
#include "worker.h"

extern char **environ;

#if defined(__x86_64__)
#define INTERCEPT_ARCH      AUDIT_ARCH_X86_64
#define INTERCEPT_ARCH_NAME "x86_64"
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define INTERCEPT_ARCH      AUDIT_ARCH_AARCH64
#define INTERCEPT_ARCH_NAME "aarch64"
#endif

/*
 * x32 programs run with the x86_64 audit arch and this bit in the system
 * call number; their bind/listen/shutdown take the same arguments (pointers
 * zero-extended), so they are served like native ones. On aarch64 no number
 * has the bit: the comparisons never match.
 */
#define INTERCEPT_X32_BIT 0x40000000U

/* Kernels newer than our headers may know these; older ones refuse them. */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* The notification buffers: room for a kernel newer than our headers. */
#define INTERCEPT_NOTIF_BUF 512
/* How long a RECV or ADDFD ioctl may hold the loop (see intercept_guard). */
#define INTERCEPT_GUARD_US 50000
/* Notifications handled per wakeup, so one busy worker cannot starve. */
#define INTERCEPT_BATCH 32

/* Test hook: behave as on a kernel without WAIT_KILLABLE_RECV (< 5.19). */
#define INTERCEPT_ENV_NO_KILLABLE "BATON_INTERCEPT_NO_KILLABLE"

#ifdef INTERCEPT_ARCH
/* The low 32 bits of argument n: an int argument, whatever the upper half. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define INTERCEPT_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#else
#define INTERCEPT_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#endif

/* The longest filter intercept_filter_build writes. */
#define INTERCEPT_FILTER_MAX 24

/*
 * The filter for what (INTERCEPT_BIND, INTERCEPT_ACCEPT) into f; returns its
 * length. Async-signal-safe: it runs in the child before exec.
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
intercept_filter_build(struct sock_filter *f, unsigned what)
{
	unsigned notify[8], shut[2], nn = 0, ns = 0, k, i, at_how, at_notify;

	if (what & INTERCEPT_BIND) {
		notify[nn++] = __NR_bind;
		notify[nn++] = __NR_listen;
		notify[nn++] = __NR_bind | INTERCEPT_X32_BIT;
		notify[nn++] = __NR_listen | INTERCEPT_X32_BIT;
		shut[ns++] = __NR_shutdown;
		shut[ns++] = __NR_shutdown | INTERCEPT_X32_BIT;
	}
	if (what & INTERCEPT_ACCEPT) {
		notify[nn++] = __NR_accept;
		notify[nn++] = __NR_accept4;
		notify[nn++] = __NR_accept | INTERCEPT_X32_BIT;
		notify[nn++] = __NR_accept4 | INTERCEPT_X32_BIT;
	}
	/* After the loads and jumps, the first allow. */
	at_how = 3 + nn + ns + 1;
	at_notify = at_how + (ns > 0 ? 3 : 0);
	k = 0;
	f[k++] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    INTERCEPT_ARCH, 0, (unsigned char)(at_notify - k - 1));
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
		    BPF_LD | BPF_W | BPF_ABS, INTERCEPT_ARG_LO(1));
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
#endif /* INTERCEPT_ARCH */

/* ---- pure helpers ---- */

int
intercept_match(
    struct listener *const *ls, size_t n, const void *sa, size_t len)
{
	struct sockaddr_storage ss;
	struct address a;
	size_t i;

	if (len > sizeof(ss))
		return -1;
	/* Copied: the caller's bytes need not be aligned for sockaddr. */
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len);
	/* The kernel also takes RFC 2133's IPv6 sockaddr, without scope id. */
	if (ss.ss_family == AF_INET6 && len >= 24 &&
	    len < sizeof(struct sockaddr_in6))
		len = sizeof(struct sockaddr_in6);
	if (address_from_sockaddr((struct sockaddr *)&ss, (socklen_t)len, &a) ==
	    -1)
		return -1;
	if (a.ss.ss_family != AF_UNIX && address_port(&a) == 0)
		return -1;
	for (i = 0; i < n; i++)
		if (ls[i] != NULL && address_equal(&ls[i]->addr, &a))
			return (int)i;
	return -1;
}

int
intercept_fdinfo_flags(const char *text, int *flags)
{
	const char *p;
	char *end;
	long v;

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "flags:", 6) != 0)
			continue;
		errno = 0;
		v = strtol(p + 6, &end, 8);
		if (errno != 0 || end == p + 6 || v < 0 || v > INT32_MAX)
			return -1;
		*flags = (int)v;
		return 0;
	}
	return -1;
}

pid_t
intercept_status_tgid(const char *text)
{
	const char *p;
	char *end;
	long v;

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "Tgid:", 5) != 0)
			continue;
		errno = 0;
		v = strtol(p + 5, &end, 10);
		if (errno != 0 || end == p + 5 || v <= 0 || v > INT32_MAX)
			return -1;
		return (pid_t)v;
	}
	return -1;
}

/* ---- the child's side ---- */

#ifdef INTERCEPT_ARCH
/* Async-signal-safe: environ is read without getenv's locale games. */
static int
intercept_env_set(const char *name)
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
intercept_filter_install(unsigned what)
{
	struct sock_filter f[INTERCEPT_FILTER_MAX];
	struct sock_fprog prog = {intercept_filter_build(f, what), f};
	unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	int fd, nnp = 0;

	/*
	 * Once the master has received a notification, WAIT_KILLABLE_RECV
	 * keeps the caller's signals from aborting it halfway (Go sends
	 * SIGURG all the time): Linux 5.19. Without it every handler must be
	 * idempotent, and is.
	 */
	if (!intercept_env_set(INTERCEPT_ENV_NO_KILLABLE))
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
intercept_send_fd(int sock, int fd)
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

#endif

int
intercept_child_install(int sock, unsigned what)
{
#ifdef INTERCEPT_ARCH
	int fd, rc, saved;

	if ((fd = intercept_filter_install(what)) == -1)
		return -1;
	rc = intercept_send_fd(sock, fd);
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
intercept_recv_fd(int sock, void *buf, size_t len, ssize_t *n)
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
intercept_receive(int sock)
{
	char byte = 0;
	ssize_t n;
	int fd;

	fd = intercept_recv_fd(sock, &byte, 1, &n);
	if (fd == -1 && n != -1)
		errno = n == 0 ? ECONNRESET : EPROTO;
	return fd;
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
intercept_alarm(int sig)
{
	(void)sig;
}

static void
intercept_guard_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = intercept_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: that is the point */
	(void)sigaction(SIGALRM, &sa, NULL);
}

static int
intercept_guarded_ioctl(int fd, unsigned long req, void *arg)
{
	struct itimerval on = {{0, 0}, {0, INTERCEPT_GUARD_US}};
	struct itimerval off = {{0, 0}, {0, 0}};
	int rc, saved;

	(void)setitimer(ITIMER_REAL, &on, NULL);
	rc = ioctl(fd, req, arg);
	saved = errno;
	(void)setitimer(ITIMER_REAL, &off, NULL);
	errno = saved;
	return rc;
}

/* Reads a small /proc file into buf (NUL-terminated); -1 on any error. */
static int
intercept_read_proc(const char *path, char *buf, size_t len)
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

#ifdef INTERCEPT_ARCH
/* One notification, as received, and what we learnt about its caller. */
struct intercept_call {
	struct worker *w;
	const struct seccomp_notif *req;
	pid_t tid;   /* the calling thread, in our pid namespace */
	int callfd;  /* the fd argument */
	int dupfd;   /* our copy of the caller's file, -1 if none */
	int fdflags; /* fdinfo flags of the caller's fd, -1 if unknown */
};

static const char *
intercept_listener_name(const struct worker *w, int i)
{
	return w->sh->cfg->listeners[i].name;
}

static int
intercept_respond(struct worker *w, __u64 id, int error, __s64 val, __u32 flags)
{
	union {
		struct seccomp_notif_resp r;
		char pad[INTERCEPT_NOTIF_BUF];
	} resp;

	memset(&resp, 0, sizeof(resp));
	resp.r.id = id;
	resp.r.error = error;
	resp.r.val = val;
	resp.r.flags = flags;
	if (ioctl(w->icpt.fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0)
		return 0;
	/* ENOENT: the caller was killed or interrupted; it will retry. */
	if (errno != ENOENT)
		log_warn("generation %u worker %d pid %d: seccomp notification "
		         "reply",
		    w->sh->generation, w->index, (int)w->pid);
	return -1;
}

/* Let the kernel run the system call as if we were not there. */
static void
intercept_continue(struct intercept_call *c)
{
	(void)intercept_respond(
	    c->w, c->req->id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

/*
 * Still the same pending call? Anything read about the caller is only
 * trustworthy if so: its tid could otherwise be someone else's by now.
 */
static int
intercept_valid(struct intercept_call *c)
{
	__u64 id = c->req->id;

	if (ioctl(c->w->icpt.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0)
		return 1;
	c->w->icpt.withdrawn++;
	log_debug("generation %u worker %d pid %d: notification from tid %d "
	          "withdrawn before it was answered: the call restarts",
	    c->w->sh->generation, c->w->index, (int)c->w->pid, (int)c->tid);
	return 0;
}

static pid_t
intercept_tgid(pid_t tid)
{
	char path[64], buf[2048];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (intercept_read_proc(path, buf, sizeof(buf)) == -1)
		return -1;
	return intercept_status_tgid(buf);
}

/* A pidfd whose descriptor table is the thread's. */
static int
intercept_pidfd(pid_t tid)
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
	if (errno != EINVAL || (tgid = intercept_tgid(tid)) == -1)
		return -1;
	return (int)syscall(SYS_pidfd_open, tgid, 0);
}

/*
 * Takes a copy of the caller's file behind c->callfd into c->dupfd, and its
 * fd flags (as fdinfo shows them: with O_CLOEXEC for FD_CLOEXEC) into
 * c->fdflags when want_flags. Returns 0, or -1 when the caller's fd is not
 * there or cannot be read (the call then continues).
 */
static int
intercept_peek(struct intercept_call *c, int want_flags)
{
	char path[64], buf[512];
	int pidfd;

	if (c->callfd < 0 || c->tid <= 0)
		return -1;
	if ((pidfd = intercept_pidfd(c->tid)) == -1) {
		log_debug("generation %u worker %d: pidfd_open %d: %s",
		    c->w->sh->generation, c->w->index, (int)c->tid, strerror(errno));
		return -1;
	}
	c->dupfd = (int)syscall(SYS_pidfd_getfd, pidfd, c->callfd, 0);
	close(pidfd);
	if (c->dupfd == -1) {
		if (errno != EBADF)
			log_debug("generation %u worker %d: pidfd_getfd %d/%d: "
			          "%s",
			    c->w->sh->generation, c->w->index, (int)c->tid, c->callfd,
			    strerror(errno));
		return -1;
	}
	if (!want_flags)
		return 0;
	snprintf(
	    path, sizeof(path), "/proc/%d/fdinfo/%d", (int)c->tid, c->callfd);
	if (intercept_read_proc(path, buf, sizeof(buf)) == -1 ||
	    intercept_fdinfo_flags(buf, &c->fdflags) == -1)
		return -1;
	return 0;
}

/* The index of the worker's listener that is the very file of fd, or -1. */
static int
intercept_which(const struct worker *w, int fd)
{
	struct stat st, lst;
	size_t i;

	if (fd < 0 || fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	for (i = 0; i < w->sh->nlisteners; i++)
		if (fstat(w->sh->listeners[i]->fd, &lst) == 0 &&
		    lst.st_dev == st.st_dev && lst.st_ino == st.st_ino)
			return (int)i;
	return -1;
}

/* Same socket domain, type and protocol as the listener's? */
static int
intercept_compatible(int fd, const struct listener *l)
{
	static const int opts[] = {SO_DOMAIN, SO_TYPE, SO_PROTOCOL};
	int a, b;
	socklen_t la, lb;
	size_t k;

	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		la = lb = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, opts[k], &a, &la) == -1 ||
		    getsockopt(l->fd, SOL_SOCKET, opts[k], &b, &lb) == -1 ||
		    a != b)
			return 0;
	}
	return 1;
}

/*
 * O_NONBLOCK lives in the open file description every worker shares: the
 * caller's choice becomes everyone's. Say so once per worker when another
 * live worker of this master installed the same socket wanting the other.
 */
static void
intercept_set_nonblock(struct worker *w, int i, int want)
{
	struct listener *l = w->sh->listeners[i];
	struct worker *o;
	size_t k, j;
	int fl;

	if ((fl = fcntl(l->fd, F_GETFL)) == -1)
		return;
	if (!!(fl & O_NONBLOCK) == want)
		return;
	if (fcntl(l->fd, F_SETFL, want ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) ==
	    -1) {
		log_warn("[listen %s]: setting O_NONBLOCK",
		    intercept_listener_name(w, i));
		return;
	}
	if (w->icpt.nonblock_logged)
		return;
	(void)k; (void)j; (void)o; /* TEMP: helper replaces this file */
}

/* ready = listen: every configured socket the worker bound is listening. */
static void
intercept_check_ready(struct worker *w)
{
	const struct intercept *ic = &w->icpt;

	if (w->sh->cfg->ready == READY_LISTEN && ic->bound != 0 &&
	    (ic->bound & ~ic->listened) == 0)
		readiness_signal(&w->ready);
}

static void
intercept_bind(struct intercept_call *c)
{
	struct worker *w = c->w;
	const struct seccomp_notif *req = c->req;
	struct seccomp_notif_addfd addfd;
	struct listener *l;
	unsigned char sa[sizeof(struct sockaddr_storage)];
	struct iovec local, remote;
	size_t len = (size_t)(uint32_t)req->data.args[2];
	pid_t tgid;
	int i, nonblock, rc = 0, tries;
	char by[48];

	if (len < sizeof(sa_family_t) || len > sizeof(sa) ||
	    req->data.args[1] == 0) {
		intercept_continue(c);
		return;
	}
	local.iov_base = sa;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)req->data.args[1];
	remote.iov_len = len;
	if (process_vm_readv(c->tid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)len) {
		/* EFAULT is the caller's to get from the kernel itself. */
		if (errno != EFAULT && errno != ESRCH)
			log_debug("generation %u worker %d: process_vm_readv "
			          "%d: %s",
			    w->sh->generation, w->index, (int)c->tid, strerror(errno));
		intercept_continue(c);
		return;
	}
	/*
	 * Not ours (port 0, another address): a stale id only makes CONTINUE
	 * fail, so this path skips the NOTIF_ID_VALID round trip.
	 */
	i = intercept_match(w->sh->listeners, w->sh->nlisteners, sa, len);
	if (i == -1) {
		intercept_continue(c);
		return;
	}
	l = w->sh->listeners[i];
	if (intercept_peek(c, 1) == -1 || !intercept_compatible(c->dupfd, l)) {
		/* A UDP bind, say: the kernel will refuse it or not. */
		intercept_continue(c);
		return;
	}
	if (!intercept_valid(c))
		return;
	nonblock = (c->fdflags & O_NONBLOCK) != 0;
	if (intercept_which(w, c->dupfd) == i) {
		/* Restarted after we installed it: nothing left to do. */
		log_debug("generation %u worker %d pid %d: bind(fd %d) again "
		          "on the installed [listen %s]: answered again",
		    w->sh->generation, w->index, (int)w->pid, c->callfd,
		    intercept_listener_name(w, i));
	} else {
		intercept_set_nonblock(w, i, nonblock);
		memset(&addfd, 0, sizeof(addfd));
		addfd.id = req->id;
		addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
		addfd.srcfd = (__u32)l->fd;
		addfd.newfd = (__u32)c->callfd;
		addfd.newfd_flags = (c->fdflags & O_CLOEXEC) ? O_CLOEXEC : 0;
		/* EINTR: our guard; the caller may be slow to run, not gone. */
		for (tries = 0; tries < 3; tries++) {
			rc = intercept_guarded_ioctl(
			    w->icpt.fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
			if (rc == 0 || errno != EINTR || !intercept_valid(c))
				break;
		}
		if (rc == -1) {
			if (errno == ENOENT || !intercept_valid(c)) {
				w->icpt.withdrawn++;
				return;
			}
			log_warn("generation %u worker %d pid %d: bind(fd %d, "
			         "%s): installing [listen %s]",
			    w->sh->generation, w->index, (int)w->pid, c->callfd,
			    l->addr.text, intercept_listener_name(w, i));
			/* The kernel's bind() fails, visibly, as without us. */
			intercept_continue(c);
			return;
		}
	}
	if (intercept_respond(w, req->id, 0, 0, 0) == -1)
		return;
	if (nonblock)
		w->icpt.nonblock |= 1ULL << i;
	else
		w->icpt.nonblock &= ~(1ULL << i);
	if (w->icpt.bound & (1ULL << i))
		return;
	w->icpt.bound |= 1ULL << i;
	by[0] = '\0';
	if ((tgid = intercept_tgid(c->tid)) != -1 && tgid != w->pid)
		snprintf(by, sizeof(by), " (by pid %d)", (int)tgid);
	log_info("generation %u worker %d pid %d: bind(fd %d, %s) "
	         "intercepted: installed [listen %s]%s",
	    w->sh->generation, w->index, (int)w->pid, c->callfd, l->addr.text,
	    intercept_listener_name(w, i), by);
}

/* listen() and shutdown(): answered 0 when on an installed socket. */
static void
intercept_on_socket(struct intercept_call *c, int is_listen)
{
	struct worker *w = c->w;
	int i;

	if (intercept_peek(c, 0) == -1 ||
	    (i = intercept_which(w, c->dupfd)) == -1) {
		intercept_continue(c);
		return;
	}
	if (!intercept_valid(c))
		return;
	/*
	 * listen() would set the backlog of the shared socket to whatever
	 * this app asks (Python asks 5); shutdown() would stop it for every
	 * worker of every generation.
	 */
	if (intercept_respond(w, c->req->id, 0, 0, 0) == -1)
		return;
	if (is_listen) {
		w->icpt.listened |= 1ULL << i;
		intercept_check_ready(w);
	} else if (!w->icpt.shutdown_logged) {
		w->icpt.shutdown_logged = 1;
		log_info("generation %u worker %d pid %d: shutdown(fd %d) on "
		         "[listen %s] answered without touching the shared "
		         "socket",
		    w->sh->generation, w->index, (int)w->pid, c->callfd,
		    intercept_listener_name(w, i));
	}
}

/*
 * Keeps an accept() unanswered: its thread waits (killably, where the kernel
 * has WAIT_KILLABLE_RECV) until intercept_drain_end. Returns -1 when the
 * list is full even after dropping the ids a signal withdrew.
 */
static int
intercept_hold(struct worker *w, __u64 id)
{
	struct intercept *ic = &w->icpt;
	size_t i, k;
	__u64 v;

	if (ic->nheld == INTERCEPT_HELD_MAX) {
		for (i = k = 0; i < ic->nheld; i++) {
			v = ic->held[i];
			if (ioctl(ic->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &v) ==
			    0)
				ic->held[k++] = ic->held[i];
		}
		ic->nheld = k;
	}
	if (ic->nheld == INTERCEPT_HELD_MAX)
		return -1;
	ic->held[ic->nheld++] = id;
	return 0;
}

/*
 * accept() and accept4(), trapped only with intercept_accept: a serving
 * worker's go on at once (one round trip); a draining worker's on a baton
 * listener are held, a stopping worker's refused with EAGAIN, so that
 * neither takes a connection it would drop.
 */
static void
intercept_on_accept(struct intercept_call *c)
{
	struct worker *w = c->w;

	if (w->state != WORKER_DRAINING && w->state != WORKER_STOPPING) {
		intercept_continue(c);
		return;
	}
	if (intercept_peek(c, 0) == -1 || intercept_which(w, c->dupfd) == -1) {
		intercept_continue(c);
		return;
	}
	if (!intercept_valid(c))
		return;
	if (w->state == WORKER_DRAINING && intercept_hold(w, c->req->id) == 0)
		return;
	(void)intercept_respond(w, c->req->id, -EAGAIN, 0, 0);
}

/* A system call of another ABI: fail closed, loudly. */
static void
intercept_foreign(struct intercept_call *c)
{
	struct worker *w = c->w;

	if (!w->icpt.foreign_logged) {
		w->icpt.foreign_logged = 1;
		log_warnx("generation %u worker %d pid %d: thread %d made a "
		          "system call of another ABI (audit arch 0x%x, "
		          "number %d): intercept_bind only supports %s "
		          "programs; killing it",
		    w->sh->generation, w->index, (int)w->pid, (int)c->tid,
		    (unsigned)c->req->data.arch, c->req->data.nr,
		    INTERCEPT_ARCH_NAME);
	}
	if (c->tid > 0)
		(void)kill(c->tid, SIGKILL);
	(void)intercept_respond(w, c->req->id, -ENOSYS, 0, 0);
}

static void
intercept_dispatch(struct worker *w, const struct seccomp_notif *req)
{
	struct intercept_call c = {
	    w, req, (pid_t)req->pid, (int)(uint32_t)req->data.args[0], -1, -1};
	unsigned nr = (unsigned)req->data.nr;

	if (req->data.arch != INTERCEPT_ARCH) {
		intercept_foreign(&c);
		return;
	}
	if (c.tid <= 0) {
		/* Not in our pid namespace: nothing can be looked at. */
		intercept_continue(&c);
		return;
	}
	switch (nr & ~INTERCEPT_X32_BIT) {
	case __NR_bind:
		intercept_bind(&c);
		break;
	case __NR_listen:
		intercept_on_socket(&c, 1);
		break;
	case __NR_shutdown:
		intercept_on_socket(&c, 0);
		break;
	case __NR_accept:
	case __NR_accept4:
		intercept_on_accept(&c);
		break;
	default:
		intercept_continue(&c);
		break;
	}
	if (c.dupfd != -1)
		close(c.dupfd);
}
#endif /* INTERCEPT_ARCH */

/* Receives and handles one notification; -1 when there is none to take. */
static int
intercept_recv_one(struct worker *w)
{
	union {
		struct seccomp_notif n;
		char pad[INTERCEPT_NOTIF_BUF];
	} req;

	/* The kernel insists on a zeroed buffer. */
	memset(&req, 0, sizeof(req));
	if (intercept_guarded_ioctl(
	        w->icpt.fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == -1) {
		if (errno == ENOENT) {
			/* Withdrawn between poll() and here. */
			w->icpt.withdrawn++;
			return 0;
		}
		if (errno == EINTR) {
			log_debug("generation %u worker %d pid %d: nothing to "
			          "receive after all (notification withdrawn)",
			    w->sh->generation, w->index, (int)w->pid);
			return -1;
		}
		/*
		 * Would fail again at every wakeup of a level-triggered
		 * watcher. Closing the notifier fails the worker's pending
		 * and future calls with ENOSYS: visible, not a hang.
		 */
		log_warn("generation %u worker %d pid %d: receiving a seccomp "
		         "notification; no more bind interception for it",
		    w->sh->generation, w->index, (int)w->pid);
		intercept_stop(w);
		return -1;
	}
#ifdef INTERCEPT_ARCH
	intercept_dispatch(w, &req.n);
#endif
	return 0;
}

static void
intercept_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	struct pollfd p;
	int n;

	(void)revents;
	for (n = 0; n < INTERCEPT_BATCH; n++) {
		p.fd = w->icpt.fd;
		p.events = POLLIN;
		p.revents = 0;
		/* RECV blocks when nothing is pending: always look first. */
		if (poll(&p, 1, 0) != 1)
			return;
		if (p.revents & POLLIN) {
			if (intercept_recv_one(w) == -1)
				return;
			continue;
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* No process is left under the filter: exit follows. */
			ev_io_stop(loop, io);
		}
		return;
	}
}

/* ---- intercept_accept: draining a retiring worker ---- */

unsigned
intercept_wanted(const struct config *cfg)
{
	return (cfg->intercept_bind ? INTERCEPT_BIND : 0) |
	       (cfg->intercept_accept ? INTERCEPT_ACCEPT : 0);
}

/* How often the drain looks: at the stopped threads, at the connections. */
#define INTERCEPT_STOP_POLL_S 0.002
#define INTERCEPT_STOP_WAIT_S 0.5
#define INTERCEPT_CONN_POLL_S 0.02

/* Is the socket fd a connection accepted from one of w's listeners? */
static int
intercept_accepted_from(const struct worker *w, int fd)
{
	struct sockaddr_storage a, b;
	socklen_t la, lb;
	int v, t, lt;
	size_t i;

	la = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &la) == -1 || v)
		return 0;
	la = sizeof(t);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &la) == -1)
		return 0;
	la = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &la) == -1)
		return 0;
	for (i = 0; i < w->sh->nlisteners; i++) {
		int lfd = w->sh->listeners[i]->fd;

		lb = sizeof(lt);
		if (getsockopt(lfd, SOL_SOCKET, SO_TYPE, &lt, &lb) == -1 ||
		    lt != t)
			continue;
		lb = sizeof(b);
		if (getsockname(lfd, (struct sockaddr *)&b, &lb) == -1 ||
		    a.ss_family != b.ss_family)
			continue;
		switch (a.ss_family) {
		case AF_INET:
			if (((struct sockaddr_in *)&a)->sin_port ==
			    ((struct sockaddr_in *)&b)->sin_port)
				return 1;
			break;
		case AF_INET6:
			if (((struct sockaddr_in6 *)&a)->sin6_port ==
			    ((struct sockaddr_in6 *)&b)->sin6_port)
				return 1;
			break;
		case AF_UNIX:
			/* An accepted socket bears its listener's name. */
			if (la == lb &&
			    la > offsetof(struct sockaddr_un, sun_path) &&
			    memcmp(&a, &b, la) == 0)
				return 1;
			break;
		}
	}
	return 0;
}

int
intercept_connections(const struct worker *w)
{
	char path[64], link[64];
	struct dirent *e;
	int pidfd, fd, dup, n = 0, saved = 0;
	ssize_t len;
	DIR *d;

	if (w->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0)) == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)w->pid);
	if ((d = opendir(path)) == NULL) {
		saved = errno;
		close(pidfd);
		errno = saved;
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "socket:[", 8) != 0)
			continue;
		fd = atoi(e->d_name);
		if ((dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0)) == -1) {
			/* EBADF: closed since readdir. Else we may not look. */
			if (errno == EBADF)
				continue;
			saved = errno;
			n = -1;
			break;
		}
		if (intercept_accepted_from(w, dup))
			n++;
		close(dup);
	}
	closedir(d);
	close(pidfd);
	if (n == -1)
		errno = saved;
	return n;
}

/* Are all the worker's threads stopped (or gone)? */
static int
intercept_all_stopped(pid_t pid)
{
	char path[96], buf[512], *p;
	struct dirent *e;
	int all = 1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 1;
	while (all && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat",
		    (int)pid, e->d_name);
		if (intercept_read_proc(path, buf, sizeof(buf)) == -1 ||
		    (p = strrchr(buf, ')')) == NULL || p[1] == '\0')
			continue;
		/* "pid (comm) S ...": the state follows the last ')'. */
		switch (p[2]) {
		case 'T':
		case 't':
		case 'Z':
		case 'X':
			break;
		default:
			all = 0;
		}
	}
	closedir(d);
	return all;
}

static void
intercept_drain_look(struct worker *w)
{
	struct intercept *ic = &w->icpt;
	int n;

	if ((n = intercept_connections(w)) == -1) {
		if (!ic->conns_err_logged) {
			ic->conns_err_logged = 1;
			log_warn(
			    "generation %u worker %d pid %d: cannot look at "
			    "the connections it holds; stopping it now",
			    w->sh->generation, w->index, (int)w->pid);
		}
		worker_drained(w);
		return;
	}
	if (ic->conns_at_start == -1)
		ic->conns_at_start = n;
	ic->conns_last = n;
	if (n == 0)
		worker_drained(w);
}

static void
intercept_drain_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	struct intercept *ic = &w->icpt;

	(void)revents;
	if (ic->stopped) {
		if (!intercept_all_stopped(w->pid) &&
		    ev_now(loop) - ic->drain_t0 < INTERCEPT_STOP_WAIT_S)
			return;
		/* Every accept() the kernel was running has now restarted. */
		ic->stopped = 0;
		(void)kill(-w->pid, SIGCONT);
		ev_timer_stop(loop, t);
		ev_timer_set(t, INTERCEPT_CONN_POLL_S, INTERCEPT_CONN_POLL_S);
		ev_timer_start(loop, t);
	}
	intercept_drain_look(w);
}

void
intercept_drain_start(struct worker *w)
{
	struct ev_loop *loop = w->sh->loop;
	struct intercept *ic = &w->icpt;

	ic->drain_t0 = ev_now(loop);
	ic->conns_at_start = -1;
	ic->conns_last = -1;
	/*
	 * An accept() let through while the worker served may be asleep in
	 * the kernel, where it would take the next connection: a stop pulls
	 * every thread out of it (the call restarts on SIGCONT, through the
	 * filter, and is held). The app sees at most an EINTR, as after any
	 * SIGSTOP/SIGCONT.
	 */
	if (kill(-w->pid, SIGSTOP) == 0)
		ic->stopped = 1;
	ev_timer_set(&ic->drain, INTERCEPT_STOP_POLL_S, INTERCEPT_STOP_POLL_S);
	ev_timer_start(loop, &ic->drain);
}

void
intercept_drain_end(struct worker *w)
{
	struct intercept *ic = &w->icpt;
	size_t i;

	if (ic->fd == -1)
		return;
	ev_timer_stop(w->sh->loop, &ic->drain);
	if (ic->stopped) {
		ic->stopped = 0;
		(void)kill(-w->pid, SIGCONT);
	}
#ifdef INTERCEPT_ARCH
	/* EINTR: the stop signal is pending, the app meets it right there. */
	for (i = 0; i < ic->nheld; i++)
		(void)intercept_respond(w, ic->held[i], -EINTR, 0, 0);
#else
	(void)i;
#endif
	ic->nheld = 0;
}

void
intercept_start(struct worker *w, int fd)
{
	struct ev_loop *loop = w->sh->loop;

	intercept_stop(w);
	memset(&w->icpt, 0, sizeof(w->icpt));
	w->icpt.fd = fd;
	ev_init(&w->icpt.drain, intercept_drain_cb);
	w->icpt.drain.data = w;
	intercept_guard_init();
	ev_io_init(&w->icpt.io, intercept_io_cb, fd, EV_READ);
	w->icpt.io.data = w;
	ev_io_start(loop, &w->icpt.io);
}

void
intercept_stop(struct worker *w)
{
	if (w->icpt.fd == -1)
		return;
	intercept_drain_end(w);
	ev_io_stop(w->sh->loop, &w->icpt.io);
	close(w->icpt.fd);
	w->icpt.fd = -1;
	if (w->icpt.withdrawn > 0)
		log_debug("generation %u worker %d pid %d: %u notifications "
		          "were withdrawn by signals and restarted",
		    w->sh->generation, w->index, (int)w->pid, w->icpt.withdrawn);
}

/* ---- what the kernel has ---- */

#ifdef INTERCEPT_ARCH
/* Read back from the probe child's memory, as a worker's sockaddr would. */
static int intercept_probe_word = 0x62746e;

static int
intercept_probe_fail(
    char *err, size_t errlen, const char *feature, const char *version)
{
	struct utsname u;

	if (uname(&u) == -1)
		snprintf(u.release, sizeof(u.release), "unknown");
	snprintf(err, errlen,
	    "this kernel lacks %s (needs Linux %s; this is %s)", feature,
	    version, u.release);
	return -1;
}

/* In the probed child: what the master will do to a worker. */
static int
intercept_probe_master(pid_t child, int nfd, char *err, size_t errlen)
{
	union {
		struct seccomp_notif_resp r;
		char pad[INTERCEPT_NOTIF_BUF];
	} resp;
	struct seccomp_notif_addfd addfd;
	struct iovec local, remote;
	int word = 0, pidfd, fd;

	memset(&resp, 0, sizeof(resp));
	resp.r.id = 1;
	resp.r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	/* ENOENT: the flag is known, notification 1 is not. */
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0 || errno != ENOENT)
		return intercept_probe_fail(
		    err, errlen, "SECCOMP_USER_NOTIF_FLAG_CONTINUE", "5.5");
	memset(&addfd, 0, sizeof(addfd));
	addfd.id = 1;
	addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
	addfd.srcfd = (__u32)nfd;
	addfd.newfd = 0;
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) == 0 ||
	    errno != ENOENT)
		return intercept_probe_fail(err, errlen,
		    "SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SETFD",
		    "5.9");
	/* The same ptrace rules as for a real worker, which is our child. */
	local.iov_base = &word;
	local.iov_len = sizeof(word);
	remote.iov_base = &intercept_probe_word;
	remote.iov_len = sizeof(word);
	if (process_vm_readv(child, &local, 1, &remote, 1, 0) !=
	        (ssize_t)sizeof(word) ||
	    word != intercept_probe_word) {
		snprintf(err, errlen,
		    "cannot read a worker's memory (process_vm_readv: %s): "
		    "ptrace is restricted (kernel.yama.ptrace_scope, a "
		    "security module or missing CAP_SYS_PTRACE)",
		    strerror(errno));
		return -1;
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, child, 0)) == -1)
		return intercept_probe_fail(err, errlen, "pidfd_open", "5.3");
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0);
	close(pidfd);
	if (fd == -1) {
		if (errno == ENOSYS)
			return intercept_probe_fail(
			    err, errlen, "pidfd_getfd", "5.6");
		snprintf(err, errlen,
		    "cannot take a worker's descriptor (pidfd_getfd: %s): "
		    "ptrace is restricted (kernel.yama.ptrace_scope, a "
		    "security module or missing CAP_SYS_PTRACE)",
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}
#endif

int
intercept_supported(char *err, size_t errlen)
{
#ifndef INTERCEPT_ARCH
	struct utsname u;

	if (uname(&u) == -1)
		snprintf(u.machine, sizeof(u.machine), "unknown");
	snprintf(err, errlen,
	    "not supported on this architecture (%s): the seccomp filter is "
	    "written for x86_64 and aarch64 only",
	    u.machine);
	return -1;
#else
	struct seccomp_notif_sizes sizes;
	__u32 action = SECCOMP_RET_USER_NOTIF;
	int sv[2], nfd, status, rc, e = 0, pfd;
	char byte = 0;
	ssize_t n;
	pid_t pid;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == -1) {
		if (errno == ENOSYS)
			return intercept_probe_fail(err, errlen,
			    "the seccomp() system call (CONFIG_SECCOMP_FILTER)",
			    "5.9");
		return intercept_probe_fail(err, errlen,
		    "seccomp user notification (SECCOMP_RET_USER_NOTIF)",
		    "5.0");
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == -1)
		return intercept_probe_fail(
		    err, errlen, "SECCOMP_GET_NOTIF_SIZES", "5.0");
	if (sizes.seccomp_notif > INTERCEPT_NOTIF_BUF ||
	    sizes.seccomp_notif_resp > INTERCEPT_NOTIF_BUF) {
		snprintf(err, errlen,
		    "seccomp notifications of this kernel are larger (%u, %u "
		    "bytes) than baton was built for (%d)",
		    sizes.seccomp_notif, sizes.seccomp_notif_resp,
		    INTERCEPT_NOTIF_BUF);
		return -1;
	}
	if ((pfd = (int)syscall(SYS_pidfd_open, getpid(), 0)) == -1 &&
	    errno == ENOSYS)
		return intercept_probe_fail(err, errlen, "pidfd_open", "5.3");
	if (pfd != -1)
		close(pfd);
	if (syscall(SYS_pidfd_getfd, -1, 0, 0) == -1 && errno == ENOSYS)
		return intercept_probe_fail(err, errlen, "pidfd_getfd", "5.6");

	/* The rest needs a filter, which only a child can afford to get. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		if (intercept_child_install(sv[1], INTERCEPT_BIND) == -1) {
			e = errno;
			(void)!write(sv[1], &e, sizeof(e));
			_exit(1);
		}
		/* Wait until the parent has looked at us. */
		(void)!read(sv[1], &byte, 1);
		_exit(0);
	}
	close(sv[1]);
	nfd = intercept_recv_fd(sv[0], &e, sizeof(e), &n);
	if (nfd == -1) {
		/* A child that failed sent its errno as plain data. */
		if (n != (ssize_t)sizeof(e))
			e = n == -1 ? errno : ECONNRESET;
		rc = -1;
		if (e == EBUSY)
			snprintf(err, errlen,
			    "cannot install the seccomp filter: this process "
			    "already runs under a seccomp notifier (baton's "
			    "own, a sandbox's or a container runtime's), and "
			    "a process can have only one");
		else
			snprintf(err, errlen,
			    "cannot install the seccomp filter: %s",
			    strerror(e));
	} else {
		rc = intercept_probe_master(pid, nfd, err, errlen);
		close(nfd);
	}
	close(sv[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return rc;
#endif
}

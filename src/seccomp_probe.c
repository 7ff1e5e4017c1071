/* seccomp_probe.c: does this kernel have what bind interception needs? */
/*
 * Owns the probe and its remembered answer; uses seccomp.c's filter as a
 * worker would get it. Knows nothing of workers or the master. The probe
 * forks and waits for its child, so it runs before the event loop exists,
 * and the loop only ever reads the answer (seccomp_probe_result).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seccomp.h"
#include "seccomp_probe.h"

/* The answer of the probe: 0, -1 with seccomp_probe_err, or never run. */
#define SECCOMP_PROBE_NEVER (-2)
static int seccomp_probe_rc = SECCOMP_PROBE_NEVER;
static char seccomp_probe_err[512];

/* Read back from the probe child's memory, as a worker's sockaddr would. */
static int seccomp_probe_word = 0x62746e;

static int
seccomp_probe_fail(
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

/* "cannot take a worker's descriptor (pidfd_getfd: ...)": ptrace rules. */
static int
seccomp_probe_ptrace(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen,
	    "cannot %s: %s): ptrace is restricted (kernel.yama.ptrace_scope, "
	    "a security module or missing CAP_SYS_PTRACE)",
	    what, strerror(e));
	return -1;
}

/* On the probe child: what the master will do to a worker. */
static int
seccomp_probe_master(pid_t child, int nfd, char *err, size_t errlen)
{
	union {
		struct seccomp_notif_resp r;
		char pad[SECCOMP_NOTIF_BUF];
	} resp;
	struct seccomp_notif_addfd addfd;
	struct iovec local, remote;
	int word = 0, pidfd, fd;

	memset(&resp, 0, sizeof(resp));
	resp.r.id = 1;
	resp.r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	/* ENOENT: the flag is known, notification 1 is not. */
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0 || errno != ENOENT)
		return seccomp_probe_fail(
		    err, errlen, "SECCOMP_USER_NOTIF_FLAG_CONTINUE", "5.5");
	memset(&addfd, 0, sizeof(addfd));
	addfd.id = 1;
	addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
	addfd.srcfd = (__u32)nfd;
	addfd.newfd = 0;
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) == 0 ||
	    errno != ENOENT)
		return seccomp_probe_fail(err, errlen,
		    "SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SETFD",
		    "5.9");
	/* The same ptrace rules as for a real worker, which is our child. */
	local.iov_base = &word;
	local.iov_len = sizeof(word);
	remote.iov_base = &seccomp_probe_word;
	remote.iov_len = sizeof(word);
	if (process_vm_readv(child, &local, 1, &remote, 1, 0) !=
	        (ssize_t)sizeof(word) ||
	    word != seccomp_probe_word)
		return seccomp_probe_ptrace(err, errlen,
		    "read a worker's memory (process_vm_readv", errno);
	if ((pidfd = (int)syscall(SYS_pidfd_open, child, 0)) == -1)
		return seccomp_probe_fail(err, errlen, "pidfd_open", "5.3");
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0);
	close(pidfd);
	if (fd == -1) {
		if (errno == ENOSYS)
			return seccomp_probe_fail(
			    err, errlen, "pidfd_getfd", "5.6");
		return seccomp_probe_ptrace(err, errlen,
		    "take a worker's descriptor (pidfd_getfd", errno);
	}
	close(fd);
	return 0;
}

/* What needs no filter: the system calls and their sizes. */
static int
seccomp_probe_calls(char *err, size_t errlen)
{
	struct seccomp_notif_sizes sizes;
	__u32 action = SECCOMP_RET_USER_NOTIF;
	int pfd;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == -1) {
		if (errno == ENOSYS)
			return seccomp_probe_fail(err, errlen,
			    "the seccomp() system call (CONFIG_SECCOMP_FILTER)",
			    "5.9");
		return seccomp_probe_fail(err, errlen,
		    "seccomp user notification (SECCOMP_RET_USER_NOTIF)",
		    "5.0");
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == -1)
		return seccomp_probe_fail(
		    err, errlen, "SECCOMP_GET_NOTIF_SIZES", "5.0");
	if (sizes.seccomp_notif > SECCOMP_NOTIF_BUF ||
	    sizes.seccomp_notif_resp > SECCOMP_NOTIF_BUF) {
		snprintf(err, errlen,
		    "seccomp notifications of this kernel are larger (%u, %u "
		    "bytes) than baton was built for (%d)",
		    sizes.seccomp_notif, sizes.seccomp_notif_resp,
		    SECCOMP_NOTIF_BUF);
		return -1;
	}
	if ((pfd = (int)syscall(SYS_pidfd_open, getpid(), 0)) == -1 &&
	    errno == ENOSYS)
		return seccomp_probe_fail(err, errlen, "pidfd_open", "5.3");
	if (pfd != -1)
		close(pfd);
	if (syscall(SYS_pidfd_getfd, -1, 0, 0) == -1 && errno == ENOSYS)
		return seccomp_probe_fail(err, errlen, "pidfd_getfd", "5.6");
	return 0;
}

/* The rest needs a filter, which only a child can afford to get. */
static int
seccomp_probe_child(char *err, size_t errlen)
{
	int sv[2], nfd, status, rc, e = 0;
	char byte = 0;
	pid_t pid;

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
		if (seccomp_child_install(sv[1], SECCOMP_TRAP_BIND) == -1) {
			e = errno;
			(void)!write(sv[1], &e, sizeof(e));
			_exit(1);
		}
		/* Wait until the parent has looked at us. */
		(void)!read(sv[1], &byte, 1);
		_exit(0);
	}
	close(sv[1]);
	if ((nfd = seccomp_receive(sv[0])) == -1) {
		rc = -1;
		if (errno == EBUSY)
			snprintf(err, errlen,
			    "cannot install the seccomp filter: this process "
			    "already runs under a seccomp notifier (baton's "
			    "own, a sandbox's or a container runtime's), and "
			    "a process can have only one");
		else
			snprintf(err, errlen,
			    "cannot install the seccomp filter: %s",
			    strerror(errno));
	} else {
		rc = seccomp_probe_master(pid, nfd, err, errlen);
		close(nfd);
	}
	close(sv[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return rc;
}

int
seccomp_probe(char *err, size_t errlen)
{
	struct utsname u;

	seccomp_probe_err[0] = '\0';
	if (seccomp_arch_name() == NULL) {
		if (uname(&u) == -1)
			snprintf(u.machine, sizeof(u.machine), "unknown");
		snprintf(seccomp_probe_err, sizeof(seccomp_probe_err),
		    "not supported on this architecture (%s): the seccomp "
		    "filter is written for x86_64 and aarch64 only",
		    u.machine);
		seccomp_probe_rc = -1;
	} else {
		seccomp_probe_rc = seccomp_probe_calls(
		    seccomp_probe_err, sizeof(seccomp_probe_err));
		if (seccomp_probe_rc == 0)
			seccomp_probe_rc = seccomp_probe_child(
			    seccomp_probe_err, sizeof(seccomp_probe_err));
	}
	return seccomp_probe_result(err, errlen);
}

int
seccomp_probe_result(char *err, size_t errlen)
{
	if (seccomp_probe_rc == SECCOMP_PROBE_NEVER) {
		snprintf(err, errlen,
		    "the kernel was not probed for seccomp user notification "
		    "when baton started");
		return -1;
	}
	if (seccomp_probe_rc == -1)
		snprintf(err, errlen, "%s", seccomp_probe_err);
	return seccomp_probe_rc;
}

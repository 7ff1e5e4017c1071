/* check_sdnotify.c: unit tests for sd_notify, the fd store and activation. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "sdnotify.h"

/* A datagram socket standing in for systemd's notify socket. */
struct receiver {
	int fd;
	char dir[64];   /* temp dir of a path socket, "" for abstract */
	char name[128]; /* what NOTIFY_SOCKET says */
};

/* One received message. */
struct received {
	char data[8192];
	size_t len;
	pid_t pid; /* sender, from SCM_CREDENTIALS */
	int nfds;
	int fds[8];
};

static void
receiver_setup(struct receiver *r, int abstract)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {2, 0};
	socklen_t len;
	int on = 1;

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(r->fd, 0);
	if (abstract) {
		snprintf(r->name, sizeof(r->name), "@baton-check-%d-%ld",
		    (int)getpid(), (long)time(NULL));
		/* No NUL after the name: it would be part of it. */
		memcpy(sun.sun_path + 1, r->name + 1, strlen(r->name) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		                  strlen(r->name));
	} else {
		snprintf(r->dir, sizeof(r->dir), "/tmp/check_sdnotify.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(r->dir));
		snprintf(r->name, sizeof(r->name), "%s/notify", r->dir);
		strcpy(sun.sun_path, r->name);
		len = sizeof(sun);
	}
	ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&sun, len), 0);
	ck_assert_int_eq(
	    setsockopt(r->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	/* A missing message fails the test instead of hanging it. */
	ck_assert_int_eq(
	    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", r->name, 1), 0);
}

static void
receiver_teardown(struct receiver *r)
{
	char path[128];

	close(r->fd);
	if (r->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/notify", r->dir);
		unlink(path);
		rmdir(r->dir);
	}
	unsetenv("NOTIFY_SOCKET");
}

static void
receive(struct receiver *r, struct received *m, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		         CMSG_SPACE(sizeof(int) * 8)];
	} control;
	struct iovec iov = {m->data, sizeof(m->data)};
	struct msghdr mh = {0};
	struct cmsghdr *c;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	n = recvmsg(r->fd, &mh, MSG_CMSG_CLOEXEC | flags);
	ck_assert_msg(n >= 0, "recvmsg: %s", strerror(errno));
	ck_assert_int_eq(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
	m->len = (size_t)n;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			m->pid = cred.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			m->nfds =
			    (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(m->fds, CMSG_DATA(c), sizeof(int) * m->nfds);
		}
	}
}

/* The exact bytes, no trailing NUL, from us, with no fd. */
static void
assert_message(struct receiver *r, const char *want)
{
	struct received m;

	receive(r, &m, 0);
	ck_assert_uint_eq(m.len, strlen(want));
	ck_assert_mem_eq(m.data, want, m.len);
	ck_assert_int_eq(m.pid, getpid());
	ck_assert_int_eq(m.nfds, 0);
}

static void
assert_nothing_queued(struct receiver *r)
{
	char buf[16];

	ck_assert_int_eq(recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(test_open_unset)
{
	struct sdnotify sd;
	char err[256] = "";

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 0);
	ck_assert_int_eq(sd.fd, -1);
	ck_assert_int_eq(sdnotify_send(&sd, "READY=1"), 0);
	ck_assert_int_eq(sdnotify_reloading(&sd), 0);
	ck_assert_int_eq(sdnotify_store_fd(&sd, 0, "http"), 0);
	ck_assert_int_eq(sdnotify_remove_fd(&sd, "http"), 0);
	sdnotify_close(&sd);
	sdnotify_close(&sd); /* twice is harmless */
	ck_assert_int_eq(sd.fd, -1);

	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 0);
	ck_assert_int_eq(sd.fd, -1);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_open_bad)
{
	struct sdnotify sd;
	char err[512], name[256];

	setenv("NOTIFY_SOCKET", "run/notify", 1);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "NOTIFY_SOCKET=run/notify: not an absolute "
	                      "path nor an @abstract name");
	ck_assert_int_eq(sd.fd, -1);

	/* A path fills sun_path with its NUL: 107 bytes at most. */
	memset(name, 'a', sizeof(name));
	name[0] = '/';
	name[108] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ": name too long"));
	name[107] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 1);
	ck_assert_int_eq(sd.len, offsetof(struct sockaddr_un, sun_path) + 108);
	sdnotify_close(&sd);

	/* An abstract name has no NUL: 108 bytes with the '@'. */
	memset(name, 'b', sizeof(name));
	name[0] = '@';
	name[109] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ": name too long"));
	name[108] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 1);
	ck_assert_int_eq(sd.len, offsetof(struct sockaddr_un, sun_path) + 108);
	sdnotify_close(&sd);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

static void
check_send(int abstract)
{
	struct receiver r;
	struct sdnotify sd;
	char err[256];

	receiver_setup(&r, abstract);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 1);
	ck_assert_int_ge(sd.fd, 0);
	ck_assert_int_eq(fcntl(sd.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(sd.len, offsetof(struct sockaddr_un, sun_path) +
	                             strlen(r.name) + (abstract ? 0 : 1));
	/* The variable stays for a master started by USR2. */
	ck_assert_str_eq(getenv("NOTIFY_SOCKET"), r.name);

	ck_assert_int_eq(sdnotify_send(&sd,
	                     "READY=1\nSTATUS=%s; generation "
	                     "%u serving with %d workers",
	                     "started", 1u, 2),
	    0);
	assert_message(
	    &r, "READY=1\nSTATUS=started; generation 1 serving with 2 workers");
	ck_assert_int_eq(sdnotify_send(&sd, "STOPPING=1"), 0);
	assert_message(&r, "STOPPING=1");
	ck_assert_int_eq(sdnotify_send(&sd, "MAINPID=%d", 4242), 0);
	assert_message(&r, "MAINPID=4242");
	assert_nothing_queued(&r);
	sdnotify_close(&sd);
	ck_assert_int_eq(sd.fd, -1);
	receiver_teardown(&r);
}

START_TEST(test_send_path)
{
	check_send(0);
}
END_TEST

START_TEST(test_send_abstract)
{
	check_send(1);
}
END_TEST

START_TEST(test_send_errors)
{
	struct receiver r;
	struct sdnotify sd;
	char err[256], *big;

	receiver_setup(&r, 0);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 1);
	/* Longer than one message may be: refused, not truncated. */
	big = malloc(5000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	errno = 0;
	ck_assert_int_eq(sdnotify_send(&sd, "STATUS=%s", big), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	free(big);
	assert_nothing_queued(&r);
	/* Nobody listening any more. */
	receiver_teardown(&r);
	errno = 0;
	ck_assert_int_eq(sdnotify_send(&sd, "READY=1"), -1);
	ck_assert_msg(
	    errno == ENOENT || errno == ECONNREFUSED, "errno %d", errno);
	sdnotify_close(&sd);
}
END_TEST

START_TEST(test_reloading)
{
	struct receiver r;
	struct sdnotify sd;
	struct received m;
	struct timespec t0, t1;
	char err[256], want[64], *end;
	unsigned long long usec, lo, hi;

	receiver_setup(&r, _i);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 1);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_int_eq(sdnotify_reloading(&sd), 0);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	receive(&r, &m, 0);
	m.data[m.len] = '\0';
	ck_assert_int_eq(m.pid, getpid());
	ck_assert_int_eq(
	    strncmp(m.data, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	ck_assert(m.data[27] >= '1' && m.data[27] <= '9');
	errno = 0;
	usec = strtoull(m.data + 27, &end, 10);
	ck_assert_int_eq(errno, 0);
	ck_assert_msg(*end == '\0', "trailing bytes: \"%s\"", end);
	/* Exactly that, nothing more: no newline, no NUL. */
	snprintf(want, sizeof(want), "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
	ck_assert_uint_eq(m.len, strlen(want));
	lo = (unsigned long long)t0.tv_sec * 1000000 +
	     (unsigned long long)t0.tv_nsec / 1000;
	hi = (unsigned long long)t1.tv_sec * 1000000 +
	     (unsigned long long)t1.tv_nsec / 1000;
	ck_assert_msg(
	    lo <= usec && usec <= hi, "%llu not in [%llu, %llu]", usec, lo, hi);
	sdnotify_close(&sd);
	receiver_teardown(&r);
}
END_TEST

START_TEST(test_store_fd)
{
	struct receiver r;
	struct sdnotify sd;
	struct received m;
	struct stat a, b;
	char err[256], path[128], longname[300];
	int fd;

	receiver_setup(&r, _i);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 1);
	snprintf(
	    path, sizeof(path), "/tmp/check_sdnotify.fd.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(sdnotify_store_fd(&sd, fd, "http"), 0);
	receive(&r, &m, 0);
	ck_assert_uint_eq(m.len, strlen("FDSTORE=1\nFDNAME=http"));
	ck_assert_mem_eq(m.data, "FDSTORE=1\nFDNAME=http", m.len);
	ck_assert_int_eq(m.pid, getpid());
	ck_assert_int_eq(m.nfds, 1);
	ck_assert_int_ne(m.fds[0], fd);
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(fstat(m.fds[0], &b), 0);
	ck_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	close(m.fds[0]);
	/* Ours stays open: systemd got a duplicate. */
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	/* Names systemd would reject, with the fd: nothing is sent. */
	errno = 0;
	ck_assert_int_eq(sdnotify_store_fd(&sd, fd, ""), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sdnotify_store_fd(&sd, fd, "a:b"), -1);
	ck_assert_int_eq(sdnotify_store_fd(&sd, fd, "a\nFDSTORE=0"), -1);
	ck_assert_int_eq(sdnotify_store_fd(&sd, -1, "http"), -1);
	memset(longname, 'n', sizeof(longname));
	longname[256] = '\0';
	ck_assert_int_eq(sdnotify_store_fd(&sd, fd, longname), -1);
	assert_nothing_queued(&r);
	longname[255] = '\0';
	ck_assert_int_eq(sdnotify_store_fd(&sd, fd, longname), 0);
	receive(&r, &m, 0);
	ck_assert_uint_eq(m.len, strlen("FDSTORE=1\nFDNAME=") + 255);
	ck_assert_int_eq(m.nfds, 1);
	close(m.fds[0]);
	close(fd);
	sdnotify_close(&sd);
	receiver_teardown(&r);
}
END_TEST

START_TEST(test_remove_fd)
{
	struct receiver r;
	struct sdnotify sd;
	char err[256];

	receiver_setup(&r, _i);
	ck_assert_int_eq(sdnotify_open(&sd, err, sizeof(err)), 1);
	ck_assert_int_eq(sdnotify_remove_fd(&sd, "http"), 0);
	assert_message(&r, "FDSTOREREMOVE=1\nFDNAME=http");
	errno = 0;
	ck_assert_int_eq(sdnotify_remove_fd(&sd, "a:b"), -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_nothing_queued(&r);
	sdnotify_close(&sd);
	receiver_teardown(&r);
}
END_TEST

/*
 * Socket activation needs fds 3, 4, ... which Check itself may use (its
 * message file): they are set aside while a case runs, and no ck_assert may
 * run until they are back. A case records what it saw in struct activation.
 */
#define ACT_FDS 4

struct activation {
	int rc;
	struct sdnotify_fd *fds;
	char err[512];
	int cloexec[ACT_FDS]; /* FD_CLOEXEC of fds 3.. after the call */
	ino_t ino[ACT_FDS];   /* their inodes after the call, 0 if closed */
	int env_left;         /* how many of the three variables remain */
};

/* What each of fds 3.. is made during a case. */
enum act_kind { ACT_NONE, ACT_SOCKET, ACT_PIPE };

static void
activation_run(struct activation *a, const enum act_kind kind[ACT_FDS],
    const char *pid, const char *nfds, const char *names)
{
	int saved[ACT_FDS], savedflags[ACT_FDS], sp[2], p[2], i, fd;
	struct stat st;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < ACT_FDS; i++) {
		saved[i] = fcntl(3 + i, F_DUPFD_CLOEXEC, 100);
		savedflags[i] = fcntl(3 + i, F_GETFD);
		close(3 + i);
	}
	for (i = 0; i < ACT_FDS; i++) {
		fd = -1;
		if (kind[i] == ACT_SOCKET &&
		    socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0) {
			fd = sp[0];
			close(sp[1]);
		} else if (kind[i] == ACT_PIPE && pipe(p) == 0) {
			fd = p[0];
			close(p[1]);
		}
		/* dup2 leaves FD_CLOEXEC clear, as systemd passes them. */
		if (fd != -1 && fd != 3 + i) {
			dup2(fd, 3 + i);
			close(fd);
		}
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (pid != NULL)
		setenv("LISTEN_PID", pid, 1);
	if (nfds != NULL)
		setenv("LISTEN_FDS", nfds, 1);
	if (names != NULL)
		setenv("LISTEN_FDNAMES", names, 1);

	a->rc = sdnotify_listen_fds(&a->fds, a->err, sizeof(a->err));

	a->env_left = (getenv("LISTEN_PID") != NULL) +
	              (getenv("LISTEN_FDS") != NULL) +
	              (getenv("LISTEN_FDNAMES") != NULL);
	for (i = 0; i < ACT_FDS; i++) {
		a->cloexec[i] = fcntl(3 + i, F_GETFD);
		if (a->cloexec[i] != -1)
			a->cloexec[i] &= FD_CLOEXEC;
		a->ino[i] = fstat(3 + i, &st) == 0 ? st.st_ino : 0;
		close(3 + i);
		if (saved[i] != -1) {
			dup2(saved[i], 3 + i);
			fcntl(3 + i, F_SETFD, savedflags[i]);
			close(saved[i]);
		}
	}
}

static char *
mypid(void)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	return buf;
}

START_TEST(test_listen_fds_names)
{
	static const enum act_kind kind[ACT_FDS] = {
	    ACT_SOCKET, ACT_SOCKET, ACT_NONE, ACT_NONE};
	struct activation a;

	activation_run(&a, kind, mypid(), "2", "http:admin");
	ck_assert_msg(a.rc == 2, "rc %d: %s", a.rc, a.err);
	ck_assert_ptr_nonnull(a.fds);
	ck_assert_int_eq(a.fds[0].fd, 3);
	ck_assert_str_eq(a.fds[0].name, "http");
	ck_assert_int_eq(a.fds[1].fd, 4);
	ck_assert_str_eq(a.fds[1].name, "admin");
	ck_assert_int_eq(a.cloexec[0], FD_CLOEXEC);
	ck_assert_int_eq(a.cloexec[1], FD_CLOEXEC);
	ck_assert_int_eq(a.cloexec[2], -1); /* nothing else opened */
	ck_assert_int_eq(a.env_left, 0);
	free(a.fds);
}
END_TEST

START_TEST(test_listen_fds_no_names)
{
	static const enum act_kind kind[ACT_FDS] = {
	    ACT_SOCKET, ACT_SOCKET, ACT_SOCKET, ACT_NONE};
	struct activation a;

	activation_run(&a, kind, mypid(), "3", NULL);
	ck_assert_msg(a.rc == 3, "rc %d: %s", a.rc, a.err);
	ck_assert_str_eq(a.fds[0].name, "");
	ck_assert_str_eq(a.fds[1].name, "");
	ck_assert_str_eq(a.fds[2].name, "");
	ck_assert_int_eq(a.fds[2].fd, 5);
	ck_assert_int_eq(a.cloexec[2], FD_CLOEXEC);
	ck_assert_int_eq(a.env_left, 0);
	free(a.fds);

	/* Empty names are names too, as long as there are as many. */
	activation_run(&a, kind, mypid(), "3", "::x");
	ck_assert_msg(a.rc == 3, "rc %d: %s", a.rc, a.err);
	ck_assert_str_eq(a.fds[0].name, "");
	ck_assert_str_eq(a.fds[1].name, "");
	ck_assert_str_eq(a.fds[2].name, "x");
	free(a.fds);
}
END_TEST

START_TEST(test_listen_fds_not_ours)
{
	static const enum act_kind kind[ACT_FDS] = {
	    ACT_SOCKET, ACT_NONE, ACT_NONE, ACT_NONE};
	struct activation a;
	char other[32];

	/* Another process's: 0, and neither fds nor variables touched. */
	snprintf(other, sizeof(other), "%d", (int)getpid() + 1);
	activation_run(&a, kind, other, "1", "http");
	ck_assert_int_eq(a.rc, 0);
	ck_assert_ptr_null(a.fds);
	ck_assert_int_eq(a.cloexec[0], 0);
	ck_assert_int_eq(a.env_left, 3);

	/* Not activated at all. */
	activation_run(&a, kind, NULL, "1", "http");
	ck_assert_int_eq(a.rc, 0);
	ck_assert_ptr_null(a.fds);
	ck_assert_int_eq(a.cloexec[0], 0);

	/* Ours but no LISTEN_FDS: nothing passed, variables cleared. */
	activation_run(&a, kind, mypid(), NULL, NULL);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_ptr_null(a.fds);
	ck_assert_int_eq(a.cloexec[0], 0);
	ck_assert_int_eq(a.env_left, 0);
}
END_TEST

START_TEST(test_listen_fds_not_socket)
{
	static const enum act_kind kind[ACT_FDS] = {
	    ACT_SOCKET, ACT_PIPE, ACT_NONE, ACT_NONE};
	struct activation a;

	activation_run(&a, kind, mypid(), "2", "http:admin");
	ck_assert_int_eq(a.rc, -1);
	ck_assert_ptr_null(a.fds);
	ck_assert_str_eq(a.err, "LISTEN_FDS=2: fd 4 is not a socket");
	/* Nothing half done, and nothing left for a child either. */
	ck_assert_int_eq(a.cloexec[0], 0);
	ck_assert_int_eq(a.env_left, 0);
}
END_TEST

START_TEST(test_listen_fds_closed)
{
	static const enum act_kind kind[ACT_FDS] = {
	    ACT_SOCKET, ACT_SOCKET, ACT_NONE, ACT_NONE};
	struct activation a;

	activation_run(&a, kind, mypid(), "3", NULL);
	ck_assert_int_eq(a.rc, -1);
	ck_assert_ptr_null(a.fds);
	ck_assert_str_eq(a.err, "LISTEN_FDS=3: fd 5: Bad file descriptor");
	ck_assert_int_eq(a.cloexec[0], 0);
}
END_TEST

static const struct {
	const char *pid; /* "self": ours */
	const char *nfds;
	const char *names;
	const char *err;
} malformed[] = {
    {"12ab", "1", NULL, "LISTEN_PID=12ab: not a pid"},
    {"", "1", NULL, "LISTEN_PID=: not a pid"},
    {"-1", "1", NULL, "LISTEN_PID=-1: not a pid"},
    {"self", "0", NULL, "LISTEN_FDS=0: not a count of fds"},
    {"self", "-1", NULL, "LISTEN_FDS=-1: not a count of fds"},
    {"self", " 1", NULL, "LISTEN_FDS= 1: not a count of fds"},
    {"self", "1x", NULL, "LISTEN_FDS=1x: not a count of fds"},
    {"self", "", NULL, "LISTEN_FDS=: not a count of fds"},
    {"self", "99999999999", NULL, "LISTEN_FDS=99999999999: not a count of fds"},
    {"self", "2", "http", "LISTEN_FDNAMES=http: 1 names for LISTEN_FDS=2"},
    {"self", "2", "a:b:c", "LISTEN_FDNAMES=a:b:c: 3 names for LISTEN_FDS=2"},
};

START_TEST(test_listen_fds_malformed)
{
	static const enum act_kind kind[ACT_FDS] = {
	    ACT_SOCKET, ACT_SOCKET, ACT_NONE, ACT_NONE};
	const char *pid = malformed[_i].pid;
	struct activation a;

	if (strcmp(pid, "self") == 0)
		pid = mypid();
	activation_run(&a, kind, pid, malformed[_i].nfds, malformed[_i].names);
	ck_assert_int_eq(a.rc, -1);
	ck_assert_ptr_null(a.fds);
	ck_assert_str_eq(a.err, malformed[_i].err);
	ck_assert_int_eq(a.cloexec[0], 0);
	ck_assert_int_eq(a.cloexec[1], 0);
}
END_TEST

START_TEST(test_listen_fds_long_name)
{
	static const enum act_kind kind[ACT_FDS] = {
	    ACT_SOCKET, ACT_NONE, ACT_NONE, ACT_NONE};
	struct activation a;
	char name[300];

	memset(name, 'n', sizeof(name));
	name[255] = '\0';
	activation_run(&a, kind, mypid(), "1", name);
	ck_assert_msg(a.rc == 1, "rc %d: %s", a.rc, a.err);
	ck_assert_str_eq(a.fds[0].name, name);
	free(a.fds);

	name[255] = 'n';
	name[256] = '\0';
	activation_run(&a, kind, mypid(), "1", name);
	ck_assert_int_eq(a.rc, -1);
	ck_assert_str_eq(
	    a.err, "LISTEN_FDNAMES: name 1 is longer than 255 bytes");
}
END_TEST

static Suite *
sdnotify_suite(void)
{
	Suite *s = suite_create("sdnotify");
	TCase *tc = tcase_create("notify");
	TCase *ta = tcase_create("activation");

	tcase_add_test(tc, test_open_unset);
	tcase_add_test(tc, test_open_bad);
	tcase_add_test(tc, test_send_path);
	tcase_add_test(tc, test_send_abstract);
	tcase_add_test(tc, test_send_errors);
	/* _i: 0 a path, 1 an abstract name */
	tcase_add_loop_test(tc, test_reloading, 0, 2);
	tcase_add_loop_test(tc, test_store_fd, 0, 2);
	tcase_add_loop_test(tc, test_remove_fd, 0, 2);
	suite_add_tcase(s, tc);

	tcase_add_test(ta, test_listen_fds_names);
	tcase_add_test(ta, test_listen_fds_no_names);
	tcase_add_test(ta, test_listen_fds_not_ours);
	tcase_add_test(ta, test_listen_fds_not_socket);
	tcase_add_test(ta, test_listen_fds_closed);
	tcase_add_loop_test(ta, test_listen_fds_malformed, 0,
	    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(ta, test_listen_fds_long_name);
	suite_add_tcase(s, ta);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sdnotify_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

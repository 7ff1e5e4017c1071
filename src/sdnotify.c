/* sdnotify.c: sd_notify, fd store and socket activation, without libsystemd. */
/*
 * Owns what is said to systemd (READY, RELOADING, STATUS, MAINPID, the fd
 * store) and reading LISTEN_FDS. Kernel-facing: it formats and sends; what
 * to say, and when, is the master's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"
#include "sdnotify.h"

/* sd_listen_fds(3): passed sockets start at this descriptor. */
#define SDNOTIFY_LISTEN_FDS_START 3

/* Longest datagram we build; systemd itself reads at most about 4 KiB. */
#define SDNOTIFY_MSG_MAX 4096

/*
 * systemd drains its notify socket at once, but a blocking send to a full
 * queue would stall the master's whole event loop: bound it. A message that
 * cannot leave within this delay is reported as failed (EAGAIN).
 */
#define SDNOTIFY_SEND_TIMEOUT_MS 1000

int
sdnotify_open(struct sdnotify *sd, char *err, size_t errlen)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct timeval tv = {SDNOTIFY_SEND_TIMEOUT_MS / 1000,
	    (SDNOTIFY_SEND_TIMEOUT_MS % 1000) * 1000};
	size_t n;
	int fd;

	memset(sd, 0, sizeof(*sd));
	sd->fd = -1;
	/* Empty counts as unset: some wrappers clear a variable that way. */
	if (e == NULL || *e == '\0')
		return 0;
	n = strlen(e);
	if (e[0] != '/' && e[0] != '@') {
		snprintf(err, errlen,
		    "NOTIFY_SOCKET=%s: not an absolute path nor an @abstract "
		    "name",
		    e);
		return -1;
	}
	/* A path needs its NUL inside sun_path; '@' stands for one itself. */
	if (n >= sizeof(sd->addr.sun_path) + (e[0] == '@')) {
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: name too long", e);
		return -1;
	}
	sd->addr.sun_family = AF_UNIX;
	memcpy(sd->addr.sun_path, e, n);
	if (e[0] == '@') {
		/* Abstract: the NUL is part of the name, no NUL after it. */
		sd->addr.sun_path[0] = '\0';
		sd->len =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		sd->len =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(
		    err, errlen, "NOTIFY_SOCKET: socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	sd->fd = fd;
	return 1;
}

void
sdnotify_close(struct sdnotify *sd)
{
	if (sd->fd != -1)
		close(sd->fd);
	sd->fd = -1;
}

/*
 * Send len bytes of msg, with fd attached as SCM_RIGHTS when fd >= 0.
 * Unconnected (an address per message) so that systemd re-creating its
 * socket, as it does on daemon-reexec, does not leave us talking to nothing.
 */
static int
sdnotify_sendmsg(struct sdnotify *sd, const char *msg, size_t len, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {(void *)msg, len};
	struct msghdr mh = {0};
	struct cmsghdr *c;
	ssize_t n;

	mh.msg_name = &sd->addr;
	mh.msg_namelen = sd->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sd->fd, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE; /* cannot happen for a datagram; be sure */
		return -1;
	}
	return 0;
}

static int sdnotify_vsend(struct sdnotify *sd, int fd, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));
static int sdnotify_send_fd(struct sdnotify *sd, int fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
sdnotify_vsend(struct sdnotify *sd, int fd, const char *fmt, va_list ap)
{
	char msg[SDNOTIFY_MSG_MAX];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(msg)) {
		errno = EMSGSIZE;
		return -1;
	}
	return sdnotify_sendmsg(sd, msg, (size_t)n, fd);
}

int
sdnotify_send(struct sdnotify *sd, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (sd->fd == -1)
		return 0;
	va_start(ap, fmt);
	rc = sdnotify_vsend(sd, -1, fmt, ap);
	va_end(ap);
	return rc;
}

int
sdnotify_reloading(struct sdnotify *sd)
{
	struct timespec ts;

	if (sd->fd == -1)
		return 0;
	/* systemd compares it with its own clock to order the messages. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	return sdnotify_send(sd, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	        (unsigned long long)ts.tv_nsec / 1000ULL);
}

/*
 * What systemd accepts as FDNAME (fdname_is_valid): 1 to 255 printable
 * ASCII characters but ':', which separates names in LISTEN_FDNAMES. It
 * would drop the whole message otherwise, and with it the fd.
 */
static int
sdnotify_fdname_valid(const char *name)
{
	size_t n;

	for (n = 0; name[n] != '\0'; n++)
		if (name[n] < ' ' || name[n] > '~' || name[n] == ':')
			return 0;
	return n > 0 && n <= 255;
}

static int
sdnotify_send_fd(struct sdnotify *sd, int fd, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sdnotify_vsend(sd, fd, fmt, ap);
	va_end(ap);
	return rc;
}

int
sdnotify_store_fd(struct sdnotify *sd, int fd, const char *name)
{
	if (sd->fd == -1)
		return 0;
	if (fd < 0 || !sdnotify_fdname_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	return sdnotify_send_fd(sd, fd, "FDSTORE=1\nFDNAME=%s", name);
}

int
sdnotify_remove_fd(struct sdnotify *sd, const char *name)
{
	if (sd->fd == -1)
		return 0;
	if (!sdnotify_fdname_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	return sdnotify_send(sd, "FDSTOREREMOVE=1\nFDNAME=%s", name);
}

/* A decimal number and nothing else, in [min, max]; -1 otherwise. */
static long
sdnotify_parse_long(const char *s, long min, long max)
{
	char why[64];
	long long v;

	if (parse_int(s, min, max, &v, why, sizeof(why)) == -1)
		return -1;
	return (long)v;
}

/*
 * Fill fds[0..n) from LISTEN_FDNAMES (names may be NULL): the names must be
 * exactly n, as sd_listen_fds_with_names(3) requires.
 */
static int
sdnotify_split_names(
    struct sdnotify_fd *fds, int n, const char *names, char *err, size_t errlen)
{
	const char *p, *end;
	int i;

	if (names == NULL)
		return 0;
	for (i = 0, p = names;; i++, p = end + 1) {
		end = strchrnul(p, ':');
		if (i < n) {
			if ((size_t)(end - p) >= sizeof(fds[i].name)) {
				snprintf(err, errlen,
				    "LISTEN_FDNAMES: name %d is longer than "
				    "%zu bytes",
				    i + 1, sizeof(fds[i].name) - 1);
				return -1;
			}
			memcpy(fds[i].name, p, (size_t)(end - p));
			fds[i].name[end - p] = '\0';
		}
		if (*end == '\0')
			break;
	}
	if (i + 1 != n) {
		snprintf(err, errlen,
		    "LISTEN_FDNAMES=%s: %d names for LISTEN_FDS=%d", names,
		    i + 1, n);
		return -1;
	}
	return 0;
}

/* Check the n passed fds and mark them close-on-exec. */
static int
sdnotify_take_fds(struct sdnotify_fd *fds, int n, char *err, size_t errlen)
{
	struct stat st;
	int i, fd, flags;

	for (i = 0; i < n; i++) {
		fd = SDNOTIFY_LISTEN_FDS_START + i;
		fds[i].fd = fd;
		if (fstat(fd, &st) == -1) {
			snprintf(err, errlen, "LISTEN_FDS=%d: fd %d: %s", n, fd,
			    strerror(errno));
			return -1;
		}
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
			    "LISTEN_FDS=%d: fd %d is not a socket", n, fd);
			return -1;
		}
	}
	/* Only once all are good: an error leaves the descriptors as found. */
	for (i = 0; i < n; i++) {
		fd = fds[i].fd;
		if ((flags = fcntl(fd, F_GETFD)) == -1 ||
		    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
			snprintf(err, errlen, "fd %d: FD_CLOEXEC: %s", fd,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
sdnotify_listen_fds(struct sdnotify_fd **fds, char *err, size_t errlen)
{
	const char *e;
	struct sdnotify_fd *a = NULL;
	long pid, n;
	int rc = -1;

	*fds = NULL;
	if ((e = getenv("LISTEN_PID")) == NULL)
		return 0;
	if ((pid = sdnotify_parse_long(e, 1, INT_MAX)) == -1) {
		snprintf(err, errlen, "LISTEN_PID=%s: not a pid", e);
		return -1;
	}
	/*
	 * Meant for another process (inherited from a parent that did not
	 * clear them): not ours to take, nor to unset.
	 */
	if ((pid_t)pid != getpid())
		return 0;
	if ((e = getenv("LISTEN_FDS")) == NULL) {
		rc = 0;
		goto out;
	}
	/* 1..INT_MAX-3 as sd_listen_fds(3); 0 is malformed there too. */
	if ((n = sdnotify_parse_long(
	         e, 1, INT_MAX - SDNOTIFY_LISTEN_FDS_START)) == -1) {
		snprintf(err, errlen, "LISTEN_FDS=%s: not a count of fds", e);
		goto out;
	}
	if ((a = calloc((size_t)n, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "LISTEN_FDS=%ld: out of memory", n);
		goto out;
	}
	if (sdnotify_split_names(
	        a, (int)n, getenv("LISTEN_FDNAMES"), err, errlen) == -1 ||
	    sdnotify_take_fds(a, (int)n, err, errlen) == -1) {
		free(a);
		goto out;
	}
	*fds = a;
	rc = (int)n;
out:
	/* Whatever the outcome, as sd_listen_fds(1): never pass them on. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}

/* notify.c: the master's own NOTIFY_SOCKET, for workers with ready = notify. */
/*
 * Owns the socket and the reading of its datagrams; hands each line and its
 * sender's pid (SCM_CREDENTIALS, checked by the kernel) to the owner. Never
 * keeps a descriptor passed with SCM_RIGHTS. Must not know generations or
 * workers.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static void
notify_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct notify *n = io->data;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		         CMSG_SPACE(sizeof(int) * 16)];
	} control;
	char data[4096], *line, *save;
	struct iovec iov = {data, sizeof(data) - 1};
	struct msghdr msg = {0};
	struct ucred *cred = NULL;
	struct cmsghdr *c;
	ssize_t len;

	(void)loop;
	(void)revents;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	len = recvmsg(n->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (len == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("notify socket: recvmsg");
		return;
	}
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS)
			cred = (struct ucred *)CMSG_DATA(c);
		else if (c->cmsg_type == SCM_RIGHTS) {
			/* fd store messages are not for us: never keep fds. */
			int *fds = (int *)CMSG_DATA(c);
			size_t k,
			    nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (k = 0; k < nfds; k++)
				close(fds[k]);
		}
	}
	if (cred == NULL)
		return;
	data[len] = '\0';
	for (line = strtok_r(data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		n->line(cred->pid, line, n->owner);
}

void
notify_init(struct notify *n, struct ev_loop *loop,
    void (*line)(pid_t, const char *, void *), void *owner)
{
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->loop = loop;
	n->line = line;
	n->owner = owner;
}

int
notify_open(struct notify *n)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa_family_t);
	int fd, on = 1;

	if (n->fd != -1)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	/* A bind with only the family autobinds: "\0" and 5 hex digits. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1)
		goto fail;
	len = sizeof(sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1)
		goto fail;
	len -= (socklen_t)offsetof(struct sockaddr_un, sun_path);
	if (len < 2 || sun.sun_path[0] != '\0' || len >= sizeof(n->name)) {
		errno = EAFNOSUPPORT;
		goto fail;
	}
	n->name[0] = '@';
	memcpy(n->name + 1, sun.sun_path + 1, len - 1);
	n->name[len] = '\0';
	n->fd = fd;
	ev_io_init(&n->io, notify_read_cb, fd, EV_READ);
	n->io.data = n;
	ev_io_start(n->loop, &n->io);
	return 0;

fail:
	close(fd);
	return -1;
}

void
notify_close(struct notify *n)
{
	if (n->fd == -1)
		return;
	ev_io_stop(n->loop, &n->io);
	close(n->fd);
	n->fd = -1;
}

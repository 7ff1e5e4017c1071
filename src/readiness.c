/* readiness.c: when is a worker ready: notify, delay, tcp and http checks. */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "generation.h"
#include "log.h"
#include "master.h"
#include "readiness.h"
#include "worker.h"

/* How often a tcp: or http: probe is retried, and how long one may take. */
#define READINESS_PROBE_INTERVAL_S 0.2
#define READINESS_PROBE_TIMEOUT_S 1.0

static void readiness_tick_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void readiness_probe_cb(struct ev_loop *loop, ev_io *io, int revents);

static void
readiness_notify_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct master *m = ev_userdata(loop);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(sizeof(int) * 16)];
	} control;
	char data[4096], *line, *save;
	struct iovec iov = { data, sizeof(data) - 1 };
	struct msghdr msg = { 0 };
	struct ucred *cred = NULL;
	struct cmsghdr *c;
	struct worker *w;
	ssize_t n;

	(void)io;
	(void)revents;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	n = recvmsg(m->notify.fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1) {
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
			size_t k, nfds = (c->cmsg_len - CMSG_LEN(0)) /
			    sizeof(int);
			for (k = 0; k < nfds; k++)
				close(fds[k]);
		}
	}
	if (cred == NULL)
		return;
	data[n] = '\0';
	w = master_find_pid(m, cred->pid);
	if (w == NULL) {
		log_debug("notify socket: message from pid %d, not a worker",
		    (int)cred->pid);
		return;
	}
	for (line = strtok_r(data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "READY=1") == 0 &&
		    w->gen->cfg->ready == READY_NOTIFY)
			readiness_reached(w);
		else if (strncmp(line, "STATUS=", 7) == 0)
			log_debug("generation %u worker %d pid %d: status: %s",
			    w->gen->id, w->index, (int)w->pid, line + 7);
	}
}

int
readiness_notify_open(struct master *m)
{
	struct readiness_notify *r = &m->notify;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, on = 1;

	if (r->fd != -1)
		return 0;
	snprintf(r->name, sizeof(r->name), "@baton/%d/notify", (int)getpid());
	/* Abstract namespace: nothing on disk to clean up or to collide. */
	memcpy(sun.sun_path + 1, r->name + 1, strlen(r->name) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(r->name));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1) {
		close(fd);
		return -1;
	}
	r->fd = fd;
	ev_io_init(&r->io, readiness_notify_cb, fd, EV_READ);
	ev_io_start(m->loop, &r->io);
	return 0;
}

void
readiness_notify_close(struct master *m)
{
	if (m->notify.fd == -1)
		return;
	ev_io_stop(m->loop, &m->notify.io);
	close(m->notify.fd);
	m->notify.fd = -1;
}

static void
readiness_probe_close(struct worker *w)
{
	if (w->probe_fd == -1)
		return;
	ev_io_stop(w->gen->master->loop, &w->probe_io);
	close(w->probe_fd);
	w->probe_fd = -1;
}

void
readiness_stop(struct worker *w)
{
	readiness_probe_close(w);
	ev_timer_stop(w->gen->master->loop, &w->tick);
	w->settling = 0;
}

void
readiness_start(struct worker *w)
{
	struct ev_loop *loop = w->gen->master->loop;
	const struct config *cfg = w->gen->cfg;
	ev_tstamp first = 0, repeat = 0;

	readiness_stop(w);
	switch (cfg->ready) {
	case READY_NOTIFY:
	case READY_LISTEN:
		return; /* an event will come, or ready_timeout */
	case READY_NONE:
		break; /* ready at the next loop iteration */
	case READY_DELAY:
		first = cfg->ready_arg_ms / 1000.0;
		break;
	case READY_TCP:
	case READY_HTTP:
		repeat = READINESS_PROBE_INTERVAL_S;
		break;
	}
	ev_timer_init(&w->tick, readiness_tick_cb, first, repeat);
	w->tick.data = w;
	ev_timer_start(loop, &w->tick);
}

void
readiness_reached(struct worker *w)
{
	struct ev_loop *loop = w->gen->master->loop;
	long settle_ms = w->gen->cfg->ready_delay_ms;

	if (w->state != WORKER_STARTING || w->settling)
		return;
	readiness_stop(w);
	if (settle_ms > 0) {
		w->settling = 1;
		ev_timer_init(&w->tick, readiness_tick_cb, settle_ms / 1000.0,
		    0);
		w->tick.data = w;
		ev_timer_start(loop, &w->tick);
		return;
	}
	worker_ready(w);
}

static void
readiness_probe_start(struct worker *w)
{
	struct ev_loop *loop = w->gen->master->loop;
	const struct address *a = &w->gen->cfg->probe;
	int fd;

	if (w->probe_fd != -1) {
		if (ev_now(loop) - w->probe_started < READINESS_PROBE_TIMEOUT_S)
			return;
		readiness_probe_close(w);
	}
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_warn("generation %u worker %d: probe socket", w->gen->id,
		    w->index);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd); /* refused: not listening yet */
		return;
	}
	w->probe_fd = fd;
	w->probe_len = 0;
	w->probe_started = ev_now(loop);
	ev_io_init(&w->probe_io, readiness_probe_cb, fd, EV_WRITE);
	w->probe_io.data = w;
	ev_io_start(loop, &w->probe_io);
}

/* "HTTP/1.1 204 ..." -> 1 for 2xx and 3xx, 0 otherwise, -1 incomplete. */
static int
readiness_http_status(const char *buf, size_t len)
{
	int code;

	if (memchr(buf, '\n', len) == NULL && len < 12)
		return -1;
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return 0;
	code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	return code >= 200 && code < 400;
}

static void
readiness_probe_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	const struct config *cfg = w->gen->cfg;
	char req[1024];
	socklen_t len = sizeof(int);
	int soerr = 0, n, ok;
	ssize_t r;

	if (revents & EV_WRITE) {
		if (getsockopt(w->probe_fd, SOL_SOCKET, SO_ERROR, &soerr,
			&len) == -1 ||
		    soerr != 0) {
			readiness_probe_close(w);
			return;
		}
		if (cfg->ready == READY_TCP) {
			readiness_probe_close(w);
			readiness_reached(w);
			return;
		}
		n = snprintf(req, sizeof(req),
		    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: baton\r\n"
		    "Connection: close\r\n\r\n",
		    cfg->probe_path, cfg->probe_host);
		if (send(w->probe_fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			readiness_probe_close(w);
			return;
		}
		ev_io_stop(loop, io);
		ev_io_set(io, w->probe_fd, EV_READ);
		ev_io_start(loop, io);
		return;
	}
	r = recv(w->probe_fd, w->probe_buf + w->probe_len,
	    sizeof(w->probe_buf) - w->probe_len, MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0)
		w->probe_len += (size_t)r;
	ok = readiness_http_status(w->probe_buf, w->probe_len);
	if (ok == -1 && r > 0 && w->probe_len < sizeof(w->probe_buf))
		return;
	readiness_probe_close(w);
	if (ok == 1)
		readiness_reached(w);
	else
		log_debug("generation %u worker %d: http probe not ready yet",
		    w->gen->id, w->index);
}

static void
readiness_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)loop;
	(void)revents;
	if (w->settling) {
		readiness_stop(w);
		worker_ready(w);
		return;
	}
	switch (w->gen->cfg->ready) {
	case READY_NONE:
	case READY_DELAY:
		readiness_reached(w);
		break;
	case READY_TCP:
	case READY_HTTP:
		readiness_probe_start(w);
		break;
	case READY_NOTIFY:
	case READY_LISTEN:
		break;
	}
}

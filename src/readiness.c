/* readiness.c: when is a worker ready: notify, delay, tcp and http checks. */
/*
 * Owns the probes (tcp:, http://), the delay: and ready_delay timers, and
 * the rule that a check ends in exactly one reached(). Must not touch the
 * worker, its generation or the master: it reports through the callback
 * its owner gave it.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "readiness.h"

/* How often a tcp: or http: probe is retried, and how long one may take. */
#define READINESS_PROBE_INTERVAL_S 0.2
#define READINESS_PROBE_TIMEOUT_S  1.0

static void readiness_tick_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void readiness_probe_cb(struct ev_loop *loop, ev_io *io, int revents);

void
readiness_init(struct readiness *r, struct ev_loop *loop,
    const struct config *cfg, const char *label,
    void (*reached)(struct readiness *, void *), void *owner)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->cfg = cfg;
	r->label = label;
	r->reached = reached;
	r->owner = owner;
	r->probe_fd = -1;
	ev_init(&r->tick, readiness_tick_cb);
	r->tick.data = r;
}

static void
readiness_probe_close(struct readiness *r)
{
	if (r->probe_fd == -1)
		return;
	ev_io_stop(r->loop, &r->probe_io);
	close(r->probe_fd);
	r->probe_fd = -1;
}

void
readiness_stop(struct readiness *r)
{
	readiness_probe_close(r);
	ev_timer_stop(r->loop, &r->tick);
	r->settling = 0;
	r->running = 0;
}

void
readiness_start(struct readiness *r)
{
	ev_tstamp first = 0, repeat = 0;

	readiness_stop(r);
	r->running = 1;
	switch (r->cfg->ready) {
	case READY_NOTIFY:
	case READY_LISTEN:
		return; /* an event will come, or ready_timeout */
	case READY_NONE:
		break; /* ready at the next loop iteration */
	case READY_DELAY:
		first = r->cfg->ready_arg_ms / 1000.0;
		break;
	case READY_TCP:
	case READY_HTTP:
		repeat = READINESS_PROBE_INTERVAL_S;
		break;
	}
	ev_timer_set(&r->tick, first, repeat);
	ev_timer_start(r->loop, &r->tick);
}

/* The check passed: done, or first wait out ready_delay. */
static void
readiness_pass(struct readiness *r)
{
	long settle_ms = r->cfg->ready_delay_ms;

	readiness_probe_close(r);
	ev_timer_stop(r->loop, &r->tick);
	if (settle_ms > 0 && !r->settling) {
		r->settling = 1;
		ev_timer_set(&r->tick, settle_ms / 1000.0, 0);
		ev_timer_start(r->loop, &r->tick);
		return;
	}
	readiness_stop(r);
	r->reached(r, r->owner); /* last: the owner may free r */
}

void
readiness_signal(struct readiness *r)
{
	if (!r->running || r->settling)
		return;
	readiness_pass(r);
}

static void
readiness_probe_start(struct readiness *r)
{
	const struct address *a = &r->cfg->probe;
	int fd;

	if (r->probe_fd != -1) {
		if (ev_now(r->loop) - r->probe_started <
		    READINESS_PROBE_TIMEOUT_S)
			return;
		readiness_probe_close(r);
	}
	fd = socket(
	    a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("%s: probe socket", r->label);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd); /* refused: not listening yet */
		return;
	}
	r->probe_fd = fd;
	r->probe_len = 0;
	r->probe_started = ev_now(r->loop);
	ev_io_init(&r->probe_io, readiness_probe_cb, fd, EV_WRITE);
	r->probe_io.data = r;
	ev_io_start(r->loop, &r->probe_io);
}

int
readiness_http_status(const char *buf, size_t len)
{
	int code = 0, i;

	if (len < 12)
		return memchr(buf, '\n', len) == NULL ? -1 : 0;
	/* "HTTP/1.x NNN": the version digit and the code must be digits. */
	if (strncmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' || buf[7] > '9' ||
	    buf[8] != ' ')
		return 0;
	for (i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return 0;
		code = code * 10 + (buf[i] - '0');
	}
	/* The code ends there ("2000" is no status): wait for the 13th. */
	if (len == 12)
		return -1;
	if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return 0;
	return code >= 200 && code < 400;
}

static void
readiness_probe_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct readiness *r = io->data;
	const struct config *cfg = r->cfg;
	char req[1024];
	socklen_t len = sizeof(int);
	int soerr = 0, n, ok;
	ssize_t got;

	if (revents & EV_WRITE) {
		if (getsockopt(r->probe_fd, SOL_SOCKET, SO_ERROR, &soerr,
		        &len) == -1 ||
		    soerr != 0) {
			readiness_probe_close(r);
			return;
		}
		if (cfg->ready == READY_TCP) {
			readiness_pass(r);
			return;
		}
		n = snprintf(req, sizeof(req),
		    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: baton\r\n"
		    "Connection: close\r\n\r\n",
		    cfg->probe_path, cfg->probe_host);
		if (n < 0 || n >= (int)sizeof(req) ||
		    send(r->probe_fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			readiness_probe_close(r);
			return;
		}
		ev_io_stop(loop, io);
		ev_io_set(io, r->probe_fd, EV_READ);
		ev_io_start(loop, io);
		return;
	}
	got = recv(r->probe_fd, r->probe_buf + r->probe_len,
	    sizeof(r->probe_buf) - r->probe_len, MSG_DONTWAIT);
	if (got == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got > 0)
		r->probe_len += (size_t)got;
	ok = readiness_http_status(r->probe_buf, r->probe_len);
	if (ok == -1 && got > 0 && r->probe_len < sizeof(r->probe_buf))
		return;
	readiness_probe_close(r);
	if (ok == 1)
		readiness_pass(r);
	else
		log_debug("%s: http probe not ready yet", r->label);
}

static void
readiness_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct readiness *r = t->data;

	(void)loop;
	(void)revents;
	if (r->settling) {
		readiness_pass(r);
		return;
	}
	switch (r->cfg->ready) {
	case READY_NONE:
	case READY_DELAY:
		readiness_pass(r);
		break;
	case READY_TCP:
	case READY_HTTP:
		readiness_probe_start(r);
		break;
	case READY_NOTIFY:
	case READY_LISTEN:
		break;
	}
}

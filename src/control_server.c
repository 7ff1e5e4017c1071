/* control_server.c: the master's control socket: its path, clients, limits. */
/*
 * Owns the listening socket at `control` (created safely, removed only
 * while it is still ours), each client's buffers, idle timer and peer
 * check, and the clients waiting for a reload's outcome. Requests go up to
 * the owner through struct control_events; the owner reports outcomes down
 * with control_server_reload_begin/done. Never blocks. Knows nothing of
 * generations or workers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control_server.h"
#include "log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* Answers queued for a client that does not read: beyond this, drop it. */
#define CONTROL_OUTPUT_MAX (4 * 1024 * 1024)
/* Connections taken per wakeup, so that a flood cannot starve the loop. */
#define CONTROL_ACCEPT_BURST 32

/* What is logged at most once a second each (see control_log). */
enum control_log_kind {
	CONTROL_LOG_DENIED,
	CONTROL_LOG_BUSY,
	CONTROL_LOG_TOOLONG,
	CONTROL_LOG_MALFORMED,
	CONTROL_LOG_IDLE,
	CONTROL_LOG_IO,
	CONTROL_LOG_ACCEPT,
};

/* Where a client stands with a reload it asked to wait for. */
enum control_wait {
	CONTROL_WAIT_NONE,
	CONTROL_WAIT_NEXT, /* for the next reload the owner begins */
	CONTROL_WAIT_THIS, /* for the outcome of the one begun */
};

struct control_client {
	struct control_server *ctl;
	int fd;
	pid_t pid; /* SO_PEERCRED, for messages */
	uid_t uid;
	ev_io io;
	ev_timer idle;
	char *in; /* CONTROL_REQUEST_MAX bytes */
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	enum control_wait wait;
	int eof;  /* the client shut its side: no more requests */
	int dead; /* free at the end of the callback */
	struct control_client *next;
};

/* ---- the server: logging, path, clients ---- */

/*
 * At most one line a second per kind: a flood of bad clients must not
 * flood the log. What was held back is counted in the next line.
 */
static void control_log(struct control_server *c, enum control_log_kind kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
control_log(
    struct control_server *c, enum control_log_kind kind, const char *fmt, ...)
{
	ev_tstamp now = ev_now(c->loop);
	char buf[512];
	va_list ap;

	if (c->log_at[kind] != 0 && now - c->log_at[kind] < 1.0) {
		c->log_dropped[kind]++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->log_dropped[kind] > 0)
		log_warnx("control: %s (and %lu more like it in the last "
		          "second)",
		    buf, c->log_dropped[kind]);
	else
		log_warnx("control: %s", buf);
	c->log_at[kind] = now;
	c->log_dropped[kind] = 0;
}

static const char *
control_file_type(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	return "a device";
}

int
control_server_check_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
		    "control: %s: path too long for a socket "
		    "(at most %zu bytes)",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	/* lstat: a symlink is refused, never followed. */
	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "control: %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		    "control: %s is %s, not a socket; refusing to replace it",
		    path, control_file_type(st.st_mode));
		return -1;
	}
	return 0;
}

/* 1: something accepts on path, 0: nobody does (stale), -1: errno. */
static int
control_probe(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (rc == -1 && (errno == ECONNREFUSED || errno == ENOENT))
		rc = 0;
	else if (rc == 0)
		rc = 1;
	close(fd);
	return rc;
}

/* Make room at path: only a socket, and a live one only with takeover. */
static int
control_prepare_path(const char *path, int takeover, char *err, size_t errlen)
{
	int live;

	if (control_server_check_path(path, err, errlen) == -1)
		return -1;
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if ((live = control_probe(path)) == -1) {
		snprintf(err, errlen, "control: %s: cannot probe: %s", path,
		    strerror(errno));
		return -1;
	}
	if (live && !takeover) {
		snprintf(err, errlen,
		    "control: %s: another process answers on it (is a baton "
		    "already running?)",
		    path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen,
		    "control: %s: cannot remove the stale "
		    "socket: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

static void control_accept_cb(struct ev_loop *loop, ev_io *w, int revents);
static void control_client_cb(struct ev_loop *loop, ev_io *w, int revents);
static void control_idle_cb(struct ev_loop *loop, ev_timer *t, int revents);

int
control_server_open(struct control_server *c, struct ev_loop *loop,
    const char *path, int has_group, gid_t gid, int takeover,
    const struct control_events *ev, void *owner, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t mask;
	int fd, rc, saved;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (control_prepare_path(path, takeover, err, errlen) == -1)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "control: socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * The mode is set as the path is created (umask), never after: there
	 * is no moment at which it is wider. bind() does not follow a symlink
	 * at the path: it fails with EADDRINUSE if anything got there since.
	 * The group is set before listen(): until then nobody can connect.
	 */
	mask = umask(has_group ? 0117 : 0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	umask(mask);
	if (rc == -1) {
		snprintf(err, errlen, "control: %s: bind: %s", path,
		    strerror(saved));
		close(fd);
		return -1;
	}
	if ((has_group && lchown(path, (uid_t)-1, gid) == -1) ||
	    lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    listen(fd, 128) == -1) {
		saved = errno;
		snprintf(err, errlen, "control: %s: %s", path,
		    has_group && saved == EPERM
		        ? "cannot give it to control_group (the master is not "
		          "a member)"
		        : strerror(saved));
		unlink(path);
		close(fd);
		return -1;
	}
	if ((c->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		unlink(path);
		close(fd);
		return -1;
	}
	c->loop = loop;
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->uid = geteuid();
	c->gid = gid;
	c->has_group = has_group;
	c->events = ev;
	c->owner = owner;
	ev_io_init(&c->io, control_accept_cb, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	return 0;
}

static void
control_client_flush(struct control_client *cl)
{
	ssize_t n;

	while (cl->outoff < cl->outlen) {
		n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			cl->outoff += (size_t)n;
			ev_timer_again(cl->ctl->loop, &cl->idle);
		} else if (n == -1 && errno == EINTR)
			continue;
		else {
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				cl->dead = 1;
			return;
		}
	}
	cl->outlen = cl->outoff = 0;
}

/* Queue a line for the client and try to send it now. */
static void
control_client_send(struct control_client *cl, json_t *o)
{
	char *s;
	size_t len;

	if (o == NULL) {
		cl->dead = 1;
		return;
	}
	json_object_set_new(o, "v", json_integer(CONTROL_VERSION));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (s == NULL) {
		cl->dead = 1;
		return;
	}
	len = strlen(s);
	if (cl->outlen + len + 1 > CONTROL_OUTPUT_MAX) {
		control_log(cl->ctl, CONTROL_LOG_IO,
		    "client pid %d does not read its answers, dropped",
		    (int)cl->pid);
		cl->dead = 1;
		free(s);
		return;
	}
	if (cl->outoff > 0) {
		memmove(cl->out, cl->out + cl->outoff, cl->outlen - cl->outoff);
		cl->outlen -= cl->outoff;
		cl->outoff = 0;
	}
	{
		char *p = realloc(cl->out, cl->outlen + len + 1);

		if (p == NULL) {
			cl->dead = 1;
			free(s);
			return;
		}
		cl->out = p;
	}
	memcpy(cl->out + cl->outlen, s, len);
	cl->out[cl->outlen + len] = '\n';
	cl->outlen += len + 1;
	free(s);
	control_client_flush(cl);
}

/*
 * An error answer. refused: the request was not carried out at all (bad
 * request, too long, timeout, permission): batonctl exits 2 for those, 1
 * for a command that ran and failed.
 */
static void
control_client_error(struct control_client *cl, const char *msg, int refused)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", msg);

	if (o != NULL && refused)
		json_object_set_new(o, "refused", json_true());
	control_client_send(cl, o);
}

/* An answer to a refused connection, then close: best effort, no wait. */
static void
control_refuse(int fd, const char *msg)
{
	json_t *o = json_pack("{s:i, s:b, s:s, s:b}", "v", CONTROL_VERSION,
	    "ok", 0, "error", msg, "refused", 1);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (s != NULL) {
		/* Each side of the line on its own: no buffer to assemble. */
		(void)send(fd, s, strlen(s), MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)send(fd, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	free(s);
	json_decref(o);
	close(fd);
}

/* The last reload as status shows it. */
static json_t *
control_last_reload(const struct control_server *c)
{
	const struct control_reload *r = &c->last;

	if (!r->valid)
		return json_null();
	if (!r->done)
		return json_pack("{s:f, s:s}", "started", r->begun_at,
		    "outcome", "in progress");
	return json_pack("{s:f, s:f, s:b, s:s, s:o, s:o}", "started",
	    r->begun_at, "duration_s", r->took_s, "ok", r->ok, "outcome",
	    r->ok ? "ok" : "failed", "generation",
	    r->generation ? json_integer(r->generation) : json_null(), "reason",
	    r->ok ? json_null() : json_string(r->reason));
}

/* One complete request line from an authorised client. */
static void
control_client_line(struct control_client *cl, const char *line, size_t len)
{
	struct control_server *c = cl->ctl;
	struct control_request req;
	char err[256];
	const char *fail;
	json_t *reply;
	char *text;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	if (control_request_parse(line, len, &req, err, sizeof(err)) == -1) {
		control_log(c, CONTROL_LOG_MALFORMED, "client pid %d: %s",
		    (int)cl->pid, err);
		control_client_error(cl, err, 1);
		return;
	}
	log_info("control: %s from pid %d (uid %d)", control_cmd_name(req.cmd),
	    (int)cl->pid, (int)cl->uid);
	/* Registered first: the owner may report the outcome at once. */
	if (req.cmd == CONTROL_RELOAD && req.wait)
		cl->wait = CONTROL_WAIT_NEXT;
	if ((reply = json_object()) == NULL) {
		cl->dead = 1;
		return;
	}
	if ((fail = c->events->request(&req, reply, c->owner)) != NULL) {
		json_decref(reply);
		cl->wait = CONTROL_WAIT_NONE;
		control_client_error(cl, fail, 0);
		return;
	}
	switch (req.cmd) {
	case CONTROL_RELOAD:
		if (req.wait) {
			/* The answer is control_server_reload_done's. */
			json_decref(reply);
			return;
		}
		break;
	case CONTROL_STATUS:
		json_object_set_new(
		    reply, "last_reload", control_last_reload(c));
		break;
	case CONTROL_METRICS:
		json_object_set_new(
		    reply, "last_reload", control_last_reload(c));
		text = control_metrics(reply);
		json_decref(reply);
		if (text == NULL) {
			control_client_error(cl, "out of memory", 0);
			return;
		}
		reply = json_pack("{s:s}", "metrics", text);
		free(text);
		if (reply == NULL) {
			cl->dead = 1;
			return;
		}
		break;
	default:
		break;
	}
	json_object_set_new(reply, "ok", json_true());
	control_client_send(cl, reply);
}

/* Read what is there, up to the cap; sets eof, or dead on errors. */
static void
control_client_read(struct control_client *cl)
{
	ssize_t n;

	while (cl->inlen < CONTROL_REQUEST_MAX) {
		n = read(cl->fd, cl->in + cl->inlen,
		    CONTROL_REQUEST_MAX - cl->inlen);
		if (n > 0) {
			cl->inlen += (size_t)n;
			continue;
		}
		if (n == 0)
			cl->eof = 1;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			cl->dead = 1;
		return;
	}
}

/* Handle every complete line, unless a reload is awaited. */
static void
control_client_process(struct control_client *cl)
{
	char *nl;
	size_t len;

	while (!cl->dead && cl->wait == CONTROL_WAIT_NONE &&
	       (nl = memchr(cl->in, '\n', cl->inlen)) != NULL) {
		len = (size_t)(nl - cl->in);
		control_client_line(cl, cl->in, len);
		memmove(cl->in, nl + 1, cl->inlen - len - 1);
		cl->inlen -= len + 1;
		ev_timer_again(cl->ctl->loop, &cl->idle);
	}
	if (!cl->dead && cl->wait == CONTROL_WAIT_NONE &&
	    cl->inlen >= CONTROL_REQUEST_MAX) {
		control_log(cl->ctl, CONTROL_LOG_TOOLONG,
		    "client pid %d: request longer than %d bytes, dropped",
		    (int)cl->pid, CONTROL_REQUEST_MAX);
		control_client_error(cl, "request too long", 1);
		cl->eof = 1;
		cl->inlen = 0;
	}
}

static void
control_client_free(struct control_client *cl)
{
	struct control_server *c = cl->ctl;
	struct control_client **pp;

	for (pp = &c->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	c->nclients--;
	ev_io_stop(c->loop, &cl->io);
	ev_timer_stop(c->loop, &cl->idle);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	free(cl);
}

/*
 * After anything happened to a client: free it if it is done, else watch
 * for what it can do next (read while it may send, write while output is
 * queued). Returns 1 when it was freed.
 */
static int
control_client_settle(struct control_client *cl)
{
	int events = 0;

	if (!cl->dead && cl->eof && cl->wait == CONTROL_WAIT_NONE &&
	    cl->outlen == 0)
		cl->dead = 1;
	if (cl->dead) {
		control_client_free(cl);
		return 1;
	}
	if (!cl->eof && cl->inlen < CONTROL_REQUEST_MAX)
		events |= EV_READ;
	if (cl->outlen > 0)
		events |= EV_WRITE;
	if ((cl->io.events & (EV_READ | EV_WRITE)) != events ||
	    !ev_is_active(&cl->io)) {
		ev_io_stop(cl->ctl->loop, &cl->io);
		ev_io_set(&cl->io, cl->fd, events);
		if (events != 0)
			ev_io_start(cl->ctl->loop, &cl->io);
	}
	/* Waiting for a reload is the master's time, not the client's. */
	if (cl->wait != CONTROL_WAIT_NONE && cl->outlen == 0)
		ev_timer_stop(cl->ctl->loop, &cl->idle);
	else if (!ev_is_active(&cl->idle))
		ev_timer_again(cl->ctl->loop, &cl->idle);
	return 0;
}

static void
control_client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *cl = w->data;

	(void)loop;
	if (revents & EV_WRITE)
		control_client_flush(cl);
	if (!cl->dead && (revents & EV_READ))
		control_client_read(cl);
	if (!cl->dead)
		control_client_process(cl);
	(void)control_client_settle(cl);
}

static void
control_idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct control_client *cl = t->data;

	(void)loop;
	(void)revents;
	control_log(cl->ctl, CONTROL_LOG_IDLE,
	    "client pid %d: no complete request in %.0f s, dropped",
	    (int)cl->pid, CONTROL_IDLE_S);
	if (cl->outlen == 0)
		control_client_error(cl, "timeout: no complete request", 1);
	cl->dead = 1;
	(void)control_client_settle(cl);
}

/*
 * Root, the master's own uid, or control_group (as the peer's primary
 * group or a supplementary one). The groups come from SO_PEERGROUPS: like
 * SO_PEERCRED they are the peer's credentials as of connect(), from the
 * kernel, race-free. /proc/PID/status would be read after the fact, from a
 * pid that may be gone or reused; getgrouplist asks the group database
 * (possibly over the network, in the single-threaded master) and would
 * admit a process that dropped the group.
 */
static int
control_peer_allowed(const struct control_server *c, int fd, struct ucred *uc)
{
	socklen_t len = sizeof(*uc);
	gid_t small[64], *groups = small;
	size_t i, n;
	int ok = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len) == -1)
		return 0;
	if (uc->uid == 0 || uc->uid == c->uid)
		return 1;
	if (!c->has_group)
		return 0;
	if (uc->gid == c->gid)
		return 1;
	len = sizeof(small);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		if (errno != ERANGE || (groups = malloc(len)) == NULL)
			return 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) ==
		    -1) {
			free(groups);
			return 0;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !ok; i++)
		ok = groups[i] == c->gid;
	if (groups != small)
		free(groups);
	return ok;
}

static void
control_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_server *c = w->data;
	struct control_client *cl;
	struct ucred uc;
	int fd, i;

	(void)revents;
	for (i = 0; i < CONTROL_ACCEPT_BURST; i++) {
		fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				control_log(c, CONTROL_LOG_ACCEPT, "accept: %s",
				    strerror(errno));
			return;
		}
		if (!control_peer_allowed(c, fd, &uc)) {
			control_log(c, CONTROL_LOG_DENIED,
			    "pid %d (uid %d): permission denied", (int)uc.pid,
			    (int)uc.uid);
			control_refuse(fd, "permission denied");
			continue;
		}
		if (c->nclients >= CONTROL_CLIENTS_MAX) {
			control_log(c, CONTROL_LOG_BUSY,
			    "pid %d: busy: %d clients already, refused",
			    (int)uc.pid, c->nclients);
			control_refuse(fd, "busy: too many control clients");
			continue;
		}
		if ((cl = calloc(1, sizeof(*cl))) == NULL ||
		    (cl->in = malloc(CONTROL_REQUEST_MAX)) == NULL) {
			free(cl);
			control_refuse(fd, "out of memory");
			continue;
		}
		cl->ctl = c;
		cl->fd = fd;
		cl->pid = uc.pid;
		cl->uid = uc.uid;
		ev_io_init(&cl->io, control_client_cb, fd, EV_READ);
		cl->io.data = cl;
		ev_init(&cl->idle, control_idle_cb);
		cl->idle.repeat = CONTROL_IDLE_S;
		cl->idle.data = cl;
		cl->next = c->clients;
		c->clients = cl;
		c->nclients++;
		ev_io_start(loop, &cl->io);
		ev_timer_again(loop, &cl->idle);
	}
}

void
control_server_reload_begin(struct control_server *c)
{
	struct control_client *cl;

	if (c->loop == NULL)
		return;
	for (cl = c->clients; cl != NULL; cl = cl->next)
		if (cl->wait == CONTROL_WAIT_NEXT)
			cl->wait = CONTROL_WAIT_THIS;
	memset(&c->last, 0, sizeof(c->last));
	c->last.valid = 1;
	c->last.begun_at = ev_time();
}

void
control_server_reload_done(
    struct control_server *c, int ok, unsigned generation, const char *reason)
{
	struct control_client *cl;
	json_t *o;

	if (c->loop == NULL)
		return;
	if (c->last.valid && !c->last.done) {
		c->last.done = 1;
		c->last.ok = ok;
		c->last.generation = generation;
		c->last.took_s = ev_time() - c->last.begun_at;
		snprintf(c->last.reason, sizeof(c->last.reason), "%s",
		    reason ? reason : "");
	}
	for (cl = c->clients; cl != NULL; cl = cl->next) {
		if (cl->wait != CONTROL_WAIT_THIS)
			continue;
		cl->wait = CONTROL_WAIT_NONE;
		if (ok)
			o = json_pack("{s:b, s:i}", "ok", 1, "generation",
			    (json_int_t)generation);
		else
			o = json_pack("{s:b, s:s}", "ok", 0, "error",
			    reason ? reason : "reload failed");
		if (o == NULL) {
			cl->dead = 1;
		} else
			control_client_send(cl, o);
		/*
		 * Settled from the loop, not here: we may be inside this very
		 * client's request, and it may have more lines buffered.
		 */
		ev_feed_event(c->loop, &cl->io, EV_CUSTOM);
	}
}

void
control_server_close(struct control_server *c)
{
	struct stat st;

	if (c->loop == NULL)
		return;
	while (c->clients != NULL) {
		if (c->clients->wait != CONTROL_WAIT_NONE)
			control_client_error(
			    c->clients, "the master is exiting", 0);
		control_client_free(c->clients);
	}
	ev_io_stop(c->loop, &c->io);
	close(c->fd);
	/* After an upgrade the path may be the new master's: leave it. */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	c->path = NULL;
	c->fd = -1;
	c->loop = NULL;
}

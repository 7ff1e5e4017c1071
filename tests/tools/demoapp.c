/* demoapp.c: a small HTTP app that serves on inherited listeners, for tests. */

/*
 * It behaves like an unmodified application under baton: it takes its
 * listening sockets from LISTEN_FDS (fds 3..), or binds them itself with
 * --listen, and drains gracefully on SIGTERM or SIGQUIT.
 *
 * Threads: the main thread owns every signal (they are blocked everywhere and
 * taken with sigtimedwait), one acceptor thread per listener blocks in
 * accept(), and each accepted connection gets a detached thread.  Inherited
 * listeners are shared with other processes, so they stay blocking (O_NONBLOCK
 * would live on the shared open file description) and are never shut down:
 * an acceptor blocked on a connection another process took is woken by a
 * signal sent with pthread_kill, over and over until it notices the drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS  64
#define LISTEN_BACKLOG 1024
#define REQUEST_MAX    8192
#define POLL_SLICE_MS  100
/* Between requests on a kept-alive connection, when not draining. */
#define IDLE_TIMEOUT_MS 60000
/*
 * A connection accepted before the drain but whose request has not arrived
 * yet is waited for this long after accept(): closing it at once would lose
 * a request the client already sent or is about to send.
 */
#define FIRST_REQUEST_MS 5000
/* After the last response, how long to read what the client still sends. */
#define LINGER_MS        2000
#define SLEEP_MAX_MS     600000
#define CONN_STACK_SIZE  (256 * 1024)
#define WAKE_INTERVAL_MS 20

struct listener {
	int fd; /* our copy; closed once the acceptor is gone */
	pthread_t thread;
	atomic_int done; /* set by the acceptor thread as it leaves */
};

struct conn {
	int fd;
	size_t len;      /* bytes in buf */
	unsigned served; /* requests answered on this connection */
	int64_t accepted_ms;
	char buf[REQUEST_MAX];
};

/* The whole app; a test tool, so one static instance is the simplest. */
static struct {
	struct listener listeners[MAX_LISTENERS];
	int nlisteners;
	atomic_int draining;
	atomic_int active; /* connections with a live thread */
	/*
	 * Becomes readable when the drain begins, so that connection threads
	 * waiting for a next request close idle connections at once.
	 */
	int drain_pipe[2];
	long drain_timeout_ms;
	long ready_delay_ms;
	int wake_signal;
} app = {.drain_timeout_ms = 30000};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One write per line so that lines from several processes never interleave. */
static void
say(const char *fmt, ...)
{
	char line[512];
	int n, m;
	va_list ap;

	n = snprintf(line, sizeof(line), "demoapp[%d]: ", (int)getpid());
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(2, line, (size_t)n);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: demoapp [options]\n"
	    "Serves HTTP on the listeners in LISTEN_FDS (fds 3..) and/or on\n"
	    "--listen addresses; drains gracefully on SIGTERM and SIGQUIT.\n"
	    "  --listen ADDR        bind ADDR itself: 127.0.0.1:8080, "
	    "[::1]:8080,\n"
	    "                       unix:/path (repeatable)\n"
	    "  --drain-timeout MS   cap on the graceful drain (default 30000)\n"
	    "  --ready-delay MS     wait before accepting and sending READY=1\n"
	    "                       to $NOTIFY_SOCKET (default 0)\n"
	    "  --crash-on-start     print a message and exit 1 at once\n"
	    "  --hang-on-start      never get ready; sleep until killed\n"
	    "  --exit CODE          exit with CODE at once\n"
	    "  --help               this text\n"
	    "Routes: GET / -> ok, /sleep?ms=N, /pid, /env?NAME; else 404.\n");
}

static long
parse_long(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "demoapp: %s: bad value '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static void
add_listener(int fd)
{
	if (app.nlisteners == MAX_LISTENERS) {
		fprintf(
		    stderr, "demoapp: more than %d listeners\n", MAX_LISTENERS);
		exit(2);
	}
	app.listeners[app.nlisteners++].fd = fd;
}

static int
bind_unix(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "demoapp: unix:%s: path too long\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* A socket left by a killed predecessor would make bind() fail. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		fprintf(
		    stderr, "demoapp: unix:%s: %s\n", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
bind_inet(const char *addr)
{
	char host[256];
	const char *port, *hstart;
	struct addrinfo hints, *res;
	size_t hlen;
	int fd, rc, one = 1;

	if (addr[0] == '[') {
		const char *close_br = strchr(addr, ']');

		if (close_br == NULL || close_br[1] != ':')
			goto bad;
		hlen = (size_t)(close_br - addr - 1);
		hstart = addr + 1;
		port = close_br + 2;
	} else {
		port = strrchr(addr, ':');
		if (port == NULL)
			goto bad;
		hlen = (size_t)(port - addr);
		hstart = addr;
		port++;
	}
	if (hlen == 0 || hlen >= sizeof(host) || *port == '\0')
		goto bad;
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "demoapp: %s: %s\n", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		fprintf(stderr, "demoapp: %s: %s\n", addr, strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
bad:
	fprintf(stderr,
	    "demoapp: --listen %s: expected HOST:PORT, "
	    "[HOST]:PORT or unix:PATH\n",
	    addr);
	return -1;
}

/* Exits 2 when the supervisor handed over something unusable. */
static void
take_inherited(void)
{
	const char *fds = getenv("LISTEN_FDS");
	const char *pid = getenv("LISTEN_PID");
	long n, i;
	int acc;
	socklen_t len;

	if (fds == NULL)
		return;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid()) {
		fprintf(stderr,
		    "demoapp[%d]: LISTEN_PID=%s is not my pid: the "
		    "sockets were meant for another process\n",
		    (int)getpid(), pid);
		exit(2);
	}
	n = parse_long("LISTEN_FDS", fds, 0, MAX_LISTENERS);
	for (i = 0; i < n; i++) {
		len = sizeof(acc);
		if (getsockopt(3 + (int)i, SOL_SOCKET, SO_ACCEPTCONN, &acc,
		        &len) == -1 ||
		    !acc) {
			fprintf(stderr,
			    "demoapp[%d]: LISTEN_FDS=%ld but fd %ld "
			    "is not a listening socket\n",
			    (int)getpid(), n, 3 + i);
			exit(2);
		}
		/* We never exec, but keep our copies out of any child. */
		fcntl(3 + (int)i, F_SETFD, FD_CLOEXEC);
		add_listener(3 + (int)i);
	}
}

static void
notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || *path == '\0')
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		say("NOTIFY_SOCKET too long");
		return;
	}
	memcpy(sun.sun_path, path, strlen(path));
	/* '@' names a socket in the abstract namespace. */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || sendto(fd, "READY=1", 7, MSG_NOSIGNAL,
	                    (struct sockaddr *)&sun, len) == -1)
		say("notify %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
}

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
respond(struct conn *c, int status, const char *body, int keep_alive, int head)
{
	char out[REQUEST_MAX + 256];
	const char *reason;
	size_t blen = strlen(body);
	int n;

	switch (status) {
	case 200:
		reason = "OK";
		break;
	case 400:
		reason = "Bad Request";
		break;
	case 404:
		reason = "Not Found";
		break;
	case 405:
		reason = "Method Not Allowed";
		break;
	case 431:
		reason = "Request Header Fields Too Large";
		break;
	default:
		reason = "Error";
		break;
	}
	/* One write: a split header and body would meet Nagle's delay. */
	n = snprintf(out, sizeof(out),
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s",
	    status, reason, blen, keep_alive ? "keep-alive" : "close",
	    head ? "" : body);
	if (n < 0 || (size_t)n >= sizeof(out))
		return -1;
	return send_all(c->fd, out, (size_t)n);
}

/* Does the comma-separated header value contain token (case-insensitive)? */
static int
has_token(const char *v, size_t vlen, const char *token)
{
	size_t tlen = strlen(token), i = 0, start, end;

	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < vlen && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tlen &&
		    strncasecmp(v + start, token, tlen) == 0)
			return 1;
	}
	return 0;
}

/*
 * Waits until buf holds a whole request head.  Returns its length including
 * the blank line, 0 when the connection should just be closed (EOF, error,
 * idle, drained), or -1 when the head is too large.
 */
static ssize_t
read_request(struct conn *c)
{
	int64_t last = now_ms();
	struct pollfd pfd[2];
	char *end;
	ssize_t r;
	int pr, draining;

	for (;;) {
		if (c->len > 0 &&
		    (end = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL)
			return end + 4 - c->buf;
		if (c->len == sizeof(c->buf))
			return -1;
		draining = atomic_load(&app.draining);
		if (c->len == 0 && draining) {
			/* An idle kept-alive connection: ours to close. */
			if (c->served > 0)
				return 0;
			if (now_ms() - c->accepted_ms > FIRST_REQUEST_MS)
				return 0;
		}
		if (now_ms() - last > IDLE_TIMEOUT_MS)
			return 0;
		pfd[0].fd = c->fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = app.drain_pipe[0];
		pfd[1].events = POLLIN;
		/* Once draining the pipe stays readable: leave it out. */
		pr = poll(pfd, draining ? 1 : 2, POLL_SLICE_MS);
		if (pr == -1 && errno != EINTR)
			return 0;
		if (pr <= 0 || !(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r == 0)
			return 0;
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return 0;
		}
		c->len += (size_t)r;
		last = now_ms();
	}
}

/* Reads and drops len body bytes (a GET with a body); -1 on failure. */
static int
skip_body(struct conn *c, size_t len)
{
	char sink[4096];
	ssize_t r;
	size_t take;

	take = len < c->len ? len : c->len;
	memmove(c->buf, c->buf + take, c->len - take);
	c->len -= take;
	len -= take;
	while (len > 0) {
		r = recv(
		    c->fd, sink, len < sizeof(sink) ? len : sizeof(sink), 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		len -= (size_t)r;
	}
	return 0;
}

/* Fills status and body for target. */
static void
route(const char *target, int *status, char *body, size_t bodysz)
{
	const char *q = strchr(target, '?');
	size_t plen = q != NULL ? (size_t)(q - target) : strlen(target);
	const char *query = q != NULL ? q + 1 : "";
	const char *v;
	char *end;
	long ms;

	*status = 200;
	if (plen == 1 && target[0] == '/') {
		snprintf(body, bodysz, "ok\n");
	} else if (plen == 4 && strncmp(target, "/pid", 4) == 0) {
		snprintf(body, bodysz, "%d\n", (int)getpid());
	} else if (plen == 6 && strncmp(target, "/sleep", 6) == 0) {
		ms = 0;
		for (v = query; v != NULL && *v != '\0';) {
			if (strncmp(v, "ms=", 3) == 0) {
				errno = 0;
				ms = strtol(v + 3, &end, 10);
				if (errno != 0 || end == v + 3 ||
				    (*end != '\0' && *end != '&') || ms < 0 ||
				    ms > SLEEP_MAX_MS) {
					*status = 400;
					snprintf(body, bodysz, "bad ms\n");
					return;
				}
			}
			v = strchr(v, '&');
			if (v != NULL)
				v++;
		}
		sleep_ms(ms);
		snprintf(body, bodysz, "ok\n");
	} else if (plen == 4 && strncmp(target, "/env", 4) == 0) {
		v = *query != '\0' ? getenv(query) : NULL;
		if (v == NULL) {
			*status = 404;
			snprintf(body, bodysz, "not set\n");
		} else {
			snprintf(body, bodysz, "%s\n", v);
		}
	} else {
		*status = 404;
		snprintf(body, bodysz, "not found\n");
	}
}

/*
 * Answers one request whose head is buf[0..hlen).  Returns 1 to keep the
 * connection open, 0 to close it.
 */
static int
serve_one(struct conn *c, size_t hlen)
{
	char target[REQUEST_MAX], body[REQUEST_MAX + 16];
	char *line, *next, *sp1, *sp2, *colon;
	const char *v, *headers_end = c->buf + hlen - 2;
	size_t body_len = 0, vlen;
	int http11, keep_alive, status, head = 0, bad = 0;

	line = c->buf;
	next = memmem(line, hlen, "\r\n", 2);
	sp1 = memchr(line, ' ', (size_t)(next - line));
	sp2 =
	    sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(next - sp1 - 1)) : NULL;
	if (sp1 == NULL || sp2 == NULL ||
	    (size_t)(sp2 - sp1 - 1) >= sizeof(target)) {
		respond(c, 400, "bad request\n", 0, 0);
		return 0;
	}
	memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	target[sp2 - sp1 - 1] = '\0';
	http11 = next - sp2 - 1 == 8 && strncmp(sp2 + 1, "HTTP/1.1", 8) == 0;
	keep_alive = http11;

	for (line = next + 2; line < headers_end; line = next + 2) {
		next =
		    memmem(line, (size_t)(headers_end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(next - line));
		if (colon == NULL)
			continue;
		v = colon + 1;
		while (v < next && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(next - v);
		if (colon - line == 10 &&
		    strncasecmp(line, "Connection", 10) == 0) {
			if (has_token(v, vlen, "close"))
				keep_alive = 0;
			else if (has_token(v, vlen, "keep-alive"))
				keep_alive = 1;
		} else if (colon - line == 14 &&
		           strncasecmp(line, "Content-Length", 14) == 0) {
			body_len = strtoul(v, NULL, 10);
		} else if (colon - line == 17 &&
		           strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			bad = 1; /* no chunked request bodies here */
		}
	}

	if (strncmp(c->buf, "HEAD ", 5) == 0)
		head = 1;
	else if (strncmp(c->buf, "GET ", 4) != 0)
		bad = 2;

	memmove(c->buf, c->buf + hlen, c->len - hlen);
	c->len -= hlen;
	if (bad == 1) {
		respond(c, 400, "chunked bodies unsupported\n", 0, 0);
		return 0;
	}
	if (body_len > 0 && skip_body(c, body_len) == -1)
		return 0;
	if (bad == 2) {
		status = 405;
		snprintf(body, sizeof(body), "only GET and HEAD\n");
	} else {
		route(target, &status, body, sizeof(body));
	}
	/* Decided late: a drain may have begun during a slow request. */
	if (atomic_load(&app.draining))
		keep_alive = 0;
	if (respond(c, status, body, keep_alive, head) == -1)
		return 0;
	c->served++;
	return keep_alive;
}

/*
 * Closes after the last response without losing it: close() with unread
 * input would send a reset that can destroy the response in flight, so we
 * half-close and read until the client closes too (bounded).
 */
static void
linger_close(int fd)
{
	int64_t until = now_ms() + LINGER_MS;
	struct pollfd pfd = {fd, POLLIN, 0};
	char sink[4096];
	int64_t left;

	shutdown(fd, SHUT_WR);
	while ((left = until - now_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) <= 0)
			break;
		if (recv(fd, sink, sizeof(sink), 0) <= 0)
			break;
	}
	close(fd);
}

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	ssize_t hlen;
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		hlen = read_request(c);
		if (hlen == -1) {
			respond(c, 431, "request head too large\n", 0, 0);
			break;
		}
		if (hlen == 0 || !serve_one(c, (size_t)hlen))
			break;
	}
	linger_close(c->fd);
	free(c);
	atomic_fetch_sub(&app.active, 1);
	return NULL;
}

static void
conn_start(int fd)
{
	pthread_attr_t attr;
	pthread_t t;
	struct conn *c;
	int rc;

	c = malloc(sizeof(*c));
	if (c == NULL) {
		say("out of memory: dropping a connection");
		close(fd);
		return;
	}
	c->fd = fd;
	c->len = 0;
	c->served = 0;
	c->accepted_ms = now_ms();
	/* Counted before the thread runs so that a drain cannot miss it. */
	atomic_fetch_add(&app.active, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, CONN_STACK_SIZE);
	rc = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		say("pthread_create: %s: dropping a connection", strerror(rc));
		close(fd);
		free(c);
		atomic_fetch_sub(&app.active, 1);
	}
}

static void
wake_handler(int sig)
{
	(void)sig; /* only there to make accept() fail with EINTR */
}

static void *
acceptor_main(void *arg)
{
	struct listener *l = arg;
	struct pollfd pfd = {l->fd, POLLIN, 0};
	int fd;

	while (!atomic_load(&app.draining)) {
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd != -1) {
			/*
			 * Served even when the drain began meanwhile: it left
			 * the shared queue, nobody else can answer it now.
			 */
			conn_start(fd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			break;
		case EAGAIN:
			/* Someone made the shared socket non-blocking. */
			poll(&pfd, 1, POLL_SLICE_MS);
			break;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			say("accept on fd %d: %s", l->fd, strerror(errno));
			sleep_ms(100);
			break;
		case EBADF:
		case EINVAL:
		case ENOTSOCK:
		case EOPNOTSUPP:
			say("accept on fd %d: %s: giving up this listener",
			    l->fd, strerror(errno));
			atomic_store(&l->done, 1);
			return NULL;
		default:
			break; /* network errors of the pending connection */
		}
	}
	atomic_store(&l->done, 1);
	return NULL;
}

/*
 * Waits up to ms for TERM, QUIT or INT (all blocked).  Returns the signal,
 * or 0 when the time ran out.  INT exits at once, as the contract says.
 */
static int
wait_signal(const sigset_t *set, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	int sig;

	do {
		sig = sigtimedwait(set, NULL, &ts);
	} while (sig == -1 && errno == EINTR);
	if (sig == SIGINT) {
		say("SIGINT: exiting at once");
		_exit(130);
	}
	return sig == -1 ? 0 : sig;
}

static void
start_acceptors(void)
{
	struct listener *l;
	int i, rc;

	for (i = 0; i < app.nlisteners; i++) {
		l = &app.listeners[i];
		rc = pthread_create(&l->thread, NULL, acceptor_main, l);
		if (rc != 0) {
			say("pthread_create: %s", strerror(rc));
			exit(1);
		}
	}
}

static void
stop_acceptors(void)
{
	int i, left;

	do {
		left = 0;
		for (i = 0; i < app.nlisteners; i++) {
			if (atomic_load(&app.listeners[i].done))
				continue;
			left++;
			pthread_kill(app.listeners[i].thread, app.wake_signal);
		}
		if (left > 0)
			sleep_ms(WAKE_INTERVAL_MS);
	} while (left > 0);
	for (i = 0; i < app.nlisteners; i++) {
		pthread_join(app.listeners[i].thread, NULL);
		close(app.listeners[i].fd);
	}
}

static _Noreturn void
drain(const sigset_t *set, int sig, int accepting)
{
	int64_t deadline;
	int i, n;

	atomic_store(&app.draining, 1);
	(void)!write(app.drain_pipe[1], "", 1);
	say("%s: draining (%d connections)",
	    sig == SIGQUIT ? "SIGQUIT" : "SIGTERM", atomic_load(&app.active));
	if (accepting) {
		stop_acceptors();
	} else {
		for (i = 0; i < app.nlisteners; i++)
			close(app.listeners[i].fd);
	}
	deadline = now_ms() + app.drain_timeout_ms;
	while ((n = atomic_load(&app.active)) > 0 && now_ms() < deadline)
		wait_signal(set, WAKE_INTERVAL_MS);
	if (n > 0)
		say("drain timed out after %ld ms with %d connections open",
		    app.drain_timeout_ms, n);
	else
		say("drained, exiting");
	_exit(0);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"drain-timeout", required_argument, NULL, 'D'},
	    {"ready-delay", required_argument, NULL, 'r'},
	    {"crash-on-start", no_argument, NULL, 'C'},
	    {"hang-on-start", no_argument, NULL, 'H'},
	    {"exit", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *listen_addrs[MAX_LISTENERS];
	int nlisten = 0, crash = 0, hang = 0, exit_code = -1, opt, i, fd, sig;
	struct sigaction sa;
	sigset_t set;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (nlisten == MAX_LISTENERS) {
				fprintf(stderr, "demoapp: too many --listen\n");
				return 2;
			}
			listen_addrs[nlisten++] = optarg;
			break;
		case 'D':
			app.drain_timeout_ms = parse_long(
			    "--drain-timeout", optarg, 0, LONG_MAX / 2);
			break;
		case 'r':
			app.ready_delay_ms = parse_long(
			    "--ready-delay", optarg, 0, LONG_MAX / 2);
			break;
		case 'C':
			crash = 1;
			break;
		case 'H':
			hang = 1;
			break;
		case 'x':
			exit_code = (int)parse_long("--exit", optarg, 0, 255);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "demoapp: unexpected argument '%s'\n",
		    argv[optind]);
		return 2;
	}
	if (exit_code >= 0) {
		say("exiting with %d as asked", exit_code);
		return exit_code;
	}
	if (crash) {
		say("crashing on start as asked");
		return 1;
	}
	if (hang) {
		say("hanging on start as asked");
		for (;;)
			pause();
	}

	take_inherited();
	for (i = 0; i < nlisten; i++) {
		if (strncmp(listen_addrs[i], "unix:", 5) == 0)
			fd = bind_unix(listen_addrs[i] + 5);
		else
			fd = bind_inet(listen_addrs[i]);
		if (fd == -1)
			return 1;
		add_listener(fd);
	}
	if (app.nlisteners == 0) {
		fprintf(stderr, "demoapp: no listeners: set LISTEN_FDS or "
		                "give --listen\n");
		return 2;
	}

	if (pipe2(app.drain_pipe, O_CLOEXEC) == -1) {
		say("pipe2: %s", strerror(errno));
		return 1;
	}

	/* Blocked before any thread exists, so only sigtimedwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	app.wake_signal = SIGRTMIN;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: accept() must return EINTR */
	sigaction(app.wake_signal, &sa, NULL);

	if (app.ready_delay_ms > 0) {
		sig = wait_signal(&set, app.ready_delay_ms);
		if (sig != 0)
			drain(&set, sig, 0);
	}
	start_acceptors();
	say("serving %d listeners", app.nlisteners);
	notify_ready();
	for (;;) {
		sig = wait_signal(&set, 60000);
		if (sig != 0)
			drain(&set, sig, 1);
	}
}

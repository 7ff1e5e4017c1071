/* loadcheck.c: HTTP load that accounts for every request, the loss judge. */

/*
 * Each client thread issues requests back to back and classifies every one
 * of them; a request counts as lost unless a complete 2xx response came back
 * within --timeout.  Results are kept per thread (no locks on the hot path)
 * and summed at the end; the live line reads relaxed atomic counters.
 * Signals are blocked in every thread and taken by the main thread with
 * sigtimedwait, so no system call in a client is ever interrupted.
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
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX     16384
#define MAX_ERRS     32
#define CLIENT_STACK (256 * 1024)
/* After a complete Connection: close response, wait this long for the EOF. */
#define EOF_WAIT_MS   1000
#define UNIX_RETRY_NS 2000000
/*
 * After a lost request a client pauses this long: a refusing server would
 * otherwise get a busy loop of connects from every client, starving the
 * very process being restarted on a small machine.
 */
#define LOST_PAUSE_NS 10000000

/* Our own failure reasons, beside errno values, in the "errors" map. */
#define ERR_BAD_RESPONSE  (-1)
#define ERR_HEAD_TOO_LONG (-2)
#define ERR_CHUNKED       (-3)

enum outcome {
	OUT_OK,
	OUT_REFUSED,
	OUT_RESET,
	OUT_EOF,
	OUT_TIMEOUT,
	OUT_NON2XX,
	OUT_OTHER,
	OUT_N,
	/* Internal: a reused connection closed before any answer; retried. */
	OUT_KA_CLOSED
};

static const char *const outcome_names[OUT_N] = {
    "ok", "refused", "reset", "eof", "timeout", "non2xx", "other"};

/* One request, for percentiles and the timeline. */
struct rec {
	uint32_t start_ms; /* since the run began */
	uint32_t latency_us;
	uint8_t outcome;
};

struct errcount {
	int err; /* errno, or one of ERR_* */
	uint64_t count;
};

struct client {
	pthread_t thread;
	uint64_t rng;
	int fd; /* kept-alive connection, or -1 */
	struct rec *recs;
	size_t nrecs, cap;
	struct errcount errs[MAX_ERRS];
	int nerrs;
	uint64_t keepalive_closed;
	char buf[HEAD_MAX];
};

/* Options and shared state of the run. */
static struct {
	int clients;
	double duration_s;
	double slow_fraction;
	long slow_ms;
	long timeout_ms;
	int keepalive;
	int live;
	int fail_on_loss;
	double rate;
	const char *json_path;
	const char *timeline_path;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *req_fast, *req_slow;
	size_t req_fast_len, req_slow_len;
	int64_t begin_ns;
	atomic_int stop;
	atomic_int finished;
	atomic_uint_fast64_t counts[OUT_N];
	atomic_uint_fast64_t keepalive_closed;
	atomic_uint_fast64_t connections;
} run = {.clients = 50, .duration_s = 10, .slow_ms = 1500, .timeout_ms = 10000};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Milliseconds left before deadline, rounded up, for poll(). */
static int
ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ns();

	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: loadcheck [options] http://HOST:PORT/PATH\n"
	    "       loadcheck [options] --unix PATH [http://HOST/PATH]\n"
	    "Counts every request the server fails to answer.\n"
	    "  -c N                concurrent clients (default 50)\n"
	    "  -d SECONDS          run at most this long (default 10)\n"
	    "  --slow-fraction F   share of requests sent to /sleep "
	    "(default 0)\n"
	    "  --slow-ms MS        sleep of those requests (default 1500)\n"
	    "  --timeout MS        per request (default 10000)\n"
	    "  --keepalive         reuse connections\n"
	    "  --rate R            at most R requests/s per client\n"
	    "  --json FILE         also write the summary to FILE\n"
	    "  --timeline FILE     CSV: start_ms,latency_ms,outcome\n"
	    "  --live              a tally line on stderr every second\n"
	    "  --fail-on-loss      exit 3 when any request was lost\n"
	    "SIGINT or SIGTERM stop the load; in-flight requests finish.\n"
	    "A client pauses 10 ms after each lost request.\n"
	    "Exit: 0, 3 (loss with --fail-on-loss), 2 (usage), 1 (error).\n");
}

static _Noreturn void
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "loadcheck: %s: '%s'\n", what, arg);
	usage(stderr);
	exit(2);
}

static double
parse_double(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min) ||
	    !(v <= max))
		usage_error(opt, s);
	return v;
}

/*
 * Splits http://HOST[:PORT]/PATH.  host gets the name to resolve, authority
 * the Host header, path the request target.  Returns -1 when malformed.
 */
static int
parse_url(const char *url, char *host, size_t hostsz, char *port, size_t portsz,
    char *authority, size_t authsz, char *path, size_t pathsz)
{
	const char *p, *a, *slash, *close_br, *colon, *hstart;
	size_t alen, hlen;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	a = url + 7;
	slash = strchr(a, '/');
	alen = slash != NULL ? (size_t)(slash - a) : strlen(a);
	if (alen == 0 || alen >= authsz)
		return -1;
	memcpy(authority, a, alen);
	authority[alen] = '\0';
	p = slash != NULL ? slash : "/";
	if (strlen(p) >= pathsz)
		return -1;
	strcpy(path, p);

	if (authority[0] == '[') {
		close_br = strchr(authority, ']');
		if (close_br == NULL ||
		    (close_br[1] != ':' && close_br[1] != '\0'))
			return -1;
		hstart = authority + 1;
		hlen = (size_t)(close_br - hstart);
		colon = close_br[1] == ':' ? close_br + 1 : NULL;
	} else {
		colon = strrchr(authority, ':');
		hstart = authority;
		hlen = colon != NULL ? (size_t)(colon - authority) : alen;
	}
	if (hlen >= hostsz)
		return -1;
	memcpy(host, hstart, hlen);
	if (hlen == 0)
		return -1;
	host[hlen] = '\0';
	if (colon == NULL)
		snprintf(port, portsz, "80");
	else if (colon[1] == '\0' || strlen(colon + 1) >= portsz)
		return -1;
	else
		strcpy(port, colon + 1);
	return 0;
}

static char *
build_request(const char *path, const char *authority, size_t *len)
{
	char *req;
	int n;

	n = asprintf(&req,
	    "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: loadcheck\r\n%s\r\n",
	    path, authority, run.keepalive ? "" : "Connection: close\r\n");
	if (n < 0) {
		perror("loadcheck: asprintf");
		exit(1);
	}
	*len = (size_t)n;
	return req;
}

static uint64_t
rng_next(uint64_t *s)
{
	/* xorshift64*: plenty for choosing slow requests. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void
note_error(struct client *c, int err)
{
	int i;

	for (i = 0; i < c->nerrs; i++) {
		if (c->errs[i].err == err) {
			c->errs[i].count++;
			return;
		}
	}
	if (c->nerrs < MAX_ERRS) {
		c->errs[c->nerrs].err = err;
		c->errs[c->nerrs].count = 1;
		c->nerrs++;
	}
}

static enum outcome
classify_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return OUT_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return OUT_RESET;
	case ETIMEDOUT:
		return OUT_TIMEOUT;
	default:
		return OUT_OTHER;
	}
}

/* Returns a connected socket, or -1 with *out and *err set. */
static int
open_conn(int64_t deadline, enum outcome *out, int *err)
{
	struct pollfd pfd;
	socklen_t len;
	int fd, one = 1, soerr, pr;

	fd = socket(
	    run.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*err = errno;
		*out = OUT_OTHER;
		return -1;
	}
	atomic_fetch_add_explicit(&run.connections, 1, memory_order_relaxed);
	if (run.addr.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		if (connect(fd, (struct sockaddr *)&run.addr, run.addrlen) == 0)
			return fd;
		/*
		 * A UNIX socket with a full backlog says EAGAIN at once where
		 * TCP would quietly retry the SYN: the server is busy, not
		 * gone, so keep trying until the deadline.
		 */
		if (errno == EAGAIN && run.addr.ss_family == AF_UNIX) {
			struct timespec ts = {0, UNIX_RETRY_NS};

			if (now_ns() >= deadline) {
				*err = ETIMEDOUT;
				*out = OUT_TIMEOUT;
				close(fd);
				return -1;
			}
			nanosleep(&ts, NULL);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EINPROGRESS) {
			*err = errno;
			*out = classify_errno(errno);
			close(fd);
			return -1;
		}
		break;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
		pr = poll(&pfd, 1, ms_left(deadline));
	} while (pr == -1 && errno == EINTR);
	if (pr == 0) {
		*err = ETIMEDOUT;
		*out = OUT_TIMEOUT;
		close(fd);
		return -1;
	}
	len = sizeof(soerr);
	if (pr == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1) {
		*err = errno;
		*out = OUT_OTHER;
		close(fd);
		return -1;
	}
	if (soerr != 0) {
		*err = soerr;
		*out = classify_errno(soerr);
		close(fd);
		return -1;
	}
	return fd;
}

/* Returns 0 or an errno value (ETIMEDOUT when the deadline passed). */
static int
send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	struct pollfd pfd = {fd, POLLOUT, 0};
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno;
		if (poll(&pfd, 1, ms_left(deadline)) == 0)
			return ETIMEDOUT;
	}
	return 0;
}

/*
 * Reads into buf.  Returns bytes read (> 0), 0 at EOF, or -1 with *err set
 * (ETIMEDOUT when the deadline passed).
 */
static ssize_t
recv_some(int fd, char *buf, size_t sz, int64_t deadline, int *err)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	ssize_t r;
	int pr;

	for (;;) {
		r = recv(fd, buf, sz, 0);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			*err = errno;
			return -1;
		}
		pr = poll(&pfd, 1, ms_left(deadline));
		if (pr == 0) {
			*err = ETIMEDOUT;
			return -1;
		}
		if (pr == -1 && errno != EINTR) {
			*err = errno;
			return -1;
		}
	}
}

/* Is token in the comma-separated header value v[0..vlen)? */
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

struct response {
	int status;
	long long content_length; /* -1: none, read to EOF */
	int close;                /* the server will close after it */
};

/* Parses a complete head buf[0..hlen).  Returns 0, or an ERR_* value. */
static int
parse_head(const char *buf, size_t hlen, struct response *resp)
{
	const char *line, *next, *colon, *v, *end = buf + hlen - 2;
	size_t vlen;
	char *numend;
	int http11;

	if (hlen < 14 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return ERR_BAD_RESPONSE;
	http11 = buf[7] == '1';
	resp->status = (int)strtol(buf + 9, &numend, 10);
	if (numend != buf + 12 || resp->status < 100)
		return ERR_BAD_RESPONSE;
	resp->content_length = -1;
	resp->close = !http11;
	line = (const char *)memmem(buf, hlen, "\r\n", 2) + 2;
	for (; line < end; line = next + 2) {
		next = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(next - line));
		if (colon == NULL)
			return ERR_BAD_RESPONSE;
		v = colon + 1;
		while (v < next && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(next - v);
		if (colon - line == 14 &&
		    strncasecmp(line, "Content-Length", 14) == 0) {
			resp->content_length = strtoll(v, &numend, 10);
			if (numend == v || resp->content_length < 0)
				return ERR_BAD_RESPONSE;
		} else if (colon - line == 10 &&
		           strncasecmp(line, "Connection", 10) == 0) {
			if (has_token(v, vlen, "close"))
				resp->close = 1;
			else if (has_token(v, vlen, "keep-alive"))
				resp->close = 0;
		} else if (colon - line == 17 &&
		           strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			return ERR_CHUNKED;
		}
	}
	/* 1xx, 204 and 304 carry no body whatever the headers say. */
	if (resp->status < 200 || resp->status == 204 || resp->status == 304)
		resp->content_length = 0;
	if (resp->content_length == -1)
		resp->close = 1;
	return 0;
}

/* Waits (bounded) for the server's FIN so that TIME_WAIT stays its side. */
static void
wait_eof(struct client *c, int fd, int64_t deadline)
{
	int64_t until = now_ns() + (int64_t)EOF_WAIT_MS * 1000000;
	int err;

	if (until > deadline)
		until = deadline;
	while (recv_some(fd, c->buf, sizeof(c->buf), until, &err) > 0)
		;
}

/*
 * One request on c's connection (kept-alive or fresh).  Returns its outcome,
 * or OUT_KA_CLOSED when a reused connection turned out to be closed by the
 * server before any byte of the answer; *err is set for OUT_OTHER.
 */
static enum outcome
exchange(struct client *c, const char *req, size_t reqlen, int64_t deadline,
    int *err)
{
	struct response resp;
	enum outcome out;
	size_t have = 0, hlen = 0;
	long long body = 0;
	char *eoh;
	ssize_t r;
	int fd, reused, rc;

	reused = c->fd != -1;
	if (reused) {
		fd = c->fd;
		c->fd = -1;
	} else {
		fd = open_conn(deadline, &out, err);
		if (fd == -1)
			return out;
	}

	rc = send_all(fd, req, reqlen, deadline);
	if (rc != 0) {
		close(fd);
		if (reused && (rc == EPIPE || rc == ECONNRESET))
			return OUT_KA_CLOSED;
		*err = rc;
		return classify_errno(rc);
	}

	/* The head. */
	for (;;) {
		r = recv_some(
		    fd, c->buf + have, sizeof(c->buf) - have, deadline, err);
		if (r <= 0) {
			close(fd);
			if (reused && have == 0 &&
			    (r == 0 || *err == ECONNRESET))
				return OUT_KA_CLOSED;
			if (r == 0)
				return OUT_EOF;
			return classify_errno(*err);
		}
		have += (size_t)r;
		eoh = memmem(c->buf, have, "\r\n\r\n", 4);
		if (eoh != NULL) {
			hlen = (size_t)(eoh + 4 - c->buf);
			break;
		}
		if (have == sizeof(c->buf)) {
			close(fd);
			*err = ERR_HEAD_TOO_LONG;
			return OUT_OTHER;
		}
	}
	rc = parse_head(c->buf, hlen, &resp);
	if (rc != 0) {
		close(fd);
		*err = rc;
		return OUT_OTHER;
	}

	/* The body: by Content-Length, or up to EOF. */
	body = (long long)(have - hlen);
	while (resp.content_length < 0 || body < resp.content_length) {
		r = recv_some(fd, c->buf, sizeof(c->buf), deadline, err);
		if (r == 0 && resp.content_length < 0)
			break;
		if (r <= 0) {
			close(fd);
			return r == 0 ? OUT_EOF : classify_errno(*err);
		}
		body += r;
	}
	if (resp.content_length >= 0 && body > resp.content_length) {
		/* Extra bytes: we never pipeline, so the server is confused. */
		close(fd);
		*err = ERR_BAD_RESPONSE;
		return OUT_OTHER;
	}

	out = resp.status >= 200 && resp.status < 300 ? OUT_OK : OUT_NON2XX;
	if (run.keepalive && !resp.close) {
		c->fd = fd;
	} else {
		/* Only when the server said it will close: else no FIN comes.
		 */
		if (resp.close && resp.content_length >= 0)
			wait_eof(c, fd, deadline);
		close(fd);
	}
	return out;
}

static void
record(struct client *c, int64_t start, enum outcome out, int err)
{
	int64_t lat_us = (now_ns() - start) / 1000;
	struct rec *r;

	if (c->nrecs == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->recs = realloc(c->recs, c->cap * sizeof(*c->recs));
		if (c->recs == NULL) {
			perror("loadcheck: realloc");
			exit(1);
		}
	}
	r = &c->recs[c->nrecs++];
	r->start_ms = (uint32_t)((start - run.begin_ns) / 1000000);
	r->latency_us = lat_us > UINT32_MAX ? UINT32_MAX : (uint32_t)lat_us;
	r->outcome = (uint8_t)out;
	if (out == OUT_OTHER)
		note_error(c, err);
	atomic_fetch_add_explicit(&run.counts[out], 1, memory_order_relaxed);
}

/* Sleeps until t (monotonic ns) or the stop flag, whichever comes first. */
static void
pace_until(int64_t t)
{
	struct timespec ts;
	int64_t left;

	while (!atomic_load(&run.stop) && (left = t - now_ns()) > 0) {
		if (left > 100000000)
			left = 100000000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	int64_t start, deadline, next = now_ns(), period = 0;
	enum outcome out;
	const char *req;
	size_t len;
	int err, slow;

	if (run.rate > 0) {
		/*
		 * Clients start at random phases of the period: in step, they
		 * would all hit the server at the same instants.
		 */
		period = (int64_t)(1e9 / run.rate);
		next += (int64_t)((double)(rng_next(&c->rng) >> 11) *
		                  0x1.0p-53 * (double)period);
		pace_until(next);
	}
	while (!atomic_load(&run.stop)) {
		slow = run.slow_fraction > 0 &&
		       (double)(rng_next(&c->rng) >> 11) * 0x1.0p-53 <
		           run.slow_fraction;
		req = slow ? run.req_slow : run.req_fast;
		len = slow ? run.req_slow_len : run.req_fast_len;
		start = now_ns();
		deadline = start + (int64_t)run.timeout_ms * 1000000;
		err = 0;
		out = exchange(c, req, len, deadline, &err);
		if (out == OUT_KA_CLOSED) {
			/* Normal HTTP keep-alive life: retry once, afresh. */
			c->keepalive_closed++;
			atomic_fetch_add_explicit(
			    &run.keepalive_closed, 1, memory_order_relaxed);
			out = exchange(c, req, len, deadline, &err);
			if (out == OUT_KA_CLOSED) /* cannot happen: fresh */
				out = OUT_EOF;
		}
		record(c, start, out, err);
		if (out != OUT_OK)
			pace_until(now_ns() + LOST_PAUSE_NS);
		if (run.rate > 0) {
			next += period;
			pace_until(next);
		}
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	atomic_fetch_add(&run.finished, 1);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_rec_start(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return (x->start_ms > y->start_ms) - (x->start_ms < y->start_ms);
}

static const char *
err_text(int err)
{
	switch (err) {
	case ERR_BAD_RESPONSE:
		return "malformed response";
	case ERR_HEAD_TOO_LONG:
		return "response head too long";
	case ERR_CHUNKED:
		return "chunked response unsupported";
	default:
		return strerror(err);
	}
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static double
percentile_ms(const uint32_t *lat, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	/* Nearest rank: the ceil(p * n)-th smallest. */
	i = (size_t)(p * (double)n);
	if ((double)i < p * (double)n)
		i++;
	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return lat[i] / 1000.0;
}

struct summary {
	uint64_t counts[OUT_N];
	uint64_t requests, lost, keepalive_closed, connections;
	double p50, p99, max, duration_s;
	struct errcount errs[MAX_ERRS];
	int nerrs;
};

static void
summarize(struct client *cs, struct summary *s, double duration_s)
{
	uint32_t *lat;
	size_t i, n = 0, k;
	int j, e;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < (size_t)run.clients; i++)
		n += cs[i].nrecs;
	lat = malloc((n ? n : 1) * sizeof(*lat));
	if (lat == NULL) {
		perror("loadcheck: malloc");
		exit(1);
	}
	n = 0;
	for (i = 0; i < (size_t)run.clients; i++) {
		for (k = 0; k < cs[i].nrecs; k++) {
			lat[n++] = cs[i].recs[k].latency_us;
			s->counts[cs[i].recs[k].outcome]++;
		}
		s->keepalive_closed += cs[i].keepalive_closed;
		for (j = 0; j < cs[i].nerrs; j++) {
			for (e = 0; e < s->nerrs; e++)
				if (s->errs[e].err == cs[i].errs[j].err)
					break;
			if (e == s->nerrs) {
				if (s->nerrs == MAX_ERRS)
					continue;
				s->errs[e].err = cs[i].errs[j].err;
				s->nerrs++;
			}
			s->errs[e].count += cs[i].errs[j].count;
		}
	}
	qsort(lat, n, sizeof(*lat), cmp_u32);
	s->requests = n;
	for (j = OUT_REFUSED; j < OUT_N; j++)
		s->lost += s->counts[j];
	s->p50 = percentile_ms(lat, n, 0.50);
	s->p99 = percentile_ms(lat, n, 0.99);
	s->max = n ? lat[n - 1] / 1000.0 : 0;
	s->duration_s = duration_s;
	s->connections = atomic_load(&run.connections);
	free(lat);
}

static void
print_json(FILE *f, const struct summary *s)
{
	int j;

	fprintf(f, "{\"requests\":%llu,\"ok\":%llu,\"lost\":%llu",
	    (unsigned long long)s->requests,
	    (unsigned long long)s->counts[OUT_OK], (unsigned long long)s->lost);
	for (j = OUT_REFUSED; j < OUT_N; j++)
		fprintf(f, ",\"%s\":%llu", outcome_names[j],
		    (unsigned long long)s->counts[j]);
	fprintf(f,
	    ",\"keepalive_closed\":%llu,\"connections\":%llu,"
	    "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
	    "\"duration_s\":%.3f,\"errors\":{",
	    (unsigned long long)s->keepalive_closed,
	    (unsigned long long)s->connections, s->p50, s->p99, s->max,
	    s->duration_s);
	for (j = 0; j < s->nerrs; j++) {
		if (j > 0)
			fputc(',', f);
		json_string(f, err_text(s->errs[j].err));
		fprintf(f, ":%llu", (unsigned long long)s->errs[j].count);
	}
	fprintf(f, "}}\n");
}

static int
write_timeline(struct client *cs, const char *path)
{
	struct rec *all;
	size_t i, n = 0;
	FILE *f;

	for (i = 0; i < (size_t)run.clients; i++)
		n += cs[i].nrecs;
	all = malloc((n ? n : 1) * sizeof(*all));
	if (all == NULL)
		return -1;
	n = 0;
	for (i = 0; i < (size_t)run.clients; i++) {
		memcpy(all + n, cs[i].recs, cs[i].nrecs * sizeof(*all));
		n += cs[i].nrecs;
	}
	qsort(all, n, sizeof(*all), cmp_rec_start);
	f = fopen(path, "w");
	if (f == NULL) {
		free(all);
		return -1;
	}
	fprintf(f, "start_ms,latency_ms,outcome\n");
	for (i = 0; i < n; i++)
		fprintf(f, "%u,%.3f,%s\n", all[i].start_ms,
		    all[i].latency_us / 1000.0, outcome_names[all[i].outcome]);
	free(all);
	return fclose(f);
}

static void
print_live(void)
{
	uint64_t c[OUT_N], lost = 0;
	int j;

	for (j = 0; j < OUT_N; j++)
		c[j] =
		    atomic_load_explicit(&run.counts[j], memory_order_relaxed);
	for (j = OUT_REFUSED; j < OUT_N; j++)
		lost += c[j];
	fprintf(stderr,
	    "t=%llds ok=%llu lost=%llu (refused %llu reset %llu "
	    "eof %llu timeout %llu non2xx %llu other %llu)\n",
	    (long long)((now_ns() - run.begin_ns) / 1000000000),
	    (unsigned long long)c[OUT_OK], (unsigned long long)lost,
	    (unsigned long long)c[OUT_REFUSED],
	    (unsigned long long)c[OUT_RESET], (unsigned long long)c[OUT_EOF],
	    (unsigned long long)c[OUT_TIMEOUT],
	    (unsigned long long)c[OUT_NON2XX],
	    (unsigned long long)c[OUT_OTHER]);
}

/* Sets up run.addr from the URL or the --unix path; exits 2 if unusable. */
static void
resolve_target(const char *url, const char *unix_path, const char **path,
    const char **authority)
{
	static char host[256], port[32], auth[300], pbuf[2048];
	struct sockaddr_un *sun;
	struct addrinfo hints, *res;
	int rc;

	if (url != NULL &&
	    parse_url(url, host, sizeof(host), port, sizeof(port), auth,
	        sizeof(auth), pbuf, sizeof(pbuf)) == -1)
		usage_error("bad URL (want http://HOST:PORT/PATH)", url);
	*path = url != NULL ? pbuf : "/";
	*authority = url != NULL ? auth : "localhost";
	if (unix_path != NULL) {
		sun = (struct sockaddr_un *)&run.addr;
		if (strlen(unix_path) >= sizeof(sun->sun_path))
			usage_error("--unix path too long", unix_path);
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, unix_path);
		run.addrlen = sizeof(*sun);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "loadcheck: %s: %s\n", host, gai_strerror(rc));
		exit(2);
	}
	memcpy(&run.addr, res->ai_addr, res->ai_addrlen);
	run.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"slow-fraction", required_argument, NULL, 'f'},
	    {"slow-ms", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 't'},
	    {"keepalive", no_argument, NULL, 'k'},
	    {"json", required_argument, NULL, 'j'},
	    {"live", no_argument, NULL, 'L'},
	    {"timeline", required_argument, NULL, 'T'},
	    {"rate", required_argument, NULL, 'r'},
	    {"fail-on-loss", no_argument, NULL, 'F'},
	    {"unix", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *unix_path = NULL, *path, *authority;
	char slow_path[2100];
	struct client *cs;
	struct summary sum;
	pthread_attr_t attr;
	struct timespec ts;
	FILE *json = NULL;
	sigset_t set;
	int64_t end_ns, next_live, wait_ns;
	int opt, i, rc, sig;

	while ((opt = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			run.clients = (int)parse_double("-c", optarg, 1, 10000);
			break;
		case 'd':
			run.duration_s =
			    parse_double("-d", optarg, 0.001, 86400);
			break;
		case 'f':
			run.slow_fraction =
			    parse_double("--slow-fraction", optarg, 0, 1);
			break;
		case 's':
			run.slow_ms =
			    (long)parse_double("--slow-ms", optarg, 0, 3600000);
			break;
		case 't':
			run.timeout_ms =
			    (long)parse_double("--timeout", optarg, 1, 3600000);
			break;
		case 'k':
			run.keepalive = 1;
			break;
		case 'j':
			run.json_path = optarg;
			break;
		case 'L':
			run.live = 1;
			break;
		case 'T':
			run.timeline_path = optarg;
			break;
		case 'r':
			run.rate = parse_double("--rate", optarg, 0, 1e6);
			break;
		case 'F':
			run.fail_on_loss = 1;
			break;
		case 'u':
			unix_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		url = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);
	if (url == NULL && unix_path == NULL) {
		fprintf(stderr, "loadcheck: no target\n");
		usage(stderr);
		return 2;
	}
	resolve_target(url, unix_path, &path, &authority);
	snprintf(slow_path, sizeof(slow_path), "/sleep?ms=%ld", run.slow_ms);
	run.req_fast = build_request(path, authority, &run.req_fast_len);
	run.req_slow = build_request(slow_path, authority, &run.req_slow_len);
	/* Opened first: a typo should fail before the load, not after. */
	if (run.json_path != NULL &&
	    (json = fopen(run.json_path, "w")) == NULL) {
		fprintf(stderr, "loadcheck: %s: %s\n", run.json_path,
		    strerror(errno));
		return 1;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	cs = calloc((size_t)run.clients, sizeof(*cs));
	if (cs == NULL) {
		perror("loadcheck: calloc");
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CLIENT_STACK);
	run.begin_ns = now_ns();
	for (i = 0; i < run.clients; i++) {
		cs[i].fd = -1;
		cs[i].rng = (uint64_t)run.begin_ns ^
		            (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1));
		if (cs[i].rng == 0)
			cs[i].rng = 1;
		rc = pthread_create(&cs[i].thread, &attr, client_main, &cs[i]);
		if (rc != 0) {
			fprintf(stderr, "loadcheck: pthread_create: %s\n",
			    strerror(rc));
			return 1;
		}
	}
	pthread_attr_destroy(&attr);

	/* Run until -d or a signal, then until every client is done. */
	end_ns = run.begin_ns + (int64_t)(run.duration_s * 1e9);
	next_live = run.begin_ns + 1000000000;
	while (atomic_load(&run.finished) < run.clients) {
		wait_ns = next_live - now_ns();
		if (!atomic_load(&run.stop) && end_ns - now_ns() < wait_ns)
			wait_ns = end_ns - now_ns();
		if (wait_ns < 0)
			wait_ns = 0;
		/* Short slices after the stop: clients finish any moment. */
		if (atomic_load(&run.stop) && wait_ns > 20000000)
			wait_ns = 20000000;
		ts.tv_sec = (time_t)(wait_ns / 1000000000);
		ts.tv_nsec = (long)(wait_ns % 1000000000);
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0 && !atomic_load(&run.stop))
			atomic_store(&run.stop, 1);
		if (now_ns() >= end_ns)
			atomic_store(&run.stop, 1);
		if (now_ns() >= next_live) {
			if (run.live)
				print_live();
			next_live += 1000000000;
		}
	}
	for (i = 0; i < run.clients; i++)
		pthread_join(cs[i].thread, NULL);

	summarize(cs, &sum, (double)(now_ns() - run.begin_ns) / 1e9);
	if (run.live)
		print_live();
	print_json(stdout, &sum);
	fflush(stdout);
	rc = 0;
	if (json != NULL) {
		print_json(json, &sum);
		if (fclose(json) != 0) {
			fprintf(stderr, "loadcheck: %s: %s\n", run.json_path,
			    strerror(errno));
			rc = 1;
		}
	}
	if (run.timeline_path != NULL &&
	    write_timeline(cs, run.timeline_path) == -1) {
		fprintf(stderr, "loadcheck: %s: %s\n", run.timeline_path,
		    strerror(errno));
		rc = 1;
	}
	if (rc == 0 && run.fail_on_loss && sum.lost > 0)
		rc = 3;
	for (i = 0; i < run.clients; i++)
		free(cs[i].recs);
	free(cs);
	free(run.req_fast);
	free(run.req_slow);
	return rc;
}

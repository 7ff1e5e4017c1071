/* check_readiness.c: unit tests for the readiness checks on a real loop. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "config.h"
#include "readiness.h"

/* ---- readiness_http_status ---- */

static const struct {
	const char *text;
	int want;
} statuses[] = {
    {"HTTP/1.1 200 OK\r\n", 1},
    {"HTTP/1.0 204 No Content\r\n", 1},
    {"HTTP/1.1 301 Moved Permanently\r\n", 1},
    {"HTTP/1.1 399 X\r\n", 1},
    {"HTTP/1.1 200\r\n", 1},
    {"HTTP/1.1 200\n", 1},
    {"HTTP/1.1 200 OK", 1},
    {"HTTP/1.1 100 Continue\r\n", 0},
    {"HTTP/1.1 199 X\r\n", 0},
    {"HTTP/1.1 400 Bad Request\r\n", 0},
    {"HTTP/1.1 404 Not Found\r\n", 0},
    {"HTTP/1.1 500 Internal Server Error\r\n", 0},
    {"HTTP/1.1 503 Service Unavailable\r\n", 0},
    {"HTTP/1.1 000 X\r\n", 0},
    {"HTTP/1.1 2x0 OK\r\n", 0},
    /* Non-digits that add up to 200 and 210 if taken for digits. */
    {"HTTP/1.1 1:0 OK\r\n", 0},
    {"HTTP/1.1 1;0 OK\r\n", 0},
    {"HTTP/1.1 20\r\n", 0},
    {"HTTP/1.1 20 OK\r\n", 0},
    {"HTTP/1.x 200 OK\r\n", 0},
    {"HTTP/1.1 2000 OK\r\n", 0},
    {"HTTP/1.1 200x OK\r\n", 0},
    {"HTTP/1.1 -20 OK\r\n", 0},
    {"HTTP/1.1 +20 OK\r\n", 0},
    {"HTTP/1.1  200 OK\r\n", 0},
    {"HTTP/2 200 OK\r\n", 0},
    {"http/1.1 200 OK\r\n", 0},
    {"SSH-2.0-OpenSSH_9.6\r\n", 0},
    {"garbage\n", 0},
    /* Incomplete: no verdict yet. */
    {"", -1},
    {"H", -1},
    {"HTTP/1.1 2", -1},
    {"HTTP/1.1 20", -1},
};

START_TEST(test_http_status)
{
	const char *t = statuses[_i].text;

	ck_assert_msg(readiness_http_status(t, strlen(t)) == statuses[_i].want,
	    "\"%s\": got %d, want %d", t, readiness_http_status(t, strlen(t)),
	    statuses[_i].want);
}
END_TEST

/* Only the len bytes given are looked at, never a terminating NUL. */
START_TEST(test_http_status_len)
{
	const char *t = "HTTP/1.1 200 OK\r\n";

	ck_assert_int_eq(readiness_http_status(t, 9), -1);
	ck_assert_int_eq(readiness_http_status("HTTP/1.1 503 X\r\n", 11), -1);
	ck_assert_int_eq(readiness_http_status("HTTP/1.1 2000", 13), 0);
	/* The 13th byte decides between "200 OK" and "2000": wait for it. */
	ck_assert_int_eq(readiness_http_status("HTTP/1.1 200", 12), -1);
}
END_TEST

/* ---- checks on a real loop ---- */

static struct ev_loop *loop;
static struct config *cfg;
static struct readiness r;
static int reached;
static ev_tstamp reached_at, started_at;

static void
reached_cb(struct readiness *rd, void *owner)
{
	ck_assert_ptr_eq(rd, &r);
	ck_assert_ptr_eq(owner, &reached);
	/* reached() comes once the check is over, never from a running one. */
	ck_assert_int_eq(rd->running, 0);
	reached++;
	reached_at = ev_now(loop);
}

static void
setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	cfg = NULL;
	reached = 0;
	reached_at = 0;
}

static void
teardown(void)
{
	if (cfg != NULL) {
		readiness_stop(&r);
		config_free(cfg);
	}
	ev_loop_destroy(loop);
}

static void
load(const char *ready_lines)
{
	char text[512], err[CONFIG_ERR_MAX] = "";

	snprintf(
	    text, sizeof(text), "[app]\ncommand = /bin/true\n%s", ready_lines);
	cfg = config_load_string("t.ini", text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "unexpected error: %s\n%s", err, text);
	readiness_init(&r, loop, cfg, "test worker", reached_cb, &reached);
}

static void
start(void)
{
	ev_now_update(loop);
	started_at = ev_now(loop);
	readiness_start(&r);
	ck_assert_int_eq(r.running, 1);
}

static void
break_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)revents;
	*(int *)t->data = 1;
	ev_break(l, EVBREAK_ONE);
}

/* Run the loop for s seconds, whatever happens. */
static void
run_for(double s)
{
	ev_timer t;
	int done = 0;

	ev_timer_init(&t, break_cb, s, 0);
	t.data = &done;
	ev_timer_start(loop, &t);
	while (!done)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
}

/* Run the loop until *count reaches n; fail after s seconds. */
static void
run_until(const int *count, int n, double s, const char *what)
{
	ev_timer guard;
	int fired = 0;

	ev_timer_init(&guard, break_cb, s, 0);
	guard.data = &fired;
	ev_timer_start(loop, &guard);
	while (*count < n && !fired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	ck_assert_msg(*count >= n, "%s: not within %.1f s", what, s);
}

/* A TCP socket bound on 127.0.0.1 (not listening yet): reserves a port. */
static int
bound_socket(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

START_TEST(test_tcp)
{
	char lines[128];
	int port, fd = bound_socket(&port);

	snprintf(lines, sizeof(lines), "ready = tcp:127.0.0.1:%d\n", port);
	load(lines);
	start();
	/* Nothing listens: several probes are refused, none passes. */
	run_for(0.7);
	ck_assert_int_eq(reached, 0);
	ck_assert_int_eq(r.running, 1);

	ck_assert_int_eq(listen(fd, 8), 0);
	run_until(&reached, 1, 2.0, "tcp: reached once listening");
	/* Exactly once, and nothing left running or open. */
	run_for(0.5);
	ck_assert_int_eq(reached, 1);
	ck_assert_int_eq(r.running, 0);
	ck_assert_int_eq(r.probe_fd, -1);
	ck_assert(!ev_is_active(&r.tick));
	close(fd);
}
END_TEST

START_TEST(test_tcp_never)
{
	char lines[128];
	int port, fd = bound_socket(&port);

	snprintf(lines, sizeof(lines), "ready = tcp:127.0.0.1:%d\n", port);
	load(lines);
	start();
	run_for(1.2);
	ck_assert_int_eq(reached, 0);
	ck_assert_int_eq(r.running, 1);
	readiness_stop(&r);
	ck_assert_int_eq(r.running, 0);
	ck_assert_int_eq(r.probe_fd, -1);
	ck_assert(!ev_is_active(&r.tick));
	close(fd);
}
END_TEST

/* ---- a tiny HTTP server on the same loop ---- */

struct http_server {
	int lfd, cfd;
	int port;
	int status;       /* answered; 0: never answer */
	const char *line; /* answered verbatim when set */
	int accepted;     /* connections */
	int answered;
	int peer_closed; /* a connection we never answered was closed */
	char request[1024];
	size_t reqlen;
	ev_io lio, cio;
};

static struct http_server srv;

static void
http_conn_close(void)
{
	if (srv.cfd == -1)
		return;
	ev_io_stop(loop, &srv.cio);
	close(srv.cfd);
	srv.cfd = -1;
}

static void
http_conn_cb(struct ev_loop *l, ev_io *io, int revents)
{
	char resp[256];
	ssize_t n;
	int len;

	(void)l;
	(void)io;
	(void)revents;
	n = read(srv.cfd, srv.request + srv.reqlen,
	    sizeof(srv.request) - 1 - srv.reqlen);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		srv.peer_closed++;
		http_conn_close();
		return;
	}
	srv.reqlen += (size_t)n;
	srv.request[srv.reqlen] = '\0';
	if (strstr(srv.request, "\r\n\r\n") == NULL || srv.status == 0)
		return;
	if (srv.line != NULL)
		len = snprintf(resp, sizeof(resp), "%s", srv.line);
	else
		len = snprintf(resp, sizeof(resp),
		    "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n",
		    srv.status);
	ck_assert_int_eq(write(srv.cfd, resp, (size_t)len), len);
	srv.answered++;
	http_conn_close();
}

static void
http_accept_cb(struct ev_loop *l, ev_io *io, int revents)
{
	int fd;

	(void)l;
	(void)io;
	(void)revents;
	fd = accept4(srv.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	http_conn_close();
	srv.accepted++;
	srv.cfd = fd;
	srv.reqlen = 0;
	srv.request[0] = '\0';
	ev_io_init(&srv.cio, http_conn_cb, fd, EV_READ);
	ev_io_start(loop, &srv.cio);
}

static void
http_start(int status)
{
	char lines[128];

	memset(&srv, 0, sizeof(srv));
	srv.cfd = -1;
	srv.status = status;
	srv.lfd = bound_socket(&srv.port);
	ck_assert_int_eq(listen(srv.lfd, 8), 0);
	ev_io_init(&srv.lio, http_accept_cb, srv.lfd, EV_READ);
	ev_io_start(loop, &srv.lio);
	snprintf(lines, sizeof(lines), "ready = http://127.0.0.1:%d/health\n",
	    srv.port);
	load(lines);
}

static void
http_stop(void)
{
	http_conn_close();
	ev_io_stop(loop, &srv.lio);
	close(srv.lfd);
}

START_TEST(test_http_200)
{
	char host[64];

	http_start(200);
	start();
	run_until(&reached, 1, 2.0, "http 200");
	ck_assert_int_eq(srv.answered, 1);
	ck_assert_msg(strncmp(srv.request, "GET /health HTTP/1.1\r\n", 22) == 0,
	    "request: %s", srv.request);
	snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", srv.port);
	ck_assert_msg(
	    strstr(srv.request, host) != NULL, "request: %s", srv.request);
	run_for(0.5);
	ck_assert_int_eq(reached, 1);
	ck_assert_int_eq(srv.accepted, 1); /* no probe after success */
	ck_assert_int_eq(r.probe_fd, -1);
	http_stop();
}
END_TEST

START_TEST(test_http_503_then_200)
{
	http_start(503);
	start();
	run_until(&srv.answered, 2, 2.0, "two 503 answers");
	ck_assert_int_eq(reached, 0);
	ck_assert_int_eq(r.running, 1);
	srv.status = 200;
	run_until(&reached, 1, 2.0, "http 200 after 503");
	run_for(0.3);
	ck_assert_int_eq(reached, 1);
	http_stop();
}
END_TEST

START_TEST(test_http_malformed)
{
	http_start(200);
	srv.line = "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n";
	start();
	run_until(&srv.answered, 3, 2.0, "three malformed answers");
	ck_assert_int_eq(reached, 0);
	srv.line = "HTTP/1.1 2000 OK\r\n\r\n";
	run_until(&srv.answered, 5, 2.0, "two more malformed answers");
	ck_assert_int_eq(reached, 0);
	ck_assert_int_eq(r.running, 1);
	http_stop();
}
END_TEST

/* A server that accepts and never answers: the probe gives up, retries. */
START_TEST(test_http_silent)
{
	int closed;

	http_start(0);
	start();
	run_until(&srv.accepted, 1, 1.0, "first probe");
	run_until(&srv.accepted, 2, 2.5, "a second probe after a silent one");
	ck_assert_int_eq(reached, 0);
	/* Stopping closes the probe in flight: the server sees its end. */
	ck_assert_int_ne(r.probe_fd, -1);
	closed = srv.peer_closed;
	readiness_stop(&r);
	ck_assert_int_eq(r.probe_fd, -1);
	run_until(
	    &srv.peer_closed, closed + 1, 1.0, "the probe closed by stop");
	run_for(0.5);
	ck_assert_int_eq(srv.accepted, 2);
	ck_assert_int_eq(reached, 0);
	http_stop();
}
END_TEST

START_TEST(test_delay)
{
	load("ready = delay:300ms\n");
	start();
	run_for(0.2);
	/* A slow host may have let the delay pass; never before it. */
	ck_assert(reached == 0 || reached_at - started_at >= 0.29);
	run_until(&reached, 1, 1.0, "delay:300ms");
	ck_assert_msg(reached_at - started_at >= 0.29, "after %.3f s",
	    reached_at - started_at);
	run_for(0.4);
	ck_assert_int_eq(reached, 1);
}
END_TEST

START_TEST(test_none)
{
	load("ready = none\n");
	start();
	/* Not from inside readiness_start: the owner is not ready for it. */
	ck_assert_int_eq(reached, 0);
	run_until(&reached, 1, 0.5, "ready = none");
	run_for(0.2);
	ck_assert_int_eq(reached, 1);
}
END_TEST

START_TEST(test_ready_delay)
{
	load("ready = none\nready_delay = 400ms\n");
	start();
	run_for(0.25);
	if (reached == 0)
		ck_assert_int_eq(r.settling, 1);
	run_until(&reached, 1, 1.0, "ready_delay 400ms");
	ck_assert_msg(reached_at - started_at >= 0.39, "after %.3f s",
	    reached_at - started_at);
	run_for(0.5);
	ck_assert_int_eq(reached, 1);
	ck_assert_int_eq(r.settling, 0);
}
END_TEST

/* The probe passes at once; ready_delay still holds reached() back. */
START_TEST(test_ready_delay_tcp)
{
	char lines[128];
	int port, fd = bound_socket(&port);

	ck_assert_int_eq(listen(fd, 8), 0);
	snprintf(lines, sizeof(lines),
	    "ready = tcp:127.0.0.1:%d\nready_delay = 300ms\n", port);
	load(lines);
	start();
	run_for(0.15);
	if (reached == 0) {
		ck_assert_int_eq(r.settling, 1);
		ck_assert_int_eq(r.probe_fd, -1);
	}
	run_until(&reached, 1, 1.0, "tcp + ready_delay");
	ck_assert_msg(reached_at - started_at >= 0.29, "after %.3f s",
	    reached_at - started_at);
	run_for(0.4);
	ck_assert_int_eq(reached, 1);
	close(fd);
}
END_TEST

START_TEST(test_stop_cancels)
{
	load("ready = delay:200ms\n");
	start();
	readiness_stop(&r);
	ck_assert_int_eq(r.running, 0);
	run_for(0.5);
	ck_assert_int_eq(reached, 0);
}
END_TEST

START_TEST(test_stop_cancels_settling)
{
	load("ready = none\nready_delay = 1s\n");
	start();
	run_for(0.1);
	ck_assert_int_eq(r.settling, 1);
	readiness_stop(&r);
	ck_assert_int_eq(r.settling, 0);
	run_for(1.2);
	ck_assert_int_eq(reached, 0);
}
END_TEST

/* ready = notify: only readiness_signal passes it, and only once. */
START_TEST(test_signal)
{
	load("ready = notify\n");
	readiness_signal(&r); /* not started: ignored */
	ck_assert_int_eq(reached, 0);
	start();
	run_for(0.3);
	ck_assert_int_eq(reached, 0);
	readiness_signal(&r);
	ck_assert_int_eq(reached, 1);
	readiness_signal(&r);
	run_for(0.1);
	ck_assert_int_eq(reached, 1);
}
END_TEST

START_TEST(test_signal_ready_delay)
{
	load("ready = notify\nready_delay = 300ms\n");
	start();
	readiness_signal(&r);
	ck_assert_int_eq(reached, 0);
	ck_assert_int_eq(r.settling, 1);
	run_for(0.1);
	readiness_signal(&r); /* a second READY=1 does not restart it */
	run_until(&reached, 1, 1.0, "notify + ready_delay");
	ck_assert_msg(reached_at - started_at >= 0.29, "after %.3f s",
	    reached_at - started_at);
	run_for(0.4);
	ck_assert_int_eq(reached, 1);
}
END_TEST

/* At most once per readiness_start: a respawn starts a new check. */
START_TEST(test_restart)
{
	load("ready = delay:100ms\n");
	start();
	run_until(&reached, 1, 1.0, "first check");
	start();
	run_until(&reached, 2, 1.0, "second check");
	/* Restarting a running check does not call reached() twice. */
	start();
	start();
	run_until(&reached, 3, 1.0, "third check");
	run_for(0.3);
	ck_assert_int_eq(reached, 3);
}
END_TEST

static Suite *
readiness_suite(void)
{
	Suite *s = suite_create("readiness");
	TCase *tc = tcase_create("http_status");
	TCase *tl = tcase_create("loop");

	tcase_add_loop_test(
	    tc, test_http_status, 0, sizeof(statuses) / sizeof(statuses[0]));
	tcase_add_test(tc, test_http_status_len);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_set_timeout(tl, 15);
	tcase_add_test(tl, test_tcp);
	tcase_add_test(tl, test_tcp_never);
	tcase_add_test(tl, test_http_200);
	tcase_add_test(tl, test_http_503_then_200);
	tcase_add_test(tl, test_http_malformed);
	tcase_add_test(tl, test_http_silent);
	tcase_add_test(tl, test_delay);
	tcase_add_test(tl, test_none);
	tcase_add_test(tl, test_ready_delay);
	tcase_add_test(tl, test_ready_delay_tcp);
	tcase_add_test(tl, test_stop_cancels);
	tcase_add_test(tl, test_stop_cancels_settling);
	tcase_add_test(tl, test_signal);
	tcase_add_test(tl, test_signal_ready_delay);
	tcase_add_test(tl, test_restart);
	suite_add_tcase(s, tl);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(readiness_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* check_intercept.c: unit tests for the bind interception: which listener
 * a bind() asks for, and a real worker-like child served through struct
 * intercept on a loop of our own (bind, listen, O_NONBLOCK counts, the
 * accept drain). Links intercept, drain, seccomp, address and log: no
 * master, generation or worker, and no stubs of them. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "address.h"
#include "config.h"
#include "intercept.h"
#include "listener.h"
#include "seccomp_probe.h"

static struct listener *
mk_listener(const char *text)
{
	struct listener *l = calloc(1, sizeof(*l));
	char err[128];

	ck_assert_ptr_nonnull(l);
	ck_assert_msg(address_parse(text, &l->addr, err, sizeof(err)) == 0,
	    "%s: %s", text, err);
	l->fd = -1;
	return l;
}

static struct sockaddr_in
sin_of(const char *ip, int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return sin;
}

START_TEST(test_match_inet)
{
	struct listener *ls[3] = {mk_listener("127.0.0.1:8080"),
	    mk_listener("[::]:8080"), mk_listener("0.0.0.0:9090")};
	struct sockaddr_in sin = sin_of("127.0.0.1", 8080);
	struct sockaddr_in6 sin6;
	unsigned char odd[sizeof(sin) + 1];

	ck_assert_int_eq(intercept_match(ls, 3, &sin, sizeof(sin)), 0);
	/* Unaligned bytes, as read from another process. */
	memcpy(odd + 1, &sin, sizeof(sin));
	ck_assert_int_eq(intercept_match(ls, 3, odd + 1, sizeof(sin)), 0);
	sin = sin_of("0.0.0.0", 9090);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, sizeof(sin)), 2);
	/* Another address or port of the same family: the kernel's. */
	sin = sin_of("127.0.0.2", 8080);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, sizeof(sin)), -1);
	sin = sin_of("127.0.0.1", 8081);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, sizeof(sin)), -1);
	/* 0.0.0.0:8080 is not 127.0.0.1:8080 nor [::]:8080. */
	sin = sin_of("0.0.0.0", 8080);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, sizeof(sin)), -1);
	/* Port 0 never matches, even a listener's address. */
	sin = sin_of("127.0.0.1", 0);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, sizeof(sin)), -1);
	/* Go's ":8080" is [::]:8080, dual-stack. */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(8080);
	sin6.sin6_addr = in6addr_any;
	ck_assert_int_eq(intercept_match(ls, 3, &sin6, sizeof(sin6)), 1);
	/* RFC 2133's 24 bytes, without sin6_scope_id: the kernel takes it. */
	ck_assert_int_eq(intercept_match(ls, 3, &sin6, 24), 1);
	ck_assert_int_eq(intercept_match(ls, 3, &sin6, 23), -1);
	sin6.sin6_addr = in6addr_loopback;
	ck_assert_int_eq(intercept_match(ls, 3, &sin6, sizeof(sin6)), -1);
	/* Short, empty or oversized: never a match, never a crash. */
	sin = sin_of("127.0.0.1", 8080);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, sizeof(sin) - 1), -1);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, 0), -1);
	ck_assert_int_eq(intercept_match(ls, 3, &sin, 1), -1);
	ck_assert_int_eq(
	    intercept_match(ls, 3, &sin, sizeof(struct sockaddr_storage) + 1),
	    -1);
	ck_assert_int_eq(intercept_match(ls, 0, &sin, sizeof(sin)), -1);
	free(ls[0]);
	free(ls[1]);
	free(ls[2]);
}
END_TEST

START_TEST(test_match_unix)
{
	struct listener *ls[1] = {mk_listener("unix:/run/app.sock")};
	struct sockaddr_un sun;
	size_t off = offsetof(struct sockaddr_un, sun_path);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/run/app.sock");
	ck_assert_int_eq(intercept_match(ls, 1, &sun, sizeof(sun)), 0);
	/* Without the NUL, as some callers count it. */
	ck_assert_int_eq(
	    intercept_match(ls, 1, &sun, off + strlen("/run/app.sock")), 0);
	strcpy(sun.sun_path, "/run/app.sock2");
	ck_assert_int_eq(intercept_match(ls, 1, &sun, sizeof(sun)), -1);
	/* Abstract and unnamed sockets have no config spelling. */
	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	memcpy(sun.sun_path + 1, "run/app.sock", 12);
	ck_assert_int_eq(intercept_match(ls, 1, &sun, off + 13), -1);
	ck_assert_int_eq(intercept_match(ls, 1, &sun, off), -1);
	free(ls[0]);
}
END_TEST

/* ---- a worker-like child, served through struct intercept ---- */

/* What the owner's callbacks saw. */
struct owner {
	int listened;
	int drained;
	pid_t pid;
	int status;
	int exited;
};

static void
owner_listened(struct intercept *ic, void *owner)
{
	(void)ic;
	((struct owner *)owner)->listened++;
}

static void
owner_drained(struct intercept *ic, void *owner)
{
	(void)ic;
	((struct owner *)owner)->drained++;
}

/* A listening socket on 127.0.0.1 and its listener, named by cfg. */
static struct listener *
mk_live_listener(void)
{
	struct sockaddr_in sin = sin_of("127.0.0.1", 0);
	socklen_t len = sizeof(sin);
	struct listener *l;
	char text[64], err[128];

	l = calloc(1, sizeof(*l));
	ck_assert_ptr_nonnull(l);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l->fd, 0);
	ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l->fd, 16), 0);
	ck_assert_int_eq(getsockname(l->fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(text, sizeof(text), "127.0.0.1:%d", ntohs(sin.sin_port));
	ck_assert_msg(
	    address_parse(text, &l->addr, err, sizeof(err)) == 0, "%s", err);
	return l;
}

static struct listen_config test_listen = {.name = "http"};
static struct config test_cfg = {.listeners = &test_listen, .nlisteners = 1};

/* Fork a child under the filter for what, running fn(l) once installed. */
static pid_t
spawn(struct intercept *ic, struct owner *o, struct ev_loop *loop,
    struct listener **ls, unsigned what, int (*fn)(struct listener *))
{
	int sv[2], nfd;
	pid_t pid;

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		(void)setpgid(0, 0);
		if (seccomp_child_install(sv[1], what) == -1)
			_exit(100);
		close(sv[1]);
		_exit(fn(ls[0]));
	}
	(void)setpgid(pid, pid);
	close(sv[1]);
	nfd = seccomp_receive(sv[0]);
	ck_assert_msg(nfd >= 0, "seccomp_receive: %s", strerror(errno));
	close(sv[0]);
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	ic->loop = loop;
	ic->pid = pid;
	ic->listeners = ls;
	ic->nlisteners = 1;
	ic->cfg = &test_cfg;
	snprintf(ic->label, sizeof(ic->label), "test worker pid %d", (int)pid);
	ic->listened = owner_listened;
	ic->drained = owner_drained;
	ic->owner = o;
	intercept_start(ic, nfd);
	return pid;
}

static struct owner *waited;

static void
reap_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)revents;
	(void)t;
	if (waitpid(waited->pid, &waited->status, WNOHANG) == waited->pid) {
		waited->exited = 1;
		ev_break(loop, EVBREAK_ONE);
	}
}

/* Serve the child's notifications until it exits (5 s at most). */
static void
run_until_exit(struct ev_loop *loop, struct owner *o)
{
	ev_timer t;

	waited = o;
	ev_timer_init(&t, reap_cb, 0.005, 0.005);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
	ck_assert_int_eq(o->exited, 1);
}

/* The child's s is now the listener's very socket. */
static int
same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* bind and listen as an app does; 0 when s became the listener. */
static int
child_bind(struct listener *l, int type)
{
	int s = socket(AF_INET, type, 0);

	if (s == -1 ||
	    bind(s, (struct sockaddr *)&l->addr.ss, l->addr.len) == -1)
		return 3;
	if (listen(s, 5) == -1)
		return 4;
	return same_file(s, l->fd) ? 0 : 5;
}

static int
child_bind_blocking(struct listener *l)
{
	return child_bind(l, SOCK_STREAM);
}

static int
child_bind_nonblock(struct listener *l)
{
	return child_bind(l, SOCK_STREAM | SOCK_NONBLOCK);
}

START_TEST(test_bind_listen)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct listener *ls[1] = {mk_live_listener()};
	struct intercept a = {.fd = -1}, b = {.fd = -1};
	struct owner oa, ob;

	spawn(&a, &oa, loop, ls, INTERCEPT_BIND, child_bind_blocking);
	run_until_exit(loop, &oa);
	ck_assert_msg(WIFEXITED(oa.status) && WEXITSTATUS(oa.status) == 0,
	    "child status 0x%x", oa.status);
	ck_assert_int_eq(oa.listened, 1);
	ck_assert_int_eq(a.bound, 1);
	ck_assert_int_eq(ls[0]->intercept_blocking, 1);
	ck_assert_int_eq(ls[0]->intercept_nonblock, 0);

	/* A second worker wants it non-blocking: the shared flag follows. */
	spawn(&b, &ob, loop, ls, INTERCEPT_BIND, child_bind_nonblock);
	run_until_exit(loop, &ob);
	ck_assert_int_eq(WEXITSTATUS(ob.status), 0);
	ck_assert_int_eq(ob.listened, 1);
	ck_assert_int_ne(fcntl(ls[0]->fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(b.nonblock_logged, 1);
	ck_assert_int_eq(ls[0]->intercept_blocking, 1);
	ck_assert_int_eq(ls[0]->intercept_nonblock, 1);

	/* Stopped: no longer counted. */
	intercept_stop(&a);
	intercept_stop(&b);
	ck_assert_int_eq(a.fd, -1);
	ck_assert_int_eq(ls[0]->intercept_blocking, 0);
	ck_assert_int_eq(ls[0]->intercept_nonblock, 0);
	close(ls[0]->fd);
	free(ls[0]);
	ev_loop_destroy(loop);
}
END_TEST

/* Another address, port 0: the kernel's, untouched. */
static int
child_bind_other(struct listener *l)
{
	struct sockaddr_in sin = sin_of("127.0.0.1", 0);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return 3;
	if (listen(s, 5) == -1)
		return 4;
	return same_file(s, l->fd) ? 5 : 0;
}

START_TEST(test_bind_passthrough)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct listener *ls[1] = {mk_live_listener()};
	struct intercept a = {.fd = -1};
	struct owner oa;

	spawn(&a, &oa, loop, ls, INTERCEPT_BIND, child_bind_other);
	run_until_exit(loop, &oa);
	ck_assert_int_eq(WEXITSTATUS(oa.status), 0);
	ck_assert_int_eq(oa.listened, 0);
	ck_assert_int_eq(a.bound, 0);
	intercept_stop(&a);
	close(ls[0]->fd);
	free(ls[0]);
	ev_loop_destroy(loop);
}
END_TEST

/* Blocks in accept() on the inherited listener: EINTR is the drain's end. */
static int
child_accept(struct listener *l)
{
	int c;

	for (;;) {
		c = accept(l->fd, NULL, NULL);
		if (c == -1 && errno == EINTR)
			return 0;
		if (c == -1)
			return 10 + errno;
		close(c);
	}
}

/* The owner's part in the test: stop the drain once an accept() is held. */
struct drain_test {
	struct intercept *ic;
	struct owner *o;
	struct sockaddr_in to;
	int client;
};

static void
drain_end_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct drain_test *dt = t->data;

	(void)revents;
	if (!dt->o->drained || dt->ic->drain.nheld == 0)
		return;
	if (dt->client == -1) {
		/* Held: this connection waits in the queue, untaken. */
		dt->client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(connect(dt->client, (struct sockaddr *)&dt->to,
		                     sizeof(dt->to)),
		    0);
		return;
	}
	intercept_drain_end(dt->ic);
	ev_timer_stop(loop, t);
}

START_TEST(test_drain)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct listener *ls[1] = {mk_live_listener()};
	struct intercept a = {.fd = -1};
	struct owner oa;
	struct drain_test dt = {&a, &oa, {0}, -1};
	ev_timer t;
	int c;

	memcpy(&dt.to, &ls[0]->addr.ss, sizeof(dt.to));
	spawn(&a, &oa, loop, ls, INTERCEPT_ACCEPT, child_accept);
	/* Serving: its accept() is let through, and sleeps in the kernel. */
	usleep(50000);
	intercept_drain_start(&a);
	ck_assert_int_eq(a.drain.state, DRAIN_HOLDING);
	ev_timer_init(&t, drain_end_cb, 0.01, 0.01);
	t.data = &dt;
	ev_timer_start(loop, &t);
	run_until_exit(loop, &oa);
	ev_timer_stop(loop, &t);
	ck_assert_int_eq(oa.drained, 1);
	ck_assert_int_eq(a.drain.conns_last, 0);
	ck_assert_int_eq(a.drain.state, DRAIN_REFUSING);
	/* The held accept() returned EINTR into the app... */
	ck_assert_msg(WIFEXITED(oa.status) && WEXITSTATUS(oa.status) == 0,
	    "child status 0x%x", oa.status);
	/* ...which never took the connection: it is still queued. */
	ck_assert_int_ne(dt.client, -1);
	c = accept4(ls[0]->fd, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_msg(c >= 0, "the connection was taken: %s", strerror(errno));
	close(c);
	close(dt.client);
	intercept_stop(&a);
	close(ls[0]->fd);
	free(ls[0]);
	ev_loop_destroy(loop);
}
END_TEST

static Suite *
intercept_suite(int kernel)
{
	Suite *s = suite_create("intercept");
	TCase *tc = tcase_create("pure"), *tk;

	tcase_add_test(tc, test_match_inet);
	tcase_add_test(tc, test_match_unix);
	suite_add_tcase(s, tc);
	/* Check has no skip: tests the kernel cannot run are not added. */
	if (kernel) {
		tk = tcase_create("kernel");
		tcase_add_test(tk, test_bind_listen);
		tcase_add_test(tk, test_bind_passthrough);
		tcase_add_test(tk, test_drain);
		suite_add_tcase(s, tk);
	}
	return s;
}

int
main(void)
{
	SRunner *sr;
	char err[512];
	int failed, kernel;

	kernel = seccomp_probe(err, sizeof(err)) == 0;
	if (!kernel)
		printf(
		    "SKIP: check_intercept: the worker tests (3): %s\n", err);
	sr = srunner_create(intercept_suite(kernel));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

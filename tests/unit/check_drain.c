/* check_drain.c: unit tests for the accept drain's parts that need no
 * notifier: counting the connections a process holds from the listeners,
 * and refusing an accept() once the drain is over. Links drain, seccomp,
 * address and log. (The whole drain, with a held accept(), runs in
 * check_intercept.) */
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "address.h"
#include "drain.h"
#include "listener.h"

/* A listening socket on 127.0.0.1, and a connection to it. */
static struct listener *
mk_listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	struct listener *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l->fd, 0);
	ck_assert_int_eq(bind(l->fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	ck_assert_int_eq(listen(l->fd, 16), 0);
	ck_assert_int_eq(getsockname(l->fd, (struct sockaddr *)sin, &len), 0);
	return l;
}

START_TEST(test_connections)
{
	struct sockaddr_in sin, other;
	struct listener *ls[2];
	int c, a, c2, a2, base;

	ls[0] = mk_listener(&sin);
	ls[1] = mk_listener(&other);
	/* What this process holds already (the test runner's own). */
	base = drain_connections(getpid(), ls, 2);
	ck_assert_int_eq(base, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	a = accept(ls[0]->fd, NULL, NULL);
	ck_assert_int_ge(a, 0);
	/* The accepted end counts; the connecting end and listeners not. */
	ck_assert_int_eq(drain_connections(getpid(), ls, 2), 1);
	ck_assert_int_eq(drain_connections(getpid(), ls, 0), 0);
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(
	    connect(c2, (struct sockaddr *)&other, sizeof(other)), 0);
	a2 = accept(ls[1]->fd, NULL, NULL);
	ck_assert_int_eq(drain_connections(getpid(), ls, 2), 2);
	/* Only the listeners given. */
	ck_assert_int_eq(drain_connections(getpid(), ls + 1, 1), 1);
	close(a);
	close(a2);
	ck_assert_int_eq(drain_connections(getpid(), ls, 2), 0);
	ck_assert_int_eq(drain_connections(0, ls, 2), -1);
	ck_assert_int_eq(errno, ESRCH);
	close(c);
	close(c2);
	close(ls[0]->fd);
	close(ls[1]->fd);
	free(ls[0]);
	free(ls[1]);
}
END_TEST

START_TEST(test_states)
{
	struct drain d;

	memset(&d, 0, sizeof(d));
	d.loop = ev_loop_new(EVFLAG_AUTO);
	d.nfd = -1;
	d.label = "test";
	drain_init(&d);
	ck_assert_int_eq(d.state, DRAIN_OFF);
	ck_assert_int_eq(drain_active(&d), 0);
	ck_assert_int_eq(d.conns_at_start, -1);
	/* Ended without a start (stopped while serving): refuse from now. */
	drain_end(&d);
	ck_assert_int_eq(d.state, DRAIN_REFUSING);
	ck_assert_int_eq(drain_active(&d), 1);
	ck_assert_int_eq(d.nheld, 0);
	ev_loop_destroy(d.loop);
}
END_TEST

static Suite *
drain_suite(void)
{
	Suite *s = suite_create("drain");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_connections);
	tcase_add_test(tc, test_states);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(drain_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

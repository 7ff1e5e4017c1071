/* check_upgrade.c: unit tests for the parsing of the USR2 hand-over state. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "listener.h"
#include "upgrade.h"

static const char *const bad_from[] = {
    "", ":", "1:2", /* pid 1 is init, never a master we replaced */
    "0:2", "123", "123:", "123:4x", "x:1", "-5:1", "+5:1", " 123:4", "123: 4",
    "123:-4", "123:4 ", "123:4:5", "99999999999:1",
    "2147483648:1",                      /* INT_MAX + 1 */
    "123:99999999999", "123:4294967296", /* UINT_MAX + 1 */
};

START_TEST(test_from_ok)
{
	char err[256] = "";
	unsigned last = 0;
	pid_t pid = 0;

	ck_assert_int_eq(
	    upgrade_parse_from("123:4", &pid, &last, err, sizeof(err)), 0);
	ck_assert_int_eq(pid, 123);
	ck_assert_uint_eq(last, 4);
	ck_assert_int_eq(
	    upgrade_parse_from("2147483647:0", &pid, &last, err, sizeof(err)),
	    0);
	ck_assert_int_eq(pid, INT_MAX);
	ck_assert_uint_eq(last, 0);
	ck_assert_int_eq(
	    upgrade_parse_from("2:4294967295", &pid, &last, err, sizeof(err)),
	    0);
	ck_assert_int_eq(pid, 2);
	ck_assert_uint_eq(last, UINT_MAX);
}
END_TEST

START_TEST(test_from_bad)
{
	const char *s = bad_from[_i];
	char err[256] = "";
	unsigned last = 77;
	pid_t pid = 77;

	ck_assert_msg(
	    upgrade_parse_from(s, &pid, &last, err, sizeof(err)) == -1,
	    "\"%s\" accepted", s);
	/* Nothing is half-written on failure. */
	ck_assert_int_eq(pid, 77);
	ck_assert_uint_eq(last, 77);
	ck_assert_msg(strstr(err, "BATON_UPGRADE=") != NULL &&
	                  strstr(err, "malformed") != NULL,
	    "\"%s\": err \"%s\"", s, err);
}
END_TEST

static const char *const bad_fd[] = {
    "",
    ":",
    ":http",
    "0:x",
    "1:x",
    "2:x", /* stdin/out/err are never listeners */
    "x:y",
    "3",
    "3x:y",
    "-3:y",
    " 3:y",
    "99999999999:a",
    "2147483648:a",
};

START_TEST(test_fd_ok)
{
	const char *name = NULL;
	char err[256] = "";
	int fd = -1;

	ck_assert_int_eq(
	    upgrade_parse_fd("3:http", &fd, &name, err, sizeof(err)), 0);
	ck_assert_int_eq(fd, 3);
	ck_assert_str_eq(name, "http");

	name = NULL;
	ck_assert_int_eq(
	    upgrade_parse_fd("3:", &fd, &name, err, sizeof(err)), 0);
	ck_assert_int_eq(fd, 3);
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, "");

	ck_assert_int_eq(
	    upgrade_parse_fd("1024:a:b", &fd, &name, err, sizeof(err)), 0);
	ck_assert_int_eq(fd, 1024);
	ck_assert_str_eq(name, "a:b");
}
END_TEST

START_TEST(test_fd_bad)
{
	const char *s = bad_fd[_i], *name = NULL;
	char err[256] = "";
	int fd = 77;

	ck_assert_msg(upgrade_parse_fd(s, &fd, &name, err, sizeof(err)) == -1,
	    "\"%s\" accepted", s);
	ck_assert_int_eq(fd, 77);
	ck_assert_ptr_null(name);
	ck_assert_msg(strstr(err, "BATON_LISTEN_FDS") != NULL,
	    "\"%s\": err \"%s\"", s, err);
}
END_TEST

START_TEST(test_inherit_no_upgrade)
{
	struct listener *list = NULL;
	char err[256] = "";
	unsigned last = 99;
	pid_t old = 12345;

	unsetenv("BATON_UPGRADE");
	setenv("BATON_LISTEN_FDS", "3:http", 1);
	ck_assert_int_eq(
	    upgrade_inherit(&list, &old, &last, err, sizeof(err)), 0);
	ck_assert_int_eq(old, 0);
	ck_assert_uint_eq(last, 99);
	/* Without BATON_UPGRADE, a stray BATON_LISTEN_FDS adopts nothing. */
	ck_assert_ptr_null(list);
	unsetenv("BATON_LISTEN_FDS");
}
END_TEST

/* A real listening socket on 127.0.0.1, at a descriptor above 2. */
static int
listening_socket(void)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 3);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

START_TEST(test_inherit_upgrade)
{
	struct listener *list = NULL;
	char err[256] = "", fds[64];
	unsigned last = 0;
	pid_t old = 0;
	int fd = listening_socket();

	snprintf(fds, sizeof(fds), "%d:http", fd);
	setenv("BATON_UPGRADE", "4321:17", 1);
	setenv("BATON_LISTEN_FDS", fds, 1);
	ck_assert_msg(
	    upgrade_inherit(&list, &old, &last, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(old, 4321);
	ck_assert_uint_eq(last, 17);
	ck_assert_ptr_nonnull(list);
	ck_assert_int_eq(list->fd, fd);
	ck_assert_str_eq(list->hint, "http");
	ck_assert_str_eq(list->origin, "the old master");
	ck_assert_int_eq(list->refs, 0);
	ck_assert_ptr_null(list->next);
	ck_assert_ptr_null(getenv("BATON_UPGRADE"));
	ck_assert_ptr_null(getenv("BATON_LISTEN_FDS"));
	listener_close_all(&list);
}
END_TEST

START_TEST(test_inherit_malformed)
{
	struct listener *list = NULL;
	char err[256] = "";
	unsigned last = 0;
	pid_t old = 0;
	int fd = listening_socket(), udp;
	char fds[64];

	setenv("BATON_UPGRADE", "4321:17x", 1);
	ck_assert_int_eq(
	    upgrade_inherit(&list, &old, &last, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "BATON_UPGRADE=4321:17x"));
	ck_assert_ptr_null(list);
	/* Refused or not, the hand-over variables are never passed on. */
	ck_assert_ptr_null(getenv("BATON_UPGRADE"));
	ck_assert_ptr_null(getenv("BATON_LISTEN_FDS"));

	/* fd 2 is never a listener: refused by the parse, named. */
	setenv("BATON_UPGRADE", "4321:17", 1);
	snprintf(fds, sizeof(fds), "%d:http,2:admin", fd);
	setenv("BATON_LISTEN_FDS", fds, 1);
	ck_assert_int_eq(
	    upgrade_inherit(&list, &old, &last, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "\"2:admin\"") != NULL, "%s", err);
	listener_close_all(&list);

	/* A datagram socket is no listener: refused by listener_adopt. */
	fd = listening_socket();
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(udp, 3);
	setenv("BATON_UPGRADE", "4321:17", 1);
	snprintf(fds, sizeof(fds), "%d:http,%d:admin", fd, udp);
	setenv("BATON_LISTEN_FDS", fds, 1);
	ck_assert_int_eq(
	    upgrade_inherit(&list, &old, &last, err, sizeof(err)), -1);
	ck_assert_msg(
	    strstr(err, "not a listening stream socket") != NULL, "%s", err);
	listener_close_all(&list);
	close(udp);
	unsetenv("BATON_UPGRADE");
	unsetenv("BATON_LISTEN_FDS");
}
END_TEST

static Suite *
upgrade_suite(void)
{
	Suite *s = suite_create("upgrade");
	TCase *tc = tcase_create("upgrade");

	tcase_add_test(tc, test_from_ok);
	tcase_add_loop_test(
	    tc, test_from_bad, 0, sizeof(bad_from) / sizeof(bad_from[0]));
	tcase_add_test(tc, test_fd_ok);
	tcase_add_loop_test(
	    tc, test_fd_bad, 0, sizeof(bad_fd) / sizeof(bad_fd[0]));
	tcase_add_test(tc, test_inherit_no_upgrade);
	tcase_add_test(tc, test_inherit_upgrade);
	tcase_add_test(tc, test_inherit_malformed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(upgrade_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

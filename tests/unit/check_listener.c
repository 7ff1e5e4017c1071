/* check_listener.c: unit tests for binding, reusing and releasing listeners. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "listener.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_listener.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/app.sock", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/file", dir);
	unlink(p);
	rmdir(dir);
}

static struct config *
load(const char *text)
{
	char err[CONFIG_ERR_MAX] = "";
	struct config *cfg;

	cfg = config_load_string("t.ini", text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "unexpected error: %s\n%s", err, text);
	return cfg;
}

/* A config with one [listen http] on address, more lines after it. */
static struct config *
load_listen(const char *address, const char *more)
{
	char text[1024];

	snprintf(text, sizeof(text),
	    "[app]\ncommand = /bin/true\n[listen http]\naddress = %s\n%s",
	    address, more);
	return load(text);
}

/*
 * A port on 127.0.0.1 free a moment ago: the config refuses port 0, so
 * let the kernel pick one and give it back.
 */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static int
is_listening(int fd)
{
	socklen_t len = sizeof(int);
	int acc = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1)
		return 0;
	return acc;
}

static int
bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

START_TEST(test_acquire_tcp)
{
	struct listener *list = NULL, **set = NULL;
	char err[512] = "", addr[64];
	struct config *cfg;
	int port = free_port();

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	cfg = load_listen(addr, "backlog = 16\n");
	ck_assert_msg(listener_acquire(&list, cfg, &set, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_ptr_nonnull(set);
	ck_assert_ptr_eq(set[0], list);
	ck_assert_ptr_null(list->next);
	ck_assert_int_eq(list->refs, 1);
	ck_assert_int_eq(list->backlog, 16);
	ck_assert(is_listening(list->fd));
	ck_assert_int_eq(bound_port(list->fd), port);
	ck_assert_int_eq(fcntl(list->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	listener_release(&list, set, cfg->nlisteners);
	ck_assert_ptr_null(list);
	config_free(cfg);
}
END_TEST

/* A reload that keeps the address keeps the very same socket. */
START_TEST(test_reuse_by_address)
{
	struct listener *list = NULL, **a = NULL, **b = NULL, *l;
	char err[512] = "", addr[64];
	struct config *c1, *c2;
	int port = free_port(), fd;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	c1 = load_listen(addr, "backlog = 16\n");
	c2 = load_listen(addr, "backlog = 64\n");
	ck_assert_int_eq(listener_acquire(&list, c1, &a, err, sizeof(err)), 0);
	l = a[0];
	fd = l->fd;
	ck_assert_int_eq(listener_acquire(&list, c2, &b, err, sizeof(err)), 0);
	ck_assert_ptr_eq(b[0], l);
	ck_assert_int_eq(b[0]->fd, fd);
	ck_assert_ptr_null(list->next); /* still one socket */
	ck_assert_int_eq(l->refs, 2);
	ck_assert_int_eq(l->backlog, 64); /* the new config's, live */

	listener_release(&list, a, c1->nlisteners);
	ck_assert_ptr_eq(list, l);
	ck_assert_int_eq(l->refs, 1);
	ck_assert(is_open(fd));
	ck_assert(is_listening(fd));

	listener_release(&list, b, c2->nlisteners);
	ck_assert_ptr_null(list);
	ck_assert(!is_open(fd));
	config_free(c1);
	config_free(c2);
}
END_TEST

/* A reload to another address binds the new one, then the old one goes. */
START_TEST(test_new_address)
{
	struct listener *list = NULL, **a = NULL, **b = NULL;
	char err[512] = "", addr[64];
	struct config *c1, *c2;
	int p1 = free_port(), p2, fd1;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p1);
	c1 = load_listen(addr, "");
	ck_assert_int_eq(listener_acquire(&list, c1, &a, err, sizeof(err)), 0);
	fd1 = a[0]->fd;
	p2 = free_port();
	ck_assert_int_ne(p1, p2);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p2);
	c2 = load_listen(addr, "");
	ck_assert_int_eq(listener_acquire(&list, c2, &b, err, sizeof(err)), 0);
	ck_assert_ptr_ne(a[0], b[0]);
	ck_assert_int_eq(bound_port(b[0]->fd), p2);
	listener_release(&list, a, 1);
	ck_assert(!is_open(fd1));
	ck_assert_ptr_eq(list, b[0]);
	ck_assert_ptr_null(list->next);
	listener_close_all(&list);
	free(b);
	config_free(c1);
	config_free(c2);
}
END_TEST

/* A failed acquire changes nothing: what it bound is closed again. */
START_TEST(test_acquire_fails_whole)
{
	struct listener *list = NULL, **set = NULL;
	char err[512] = "", text[512];
	struct sockaddr_in sin;
	struct config *cfg;
	int p1 = free_port(), busy, p2, fd_before;

	busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(busy, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(busy, 1), 0);
	p2 = bound_port(busy);
	snprintf(text, sizeof(text),
	    "[app]\ncommand = /bin/true\n"
	    "[listen a]\naddress = 127.0.0.1:%d\n"
	    "[listen b]\naddress = 127.0.0.1:%d\n",
	    p1, p2);
	cfg = load(text);
	fd_before = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd_before, 0);
	close(fd_before);
	ck_assert_int_eq(
	    listener_acquire(&list, cfg, &set, err, sizeof(err)), -1);
	ck_assert_ptr_null(list);
	ck_assert_ptr_null(set);
	snprintf(text, sizeof(text),
	    "[listen b]: cannot listen on 127.0.0.1:%d: ", p2);
	ck_assert_msg(strncmp(err, text, strlen(text)) == 0, "%s", err);
	ck_assert_msg(strstr(err, strerror(EADDRINUSE)) != NULL, "%s", err);
	/* No descriptor leaked: the next one is the same as before. */
	ck_assert_int_eq(open("/dev/null", O_RDONLY | O_CLOEXEC), fd_before);
	close(fd_before);
	close(busy);
	config_free(cfg);
}
END_TEST

START_TEST(test_unix_path)
{
	struct listener *list = NULL, **set = NULL;
	char err[512] = "", addr[160], path[96];
	struct config *cfg;
	struct stat st;

	snprintf(path, sizeof(path), "%s/app.sock", dir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	cfg = load_listen(addr, "mode = 0600\n");
	ck_assert_msg(listener_acquire(&list, cfg, &set, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert(is_listening(set[0]->fd));
	ck_assert_int_eq(set[0]->unlink_path, 1);
	free(set);
	listener_close_all(&list);
	ck_assert_ptr_null(list);
	ck_assert_int_eq(lstat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	config_free(cfg);
}
END_TEST

/* A socket left by a dead process is replaced; a live one is not ours. */
START_TEST(test_unix_path_in_use)
{
	struct listener *list = NULL, **set = NULL;
	char err[512] = "", addr[160], path[96], file[96];
	struct sockaddr_un sun;
	struct config *cfg;
	int other;

	snprintf(path, sizeof(path), "%s/app.sock", dir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	cfg = load_listen(addr, "");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	other = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(other, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(other, 1), 0);
	ck_assert_int_eq(
	    listener_acquire(&list, cfg, &set, err, sizeof(err)), -1);
	ck_assert_msg(
	    strstr(err, "is in use by another process") != NULL, "%s", err);
	ck_assert_int_eq(access(path, F_OK), 0);

	/* Its process is gone: the path is stale and taken over. */
	close(other);
	ck_assert_msg(listener_acquire(&list, cfg, &set, err, sizeof(err)) == 0,
	    "%s", err);
	free(set);
	listener_close_all(&list);
	ck_assert_int_eq(access(path, F_OK), -1);

	/* Not a socket at all: never removed. */
	snprintf(file, sizeof(file), "%s/file", dir);
	close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	config_free(cfg);
	snprintf(addr, sizeof(addr), "unix:%s", file);
	cfg = load_listen(addr, "");
	ck_assert_int_eq(
	    listener_acquire(&list, cfg, &set, err, sizeof(err)), -1);
	ck_assert_msg(
	    strstr(err, "exists and is not a socket") != NULL, "%s", err);
	ck_assert_int_eq(access(file, F_OK), 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_adopt_refuses_non_listening)
{
	struct listener *list = NULL;
	struct sockaddr_in sin;
	char err[512] = "";
	int fd, udp;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(
	    listener_adopt(&list, fd, "http", "systemd", 0, err, sizeof(err)),
	    -1);
	ck_assert_msg(
	    strstr(err, "not a listening stream socket") != NULL, "%s", err);
	ck_assert_ptr_null(list);
	ck_assert(is_open(fd)); /* the caller's to close */

	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(
	    listener_adopt(&list, udp, "", "systemd", 0, err, sizeof(err)), -1);
	ck_assert_ptr_null(list);

	ck_assert_int_eq(
	    listener_adopt(&list, 999, "", "systemd", 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "fd 999 from systemd") != NULL, "%s", err);
	ck_assert_ptr_null(list);
	close(fd);
	close(udp);
}
END_TEST

/* An adopted socket goes to the section of its name, whatever its address. */
START_TEST(test_adopt_then_acquire)
{
	struct listener *list = NULL, **set = NULL;
	struct sockaddr_in sin;
	char err[512] = "", addr[64];
	struct config *cfg;
	int fd, dupfd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(
	    listener_adopt(&list, fd, "http", "systemd", 0, err, sizeof(err)),
	    0);
	ck_assert_ptr_nonnull(list);
	ck_assert_int_eq(list->fd, fd);
	ck_assert_int_eq(list->refs, 0);
	ck_assert_str_eq(list->hint, "http");
	/* Adopted sockets become close-on-exec like our own. */
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	/* The same socket passed twice (fd store and unit): one is kept. */
	dupfd = dup(fd);
	ck_assert_int_eq(listener_adopt(&list, dupfd, "http", "systemd", 0, err,
	                     sizeof(err)),
	    0);
	ck_assert_ptr_null(list->next);
	ck_assert(!is_open(dupfd));

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	cfg = load_listen(addr, "");
	ck_assert_int_eq(
	    listener_acquire(&list, cfg, &set, err, sizeof(err)), 0);
	ck_assert_int_eq(set[0]->fd, fd);
	ck_assert_int_eq(set[0]->refs, 1);
	ck_assert_ptr_null(set[0]->origin);
	ck_assert_ptr_null(list->next);
	listener_release(&list, set, 1);
	ck_assert_ptr_null(list);
	ck_assert(!is_open(fd));
	config_free(cfg);
}
END_TEST

/*
 * A failed acquire undoes only what it did: an adopted socket it had
 * claimed for one section stays open and unclaimed when a later section
 * cannot bind.
 */
START_TEST(test_failed_acquire_keeps_adopted)
{
	struct listener *list = NULL, **set = NULL;
	struct sockaddr_in sin;
	char err[512] = "", text[512];
	struct config *cfg;
	int fd, busy, busy_port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(
	    listener_adopt(&list, fd, "http", "systemd", 0, err, sizeof(err)),
	    0);
	/* Something else holds the second section's port. */
	busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(busy, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(busy, 4), 0);
	busy_port = bound_port(busy);
	snprintf(text, sizeof(text),
	    "[app]\ncommand = /bin/true\n[listen http]\naddress = "
	    "127.0.0.1:%d\n[listen b]\naddress = 127.0.0.1:%d\n",
	    free_port(), busy_port);
	cfg = load(text);
	ck_assert_int_eq(
	    listener_acquire(&list, cfg, &set, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(list);
	ck_assert_int_eq(list->fd, fd);
	ck_assert(is_open(fd));
	ck_assert_int_eq(list->refs, 0);
	ck_assert_str_eq(list->origin, "systemd");
	ck_assert_ptr_null(list->next);
	listener_close_all(&list);
	close(busy);
	config_free(cfg);
}
END_TEST

START_TEST(test_drop_unused)
{
	struct listener *list = NULL;
	struct sockaddr_in sin;
	char err[512] = "";
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(
	    listener_adopt(&list, fd, "gone", "systemd", 0, err, sizeof(err)),
	    0);
	listener_drop_unused(&list);
	ck_assert_ptr_null(list);
	ck_assert(!is_open(fd));
}
END_TEST

static Suite *
listener_suite(void)
{
	Suite *s = suite_create("listener");
	TCase *tc = tcase_create("listener");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_acquire_tcp);
	tcase_add_test(tc, test_reuse_by_address);
	tcase_add_test(tc, test_new_address);
	tcase_add_test(tc, test_acquire_fails_whole);
	tcase_add_test(tc, test_unix_path);
	tcase_add_test(tc, test_unix_path_in_use);
	tcase_add_test(tc, test_adopt_refuses_non_listening);
	tcase_add_test(tc, test_adopt_then_acquire);
	tcase_add_test(tc, test_failed_acquire_keeps_adopted);
	tcase_add_test(tc, test_drop_unused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(listener_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

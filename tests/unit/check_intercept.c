/* check_intercept.c: unit tests for the bind interception's pure parts and
 * its seccomp filter (which system calls reach the master). */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/seccomp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "address.h"
#include "intercept.h"
#include "listener.h"

/*
 * intercept.o calls back into readiness.c and worker.c from its event-loop
 * half, which these tests do not run: stubs keep the program to one module.
 */
struct worker;
void readiness_reached(struct worker *w);
void worker_drained(struct worker *w);

void
readiness_reached(struct worker *w)
{
	(void)w;
}

void
worker_drained(struct worker *w)
{
	(void)w;
}

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

START_TEST(test_fdinfo_flags)
{
	int flags = 0;

	ck_assert_int_eq(intercept_fdinfo_flags("pos:\t0\nflags:\t02004002\n"
	                                        "mnt_id:\t8\nino:\t1234\n",
	                     &flags),
	    0);
	ck_assert_int_eq(flags, 02004002);
	ck_assert_int_eq(intercept_fdinfo_flags("flags:\t02\n", &flags), 0);
	ck_assert_int_eq(flags, 02);
	ck_assert_int_eq(intercept_fdinfo_flags("pos:\t0\n", &flags), -1);
	ck_assert_int_eq(intercept_fdinfo_flags("", &flags), -1);
	ck_assert_int_eq(intercept_fdinfo_flags("flags:\tzz\n", &flags), -1);
	/* Only at the start of a line. */
	ck_assert_int_eq(intercept_fdinfo_flags("xflags:\t02\n", &flags), -1);
}
END_TEST

START_TEST(test_status_tgid)
{
	ck_assert_int_eq(intercept_status_tgid("Name:\tapp\nUmask:\t0022\n"
	                                       "State:\tS (sleeping)\n"
	                                       "Tgid:\t4242\nNgid:\t0\n"
	                                       "Pid:\t4250\n"),
	    4242);
	ck_assert_int_eq(intercept_status_tgid("Tgid:\t7\n"), 7);
	ck_assert_int_eq(intercept_status_tgid("Pid:\t7\n"), -1);
	ck_assert_int_eq(intercept_status_tgid("Tgid:\t\n"), -1);
	ck_assert_int_eq(intercept_status_tgid("Tgid:\t-3\n"), -1);
	ck_assert_int_eq(intercept_status_tgid(""), -1);
}
END_TEST

START_TEST(test_supported)
{
	char err[512] = "";

	ck_assert_msg(intercept_supported(err, sizeof(err)) == 0, "%s", err);
}
END_TEST

/* The filters under test: what test_filter's loop index _i stands for. */
static const unsigned filter_whats[] = {
    INTERCEPT_BIND, INTERCEPT_ACCEPT, INTERCEPT_BIND | INTERCEPT_ACCEPT};

/* What the child does under the filter; each step is a marker getppid()
 * call (not trapped) followed by the call under test. */
static void
filter_child(int sock, unsigned what)
{
	struct sockaddr_in sin = sin_of("127.0.0.1", 0);
	int s1, s2;

	if (intercept_child_install(sock, what) == -1)
		_exit(2);
	close(sock);
	s1 = socket(AF_INET, SOCK_STREAM, 0);
	s2 = socket(AF_INET, SOCK_STREAM, 0);
	(void)getppid();
	if (bind(s1, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		_exit(3);
	if (listen(s1, 4) == -1)
		_exit(4);
	/* SHUT_WR: let through by the filter itself. */
	(void)shutdown(s1, SHUT_WR);
	(void)shutdown(s2, SHUT_RDWR);
	(void)shutdown(s2, SHUT_RD);
	/* Not listening: EINVAL at once, whoever lets them through. */
	(void)syscall(SYS_accept4, s2, NULL, NULL, SOCK_CLOEXEC);
	(void)syscall(SYS_accept, s2, NULL, NULL);
	_exit(0);
}

START_TEST(test_filter)
{
	union {
		struct seccomp_notif n;
		char pad[512];
	} req;
	union {
		struct seccomp_notif_resp r;
		char pad[512];
	} resp;
	unsigned what = filter_whats[_i];
	int sv[2], nfd, status, seen[8], nseen = 0, k = 0;
	long how[8];
	struct pollfd p;
	pid_t pid;

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		filter_child(sv[1], what);
	}
	close(sv[1]);
	nfd = intercept_receive(sv[0]);
	ck_assert_msg(nfd >= 0, "intercept_receive: %s", strerror(errno));
	close(sv[0]);
	for (;;) {
		p.fd = nfd;
		p.events = POLLIN;
		ck_assert_int_ge(poll(&p, 1, 5000), 1);
		if (!(p.revents & POLLIN))
			break; /* POLLHUP: the child is gone */
		memset(&req, 0, sizeof(req));
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == -1) {
			ck_assert_int_eq(errno, ENOENT);
			continue;
		}
		ck_assert_int_lt(nseen, 8);
		how[nseen] = (long)req.n.data.args[1];
		seen[nseen++] = req.n.data.nr;
		memset(&resp, 0, sizeof(resp));
		resp.r.id = req.n.id;
		resp.r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ck_assert_int_eq(
		    ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
	}
	close(nfd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status 0x%x", status);
	/* bind, listen, shutdown(SHUT_RDWR), shutdown(SHUT_RD), accept4,
	 * accept, as asked: no getppid, no socket(), no shutdown(SHUT_WR). */
	ck_assert_int_eq(nseen, ((what & INTERCEPT_BIND) ? 4 : 0) +
	                            ((what & INTERCEPT_ACCEPT) ? 2 : 0));
	if (what & INTERCEPT_BIND) {
		ck_assert_int_eq(seen[k++], __NR_bind);
		ck_assert_int_eq(seen[k++], __NR_listen);
		ck_assert_int_eq(how[k], SHUT_RDWR);
		ck_assert_int_eq(seen[k++], __NR_shutdown);
		ck_assert_int_eq(how[k], SHUT_RD);
		ck_assert_int_eq(seen[k++], __NR_shutdown);
	}
	if (what & INTERCEPT_ACCEPT) {
		ck_assert_int_eq(seen[k++], __NR_accept4);
		ck_assert_int_eq(seen[k++], __NR_accept);
	}
}
END_TEST

/* A child that fails before sending: the parent is told, not blocked. */
START_TEST(test_receive_nothing)
{
	int sv[2];

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	ck_assert_int_eq(intercept_receive(sv[0]), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	close(sv[0]);
}
END_TEST

static Suite *
intercept_suite(void)
{
	Suite *s = suite_create("intercept");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_match_inet);
	tcase_add_test(tc, test_match_unix);
	tcase_add_test(tc, test_fdinfo_flags);
	tcase_add_test(tc, test_status_tgid);
	tcase_add_test(tc, test_supported);
	tcase_add_loop_test(tc, test_filter, 0,
	    (int)(sizeof(filter_whats) / sizeof(filter_whats[0])));
	tcase_add_test(tc, test_receive_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(intercept_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

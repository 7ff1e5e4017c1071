/* check_seccomp.c: unit tests for the seccomp plumbing: the /proc parsers,
 * the notify fd's trip, the filter (which system calls reach the master),
 * the probe. Links seccomp, seccomp_probe and log only. */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

#include "seccomp.h"
#include "seccomp_probe.h"

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

START_TEST(test_fdinfo_flags)
{
	int flags = 0;

	ck_assert_int_eq(seccomp_fdinfo_flags("pos:\t0\nflags:\t02004002\n"
	                                      "mnt_id:\t8\nino:\t1234\n",
	                     &flags),
	    0);
	ck_assert_int_eq(flags, 02004002);
	ck_assert_int_eq(seccomp_fdinfo_flags("flags:\t02\n", &flags), 0);
	ck_assert_int_eq(flags, 02);
	ck_assert_int_eq(seccomp_fdinfo_flags("pos:\t0\n", &flags), -1);
	ck_assert_int_eq(seccomp_fdinfo_flags("", &flags), -1);
	ck_assert_int_eq(seccomp_fdinfo_flags("flags:\tzz\n", &flags), -1);
	/* Only at the start of a line. */
	ck_assert_int_eq(seccomp_fdinfo_flags("xflags:\t02\n", &flags), -1);
}
END_TEST

START_TEST(test_status_tgid)
{
	ck_assert_int_eq(seccomp_status_tgid("Name:\tapp\nUmask:\t0022\n"
	                                     "State:\tS (sleeping)\n"
	                                     "Tgid:\t4242\nNgid:\t0\n"
	                                     "Pid:\t4250\n"),
	    4242);
	ck_assert_int_eq(seccomp_status_tgid("Tgid:\t7\n"), 7);
	ck_assert_int_eq(seccomp_status_tgid("Pid:\t7\n"), -1);
	ck_assert_int_eq(seccomp_status_tgid("Tgid:\t\n"), -1);
	ck_assert_int_eq(seccomp_status_tgid("Tgid:\t-3\n"), -1);
	ck_assert_int_eq(seccomp_status_tgid(""), -1);
}
END_TEST

/* Probed once in main: the answer the forked tests see. */
static int probe_rc = -1;
static char probe_err[512];

START_TEST(test_probe_result)
{
	char err[512] = "";

	/* Remembered: the same answer, without a fork. */
	ck_assert_int_eq(seccomp_probe_result(err, sizeof(err)), probe_rc);
	ck_assert_str_eq(err, probe_rc == 0 ? "" : probe_err);
}
END_TEST

START_TEST(test_arch_name)
{
	const char *a = seccomp_arch_name();

#if defined(__x86_64__)
	ck_assert_str_eq(a, "x86_64");
#elif defined(__aarch64__)
	ck_assert_str_eq(a, "aarch64");
#else
	ck_assert_ptr_null(a);
#endif
}
END_TEST

/* The filters under test: what test_filter's loop index _i stands for. */
static const unsigned filter_whats[] = {SECCOMP_TRAP_BIND, SECCOMP_TRAP_ACCEPT,
    SECCOMP_TRAP_BIND | SECCOMP_TRAP_ACCEPT};

/* What the child does under the filter; each step is a marker getppid()
 * call (not trapped) followed by the call under test. */
static void
filter_child(int sock, unsigned what)
{
	struct sockaddr_in sin = sin_of("127.0.0.1", 0);
	int s1, s2;

	if (seccomp_child_install(sock, what) == -1)
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
	nfd = seccomp_receive(sv[0]);
	ck_assert_msg(nfd >= 0, "seccomp_receive: %s", strerror(errno));
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
	ck_assert_int_eq(nseen, ((what & SECCOMP_TRAP_BIND) ? 4 : 0) +
	                            ((what & SECCOMP_TRAP_ACCEPT) ? 2 : 0));
	if (what & SECCOMP_TRAP_BIND) {
		ck_assert_int_eq(seen[k++], __NR_bind);
		ck_assert_int_eq(seen[k++], __NR_listen);
		ck_assert_int_eq(how[k], SHUT_RDWR);
		ck_assert_int_eq(seen[k++], __NR_shutdown);
		ck_assert_int_eq(how[k], SHUT_RD);
		ck_assert_int_eq(seen[k++], __NR_shutdown);
	}
	if (what & SECCOMP_TRAP_ACCEPT) {
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
	ck_assert_int_eq(seccomp_receive(sv[0]), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	close(sv[0]);
}
END_TEST

static Suite *
seccomp_suite(int kernel)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("pure"), *tk;

	tcase_add_test(tc, test_fdinfo_flags);
	tcase_add_test(tc, test_status_tgid);
	tcase_add_test(tc, test_receive_nothing);
	tcase_add_test(tc, test_probe_result);
	tcase_add_test(tc, test_arch_name);
	suite_add_tcase(s, tc);
	/* Check has no skip: tests the kernel cannot run are not added. */
	if (kernel) {
		tk = tcase_create("kernel");
		tcase_add_loop_test(tk, test_filter, 0,
		    (int)(sizeof(filter_whats) / sizeof(filter_whats[0])));
		suite_add_tcase(s, tk);
	}
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	probe_rc = seccomp_probe(probe_err, sizeof(probe_err));
	if (probe_rc == -1)
		printf("SKIP: check_seccomp: the filter tests (%d): %s\n",
		    (int)(sizeof(filter_whats) / sizeof(filter_whats[0])),
		    probe_err);
	sr = srunner_create(seccomp_suite(probe_rc == 0));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* check_pidfile.c: unit tests for the pidfile's write, lock, rename, remove. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "pidfile.h"

static char dir[64];
static char path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_pidfile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/baton.pid", dir);
}

/* Remove whatever a test left in its directory. */
static void
teardown(void)
{
	struct dirent *de;
	char p[512];
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void
write_file(const char *p, const char *text)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char *
read_text(const char *p)
{
	static char buf[256];
	ssize_t n;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd != -1, "%s: %s", p, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static int
entries(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * In a child (another process, another open file description): 0 when
 * pidfile_create on p fails saying another master runs, 1 when it
 * succeeds, 2 when it fails otherwise, 3 when a plain flock succeeds.
 */
static int
child_tries(const char *p)
{
	struct pidfile other;
	char err[512] = "";
	int status, fd;
	pid_t pid;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			_exit(3);
		if (pidfile_create(&other, p, err, sizeof(err)) == 0)
			_exit(1);
		_exit(strstr(err, "already running (pid ") != NULL ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_create_writes_and_locks)
{
	struct pidfile pf;
	char err[512] = "", want[32];

	ck_assert_msg(
	    pidfile_create(&pf, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_ge(pf.fd, 0);
	ck_assert_str_eq(pf.path, path);
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	ck_assert_str_eq(read_text(path), want);
	/* Written through a temporary file that is gone now. */
	ck_assert_int_eq(entries(), 1);
	/* The lock is on the file at the path, held by us. */
	ck_assert_int_eq(child_tries(path), 0);
	pidfile_remove(&pf);
}
END_TEST

START_TEST(test_second_create_refused)
{
	struct pidfile pf, again;
	char err[512] = "", want[64];

	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), 0);
	/* flock is per open file description: even we are refused. */
	ck_assert_int_eq(pidfile_create(&again, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "already running (pid %d)", (int)getpid());
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_int_eq(again.fd, -1);
	ck_assert_ptr_null(again.path);
	/* The refused attempt left our file as it was. */
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	ck_assert_str_eq(read_text(path), want);
	ck_assert_int_eq(entries(), 1);
	pidfile_remove(&pf);
}
END_TEST

START_TEST(test_read)
{
	struct pidfile pf;
	char err[512] = "";

	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), 0);
	ck_assert_int_eq(pidfile_read(path, err, sizeof(err)), getpid());
	pidfile_remove(&pf);
	ck_assert_int_eq(pidfile_read(path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
}
END_TEST

/* A file nobody locks is stale: read refuses it, create replaces it. */
START_TEST(test_stale)
{
	struct pidfile pf;
	char err[512] = "", want[32];

	write_file(path, "12345\n");
	ck_assert_int_eq(pidfile_read(path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "stale, pid 12345") != NULL, "%s", err);
	ck_assert_int_eq(child_tries(path), 3);
	ck_assert_msg(
	    pidfile_create(&pf, path, err, sizeof(err)) == 0, "%s", err);
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	ck_assert_str_eq(read_text(path), want);
	pidfile_remove(&pf);
}
END_TEST

START_TEST(test_garbage)
{
	static const char *const texts[] = {
	    "", "abc\n", "12x\n", "-5\n", "0\n", "99999999999\n", " \n"};
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		write_file(path, texts[i]);
		err[0] = '\0';
		ck_assert_msg(pidfile_read(path, err, sizeof(err)) == -1,
		    "\"%s\" read as a pid", texts[i]);
		ck_assert_msg(strstr(err, "does not hold a pid") != NULL,
		    "\"%s\": %s", texts[i], err);
	}
}
END_TEST

START_TEST(test_symlink_refused)
{
	struct pidfile pf;
	char err[512] = "", target[160];

	snprintf(target, sizeof(target), "%s/target", dir);
	write_file(target, "1\n");
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is a symlink") != NULL, "%s", err);
	ck_assert_int_eq(pf.fd, -1);
	/* Neither the link nor what it points to was touched. */
	ck_assert_str_eq(read_text(target), "1\n");
	ck_assert_int_eq(entries(), 2);
	ck_assert_int_eq(pidfile_read(path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is a symlink") != NULL, "%s", err);
}
END_TEST

/* A dangling symlink would let create write where the link points. */
START_TEST(test_dangling_symlink_refused)
{
	struct pidfile pf;
	char err[512] = "", target[160];
	struct stat st;

	snprintf(target, sizeof(target), "%s/nowhere", dir);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is a symlink") != NULL, "%s", err);
	ck_assert_int_eq(lstat(target, &st), -1);
}
END_TEST

START_TEST(test_rename)
{
	struct pidfile pf;
	char err[512] = "", oldbin[160], want[32];

	snprintf(oldbin, sizeof(oldbin), "%s.oldbin", path);
	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), 0);
	ck_assert_int_eq(pidfile_rename(&pf, oldbin), 0);
	ck_assert_str_eq(pf.path, oldbin);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	ck_assert_str_eq(read_text(oldbin), want);
	/* Still locked: the lock moved with the file. */
	ck_assert_int_eq(pidfile_read(oldbin, err, sizeof(err)), getpid());
	ck_assert_int_eq(child_tries(oldbin), 0);
	/* And back (a rollback), over whatever is there. */
	write_file(path, "777\n");
	ck_assert_int_eq(pidfile_rename(&pf, path), 0);
	ck_assert_str_eq(read_text(path), want);
	ck_assert_int_eq(access(oldbin, F_OK), -1);
	pidfile_remove(&pf);
	ck_assert_int_eq(entries(), 0);
}
END_TEST

START_TEST(test_rename_fails)
{
	struct pidfile pf;
	char err[512] = "", bad[192];

	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), 0);
	snprintf(bad, sizeof(bad), "%s/no/such/dir", dir);
	ck_assert_int_eq(pidfile_rename(&pf, bad), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(pf.path, path);
	ck_assert_int_eq(access(path, F_OK), 0);
	pidfile_remove(&pf);
}
END_TEST

/* After an upgrade the path names the new master's file: leave it. */
START_TEST(test_remove_only_ours)
{
	struct pidfile pf;
	char err[512] = "", tmp[160];

	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), 0);
	snprintf(tmp, sizeof(tmp), "%s/new", dir);
	write_file(tmp, "4242\n");
	ck_assert_int_eq(rename(tmp, path), 0);
	pidfile_remove(&pf);
	ck_assert_int_eq(pf.fd, -1);
	ck_assert_ptr_null(pf.path);
	ck_assert_str_eq(read_text(path), "4242\n");

	/* Ours is removed. */
	unlink(path);
	ck_assert_int_eq(pidfile_create(&pf, path, err, sizeof(err)), 0);
	pidfile_remove(&pf);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(entries(), 0);
	/* Twice is harmless. */
	pidfile_remove(&pf);
}
END_TEST

START_TEST(test_unwritable_dir)
{
	struct pidfile pf;
	char err[512] = "", p[192];

	snprintf(p, sizeof(p), "%s/no/such/dir/baton.pid", dir);
	ck_assert_int_eq(pidfile_create(&pf, p, err, sizeof(err)), -1);
	ck_assert_msg(
	    strstr(err, "cannot open its directory") != NULL, "%s", err);
	ck_assert_int_eq(pf.fd, -1);
}
END_TEST

/*
 * Eight masters start at the same instant on one pidfile: exactly one
 * wins, every other one is told it is already running. Without the
 * directory's lock, several pass the check and rename their file in turn.
 */
START_TEST(test_simultaneous_start)
{
	enum { N = 8 };
	int go[2], res[2], i, won = 0, refused = 0, status;
	pid_t kids[N];
	char p[192], c;

	snprintf(p, sizeof(p), "%s/race.pid", dir);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(res), 0);
	for (i = 0; i < N; i++) {
		kids[i] = fork();
		ck_assert_int_ne(kids[i], -1);
		if (kids[i] == 0) {
			struct pidfile pf;
			char err[512] = "";

			close(go[1]);
			(void)!read(go[0], &c, 1); /* EOF: everyone at once */
			if (pidfile_create(&pf, p, err, sizeof(err)) == 0)
				c = 'w';
			else
				c = strstr(err, "already running (pid ") ? 'r'
				                                         : 'x';
			(void)!write(res[1], &c, 1);
			if (c == 'w')
				pause(); /* hold the lock until killed */
			_exit(0);
		}
	}
	close(go[0]);
	close(res[1]);
	close(go[1]);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(read(res[0], &c, 1), 1);
		won += c == 'w';
		refused += c == 'r';
	}
	for (i = 0; i < N; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], &status, 0);
	}
	close(res[0]);
	unlink(p);
	ck_assert_int_eq(won, 1);
	ck_assert_int_eq(refused, N - 1);
}
END_TEST

static Suite *
pidfile_suite(void)
{
	Suite *s = suite_create("pidfile");
	TCase *tc = tcase_create("pidfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_writes_and_locks);
	tcase_add_test(tc, test_second_create_refused);
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_stale);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_symlink_refused);
	tcase_add_test(tc, test_dangling_symlink_refused);
	tcase_add_test(tc, test_rename);
	tcase_add_test(tc, test_rename_fails);
	tcase_add_test(tc, test_remove_only_ours);
	tcase_add_test(tc, test_unwritable_dir);
	/* A race: five rounds, so that a lost lock shows. */
	tcase_add_loop_test(tc, test_simultaneous_start, 0, 5);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pidfile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

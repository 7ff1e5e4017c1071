/* unit_children.h: for unit tests that fork: bounded runs and a janitor. */
/*
 * Included by the tests that start real processes on the default loop
 * (check_worker.c, check_generation.c); static functions only, so that each
 * test program stays one .c file linked with the modules it tests.
 *
 * A failed assertion in a forked Check test ends the test process with
 * _exit(): no teardown, no atexit, and its workers (each in its own process
 * group) would outlive it. So setup forks a janitor that is told every pid
 * the test starts and reaps, and on EOF, unless disarmed by teardown, kills
 * what is left and removes the test's directory.
 *
 * The including file defines unit_track(), called after every loop
 * iteration to hand the janitor the pids its workers run now.
 */
#ifndef UNIT_CHILDREN_H
#define UNIT_CHILDREN_H

#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#define UNIT_PIDS_MAX 256

static void unit_track(void);

static struct {
	int fd;    /* write end, -1 when no janitor runs */
	pid_t pid; /* the janitor */
	pid_t sent[UNIT_PIDS_MAX];
	int nsent;
} unit_janitor = {-1, 0, {0}, 0};

/* Remove the files of a flat directory, then the directory. */
static inline void
unit_remove_dir(const char *dir)
{
	struct dirent *de;
	char p[512];
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
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

static inline _Noreturn void
unit_janitor_main(int fd, const char *dir)
{
	pid_t pids[UNIT_PIDS_MAX], v;
	int n = 0, i, disarmed = 0;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
		if (v == 0) {
			disarmed = 1;
		} else if (v > 0 && n < UNIT_PIDS_MAX) {
			pids[n++] = v;
		} else if (v < 0) {
			for (i = 0; i < n; i++)
				if (pids[i] == -v)
					pids[i] = pids[--n];
		}
	}
	if (!disarmed) {
		for (i = 0; i < n; i++) {
			(void)kill(-pids[i], SIGKILL);
			(void)kill(pids[i], SIGKILL);
		}
		unit_remove_dir(dir);
	}
	_exit(0);
}

/* Fork the janitor; dir (flat) is removed if the test dies. */
static inline void
unit_janitor_start(const char *dir)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	unit_janitor.pid = fork();
	ck_assert_int_ne(unit_janitor.pid, -1);
	if (unit_janitor.pid == 0) {
		/* Out of the test's group: Check SIGKILLs it when the test
		 * ends, and the janitor's work starts then. */
		(void)setpgid(0, 0);
		close(p[1]);
		unit_janitor_main(p[0], dir);
	}
	close(p[0]);
	unit_janitor.fd = p[1];
	unit_janitor.nsent = 0;
}

static inline void
unit_janitor_send(pid_t v)
{
	if (unit_janitor.fd != -1)
		ck_assert_int_eq(
		    write(unit_janitor.fd, &v, sizeof(v)), (ssize_t)sizeof(v));
}

/* A process the test started: killed if the test dies. */
static inline void
unit_janitor_track(pid_t pid)
{
	int i;

	if (pid <= 0)
		return;
	for (i = 0; i < unit_janitor.nsent; i++)
		if (unit_janitor.sent[i] == pid)
			return;
	if (unit_janitor.nsent < UNIT_PIDS_MAX)
		unit_janitor.sent[unit_janitor.nsent++] = pid;
	unit_janitor_send(pid);
}

/* Reaped: its pid may be reused, never kill it again. */
static inline void
unit_janitor_forget(pid_t pid)
{
	int i;

	for (i = 0; i < unit_janitor.nsent; i++)
		if (unit_janitor.sent[i] == pid)
			unit_janitor.sent[i] =
			    unit_janitor.sent[--unit_janitor.nsent];
	unit_janitor_send(-pid);
}

/* Teardown cleaned up: the janitor exits without touching anything. */
static inline void
unit_janitor_stop(void)
{
	if (unit_janitor.fd == -1)
		return;
	unit_janitor_send(0);
	close(unit_janitor.fd);
	unit_janitor.fd = -1;
	(void)waitpid(unit_janitor.pid, NULL, 0);
}

static inline void
unit_break_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)revents;
	*(int *)t->data = 1;
	ev_break(l, EVBREAK_ONE);
}

/* Run the default loop for s seconds, whatever happens. */
static inline void
unit_run_for(double s)
{
	struct ev_loop *l = EV_DEFAULT;
	ev_timer t;
	int done = 0;

	ev_timer_init(&t, unit_break_cb, s, 0);
	t.data = &done;
	ev_timer_start(l, &t);
	while (!done) {
		ev_run(l, EVRUN_ONCE);
		unit_track();
	}
	ev_timer_stop(l, &t);
}

/* Run the default loop until done(arg); fail after s seconds. */
static inline void
unit_run_until(
    int (*done)(const void *), const void *arg, double s, const char *what)
{
	struct ev_loop *l = EV_DEFAULT;
	ev_timer guard;
	int fired = 0;

	ev_timer_init(&guard, unit_break_cb, s, 0);
	guard.data = &fired;
	ev_timer_start(l, &guard);
	while (!done(arg) && !fired) {
		ev_run(l, EVRUN_ONCE);
		unit_track();
	}
	ev_timer_stop(l, &guard);
	ck_assert_msg(done(arg), "%s: not within %.1f s", what, s);
}

/* Prints SKIP and returns 0 when a binary the test runs is missing. */
static inline int
unit_have(const char *path)
{
	if (access(path, X_OK) == 0)
		return 1;
	printf("SKIP: %s is not there\n", path);
	return 0;
}

/* The state letter in /proc/PID/stat, 0 when the process is gone. */
static inline char
unit_proc_state(pid_t pid)
{
	char path[64], st[512];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, st, sizeof(st) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	st[n] = '\0';
	p = strrchr(st, ')');
	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

#endif

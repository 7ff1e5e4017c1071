/* check_generation.c: unit tests for a generation's workers, as its owner. */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "config.h"
#include "generation.h"
#include "log.h"
#include "worker.h"

#include "unit_children.h"

/*
 * The test is the generation's owner, as the master is: it counts
 * changed() calls, promotes with generation_set_state, and reaps with a
 * child watcher on the default loop that hands each status to the worker
 * with that pid.
 */
static struct ev_loop *loop;
static struct config *cfg;
static struct generation *g;
static ev_child child;
static char dir[64], log_path[96];

static struct {
	int changed, unknown;
	enum generation_state state; /* at the last changed() */
	int all_ready;               /* generation_all_ready then */
} got;

static void
changed_cb(struct generation *gen, void *owner)
{
	ck_assert_ptr_eq(gen, g);
	ck_assert_ptr_eq(owner, &got);
	got.changed++;
	got.state = gen->state;
	got.all_ready = generation_all_ready(gen);
}

static const struct generation_events events = {.changed = changed_cb};

static void
child_cb(struct ev_loop *l, ev_child *c, int revents)
{
	struct worker *w;

	(void)l;
	(void)revents;
	unit_janitor_forget(c->rpid);
	if (g != NULL && (w = generation_find_pid(g, c->rpid)) != NULL)
		worker_exited(w, c->rstatus);
	else
		got.unknown++;
}

static void
unit_track(void)
{
	size_t i;

	for (i = 0; g != NULL && i < g->nworkers; i++)
		unit_janitor_track(g->workers[i]->pid);
}

static void
setup(void)
{
	int fd;

	loop = ev_default_loop(0);
	ck_assert_ptr_nonnull(loop);
	memset(&got, 0, sizeof(got));
	g = NULL;
	cfg = NULL;
	snprintf(dir, sizeof(dir), "/tmp/check_generation.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	unit_janitor_start(dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	fd = open(log_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(log_open(log_path), 0);
	ev_child_init(&child, child_cb, 0, 0);
	ev_child_start(loop, &child);
}

static void
teardown(void)
{
	size_t i;
	pid_t pid;

	for (i = 0; g != NULL && i < g->nworkers; i++) {
		if ((pid = g->workers[i]->pid) == 0)
			continue;
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		unit_janitor_forget(pid);
		g->workers[i]->pid = 0;
	}
	ev_child_stop(loop, &child);
	if (g != NULL)
		generation_free(g);
	g = NULL;
	if (cfg != NULL)
		config_free(cfg);
	cfg = NULL;
	log_close();
	unit_remove_dir(dir);
	unit_janitor_stop();
}

/* Generation 3 of target workers running command; not started. */
static struct generation *
make_gen(const char *command, const char *lines, int target)
{
	char text[1024], err[CONFIG_ERR_MAX] = "";

	snprintf(text, sizeof(text), "[app]\ncommand = %s\n%s", command, lines);
	cfg = config_load_string("t.ini", text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "unexpected error: %s\n%s", err, text);
	g = generation_new(
	    loop, 3, cfg, NULL, target, NULL, NULL, &events, &got);
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->state, GEN_STARTING);
	ck_assert_int_eq(g->target, target);
	return g;
}

static void
start(void)
{
	generation_start(g);
	unit_track();
}

static int
changed_at_least(const void *arg)
{
	return got.changed >= *(const int *)arg;
}

static void
wait_changed(int n, double s, const char *what)
{
	unit_run_until(changed_at_least, &n, s, what);
}

static int
ready_count_is(const void *arg)
{
	return generation_count(g, WORKER_READY) == *(const int *)arg;
}

static int
nworkers_is(const void *arg)
{
	return (int)g->nworkers == *(const int *)arg;
}

static const char *
log_text(void)
{
	static char buf[65536];
	ssize_t n;
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ne(fd, -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static void
assert_logged(const char *want)
{
	ck_assert_msg(strstr(log_text(), want) != NULL, "not logged: %s\n%s",
	    want, log_text());
}

static int
alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

/* Start target workers of "sleep 30", wait until all are ready, promote. */
static void
start_active(int target)
{
	make_gen("/bin/sleep 30", "ready = none\n", target);
	start();
	wait_changed(1, 3.0, "all ready");
	ck_assert(generation_all_ready(g));
	generation_set_state(g, GEN_ACTIVE);
	ck_assert_int_eq(g->state, GEN_ACTIVE);
}

START_TEST(test_all_ready_then_retire)
{
	pid_t pids[2];
	int changed;

	if (!unit_have("/bin/sleep"))
		return;
	make_gen("/bin/sleep 30", "ready = delay:100ms\n", 2);
	start();
	ck_assert_uint_eq(g->nworkers, 2);
	ck_assert_int_eq(generation_count(g, -1), 2);
	ck_assert_int_eq(got.changed, 0);
	ck_assert(!generation_all_ready(g));
	wait_changed(1, 3.0, "all ready");
	ck_assert_int_eq(got.state, GEN_STARTING);
	ck_assert_int_eq(got.all_ready, 1);
	ck_assert_int_eq(generation_count(g, WORKER_READY), 2);
	ck_assert_int_eq(g->workers[0]->index, 0);
	ck_assert_int_eq(g->workers[1]->index, 1);
	pids[0] = g->workers[0]->pid;
	pids[1] = g->workers[1]->pid;
	ck_assert(alive(pids[0]) && alive(pids[1]));
	ck_assert_ptr_eq(generation_find_pid(g, pids[1]), g->workers[1]);
	ck_assert_ptr_null(generation_find_pid(g, getpid()));
	unit_run_for(0.3);
	ck_assert_int_eq(got.changed, 1); /* once, not per worker */

	/* The owner promotes it; all_ready is a STARTING generation's. */
	generation_set_state(g, GEN_ACTIVE);
	ck_assert(!generation_all_ready(g));

	changed = got.changed;
	generation_retire(g, 0);
	ck_assert_int_eq(g->state, GEN_DRAINING);
	wait_changed(changed + 1, 5.0, "gone after retire");
	ck_assert_int_eq(got.state, GEN_GONE);
	ck_assert_int_eq(g->state, GEN_GONE);
	ck_assert_uint_eq(g->nworkers, 0);
	ck_assert_int_eq(kill(pids[0], 0), -1);
	ck_assert_int_eq(kill(pids[1], 0), -1);
	ck_assert_int_eq(got.unknown, 0);
	assert_logged("generation 3: starting -> active\n");
	assert_logged("generation 3: active -> draining\n");
	assert_logged("generation 3: draining -> gone\n");
}
END_TEST

START_TEST(test_exit_while_starting_fails)
{
	int changed;

	if (!unit_have("/bin/sh"))
		return;
	make_gen("/bin/sh -c 'exit 3'", "ready = delay:2s\n", 2);
	start();
	wait_changed(1, 3.0, "failed");
	ck_assert_int_eq(got.state, GEN_FAILED);
	ck_assert_int_eq(g->state, GEN_FAILED);
	ck_assert_int_eq(got.all_ready, 0);
	ck_assert_msg(strstr(g->why, "exited with status 3 before it was "
	                             "ready") != NULL &&
	                  strncmp(g->why, "worker ", 7) == 0,
	    "why: %s", g->why);
	/* Rolling it back is the owner's: retire, then it is gone. */
	changed = got.changed;
	generation_retire(g, 1);
	wait_changed(changed + 1, 3.0, "gone after rollback");
	ck_assert_int_eq(g->state, GEN_GONE);
	ck_assert_int_eq(generation_count(g, -1), 0);
	assert_logged("generation 3: starting -> failed\n");
	assert_logged("generation 3: failed -> draining\n");
}
END_TEST

/* A worker that cannot even be spawned fails the generation at once. */
START_TEST(test_spawn_failure_fails)
{
	make_gen("baton-check-no-such-cmd", "env.PATH = /nonexistent\n", 2);
	start();
	ck_assert_int_eq(got.changed, 1);
	ck_assert_int_eq(g->state, GEN_FAILED);
	ck_assert_msg(strcmp(g->why, "worker 0: baton-check-no-such-cmd: "
	                             "command not found in the worker's "
	                             "PATH") == 0,
	    "why: %s", g->why);
	ck_assert_int_eq(generation_count(g, -1), 0);
	generation_retire(g, 0);
	ck_assert_int_eq(g->state, GEN_GONE);
	ck_assert_int_eq(got.changed, 2);
}
END_TEST

START_TEST(test_ready_timeout_fails)
{
	char want[64];
	pid_t pid;

	if (!unit_have("/bin/sleep"))
		return;
	make_gen("/bin/sleep 30", "ready = notify\nready_timeout = 300ms\n", 1);
	start();
	pid = g->workers[0]->pid;
	wait_changed(1, 3.0, "ready_timeout");
	ck_assert_int_eq(g->state, GEN_FAILED);
	snprintf(want, sizeof(want),
	    "worker 0 (pid %d) not ready after 0.300 s", (int)pid);
	ck_assert_str_eq(g->why, want);
	ck_assert(alive(pid)); /* the owner retires it */
	generation_retire(g, 1);
	wait_changed(2, 3.0, "gone");
	ck_assert_int_eq(g->state, GEN_GONE);
}
END_TEST

START_TEST(test_scale)
{
	pid_t first;
	int n;

	if (!unit_have("/bin/sleep"))
		return;
	start_active(1);
	first = g->workers[0]->pid;
	ck_assert_int_eq(generation_scale(g, 1), 2);
	unit_track();
	ck_assert_uint_eq(g->nworkers, 2);
	ck_assert_int_eq(g->workers[1]->index, 1);
	n = 2;
	unit_run_until(ready_count_is, &n, 3.0, "two ready");
	ck_assert_int_eq(got.changed, 1); /* ACTIVE: nothing to report */

	ck_assert_int_eq(generation_scale(g, -1), 1);
	ck_assert_int_eq(g->workers[1]->retired, 1);
	n = 1;
	unit_run_until(nworkers_is, &n, 3.0, "the extra worker gone");
	ck_assert_int_eq(g->workers[0]->index, 0);
	ck_assert_int_eq(g->workers[0]->pid, first);
	ck_assert(alive(first));
	ck_assert_int_eq(g->state, GEN_ACTIVE);

	/* Never below one worker. */
	ck_assert_int_eq(generation_scale(g, -1), 1);
	ck_assert_uint_eq(g->nworkers, 1);
	ck_assert_int_eq(g->workers[0]->retired, 0);

	/* The freed index is given again. */
	ck_assert_int_eq(generation_scale(g, 1), 2);
	unit_track();
	ck_assert_int_eq(g->workers[1]->index, 1);
	n = 2;
	unit_run_until(ready_count_is, &n, 3.0, "two ready again");

	/* Even while the worker scaled away is still stopping. */
	ck_assert_int_eq(generation_scale(g, -1), 1);
	ck_assert_int_eq(generation_scale(g, 1), 2);
	unit_track();
	ck_assert_uint_eq(g->nworkers, 3);
	ck_assert_int_eq(g->workers[1]->retired, 1);
	ck_assert_int_eq(g->workers[2]->index, 1);
	unit_run_until(nworkers_is, &n, 3.0, "the stopping one gone");
	ck_assert_int_eq(generation_count(g, WORKER_READY), 2);
}
END_TEST

static int
respawned(const void *arg)
{
	const struct worker *w = g->nworkers == 1 ? g->workers[0] : NULL;

	return w != NULL && w->state == WORKER_READY &&
	       w->pid != *(const pid_t *)arg && w->pid != 0;
}

START_TEST(test_respawn_after_crash)
{
	ev_tstamp t0;
	pid_t first;

	if (!unit_have("/bin/sleep"))
		return;
	start_active(1);
	first = g->workers[0]->pid;
	ev_now_update(loop);
	t0 = ev_now(loop);
	ck_assert_int_eq(kill(first, SIGKILL), 0);
	unit_run_until(respawned, &first, 4.0, "respawned");
	ev_now_update(loop);
	/* The first backoff is 1 s. */
	ck_assert_double_ge(ev_now(loop) - t0, 0.95);
	ck_assert_int_eq(g->workers[0]->restarts, 1);
	ck_assert_int_eq(g->workers[0]->index, 0);
	ck_assert(alive(g->workers[0]->pid));
	ck_assert_int_eq(g->state, GEN_ACTIVE);
	ck_assert_int_eq(got.changed, 1);
	assert_logged("generation 3 worker 0: respawning in 1 s\n");
	assert_logged("killed by signal 9 (KILL) while ready\n");
}
END_TEST

static int
waiting_respawn(const void *arg)
{
	(void)arg;
	return g->nworkers == 1 && g->workers[0]->pid == 0 &&
	       g->workers[0]->state == WORKER_EXITED;
}

/* Retired while a crashed worker waits for its respawn: none comes. */
START_TEST(test_retire_cancels_respawn)
{
	pid_t first;

	if (!unit_have("/bin/sleep"))
		return;
	start_active(1);
	first = g->workers[0]->pid;
	ck_assert_int_eq(kill(first, SIGKILL), 0);
	unit_run_until(waiting_respawn, NULL, 0.9, "crash reaped");
	generation_retire(g, 0);
	ck_assert_int_eq(g->state, GEN_GONE);
	ck_assert_int_eq(got.changed, 2);
	ck_assert_uint_eq(g->nworkers, 0);
	unit_run_for(1.5);
	ck_assert_uint_eq(g->nworkers, 0);
	ck_assert_int_eq(got.unknown, 0);
	ck_assert_int_eq(got.changed, 2);
}
END_TEST

/* Exit status 78 (EX_CONFIG) in ACTIVE: not respawned, target lowered. */
START_TEST(test_ex_config_not_respawned)
{
	int zero = 0;

	if (!unit_have("/bin/sh"))
		return;
	make_gen("/bin/sh -c 'sleep 0.5; exit 78'", "ready = none\n", 1);
	start();
	wait_changed(1, 3.0, "all ready");
	generation_set_state(g, GEN_ACTIVE);
	unit_run_until(nworkers_is, &zero, 3.0, "worker removed");
	ck_assert_int_eq(g->target, 0);
	unit_run_for(1.5);
	ck_assert_uint_eq(g->nworkers, 0);
	ck_assert_int_eq(g->state, GEN_ACTIVE);
	assert_logged("exit status 78 (EX_CONFIG)");
	assert_logged("generation 3: no worker left");
}
END_TEST

/* Which transitions generation_set_state allows: bit t of [s]. */
#define TO(s) (1u << (s))
static const unsigned want_transitions[] = {
    [GEN_STARTING] = TO(GEN_ACTIVE) | TO(GEN_FAILED) | TO(GEN_DRAINING),
    [GEN_ACTIVE] = TO(GEN_DRAINING),
    [GEN_FAILED] = TO(GEN_DRAINING),
    [GEN_DRAINING] = TO(GEN_GONE),
    [GEN_GONE] = 0,
};

START_TEST(test_transition_table)
{
	enum generation_state from, to;

	make_gen("/bin/true", "", 1);
	for (from = 0; from <= GEN_GONE; from++) {
		for (to = 0; to <= GEN_GONE; to++) {
			g->state = from; /* placed by hand: nothing runs */
			generation_set_state(g, to);
			if (from == to || (want_transitions[from] & TO(to)))
				ck_assert_msg(g->state == to,
				    "%s -> %s refused",
				    generation_state_name(from),
				    generation_state_name(to));
			else
				ck_assert_msg(g->state == from,
				    "%s -> %s allowed",
				    generation_state_name(from),
				    generation_state_name(to));
		}
	}
	assert_logged(
	    "generation 3: impossible transition gone -> starting, ignored\n");
	ck_assert_str_eq(generation_state_name(GEN_STARTING), "starting");
	ck_assert_str_eq(generation_state_name(GEN_ACTIVE), "active");
	ck_assert_str_eq(generation_state_name(GEN_FAILED), "failed");
	ck_assert_str_eq(generation_state_name(GEN_DRAINING), "draining");
	ck_assert_str_eq(generation_state_name(GEN_GONE), "gone");
}
END_TEST

static Suite *
generation_suite(void)
{
	Suite *s = suite_create("generation");
	TCase *tc = tcase_create("generation");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_all_ready_then_retire);
	tcase_add_test(tc, test_exit_while_starting_fails);
	tcase_add_test(tc, test_spawn_failure_fails);
	tcase_add_test(tc, test_ready_timeout_fails);
	tcase_add_test(tc, test_scale);
	tcase_add_test(tc, test_respawn_after_crash);
	tcase_add_test(tc, test_retire_cancels_respawn);
	tcase_add_test(tc, test_ex_config_not_respawned);
	tcase_add_test(tc, test_transition_table);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(generation_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* check_worker.c: unit tests for one worker's fork/exec, deadlines, exit. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
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
#include "listener.h"
#include "log.h"
#include "worker.h"

#include "unit_children.h"

/*
 * The test is the worker's owner: it records the events, and reaps with a
 * child watcher on the default loop that hands each status to the worker
 * with that pid, as the master does.
 */
static struct ev_loop *loop;
static struct config *cfg;
static struct worker_shared sh;
static struct worker *w;
static ev_child child;
static char dir[64], log_path[96];

static struct {
	int ready, exited, timeouts, unknown;
	int status;
	ev_tstamp ready_at, exited_at, timeout_at;
} got;

static void
ready_cb(struct worker *wk, void *owner)
{
	ck_assert_ptr_eq(wk, w);
	ck_assert_ptr_eq(owner, &got);
	got.ready++;
	got.ready_at = ev_now(loop);
}

static void
exited_cb(struct worker *wk, int status, void *owner)
{
	ck_assert_ptr_eq(wk, w);
	ck_assert_ptr_eq(owner, &got);
	got.exited++;
	got.status = status;
	got.exited_at = ev_now(loop);
}

static void
timeout_cb(struct worker *wk, void *owner)
{
	ck_assert_ptr_eq(wk, w);
	ck_assert_ptr_eq(owner, &got);
	got.timeouts++;
	got.timeout_at = ev_now(loop);
}

static const struct worker_events events = {
    .ready = ready_cb,
    .exited = exited_cb,
    .timeout = timeout_cb,
};

static void
child_cb(struct ev_loop *l, ev_child *c, int revents)
{
	(void)l;
	(void)revents;
	if (w != NULL && w->pid == c->rpid)
		worker_exited(w, c->rstatus);
	else
		got.unknown++;
}

/* Kill and reap whatever still runs. */
static void
reap_all(void)
{
	pid_t pid;

	if (w == NULL || (pid = w->pid) == 0)
		return;
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	unit_janitor_forget(pid);
	w->pid = 0;
}

static void
unit_track(void)
{
	if (w != NULL)
		unit_janitor_track(w->pid);
}

static void
setup(void)
{
	int fd;

	loop = ev_default_loop(0);
	ck_assert_ptr_nonnull(loop);
	memset(&got, 0, sizeof(got));
	w = NULL;
	cfg = NULL;
	snprintf(dir, sizeof(dir), "/tmp/check_worker.XXXXXX");
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
	reap_all();
	ev_child_stop(loop, &child);
	if (w != NULL)
		worker_free(w);
	w = NULL;
	if (cfg != NULL)
		config_free(cfg);
	cfg = NULL;
	log_close();
	unit_remove_dir(dir);
	unit_janitor_stop();
}

/* A worker of generation 7 running command, the [app] lines after it. */
static struct worker *
make_worker(const char *command, const char *lines, int index)
{
	char text[1024], err[CONFIG_ERR_MAX] = "";

	snprintf(text, sizeof(text), "[app]\ncommand = %s\n%s", command, lines);
	cfg = config_load_string("t.ini", text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "unexpected error: %s\n%s", err, text);
	memset(&sh, 0, sizeof(sh));
	sh.loop = loop;
	sh.generation = 7;
	sh.cfg = cfg;
	sh.events = &events;
	sh.owner = &got;
	w = worker_new(&sh, index);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	ck_assert_int_eq(w->pid, 0);
	return w;
}

static void
spawn(void)
{
	ck_assert_msg(worker_spawn(w) == 0, "spawn: %s", w->why);
	ck_assert_int_gt(w->pid, 0);
	unit_janitor_track(w->pid);
	ck_assert_int_eq(w->state, WORKER_STARTING);
}

struct count_at_least {
	const int *count;
	int n;
};

static int
count_reached(const void *arg)
{
	const struct count_at_least *c = arg;

	return *c->count >= c->n;
}

/* Run the loop until *count reaches n; fail after s seconds. */
static void
run_until(const int *count, int n, double s, const char *what)
{
	struct count_at_least c = {count, n};

	unit_run_until(count_reached, &c, s, what);
}

static int
file_exists(const void *path)
{
	return access(path, F_OK) == 0;
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

/* "generation 7 worker 0 pid PID: what" is in the log. */
static void
assert_logged(pid_t pid, const char *what)
{
	char want[256];

	snprintf(want, sizeof(want), "generation 7 worker 0 pid %d: %s",
	    (int)pid, what);
	ck_assert_msg(strstr(log_text(), want) != NULL, "not logged: %s\n%s",
	    want, log_text());
}

static int
alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

START_TEST(test_ready_then_stop)
{
	ev_tstamp t0;
	pid_t pid;

	if (!unit_have("/bin/sleep"))
		return;
	make_worker("/bin/sleep 30", "ready = none\n", 0);
	spawn();
	pid = w->pid;
	ck_assert(alive(pid));
	run_until(&got.ready, 1, 2.0, "ready = none");
	ck_assert_int_eq(w->state, WORKER_READY);
	ck_assert(!ev_is_active(&w->deadline)); /* ready_timeout is off */
	ck_assert(alive(pid));

	ev_now_update(loop);
	t0 = ev_now(loop);
	worker_stop(w, SIGTERM, 5.0);
	ck_assert_int_eq(w->state, WORKER_STOPPING);
	run_until(&got.exited, 1, 3.0, "exit after TERM");
	ck_assert(WIFSIGNALED(got.status));
	ck_assert_int_eq(WTERMSIG(got.status), SIGTERM);
	ck_assert_double_lt(got.exited_at - t0, 4.0); /* not the SIGKILL */
	ck_assert_int_eq(w->killed, 0);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	ck_assert_int_eq(w->pid, 0);
	ck_assert_int_eq(w->last_status, got.status);
	ck_assert(!ev_is_active(&w->deadline));
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(got.ready, 1);
	ck_assert_int_eq(got.timeouts, 0);
	ck_assert_int_eq(got.unknown, 0);

	/* Every change of state went through worker_set_state, logged. */
	assert_logged(pid, "started\n");
	assert_logged(pid, "starting -> ready\n");
	assert_logged(pid, "ready -> stopping\n");
	assert_logged(pid, "killed by signal 15 (TERM)\n");
	assert_logged(pid, "stopping -> exited\n");
}
END_TEST

START_TEST(test_ready_delay)
{
	ev_tstamp t0;

	if (!unit_have("/bin/sleep"))
		return;
	make_worker("/bin/sleep 30", "ready = delay:100ms\n", 0);
	ev_now_update(loop);
	t0 = ev_now(loop);
	spawn();
	unit_run_for(0.05);
	/* A slow host may have let the delay pass; never before it. */
	ck_assert(got.ready == 0 || got.ready_at - t0 >= 0.099);
	run_until(&got.ready, 1, 2.0, "ready = delay:100ms");
	ck_assert_double_ge(got.ready_at - t0, 0.099);
	ck_assert_int_eq(w->state, WORKER_READY);
	ck_assert(alive(w->pid));
}
END_TEST

START_TEST(test_exit_before_ready)
{
	pid_t pid;

	if (!unit_have("/bin/false"))
		return;
	make_worker("/bin/false", "ready = delay:1s\n", 0);
	spawn();
	pid = w->pid;
	run_until(&got.exited, 1, 2.0, "/bin/false exits");
	ck_assert(WIFEXITED(got.status));
	ck_assert_int_eq(WEXITSTATUS(got.status), 1);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	ck_assert_int_eq(w->pid, 0);
	ck_assert_int_eq(w->ready.running, 0);
	ck_assert(!ev_is_active(&w->deadline));
	/* Its readiness check died with it: no ready after the delay. */
	unit_run_for(1.2);
	ck_assert_int_eq(got.ready, 0);
	ck_assert_int_eq(got.exited, 1);
	assert_logged(pid, "exited with status 1 while starting\n");
}
END_TEST

START_TEST(test_ready_timeout)
{
	ev_tstamp t0;

	if (!unit_have("/bin/sleep"))
		return;
	make_worker(
	    "/bin/sleep 30", "ready = notify\nready_timeout = 300ms\n", 0);
	ev_now_update(loop);
	t0 = ev_now(loop);
	spawn();
	run_until(&got.timeouts, 1, 2.0, "ready_timeout");
	ck_assert_double_ge(got.timeout_at - t0, 0.299);
	/* What to do is the owner's: the worker is left as it was. */
	ck_assert_int_eq(w->state, WORKER_STARTING);
	ck_assert(alive(w->pid));
	ck_assert_int_eq(got.ready, 0);
	unit_run_for(0.5);
	ck_assert_int_eq(got.timeouts, 1);
	worker_stop(w, SIGTERM, 5.0);
	run_until(&got.exited, 1, 3.0, "exit after TERM");
	ck_assert_int_eq(WTERMSIG(got.status), SIGTERM);
}
END_TEST

/* A worker that ignores its stop signal is killed after the timeout. */
START_TEST(test_stop_timeout_kills)
{
	char cmd[256], armed[128];
	ev_tstamp t0;
	pid_t pid;

	if (!unit_have("/bin/sh") || !unit_have("/bin/sleep"))
		return;
	snprintf(armed, sizeof(armed), "%s/armed", dir);
	snprintf(cmd, sizeof(cmd),
	    "/bin/sh -c 'trap \"\" TERM; : > %s; exec /bin/sleep 30'", armed);
	make_worker(cmd, "ready = none\n", 0);
	spawn();
	pid = w->pid;
	run_until(&got.ready, 1, 2.0, "ready");
	unit_run_until(file_exists, armed, 3.0, armed);

	ev_now_update(loop);
	t0 = ev_now(loop);
	worker_stop(w, SIGTERM, 0.3);
	ck_assert_int_eq(w->state, WORKER_STOPPING);
	unit_run_for(0.15);
	/* TERM is ignored: only the SIGKILL, after 0.3 s, ends it. */
	ck_assert(got.exited == 0 || got.exited_at - t0 >= 0.299);
	run_until(&got.exited, 1, 3.0, "SIGKILL after the stop timeout");
	ck_assert(WIFSIGNALED(got.status));
	ck_assert_int_eq(WTERMSIG(got.status), SIGKILL);
	ck_assert_double_ge(got.exited_at - t0, 0.299);
	ck_assert_int_eq(w->killed, 1);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	assert_logged(pid, "still running after the stop timeout");
}
END_TEST

/*
 * A second stop (a QUIT after the reload that retired it) never pushes the
 * KILL later: the deadline already armed stands when it is the sooner.
 */
START_TEST(test_second_stop_keeps_deadline)
{
	char cmd[256], armed[128];
	ev_tstamp t0;

	if (!unit_have("/bin/sh") || !unit_have("/bin/sleep"))
		return;
	snprintf(armed, sizeof(armed), "%s/armed", dir);
	snprintf(cmd, sizeof(cmd),
	    "/bin/sh -c 'trap \"\" TERM; : > %s; exec /bin/sleep 30'", armed);
	make_worker(cmd, "ready = none\n", 0);
	spawn();
	run_until(&got.ready, 1, 2.0, "ready");
	unit_run_until(file_exists, armed, 3.0, armed);

	ev_now_update(loop);
	t0 = ev_now(loop);
	worker_stop(w, SIGTERM, 0.3);
	unit_run_for(0.1);
	worker_stop(w, SIGTERM, 30.0); /* must not postpone the KILL */
	run_until(&got.exited, 1, 3.0, "SIGKILL at the first deadline");
	ck_assert(WIFSIGNALED(got.status));
	ck_assert_int_eq(WTERMSIG(got.status), SIGKILL);
	ck_assert_double_lt(got.exited_at - t0, 5.0);
}
END_TEST

/* worker_retire uses the configured stop_signal. */
START_TEST(test_retire_stop_signal)
{
	if (!unit_have("/bin/sleep"))
		return;
	make_worker("/bin/sleep 30", "ready = none\nstop_signal = INT\n", 0);
	spawn();
	run_until(&got.ready, 1, 2.0, "ready");
	worker_retire(w);
	ck_assert_int_eq(w->state, WORKER_STOPPING);
	run_until(&got.exited, 1, 3.0, "exit after INT");
	ck_assert(WIFSIGNALED(got.status));
	ck_assert_int_eq(WTERMSIG(got.status), SIGINT);
}
END_TEST

/* Which transitions worker_set_state allows: bit t of [s] is s -> t. */
#define TO(s) (1u << (s))
static const unsigned want_transitions[] = {
    [WORKER_STARTING] =
        TO(WORKER_READY) | TO(WORKER_STOPPING) | TO(WORKER_EXITED),
    [WORKER_READY] =
        TO(WORKER_DRAINING) | TO(WORKER_STOPPING) | TO(WORKER_EXITED),
    [WORKER_DRAINING] = TO(WORKER_STOPPING) | TO(WORKER_EXITED),
    [WORKER_STOPPING] = TO(WORKER_EXITED),
    [WORKER_EXITED] = TO(WORKER_STARTING),
};

START_TEST(test_transition_table)
{
	enum worker_state from, to;

	make_worker("/bin/true", "", 0);
	for (from = 0; from <= WORKER_EXITED; from++) {
		for (to = 0; to <= WORKER_EXITED; to++) {
			w->state = from; /* placed by hand: no process here */
			worker_set_state(w, to);
			if (from == to || (want_transitions[from] & TO(to)))
				ck_assert_msg(w->state == to,
				    "%s -> %s refused", worker_state_name(from),
				    worker_state_name(to));
			else
				ck_assert_msg(w->state == from,
				    "%s -> %s allowed", worker_state_name(from),
				    worker_state_name(to));
		}
	}
	w->state = WORKER_EXITED;
}
END_TEST

/* A reaped worker cannot be declared ready. */
START_TEST(test_exited_cannot_be_ready)
{
	if (!unit_have("/bin/true"))
		return;
	make_worker("/bin/true", "ready = delay:1s\n", 0);
	worker_set_state(w, WORKER_READY); /* never started */
	ck_assert_int_eq(w->state, WORKER_EXITED);
	spawn();
	run_until(&got.exited, 1, 2.0, "/bin/true exits");
	ck_assert_int_eq(WEXITSTATUS(got.status), 0);
	worker_set_state(w, WORKER_READY);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	worker_set_state(w, WORKER_STOPPING);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	ck_assert_int_eq(got.ready, 0);
	ck_assert_ptr_nonnull(strstr(log_text(),
	    "generation 7 worker 0 pid 0: impossible transition exited -> "
	    "ready, ignored\n"));
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(worker_state_name(WORKER_STARTING), "starting");
	ck_assert_str_eq(worker_state_name(WORKER_READY), "ready");
	ck_assert_str_eq(worker_state_name(WORKER_DRAINING), "draining");
	ck_assert_str_eq(worker_state_name(WORKER_STOPPING), "stopping");
	ck_assert_str_eq(worker_state_name(WORKER_EXITED), "exited");
}
END_TEST

START_TEST(test_describe_status)
{
	char buf[64];

	worker_describe_status(3 << 8, buf, sizeof(buf));
	ck_assert_str_eq(buf, "exited with status 3");
	worker_describe_status(SIGKILL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "killed by signal 9 (KILL)");
	worker_describe_status(SIGSEGV | 0x80, buf, sizeof(buf));
	ck_assert_str_eq(buf, "killed by signal 11 (SEGV)");
}
END_TEST

/* Not found in PATH: nothing is forked, the reason is in why. */
START_TEST(test_spawn_not_found)
{
	make_worker(
	    "baton-check-no-such-cmd --x", "env.PATH = /nonexistent\n", 0);
	ck_assert_int_eq(worker_spawn(w), -1);
	ck_assert_msg(strstr(w->why, "baton-check-no-such-cmd: command not "
	                             "found in the worker's PATH") != NULL,
	    "%s", w->why);
	ck_assert_int_eq(w->pid, 0);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	unit_run_for(0.2);
	ck_assert_int_eq(got.exited, 0);
	ck_assert_int_eq(got.unknown, 0);
}
END_TEST

/* An absolute path is not looked up: exec fails, the child exits 127. */
START_TEST(test_spawn_absolute_missing)
{
	make_worker("/nonexistent/baton-check-cmd", "ready = delay:1s\n", 0);
	spawn();
	ck_assert_msg(
	    strstr(w->why, "exec /nonexistent/baton-check-cmd: ") != NULL, "%s",
	    w->why);
	run_until(&got.exited, 1, 2.0, "exit 127");
	ck_assert(WIFEXITED(got.status));
	ck_assert_int_eq(WEXITSTATUS(got.status), 127);
}
END_TEST

/* exec itself fails: the child exits 127, seen as an early exit. */
START_TEST(test_exec_fails)
{
	make_worker(dir, "ready = delay:1s\n", 0); /* a directory */
	spawn();
	ck_assert_msg(strstr(w->why, "exec ") != NULL &&
	                  strstr(w->why, strerror(EACCES)) != NULL,
	    "%s", w->why);
	ck_assert_int_eq(w->ready.running, 0);
	run_until(&got.exited, 1, 2.0, "exit 127");
	ck_assert(WIFEXITED(got.status));
	ck_assert_int_eq(WEXITSTATUS(got.status), 127);
	ck_assert_int_eq(got.ready, 0);
	ck_assert_int_eq(got.timeouts, 0);
}
END_TEST

/*
 * BATON_GENERATION, BATON_WORKER, LISTEN_FDS and LISTEN_PID reach the
 * process, and our listening socket is its fd 3, named by {fd:http}.
 */
START_TEST(test_environment_and_fds)
{
	struct listener l, *ls[1] = {&l};
	struct sockaddr_in sin;
	char cmd[256], script[128];
	struct stat st;
	int fd, sfd;

	if (!unit_have("/bin/sh") || !unit_have("/usr/bin/stat"))
		return;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	snprintf(script, sizeof(script), "%s/check.sh", dir);
	sfd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ne(sfd, -1);
	dprintf(sfd,
	    "test \"$BATON_GENERATION\" = 7 || exit 11\n"
	    "test \"$BATON_WORKER\" = 2 || exit 12\n"
	    "test \"$LISTEN_FDS\" = 1 || exit 13\n"
	    "test \"$LISTEN_PID\" = $$ || exit 14\n"
	    "test \"$1\" = 3 || exit 15\n"
	    "ino=$(/usr/bin/stat -L -c %%i /proc/$$/fd/3)\n"
	    "test \"$ino\" = %lu || exit 16\n",
	    (unsigned long)st.st_ino);
	close(sfd);
	snprintf(cmd, sizeof(cmd),
	    "/bin/sh %s {fd:http}\nready = delay:2s\n"
	    "[listen http]\naddress = 127.0.0.1:1",
	    script);
	make_worker(cmd, "", 2);
	memset(&l, 0, sizeof(l));
	l.fd = fd;
	sh.listeners = ls;
	sh.nlisteners = 1;
	spawn();
	run_until(&got.exited, 1, 3.0, "sh exits");
	ck_assert(WIFEXITED(got.status));
	ck_assert_msg(WEXITSTATUS(got.status) == 0,
	    "check %d failed in the worker", WEXITSTATUS(got.status));
	close(fd);
}
END_TEST

START_TEST(test_respawn_after)
{
	ev_tstamp t0;

	if (!unit_have("/bin/true"))
		return;
	make_worker("/bin/true", "ready = delay:1s\n", 0);
	spawn();
	run_until(&got.exited, 1, 2.0, "first exit");
	ev_now_update(loop);
	t0 = ev_now(loop);
	worker_respawn_after(w, 0.3);
	unit_run_for(0.15);
	ck_assert_int_eq(w->state, WORKER_EXITED);
	ck_assert_int_eq(w->restarts, 0);
	run_until(&got.exited, 2, 2.0, "second exit");
	ck_assert_int_eq(w->restarts, 1);
	ck_assert_double_ge(got.exited_at - t0, 0.299);
	ck_assert_ptr_nonnull(strstr(log_text(), "restarted (restart 1)"));
}
END_TEST

/* Only an EXITED worker is respawned. */
START_TEST(test_respawn_only_exited)
{
	if (!unit_have("/bin/sleep"))
		return;
	make_worker("/bin/sleep 30", "ready = none\n", 0);
	spawn();
	run_until(&got.ready, 1, 2.0, "ready");
	worker_respawn_after(w, 0.1);
	unit_run_for(0.3);
	ck_assert_int_eq(w->restarts, 0);
	ck_assert_int_eq(w->state, WORKER_READY);
}
END_TEST

START_TEST(test_notified)
{
	if (!unit_have("/bin/sleep"))
		return;
	make_worker("/bin/sleep 30", "ready = notify\n", 0);
	worker_notified(w); /* not started: ignored */
	ck_assert_int_eq(got.ready, 0);
	spawn();
	unit_run_for(0.2);
	ck_assert_int_eq(got.ready, 0);
	worker_notified(w);
	ck_assert_int_eq(got.ready, 1);
	ck_assert_int_eq(w->state, WORKER_READY);
	ck_assert(!ev_is_active(&w->deadline));
	worker_notified(w);
	ck_assert_int_eq(got.ready, 1);
}
END_TEST

/* What the app left in its process group dies with it. */
START_TEST(test_group_killed_on_exit)
{
	char cmd[512], path[128], buf[32] = "";
	pid_t orphan;
	ssize_t n;
	int fd;

	if (!unit_have("/bin/sh") || !unit_have("/bin/sleep"))
		return;
	snprintf(path, sizeof(path), "%s/orphan", dir);
	snprintf(cmd, sizeof(cmd),
	    "/bin/sh -c '/bin/sleep 30 & echo $! > %s.tmp; mv %s.tmp %s; "
	    "exit 4'",
	    path, path, path);
	make_worker(cmd, "ready = delay:2s\n", 0);
	spawn();
	run_until(&got.exited, 1, 3.0, "sh exits");
	ck_assert_int_eq(WEXITSTATUS(got.status), 4);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ne(fd, -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	orphan = (pid_t)atoi(buf);
	ck_assert_int_gt(orphan, 1);
	/* Gone, or a zombie of whoever reaps orphans here. */
	for (n = 0; n < 100 && unit_proc_state(orphan) != 0 &&
	            unit_proc_state(orphan) != 'Z';
	     n++)
		unit_run_for(0.02);
	ck_assert_msg(
	    n < 100, "pid %d (the app's child) still runs", (int)orphan);
}
END_TEST

static Suite *
worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 15);
	tcase_add_test(tc, test_ready_then_stop);
	tcase_add_test(tc, test_ready_delay);
	tcase_add_test(tc, test_exit_before_ready);
	tcase_add_test(tc, test_ready_timeout);
	tcase_add_test(tc, test_stop_timeout_kills);
	tcase_add_test(tc, test_second_stop_keeps_deadline);
	tcase_add_test(tc, test_retire_stop_signal);
	tcase_add_test(tc, test_transition_table);
	tcase_add_test(tc, test_exited_cannot_be_ready);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_describe_status);
	tcase_add_test(tc, test_spawn_not_found);
	tcase_add_test(tc, test_spawn_absolute_missing);
	tcase_add_test(tc, test_exec_fails);
	tcase_add_test(tc, test_environment_and_fds);
	tcase_add_test(tc, test_respawn_after);
	tcase_add_test(tc, test_respawn_only_exited);
	tcase_add_test(tc, test_notified);
	tcase_add_test(tc, test_group_killed_on_exit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(worker_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

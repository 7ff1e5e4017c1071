/* worker.c: one application process: fork/exec, signals, exit status. */
/*
 * Owns one process from fork to reaping: its descriptors and environment
 * at exec, its deadlines (ready_timeout, stop_timeout, respawn delay), its
 * readiness check and its interception. Reports to its owner (the
 * generation) through struct worker_events; must not reach the generation
 * or the master, nor decide when to respawn (the owner's policy).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childenv.h"
#include "config.h"
#include "credentials.h"
#include "listener.h"
#include "log.h"
#include "readiness.h"
#include "seccomp.h"
#include "signals.h"
#include "worker.h"

extern char **environ;

static const char *worker_state_names[] = {
    "starting", "ready", "draining", "stopping", "exited"};

const char *
worker_state_name(enum worker_state s)
{
	return worker_state_names[s];
}

static void worker_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents);

/* The readiness check passed (after ready_delay). */
static void
worker_reached_cb(struct readiness *r, void *owner)
{
	struct worker *w = owner;

	(void)r;
	if (w->state != WORKER_STARTING)
		return;
	ev_timer_stop(w->sh->loop, &w->deadline);
	worker_set_state(w, WORKER_READY);
	w->sh->events->ready(w, w->sh->owner);
}

struct worker *
worker_new(const struct worker_shared *sh, int index)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->sh = sh;
	w->index = index;
	w->state = WORKER_EXITED;
	w->backoff_s = 1;
	w->last_status = -1;
	w->icpt.fd = -1;
	snprintf(w->label, sizeof(w->label), "generation %u worker %d",
	    sh->generation, index);
	readiness_init(
	    &w->ready, sh->loop, sh->cfg, w->label, worker_reached_cb, w);
	ev_init(&w->deadline, worker_deadline_cb);
	w->deadline.data = w;
	return w;
}

void
worker_free(struct worker *w)
{
	readiness_stop(&w->ready);
	intercept_stop(&w->icpt);
	ev_timer_stop(w->sh->loop, &w->deadline);
	free(w);
}

/* Which transitions a worker can make: bit t of [s] allows s -> t. */
#define WORKER_TO(s) (1u << (s))
static const unsigned worker_transitions[] = {
    [WORKER_STARTING] = WORKER_TO(WORKER_READY) | WORKER_TO(WORKER_STOPPING) |
                        WORKER_TO(WORKER_EXITED),
    [WORKER_READY] = WORKER_TO(WORKER_DRAINING) | WORKER_TO(WORKER_STOPPING) |
                     WORKER_TO(WORKER_EXITED),
    [WORKER_DRAINING] = WORKER_TO(WORKER_STOPPING) | WORKER_TO(WORKER_EXITED),
    [WORKER_STOPPING] = WORKER_TO(WORKER_EXITED),
    [WORKER_EXITED] = WORKER_TO(WORKER_STARTING),
};

void
worker_set_state(struct worker *w, enum worker_state s)
{
	if (w->state == s)
		return;
	if (!(worker_transitions[w->state] & WORKER_TO(s))) {
		log_warnx("%s pid %d: impossible transition %s -> %s, ignored",
		    w->label, (int)w->pid, worker_state_name(w->state),
		    worker_state_name(s));
		return;
	}
	if (w->state == WORKER_EXITED && w->last_status == -1)
		log_info("%s pid %d: started", w->label, (int)w->pid);
	else if (w->state == WORKER_EXITED)
		log_info("%s pid %d: restarted (restart %d)", w->label,
		    (int)w->pid, w->restarts);
	else
		log_info("%s pid %d: %s -> %s", w->label, (int)w->pid,
		    worker_state_name(w->state), worker_state_name(s));
	w->state = s;
}

void
worker_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(
		    buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		    config_signal_name(WTERMSIG(status)));
	else
		snprintf(buf, len, "stopped (status 0x%x)", status);
}

/* What the child reports through the exec pipe when it cannot exec. */
struct spawn_failure {
	int stage;
	int err;
};

enum {
	STAGE_FDS,
	STAGE_INTERCEPT,
	STAGE_CHDIR,
	STAGE_GROUPS,
	STAGE_GID,
	STAGE_UID,
	STAGE_EXEC
};

static const char *spawn_stage_names[] = {"setting up descriptors",
    "installing the bind interception filter for", "chdir", "setgroups",
    "setgid", "setuid", "exec"};

static _Noreturn void
worker_child_fail(int pipefd, int stage)
{
	struct spawn_failure f = {stage, errno};

	(void)!write(pipefd, &f, sizeof(f));
	_exit(127);
}

/*
 * In the child: put listener i at fd 3+i with FD_CLOEXEC clear, and mark
 * every other descriptor above 2 close-on-exec. The nkeep descriptors in
 * keep (the exec pipe, the interception socket) stay open until exec, moved
 * out of the way: keep[] is updated with their new numbers.
 */
static int
worker_child_fds(struct listener **ls, size_t n, int *keep, int nkeep)
{
	int high[CONFIG_LISTENERS_MAX], fd, i;

	/* Move everything out of 3..3+n first: sources may sit there. */
	for (i = 0; i < nkeep; i++)
		if (keep[i] != -1 && (keep[i] = fcntl(keep[i], F_DUPFD_CLOEXEC,
		                          (int)(3 + n))) == -1)
			return -1;
	for (i = 0; i < (int)n; i++)
		if ((high[i] = fcntl(
		         ls[i]->fd, F_DUPFD_CLOEXEC, (int)(3 + n))) == -1)
			return -1;
	/* dup2 to a different number clears FD_CLOEXEC on the copy. */
	for (i = 0; i < (int)n; i++)
		if (dup2(high[i], 3 + i) == -1)
			return -1;
	if (close_range(3 + (unsigned)n, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		/* Kernels before 5.11: do it by hand. */
		for (fd = 3 + (int)n; fd < 65536; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

/* What the child needs, prepared by the parent: no lookups after fork. */
struct spawn_plan {
	char **argv;
	char **envp;
	ssize_t pid_slot;
	char *path; /* the binary, resolved with the worker's PATH */
	const struct credentials *cred; /* non-NULL: drop to user/group */
};

static _Noreturn void
worker_child(
    struct worker *w, const struct spawn_plan *p, int pipefd, int icptfd)
{
	const struct worker_shared *sh = w->sh;
	struct config *cfg = sh->cfg;
	int keep[2] = {pipefd, icptfd};

	signals_reset_for_exec();
	/* Our own group: stop_timeout's SIGKILL reaches the app's children. */
	(void)setpgid(0, 0);
	if (worker_child_fds(sh->listeners, sh->nlisteners, keep, 2) == -1)
		worker_child_fail(pipefd, STAGE_FDS);
	pipefd = keep[0];
	/* Before dropping privileges: as root no NO_NEW_PRIVS is needed. */
	if (keep[1] != -1) {
		if (seccomp_child_install(keep[1], intercept_wanted(cfg)) == -1)
			worker_child_fail(pipefd, STAGE_INTERCEPT);
		close(keep[1]);
	}
	childenv_set_pid(p->envp, p->pid_slot, getpid());
	if (cfg->directory != NULL && chdir(cfg->directory) == -1)
		worker_child_fail(pipefd, STAGE_CHDIR);
	if (p->cred != NULL) {
		if (setgroups((size_t)p->cred->ngroups, p->cred->groups) == -1)
			worker_child_fail(pipefd, STAGE_GROUPS);
		if (setgid(p->cred->gid) == -1)
			worker_child_fail(pipefd, STAGE_GID);
		if (cfg->user != NULL && setuid(p->cred->uid) == -1)
			worker_child_fail(pipefd, STAGE_UID);
	}
	execve(p->path, p->argv, p->envp);
	worker_child_fail(pipefd, STAGE_EXEC);
}

/*
 * argv0 as execvp would find it, but with the worker's PATH (env.PATH
 * applies), so "not found" is known before fork. Returns a malloc'd path.
 */
static char *
worker_resolve(const char *argv0, char **envp)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	                   "/sbin:/bin";
	char buf[4096];
	const char *p, *end;
	size_t i;

	if (strchr(argv0, '/') != NULL)
		return strdup(argv0);
	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			path = envp[i] + 5;
	for (p = path; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		/* An empty PATH entry means the current directory. */
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(end - p), p,
		        end > p ? "/" : "./", argv0) >= (int)sizeof(buf))
			continue;
		if (access(buf, X_OK) == 0)
			return strdup(buf);
	}
	errno = ENOENT;
	return NULL;
}

static void
worker_plan_free(struct spawn_plan *p)
{
	childenv_free(p->argv);
	childenv_free(p->envp);
	free(p->path);
}

/* intercept.c's events: every bound socket listens; the drain is over. */
static void
worker_listened_cb(struct intercept *ic, void *owner)
{
	struct worker *w = owner;

	(void)ic;
	if (w->sh->cfg->ready == READY_LISTEN)
		readiness_signal(&w->ready);
}

static void
worker_drained_cb(struct intercept *ic, void *owner)
{
	(void)ic;
	worker_drained(owner);
}

/* Serve the notifications of the filter of w (pid), whose notifier is fd. */
static void
worker_intercept_start(struct worker *w, pid_t pid, int fd)
{
	struct intercept *ic = &w->icpt;

	ic->loop = w->sh->loop;
	ic->pid = pid;
	ic->listeners = w->sh->listeners;
	ic->nlisteners = w->sh->nlisteners;
	ic->cfg = w->sh->cfg;
	snprintf(ic->label, sizeof(ic->label), "%s pid %d", w->label, (int)pid);
	ic->listened = worker_listened_cb;
	ic->drained = worker_drained_cb;
	ic->owner = w;
	intercept_start(ic, fd);
}

int
worker_spawn(struct worker *w)
{
	const struct worker_shared *sh = w->sh;
	struct config *cfg = sh->cfg;
	struct spawn_plan plan = {0};
	struct spawn_failure f;
	char err[256];
	int pipefd[2], sv[2] = {-1, -1}, nfd;
	ssize_t n;
	pid_t pid;

	w->why[0] = '\0';
	w->killed = 0;
	if ((plan.argv = childenv_argv(cfg, err, sizeof(err))) == NULL) {
		snprintf(w->why, sizeof(w->why), "%s", err);
		goto fail;
	}
	plan.envp = childenv_envp(environ, cfg, sh->generation, w->index,
	    cfg->ready == READY_NOTIFY ? sh->notify_socket : NULL,
	    &plan.pid_slot);
	if (plan.envp == NULL) {
		snprintf(w->why, sizeof(w->why), "cannot spawn: %s",
		    strerror(errno));
		goto fail;
	}
	/* Resolved by the owner; switching needs root. */
	if (sh->cred != NULL && sh->cred->groups != NULL && geteuid() == 0)
		plan.cred = sh->cred;
	if ((plan.path = worker_resolve(plan.argv[0], plan.envp)) == NULL) {
		snprintf(w->why, sizeof(w->why),
		    "%s: command not found in the worker's PATH", plan.argv[0]);
		goto fail;
	}
	if (intercept_wanted(cfg) != 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(
		    w->why, sizeof(w->why), "socketpair: %s", strerror(errno));
		goto fail;
	}
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(w->why, sizeof(w->why), "pipe: %s", strerror(errno));
		goto fail_sv;
	}
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		if (sv[0] != -1)
			close(sv[0]);
		worker_child(w, &plan, pipefd[1], sv[1]);
	}
	close(pipefd[1]);
	if (sv[1] != -1) {
		close(sv[1]);
		sv[1] = -1;
	}
	if (pid == -1) {
		snprintf(w->why, sizeof(w->why), "fork: %s", strerror(errno));
		close(pipefd[0]);
		goto fail_sv;
	}
	/* The filter's notify fd comes first: the child sends it before exec.
	 */
	if (sv[0] != -1) {
		if ((nfd = seccomp_receive(sv[0])) != -1)
			worker_intercept_start(w, pid, nfd);
		close(sv[0]);
	}
	/* Both sides set the group, so a kill(-pid) can never miss. */
	(void)setpgid(pid, pid);
	w->pid = pid;
	w->started_at = ev_now(sh->loop);
	worker_set_state(w, WORKER_STARTING);
	/* Blocks only until exec: the pipe is close-on-exec. */
	while ((n = read(pipefd[0], &f, sizeof(f))) == -1 && errno == EINTR)
		;
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(f)) {
		snprintf(w->why, sizeof(w->why), "%s %s: %s",
		    spawn_stage_names[f.stage],
		    f.stage == STAGE_CHDIR ? cfg->directory : plan.path,
		    strerror(f.err));
		log_warnx(
		    "%s pid %d: cannot start: %s", w->label, (int)pid, w->why);
		/* Its exit arrives through the child watcher like any other. */
	} else {
		ev_timer_set(&w->deadline, cfg->ready_timeout_ms / 1000.0, 0);
		ev_timer_start(sh->loop, &w->deadline);
		readiness_start(&w->ready);
	}
	worker_plan_free(&plan);
	return 0;

fail_sv:
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
fail:
	log_warnx("%s: cannot start: %s", w->label, w->why);
	worker_plan_free(&plan);
	return -1;
}

void
worker_stop(struct worker *w, int sig, ev_tstamp timeout_s)
{
	struct ev_loop *loop = w->sh->loop;

	readiness_stop(&w->ready);
	/* Stopped again (a QUIT after a reload): the KILL never comes later. */
	if (w->state == WORKER_STOPPING && ev_is_active(&w->deadline) &&
	    ev_timer_remaining(loop, &w->deadline) <= timeout_s)
		return;
	ev_timer_stop(loop, &w->deadline);
	if (w->pid == 0)
		return;
	if (w->state != WORKER_STOPPING) {
		worker_set_state(w, WORKER_STOPPING);
		if (kill(w->pid, sig) == -1 && errno != ESRCH)
			log_warn("%s pid %d: kill %s", w->label, (int)w->pid,
			    config_signal_name(sig));
		/* After the signal: a held accept() returns into it. */
		intercept_drain_end(&w->icpt);
	}
	ev_timer_set(&w->deadline, timeout_s, 0);
	ev_timer_start(loop, &w->deadline);
}

void
worker_retire(struct worker *w)
{
	struct ev_loop *loop = w->sh->loop;
	const struct config *cfg = w->sh->cfg;

	if (w->state == WORKER_DRAINING)
		return; /* already on its way, within its stop_timeout */
	if (!cfg->intercept_accept || w->icpt.fd == -1 ||
	    w->state != WORKER_READY) {
		worker_stop(w, cfg->stop_signal, cfg->stop_timeout_ms / 1000.0);
		return;
	}
	readiness_stop(&w->ready);
	ev_timer_stop(loop, &w->deadline);
	worker_set_state(w, WORKER_DRAINING);
	ev_timer_set(&w->deadline, cfg->stop_timeout_ms / 1000.0, 0);
	ev_timer_start(loop, &w->deadline);
	intercept_drain_start(&w->icpt);
}

void
worker_drained(struct worker *w)
{
	const struct config *cfg = w->sh->cfg;
	const struct drain *ic = &w->icpt.drain;
	ev_tstamp ms = (ev_now(w->sh->loop) - ic->started_at) * 1000;

	if (w->state != WORKER_DRAINING)
		return;
	if (ic->conns_last == 0)
		log_info("%s pid %d: drained in %.0f ms "
		         "(%d connection%s open when its accept() was held): "
		         "sending %s",
		    w->label, (int)w->pid, ms, ic->conns_at_start,
		    ic->conns_at_start == 1 ? "" : "s",
		    config_signal_name(cfg->stop_signal));
	else if (ic->conns_last > 0)
		log_warnx("%s pid %d: still holds %d "
		          "connection%s after stop_timeout (%.0f ms): sending "
		          "%s",
		    w->label, (int)w->pid, ic->conns_last,
		    ic->conns_last == 1 ? "" : "s", ms,
		    config_signal_name(cfg->stop_signal));
	else
		log_info("%s pid %d: drain ended after "
		         "%.0f ms: sending %s",
		    w->label, (int)w->pid, ms,
		    config_signal_name(cfg->stop_signal));
	worker_stop(w, cfg->stop_signal, cfg->stop_timeout_ms / 1000.0);
}

void
worker_kill(struct worker *w)
{
	if (w->pid == 0)
		return;
	w->killed = 1;
	(void)kill(-w->pid, SIGKILL);
	(void)kill(w->pid, SIGKILL);
}

void
worker_notified(struct worker *w)
{
	if (w->state == WORKER_STARTING && w->sh->cfg->ready == READY_NOTIFY)
		readiness_signal(&w->ready);
}

void
worker_respawn_after(struct worker *w, ev_tstamp delay_s)
{
	if (w->state != WORKER_EXITED)
		return;
	ev_timer_stop(w->sh->loop, &w->deadline);
	ev_timer_set(&w->deadline, delay_s, 0);
	ev_timer_start(w->sh->loop, &w->deadline);
}

void
worker_exited(struct worker *w, int status)
{
	struct ev_loop *loop = w->sh->loop;
	char how[64];

	readiness_stop(&w->ready);
	intercept_stop(&w->icpt);
	ev_timer_stop(loop, &w->deadline);
	worker_describe_status(status, how, sizeof(how));
	if (w->state == WORKER_STOPPING || w->state == WORKER_DRAINING)
		log_info("%s pid %d: %s", w->label, (int)w->pid, how);
	else
		log_warnx("%s pid %d: %s while %s", w->label, (int)w->pid, how,
		    worker_state_name(w->state));
	/*
	 * Whatever the app left in its group dies with it: orphans would go on
	 * accepting on the inherited sockets with nobody supervising them.
	 */
	(void)kill(-w->pid, SIGKILL);
	worker_set_state(w, WORKER_EXITED);
	w->pid = 0;
	w->last_status = status;
	w->sh->events->exited(w, status, w->sh->owner); /* may free w */
}

static void
worker_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)loop;
	(void)revents;
	switch (w->state) {
	case WORKER_STARTING:
		w->sh->events->timeout(w, w->sh->owner);
		break;
	case WORKER_DRAINING:
		/* stop_timeout is over: stop it whatever it holds. */
		worker_drained(w);
		break;
	case WORKER_STOPPING:
		log_warnx("%s pid %d: still running after the stop timeout, "
		          "sending KILL to its process group",
		    w->label, (int)w->pid);
		worker_kill(w);
		break;
	case WORKER_EXITED:
		/* The respawn delay is over. */
		w->restarts++;
		if (worker_spawn(w) == -1) {
			w->last_status = 127 << 8;
			w->sh->events->exited(w, 127 << 8, w->sh->owner);
		}
		break;
	case WORKER_READY:
		break;
	}
}

/* master.c: the master process: reload, retire and shutdown orchestration. */
/*
 * Owns the master's state machine and everything it decides: which
 * generation serves, when a reload starts, succeeds or rolls back, upgrades
 * and their rollback, shutdown, and what systemd is told. Events from below
 * (generations, the notify socket, reaped children) only wake master_step,
 * which acts from the master's own state: nothing below calls up into it.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control_server.h"
#include "credentials.h"
#include "generation.h"
#include "intercept.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "sdnotify.h"
#include "seccomp_probe.h"
#include "signals.h"
#include "upgrade.h"
#include "worker.h"

static void master_signal_cb(struct ev_loop *loop, ev_signal *s, int revents);
static void master_child_cb(struct ev_loop *loop, ev_child *c, int revents);
static void master_step_cb(struct ev_loop *loop, ev_idle *w, int revents);
static void master_generation_changed(struct generation *g, void *owner);

static const struct generation_events master_generation_events = {
    .changed = master_generation_changed,
};

/* Events from below only ask for a look: master_step runs soon after. */
static void
master_wake(struct master *m)
{
	ev_idle_start(m->loop, &m->step);
}

static void
master_generation_changed(struct generation *g, void *owner)
{
	(void)g;
	master_wake(owner);
}

/* Free cfg unless the master or a generation still uses it. */
static void
master_config_gc(struct master *m, struct config *cfg)
{
	struct generation *g;

	if (cfg == NULL || cfg == m->cfg)
		return;
	for (g = m->generations; g != NULL; g = g->next)
		if (g->cfg == cfg)
			return;
	config_free(cfg);
}

/* How many workers a generation of cfg starts (TTIN/TTOU survive a reload
 * unless the file's `workers` changed since). */
static int
master_target(struct master *m, const struct config *cfg)
{
	if (m->scaled_workers > 0 && cfg->workers == m->scaled_base)
		return m->scaled_workers;
	m->scaled_workers = 0;
	return cfg->workers;
}

static struct worker *
master_find_pid(struct master *m, pid_t pid)
{
	struct generation *g;
	struct worker *w;

	for (g = m->generations; g != NULL; g = g->next)
		if ((w = generation_find_pid(g, pid)) != NULL)
			return w;
	return NULL;
}

/* A line a process sent to our NOTIFY_SOCKET. */
static void
master_notify_line(pid_t pid, const char *line, void *owner)
{
	struct master *m = owner;
	struct worker *w;

	if ((w = master_find_pid(m, pid)) == NULL) {
		log_debug("notify socket: message from pid %d, not a worker",
		    (int)pid);
		return;
	}
	if (strcmp(line, "READY=1") == 0)
		worker_notified(w);
	else if (strncmp(line, "STATUS=", 7) == 0)
		log_debug(
		    "%s pid %d: status: %s", w->label, (int)pid, line + 7);
}

/*
 * Start a generation of cfg on the listener set ls (both owned by the
 * generation from here on). Returns 0, or -1 with a reason in err (ls
 * released).
 */
static int
master_spawn_generation(struct master *m, struct config *cfg,
    struct listener **ls, char *err, size_t errlen)
{
	struct credentials cred = {0};
	struct generation *g;

	if (cfg->ready == READY_NOTIFY && notify_open(&m->notify) == -1) {
		snprintf(err, errlen, "cannot open the notify socket: %s",
		    strerror(errno));
		goto fail;
	}
	/* Looked up here, not in config.c, so reading a config stays pure. */
	if (geteuid() == 0 &&
	    credentials_of_config(cfg, &cred, err, errlen) == -1)
		goto fail;
	g = generation_new(m->loop, m->last_id + 1, cfg, ls,
	    master_target(m, cfg),
	    cfg->ready == READY_NOTIFY ? m->notify.name : NULL, &cred,
	    &master_generation_events, m);
	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		credentials_free(&cred);
		goto fail;
	}
	m->last_id++;
	g->next = m->generations;
	m->generations = g;
	m->next = g;
	if (m->state != MASTER_STARTING)
		master_state_set(m, MASTER_RELOADING);
	generation_start(g);
	return 0;

fail:
	listener_release(&m->listeners, ls, cfg->nlisteners);
	return -1;
}

int
master_init(struct master *m, struct ev_loop *loop, const char *path,
    const char *exe, char **argv, struct config *cfg, char *err, size_t errlen)
{
	struct listener **ls = NULL;
	gid_t cgid;
	int i;

	memset(m, 0, sizeof(*m));
	m->loop = loop;
	m->config_path = path;
	m->exe_path = exe;
	m->argv = argv;
	m->state = MASTER_STARTING;
	m->started_at = ev_now(loop);
	m->pidfile.fd = -1;
	m->sd.fd = -1;
	notify_init(&m->notify, loop, master_notify_line, m);
	ev_set_userdata(loop, m);

	if (log_open(cfg->log) == -1) {
		snprintf(err, errlen, "%s: log: cannot open %s: %s", path,
		    cfg->log, strerror(errno));
		return -1;
	}
	if (sdnotify_open(&m->sd, err, errlen) == -1 ||
	    upgrade_inherit(&m->listeners, &m->old_master, &m->last_id, err,
	        errlen) == -1 ||
	    master_systemd_adopt(m, err, errlen) == -1)
		goto fail;
	if (cfg->pidfile != NULL &&
	    pidfile_create(&m->pidfile, cfg->pidfile, err, errlen) == -1)
		goto fail;
	/* After USR2 the old master's socket is live: ours replaces it. */
	if (cfg->control != NULL &&
	    (credentials_control_gid(cfg, &cgid, err, errlen) == -1 ||
	        control_server_open(&m->ctl, loop, cfg->control,
	            cfg->control_group != NULL, cgid, m->old_master != 0,
	            &master_control_events, m, err, errlen) == -1))
		goto fail_pidfile;
	/* Two sets: the first generation's, and the config in force's. */
	if (listener_acquire(&m->listeners, cfg, &ls, err, errlen) == -1)
		goto fail_pidfile;
	if (listener_acquire(&m->listeners, cfg, &m->active, err, errlen) ==
	    -1) {
		listener_release(&m->listeners, ls, cfg->nlisteners);
		goto fail_pidfile;
	}
	listener_drop_unused(&m->listeners);
	m->cfg = cfg;
	/* Orphans of the app are reparented to us, and reaped. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < SIGNALS_COUNT; i++) {
		ev_signal_init(
		    &m->sig[i], master_signal_cb, signals_table[i].signo);
		m->sig[i].data = (void *)&signals_table[i];
		ev_signal_start(loop, &m->sig[i]);
	}
	ev_child_init(&m->child, master_child_cb, 0, 0);
	ev_child_start(loop, &m->child);
	ev_idle_init(&m->step, master_step_cb);
	/* Before any other event: a decision never waits behind I/O. */
	ev_set_priority(&m->step, EV_MAXPRI);

	if ((cfg->user != NULL || cfg->group != NULL) && geteuid() != 0)
		log_warnx("user/group: the master is not root, workers keep "
		          "its credentials (uid %d)",
		    (int)geteuid());
	if (cfg->fdstore && m->sd.fd == -1)
		log_warnx("fdstore: NOTIFY_SOCKET is not set (not under "
		          "systemd): nothing is stored");
	master_systemd_store_fds(m, NULL, NULL);
	log_info("master pid %d: started with %s", (int)getpid(), path);
	if (master_spawn_generation(m, cfg, ls, err, errlen) == -1) {
		log_warnx("master pid %d: cannot start the first generation: "
		          "%s",
		    (int)getpid(), err);
		m->exit_code = 1;
		master_shutdown(m, 1);
	}
	return 0;

fail_pidfile:
	control_server_close(&m->ctl);
	pidfile_remove(&m->pidfile);
fail:
	listener_drop_unused(&m->listeners);
	sdnotify_close(&m->sd);
	return -1;
}

static void
master_finish(struct master *m)
{
	struct listener *l;
	int i;

	/* The other master of an upgrade still serves on the UNIX paths. */
	if (m->upgrade_pid != 0 ||
	    (!m->started && upgrade_parent_is(m->old_master)))
		for (l = m->listeners; l != NULL; l = l->next)
			l->unlink_path = 0;
	if (master_systemd_speaks(m))
		sdnotify_send(
		    &m->sd, "STATUS=exiting with status %d", m->exit_code);
	notify_close(&m->notify);
	control_server_close(&m->ctl);
	free(m->active);
	m->active = NULL;
	listener_close_all(&m->listeners);
	pidfile_remove(&m->pidfile);
	for (i = 0; i < SIGNALS_COUNT; i++)
		ev_signal_stop(m->loop, &m->sig[i]);
	ev_child_stop(m->loop, &m->child);
	ev_idle_stop(m->loop, &m->step);
	master_state_set(m, MASTER_EXITED);
	log_info("master pid %d: exiting with status %d", (int)getpid(),
	    m->exit_code);
	sdnotify_close(&m->sd);
	ev_break(m->loop, EVBREAK_ALL);
}

int
master_run(struct master *m)
{
	if (m->state != MASTER_EXITED)
		ev_run(m->loop, 0);
	config_free(m->cfg);
	m->cfg = NULL;
	return m->exit_code;
}

void
master_respawn(struct master *m)
{
	char err[CONFIG_ERR_MAX];
	struct listener **ls;

	if (master_state_stopping(m) || m->next != NULL)
		return;
	if (listener_acquire(&m->listeners, m->cfg, &ls, err, sizeof(err)) ==
	    -1) {
		log_warnx("respawn: %s", err);
		return;
	}
	if (master_spawn_generation(m, m->cfg, ls, err, sizeof(err)) == -1)
		log_warnx("respawn: %s", err);
}

/* A reload refused before any generation started; reason as logged. */
static void
master_reload_failed(struct master *m, const char *reason)
{
	m->counters.reloads_rejected++;
	control_server_reload_done(&m->ctl, 0, 0, reason);
}

void
master_reload(struct master *m)
{
	char err[CONFIG_ERR_MAX];
	struct listener **ls;
	struct config *cfg;

	/* The requests so far get this reload's outcome (unless coalesced). */
	if (!master_state_busy(m))
		control_server_reload_begin(&m->ctl);
	switch (m->state) {
	case MASTER_STOPPING:
	case MASTER_EXITED:
		log_info("reload: ignored, shutting down");
		control_server_reload_done(
		    &m->ctl, 0, 0, "reload: ignored, shutting down");
		return;
	case MASTER_STARTING:
	case MASTER_RELOADING:
		/* Coalesce: one more reload once this one has settled. */
		log_info("reload: generation %u is still starting; will "
		         "reload again once it is settled",
		    m->next->id);
		master_state_set(m, MASTER_RELOAD_QUEUED);
		return;
	case MASTER_RELOAD_QUEUED:
		return;
	case MASTER_HANDED_OVER:
		/* nginx: HUP to the old master brings its workers back. */
		log_info("reload: upgrade in progress and no generation "
		         "serves: starting one from the configuration in force "
		         "(rollback)");
		master_respawn(m);
		return;
	case MASTER_SERVING:
	case MASTER_UPGRADING:
	case MASTER_RETIRED:
		break;
	}
	log_info("reload: reading %s", m->config_path);
	if (master_systemd_speaks(m))
		sdnotify_reloading(&m->sd);
	if ((cfg = config_load(m->config_path, err, sizeof(err))) == NULL) {
		log_warnx("reload: %s; keeping %s", err,
		    m->current ? "the running generation" : "no generation");
		master_systemd_status(m, "reload failed: bad configuration");
		master_reload_failed(m, err);
		return;
	}
	/* Turned on by this reload: the kernel's side, as probed at start. */
	if (intercept_wanted(cfg) != 0 && intercept_wanted(m->cfg) == 0 &&
	    seccomp_probe_result(err, sizeof(err)) == -1) {
		log_warnx("reload: %s: %s: %s; keeping %s", m->config_path,
		    cfg->intercept_bind ? "intercept_bind" : "intercept_accept",
		    err,
		    m->current ? "the running generation" : "no generation");
		master_systemd_status(
		    m, "reload failed: seccomp interception unsupported");
		master_reload_failed(m, err);
		config_free(cfg);
		return;
	}
	if (listener_acquire(&m->listeners, cfg, &ls, err, sizeof(err)) == -1) {
		log_warnx("reload: %s; keeping the running generation", err);
		master_systemd_status(m, "reload failed: cannot listen");
		master_reload_failed(m, err);
		config_free(cfg);
		return;
	}
	if ((cfg->pidfile == NULL) != (m->cfg->pidfile == NULL) ||
	    (cfg->pidfile && strcmp(cfg->pidfile, m->cfg->pidfile) != 0))
		log_warnx("reload: pidfile: a new path takes effect only at "
		          "the next start or upgrade");
	if (master_spawn_generation(m, cfg, ls, err, sizeof(err)) == -1) {
		log_warnx("reload: %s; keeping %s", err,
		    m->current ? "the running generation" : "no generation");
		config_free(cfg);
		master_systemd_status(
		    m, "reload failed: cannot start a generation");
		master_reload_failed(m, "reload: cannot start a generation");
	}
}

/*
 * No generation is starting any more: rest, and run the reload that was
 * asked for meanwhile.
 */
static void
master_settle(struct master *m)
{
	int queued = m->state == MASTER_RELOAD_QUEUED;

	master_state_set(m, master_state_settled(m));
	if (queued) {
		log_info("reload: running the reload requested meanwhile");
		master_reload(m);
	}
}

/* The starting generation is ready: it serves, the old one retires. */
static void
master_promote(struct master *m)
{
	struct generation *g = m->next, *old = m->current;
	struct config *oldcfg = m->cfg;
	struct listener **ls;
	char err[CONFIG_ERR_MAX];
	int first;

	m->next = NULL;
	m->current = g;
	generation_set_state(g, GEN_ACTIVE);
	first = !m->started;
	m->started = 1;
	/* The new config is in force: its listeners are the kept set. */
	if (g->cfg != oldcfg && listener_acquire(&m->listeners, g->cfg, &ls,
	                            err, sizeof(err)) == 0) {
		struct listener **oldset = m->active;

		m->active = ls;
		m->cfg = g->cfg;
		master_systemd_store_fds(m, oldcfg, oldset);
		listener_release(&m->listeners, oldset, oldcfg->nlisteners);
		if (strcmp(oldcfg->log, g->cfg->log) != 0 &&
		    log_open(g->cfg->log) == -1)
			log_warn("log: cannot open %s, keeping the old log",
			    g->cfg->log);
		master_config_gc(m, oldcfg);
	}
	if (old != NULL) {
		log_info("generation %u: ready, retiring generation %u", g->id,
		    old->id);
		generation_retire(old, 0);
	} else
		log_info("generation %u: ready", g->id);
	if (first)
		master_upgrade_ready(m);
	else
		m->counters.reloads_ok++;
	control_server_reload_done(&m->ctl, 1, g->id, NULL);
	master_systemd_status(m, first ? "started" : "reloaded");
	master_settle(m);
}

/* The starting generation failed: retire it, the current one stays. */
static void
master_rollback(struct master *m)
{
	struct generation *g = m->next;
	char why[sizeof(g->why) + 64];

	m->next = NULL;
	snprintf(
	    why, sizeof(why), "generation %u: rolled back: %s", g->id, g->why);
	m->counters.reloads_rolled_back++;
	control_server_reload_done(&m->ctl, 0, g->id, why);
	if (m->current != NULL)
		log_warnx("generation %u: rolled back: %s; generation %u keeps "
		          "serving",
		    g->id, g->why, m->current->id);
	else
		log_warnx("generation %u: rolled back: %s; no generation is "
		          "serving",
		    g->id, g->why);
	generation_retire(g, 0);
	if (!m->started) {
		log_warnx("master pid %d: the first generation failed to "
		          "start, exiting",
		    (int)getpid());
		m->exit_code = 1;
		master_shutdown(m, 1);
		return;
	}
	master_systemd_status(m, why);
	master_settle(m);
}

/*
 * What events from below asked for, decided from the master's own state:
 * free what is gone, promote or roll back the starting generation, finish
 * a shutdown.
 */
static void
master_step(struct master *m)
{
	struct generation **pp, *g;

	for (pp = &m->generations; (g = *pp) != NULL;) {
		if (g->state != GEN_GONE) {
			pp = &g->next;
			continue;
		}
		*pp = g->next;
		if (m->current == g)
			m->current = NULL;
		if (m->next == g)
			m->next = NULL;
		listener_release(&m->listeners, g->listeners, g->nlisteners);
		master_config_gc(m, g->cfg);
		generation_free(g);
	}
	if (m->next != NULL && !master_state_stopping(m)) {
		if (m->next->state == GEN_FAILED)
			master_rollback(m);
		else if (generation_all_ready(m->next))
			master_promote(m);
	}
	if (m->state == MASTER_STOPPING && m->generations == NULL)
		master_finish(m);
}

static void
master_step_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct master *m = ev_userdata(loop);

	(void)revents;
	ev_idle_stop(loop, w);
	master_step(m);
}

void
master_retire(struct master *m)
{
	if (master_state_stopping(m))
		return;
	if (m->next != NULL) {
		log_info("retire: abandoning the reload to generation %u",
		    m->next->id);
		control_server_reload_done(
		    &m->ctl, 0, m->next->id, "reload abandoned: retire");
		generation_retire(m->next, 0);
		m->next = NULL;
	}
	if (m->current == NULL) {
		log_info("retire: no generation is serving");
		master_state_set(m, master_state_settled(m));
		return;
	}
	log_info("retire: retiring generation %u, the master stays; HUP "
	         "starts a new generation",
	    m->current->id);
	generation_retire(m->current, 0);
	m->current = NULL;
	master_state_set(m, master_state_settled(m));
}

/*
 * Graceful (fast == 0): stop_signal and stop_timeout. Fast: SIGTERM and one
 * second. Called again while stopping with fast set: SIGKILL at once.
 */
void
master_shutdown(struct master *m, int fast)
{
	struct generation *g, *nextg;

	if (m->state == MASTER_EXITED)
		return;
	if (m->state == MASTER_STOPPING) {
		if (!fast)
			return;
		log_info("shutdown: killing every worker now");
		for (g = m->generations; g != NULL; g = g->next)
			generation_kill(g);
		return;
	}
	master_state_set(m, MASTER_STOPPING);
	log_info("shutdown: %s, retiring every generation",
	    fast ? "fast" : "graceful");
	if (m->started && upgrade_parent_is(m->old_master)) {
		/* A rollback: the old master is the service again. */
		sdnotify_send(&m->sd,
		    "MAINPID=%d\nSTATUS=upgrade rolled back "
		    "to master pid %d",
		    (int)m->old_master, (int)m->old_master);
		sdnotify_close(&m->sd);
	} else if (master_systemd_speaks(m))
		sdnotify_send(&m->sd, "STOPPING=1\nSTATUS=shutting down");
	m->current = NULL;
	m->next = NULL;
	for (g = m->generations; g != NULL; g = nextg) {
		nextg = g->next;
		generation_retire(g, fast);
	}
	/* Generations already gone, or none: master_step finishes. */
	master_wake(m);
}

/*
 * How many workers one generation may have: the most `workers` takes, or
 * fewer when RLIMIT_NPROC says so (a fork beyond it would fail anyway, and
 * root, whom the kernel does not limit, should not fork-bomb either).
 */
static int
master_workers_max(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < CONFIG_WORKERS_MAX)
		return rl.rlim_cur > 0 ? (int)rl.rlim_cur : 1;
	return CONFIG_WORKERS_MAX;
}

int
master_scale(struct master *m, int delta)
{
	struct generation *g = m->current;
	int n, was, max;

	if (master_state_stopping(m) || g == NULL) {
		log_info("scale: no generation is serving, ignored");
		return -1;
	}
	if (m->next != NULL) {
		log_info("scale: ignored while generation %u is starting; "
		         "send it again once it is settled",
		    m->next->id);
		return -1;
	}
	/* One worker at a time, as TTIN/TTOU do; it stops at one worker. */
	for (n = g->target; delta != 0; delta -= delta > 0 ? 1 : -1) {
		if (delta > 0 && n >= (max = master_workers_max())) {
			log_warnx("scale: refused beyond %d workers (%s)", max,
			    max == CONFIG_WORKERS_MAX
			        ? "the most `workers` takes"
			        : "RLIMIT_NPROC");
			break;
		}
		was = n;
		if ((n = generation_scale(g, delta > 0 ? 1 : -1)) == was)
			break;
	}
	m->scaled_workers = n;
	m->scaled_base = m->cfg->workers;
	log_info("scale: generation %u now has %d worker%s", g->id, n,
	    n == 1 ? "" : "s");
	master_systemd_status(m, "scaled");
	return n;
}

void
master_reopen(struct master *m)
{
	(void)m;
	if (log_reopen() == -1)
		log_warn("reopen: log file");
	else
		log_info("reopen: log file reopened");
}

static void
master_signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	const struct signal_entry *e = s->data;
	struct master *m = ev_userdata(loop);

	(void)revents;
	log_debug("signal %s received", config_signal_name(e->signo));
	switch (e->action) {
	case SIGNAL_RELOAD:
		master_reload(m);
		break;
	case SIGNAL_UPGRADE:
		m->counters.upgrades++;
		master_upgrade(m);
		break;
	case SIGNAL_RETIRE:
		master_retire(m);
		break;
	case SIGNAL_QUIT:
		master_shutdown(m, 0);
		break;
	case SIGNAL_TERMINATE:
		/* A second TERM means the operator will not wait. */
		master_shutdown(m, m->stop_signals++ > 0);
		break;
	case SIGNAL_INTERRUPT:
		m->stop_signals++;
		master_shutdown(m, 1);
		break;
	case SIGNAL_REOPEN:
		master_reopen(m);
		break;
	case SIGNAL_MORE:
		master_scale(m, 1);
		break;
	case SIGNAL_FEWER:
		master_scale(m, -1);
		break;
	}
}

static void
master_child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	struct master *m = ev_userdata(loop);
	struct generation *serving = NULL;
	struct worker *w;
	char how[64], what[128];
	int target, index;

	(void)revents;
	if (m->upgrade_pid != 0 && c->rpid == m->upgrade_pid) {
		master_upgrade_exited(m, c->rstatus);
		return;
	}
	if ((w = master_find_pid(m, c->rpid)) == NULL) {
		worker_describe_status(c->rstatus, how, sizeof(how));
		log_debug("pid %d (not a worker) %s", (int)c->rpid, how);
		return;
	}
	/* Counted before worker_exited, which may free w. */
	if (w->state != WORKER_STOPPING && w->state != WORKER_DRAINING &&
	    !w->retired) {
		m->counters.worker_crashes++;
		if (m->current != NULL && w->sh->generation == m->current->id)
			serving = m->current;
	}
	if (serving == NULL) {
		worker_exited(w, c->rstatus);
		return;
	}
	m->counters.respawns++;
	/*
	 * The generation decides between a respawn and giving the worker up
	 * (EX_CONFIG): its target drops only for the latter. Told here, as
	 * the generation must not call up and only the master speaks to
	 * systemd.
	 */
	target = serving->target;
	index = w->index;
	worker_describe_status(c->rstatus, how, sizeof(how));
	worker_exited(w, c->rstatus);
	snprintf(what, sizeof(what), "worker %d (pid %d) %s; %s", index,
	    (int)c->rpid, how,
	    serving->target < target ? "not respawned (EX_CONFIG)"
	                             : "respawning");
	master_systemd_status_send(m, 0, what);
}

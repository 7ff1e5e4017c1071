/* upgrade.c: USR2: re-exec the master binary, handing over the sockets. */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "generation.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "sdnotify.h"
#include "signals.h"
#include "upgrade.h"
#include "worker.h"

extern char **environ;

/* baton's own variables between an old and a new master. */
#define UPGRADE_ENV_FDS "BATON_LISTEN_FDS" /* "fd:name,fd:name" */
#define UPGRADE_ENV_FROM "BATON_UPGRADE"   /* "oldpid:last_generation" */

int
upgrade_inherit(struct master *m, char *err, size_t errlen)
{
	const char *from = getenv(UPGRADE_ENV_FROM);
	const char *fds = getenv(UPGRADE_ENV_FDS);
	char *copy, *item, *save, *name;
	long pid, fd;
	unsigned last;
	int rc = 0;

	if (from == NULL)
		return 0;
	if (sscanf(from, "%ld:%u", &pid, &last) != 2 || pid <= 1) {
		snprintf(err, errlen, "%s=%s: malformed", UPGRADE_ENV_FROM,
		    from);
		return -1;
	}
	m->old_master = (pid_t)pid;
	m->last_id = last;
	if ((copy = strdup(fds ? fds : "")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	    item = strtok_r(NULL, ",", &save)) {
		fd = strtol(item, &name, 10);
		if (*name != ':' || fd < 3 || fd > INT_MAX) {
			snprintf(err, errlen, "%s: \"%s\" is malformed",
			    UPGRADE_ENV_FDS, item);
			rc = -1;
			break;
		}
		rc = listener_adopt(&m->listeners, (int)fd, name + 1,
		    "the old master", 1, err, errlen);
	}
	free(copy);
	unsetenv(UPGRADE_ENV_FROM);
	unsetenv(UPGRADE_ENV_FDS);
	if (rc == 0)
		log_info("upgrade: taking over from master pid %d",
		    (int)m->old_master);
	return rc;
}

/*
 * The old master is our parent until it exits (kill(pid, 0) would also
 * succeed on its zombie, or on an unrelated process reusing the pid).
 */
int
upgrade_old_master_alive(const struct master *m)
{
	return m->old_master != 0 && getppid() == m->old_master;
}

/* "PIDFILE.oldbin", or NULL without a pidfile. */
static char *
upgrade_oldbin(const struct master *m)
{
	char *p;

	if (m->cfg->pidfile == NULL)
		return NULL;
	if (asprintf(&p, "%s.oldbin", m->cfg->pidfile) == -1)
		return NULL;
	return p;
}

/* The environment of the new master: ours plus the two hand-over ones. */
static char **
upgrade_environ(const struct master *m)
{
	struct listener *l;
	char **env, *fds = NULL, *from = NULL, *tmp;
	size_t n = 0, i, k = 0;
	size_t j;

	for (l = m->listeners; l != NULL; l = l->next) {
		const char *name = "";

		for (j = 0; j < m->cfg->nlisteners; j++)
			if (m->active[j] == l)
				name = m->cfg->listeners[j].name;
		if (asprintf(&tmp, "%s%s%d:%s", fds ? fds : "", fds ? "," : "",
			l->fd, name) == -1)
			goto fail;
		free(fds);
		fds = tmp;
	}
	if (asprintf(&tmp, UPGRADE_ENV_FDS "=%s", fds ? fds : "") == -1)
		goto fail;
	free(fds);
	fds = tmp;
	if (asprintf(&from, UPGRADE_ENV_FROM "=%d:%u", (int)getpid(),
		m->last_id) == -1)
		goto fail;
	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], UPGRADE_ENV_FDS "=", 17) != 0 &&
		    strncmp(environ[i], UPGRADE_ENV_FROM "=", 14) != 0)
			env[k++] = environ[i];
	env[k++] = fds;
	env[k++] = from;
	return env;

fail:
	free(fds);
	free(from);
	return NULL;
}

static void
upgrade_environ_free(char **env)
{
	size_t n = 0;

	if (env == NULL)
		return;
	while (env[n] != NULL)
		n++;
	/* Only the last two entries are ours; the rest is environ's. */
	free(env[n - 1]);
	free(env[n - 2]);
	free(env);
}

void
upgrade_start(struct master *m)
{
	struct listener *l;
	char **env, *oldbin;
	int pipefd[2], err = 0;
	ssize_t n;
	pid_t pid;

	if (m->state != MASTER_RUNNING)
		return;
	if (m->upgrade_pid != 0) {
		log_warnx("upgrade: refused: the new master pid %d of the "
			  "previous upgrade still runs; QUIT this master to "
			  "complete that upgrade, or TERM the new one to roll "
			  "it back",
		    (int)m->upgrade_pid);
		return;
	}
	if (upgrade_old_master_alive(m)) {
		log_warnx("upgrade: refused: the master this one replaced "
			  "(pid %d) still runs; QUIT it first",
		    (int)m->old_master);
		return;
	}
	if (m->next != NULL) {
		log_warnx("upgrade: refused: generation %u is still starting; "
			  "send USR2 again once it is settled",
		    m->next->id);
		return;
	}
	oldbin = upgrade_oldbin(m);
	if (oldbin != NULL && access(oldbin, F_OK) == 0) {
		log_warnx("upgrade: refused: %s exists: an upgrade is not "
			  "finished (or a stale file is left: remove it)",
		    oldbin);
		free(oldbin);
		return;
	}
	if ((env = upgrade_environ(m)) == NULL || pipe2(pipefd, O_CLOEXEC)) {
		log_warn("upgrade: cannot prepare the new master");
		upgrade_environ_free(env);
		free(oldbin);
		return;
	}
	if (oldbin != NULL && pidfile_rename(&m->pidfile, oldbin) == -1) {
		log_warn("upgrade: refused: cannot rename %s to %s",
		    m->cfg->pidfile, oldbin);
		close(pipefd[0]);
		close(pipefd[1]);
		upgrade_environ_free(env);
		free(oldbin);
		return;
	}
	pid = fork();
	if (pid == 0) {
		signals_reset_for_exec();
		/* The same descriptor numbers, now inherited across exec. */
		for (l = m->listeners; l != NULL; l = l->next)
			(void)fcntl(l->fd, F_SETFD, 0);
		execve(m->exe_path, m->argv, env);
		err = errno;
		(void)!write(pipefd[1], &err, sizeof(err));
		_exit(127);
	}
	close(pipefd[1]);
	if (pid != -1) {
		while ((n = read(pipefd[0], &err, sizeof(err))) == -1 &&
		    errno == EINTR)
			;
		if (n != (ssize_t)sizeof(err))
			err = 0;
	} else
		err = errno;
	close(pipefd[0]);
	upgrade_environ_free(env);
	if (pid == -1 || err != 0) {
		log_warnx("upgrade: cannot start %s: %s; %s", m->exe_path,
		    strerror(err), oldbin ? "pidfile restored" : "nothing changed");
		if (oldbin != NULL &&
		    pidfile_rename(&m->pidfile, m->cfg->pidfile) == -1)
			log_warn("upgrade: cannot rename %s back", oldbin);
		free(oldbin);
		return;
	}
	m->upgrade_pid = pid;
	/* The sockets' UNIX paths are the new master's to keep now. */
	for (l = m->listeners; l != NULL; l = l->next)
		l->unlink_path = 0;
	log_info("upgrade: started new master pid %d (%s)%s%s", (int)pid,
	    m->exe_path, oldbin ? "; pidfile renamed to " : "",
	    oldbin ? oldbin : "");
	free(oldbin);
}

void
upgrade_exited(struct master *m, int status)
{
	struct listener *l;
	char how[64];

	worker_describe_status(status, how, sizeof(how));
	log_warnx("upgrade: new master pid %d %s; this master (pid %d) "
		  "carries on",
	    (int)m->upgrade_pid, how, (int)getpid());
	m->upgrade_pid = 0;
	if (m->cfg->pidfile != NULL && m->pidfile.fd != -1 &&
	    strcmp(m->pidfile.path, m->cfg->pidfile) != 0) {
		if (pidfile_rename(&m->pidfile, m->cfg->pidfile) == -1)
			log_warn("upgrade: cannot rename %s back to %s",
			    m->pidfile.path, m->cfg->pidfile);
		else
			log_info("upgrade: %s restored", m->cfg->pidfile);
	}
	for (l = m->listeners; l != NULL; l = l->next)
		l->unlink_path = l->own_path;
	/* systemd may have followed the new master: we are main again. */
	sdnotify_send(&m->sd, "MAINPID=%d\nREADY=1\nSTATUS=upgrade rolled "
			      "back: new master %s",
	    (int)getpid(), how);
	if (m->state == MASTER_RUNNING && m->current == NULL &&
	    m->next == NULL) {
		log_info("upgrade: no generation serves (WINCH): starting one "
			 "from the configuration in force");
		master_respawn(m);
	}
}

void
upgrade_ready(struct master *m)
{
	if (m->old_master == 0)
		return;
	sdnotify_send(&m->sd, "MAINPID=%d", (int)getpid());
	if (!m->cfg->upgrade_retire_old) {
		log_info("upgrade: ready; WINCH then QUIT the old master pid "
			 "%d to complete the upgrade, or TERM this one to roll "
			 "it back",
		    (int)m->old_master);
		return;
	}
	log_info("upgrade: ready; upgrade_retire_old: sending QUIT to the "
		 "old master pid %d",
	    (int)m->old_master);
	if (kill(m->old_master, SIGQUIT) == -1)
		log_warn("upgrade: kill QUIT %d", (int)m->old_master);
}

/* master_upgrade.c: the master's side of USR2: start, rollback, hand-over. */
/*
 * Owns the upgrade policy: when a USR2 is refused, the pidfile's move to
 * .oldbin and back, what the old master does when the new one dies, what
 * systemd is told, and the QUIT of upgrade_retire_old. The mechanics (the
 * environment, fork and exec) are upgrade.c's.
 */
#include <sys/syscall.h>
#include <errno.h>
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
#include "upgrade.h"
#include "worker.h"

/* "PIDFILE.oldbin", or NULL without a pidfile. */
static char *
master_oldbin(const struct master *m)
{
	char *p;

	if (m->cfg->pidfile == NULL)
		return NULL;
	if (asprintf(&p, "%s.oldbin", m->cfg->pidfile) == -1)
		return NULL;
	return p;
}

/* USR2: rename the pidfile to .oldbin and start the new master. */
void
master_upgrade(struct master *m)
{
	char err[CONFIG_ERR_MAX], *oldbin;
	struct listener *l;
	pid_t pid;

	if (master_state_stopping(m))
		return;
	if (m->upgrade_pid != 0) {
		log_warnx("upgrade: refused: the new master pid %d of the "
		          "previous upgrade still runs; QUIT this master to "
		          "complete that upgrade, or TERM the new one to roll "
		          "it back",
		    (int)m->upgrade_pid);
		return;
	}
	if (upgrade_parent_is(m->old_master)) {
		log_warnx("upgrade: refused: the master this one replaced "
		          "(pid %d) still runs; QUIT it first",
		    (int)m->old_master);
		return;
	}
	if (master_state_busy(m)) {
		log_warnx("upgrade: refused: generation %u is still starting; "
		          "send USR2 again once it is settled",
		    m->next->id);
		return;
	}
	oldbin = master_oldbin(m);
	if (oldbin != NULL && access(oldbin, F_OK) == 0) {
		log_warnx("upgrade: refused: %s exists: an upgrade is not "
		          "finished (or a stale file is left: remove it)",
		    oldbin);
		free(oldbin);
		return;
	}
	if (oldbin != NULL && pidfile_rename(&m->pidfile, oldbin) == -1) {
		log_warn("upgrade: refused: cannot rename %s to %s",
		    m->cfg->pidfile, oldbin);
		free(oldbin);
		return;
	}
	pid = upgrade_spawn(m->exe_path, m->argv, m->listeners, m->cfg,
	    m->active, m->last_id, err, sizeof(err));
	if (pid == -1) {
		log_warnx("upgrade: %s; %s", err,
		    oldbin ? "pidfile restored" : "nothing changed");
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
	master_state_set(m, master_state_settled(m));
}

/* The new master exited: restore the pidfile, serve again if retired. */
void
master_upgrade_exited(struct master *m, int status)
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
	sdnotify_send(&m->sd,
	    "MAINPID=%d\nREADY=1\nSTATUS=upgrade rolled "
	    "back: new master %s",
	    (int)getpid(), how);
	if (m->state != MASTER_UPGRADING && m->state != MASTER_HANDED_OVER)
		return; /* reloading or stopping: that goes on */
	master_state_set(m, master_state_settled(m));
	if (m->state == MASTER_RETIRED) {
		log_info("upgrade: no generation serves (WINCH): starting one "
		         "from the configuration in force");
		master_respawn(m);
	}
}

/*
 * Signal the master we replaced through a pidfd, opened while it is still
 * our parent: a pid that was reused in between is never signalled.
 */
static int
master_signal_old(struct master *m, int sig)
{
	int fd, rc;

	if ((fd = (int)syscall(SYS_pidfd_open, m->old_master, 0)) == -1)
		return -1;
	if (!upgrade_parent_is(m->old_master)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	rc = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	close(fd);
	return rc;
}

void
master_upgrade_ready(struct master *m)
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
	if (master_signal_old(m, SIGQUIT) == -1)
		log_warn("upgrade: QUIT to the old master pid %d",
		    (int)m->old_master);
}

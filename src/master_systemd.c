/* master_systemd.c: what the master tells systemd, and takes from it. */
/*
 * Owns the master's policy towards systemd: which listeners go to the fd
 * store, adopting socket-activated ones, STATUS=/READY= wording, and the
 * rule that only the master systemd follows speaks. The protocol itself
 * is sdnotify.c's.
 */
#include <stdlib.h>

#include "config.h"
#include "generation.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "sdnotify.h"

/*
 * fdstore = yes: systemd keeps every listener across a crash of ours. Names
 * the config in force no longer gives to the same socket are removed first,
 * or systemd would keep a dropped port bound (connections would hang there
 * instead of being refused).
 */
void
master_systemd_store_fds(
    struct master *m, const struct config *oldcfg, struct listener **oldset)
{
	size_t i;
	int k;

	if (!m->cfg->fdstore || m->sd.fd == -1)
		return;
	for (i = 0; oldcfg != NULL && i < oldcfg->nlisteners; i++) {
		k = config_listener_index(m->cfg, oldcfg->listeners[i].name);
		if (k == -1 || m->active[k] != oldset[i])
			sdnotify_remove_fd(&m->sd, oldcfg->listeners[i].name);
	}
	for (i = 0; i < m->cfg->nlisteners; i++)
		if (sdnotify_store_fd(&m->sd, m->active[i]->fd,
		        m->cfg->listeners[i].name) == -1)
			log_warn(
			    "fdstore: [listen %s]", m->cfg->listeners[i].name);
}

/* Sockets passed by systemd (socket activation, or its fd store). */
int
master_systemd_adopt(struct master *m, char *err, size_t errlen)
{
	struct sdnotify_fd *fds = NULL;
	int i, n;

	if ((n = sdnotify_listen_fds(&fds, err, errlen)) <= 0) {
		free(fds);
		return n;
	}
	for (i = 0; i < n; i++)
		if (listener_adopt(&m->listeners, fds[i].fd, fds[i].name,
		        "systemd", 0, err, errlen) == -1)
			break;
	free(fds);
	return i == n ? 0 : -1;
}

/*
 * While a new master of ours runs it may be systemd's main process: an old
 * master's READY, RELOADING or STOPPING would then speak for the service.
 */
int
master_systemd_speaks(const struct master *m)
{
	return m->upgrade_pid == 0;
}

/*
 * STATUS= for `systemctl status`, with READY=1 when a reload or start ends
 * (ready) or alone when only the serving generation's workers changed.
 * The count is the generation's target, not its live processes: a worker
 * scaled away is still draining, a crashed one comes back by itself, and
 * what says so is the event in front.
 */
void
master_systemd_status_send(struct master *m, int ready, const char *what)
{
	if (!master_systemd_speaks(m))
		return;
	if (m->current != NULL)
		sdnotify_send(&m->sd,
		    "%sSTATUS=%s; generation %u serving with %d worker%s",
		    ready ? "READY=1\n" : "", what, m->current->id,
		    m->current->target, m->current->target == 1 ? "" : "s");
	else
		sdnotify_send(&m->sd, "%sSTATUS=%s; no generation serving",
		    ready ? "READY=1\n" : "", what);
}

void
master_systemd_status(struct master *m, const char *what)
{
	master_systemd_status_send(m, 1, what);
}

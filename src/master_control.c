/* master_control.c: the master's answers to the control socket. */
/*
 * Owns the meaning of each control request: status and metrics read the
 * master's state into a JSON object; the other requests call the very
 * functions the signals call (master_reload, master_scale, ...). control.c
 * owns the socket and the wire; this file never touches either.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control_server.h"
#include "generation.h"
#include "listener.h"
#include "master.h"
#include "worker.h"

#ifndef BATON_VERSION
#define BATON_VERSION "0.1.0"
#endif

static json_t *
master_control_worker(const struct worker *w)
{
	char how[64];

	if (w->last_status != -1)
		worker_describe_status(w->last_status, how, sizeof(how));
	return json_pack("{s:i, s:o, s:s, s:o, s:i, s:o, s:o}", "index",
	    w->index, "pid", w->pid ? json_integer(w->pid) : json_null(),
	    "state", worker_state_name(w->state), "started",
	    w->pid ? json_real(w->started_at) : json_null(), "restarts",
	    w->restarts, "last_status",
	    w->last_status != -1 ? json_integer(w->last_status) : json_null(),
	    "last_exit", w->last_status != -1 ? json_string(how) : json_null());
}

static json_t *
master_control_generation(const struct master *m, const struct generation *g)
{
	json_t *o, *ws = json_array();
	size_t i;

	for (i = 0; i < g->nworkers; i++)
		json_array_append_new(ws, master_control_worker(g->workers[i]));
	o = json_pack("{s:i, s:s, s:b, s:b, s:f, s:s, s:i, s:i, s:i, s:o}",
	    "id", g->id, "state", generation_state_name(g->state), "current",
	    g == m->current, "next", g == m->next, "started", g->started_at,
	    "command", g->cfg->command, "workers_ready",
	    generation_count(g, WORKER_READY), "workers_running",
	    generation_count(g, -1), "workers_total", g->target, "workers", ws);
	return o;
}

/*
 * The kernel's view of a TCP listener: for a listening socket TCP_INFO
 * reports the accept queue in tcpi_unacked and its limit in tcpi_sacked.
 * One getsockopt, no scan of /proc/net/tcp. Other families report neither.
 */
static json_t *
master_control_listener(const char *name, const struct listener *l)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int family = l->addr.ss.ss_family;
	json_t *o;

	o = json_pack("{s:s, s:s, s:i, s:i}", "name", name, "address",
	    l->addr.text, "fd", l->fd, "backlog", l->backlog);
	if ((family == AF_INET || family == AF_INET6) &&
	    getsockopt(l->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    ti.tcpi_state == TCP_LISTEN) {
		json_object_set_new(o, "queue", json_integer(ti.tcpi_unacked));
		json_object_set_new(o, "backlog", json_integer(ti.tcpi_sacked));
	}
	return o;
}

static void
master_control_status(struct master *m, json_t *o)
{
	const struct master_counters *k = &m->counters;
	json_t *gens = json_array(), *ls = json_array();
	const struct generation *g;
	size_t i;

	for (g = m->generations; g != NULL; g = g->next)
		json_array_append_new(gens, master_control_generation(m, g));
	for (i = 0; m->active != NULL && i < m->cfg->nlisteners; i++)
		json_array_append_new(
		    ls, master_control_listener(
		            m->cfg->listeners[i].name, m->active[i]));
	json_object_set_new(o, "master",
	    json_pack("{s:i, s:s, s:s, s:f, s:f, s:s, s:o}", "pid",
	        (int)getpid(), "version", BATON_VERSION, "config",
	        m->config_path, "started", m->started_at, "uptime_s",
	        ev_now(m->loop) - m->started_at, "state",
	        master_state_name(m->state), "upgrade_pid",
	        m->upgrade_pid ? json_integer(m->upgrade_pid) : json_null()));
	json_object_set_new(o, "generations", gens);
	json_object_set_new(o, "listeners", ls);
	json_object_set_new(o, "counters",
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "reloads_ok",
	        (json_int_t)k->reloads_ok, "reloads_rejected",
	        (json_int_t)k->reloads_rejected, "reloads_rolled_back",
	        (json_int_t)k->reloads_rolled_back, "worker_crashes",
	        (json_int_t)k->worker_crashes, "respawns",
	        (json_int_t)k->respawns, "upgrades", (json_int_t)k->upgrades));
}

/* scale N|+N|-N: the change from the serving generation's count. */
static const char *
master_control_scale(
    struct master *m, const struct control_request *req, json_t *reply)
{
	long delta;
	int n;

	if (master_state_stopping(m) || m->current == NULL)
		return "scale: no generation is serving";
	if (m->next != NULL)
		return "scale: a generation is starting; try again once it is "
		       "settled";
	delta = req->relative ? req->n : req->n - m->current->target;
	if (m->current->target + delta < 1)
		return "scale: a generation keeps at least one worker";
	if (m->current->target + delta > CONFIG_WORKERS_MAX)
		return "scale: at most " CONFIG_WORKERS_MAX_TEXT " workers";
	if ((n = master_scale(m, (int)delta)) == -1)
		return "scale: ignored (see the log)";
	json_object_set_new(reply, "generation", json_integer(m->current->id));
	json_object_set_new(reply, "workers", json_integer(n));
	return NULL;
}

static const char *
master_control_request(
    const struct control_request *req, json_t *reply, void *owner)
{
	struct master *m = owner;

	switch (req->cmd) {
	case CONTROL_STATUS:
	case CONTROL_METRICS:
		master_control_status(m, reply);
		return NULL;
	case CONTROL_RELOAD:
		if (master_state_stopping(m))
			return "reload: the master is shutting down";
		master_reload(m);
		return NULL;
	case CONTROL_SCALE:
		return master_control_scale(m, req, reply);
	case CONTROL_RETIRE:
		master_retire(m);
		return NULL;
	case CONTROL_REOPEN:
		master_reopen(m);
		return NULL;
	case CONTROL_STOP:
		/* As a second TERM: a stop --fast after a stop kills now. */
		m->stop_signals++;
		master_shutdown(m, req->fast);
		return NULL;
	}
	return "unknown command";
}

const struct control_events master_control_events = {
    .request = master_control_request,
};

/* childenv.h: the argv and environment a worker is exec'd with. */
#ifndef BATON_CHILDENV_H
#define BATON_CHILDENV_H

#include <sys/types.h>
#include <stddef.h>

struct config;

/*
 * cfg->argv with every "{fd:NAME}" replaced by the worker's fd number for
 * that listener (3 + its index in cfg->listeners) and every "{addr:NAME}" by
 * its address (host:port, [v6]:port, or the bare path of a UNIX socket).
 * Placeholders may stand inside a word ("--listen=fd://{fd:http}").
 * Returns a NULL-terminated malloc'd vector (childenv_free), or NULL with a
 * reason naming the placeholder in err.
 */
char **childenv_argv(const struct config *cfg, char *err, size_t errlen);

/*
 * The worker's environment: base (the master's environ) without the
 * variables baton owns (LISTEN_*, NOTIFY_SOCKET, SERVER_STARTER_PORT,
 * EINHORN_*, BATON_*), then LISTEN_FDS, LISTEN_PID (a placeholder,
 * see childenv_set_pid), LISTEN_FDNAMES, SERVER_STARTER_PORT,
 * EINHORN_FD_COUNT and EINHORN_FD_n, BATON_GENERATION, BATON_WORKER,
 * NOTIFY_SOCKET (only when notify_socket != NULL), and last cfg->env, whose
 * entries replace same-named ones. Without listeners no LISTEN_*,
 * SERVER_STARTER_PORT or EINHORN_* is set. Returns a NULL-terminated
 * malloc'd vector (childenv_free) and stores in *pid_slot the index of the
 * LISTEN_PID entry (or -1 when there is none).
 */
char **childenv_envp(char *const *base, const struct config *cfg,
    unsigned generation, int worker, const char *notify_socket,
    ssize_t *pid_slot);

/*
 * Write pid into the LISTEN_PID placeholder at envp[slot]. Async-signal-safe
 * (no allocation): meant for the child between fork and exec, where the
 * worker's own pid is first known.
 */
void childenv_set_pid(char **envp, ssize_t slot, pid_t pid);

void childenv_free(char **v);

#endif

/* upgrade.h: USR2: re-exec the master binary, handing over the sockets. */
#ifndef BATON_UPGRADE_H
#define BATON_UPGRADE_H

#include <sys/types.h>
#include <stddef.h>

struct config;
struct listener;

/*
 * In a master started by USR2: adopt the listeners the old master passed
 * (BATON_LISTEN_FDS) into *list, and read the old master's pid and last
 * generation number (BATON_UPGRADE). Unsets both variables. Returns 0 (with
 * *old_master 0 when this is no upgrade), or -1 with a reason in err.
 */
int upgrade_inherit(struct listener **list, pid_t *old_master,
    unsigned *last_id, char *err, size_t errlen);

/* BATON_UPGRADE's value, "PID:LAST_GENERATION", parsed whole. */
int upgrade_parse_from(
    const char *s, pid_t *pid, unsigned *last_id, char *err, size_t errlen);

/*
 * One "FD:NAME" item of BATON_LISTEN_FDS, parsed whole: *name points into
 * item. Returns 0, or -1 with a reason in err.
 */
int upgrade_parse_fd(
    const char *item, int *fd, const char **name, char *err, size_t errlen);

/*
 * Is old (the master we replaced) still running? It is our parent until it
 * exits; kill(pid, 0) would also succeed on its zombie, or on an unrelated
 * process reusing the pid.
 */
int upgrade_parent_is(pid_t old);

/*
 * Fork and exec the new master: exe with argv, our environment plus the
 * hand-over variables (every listener of list, named after cfg's section
 * whose active[] entry it is; our pid; last_id), each listener inherited at
 * its own fd number. Returns the new master's pid once it has exec'd, or -1
 * with a reason in err (nothing started).
 */
pid_t upgrade_spawn(const char *exe, char **argv, struct listener *list,
    const struct config *cfg, struct listener **active, unsigned last_id,
    char *err, size_t errlen);

#endif

/* upgrade.h: USR2: re-exec the master binary, handing over the sockets. */
#ifndef BATON_UPGRADE_H
#define BATON_UPGRADE_H

#include <stddef.h>

struct master;

/*
 * In a master started by USR2: adopt the listeners the old master passed
 * (BATON_LISTEN_FDS), remember the old master's pid and continue its
 * generation numbers (BATON_UPGRADE). Unsets both variables. Returns 0 (also
 * when this is no upgrade), or -1 with a reason in err.
 */
int upgrade_inherit(struct master *m, char *err, size_t errlen);

/* In a new master: does the master it replaced still run? */
int upgrade_old_master_alive(const struct master *m);

/* USR2: rename the pidfile to .oldbin and fork+exec the new master. */
void upgrade_start(struct master *m);

/* The new master exited: restore the pidfile, serve again if retired. */
void upgrade_exited(struct master *m, int status);

/* In the new master: its first generation is ready. */
void upgrade_ready(struct master *m);

#endif

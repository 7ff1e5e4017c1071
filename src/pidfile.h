/* pidfile.h: the master's pidfile: atomic write, lock, removal. */
#ifndef BATON_PIDFILE_H
#define BATON_PIDFILE_H

#include <sys/types.h>
#include <stddef.h>

struct pidfile {
	char *path; /* NULL: no pidfile configured */
	int fd;     /* open and flock'ed for the master's life, or -1 */
};

/*
 * Write our pid to path through a temporary file and rename(2), so readers
 * never see a partial file, and hold an flock on it for our whole life.
 * Refuses a symlink, and refuses when a live master holds the lock on the
 * existing file. Returns 0, or -1 with a reason in err.
 */
int pidfile_create(
    struct pidfile *pf, const char *path, char *err, size_t errlen);

/*
 * Move our pidfile to path (PIDFILE -> PIDFILE.oldbin on USR2, and back on
 * rollback), replacing what is there. Returns 0, or -1 with errno set.
 */
int pidfile_rename(struct pidfile *pf, const char *path);

/* Remove the file if it is still ours (same inode), and close it. */
void pidfile_remove(struct pidfile *pf);

/*
 * Read the pid in path. Returns it, or -1 with a reason in err (missing,
 * garbage, or no process holds the lock any more: stale).
 */
pid_t pidfile_read(const char *path, char *err, size_t errlen);

#endif

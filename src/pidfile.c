/* pidfile.c: the master's pidfile: atomic write, lock, removal. */
/*
 * Owns the pidfile's bytes and its lock: write through a temporary file and
 * rename, flock for the master's life, rename to .oldbin and back, and
 * reading another master's pid. Kernel-facing: decides nothing about
 * upgrades or signals.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "pidfile.h"

/* Parse "1234\n"; -1 when it is anything else. */
static pid_t
pidfile_parse(int fd)
{
	char buf[32], why[64];
	long long v;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "1234\n", as we write it: the number, then at most a newline. */
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (parse_int(buf, 1, INT_MAX, &v, why, sizeof(why)) == -1)
		return -1;
	return (pid_t)v;
}

pid_t
pidfile_read(const char *path, char *err, size_t errlen)
{
	pid_t pid;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path,
		    errno == ELOOP ? "is a symlink, refusing"
		                   : strerror(errno));
		return -1;
	}
	if ((pid = pidfile_parse(fd)) == -1) {
		snprintf(err, errlen, "%s: does not hold a pid", path);
		close(fd);
		return -1;
	}
	/* The master holds an exclusive lock: if we get one, it is gone. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		snprintf(err, errlen,
		    "%s: stale, pid %d no longer runs a master", path,
		    (int)pid);
		close(fd);
		return -1;
	}
	close(fd);
	return pid;
}

/*
 * Two masters started at once must not both pass the check below and then
 * both rename their file into place: the directory's flock serialises the
 * check-and-rename. Non-blocking with a bounded wait, so that whoever else
 * holds it (any user who can open the directory) cannot hang a start.
 */
static int
pidfile_lock_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, i;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen,
		    "pidfile %s: cannot open its directory: %s", path,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < 200; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK)
			break;
		usleep(10000);
	}
	snprintf(err, errlen,
	    "pidfile %s: its directory stays locked by "
	    "another process",
	    path);
	close(fd);
	return -1;
}

static int
pidfile_create_locked(
    struct pidfile *pf, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX], buf[32];
	struct stat st;
	pid_t other;
	int fd, n;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1 && errno == ELOOP) {
		snprintf(
		    err, errlen, "pidfile %s: is a symlink, refusing", path);
		return -1;
	}
	if (fd != -1) {
		if (flock(fd, LOCK_SH | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK) {
			other = pidfile_parse(fd);
			snprintf(err, errlen,
			    "pidfile %s: already running (pid %d)", path,
			    (int)other);
			close(fd);
			return -1;
		}
		close(fd);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >=
	    (int)sizeof(tmp)) {
		snprintf(err, errlen, "pidfile %s: path too long", path);
		return -1;
	}
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "pidfile %s: cannot create %s: %s", path,
		    tmp, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    write(fd, buf, (size_t)n) != n || fstat(fd, &st) == -1 ||
	    rename(tmp, path) == -1) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	if ((pf->path = strdup(path)) == NULL) {
		unlink(path);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pf->fd = fd;
	return 0;
}

int
pidfile_create(struct pidfile *pf, const char *path, char *err, size_t errlen)
{
	int dirfd, rc;

	pf->path = NULL;
	pf->fd = -1;
	if ((dirfd = pidfile_lock_dir(path, err, errlen)) == -1)
		return -1;
	rc = pidfile_create_locked(pf, path, err, errlen);
	close(dirfd); /* releases the lock */
	return rc;
}

int
pidfile_rename(struct pidfile *pf, const char *path)
{
	char *copy;

	if (pf->fd == -1)
		return 0;
	if ((copy = strdup(path)) == NULL)
		return -1;
	if (rename(pf->path, path) == -1) {
		free(copy);
		return -1;
	}
	free(pf->path);
	pf->path = copy;
	return 0;
}

void
pidfile_remove(struct pidfile *pf)
{
	struct stat ours, theirs;

	if (pf->fd == -1)
		return;
	/* After an upgrade the path may name the new master's file. */
	if (fstat(pf->fd, &ours) == 0 && lstat(pf->path, &theirs) == 0 &&
	    ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev)
		unlink(pf->path);
	close(pf->fd);
	pf->fd = -1;
	free(pf->path);
	pf->path = NULL;
}

/* upgrade.c: USR2: re-exec the master binary, handing over the sockets. */
/*
 * Owns the hand-over between an old and a new master: the two environment
 * variables that carry the listeners and the generation count, their strict
 * parsing, and the fork+exec of the new binary. When to upgrade, and what
 * to do when the new master dies, is the master's policy, not this file's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "parse.h"
#include "signals.h"
#include "upgrade.h"

extern char **environ;

/* baton's own variables between an old and a new master. */
#define UPGRADE_ENV_FDS  "BATON_LISTEN_FDS" /* "fd:name,fd:name" */
#define UPGRADE_ENV_FROM "BATON_UPGRADE"    /* "oldpid:last_generation" */

/*
 * "A:B" -> the decimal numbers A in [amin, amax] and, when bmax is not 0,
 * B in [0, bmax]; with bmax 0, B is any text, returned in *rest. Each is
 * parsed whole by parse_int. Returns 0, or -1.
 */
static int
upgrade_pair(const char *s, long long amin, long long amax, long long *a,
    long long bmax, long long *b, const char **rest)
{
	char head[24], why[64];
	const char *colon = strchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(head))
		return -1;
	memcpy(head, s, (size_t)(colon - s));
	head[colon - s] = '\0';
	if (parse_int(head, amin, amax, a, why, sizeof(why)) == -1)
		return -1;
	*rest = colon + 1;
	if (bmax == 0)
		return 0;
	return parse_int(colon + 1, 0, bmax, b, why, sizeof(why));
}

int
upgrade_parse_from(
    const char *s, pid_t *pid, unsigned *last_id, char *err, size_t errlen)
{
	long long p, last;
	const char *rest;

	if (upgrade_pair(s, 2, INT_MAX, &p, UINT_MAX, &last, &rest) == -1) {
		snprintf(err, errlen, "%s=%s: malformed (PID:GENERATION)",
		    UPGRADE_ENV_FROM, s);
		return -1;
	}
	*pid = (pid_t)p;
	*last_id = (unsigned)last;
	return 0;
}

int
upgrade_parse_fd(
    const char *item, int *fd, const char **name, char *err, size_t errlen)
{
	long long n;

	if (upgrade_pair(item, 3, INT_MAX, &n, 0, NULL, name) == -1) {
		snprintf(err, errlen, "%s: \"%s\" is malformed (FD:NAME)",
		    UPGRADE_ENV_FDS, item);
		return -1;
	}
	*fd = (int)n;
	return 0;
}

int
upgrade_inherit(struct listener **list, pid_t *old_master, unsigned *last_id,
    char *err, size_t errlen)
{
	const char *from = getenv(UPGRADE_ENV_FROM);
	const char *fds = getenv(UPGRADE_ENV_FDS);
	char *copy, *item, *save;
	const char *name;
	int rc = 0, fd;

	*old_master = 0;
	if (from == NULL)
		return 0;
	/* Never passed on, whatever happens: not to workers, not to us. */
	copy = strdup(fds ? fds : "");
	if (upgrade_parse_from(from, old_master, last_id, err, errlen) == -1)
		rc = -1;
	unsetenv(UPGRADE_ENV_FROM);
	unsetenv(UPGRADE_ENV_FDS);
	if (rc == -1) {
		free(copy);
		return -1;
	}
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		if ((rc = upgrade_parse_fd(item, &fd, &name, err, errlen)) == 0)
			rc = listener_adopt(
			    list, fd, name, "the old master", 1, err, errlen);
	}
	free(copy);
	if (rc == 0)
		log_info("upgrade: taking over from master pid %d",
		    (int)*old_master);
	return rc;
}

int
upgrade_parent_is(pid_t old)
{
	return old != 0 && getppid() == old;
}

/* The environment of the new master: ours plus the two hand-over ones. */
static char **
upgrade_environ(struct listener *list, const struct config *cfg,
    struct listener **active, unsigned last_id)
{
	struct listener *l;
	char **env, *fds = NULL, *from = NULL, *tmp;
	size_t n = 0, i, k = 0, j;

	for (l = list; l != NULL; l = l->next) {
		const char *name = "";

		for (j = 0; j < cfg->nlisteners; j++)
			if (active[j] == l)
				name = cfg->listeners[j].name;
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
	if (asprintf(
	        &from, UPGRADE_ENV_FROM "=%d:%u", (int)getpid(), last_id) == -1)
		goto fail;
	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], UPGRADE_ENV_FDS "=",
		        sizeof(UPGRADE_ENV_FDS)) != 0 &&
		    strncmp(environ[i], UPGRADE_ENV_FROM "=",
		        sizeof(UPGRADE_ENV_FROM)) != 0)
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

pid_t
upgrade_spawn(const char *exe, char **argv, struct listener *list,
    const struct config *cfg, struct listener **active, unsigned last_id,
    char *err, size_t errlen)
{
	struct listener *l;
	int pipefd[2], e = 0;
	char **env;
	ssize_t n;
	pid_t pid;

	if ((env = upgrade_environ(list, cfg, active, last_id)) == NULL ||
	    pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "cannot prepare the new master: %s",
		    strerror(errno));
		upgrade_environ_free(env);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		signals_reset_for_exec();
		/* The same descriptor numbers, now inherited across exec. */
		for (l = list; l != NULL; l = l->next)
			(void)fcntl(l->fd, F_SETFD, 0);
		execve(exe, argv, env);
		e = errno;
		(void)!write(pipefd[1], &e, sizeof(e));
		_exit(127);
	}
	close(pipefd[1]);
	if (pid != -1) {
		/* Blocks only until exec: the pipe is close-on-exec. */
		while ((n = read(pipefd[0], &e, sizeof(e))) == -1 &&
		       errno == EINTR)
			;
		if (n != (ssize_t)sizeof(e))
			e = 0;
	} else
		e = errno;
	close(pipefd[0]);
	upgrade_environ_free(env);
	if (pid == -1 || e != 0) {
		snprintf(err, errlen, "cannot start %s: %s", exe, strerror(e));
		/* A child that failed to exec is reaped by the child watcher.
		 */
		return -1;
	}
	return pid;
}

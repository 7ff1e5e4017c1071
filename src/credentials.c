/*
 * credentials.c: turn the user and group names of the config into the
 * uid, gid and group list a worker takes before exec.
 *
 * Owns: every NSS lookup of baton (passwd, group). Must not touch: config
 * parsing, generations or workers; kept out of config.c so that a reload
 * reads a file and nothing else.
 */
#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "credentials.h"

/* getpwnam and getgrnam say "no such entry" with one of these, or none. */
static int
credentials_not_found(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

/* The user's groups, as initgroups(3) would set them, into c->groups. */
static int
credentials_grouplist(const char *user, struct credentials *c)
{
	gid_t *g;
	int n = 32, got;

	for (;;) {
		if ((g = realloc(c->groups, (size_t)n * sizeof(*g))) == NULL)
			return -1;
		c->groups = g;
		got = n;
		if (getgrouplist(user, c->gid, c->groups, &got) != -1) {
			c->ngroups = got;
			return 0;
		}
		/* got now says how many there are, when it says anything. */
		n = got > n ? got : n * 2;
	}
}

int
credentials_resolve(const char *user, const char *group, struct credentials *c,
    char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	memset(c, 0, sizeof(*c));
	if (user == NULL && group == NULL)
		return 0; /* nothing to change: groups stays NULL */
	if (user != NULL) {
		errno = 0;
		if ((pw = getpwnam(user)) == NULL) {
			if (credentials_not_found(errno))
				snprintf(
				    err, errlen, "\"%s\": no such user", user);
			else
				snprintf(err, errlen,
				    "\"%s\": cannot look up user: %s", user,
				    strerror(errno));
			return CREDENTIALS_EUSER;
		}
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
	}
	if (group != NULL) {
		errno = 0;
		if ((gr = getgrnam(group)) == NULL) {
			if (credentials_not_found(errno))
				snprintf(err, errlen, "\"%s\": no such group",
				    group);
			else
				snprintf(err, errlen,
				    "\"%s\": cannot look up group: %s", group,
				    strerror(errno));
			return CREDENTIALS_EGROUP;
		}
		c->gid = gr->gr_gid;
	}
	if (user == NULL) {
		/* A group alone is the workers' only group. */
		if ((c->groups = malloc(sizeof(*c->groups))) == NULL)
			goto nomem;
		c->groups[0] = c->gid;
		c->ngroups = 1;
		return 0;
	}
	if (credentials_grouplist(user, c) == -1)
		goto nomem;
	return 0;
nomem:
	credentials_free(c);
	snprintf(err, errlen, "\"%s\": cannot list its groups: out of memory",
	    user != NULL ? user : group);
	return user != NULL ? CREDENTIALS_EUSER : CREDENTIALS_EGROUP;
}

void
credentials_free(struct credentials *c)
{
	free(c->groups);
	c->groups = NULL;
	c->ngroups = 0;
}

int
credentials_of_config(
    const struct config *cfg, struct credentials *c, char *err, size_t errlen)
{
	char why[CONFIG_ERR_MAX / 2];
	int r;

	r = credentials_resolve(cfg->user, cfg->group, c, why, sizeof(why));
	if (r == 0)
		return 0;
	snprintf(err, errlen, "%s:%d: %s: %s", cfg->path,
	    r == CREDENTIALS_EGROUP ? cfg->group_line : cfg->user_line,
	    r == CREDENTIALS_EGROUP ? "group" : "user", why);
	return -1;
}

int
credentials_control_gid(
    const struct config *cfg, gid_t *gid, char *err, size_t errlen)
{
	struct credentials c = {0};
	char why[CONFIG_ERR_MAX / 2];

	*gid = 0;
	if (cfg->control_group == NULL)
		return 0;
	if (credentials_resolve(
	        NULL, cfg->control_group, &c, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s:%d: control_group: %s", cfg->path,
		    cfg->control_group_line, why);
		return -1;
	}
	*gid = c.gid;
	credentials_free(&c);
	return 0;
}

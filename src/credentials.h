/*
 * credentials.h: the uid, gid and supplementary groups that a user and a
 * group name stand for, looked up through NSS.
 *
 * Owns: the getpwnam/getgrnam/getgrouplist calls. Must not touch: files,
 * generations, workers; it takes names and returns numbers, and the caller
 * decides when to look (at -t, at start, before each spawn).
 */
#ifndef BATON_CREDENTIALS_H
#define BATON_CREDENTIALS_H

#include <sys/types.h>
#include <stddef.h>

/* What credentials_resolve failed on: the key to name in a message. */
#define CREDENTIALS_EUSER  (-1)
#define CREDENTIALS_EGROUP (-2)

struct credentials {
	uid_t uid;     /* the user's; 0 without a user */
	gid_t gid;     /* the group's, else the user's primary group */
	gid_t *groups; /* supplementary groups: the user's, else just gid */
	int ngroups;
};

/*
 * Look up user and/or group (either may be NULL) and fill c; free it with
 * credentials_free. With neither, c stays empty (groups NULL): keep ours.
 * Returns 0, or CREDENTIALS_EUSER / CREDENTIALS_EGROUP with c empty and a
 * reason in err, such as
 * "\"app\": no such user".
 */
int credentials_resolve(const char *user, const char *group,
    struct credentials *c, char *err, size_t errlen);

struct config;

/*
 * The credentials cfg's user and group stand for, as credentials_resolve,
 * with a failure said as "file:line: user: \"app\": no such user".
 */
int credentials_of_config(
    const struct config *cfg, struct credentials *c, char *err, size_t errlen);

/*
 * The gid of cfg's control_group (0 when it sets none), or -1 with
 * "file:line: control_group: \"ops\": no such group" in err.
 */
int credentials_control_gid(
    const struct config *cfg, gid_t *gid, char *err, size_t errlen);

/* Free what credentials_resolve allocated; c may be all zeroes. */
void credentials_free(struct credentials *c);

#endif

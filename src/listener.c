/* listener.c: the master's listening sockets: bind once, reuse by address. */
/*
 * Owns every listening socket of the master: bind, listen, backlog and
 * mode, reuse by address across reloads, adoption from systemd or an old
 * master, and the removal of UNIX paths it created. Kernel-facing: knows
 * addresses and fds, nothing of generations or workers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "log.h"

static struct listener *
listener_find(struct listener *list, const struct listen_config *lc)
{
	struct listener *l;

	/* A socket passed under this section's name is the section's. */
	for (l = list; l != NULL; l = l->next) {
		if (l->hint[0] == '\0' || strcmp(l->hint, lc->name) != 0)
			continue;
		if (!address_equal(&l->addr, &lc->addr))
			log_warnx("[listen %s]: %s passed %s under this name; "
			          "using it in place of %s",
			    lc->name, l->origin, l->addr.text, lc->addr.text);
		l->hint[0] = '\0';
		return l;
	}
	for (; list != NULL; list = list->next) {
		if (!address_equal(&list->addr, &lc->addr))
			continue;
		if (lc->addr.ss.ss_family == AF_INET6 &&
		    list->v6only != lc->v6only)
			continue;
		return list;
	}
	return NULL;
}

/*
 * A UNIX socket path left by a dead process is removed; one that a live
 * process still accepts on is not ours to take.
 */
static int
listener_clear_unix_path(
    const struct sockaddr_un *sun, socklen_t len, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket",
		    sun->sun_path);
		errno = EEXIST;
		return -2;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, len);
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s is in use by another process",
		    sun->sun_path);
		errno = EADDRINUSE;
		return -2;
	}
	if (errno != ECONNREFUSED)
		return -1;
	return unlink(sun->sun_path);
}

static struct listener *
listener_open(const struct listen_config *lc, char *err, size_t errlen)
{
	const struct address *a = &lc->addr;
	struct listener *l;
	char why[256] = "";
	int fd, on = 1, rc;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (a->ss.ss_family == AF_UNIX) {
		rc =
		    listener_clear_unix_path((const struct sockaddr_un *)&a->ss,
		        a->len, why, sizeof(why));
		if (rc == -2)
			goto fail_why;
		if (rc == -1)
			goto fail;
	} else {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ==
		    -1)
			goto fail;
		if (a->ss.ss_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &lc->v6only,
		        sizeof(lc->v6only)) == -1)
			goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1)
		goto fail;
	if (a->ss.ss_family == AF_UNIX && lc->mode != -1 &&
	    chmod(((const struct sockaddr_un *)&a->ss)->sun_path,
	        (mode_t)lc->mode) == -1)
		goto fail_unlink;
	if (listen(fd, lc->backlog) == -1)
		goto fail_unlink;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto fail_unlink;
	l->addr = *a;
	l->fd = fd;
	l->v6only = lc->v6only;
	l->backlog = lc->backlog;
	l->mode = lc->mode;
	l->unlink_path = a->ss.ss_family == AF_UNIX;
	l->own_path = l->unlink_path;
	return l;

fail_unlink:
	if (a->ss.ss_family == AF_UNIX)
		unlink(((const struct sockaddr_un *)&a->ss)->sun_path);
fail:
	snprintf(why, sizeof(why), "%s", strerror(errno));
fail_why:
	snprintf(err, errlen, "[listen %s]: cannot listen on %s: %s", lc->name,
	    a->text, why);
	if (fd != -1)
		close(fd);
	return NULL;
}

static void
listener_close(struct listener *l)
{
	if (l->unlink_path)
		unlink(((const struct sockaddr_un *)&l->addr.ss)->sun_path);
	close(l->fd);
	free(l);
}

/* Adjust what can change on a live socket without closing it. */
static void
listener_update(struct listener *l, const struct listen_config *lc)
{
	if (l->backlog != lc->backlog) {
		/* Linux applies a new backlog to a listening socket. */
		if (listen(l->fd, lc->backlog) == -1)
			log_warn("[listen %s]: backlog %d on %s", lc->name,
			    lc->backlog, l->addr.text);
		else
			l->backlog = lc->backlog;
	}
	if (l->addr.ss.ss_family == AF_UNIX && lc->mode != -1 &&
	    l->mode != lc->mode) {
		if (chmod(((const struct sockaddr_un *)&l->addr.ss)->sun_path,
		        (mode_t)lc->mode) == -1)
			log_warn("[listen %s]: mode %04o on %s", lc->name,
			    lc->mode, l->addr.text);
		else
			l->mode = lc->mode;
	}
}

int
listener_acquire(struct listener **list, const struct config *cfg,
    struct listener ***set, char *err, size_t errlen)
{
	const char *origin[CONFIG_LISTENERS_MAX] = {0};
	int opened[CONFIG_LISTENERS_MAX] = {0};
	struct listener **s, **pp, *l;
	size_t i, j;

	s = calloc(cfg->nlisteners ? cfg->nlisteners : 1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < cfg->nlisteners; i++) {
		const struct listen_config *lc = &cfg->listeners[i];

		if ((l = listener_find(*list, lc)) == NULL) {
			if ((l = listener_open(lc, err, errlen)) == NULL)
				goto fail;
			l->next = *list;
			*list = l;
			opened[i] = 1;
		} else if (l->origin != NULL) {
			origin[i] = l->origin;
			l->origin = NULL;
		}
		l->refs++;
		s[i] = l;
	}
	/* Only once every bind succeeded may live sockets change. */
	for (i = 0; i < cfg->nlisteners; i++) {
		if (opened[i])
			log_info("[listen %s]: listening on %s (fd %d)",
			    cfg->listeners[i].name, s[i]->addr.text, s[i]->fd);
		else if (origin[i] != NULL)
			log_info("[listen %s]: adopted fd %d from %s (%s)",
			    cfg->listeners[i].name, s[i]->fd, origin[i],
			    s[i]->addr.text);
		listener_update(s[i], &cfg->listeners[i]);
	}
	*set = s;
	return 0;

fail:
	/*
	 * Undo exactly this call: close what it bound, hand adopted sockets
	 * back unclaimed. Sockets it did not open are never closed here.
	 */
	for (j = 0; j < i; j++) {
		s[j]->refs--;
		if (origin[j] != NULL)
			s[j]->origin = origin[j];
		if (!opened[j])
			continue;
		for (pp = list; *pp != s[j]; pp = &(*pp)->next)
			;
		*pp = s[j]->next;
		listener_close(s[j]);
	}
	free(s);
	return -1;
}

int
listener_adopt(struct listener **list, int fd, const char *name,
    const char *origin, int own_path, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st, other;
	struct listener *l;
	int type = 0, acc = 0, v6only = 0;
	socklen_t olen = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(err, errlen, "fd %d from %s: %s", fd, origin,
		    strerror(errno));
		return -1;
	}
	if (type != SOCK_STREAM || !acc) {
		snprintf(err, errlen,
		    "fd %d from %s: not a listening stream socket", fd, origin);
		return -1;
	}
	/* systemd passes a socket twice when both a socket unit and the fd
	 * store hold it: one copy is enough. */
	if (fstat(fd, &st) == 0)
		for (l = *list; l != NULL; l = l->next)
			if (fstat(l->fd, &other) == 0 &&
			    other.st_ino == st.st_ino &&
			    other.st_dev == st.st_dev) {
				log_debug(
				    "fd %d from %s: a copy of fd %d, closed",
				    fd, origin, l->fd);
				close(fd);
				return 0;
			}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (address_from_sockaddr((struct sockaddr *)&ss, len, &l->addr) ==
	    -1) {
		snprintf(err, errlen, "fd %d from %s: unsupported address", fd,
		    origin);
		free(l);
		return -1;
	}
	if (ss.ss_family == AF_INET6 &&
	    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &olen) == -1)
		v6only = 0;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	l->fd = fd;
	l->v6only = v6only;
	l->backlog = -1; /* unknown: the section's backlog is applied */
	l->mode = -1;
	l->unlink_path = own_path && ss.ss_family == AF_UNIX;
	l->own_path = l->unlink_path;
	snprintf(l->hint, sizeof(l->hint), "%s", name);
	l->origin = origin;
	l->next = *list;
	*list = l;
	return 0;
}

void
listener_drop_unused(struct listener **list)
{
	struct listener **pp, *l;

	pp = list;
	while ((l = *pp) != NULL) {
		if (l->refs > 0) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		log_warnx("listener %s (fd %d) from %s matches no [listen] "
		          "section: closed",
		    l->addr.text, l->fd, l->origin);
		/* The path may still be in use by whoever passed it. */
		l->unlink_path = 0;
		listener_close(l);
	}
}

void
listener_release(struct listener **list, struct listener **set, size_t n)
{
	struct listener **pp, *l;
	size_t i;

	for (i = 0; i < n; i++)
		set[i]->refs--;
	free(set);
	pp = list;
	while ((l = *pp) != NULL) {
		if (l->refs > 0) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		log_info(
		    "listener %s: closed, no longer configured", l->addr.text);
		listener_close(l);
	}
}

void
listener_close_all(struct listener **list)
{
	struct listener *l;

	while ((l = *list) != NULL) {
		*list = l->next;
		log_info("listener %s: closed", l->addr.text);
		listener_close(l);
	}
}

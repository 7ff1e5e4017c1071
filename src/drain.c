/* drain.c: intercept_accept: hold a retiring worker's accept() until idle. */
/*
 * Owns the held accept() calls, the stop-and-continue of the worker's
 * group, the count of the connections it holds and the end of the drain.
 * Takes a pid, a notify fd and the listeners, answers through seccomp.c,
 * and reports the end through its owner's callback; must not know workers,
 * generations or the master, and decides nothing about the worker's stop:
 * the owner sends the stop signal and bounds the drain.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drain.h"
#include "listener.h"
#include "log.h"
#include "parse.h"
#include "seccomp.h"

/* How often the drain looks: at the stopped threads, at the connections. */
#define DRAIN_STOP_POLL_S 0.002
#define DRAIN_STOP_WAIT_S 0.5
#define DRAIN_CONN_POLL_S 0.02

static void drain_cb(struct ev_loop *loop, ev_timer *t, int revents);

void
drain_init(struct drain *d)
{
	d->state = DRAIN_OFF;
	d->started_at = 0;
	d->conns_at_start = -1;
	d->conns_last = -1;
	d->nheld = 0;
	d->stopped = 0;
	d->conns_err_logged = 0;
	ev_init(&d->timer, drain_cb);
	d->timer.data = d;
}

int
drain_active(const struct drain *d)
{
	return d->state != DRAIN_OFF;
}

/*
 * Keeps an accept() unanswered: its thread waits (killably, where the kernel
 * has WAIT_KILLABLE_RECV) until drain_end. Returns -1 when the list is full
 * even after dropping the ids a signal withdrew.
 */
static int
drain_hold(struct drain *d, uint64_t id)
{
	size_t i, k;

	if (d->nheld == DRAIN_HELD_MAX) {
		for (i = k = 0; i < d->nheld; i++)
			if (seccomp_id_valid(d->nfd, d->held[i]))
				d->held[k++] = d->held[i];
		d->nheld = k;
	}
	if (d->nheld == DRAIN_HELD_MAX)
		return -1;
	d->held[d->nheld++] = id;
	return 0;
}

void
drain_accept(struct drain *d, uint64_t id)
{
	if (d->state == DRAIN_HOLDING && drain_hold(d, id) == 0)
		return;
	(void)seccomp_respond(d->nfd, id, -EAGAIN, 0, d->label);
}

/* Is the socket fd a connection accepted from one of ls? */
static int
drain_accepted_from(int fd, struct listener *const *ls, size_t n)
{
	struct sockaddr_storage a, b;
	socklen_t la, lb;
	int v, t, lt;
	size_t i;

	la = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &la) == -1 || v)
		return 0;
	la = sizeof(t);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &la) == -1)
		return 0;
	la = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &la) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		int lfd = ls[i]->fd;

		lb = sizeof(lt);
		if (getsockopt(lfd, SOL_SOCKET, SO_TYPE, &lt, &lb) == -1 ||
		    lt != t)
			continue;
		lb = sizeof(b);
		if (getsockname(lfd, (struct sockaddr *)&b, &lb) == -1 ||
		    a.ss_family != b.ss_family)
			continue;
		switch (a.ss_family) {
		case AF_INET:
			if (((struct sockaddr_in *)&a)->sin_port ==
			    ((struct sockaddr_in *)&b)->sin_port)
				return 1;
			break;
		case AF_INET6:
			if (((struct sockaddr_in6 *)&a)->sin6_port ==
			    ((struct sockaddr_in6 *)&b)->sin6_port)
				return 1;
			break;
		case AF_UNIX:
			/* An accepted socket bears its listener's name. */
			if (la == lb &&
			    la > offsetof(struct sockaddr_un, sun_path) &&
			    memcmp(&a, &b, la) == 0)
				return 1;
			break;
		}
	}
	return 0;
}

int
drain_connections(pid_t pid, struct listener *const *ls, size_t nls)
{
	char path[64], link[64], why[64];
	struct dirent *e;
	int pidfd, fd, dup, n = 0, saved = 0;
	long long num;
	ssize_t len;
	DIR *d;

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL) {
		saved = errno;
		close(pidfd);
		errno = saved;
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "socket:[", 8) != 0)
			continue;
		if (parse_int(e->d_name, 0, INT_MAX, &num, why, sizeof(why)) ==
		    -1)
			continue;
		fd = (int)num;
		if ((dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0)) == -1) {
			/* EBADF: closed since readdir. Else we may not look. */
			if (errno == EBADF)
				continue;
			saved = errno;
			n = -1;
			break;
		}
		if (drain_accepted_from(dup, ls, nls))
			n++;
		close(dup);
	}
	closedir(d);
	close(pidfd);
	if (n == -1)
		errno = saved;
	return n;
}

/* Are all the worker's threads stopped (or gone)? */
static int
drain_all_stopped(pid_t pid)
{
	char path[96], buf[512], *p;
	struct dirent *e;
	int all = 1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 1;
	while (all && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat",
		    (int)pid, e->d_name);
		if (seccomp_read_proc(path, buf, sizeof(buf)) == -1 ||
		    (p = strrchr(buf, ')')) == NULL || p[1] == '\0')
			continue;
		/* "pid (comm) S ...": the state follows the last ')'. */
		switch (p[2]) {
		case 'T':
		case 't':
		case 'Z':
		case 'X':
			break;
		default:
			all = 0;
		}
	}
	closedir(d);
	return all;
}

static void
drain_look(struct drain *d)
{
	int n;

	if ((n = drain_connections(d->pid, d->listeners, d->nlisteners)) ==
	    -1) {
		if (!d->conns_err_logged) {
			d->conns_err_logged = 1;
			log_warn("%s: cannot look at the connections it holds; "
			         "stopping it now",
			    d->label);
		}
		d->drained(d, d->owner);
		return;
	}
	if (d->conns_at_start == -1)
		d->conns_at_start = n;
	d->conns_last = n;
	if (n == 0)
		d->drained(d, d->owner);
}

static void
drain_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct drain *d = t->data;

	(void)revents;
	if (d->stopped) {
		if (!drain_all_stopped(d->pid) &&
		    ev_now(loop) - d->started_at < DRAIN_STOP_WAIT_S)
			return;
		/* Every accept() the kernel was running has now restarted. */
		d->stopped = 0;
		(void)kill(-d->pid, SIGCONT);
		ev_timer_stop(loop, t);
		ev_timer_set(t, DRAIN_CONN_POLL_S, DRAIN_CONN_POLL_S);
		ev_timer_start(loop, t);
	}
	drain_look(d);
}

void
drain_start(struct drain *d)
{
	d->state = DRAIN_HOLDING;
	d->started_at = ev_now(d->loop);
	d->conns_at_start = -1;
	d->conns_last = -1;
	/*
	 * An accept() let through while the worker served may be asleep in
	 * the kernel, where it would take the next connection: a stop pulls
	 * every thread out of it (the call restarts on SIGCONT, through the
	 * filter, and is held). The app sees at most an EINTR, as after any
	 * SIGSTOP/SIGCONT.
	 */
	if (kill(-d->pid, SIGSTOP) == 0)
		d->stopped = 1;
	ev_timer_set(&d->timer, DRAIN_STOP_POLL_S, DRAIN_STOP_POLL_S);
	ev_timer_start(d->loop, &d->timer);
}

void
drain_end(struct drain *d)
{
	size_t i;

	d->state = DRAIN_REFUSING;
	ev_timer_stop(d->loop, &d->timer);
	if (d->stopped) {
		d->stopped = 0;
		(void)kill(-d->pid, SIGCONT);
	}
	/* EINTR: the stop signal is pending, the app meets it right there. */
	for (i = 0; i < d->nheld; i++)
		(void)seccomp_respond(d->nfd, d->held[i], -EINTR, 0, d->label);
	d->nheld = 0;
}

/* intercept.c: intercept_bind: a worker's bind() gets the master's socket. */
/*
 * A worker runs under a seccomp filter (seccomp.c) that sends bind(),
 * listen() and shutdown() to the master as user notifications. A bind() to
 * a configured address gets the master's listening socket installed in
 * place of the caller's (SECCOMP_IOCTL_NOTIF_ADDFD with SETFD) and
 * succeeds; a listen() or shutdown() on such a socket succeeds without
 * touching it; everything else goes on to the kernel
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE). accept() notifications
 * (intercept_accept) are the drain's (drain.c). The master is
 * single-threaded and must never block or crash on what a worker does:
 * every doubt ends in CONTINUE, which is what would have happened without
 * baton. Owns the notifier's watcher and the per-worker bind state; takes
 * everything else from its owner and reports through its callbacks: must
 * not include master.h, generation.h, worker.h or readiness.h.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "drain.h"
#include "intercept.h"
#include "listener.h"
#include "log.h"
#include "seccomp.h"

/* Notifications handled per wakeup, so one busy worker cannot starve. */
#define INTERCEPT_BATCH 32
/* At most one line per worker this often about withdrawn receives. */
#define INTERCEPT_RECV_LOG_S 5.0

unsigned
intercept_wanted(const struct config *cfg)
{
	return (cfg->intercept_bind ? INTERCEPT_BIND : 0) |
	       (cfg->intercept_accept ? INTERCEPT_ACCEPT : 0);
}

/* ---- pure helpers ---- */

int
intercept_match(
    struct listener *const *ls, size_t n, const void *sa, size_t len)
{
	struct sockaddr_storage ss;
	struct address a;
	size_t i;

	if (len > sizeof(ss))
		return -1;
	/* Copied: the caller's bytes need not be aligned for sockaddr. */
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len);
	/* The kernel also takes RFC 2133's IPv6 sockaddr, without scope id. */
	if (ss.ss_family == AF_INET6 && len >= 24 &&
	    len < sizeof(struct sockaddr_in6))
		len = sizeof(struct sockaddr_in6);
	if (address_from_sockaddr((struct sockaddr *)&ss, (socklen_t)len, &a) ==
	    -1)
		return -1;
	if (a.ss.ss_family != AF_UNIX && address_port(&a) == 0)
		return -1;
	for (i = 0; i < n; i++)
		if (ls[i] != NULL && address_equal(&ls[i]->addr, &a))
			return (int)i;
	return -1;
}

/* ---- the notifications ---- */

static const char *
intercept_listener_name(const struct intercept *ic, int i)
{
	return ic->cfg->listeners[i].name;
}

/*
 * Still the same pending call? Anything read about the caller is only
 * trustworthy if so: its tid could otherwise be someone else's by now.
 */
static int
intercept_valid(struct intercept *ic, const struct seccomp_call *c)
{
	if (seccomp_id_valid(ic->fd, c->id))
		return 1;
	ic->withdrawn++;
	log_debug("%s: notification from tid %d withdrawn before it was "
	          "answered: the call restarts",
	    ic->label, (int)c->tid);
	return 0;
}

/*
 * How many of this master's live intercepted workers installed l wanting
 * it non-blocking (or blocking): kept in struct listener, the one thing
 * the workers of every generation share, by intercept_record and
 * intercept_stop, so that no one walks the master's tables.
 */
static int *
intercept_count(struct listener *l, int nonblock)
{
	return nonblock ? &l->intercept_nonblock : &l->intercept_blocking;
}

/* Same socket domain, type and protocol as the listener's? */
static int
intercept_compatible(int fd, const struct listener *l)
{
	static const int opts[] = {SO_DOMAIN, SO_TYPE, SO_PROTOCOL};
	int a, b;
	socklen_t la, lb;
	size_t k;

	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		la = lb = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, opts[k], &a, &la) == -1 ||
		    getsockopt(l->fd, SOL_SOCKET, opts[k], &b, &lb) == -1 ||
		    a != b)
			return 0;
	}
	return 1;
}

/*
 * O_NONBLOCK lives in the open file description every worker shares: the
 * caller's choice becomes everyone's. Say so once per worker when another
 * live worker installed the same socket wanting the other.
 */
static void
intercept_set_nonblock(struct intercept *ic, int i, int want)
{
	struct listener *l = ic->listeners[i];
	uint64_t bit = 1ULL << i;
	int fl, others;

	if ((fl = fcntl(l->fd, F_GETFL)) == -1)
		return;
	if (!!(fl & O_NONBLOCK) == want)
		return;
	if (fcntl(l->fd, F_SETFL, want ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) ==
	    -1) {
		log_warn("[listen %s]: setting O_NONBLOCK",
		    intercept_listener_name(ic, i));
		return;
	}
	if (ic->nonblock_logged)
		return;
	/* This worker's own earlier bind() of it does not count. */
	others = *intercept_count(l, !want);
	if ((ic->bound & bit) && !!(ic->nonblock & bit) == !want)
		others--;
	if (others <= 0)
		return;
	log_warnx("%s: [listen %s]: wants the socket %s, %d other worker%s "
	          "wanted it %s: O_NONBLOCK is shared by every worker, it is "
	          "now %s",
	    ic->label, intercept_listener_name(ic, i),
	    want ? "non-blocking" : "blocking", others, others == 1 ? "" : "s",
	    want ? "blocking" : "non-blocking",
	    want ? "non-blocking" : "blocking");
	ic->nonblock_logged = 1;
}

/* Listener i is installed, wanted non-blocking or not: count it. */
static void
intercept_record(struct intercept *ic, int i, int nonblock)
{
	struct listener *l = ic->listeners[i];
	uint64_t bit = 1ULL << i;

	if (ic->bound & bit)
		(*intercept_count(l, (ic->nonblock & bit) != 0))--;
	(*intercept_count(l, nonblock))++;
	if (nonblock)
		ic->nonblock |= bit;
	else
		ic->nonblock &= ~bit;
	ic->bound |= bit;
}

/* Install listener i at the caller's fd; 0, or -1 when answered else. */
static int
intercept_install(struct intercept *ic, struct seccomp_call *c, int i)
{
	struct listener *l = ic->listeners[i];
	int rc = 0, tries;

	intercept_set_nonblock(ic, i, (c->fdflags & O_NONBLOCK) != 0);
	/* EINTR: our guard; the caller may be slow to run, not gone. */
	for (tries = 0; tries < 3; tries++) {
		rc = seccomp_addfd(c, l->fd, (c->fdflags & O_CLOEXEC) != 0);
		if (rc == 0 || errno != EINTR || !intercept_valid(ic, c))
			break;
	}
	if (rc == 0)
		return 0;
	if (errno == ENOENT) {
		ic->withdrawn++;
		return -1;
	}
	if (!intercept_valid(ic, c))
		return -1;
	log_warn("%s: bind(fd %d, %s): installing [listen %s]", ic->label,
	    c->callfd, l->addr.text, intercept_listener_name(ic, i));
	/* The kernel's bind() fails, visibly, as without us. */
	seccomp_continue(c);
	return -1;
}

static void
intercept_bind(struct intercept *ic, struct seccomp_call *c)
{
	unsigned char sa[sizeof(struct sockaddr_storage)];
	size_t len = (size_t)(uint32_t)c->args[2];
	struct listener *l;
	pid_t tgid;
	int i, nonblock, first;
	char by[48];

	if (len < sizeof(sa_family_t) || len > sizeof(sa) || c->args[1] == 0) {
		seccomp_continue(c);
		return;
	}
	if (seccomp_read_mem(c, sa, c->args[1], len) == -1) {
		/* EFAULT is the caller's to get from the kernel itself. */
		if (errno != EFAULT && errno != ESRCH)
			log_debug("%s: process_vm_readv %d: %s", ic->label,
			    (int)c->tid, strerror(errno));
		seccomp_continue(c);
		return;
	}
	/*
	 * Not ours (port 0, another address): a stale id only makes CONTINUE
	 * fail, so this path skips the NOTIF_ID_VALID round trip.
	 */
	i = intercept_match(ic->listeners, ic->nlisteners, sa, len);
	if (i == -1) {
		seccomp_continue(c);
		return;
	}
	l = ic->listeners[i];
	if (seccomp_peek(c, 1) == -1 || !intercept_compatible(c->dupfd, l)) {
		/* A UDP bind, say: the kernel will refuse it or not. */
		seccomp_continue(c);
		return;
	}
	/* For the log line: read while the tid is surely the caller's. */
	tgid = seccomp_tgid(c->tid);
	if (!intercept_valid(ic, c))
		return;
	nonblock = (c->fdflags & O_NONBLOCK) != 0;
	if (seccomp_listener_of(c->dupfd, ic->listeners, ic->nlisteners) == i) {
		/* Restarted after we installed it: nothing left to do. */
		log_debug("%s: bind(fd %d) again on the installed [listen %s]: "
		          "answered again",
		    ic->label, c->callfd, intercept_listener_name(ic, i));
	} else if (intercept_install(ic, c, i) == -1) {
		return;
	}
	if (seccomp_respond(ic->fd, c->id, 0, 0, ic->label) == -1)
		return;
	first = !(ic->bound & (1ULL << i));
	intercept_record(ic, i, nonblock);
	if (!first)
		return;
	by[0] = '\0';
	if (tgid != -1 && tgid != ic->pid)
		snprintf(by, sizeof(by), " (by pid %d)", (int)tgid);
	log_info("%s: bind(fd %d, %s) intercepted: installed [listen %s]%s",
	    ic->label, c->callfd, l->addr.text, intercept_listener_name(ic, i),
	    by);
}

/* listen() and shutdown(): answered 0 when on an installed socket. */
static void
intercept_on_socket(struct intercept *ic, struct seccomp_call *c)
{
	int i;

	if (seccomp_peek(c, 0) == -1 ||
	    (i = seccomp_listener_of(
	         c->dupfd, ic->listeners, ic->nlisteners)) == -1) {
		seccomp_continue(c);
		return;
	}
	if (!intercept_valid(ic, c))
		return;
	/*
	 * listen() would set the backlog of the shared socket to whatever
	 * this app asks (Python asks 5); shutdown() would stop it for every
	 * worker of every generation.
	 */
	if (seccomp_respond(ic->fd, c->id, 0, 0, ic->label) == -1)
		return;
	if (c->kind == SECCOMP_CALL_LISTEN) {
		ic->listening |= 1ULL << i;
		/* ready = listen: every socket the worker bound listens. */
		if (ic->bound != 0 && (ic->bound & ~ic->listening) == 0)
			ic->listened(ic, ic->owner);
	} else if (!ic->shutdown_logged) {
		ic->shutdown_logged = 1;
		log_info("%s: shutdown(fd %d) on [listen %s] answered without "
		         "touching the shared socket",
		    ic->label, c->callfd, intercept_listener_name(ic, i));
	}
}

/*
 * accept() and accept4(), trapped only with intercept_accept: a serving
 * worker's go on at once (one round trip); a draining or stopping worker's
 * on one of its listeners are the drain's to hold or refuse, so that it
 * takes no connection it would drop.
 */
static void
intercept_on_accept(struct intercept *ic, struct seccomp_call *c)
{
	if (!drain_active(&ic->drain) || seccomp_peek(c, 0) == -1 ||
	    seccomp_listener_of(c->dupfd, ic->listeners, ic->nlisteners) ==
	        -1) {
		seccomp_continue(c);
		return;
	}
	if (intercept_valid(ic, c))
		drain_accept(&ic->drain, c->id);
}

/* A system call of another ABI: fail closed, loudly. */
static void
intercept_foreign(struct intercept *ic, struct seccomp_call *c)
{
	if (!ic->foreign_logged) {
		ic->foreign_logged = 1;
		log_warnx("%s: thread %d made a system call of another ABI "
		          "(audit arch 0x%x, number %d): intercept_bind only "
		          "supports %s programs; killing it",
		    ic->label, (int)c->tid, (unsigned)c->arch, c->nr,
		    seccomp_arch_name());
	}
	/* Only while the call is pending is c->tid surely the caller. */
	if (c->tid > 0 && intercept_valid(ic, c))
		(void)kill(c->tid, SIGKILL);
	(void)seccomp_respond(ic->fd, c->id, -ENOSYS, 0, ic->label);
}

static void
intercept_dispatch(struct intercept *ic, struct seccomp_call *c)
{
	if (c->kind == SECCOMP_CALL_FOREIGN) {
		intercept_foreign(ic, c);
		return;
	}
	if (c->tid <= 0) {
		/* Not in our pid namespace: nothing can be looked at. */
		seccomp_continue(c);
		return;
	}
	switch (c->kind) {
	case SECCOMP_CALL_BIND:
		intercept_bind(ic, c);
		break;
	case SECCOMP_CALL_LISTEN:
	case SECCOMP_CALL_SHUTDOWN:
		intercept_on_socket(ic, c);
		break;
	case SECCOMP_CALL_ACCEPT:
		intercept_on_accept(ic, c);
		break;
	default:
		seccomp_continue(c);
		break;
	}
}

/*
 * A receive found nothing: the notification poll() announced was withdrawn
 * by a signal to its caller (ENOENT), or went before our guard fired
 * (EINTR). Harmless, the call restarts; counted, and said at most once per
 * INTERCEPT_RECV_LOG_S per worker.
 */
static void
intercept_recv_withdrawn(struct intercept *ic, int e)
{
	ev_tstamp now = ev_now(ic->loop);

	ic->withdrawn++;
	ic->recv_failed++;
	if (ic->recv_logged_at != 0 &&
	    now - ic->recv_logged_at < INTERCEPT_RECV_LOG_S)
		return;
	log_info("%s: %u seccomp notification%s withdrawn before %s received "
	         "(last: %s): the calls restart",
	    ic->label, ic->recv_failed, ic->recv_failed == 1 ? "" : "s",
	    ic->recv_failed == 1 ? "it was" : "they were",
	    e == ENOENT ? "ENOENT" : "EINTR");
	ic->recv_failed = 0;
	ic->recv_logged_at = now;
}

/* Receives and handles one notification; -1 when there is none to take. */
static int
intercept_recv_one(struct intercept *ic)
{
	struct seccomp_call c;
	int e;

	if (seccomp_recv(ic->fd, &c) == -1) {
		if (errno == ENOENT || errno == EINTR) {
			e = errno;
			intercept_recv_withdrawn(ic, e);
			/* EINTR: the guard waited once already, stop here. */
			return e == ENOENT ? 0 : -1;
		}
		/*
		 * Would fail again at every wakeup of a level-triggered
		 * watcher. Closing the notifier fails the worker's pending
		 * and future calls with ENOSYS: visible, not a hang.
		 */
		log_warn("%s: receiving a seccomp notification; no more bind "
		         "interception for it",
		    ic->label);
		intercept_stop(ic);
		return -1;
	}
	c.label = ic->label;
	intercept_dispatch(ic, &c);
	seccomp_call_done(&c);
	return 0;
}

static void
intercept_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct intercept *ic = io->data;
	struct pollfd p;
	int n;

	(void)revents;
	for (n = 0; n < INTERCEPT_BATCH; n++) {
		p.fd = ic->fd;
		p.events = POLLIN;
		p.revents = 0;
		/* RECV blocks when nothing is pending: always look first. */
		if (poll(&p, 1, 0) != 1)
			return;
		if (p.revents & POLLIN) {
			if (intercept_recv_one(ic) == -1)
				return;
			continue;
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* No process is left under the filter: exit follows. */
			ev_io_stop(loop, io);
		}
		return;
	}
}

/* ---- the owner's calls ---- */

/* The drain's end, passed on to the owner. */
static void
intercept_drained_cb(struct drain *d, void *owner)
{
	struct intercept *ic = owner;

	(void)d;
	ic->drained(ic, ic->owner);
}

void
intercept_start(struct intercept *ic, int fd)
{
	intercept_stop(ic);
	ic->fd = fd;
	ic->bound = ic->listening = ic->nonblock = 0;
	ic->nonblock_logged = ic->shutdown_logged = ic->foreign_logged = 0;
	ic->withdrawn = ic->recv_failed = 0;
	ic->recv_logged_at = 0;
	ic->drain.loop = ic->loop;
	ic->drain.pid = ic->pid;
	ic->drain.nfd = fd;
	ic->drain.listeners = ic->listeners;
	ic->drain.nlisteners = ic->nlisteners;
	ic->drain.label = ic->label;
	ic->drain.drained = intercept_drained_cb;
	ic->drain.owner = ic;
	drain_init(&ic->drain);
	ev_io_init(&ic->io, intercept_io_cb, fd, EV_READ);
	ic->io.data = ic;
	ev_io_start(ic->loop, &ic->io);
}

void
intercept_stop(struct intercept *ic)
{
	uint64_t bit;
	size_t i;

	if (ic->fd == -1)
		return;
	drain_end(&ic->drain);
	ev_io_stop(ic->loop, &ic->io);
	close(ic->fd);
	ic->fd = -1;
	/* No longer a live worker holding these sockets (O_NONBLOCK). */
	for (i = 0; i < ic->nlisteners; i++) {
		bit = 1ULL << i;
		if (ic->bound & bit)
			(*intercept_count(
			    ic->listeners[i], (ic->nonblock & bit) != 0))--;
	}
	ic->bound = 0;
	if (ic->withdrawn > 0)
		log_debug("%s: %u notifications were withdrawn by signals and "
		          "restarted",
		    ic->label, ic->withdrawn);
}

void
intercept_drain_start(struct intercept *ic)
{
	if (ic->fd != -1)
		drain_start(&ic->drain);
}

void
intercept_drain_end(struct intercept *ic)
{
	if (ic->fd != -1)
		drain_end(&ic->drain);
}

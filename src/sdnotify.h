/* sdnotify.h: systemd without libsystemd: notify, fd store, socket activation.
 */
#ifndef BATON_SDNOTIFY_H
#define BATON_SDNOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>

/* The master's channel to systemd's NOTIFY_SOCKET (not the workers'). */
struct sdnotify {
	int fd; /* -1 when not under systemd */
	struct sockaddr_un addr;
	socklen_t len;
};

/*
 * Open a channel to $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace). Returns 1 when opened, 0 when NOTIFY_SOCKET is unset (sd->fd
 * is then -1 and every send is a no-op), -1 with a reason in err. The
 * variable stays in the environment: a master started by USR2 needs it, and
 * childenv never passes it to workers.
 */
int sdnotify_open(struct sdnotify *sd, char *err, size_t errlen);

void sdnotify_close(struct sdnotify *sd);

/*
 * Send one datagram, printf-formatted, e.g. "READY=1\nSTATUS=%s". Returns 0,
 * or -1 (errno set); a no-op returning 0 when not under systemd.
 */
int sdnotify_send(struct sdnotify *sd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "RELOADING=1\nMONOTONIC_USEC=<now>" with CLOCK_MONOTONIC, as systemd
 * expects for Type=notify-reload. */
int sdnotify_reloading(struct sdnotify *sd);

/* Hand fd to systemd's fd store: "FDSTORE=1\nFDNAME=name" + SCM_RIGHTS. */
int sdnotify_store_fd(struct sdnotify *sd, int fd, const char *name);

/* Drop name from the fd store: "FDSTOREREMOVE=1\nFDNAME=name". */
int sdnotify_remove_fd(struct sdnotify *sd, const char *name);

/* One socket passed by socket activation (or the fd store). */
struct sdnotify_fd {
	int fd;
	char name[256]; /* from LISTEN_FDNAMES, "" when none */
};

/*
 * Socket activation: when LISTEN_PID is our pid, take LISTEN_FDS fds from 3
 * with their LISTEN_FDNAMES, mark them close-on-exec, and unset the three
 * variables (so they never reach a worker or a re-exec'd master). Returns
 * the count (0 when not activated) and a malloc'd array in *fds, or -1 with
 * a reason in err (malformed variables, an fd that is not a socket).
 */
int sdnotify_listen_fds(struct sdnotify_fd **fds, char *err, size_t errlen);

#endif

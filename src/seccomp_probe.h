/* seccomp_probe.h: does this kernel have what bind interception needs? */
/*
 * Owns the probe and its remembered answer. The probe forks and waits, so
 * it runs once before the event loop (at start, at -t) and every later
 * question (a reload turning interception on) gets the remembered answer:
 * a child reaped by the master's SIGCHLD watcher would be lost to it.
 */
#ifndef BATON_SECCOMP_PROBE_H
#define BATON_SECCOMP_PROBE_H

#include <stddef.h>

/*
 * Does this kernel have what bind interception needs (seccomp user
 * notification, SECCOMP_USER_NOTIF_FLAG_CONTINUE, pidfd_getfd,
 * SECCOMP_IOCTL_NOTIF_ADDFD with SETFD: Linux 5.9), is the architecture
 * supported (x86_64, aarch64), and may this process read a worker's memory
 * and descriptors (ptrace rules)? Probed in a short-lived child that this
 * call forks and waits for: call it only while no SIGCHLD watcher exists.
 * The answer is remembered (seccomp_probe_result). Returns 0, or -1 with a
 * message naming the missing feature and the kernel version it needs.
 */
int seccomp_probe(char *err, size_t errlen);

/*
 * The answer of the last seccomp_probe, with its message; -1 when there
 * was none. Never forks: what the event loop asks (a reload).
 */
int seccomp_probe_result(char *err, size_t errlen);

#endif

/* main.c: command line: run the master, check a config (-t), signal it (-s). */
/*
 * Owns the options, the checks that must pass before a master starts (the
 * file, users and groups, the control path, the kernel's seccomp), and
 * `baton -s`. Until the loop runs it may exit; after that only the master
 * decides.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "config.h"
#include "control_server.h"
#include "credentials.h"
#include "intercept.h"
#include "log.h"
#include "master.h"
#include "pidfile.h"
#include "seccomp_probe.h"
#include "signals.h"

#ifndef BATON_VERSION
#define BATON_VERSION "0.1.0"
#endif
#define BATON_DEFAULT_CONFIG "/etc/baton/baton.ini"
/* -n: the master answers a reload it need not wait for at once. */
#define MAIN_CONTROL_TIMEOUT_S 10.0

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: baton [-dhntV] [-c file] [-s signal]\n"
	    "  -c file    configuration file (default " BATON_DEFAULT_CONFIG
	    ")\n"
	    "  -t         check the configuration and exit\n"
	    "  -s signal  send a signal to the running master: reload, "
	    "upgrade,\n"
	    "             retire, quit, stop, reopen, more, fewer; with "
	    "`control`,\n"
	    "             reload waits for the outcome (exit 1: rejected or "
	    "rolled back)\n"
	    "  -n         with -s reload: do not wait for the outcome\n"
	    "  -d         log debug messages\n"
	    "  -V         print the version and exit\n"
	    "  -h         this help\n");
}

/*
 * The absolute path of our binary as started, for USR2 to exec the file
 * that is there *then* (a package upgrade replaces it). Not /proc/self/exe:
 * that names the old, possibly deleted, file. NULL if it cannot be found.
 */
static char *
main_exe_path(const char *argv0)
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];

	if (strchr(argv0, '/') != NULL)
		return realpath(argv0, NULL);
	for (p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p != '\0';
	     p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), p, argv0);
		if (access(buf, X_OK) == 0)
			return realpath(buf, NULL);
	}
	return NULL;
}

/*
 * Started with 0, 1 or 2 closed, the first descriptor we open would take
 * its place: the event loop's fd would become fd 2 and every log line
 * would be written into it. /dev/null fills the gap before anything opens.
 */
static void
main_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR) == -1)
			_exit(1);
}

/*
 * `baton -s reload` with `control` set: the reload as batonctl(8) asks for
 * it, so that a deploy (systemctl reload, a script) learns its outcome
 * instead of a signal's "sent". Exit codes are batonctl's: 0 the new
 * generation is active (or, with nowait, the reload was accepted), 1
 * rejected or rolled back with the reason exactly as the master logged
 * it, 2 the master could not be reached or refused us.
 */
static int
main_signal_control(const struct config *cfg, const char *command, int nowait)
{
	struct control_request req = {.cmd = CONTROL_RELOAD, .wait = !nowait};
	char err[CONFIG_ERR_MAX];
	const char *why;
	json_t *ans;
	int fd, rc;

	if ((fd = control_connect(cfg->control, err, sizeof(err))) == -1) {
		fprintf(stderr, "baton: -s %s: %s\n", command, err);
		return 2;
	}
	/*
	 * No limit of our own: the master answers within ready_timeout of
	 * the generation it starts, and whoever runs us (systemd's reload
	 * timeout, a deploy's) bounds the rest.
	 */
	ans = control_call(
	    fd, &req, nowait ? MAIN_CONTROL_TIMEOUT_S : 0, err, sizeof(err));
	close(fd);
	if (ans == NULL) {
		fprintf(stderr, "baton: -s %s: %s: %s\n", command, cfg->control,
		    err);
		return 2;
	}
	if (json_is_true(json_object_get(ans, "ok"))) {
		if (nowait)
			printf("baton: -s %s: requested\n", command);
		else
			printf("baton: -s %s: generation %" JSON_INTEGER_FORMAT
			       " is active\n",
			    command,
			    json_integer_value(
			        json_object_get(ans, "generation")));
		rc = 0;
	} else {
		why = json_string_value(json_object_get(ans, "error"));
		fprintf(stderr, "baton: -s %s: %s\n", command,
		    why != NULL ? why : "failed");
		/* Refused (permission, busy): as unreachable as no socket. */
		rc = json_is_true(json_object_get(ans, "refused")) ? 2 : 1;
	}
	json_decref(ans);
	return rc;
}

static int
main_signal(const struct config *cfg, const char *command, int nowait)
{
	char err[CONFIG_ERR_MAX];
	int sig;
	pid_t pid;

	if ((sig = signals_for_command(command)) == -1) {
		fprintf(stderr,
		    "baton: -s %s: unknown signal (use reload, upgrade, "
		    "retire, quit, stop, reopen, more or fewer)\n",
		    command);
		return 1;
	}
	if (nowait && sig != SIGHUP) {
		fprintf(stderr, "baton: -n goes with -s reload only\n");
		return 1;
	}
	if (sig == SIGHUP && cfg->control != NULL)
		return main_signal_control(cfg, command, nowait);
	if (cfg->pidfile == NULL) {
		fprintf(stderr, "baton: -s %s: %s sets no pidfile\n", command,
		    cfg->path);
		return 1;
	}
	if ((pid = pidfile_read(cfg->pidfile, err, sizeof(err))) == -1) {
		fprintf(stderr, "baton: -s %s: %s\n", command, err);
		return 1;
	}
	if (kill(pid, sig) == -1) {
		fprintf(stderr, "baton: -s %s: kill %d: %s\n", command,
		    (int)pid, strerror(errno));
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *path = BATON_DEFAULT_CONFIG, *command = NULL;
	char err[CONFIG_ERR_MAX];
	struct credentials cred;
	struct config *cfg;
	gid_t cgid;
	struct master m;
	char *exe;
	sigset_t none;
	int ch, test = 0, nowait = 0, rc, probe;

	main_std_fds();
	while ((ch = getopt(argc, argv, "c:dhns:tV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'n':
			nowait = 1;
			break;
		case 's':
			command = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("baton %s\n", BATON_VERSION);
			return 0;
		default:
			main_usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return 1;
	}
	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "baton: %s\n", err);
		return 1;
	}
	/* The names must exist even where the master will not switch. */
	if (credentials_of_config(cfg, &cred, err, sizeof(err)) == -1) {
		fprintf(stderr, "baton: %s\n", err);
		config_free(cfg);
		return 1;
	}
	credentials_free(&cred);
	/*
	 * The kernel's side is checked here, not in config.c: it is no file
	 * error, but -t must catch it before a deploy does. Signalling (-s)
	 * needs no seccomp. The start probes even when nothing is intercepted
	 * yet: a reload that turns it on gets this answer, as the probe forks
	 * and must not run under the loop's SIGCHLD watcher.
	 */
	probe = test ? intercept_wanted(cfg) != 0 : command == NULL;
	if (probe && seccomp_probe(err, sizeof(err)) == -1 &&
	    intercept_wanted(cfg) != 0) {
		fprintf(stderr, "baton: %s: %s: %s\n", path,
		    cfg->intercept_bind ? "intercept_bind" : "intercept_accept",
		    err);
		config_free(cfg);
		return 1;
	}
	/* What is at the control path decides whether the master can start. */
	if (cfg->control != NULL &&
	    control_server_check_path(cfg->control, err, sizeof(err)) == -1) {
		fprintf(stderr, "baton: %s: %s\n", path, err);
		config_free(cfg);
		return 1;
	}
	if (credentials_control_gid(cfg, &cgid, err, sizeof(err)) == -1) {
		fprintf(stderr, "baton: %s\n", err);
		config_free(cfg);
		return 1;
	}
	if (test) {
		fprintf(stderr, "baton: %s: configuration is valid\n", path);
		config_free(cfg);
		return 0;
	}
	if (command != NULL) {
		rc = main_signal(cfg, command, nowait);
		config_free(cfg);
		return rc;
	}
	/*
	 * Whoever started us may have blocked signals, and the mask survives
	 * exec: a blocked HUP would never reach the loop.
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((exe = main_exe_path(argv[0])) == NULL) {
		fprintf(stderr,
		    "baton: cannot find my own binary (%s) for "
		    "upgrades: %s\n",
		    argv[0], strerror(errno));
		config_free(cfg);
		return 1;
	}
	if (master_init(&m, ev_default_loop(EVFLAG_AUTO), path, exe, argv, cfg,
	        err, sizeof(err)) == -1) {
		/* Said where the operator looks: the terminal or journal. */
		if (strcmp(cfg->log, "stderr") != 0)
			fprintf(stderr, "baton: %s\n", err);
		log_warnx("%s", err);
		config_free(cfg);
		free(exe);
		return 1;
	}
	rc = master_run(&m);
	free(exe);
	return rc;
}

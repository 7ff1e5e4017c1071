/* main.c: command line: run the master, check a config (-t), signal it (-s). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "pidfile.h"
#include "signals.h"

#ifndef BATON_VERSION
#define BATON_VERSION "0.1.0"
#endif
#define BATON_DEFAULT_CONFIG "/etc/baton/baton.ini"

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: baton [-dhtV] [-c file] [-s signal]\n"
	    "  -c file    configuration file (default " BATON_DEFAULT_CONFIG
	    ")\n"
	    "  -t         check the configuration and exit\n"
	    "  -s signal  send a signal to the running master: reload, "
	    "upgrade,\n"
	    "             retire, quit, stop, reopen\n"
	    "  -d         log debug messages\n"
	    "  -V         print the version and exit\n"
	    "  -h         this help\n");
}

static int
main_signal(const struct config *cfg, const char *command)
{
	char err[CONFIG_ERR_MAX];
	int sig;
	pid_t pid;

	if ((sig = signals_for_command(command)) == -1) {
		fprintf(stderr,
		    "baton: -s %s: unknown signal (use reload, upgrade, "
		    "retire, quit, stop or reopen)\n",
		    command);
		return 1;
	}
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
	struct config *cfg;
	struct master m;
	int ch, test = 0, rc;

	while ((ch = getopt(argc, argv, "c:dhs:tV")) != -1) {
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
	if (test) {
		fprintf(stderr, "baton: %s: configuration is valid\n", path);
		config_free(cfg);
		return 0;
	}
	if (command != NULL) {
		rc = main_signal(cfg, command);
		config_free(cfg);
		return rc;
	}
	if (master_init(&m, ev_default_loop(EVFLAG_AUTO), path, cfg, err,
		sizeof(err)) == -1) {
		log_warnx("%s", err);
		if (m.cfg != cfg)
			config_free(cfg);
		return 1;
	}
	return master_run(&m);
}

/* batonctl.c: batonctl(8), the command line client of the control socket. */
/*
 * Owns the command line and the human form of the answers; the wire (one
 * JSON line each way) is control.c's client half, the config file is read
 * with config_load only to find `control`. It never signals the master and
 * never touches its files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "control.h"
#include "parse.h"

#ifndef BATON_VERSION
#define BATON_VERSION "0.1.0"
#endif
#define BATONCTL_DEFAULT_CONFIG "/etc/baton/baton.ini"
/* Every command but a waited reload is answered at once. */
#define BATONCTL_TIMEOUT_S 10.0

/* The exit codes of batonctl(8). */
enum batonctl_exit {
	BATONCTL_OK = 0,
	BATONCTL_FAILED = 1, /* rejected, rolled back, refused by the master */
	BATONCTL_USAGE = 2,  /* usage, connection or protocol errors */
};

static void
batonctl_usage(FILE *f)
{
	fprintf(f,
	    "usage: batonctl [-c file | -S socket] command [args]\n"
	    "  -c file    read `control` from this config "
	    "(default " BATONCTL_DEFAULT_CONFIG ")\n"
	    "  -S socket  the control socket's path\n"
	    "  -h, --help, -V, --version\n"
	    "commands:\n"
	    "  status [--json]                  the master, its generations, "
	    "workers, listeners\n"
	    "  reload [--no-wait] [--timeout DUR]\n"
	    "                                   reload; wait for the outcome "
	    "(exit 1: rejected\n"
	    "                                   or rolled back)\n"
	    "  scale N|+N|-N                    workers of the serving "
	    "generation\n"
	    "  retire                           retire the workers, keep the "
	    "master\n"
	    "  reopen                           reopen the log file\n"
	    "  stop [--fast]                    shut down\n"
	    "  metrics                          counters and gauges, "
	    "Prometheus text format\n");
}

static void
batonctl_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (localtime_r(&s, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
}

static void
batonctl_span(double s, char *buf, size_t len)
{
	long t = (long)s;

	if (t >= 86400)
		snprintf(buf, len, "%ldd %ldh %ldmin", t / 86400,
		    t % 86400 / 3600, t % 3600 / 60);
	else if (t >= 3600)
		snprintf(buf, len, "%ldh %ldmin %lds", t / 3600, t % 3600 / 60,
		    t % 60);
	else if (t >= 60)
		snprintf(buf, len, "%ldmin %lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%.3fs", s);
}

static double
batonctl_num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static const char *
batonctl_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

/* The human form, after systemctl status: a headline, then key: value. */
static void
batonctl_print_status(const json_t *st)
{
	const json_t *m = json_object_get(st, "master");
	const json_t *last = json_object_get(st, "last_reload");
	const json_t *k = json_object_get(st, "counters");
	const json_t *g, *w, *l, *ws;
	char t[64], span[64];
	double now = batonctl_num(m, "started") + batonctl_num(m, "uptime_s");
	size_t i, j;

	printf("* baton - master pid %.0f: %s\n", batonctl_num(m, "pid"),
	    batonctl_str(m, "state"));
	printf("     Version: %s\n", batonctl_str(m, "version"));
	printf("      Config: %s\n", batonctl_str(m, "config"));
	batonctl_time(batonctl_num(m, "started"), t, sizeof(t));
	batonctl_span(batonctl_num(m, "uptime_s"), span, sizeof(span));
	printf("      Active: since %s; %s ago\n", t, span);
	if (json_is_integer(json_object_get(m, "upgrade_pid")))
		printf("     Upgrade: new master pid %.0f\n",
		    batonctl_num(m, "upgrade_pid"));
	if (json_is_object(last)) {
		batonctl_time(batonctl_num(last, "started"), t, sizeof(t));
		batonctl_span(
		    now - batonctl_num(last, "started"), span, sizeof(span));
		if (!json_is_boolean(json_object_get(last, "ok")))
			printf(" Last reload: in progress since %s\n", t);
		else if (json_is_true(json_object_get(last, "ok")))
			printf(" Last reload: ok, generation %.0f, took %.3fs, "
			       "%s (%s ago)\n",
			    batonctl_num(last, "generation"),
			    batonctl_num(last, "duration_s"), t, span);
		else
			printf(" Last reload: failed, took %.3fs, %s (%s ago)\n"
			       "              %s\n",
			    batonctl_num(last, "duration_s"), t, span,
			    batonctl_str(last, "reason"));
	} else
		printf(" Last reload: none\n");
	printf("    Counters: reloads %.0f ok, %.0f rejected, %.0f rolled "
	       "back; worker crashes %.0f, respawns %.0f; upgrades %.0f\n",
	    batonctl_num(k, "reloads_ok"), batonctl_num(k, "reloads_rejected"),
	    batonctl_num(k, "reloads_rolled_back"),
	    batonctl_num(k, "worker_crashes"), batonctl_num(k, "respawns"),
	    batonctl_num(k, "upgrades"));
	json_array_foreach(json_object_get(st, "listeners"), i, l)
	{
		printf("%s %s %s, fd %.0f, ",
		    i == 0 ? "   Listeners:" : "            ",
		    batonctl_str(l, "name"), batonctl_str(l, "address"),
		    batonctl_num(l, "fd"));
		if (json_is_integer(json_object_get(l, "queue")))
			printf("queue %.0f/%.0f\n", batonctl_num(l, "queue"),
			    batonctl_num(l, "backlog"));
		else
			printf("backlog %.0f\n", batonctl_num(l, "backlog"));
	}
	json_array_foreach(json_object_get(st, "generations"), i, g)
	{
		batonctl_time(batonctl_num(g, "started"), t, sizeof(t));
		printf("  Generation %.0f: %s%s, %.0f/%.0f ready, since %s\n",
		    batonctl_num(g, "id"), batonctl_str(g, "state"),
		    json_is_true(json_object_get(g, "current")) ? " (serving)"
		    : json_is_true(json_object_get(g, "next"))  ? " (next)"
		                                                : "",
		    batonctl_num(g, "workers_ready"),
		    batonctl_num(g, "workers_total"), t);
		printf("             %s\n", batonctl_str(g, "command"));
		ws = json_object_get(g, "workers");
		json_array_foreach(ws, j, w)
		{
			printf("             %s worker %.0f ",
			    j + 1 == json_array_size(ws) ? "`-" : "|-",
			    batonctl_num(w, "index"));
			if (json_is_integer(json_object_get(w, "pid")))
				printf("pid %.0f", batonctl_num(w, "pid"));
			else
				printf("(no process)");
			printf(" %s, restarts %.0f", batonctl_str(w, "state"),
			    batonctl_num(w, "restarts"));
			if (json_is_string(json_object_get(w, "last_exit")))
				printf(
				    ", last %s", batonctl_str(w, "last_exit"));
			printf("\n");
		}
	}
}

/* Where the socket is: -S, or `control` of the config file. */
static char *
batonctl_socket(const char *sock, const char *conf)
{
	char err[CONFIG_ERR_MAX];
	struct config *cfg;
	char *path;

	if (sock != NULL)
		return strdup(sock);
	if ((cfg = config_load(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "batonctl: %s\n", err);
		return NULL;
	}
	if (cfg->control == NULL) {
		fprintf(stderr,
		    "batonctl: %s: no `control` socket in [baton]\n", conf);
		config_free(cfg);
		return NULL;
	}
	path = strdup(cfg->control);
	config_free(cfg);
	return path;
}

/* The command and its arguments (argv after the options). */
static int
batonctl_parse(int argc, char **argv, struct control_request *req, int *json,
    double *timeout_s)
{
	char err[CONFIG_ERR_MAX];
	const char *cmd = argv[0];
	long long ms;
	int i;

	memset(req, 0, sizeof(*req));
	*timeout_s = BATONCTL_TIMEOUT_S;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "metrics") == 0 ||
	    strcmp(cmd, "retire") == 0 || strcmp(cmd, "reopen") == 0) {
		req->cmd = cmd[0] == 's'                ? CONTROL_STATUS
		           : cmd[0] == 'm'              ? CONTROL_METRICS
		           : strcmp(cmd, "retire") == 0 ? CONTROL_RETIRE
		                                        : CONTROL_REOPEN;
		if (argc == 2 && req->cmd == CONTROL_STATUS &&
		    strcmp(argv[1], "--json") == 0) {
			*json = 1;
			return 0;
		}
		if (argc == 1)
			return 0;
	} else if (strcmp(cmd, "reload") == 0) {
		req->cmd = CONTROL_RELOAD;
		req->wait = 1;
		*timeout_s = 0;
		for (i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--no-wait") == 0)
				req->wait = 0;
			else if (strcmp(argv[i], "--timeout") == 0 &&
			         i + 1 < argc) {
				if (parse_duration(argv[++i], 1,
				        PARSE_DURATION_MAX_MS, &ms, err,
				        sizeof(err)) == -1) {
					fprintf(stderr,
					    "batonctl: reload --timeout: %s\n",
					    err);
					return -1;
				}
				*timeout_s = (double)ms / 1000;
			} else
				break;
		}
		if (!req->wait)
			*timeout_s = BATONCTL_TIMEOUT_S;
		if (i == argc)
			return 0;
	} else if (strcmp(cmd, "scale") == 0) {
		if (argc != 2) {
			fprintf(stderr, "batonctl: scale N|+N|-N\n");
			return -1;
		}
		if (control_scale_parse(argv[1], req, err, sizeof(err)) == -1) {
			fprintf(stderr, "batonctl: %s\n", err);
			return -1;
		}
		return 0;
	} else if (strcmp(cmd, "stop") == 0) {
		req->cmd = CONTROL_STOP;
		if (argc == 2 && strcmp(argv[1], "--fast") == 0)
			req->fast = 1;
		else if (argc == 1)
			return 0;
		if (argc <= 2 && req->fast)
			return 0;
	} else {
		fprintf(stderr, "batonctl: %s: unknown command\n", cmd);
		batonctl_usage(stderr);
		return -1;
	}
	fprintf(stderr, "batonctl: %s: unexpected arguments\n", cmd);
	batonctl_usage(stderr);
	return -1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf = BATONCTL_DEFAULT_CONFIG, *sock = NULL;
	struct control_request req;
	char err[CONFIG_ERR_MAX];
	double timeout_s;
	int ch, json = 0, fd, rc;
	char *path, *s;
	json_t *ans;

	/* "+": options stop at the command, whose own start with "--". */
	while (
	    (ch = getopt_long(argc, argv, "+c:S:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'h':
			batonctl_usage(stdout);
			return BATONCTL_OK;
		case 'V':
			printf("batonctl %s\n", BATON_VERSION);
			return BATONCTL_OK;
		default:
			batonctl_usage(stderr);
			return BATONCTL_USAGE;
		}
	}
	if (optind == argc) {
		batonctl_usage(stderr);
		return BATONCTL_USAGE;
	}
	if (batonctl_parse(
	        argc - optind, argv + optind, &req, &json, &timeout_s) == -1)
		return BATONCTL_USAGE;
	if ((path = batonctl_socket(sock, conf)) == NULL)
		return BATONCTL_USAGE;
	if ((fd = control_connect(path, err, sizeof(err))) == -1) {
		fprintf(stderr, "batonctl: %s\n", err);
		free(path);
		return BATONCTL_USAGE;
	}
	ans = control_call(fd, &req, timeout_s, err, sizeof(err));
	close(fd);
	if (ans == NULL) {
		fprintf(stderr, "batonctl: %s: %s%s\n", path, err,
		    req.cmd == CONTROL_RELOAD && req.wait
		        ? " (the reload goes on; see `batonctl status`)"
		        : "");
		free(path);
		return BATONCTL_USAGE;
	}
	free(path);
	if (!json_is_true(json_object_get(ans, "ok"))) {
		fprintf(stderr, "batonctl: %s: %s\n", control_cmd_name(req.cmd),
		    batonctl_str(ans, "error"));
		rc = json_is_true(json_object_get(ans, "refused"))
		         ? BATONCTL_USAGE
		         : BATONCTL_FAILED;
		json_decref(ans);
		return rc;
	}
	switch (req.cmd) {
	case CONTROL_STATUS:
		if (json) {
			if ((s = json_dumps(
			         ans, JSON_INDENT(2) | JSON_SORT_KEYS)) != NULL)
				printf("%s\n", s);
			free(s);
		} else
			batonctl_print_status(ans);
		break;
	case CONTROL_METRICS:
		fputs(batonctl_str(ans, "metrics"), stdout);
		break;
	case CONTROL_RELOAD:
		if (req.wait)
			printf("reload: generation %.0f is active\n",
			    batonctl_num(ans, "generation"));
		else
			printf("reload: requested\n");
		break;
	case CONTROL_SCALE:
		printf("scale: generation %.0f now has %.0f workers\n",
		    batonctl_num(ans, "generation"),
		    batonctl_num(ans, "workers"));
		break;
	default:
		break;
	}
	json_decref(ans);
	return fflush(stdout) == 0 ? BATONCTL_OK : BATONCTL_USAGE;
}

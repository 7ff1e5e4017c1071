/* control.c: the control protocol's wire format, and batonctl's client half. */
/*
 * Owns the format of every message each way (one JSON object per line,
 * built and read with jansson only), the Prometheus rendering of a status,
 * and the client's connect-and-call. Pure apart from the client half's
 * socket: it knows no master, no server and no generation.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "parse.h"

/* An answer read by the client half: a status of many workers fits. */
#define CONTROL_ANSWER_MAX (16 * 1024 * 1024)

static const char *control_cmd_names[] = {
    [CONTROL_STATUS] = "status",
    [CONTROL_RELOAD] = "reload",
    [CONTROL_SCALE] = "scale",
    [CONTROL_RETIRE] = "retire",
    [CONTROL_REOPEN] = "reopen",
    [CONTROL_STOP] = "stop",
    [CONTROL_METRICS] = "metrics",
};

const char *
control_cmd_name(enum control_cmd cmd)
{
	return control_cmd_names[cmd];
}

/* ---- the wire format ---- */

/* Members a command may carry besides "v" and "cmd". */
static int
control_member_allowed(enum control_cmd cmd, const char *key)
{
	switch (cmd) {
	case CONTROL_RELOAD:
		return strcmp(key, "wait") == 0;
	case CONTROL_SCALE:
		return strcmp(key, "workers") == 0 || strcmp(key, "by") == 0;
	case CONTROL_STOP:
		return strcmp(key, "fast") == 0;
	default:
		return 0;
	}
}

static int
control_get_bool(
    json_t *o, const char *key, int def, int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "\"%s\" must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
control_request_parse(const char *line, size_t len, struct control_request *req,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o, *v, *val;
	const char *key, *cmd;
	size_t i;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	/* A NUL inside is binary data, not a JSON text. */
	if (memchr(line, '\0', len) != NULL) {
		snprintf(err, errlen, "malformed request: not JSON text");
		return -1;
	}
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(err, errlen, "malformed request: %s at column %d",
		    jerr.text, jerr.column);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "malformed request: not a JSON object");
		goto out;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != CONTROL_VERSION) {
		snprintf(err, errlen,
		    "unsupported protocol version (this master speaks "
		    "\"v\":%d)",
		    CONTROL_VERSION);
		goto out;
	}
	if ((cmd = json_string_value(json_object_get(o, "cmd"))) == NULL) {
		snprintf(err, errlen, "\"cmd\" is missing or not a string");
		goto out;
	}
	for (i = 0; i < sizeof(control_cmd_names) / sizeof(*control_cmd_names);
	     i++)
		if (strcmp(cmd, control_cmd_names[i]) == 0)
			break;
	if (i == sizeof(control_cmd_names) / sizeof(*control_cmd_names)) {
		snprintf(err, errlen, "unknown command \"%.64s\"", cmd);
		goto out;
	}
	req->cmd = (enum control_cmd)i;
	json_object_foreach(o, key, val)
	{
		if (strcmp(key, "v") != 0 && strcmp(key, "cmd") != 0 &&
		    !control_member_allowed(req->cmd, key)) {
			snprintf(err, errlen, "%s: unknown member \"%.64s\"",
			    cmd, key);
			goto out;
		}
	}
	switch (req->cmd) {
	case CONTROL_RELOAD:
		if (control_get_bool(o, "wait", 1, &req->wait, err, errlen) ==
		    -1)
			goto out;
		break;
	case CONTROL_STOP:
		if (control_get_bool(o, "fast", 0, &req->fast, err, errlen) ==
		    -1)
			goto out;
		break;
	case CONTROL_SCALE: {
		json_t *set = json_object_get(o, "workers");
		json_t *by = json_object_get(o, "by");

		if ((set == NULL) == (by == NULL)) {
			snprintf(err, errlen,
			    "scale: give exactly one of \"workers\" and "
			    "\"by\"");
			goto out;
		}
		v = set ? set : by;
		if (!json_is_integer(v) || json_integer_value(v) < -4096 ||
		    json_integer_value(v) > 4096 ||
		    (set && json_integer_value(v) < 1)) {
			snprintf(err, errlen,
			    "scale: \"%s\" must be an integer in %s",
			    set ? "workers" : "by",
			    set ? "1..4096" : "-4096..4096");
			goto out;
		}
		req->relative = by != NULL;
		req->n = (long)json_integer_value(v);
		break;
	}
	default:
		break;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

char *
control_request_format(const struct control_request *req)
{
	json_t *o;
	char *s, *line = NULL;

	o = json_pack("{s:i, s:s}", "v", CONTROL_VERSION, "cmd",
	    control_cmd_name(req->cmd));
	if (o == NULL)
		return NULL;
	if (req->cmd == CONTROL_RELOAD)
		json_object_set_new(o, "wait", json_boolean(req->wait));
	else if (req->cmd == CONTROL_STOP)
		json_object_set_new(o, "fast", json_boolean(req->fast));
	else if (req->cmd == CONTROL_SCALE)
		json_object_set_new(
		    o, req->relative ? "by" : "workers", json_integer(req->n));
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL &&
	    asprintf(&line, "%s\n", s) == -1)
		line = NULL;
	free(s);
	json_decref(o);
	return line;
}

int
control_scale_parse(
    const char *s, struct control_request *req, char *err, size_t errlen)
{
	const char *p = s;
	char why[64];
	int neg = 0;
	long long n;

	memset(req, 0, sizeof(*req));
	req->cmd = CONTROL_SCALE;
	if (*p == '+' || *p == '-') {
		req->relative = 1;
		neg = *p++ == '-';
	}
	if (parse_int(p, req->relative ? 0 : 1, 4096, &n, why, sizeof(why)) ==
	    -1) {
		snprintf(err, errlen,
		    "scale: \"%s\" is not a count (1..4096) or a change "
		    "(+N, -N)",
		    s);
		return -1;
	}
	req->n = neg ? -n : n;
	return 0;
}

/* ---- metrics ---- */

static double
control_num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/*
 * Label values are our own words (states, listener names limited by the
 * config to [A-Za-z0-9_.-], numbers, the version): none needs escaping.
 */
char *
control_metrics(const json_t *status)
{
	const json_t *master = json_object_get(status, "master");
	const json_t *counters = json_object_get(status, "counters");
	const json_t *last = json_object_get(status, "last_reload");
	const json_t *g, *w, *l, *q;
	size_t i, j, size = 0;
	char *buf = NULL;
	FILE *f;

	if ((f = open_memstream(&buf, &size)) == NULL)
		return NULL;
	fprintf(f,
	    "# HELP baton_info The master's version and pid.\n"
	    "# TYPE baton_info gauge\n"
	    "baton_info{version=\"%s\",pid=\"%.0f\"} 1\n",
	    json_string_value(json_object_get(master, "version")),
	    control_num(master, "pid"));
	fprintf(f,
	    "# HELP baton_uptime_seconds Since the master started.\n"
	    "# TYPE baton_uptime_seconds gauge\n"
	    "baton_uptime_seconds %.3f\n",
	    control_num(master, "uptime_s"));
	fprintf(f,
	    "# HELP baton_master_state The master's state.\n"
	    "# TYPE baton_master_state gauge\n"
	    "baton_master_state{state=\"%s\"} 1\n",
	    json_string_value(json_object_get(master, "state")));
	fprintf(f, "# HELP baton_generation_workers Workers of each "
	           "generation, by readiness.\n"
	           "# TYPE baton_generation_workers gauge\n");
	json_array_foreach(json_object_get(status, "generations"), i, g)
	{
		fprintf(f,
		    "baton_generation_workers{generation=\"%.0f\","
		    "state=\"%s\",ready=\"yes\"} %.0f\n"
		    "baton_generation_workers{generation=\"%.0f\","
		    "state=\"%s\",ready=\"no\"} %.0f\n",
		    control_num(g, "id"),
		    json_string_value(json_object_get(g, "state")),
		    control_num(g, "workers_ready"), control_num(g, "id"),
		    json_string_value(json_object_get(g, "state")),
		    control_num(g, "workers_running") -
		        control_num(g, "workers_ready"));
	}
	fprintf(f, "# HELP baton_worker_restarts Respawns of each worker.\n"
	           "# TYPE baton_worker_restarts gauge\n");
	json_array_foreach(json_object_get(status, "generations"), i, g)
	{
		json_array_foreach(json_object_get(g, "workers"), j, w)
		{
			fprintf(f,
			    "baton_worker_restarts{generation=\"%.0f\","
			    "worker=\"%.0f\"} %.0f\n",
			    control_num(g, "id"), control_num(w, "index"),
			    control_num(w, "restarts"));
		}
	}
	fprintf(f, "# HELP baton_listener_queue Connections waiting in "
	           "the accept queue.\n"
	           "# TYPE baton_listener_queue gauge\n");
	json_array_foreach(json_object_get(status, "listeners"), i, l)
	{
		if ((q = json_object_get(l, "queue")) != NULL &&
		    json_is_integer(q))
			fprintf(f,
			    "baton_listener_queue{listener=\"%s\"} %.0f\n",
			    json_string_value(json_object_get(l, "name")),
			    json_number_value(q));
	}
	fprintf(f, "# HELP baton_listener_backlog The accept queue's "
	           "limit.\n"
	           "# TYPE baton_listener_backlog gauge\n");
	json_array_foreach(json_object_get(status, "listeners"), i, l)
	{
		fprintf(f, "baton_listener_backlog{listener=\"%s\"} %.0f\n",
		    json_string_value(json_object_get(l, "name")),
		    control_num(l, "backlog"));
	}
	fprintf(f,
	    "# HELP baton_reloads_total Reloads, by outcome.\n"
	    "# TYPE baton_reloads_total counter\n"
	    "baton_reloads_total{outcome=\"ok\"} %.0f\n"
	    "baton_reloads_total{outcome=\"rejected\"} %.0f\n"
	    "baton_reloads_total{outcome=\"rolled_back\"} %.0f\n"
	    "# HELP baton_worker_crashes_total Worker exits nobody asked "
	    "for.\n"
	    "# TYPE baton_worker_crashes_total counter\n"
	    "baton_worker_crashes_total %.0f\n"
	    "# HELP baton_worker_respawns_total Workers started again after "
	    "a crash.\n"
	    "# TYPE baton_worker_respawns_total counter\n"
	    "baton_worker_respawns_total %.0f\n"
	    "# HELP baton_upgrades_total Binary upgrades started (USR2).\n"
	    "# TYPE baton_upgrades_total counter\n"
	    "baton_upgrades_total %.0f\n",
	    control_num(counters, "reloads_ok"),
	    control_num(counters, "reloads_rejected"),
	    control_num(counters, "reloads_rolled_back"),
	    control_num(counters, "worker_crashes"),
	    control_num(counters, "respawns"),
	    control_num(counters, "upgrades"));
	if (json_is_object(last) &&
	    json_is_boolean(json_object_get(last, "ok")))
		fprintf(f,
		    "# HELP baton_last_reload_success 1 if the last reload "
		    "took over.\n"
		    "# TYPE baton_last_reload_success gauge\n"
		    "baton_last_reload_success %d\n"
		    "# HELP baton_last_reload_timestamp_seconds When it "
		    "began.\n"
		    "# TYPE baton_last_reload_timestamp_seconds gauge\n"
		    "baton_last_reload_timestamp_seconds %.3f\n"
		    "# HELP baton_last_reload_duration_seconds How long it "
		    "took.\n"
		    "# TYPE baton_last_reload_duration_seconds gauge\n"
		    "baton_last_reload_duration_seconds %.3f\n",
		    json_is_true(json_object_get(last, "ok")),
		    control_num(last, "started"),
		    control_num(last, "duration_s"));
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- the client half ---- */

int
control_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int e = errno;

		snprintf(err, errlen, "%s: %s%s", path, strerror(e),
		    e == ENOENT || e == ECONNREFUSED
		        ? " (is baton running, with `control` set?)"
		        : "");
		close(fd);
		return -1;
	}
	return fd;
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC s), -1: no limit. */
static int
control_left_ms(double deadline)
{
	struct timespec ts;
	double now;

	if (deadline == 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (now >= deadline)
		return 0;
	return (int)((deadline - now) * 1000) + 1;
}

json_t *
control_call(int fd, const struct control_request *req, double timeout_s,
    char *err, size_t errlen)
{
	struct pollfd pfd = {.fd = fd};
	struct timespec ts;
	double deadline = 0;
	char *line, *buf = NULL, *nl = NULL;
	size_t len, off = 0, cap = 0;
	json_error_t jerr;
	json_t *o;
	ssize_t n;
	int ms;

	if (timeout_s > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline =
		    (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + timeout_s;
	}
	if ((line = control_request_format(req)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	len = strlen(line);
	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		/*
		 * A refused client (permission, busy) is answered and closed
		 * at once: the answer may be waiting even if sending failed.
		 */
		if (n == -1) {
			if (errno != EPIPE && errno != ECONNRESET) {
				snprintf(
				    err, errlen, "send: %s", strerror(errno));
				free(line);
				return NULL;
			}
			break;
		}
		off += (size_t)n;
	}
	free(line);
	for (off = 0; nl == NULL;) {
		pfd.events = POLLIN;
		if ((ms = control_left_ms(deadline)) == 0 ||
		    (n = poll(&pfd, 1, ms)) == 0) {
			snprintf(
			    err, errlen, "no answer within %.3g s", timeout_s);
			goto fail;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto fail;
		}
		if (off + 4096 > cap) {
			char *p;

			if (cap >= CONTROL_ANSWER_MAX) {
				snprintf(err, errlen, "answer too long");
				goto fail;
			}
			if ((p = realloc(buf, cap + 65536)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = p;
			cap += 65536;
		}
		n = read(fd, buf + off, cap - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s",
			    n == 0 ? "the master closed the connection "
			             "without an answer"
			           : strerror(errno));
			goto fail;
		}
		nl = memchr(buf + off, '\n', (size_t)n);
		off += (size_t)n;
	}
	o = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	free(buf);
	if (o == NULL || !json_is_object(o) ||
	    !json_is_integer(json_object_get(o, "v")) ||
	    !json_is_boolean(json_object_get(o, "ok"))) {
		snprintf(err, errlen, "malformed answer from the master%s%s",
		    o == NULL ? ": " : "", o == NULL ? jerr.text : "");
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	free(buf);
	return NULL;
}

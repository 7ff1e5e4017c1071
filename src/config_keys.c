/*
 * config_keys.c: the one table of configuration keys, which drives parsing,
 * duplicate and unknown key errors, the defaults and baton.ini(5)'s check.
 *
 * Owns: the table, the generic setter that dispatches on a key's type, and
 * the two keys whose value fills several fields (ready, log's check).
 * Must not touch: files, line numbers, section headers (config.c), or the
 * system (user names are looked up by credentials.c, not here).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config_keys.h"
#include "parse.h"

static int config_keys_check_log(const char *v, char *err, size_t errlen);
static int config_keys_set_ready(
    struct config *cfg, const char *v, char *err, size_t errlen);

#define C(field) offsetof(struct config, field)
#define L(field) offsetof(struct listen_config, field)

static const struct config_key config_keys[] = {
    /* [baton] */
    {.name = "pidfile",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_PATH,
        .offset = C(pidfile)},
    {.name = "control",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_PATH,
        .offset = C(control)},
    {.name = "control_group",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_STRING,
        .offset = C(control_group)},
    {.name = "log",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_STRING,
        .def = "stderr",
        .offset = C(log),
        .check = config_keys_check_log},
    {.name = "user",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_STRING,
        .offset = C(user)},
    {.name = "group",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_STRING,
        .offset = C(group)},
    {.name = "fdstore",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_BOOL,
        .def = "no",
        .offset = C(fdstore)},
    {.name = "upgrade_retire_old",
        .section = CONFIG_SECTION_BATON,
        .type = CONFIG_KEY_BOOL,
        .def = "no",
        .offset = C(upgrade_retire_old)},
    /* [app] */
    {.name = "command",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_COMMAND,
        .flags = CONFIG_KEY_REQUIRED,
        .offset = C(command)},
    {.name = "workers",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_INT,
        .def = "1",
        .min = 1,
        .max = CONFIG_WORKERS_MAX,
        .offset = C(workers)},
    {.name = "directory",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_PATH,
        .offset = C(directory)},
    {.name = "ready",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_SPECIAL,
        .def = "none",
        .set = config_keys_set_ready},
    {.name = "ready_timeout",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_DURATION,
        .def = "60s",
        .min = 1,
        .max = PARSE_DURATION_MAX_MS,
        .offset = C(ready_timeout_ms)},
    {.name = "ready_delay",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_DURATION,
        .def = "0",
        .max = PARSE_DURATION_MAX_MS,
        .offset = C(ready_delay_ms)},
    {.name = "stop_signal",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_SIGNAL,
        .def = "TERM",
        .offset = C(stop_signal)},
    {.name = "stop_timeout",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_DURATION,
        .def = "30s",
        .max = PARSE_DURATION_MAX_MS,
        .offset = C(stop_timeout_ms)},
    {.name = "intercept_bind",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_BOOL,
        .def = "no",
        .offset = C(intercept_bind)},
    {.name = "intercept_accept",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_BOOL,
        .def = "no",
        .offset = C(intercept_accept)},
    {.name = "env.",
        .section = CONFIG_SECTION_APP,
        .type = CONFIG_KEY_ENV,
        .flags = CONFIG_KEY_PREFIX},
    /* [listen NAME] */
    {.name = "address",
        .section = CONFIG_SECTION_LISTEN,
        .type = CONFIG_KEY_ADDRESS,
        .flags = CONFIG_KEY_REQUIRED,
        .offset = L(addr)},
    {.name = "backlog",
        .section = CONFIG_SECTION_LISTEN,
        .type = CONFIG_KEY_INT,
        .def = "511",
        .min = 1,
        .max = 65535,
        .offset = L(backlog)},
    {.name = "v6only",
        .section = CONFIG_SECTION_LISTEN,
        .type = CONFIG_KEY_BOOL,
        .def = "no",
        .offset = L(v6only)},
    {.name = "mode",
        .section = CONFIG_SECTION_LISTEN,
        .type = CONFIG_KEY_MODE,
        .offset = L(mode)},
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

_Static_assert(NKEYS <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

const struct config_key *
config_keys_next(const struct config_key *k)
{
	if (k == NULL)
		return &config_keys[0];
	return k + 1 < config_keys + NKEYS ? k + 1 : NULL;
}

const struct config_key *
config_keys_find(enum config_section s, const char *name)
{
	const struct config_key *k;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		if (k->section != s)
			continue;
		if (k->flags & CONFIG_KEY_PREFIX) {
			if (strncmp(name, k->name, strlen(k->name)) == 0)
				return k;
		} else if (strcmp(name, k->name) == 0) {
			return k;
		}
	}
	return NULL;
}

size_t
config_keys_index(const struct config_key *k)
{
	return (size_t)(k - config_keys);
}

const char *
config_keys_section_name(enum config_section s)
{
	switch (s) {
	case CONFIG_SECTION_BATON:
		return "baton";
	case CONFIG_SECTION_APP:
		return "app";
	case CONFIG_SECTION_LISTEN:
		return "listen";
	case CONFIG_SECTION_NONE:
		break;
	}
	return NULL;
}

static int
config_keys_strdup(char **dst, const char *value, char *err, size_t errlen)
{
	char *s = strdup(value);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int
config_keys_check_log(const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0 || v[0] == '/')
		return 0;
	snprintf(
	    err, errlen, "\"%s\" is not stderr, syslog or an absolute path", v);
	return -1;
}

/* "HOST:PORT" of a tcp: or http:// probe; hostport is not NUL-terminated. */
static int
config_keys_set_probe(struct config *cfg, const char *hostport, size_t n,
    char *err, size_t errlen)
{
	char buf[256];
	char why[CONFIG_ERR_MAX / 2];

	if (n >= sizeof(buf)) {
		snprintf(err, errlen, "probe address is too long");
		return -1;
	}
	memcpy(buf, hostport, n);
	buf[n] = '\0';
	if (strncmp(buf, "unix:", 5) == 0) {
		snprintf(err, errlen,
		    "\"%s\": a unix socket cannot be probed (use HOST:PORT)",
		    buf);
		return -1;
	}
	if (address_parse(buf, &cfg->probe, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return config_keys_strdup(&cfg->probe_host, buf, err, errlen);
}

/* ready = notify | listen | delay:D | tcp:H:P | http://H:P/PATH | none */
static int
config_keys_set_ready(
    struct config *cfg, const char *v, char *err, size_t errlen)
{
	const char *host, *path, *p;
	long long ms;

	if (strcmp(v, "none") == 0) {
		cfg->ready = READY_NONE;
	} else if (strcmp(v, "notify") == 0) {
		cfg->ready = READY_NOTIFY;
	} else if (strcmp(v, "listen") == 0) {
		cfg->ready = READY_LISTEN;
	} else if (strncmp(v, "delay:", 6) == 0) {
		cfg->ready = READY_DELAY;
		if (parse_duration(v + 6, 0, PARSE_DURATION_MAX_MS, &ms, err,
		        errlen) == -1)
			return -1;
		cfg->ready_arg_ms = (long)ms;
	} else if (strncmp(v, "tcp:", 4) == 0) {
		cfg->ready = READY_TCP;
		return config_keys_set_probe(
		    cfg, v + 4, strlen(v + 4), err, errlen);
	} else if (strncmp(v, "http://", 7) == 0) {
		cfg->ready = READY_HTTP;
		host = v + 7;
		path = strchr(host, '/');
		if (path == NULL)
			path = host + strlen(host);
		if (config_keys_set_probe(
		        cfg, host, (size_t)(path - host), err, errlen) == -1)
			return -1;
		if (*path == '\0')
			path = "/";
		/* The path goes verbatim into the request line. */
		for (p = path; *p != '\0'; p++) {
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				snprintf(err, errlen,
				    "\"%s\": the path must not contain spaces "
				    "or control characters",
				    path);
				return -1;
			}
		}
		return config_keys_strdup(&cfg->probe_path, path, err, errlen);
	} else {
		snprintf(err, errlen,
		    "\"%s\" is not a readiness check (use notify, listen, "
		    "delay:DURATION, tcp:HOST:PORT, http://HOST:PORT/PATH or "
		    "none)",
		    v);
		return -1;
	}
	return 0;
}

/*
 * Variables the worker gets from baton itself: letting the file override
 * them would silently break the socket handover.
 */
static int
config_keys_baton_var(const char *name)
{
	return strncmp(name, "LISTEN_", 7) == 0 ||
	       strncmp(name, "EINHORN_", 8) == 0 ||
	       strncmp(name, "BATON_", 6) == 0 ||
	       strcmp(name, "NOTIFY_SOCKET") == 0 ||
	       strcmp(name, "SERVER_STARTER_PORT") == 0;
}

int
config_keys_set_env(struct config *cfg, const char *name, const char *value,
    char *err, size_t errlen)
{
	size_t nlen = strlen(name), i;
	char **env, *entry;

	for (i = 0; i < nlen; i++) {
		if (!(isalpha((unsigned char)name[i]) || name[i] == '_' ||
		        (i > 0 && isdigit((unsigned char)name[i]))))
			break;
	}
	if (nlen == 0 || i < nlen) {
		snprintf(err, errlen,
		    "\"%s\" is not a variable name (letters, digits and '_', "
		    "not starting with a digit)",
		    name);
		return -1;
	}
	if (config_keys_baton_var(name)) {
		snprintf(err, errlen,
		    "baton sets this variable itself (LISTEN_*, NOTIFY_SOCKET, "
		    "SERVER_STARTER_PORT, EINHORN_*, BATON_*)");
		return -1;
	}
	env = realloc(cfg->env, (cfg->nenv + 2) * sizeof(*env));
	if (env != NULL)
		cfg->env = env;
	if (env == NULL || (entry = malloc(nlen + strlen(value) + 2)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sprintf(entry, "%s=%s", name, value);
	cfg->env[cfg->nenv++] = entry;
	cfg->env[cfg->nenv] = NULL;
	return 0;
}

int
config_keys_set(const struct config_key *k, void *obj, const char *value,
    char *err, size_t errlen)
{
	char *field = (char *)obj + k->offset;
	long long n;

	switch (k->type) {
	case CONFIG_KEY_PATH:
		if (value[0] != '/') {
			snprintf(err, errlen, "\"%s\" is not an absolute path",
			    value);
			return -1;
		}
		/* FALLTHROUGH */
	case CONFIG_KEY_STRING:
	case CONFIG_KEY_COMMAND:
		if (k->check != NULL && k->check(value, err, errlen) == -1)
			return -1;
		return config_keys_strdup((char **)field, value, err, errlen);
	case CONFIG_KEY_INT:
		if (parse_int(value, k->min, k->max, &n, err, errlen) == -1)
			return -1;
		*(int *)field = (int)n;
		return 0;
	case CONFIG_KEY_DURATION:
		if (parse_duration(value, k->min, k->max, &n, err, errlen) ==
		    -1)
			return -1;
		*(long *)field = (long)n;
		return 0;
	case CONFIG_KEY_SIZE:
		return parse_size(
		    value, k->min, k->max, (long long *)field, err, errlen);
	case CONFIG_KEY_BOOL:
		return parse_bool(value, (int *)field, err, errlen);
	case CONFIG_KEY_SIGNAL:
		return parse_signal(value, (int *)field, err, errlen);
	case CONFIG_KEY_MODE:
		return parse_mode(value, (int *)field, err, errlen);
	case CONFIG_KEY_ADDRESS:
		return address_parse(
		    value, (struct address *)field, err, errlen);
	case CONFIG_KEY_SPECIAL:
		return k->set((struct config *)obj, value, err, errlen);
	case CONFIG_KEY_ENV:
		break;
	}
	/* env.NAME: config_keys_set_env, once config.c checked the name is
	 * new (it knows the lines). */
	snprintf(err, errlen, "no setter for this key");
	return -1;
}

int
config_keys_continue(const struct config_key *k, void *obj, const char *value,
    char *err, size_t errlen)
{
	char **field = (char **)((char *)obj + k->offset);
	size_t old;
	char *s;

	if (k->type != CONFIG_KEY_COMMAND || *field == NULL) {
		snprintf(err, errlen,
		    "continuation lines are only allowed for "
		    "command");
		return -1;
	}
	old = strlen(*field);
	if ((s = realloc(*field, old + strlen(value) + 2)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* "command =" alone, then the command on the indented lines. */
	if (old > 0)
		s[old++] = ' ';
	strcpy(s + old, value);
	*field = s;
	return 0;
}

int
config_keys_defaults(enum config_section s, void *obj, char *err, size_t errlen)
{
	const struct config_key *k;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		if (k->section != s)
			continue;
		/* Through the setter: the default is checked like a value. */
		if (k->def != NULL &&
		    config_keys_set(k, obj, k->def, err, errlen) == -1)
			return -1;
		/* No mode: leave the socket file's to the umask. */
		if (k->def == NULL && k->type == CONFIG_KEY_MODE)
			*(int *)((char *)obj + k->offset) = -1;
	}
	return 0;
}

void
config_keys_free(enum config_section s, void *obj)
{
	const struct config_key *k;
	char **field;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		if (k->section != s || (k->type != CONFIG_KEY_STRING &&
		                           k->type != CONFIG_KEY_PATH &&
		                           k->type != CONFIG_KEY_COMMAND))
			continue;
		field = (char **)((char *)obj + k->offset);
		free(*field);
		*field = NULL;
	}
}

/* config.c: read a baton ini file with inih and validate it into a config. */
#include <sys/types.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config.h"

#define WORKERS_MAX      4096
#define BACKLOG_DEFAULT  511
#define BACKLOG_MAX      65535
#define LISTEN_NAME_MAX  64
#define DURATION_MAX_MS  (24L * 3600 * 1000)
#define READY_TIMEOUT_MS (60L * 1000)
#define STOP_TIMEOUT_MS  (30L * 1000)
#define SIGNAL_MAX       64
#define DURATION_HINT    "(use 30, 30s, 500ms, 2m)"
#define BOOL_HINT        "(yes/no, true/false, on/off, 1/0)"
#define PLACEHOLDER_HINT "(use {fd:NAME} or {addr:NAME})"
#define LISTEN_NAME_HINT                                                       \
	"(letters, digits, '_', '.' and '-', at most 64 characters)"

enum section_kind {
	SECTION_NONE,
	SECTION_BATON,
	SECTION_APP,
	SECTION_LISTEN,
};

/* Keys of [baton] and [app]: slots in parse_state.line. */
enum key_slot {
	KEY_PIDFILE,
	KEY_CONTROL,
	KEY_CONTROL_GROUP,
	KEY_LOG,
	KEY_USER,
	KEY_GROUP,
	KEY_FDSTORE,
	KEY_UPGRADE_RETIRE_OLD,
	KEY_COMMAND,
	KEY_WORKERS,
	KEY_DIRECTORY,
	KEY_READY,
	KEY_READY_TIMEOUT,
	KEY_READY_DELAY,
	KEY_STOP_SIGNAL,
	KEY_STOP_TIMEOUT,
	KEY_INTERCEPT_BIND,
	KEY_INTERCEPT_ACCEPT,
	KEY_COUNT,
};

/* Keys of [listen NAME]: slots in listen_lines.line. */
enum listen_slot {
	LKEY_ADDRESS,
	LKEY_BACKLOG,
	LKEY_V6ONLY,
	LKEY_MODE,
	LKEY_COUNT,
};

/* Where each key of one [listen] section was set, 0 when it was not. */
struct listen_lines {
	int line[LKEY_COUNT];
};

/*
 * Everything one parse needs. The reader and the handler share it: inih
 * calls the handler for the line the reader has just returned, so lineno
 * and continuation always describe the line being handled.
 */
struct parse_state {
	struct config *cfg;
	const char *name; /* for messages */

	FILE *fp; /* exactly one of fp and text is the source */
	const char *text;

	int lineno;
	int prev_key;     /* mirrors inih: a continuation may follow */
	int continuation; /* the current line continues the previous key */

	enum section_kind section;
	char section_text[LISTEN_NAME_MAX + 16]; /* "[listen NAME]" */
	size_t listener;                         /* SECTION_LISTEN: index */
	int baton_line, app_line;

	int line[KEY_COUNT];
	struct listen_lines *llines; /* parallel to cfg->listeners */
	int *env_lines;              /* parallel to cfg->env */
	gid_t user_gid, group_gid;

	char *err;
	size_t errlen;
	int failed;
	int err_line; /* line of the recorded error, 0 for "file: ..." */
};

/* A value parser for one key; returns 0, or -1 with a reason. */
typedef int key_setter(struct parse_state *, const char *, char *, size_t);

struct key_def {
	const char *name;
	enum section_kind section;
	int slot;
	key_setter *set;
};

/*
 * Record "file:line: msg". Only the first error of the file is kept, and
 * during the checks after parsing the one with the lowest line, so that the
 * message is the same whatever order the checks run in.
 */
static void __attribute__((format(printf, 3, 4)))
parse_fail(struct parse_state *st, int line, const char *fmt, ...)
{
	char msg[CONFIG_ERR_MAX];
	va_list ap;

	if (st->failed && line >= st->err_line)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(st->err, st->errlen, "%s:%d: %s", st->name, line, msg);
	else
		snprintf(st->err, st->errlen, "%s: %s", st->name, msg);
	st->failed = 1;
	st->err_line = line;
}

/* ---- small value parsers ---- */

static int
parse_number(
    const char *s, long min, long max, long *out, char *err, size_t errlen)
{
	const char *p;
	long v = 0;

	if (*s == '\0') {
		snprintf(
		    err, errlen, "\"\" is not a number (%ld..%ld)", min, max);
		return -1;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(err, errlen,
			    "\"%s\" is not a number (%ld..%ld)", s, min, max);
			return -1;
		}
		/* Saturate: the value only has to stay out of range. */
		if (v <= max)
			v = v * 10 + (*p - '0');
	}
	if (v < min || v > max) {
		snprintf(
		    err, errlen, "%s is out of range (%ld..%ld)", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, int *out, char *err, size_t errlen)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	snprintf(err, errlen, "\"%s\" is not a boolean " BOOL_HINT, s);
	return -1;
}

static int
set_string(char **dst, const char *value, char *err, size_t errlen)
{
	*dst = strdup(value);
	if (*dst == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int
set_abs_path(char **dst, const char *value, char *err, size_t errlen)
{
	if (value[0] != '/') {
		snprintf(err, errlen, "\"%s\" is not an absolute path", value);
		return -1;
	}
	return set_string(dst, value, err, errlen);
}

static int
valid_listen_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > LISTEN_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return 0;
	}
	return 1;
}

static int
listener_index(const struct config *cfg, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < cfg->nlisteners; i++) {
		if (strlen(cfg->listeners[i].name) == len &&
		    memcmp(cfg->listeners[i].name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

/* ---- [baton] ---- */

static int
set_pidfile(struct parse_state *st, const char *v, char *err, size_t len)
{
	return set_abs_path(&st->cfg->pidfile, v, err, len);
}

static int
set_control(struct parse_state *st, const char *v, char *err, size_t len)
{
	return set_abs_path(&st->cfg->control, v, err, len);
}

/* Resolved now, so that -t names an unknown group with its line. */
static int
set_control_group(struct parse_state *st, const char *v, char *err,
    size_t len)
{
	struct group *gr;

	if ((gr = getgrnam(v)) == NULL) {
		snprintf(err, len, "\"%s\": no such group", v);
		return -1;
	}
	st->cfg->control_gid = gr->gr_gid;
	return set_string(&st->cfg->control_group, v, err, len);
}

static int
set_log(struct parse_state *st, const char *v, char *err, size_t len)
{
	if (strcmp(v, "stderr") != 0 && strcmp(v, "syslog") != 0 &&
	    v[0] != '/') {
		snprintf(err, len,
		    "\"%s\" is not stderr, syslog or an absolute path", v);
		return -1;
	}
	return set_string(&st->cfg->log, v, err, len);
}

static int
set_user(struct parse_state *st, const char *v, char *err, size_t len)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(v);
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			snprintf(err, len, "\"%s\": cannot look up user: %s", v,
			    strerror(errno));
		else
			snprintf(err, len, "\"%s\": no such user", v);
		return -1;
	}
	st->cfg->uid = pw->pw_uid;
	st->user_gid = pw->pw_gid;
	return set_string(&st->cfg->user, v, err, len);
}

static int
set_group(struct parse_state *st, const char *v, char *err, size_t len)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(v);
	if (gr == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			snprintf(err, len, "\"%s\": cannot look up group: %s",
			    v, strerror(errno));
		else
			snprintf(err, len, "\"%s\": no such group", v);
		return -1;
	}
	st->group_gid = gr->gr_gid;
	return set_string(&st->cfg->group, v, err, len);
}

static int
set_fdstore(struct parse_state *st, const char *v, char *err, size_t len)
{
	return parse_bool(v, &st->cfg->fdstore, err, len);
}

static int
set_upgrade_retire_old(
    struct parse_state *st, const char *v, char *err, size_t len)
{
	return parse_bool(v, &st->cfg->upgrade_retire_old, err, len);
}

/* ---- [app] ---- */

static int
set_command(struct parse_state *st, const char *v, char *err, size_t len)
{
	/* Split after parsing: continuation lines may still follow. */
	return set_string(&st->cfg->command, v, err, len);
}

static int
set_workers(struct parse_state *st, const char *v, char *err, size_t len)
{
	long n;

	if (parse_number(v, 1, WORKERS_MAX, &n, err, len) == -1)
		return -1;
	st->cfg->workers = (int)n;
	return 0;
}

static int
set_directory(struct parse_state *st, const char *v, char *err, size_t len)
{
	return set_abs_path(&st->cfg->directory, v, err, len);
}

/* "HOST:PORT" of a tcp: or http:// probe; hostport is not NUL-terminated. */
static int
set_probe(
    struct config *cfg, const char *hostport, size_t n, char *err, size_t len)
{
	char buf[256];
	char why[CONFIG_ERR_MAX / 2];

	if (n >= sizeof(buf)) {
		snprintf(err, len, "probe address is too long");
		return -1;
	}
	memcpy(buf, hostport, n);
	buf[n] = '\0';
	if (strncmp(buf, "unix:", 5) == 0) {
		snprintf(err, len,
		    "\"%s\": a unix socket cannot be probed (use HOST:PORT)",
		    buf);
		return -1;
	}
	if (address_parse(buf, &cfg->probe, why, sizeof(why)) == -1) {
		snprintf(err, len, "%s", why);
		return -1;
	}
	return set_string(&cfg->probe_host, buf, err, len);
}

static int
set_ready(struct parse_state *st, const char *v, char *err, size_t len)
{
	struct config *cfg = st->cfg;
	const char *host, *path;

	if (strcmp(v, "none") == 0) {
		cfg->ready = READY_NONE;
	} else if (strcmp(v, "notify") == 0) {
		cfg->ready = READY_NOTIFY;
	} else if (strcmp(v, "listen") == 0) {
		cfg->ready = READY_LISTEN;
	} else if (strncmp(v, "delay:", 6) == 0) {
		cfg->ready = READY_DELAY;
		return config_parse_duration(
		    v + 6, &cfg->ready_arg_ms, err, len);
	} else if (strncmp(v, "tcp:", 4) == 0) {
		cfg->ready = READY_TCP;
		return set_probe(cfg, v + 4, strlen(v + 4), err, len);
	} else if (strncmp(v, "http://", 7) == 0) {
		cfg->ready = READY_HTTP;
		host = v + 7;
		path = strchr(host, '/');
		if (path == NULL)
			path = host + strlen(host);
		if (set_probe(cfg, host, (size_t)(path - host), err, len) == -1)
			return -1;
		if (*path == '\0')
			path = "/";
		/* The path goes verbatim into the request line. */
		for (host = path; *host != '\0'; host++) {
			if ((unsigned char)*host <= ' ' || *host == 0x7f) {
				snprintf(err, len,
				    "\"%s\": the path must not contain spaces "
				    "or control characters",
				    path);
				return -1;
			}
		}
		return set_string(&cfg->probe_path, path, err, len);
	} else {
		snprintf(err, len,
		    "\"%s\" is not a readiness check (use notify, listen, "
		    "delay:DURATION, tcp:HOST:PORT, http://HOST:PORT/PATH or "
		    "none)",
		    v);
		return -1;
	}
	return 0;
}

static int
set_duration(long *dst, const char *v, char *err, size_t len)
{
	return config_parse_duration(v, dst, err, len);
}

static int
set_ready_timeout(struct parse_state *st, const char *v, char *err, size_t len)
{
	if (set_duration(&st->cfg->ready_timeout_ms, v, err, len) == -1)
		return -1;
	if (st->cfg->ready_timeout_ms == 0) {
		snprintf(
		    err, len, "\"%s\" is too short (must be more than 0)", v);
		return -1;
	}
	return 0;
}

static int
set_ready_delay(struct parse_state *st, const char *v, char *err, size_t len)
{
	return set_duration(&st->cfg->ready_delay_ms, v, err, len);
}

static int
set_stop_signal(struct parse_state *st, const char *v, char *err, size_t len)
{
	int sig = config_parse_signal(v);

	if (sig == -1) {
		snprintf(err, len,
		    "\"%s\" is not a signal (use a name like TERM or QUIT, "
		    "or a number 1..%d)",
		    v, SIGNAL_MAX);
		return -1;
	}
	st->cfg->stop_signal = sig;
	return 0;
}

static int
set_stop_timeout(struct parse_state *st, const char *v, char *err, size_t len)
{
	return set_duration(&st->cfg->stop_timeout_ms, v, err, len);
}

static int
set_intercept_bind(struct parse_state *st, const char *v, char *err, size_t len)
{
	return parse_bool(v, &st->cfg->intercept_bind, err, len);
}

static int
set_intercept_accept(
    struct parse_state *st, const char *v, char *err, size_t len)
{
	return parse_bool(v, &st->cfg->intercept_accept, err, len);
}

/* ---- [listen NAME] ---- */

static struct listen_config *
cur_listener(struct parse_state *st)
{
	return &st->cfg->listeners[st->listener];
}

static int
set_address(struct parse_state *st, const char *v, char *err, size_t len)
{
	return address_parse(v, &cur_listener(st)->addr, err, len);
}

static int
set_backlog(struct parse_state *st, const char *v, char *err, size_t len)
{
	long n;

	if (parse_number(v, 1, BACKLOG_MAX, &n, err, len) == -1)
		return -1;
	cur_listener(st)->backlog = (int)n;
	return 0;
}

static int
set_v6only(struct parse_state *st, const char *v, char *err, size_t len)
{
	/* Whether the address is IPv6 is checked once the section is done. */
	return parse_bool(v, &cur_listener(st)->v6only, err, len);
}

static int
set_mode(struct parse_state *st, const char *v, char *err, size_t len)
{
	const char *p;
	int mode = 0;

	for (p = v; *p >= '0' && *p <= '7' && mode <= 07777; p++)
		mode = mode * 8 + (*p - '0');
	if (p == v || *p != '\0' || mode > 07777) {
		snprintf(
		    err, len, "\"%s\" is not an octal mode (like 0660)", v);
		return -1;
	}
	cur_listener(st)->mode = mode;
	return 0;
}

static const struct key_def key_defs[] = {
    {"pidfile", SECTION_BATON, KEY_PIDFILE, set_pidfile},
    {"control", SECTION_BATON, KEY_CONTROL, set_control},
    {"control_group", SECTION_BATON, KEY_CONTROL_GROUP, set_control_group},
    {"log", SECTION_BATON, KEY_LOG, set_log},
    {"user", SECTION_BATON, KEY_USER, set_user},
    {"group", SECTION_BATON, KEY_GROUP, set_group},
    {"fdstore", SECTION_BATON, KEY_FDSTORE, set_fdstore},
    {"upgrade_retire_old", SECTION_BATON, KEY_UPGRADE_RETIRE_OLD,
        set_upgrade_retire_old},
    {"command", SECTION_APP, KEY_COMMAND, set_command},
    {"workers", SECTION_APP, KEY_WORKERS, set_workers},
    {"directory", SECTION_APP, KEY_DIRECTORY, set_directory},
    {"ready", SECTION_APP, KEY_READY, set_ready},
    {"ready_timeout", SECTION_APP, KEY_READY_TIMEOUT, set_ready_timeout},
    {"ready_delay", SECTION_APP, KEY_READY_DELAY, set_ready_delay},
    {"stop_signal", SECTION_APP, KEY_STOP_SIGNAL, set_stop_signal},
    {"stop_timeout", SECTION_APP, KEY_STOP_TIMEOUT, set_stop_timeout},
    {"intercept_bind", SECTION_APP, KEY_INTERCEPT_BIND, set_intercept_bind},
    {"intercept_accept", SECTION_APP, KEY_INTERCEPT_ACCEPT,
        set_intercept_accept},
    {"address", SECTION_LISTEN, LKEY_ADDRESS, set_address},
    {"backlog", SECTION_LISTEN, LKEY_BACKLOG, set_backlog},
    {"v6only", SECTION_LISTEN, LKEY_V6ONLY, set_v6only},
    {"mode", SECTION_LISTEN, LKEY_MODE, set_mode},
};

/* ---- env.NAME ---- */

/*
 * Variables the worker gets from baton itself: letting the file override
 * them would silently break the socket handover.
 */
static int
baton_owned_var(const char *name)
{
	return strncmp(name, "LISTEN_", 7) == 0 ||
	       strncmp(name, "EINHORN_", 8) == 0 ||
	       strncmp(name, "BATON_", 6) == 0 ||
	       strcmp(name, "NOTIFY_SOCKET") == 0 ||
	       strcmp(name, "SERVER_STARTER_PORT") == 0;
}

static int
handle_env(struct parse_state *st, const char *key, const char *value)
{
	struct config *cfg = st->cfg;
	const char *name = key + 4;
	size_t nlen = strlen(name), i;
	char **env;
	int *lines;
	char *entry;

	for (i = 0; i < nlen; i++) {
		if (!(isalpha((unsigned char)name[i]) || name[i] == '_' ||
		        (i > 0 && isdigit((unsigned char)name[i]))))
			break;
	}
	if (nlen == 0 || i < nlen) {
		parse_fail(st, st->lineno,
		    "%s: \"%s\" is not a variable name (letters, digits and "
		    "'_', not starting with a digit)",
		    key, name);
		return 0;
	}
	if (baton_owned_var(name)) {
		parse_fail(st, st->lineno,
		    "%s: baton sets this variable itself (LISTEN_*, "
		    "NOTIFY_SOCKET, SERVER_STARTER_PORT, EINHORN_*, BATON_*)",
		    key);
		return 0;
	}
	for (i = 0; i < cfg->nenv; i++) {
		if (strncmp(cfg->env[i], name, nlen) == 0 &&
		    cfg->env[i][nlen] == '=') {
			parse_fail(st, st->lineno,
			    "%s: duplicate key (first set on line %d)", key,
			    st->env_lines[i]);
			return 0;
		}
	}
	env = realloc(cfg->env, (cfg->nenv + 2) * sizeof(*env));
	if (env != NULL)
		cfg->env = env;
	lines = realloc(st->env_lines, (cfg->nenv + 1) * sizeof(*lines));
	if (lines != NULL)
		st->env_lines = lines;
	entry = malloc(nlen + strlen(value) + 2);
	if (env == NULL || lines == NULL || entry == NULL) {
		free(entry);
		parse_fail(st, st->lineno, "%s: out of memory", key);
		return 0;
	}
	sprintf(entry, "%s=%s", name, value);
	st->env_lines[cfg->nenv] = st->lineno;
	cfg->env[cfg->nenv++] = entry;
	cfg->env[cfg->nenv] = NULL;
	return 1;
}

/* ---- the inih handler ---- */

static int
append_command(struct parse_state *st, const char *value)
{
	char *cmd;
	size_t old = strlen(st->cfg->command);

	cmd = realloc(st->cfg->command, old + strlen(value) + 2);
	if (cmd == NULL) {
		parse_fail(st, st->lineno, "command: out of memory");
		return 0;
	}
	/* "command =" alone, then the command on the indented lines. */
	if (old > 0)
		cmd[old++] = ' ';
	strcpy(cmd + old, value);
	st->cfg->command = cmd;
	return 1;
}

static int
config_handler(
    void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *st = user;
	char why[CONFIG_ERR_MAX / 2];
	const struct key_def *def = NULL;
	int *lines;
	size_t i;

	/* The reader tracks sections itself: inih truncates long names. */
	(void)section;
	if (st->failed)
		return 0;
	if (st->continuation) {
		if (st->section == SECTION_APP && strcmp(key, "command") == 0 &&
		    st->cfg->command != NULL)
			return append_command(st, value);
		parse_fail(st, st->lineno,
		    "%s: continuation lines are only allowed for command", key);
		return 0;
	}
	if (key[0] == '\0') {
		parse_fail(st, st->lineno, "missing key name before \"=\"");
		return 0;
	}
	if (st->section == SECTION_NONE) {
		parse_fail(st, st->lineno,
		    "%s: key outside any section (start with [baton], [app] "
		    "or [listen NAME])",
		    key);
		return 0;
	}
	if (st->section == SECTION_APP && strncmp(key, "env.", 4) == 0)
		return handle_env(st, key, value);
	for (i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++) {
		if (key_defs[i].section == st->section &&
		    strcmp(key_defs[i].name, key) == 0) {
			def = &key_defs[i];
			break;
		}
	}
	if (def == NULL) {
		parse_fail(st, st->lineno, "%s: unknown key in %s", key,
		    st->section_text);
		return 0;
	}
	if (st->section == SECTION_LISTEN)
		lines = st->llines[st->listener].line;
	else
		lines = st->line;
	if (lines[def->slot] != 0) {
		parse_fail(st, st->lineno,
		    "%s: duplicate key (first set on line %d)", key,
		    lines[def->slot]);
		return 0;
	}
	lines[def->slot] = st->lineno;
	if (def->set(st, value, why, sizeof(why)) == -1) {
		parse_fail(st, st->lineno, "%s: %s", key, why);
		return 0;
	}
	return 1;
}

/* ---- the line reader ---- */

static int
source_getc(struct parse_state *st)
{
	if (st->fp != NULL)
		return getc(st->fp);
	if (*st->text == '\0')
		return EOF;
	return (unsigned char)*st->text++;
}

static int
source_peek(struct parse_state *st)
{
	int c;

	if (st->fp == NULL)
		return *st->text == '\0' ? EOF : (unsigned char)*st->text;
	c = getc(st->fp);
	if (c != EOF)
		ungetc(c, st->fp);
	return c;
}

/*
 * inih's rule for where a value ends: at one of chars, or at a ';' that
 * follows whitespace (an inline comment). Mirrored here so that the reader
 * classifies lines exactly as inih will.
 */
static char *
find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	       !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static int
start_listen(struct parse_state *st, const char *name, size_t len)
{
	struct config *cfg = st->cfg;
	struct listen_config *l;
	struct listen_lines *ll;
	int i;

	i = listener_index(cfg, name, len);
	if (i != -1) {
		parse_fail(st, st->lineno,
		    "%s: duplicate section (first on line %d)",
		    st->section_text, cfg->listeners[i].line);
		return -1;
	}
	if (cfg->nlisteners == CONFIG_LISTENERS_MAX) {
		parse_fail(st, st->lineno,
		    "%s: too many [listen] sections (at most %d)",
		    st->section_text, CONFIG_LISTENERS_MAX);
		return -1;
	}
	l = realloc(cfg->listeners, (cfg->nlisteners + 1) * sizeof(*l));
	if (l != NULL)
		cfg->listeners = l;
	ll = realloc(st->llines, (cfg->nlisteners + 1) * sizeof(*ll));
	if (ll != NULL)
		st->llines = ll;
	if (l == NULL || ll == NULL) {
		parse_fail(st, st->lineno, "out of memory");
		return -1;
	}
	l += cfg->nlisteners;
	memset(l, 0, sizeof(*l));
	memset(&ll[cfg->nlisteners], 0, sizeof(*ll));
	l->name = strndup(name, len);
	if (l->name == NULL) {
		parse_fail(st, st->lineno, "out of memory");
		return -1;
	}
	l->backlog = BACKLOG_DEFAULT;
	l->mode = -1;
	l->line = st->lineno;
	st->listener = cfg->nlisteners++;
	st->section = SECTION_LISTEN;
	return 0;
}

/* A "[...]" line; s starts at the '['. Returns 0, or -1 after parse_fail. */
static int
start_section(struct parse_state *st, char *s)
{
	char *end, *word, *rest;
	size_t wlen;
	int *first;

	end = find_chars_or_comment(s + 1, "]");
	if (*end != ']') {
		rstrip(s);
		parse_fail(st, st->lineno,
		    "%s: missing \"]\" at the end of the section header", s);
		return -1;
	}
	*end = '\0';
	for (rest = end + 1; isspace((unsigned char)*rest); rest++)
		;
	for (word = s + 1; isspace((unsigned char)*word); word++)
		;
	rstrip(word);
	snprintf(st->section_text, sizeof(st->section_text), "[%s]", word);
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		parse_fail(st, st->lineno, "%s: unexpected text after \"]\"",
		    st->section_text);
		return -1;
	}
	wlen = strcspn(word, " \t");
	for (rest = word + wlen; isspace((unsigned char)*rest); rest++)
		;
	if (wlen == 6 && strncmp(word, "listen", 6) == 0) {
		if (*rest == '\0') {
			parse_fail(st, st->lineno,
			    "%s: missing name (use [listen NAME])",
			    st->section_text);
			return -1;
		}
		if (!valid_listen_name(rest, strlen(rest))) {
			parse_fail(st, st->lineno,
			    "%s: \"%s\" is not a valid name " LISTEN_NAME_HINT,
			    st->section_text, rest);
			return -1;
		}
		snprintf(st->section_text, sizeof(st->section_text),
		    "[listen %s]", rest);
		return start_listen(st, rest, strlen(rest));
	}
	if (*rest == '\0' && strcmp(word, "baton") == 0) {
		st->section = SECTION_BATON;
		first = &st->baton_line;
	} else if (*rest == '\0' && strcmp(word, "app") == 0) {
		st->section = SECTION_APP;
		first = &st->app_line;
	} else {
		parse_fail(
		    st, st->lineno, "%s: unknown section", st->section_text);
		return -1;
	}
	if (*first != 0) {
		parse_fail(st, st->lineno,
		    "%s: duplicate section (first on line %d)",
		    st->section_text, *first);
		return -1;
	}
	*first = st->lineno;
	return 0;
}

/*
 * Read one physical line into buf, at most num - 1 characters, and no
 * newline. Returns the length, -1 at end of input, or -2 when the line is
 * too long or holds a NUL byte (already reported).
 */
static int
read_line(struct parse_state *st, char *buf, int num)
{
	int c, n = 0, too_long = 0, nul = 0;

	c = source_getc(st);
	if (c == EOF)
		return -1;
	st->lineno++;
	for (; c != EOF && c != '\n'; c = source_getc(st)) {
		/* A CR of a CRLF ending is no content. */
		if (c == '\r') {
			int next = source_peek(st);

			if (next == '\n' || next == EOF)
				continue;
		}
		if (c == '\0')
			nul = 1;
		if (n < num - 1)
			buf[n++] = (char)c;
		else
			too_long = 1;
	}
	buf[n] = '\0';
	if (too_long) {
		parse_fail(st, st->lineno, "line too long (max %d characters)",
		    num - 1);
		return -2;
	}
	if (nul) {
		parse_fail(st, st->lineno, "line contains a NUL byte");
		return -2;
	}
	return n;
}

/*
 * inih's fgets-style reader. Doing the reading here gives what inih 55
 * lacks: line numbers for the handler, over-long lines reported rather than
 * split into two, sections with names longer than inih keeps, sections
 * without keys, and stopping at the first error.
 */
static char *
config_reader(char *buf, int num, void *stream)
{
	struct parse_state *st = stream;
	char *s, *end;
	int n, indented;

	st->continuation = 0;
	if (st->failed)
		return NULL;
	n = read_line(st, buf, num);
	if (n < 0) {
		if (n == -1 && st->fp != NULL && ferror(st->fp))
			parse_fail(st, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (st->lineno == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
		memmove(buf, buf + 3, (size_t)n - 2);
	for (s = buf; isspace((unsigned char)*s); s++)
		;
	indented = s > buf;
	if (*s == '\0' || *s == ';' || *s == '#')
		return buf;
	if (st->prev_key && indented) {
		/* inih 55 strips inline comments on key lines only. */
		*find_chars_or_comment(s, NULL) = '\0';
		st->continuation = 1;
		return buf;
	}
	if (*s == '[') {
		st->prev_key = 0;
		if (start_section(st, s) == -1)
			return NULL;
		/* inih only needs to see a section start; keep it short. */
		snprintf(buf, (size_t)num, "[s]");
		return buf;
	}
	end = find_chars_or_comment(s, "=:");
	if (*end != '=' && *end != ':') {
		rstrip(s);
		parse_fail(st, st->lineno,
		    "\"%s\": expected \"key = value\" or a [section] header",
		    s);
		return NULL;
	}
	st->prev_key = 1;
	return buf;
}

/* ---- checks once the whole file is read ---- */

static void
check_command(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	struct config_placeholder ph;
	char why[CONFIG_ERR_MAX / 2];
	const char *s;
	int line = st->line[KEY_COMMAND], i, r;

	if (cfg->command == NULL) {
		parse_fail(st, st->app_line, "command: missing");
		return;
	}
	cfg->argv =
	    config_split_command(cfg->command, &cfg->argc, why, sizeof(why));
	if (cfg->argv == NULL) {
		parse_fail(st, line, "command: %s", why);
		return;
	}
	for (i = 0; i < cfg->argc; i++) {
		s = cfg->argv[i];
		while ((r = config_find_placeholder(
		            s, &ph, why, sizeof(why))) == 1) {
			if (listener_index(cfg, ph.name, ph.namelen) == -1) {
				parse_fail(st, line,
				    "command: %.*s: no [listen %.*s] section",
				    (int)ph.len, ph.start, (int)ph.namelen,
				    ph.name);
				return;
			}
			s = ph.start + ph.len;
		}
		if (r == -1) {
			parse_fail(st, line, "command: %s", why);
			return;
		}
	}
}

static void
check_listeners(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	struct listen_config *l, *o;
	struct listen_lines *ll;
	size_t i, j;

	for (i = 0; i < cfg->nlisteners; i++) {
		l = &cfg->listeners[i];
		ll = &st->llines[i];
		if (ll->line[LKEY_ADDRESS] == 0) {
			parse_fail(st, l->line, "address: missing");
			continue;
		}
		if (ll->line[LKEY_V6ONLY] != 0 &&
		    l->addr.ss.ss_family != AF_INET6)
			parse_fail(st, ll->line[LKEY_V6ONLY],
			    "v6only: only valid for an IPv6 address (address "
			    "is %s)",
			    l->addr.text);
		if (ll->line[LKEY_MODE] != 0 && l->addr.ss.ss_family != AF_UNIX)
			parse_fail(st, ll->line[LKEY_MODE],
			    "mode: only valid for a unix: address (address is "
			    "%s)",
			    l->addr.text);
		for (j = 0; j < i; j++) {
			o = &cfg->listeners[j];
			if (st->llines[j].line[LKEY_ADDRESS] != 0 &&
			    address_equal(&l->addr, &o->addr))
				parse_fail(st, ll->line[LKEY_ADDRESS],
				    "address: %s is already used by [listen "
				    "%s] (line %d)",
				    l->addr.text, o->name,
				    st->llines[j].line[LKEY_ADDRESS]);
		}
	}
}

static void
check_config(struct parse_state *st)
{
	struct config *cfg = st->cfg;

	if (st->app_line == 0) {
		parse_fail(st, 0, "[app]: missing section");
		return;
	}
	check_command(st);
	check_listeners(st);
	if (cfg->ready == READY_LISTEN && !cfg->intercept_bind)
		parse_fail(st, st->line[KEY_READY],
		    "ready: listen needs intercept_bind = yes");
	/* A check that cannot pass in time would roll back every reload. */
	if ((cfg->ready == READY_DELAY ? cfg->ready_arg_ms : 0) +
		cfg->ready_delay_ms >=
	    cfg->ready_timeout_ms) {
		int slot = KEY_READY_TIMEOUT;

		if (st->line[slot] == 0)
			slot = st->line[KEY_READY_DELAY] > st->line[KEY_READY] ?
			    KEY_READY_DELAY :
			    KEY_READY;
		parse_fail(st, st->line[slot],
		    "%s: ready_timeout (%ld ms) is not longer than the "
		    "readiness delay (%ld ms) plus ready_delay (%ld ms): every "
		    "worker would time out",
		    slot == KEY_READY_TIMEOUT ? "ready_timeout" :
		    slot == KEY_READY_DELAY   ? "ready_delay" :
						"ready",
		    cfg->ready_timeout_ms,
		    cfg->ready == READY_DELAY ? cfg->ready_arg_ms : 0,
		    cfg->ready_delay_ms);
	}
	if (cfg->group != NULL)
		cfg->gid = st->group_gid;
	else if (cfg->user != NULL)
		cfg->gid = st->user_gid;
	if (cfg->log == NULL && !st->failed &&
	    (cfg->log = strdup("stderr")) == NULL)
		parse_fail(st, 0, "out of memory");
}

/* The one code path behind config_load and config_load_string. */
static struct config *
parse(struct parse_state *st)
{
	struct config *cfg;
	int r;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || (cfg->path = strdup(st->name)) == NULL ||
	    (cfg->env = calloc(1, sizeof(*cfg->env))) == NULL) {
		config_free(cfg);
		parse_fail(st, 0, "out of memory");
		return NULL;
	}
	st->cfg = cfg;
	cfg->workers = 1;
	cfg->ready = READY_NONE;
	cfg->ready_timeout_ms = READY_TIMEOUT_MS;
	cfg->stop_signal = SIGTERM;
	cfg->stop_timeout_ms = STOP_TIMEOUT_MS;

	r = ini_parse_stream(config_reader, st, config_handler, st);
	if (r != 0 && !st->failed) {
		if (r > 0)
			parse_fail(st, r, "syntax error");
		else
			parse_fail(st, 0, "out of memory");
	}
	if (!st->failed)
		check_config(st);
	free(st->llines);
	free(st->env_lines);
	if (st->failed) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct parse_state st;
	struct config *cfg;

	memset(&st, 0, sizeof(st));
	st.name = path;
	st.err = err;
	st.errlen = errlen;
	st.fp = fopen(path, "re");
	if (st.fp == NULL) {
		parse_fail(&st, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	cfg = parse(&st);
	fclose(st.fp);
	return cfg;
}

struct config *
config_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct parse_state st;

	memset(&st, 0, sizeof(st));
	st.name = name;
	st.err = err;
	st.errlen = errlen;
	st.text = text;
	return parse(&st);
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->pidfile);
	free(cfg->control);
	free(cfg->control_group);
	free(cfg->log);
	free(cfg->user);
	free(cfg->group);
	free(cfg->command);
	config_free_argv(cfg->argv);
	free(cfg->directory);
	free(cfg->probe_host);
	free(cfg->probe_path);
	for (i = 0; i < cfg->nenv; i++)
		free(cfg->env[i]);
	free(cfg->env);
	for (i = 0; i < cfg->nlisteners; i++)
		free(cfg->listeners[i].name);
	free(cfg->listeners);
	free(cfg);
}

int
config_listener_index(const struct config *cfg, const char *name)
{
	return listener_index(cfg, name, strlen(name));
}

int
config_parse_duration(const char *s, long *ms, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		long ms;
	} units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60 * 1000},
	    {"h", 3600 * 1000}};
	const char *p;
	long v = 0;
	size_t i;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		/* Saturate: past the maximum the exact value is moot. */
		if (v <= DURATION_MAX_MS)
			v = v * 10 + (*p - '0');
	}
	for (i = 0; p > s && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (v > DURATION_MAX_MS / units[i].ms) {
			snprintf(
			    err, errlen, "\"%s\" is too long (max 24h)", s);
			return -1;
		}
		*ms = v * units[i].ms;
		return 0;
	}
	snprintf(err, errlen, "\"%s\" is not a duration " DURATION_HINT, s);
	return -1;
}

void
config_free_argv(char **argv)
{
	char **p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char **
config_split_command(const char *s, int *argc, char *err, size_t errlen)
{
	char **argv = NULL, **nv, *word, *w;
	const char *p = s;
	int n = 0;

	/* No word is longer than the whole line. */
	word = malloc(strlen(s) + 1);
	if (word == NULL)
		goto nomem;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		for (w = word; *p != '\0' && !is_blank(*p);) {
			if (*p == '\'') {
				for (p++; *p != '\0' && *p != '\''; p++)
					*w++ = *p;
				if (*p++ == '\0') {
					snprintf(err, errlen,
					    "unterminated single quote");
					goto fail;
				}
			} else if (*p == '"') {
				for (p++; *p != '\0' && *p != '"'; p++) {
					if (*p == '\\' &&
					    (p[1] == '"' || p[1] == '\\'))
						p++;
					*w++ = *p;
				}
				if (*p++ == '\0') {
					snprintf(err, errlen,
					    "unterminated double quote");
					goto fail;
				}
			} else if (*p == '\\') {
				if (p[1] == '\0') {
					snprintf(
					    err, errlen, "trailing backslash");
					goto fail;
				}
				*w++ = p[1];
				p += 2;
			} else {
				*w++ = *p++;
			}
		}
		nv = realloc(argv, (size_t)(n + 2) * sizeof(*argv));
		if (nv == NULL)
			goto nomem;
		argv = nv;
		argv[n] = strndup(word, (size_t)(w - word));
		argv[n + 1] = NULL;
		if (argv[n++] == NULL)
			goto nomem;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty command");
		goto fail;
	}
	free(word);
	*argc = n;
	return argv;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(word);
	config_free_argv(argv);
	return NULL;
}

int
config_find_placeholder(
    const char *s, struct config_placeholder *ph, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		enum config_placeholder_kind kind;
	} kinds[] = {{"{fd:", CONFIG_PLACEHOLDER_FD},
	    {"{addr:", CONFIG_PLACEHOLDER_ADDR}};
	const char *close, *name;
	size_t i, plen;

	for (; (s = strchr(s, '{')) != NULL; s++) {
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			plen = strlen(kinds[i].prefix);
			if (strncmp(s, kinds[i].prefix, plen) == 0)
				break;
		}
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			continue;
		name = s + plen;
		close = strchr(name, '}');
		if (close == NULL) {
			snprintf(err, errlen,
			    "\"%s\": unterminated "
			    "placeholder " PLACEHOLDER_HINT,
			    s);
			return -1;
		}
		if (!valid_listen_name(name, (size_t)(close - name))) {
			snprintf(err, errlen,
			    "%.*s: \"%.*s\" is not a listener "
			    "name " LISTEN_NAME_HINT,
			    (int)(close + 1 - s), s, (int)(close - name), name);
			return -1;
		}
		ph->kind = kinds[i].kind;
		ph->start = s;
		ph->len = (size_t)(close + 1 - s);
		ph->name = name;
		ph->namelen = (size_t)(close - name);
		return 1;
	}
	return 0;
}

/* Names as kill -l prints them; numbers beyond are real-time signals. */
static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"ILL", SIGILL},
    {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},
    {"BUS", SIGBUS},
    {"FPE", SIGFPE},
    {"KILL", SIGKILL},
    {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
    {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},
    {"URG", SIGURG},
    {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},
    {"IO", SIGIO},
    {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int
config_parse_signal(const char *s)
{
	long n;
	size_t i;
	char why[64];

	if (*s >= '0' && *s <= '9') {
		if (parse_number(s, 1, SIGNAL_MAX, &n, why, sizeof(why)) == -1)
			return -1;
		return (int)n;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].sig;
	}
	return -1;
}

const char *
config_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (signals[i].sig == sig)
			return signals[i].name;
	}
	return "?";
}

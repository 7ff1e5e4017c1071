/*
 * config.c: read a baton ini file with inih and validate it into a config.
 *
 * Owns: line numbers, section headers, the inih reader and handler, the
 * checks across keys, config_load / config_free. inih classifies the lines;
 * config_keys.c knows the keys and their values; config_file.c reads the
 * file. Must not touch: the system (no user lookups, no sockets), so that a
 * reload can run it as often as it likes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "config_file.h"
#include "config_keys.h"
#include "parse.h"

/* Where each key of one section was set (by config_keys_index), 0: not. */
struct key_lines {
	int line[CONFIG_KEYS_MAX];
};

/*
 * Everything one parse needs. inih asks the reader for a line, then calls
 * the handler for that line (if it holds a key) before asking for the next
 * one: so lineno always names the line being handled.
 */
struct parse_state {
	struct config *cfg;
	const char *name; /* for messages */

	const char *text; /* the whole file */
	size_t len, pos;

	int lineno;
	int handled;         /* the handler ran for line lineno */
	const char *content; /* first non-blank of the line in inih's buffer */
	char raw[CONFIG_LINE_MAX + 1]; /* the line as read: inih edits its
	                                  own copy */

	enum config_section section;
	char section_text[CONFIG_LISTEN_NAME_MAX + 16]; /* "[listen NAME]" */
	size_t listener;                         /* [listen]: its index */
	int section_line[CONFIG_SECTION_LISTEN]; /* [baton], [app] */

	struct key_lines lines;   /* [baton] and [app] */
	struct key_lines *llines; /* parallel to cfg->listeners */
	int *env_lines;           /* parallel to cfg->env */

	char *err;
	size_t errlen;
	int failed;
	int err_line; /* line of the recorded error, 0 for "file: ..." */
};

/*
 * Record "file:line: msg". Only the first error of the file is kept: the
 * one with the lowest line, so that the message is the same whatever order
 * the reader, inih and the checks after parsing find them in.
 */
static void __attribute__((format(printf, 3, 4)))
config_error(struct parse_state *st, int line, const char *fmt, ...)
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

int
config_listen_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CONFIG_LISTEN_NAME_MAX)
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

static char *
lskip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static void
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* The line of key k in the current section, or of the [baton]/[app] one. */
static int
key_line(struct parse_state *st, struct key_lines *lines, const char *name,
    enum config_section s)
{
	const struct config_key *k = config_keys_find(s, name);

	if (lines == NULL)
		lines = &st->lines;
	return k == NULL ? 0 : lines->line[config_keys_index(k)];
}

/* ---- env.NAME ---- */

static int
handle_env(struct parse_state *st, const char *key, const char *value)
{
	struct config *cfg = st->cfg;
	char why[CONFIG_ERR_MAX / 2];
	size_t nlen = strlen(key + 4), i;
	int *lines;

	for (i = 0; i < cfg->nenv; i++) {
		if (strncmp(cfg->env[i], key + 4, nlen) == 0 &&
		    cfg->env[i][nlen] == '=') {
			config_error(st, st->lineno,
			    "%s: duplicate key (first set on line %d)", key,
			    st->env_lines[i]);
			return 0;
		}
	}
	lines = realloc(st->env_lines, (cfg->nenv + 1) * sizeof(*lines));
	if (lines == NULL) {
		config_error(st, st->lineno, "%s: out of memory", key);
		return 0;
	}
	st->env_lines = lines;
	if (config_keys_set_env(cfg, key + 4, value, why, sizeof(why)) == -1) {
		config_error(st, st->lineno, "%s: %s", key, why);
		return 0;
	}
	st->env_lines[cfg->nenv - 1] = st->lineno;
	return 1;
}

/* ---- section headers ---- */

/* Where the keys of the current section go. */
static void *
section_object(struct parse_state *st)
{
	if (st->section == CONFIG_SECTION_LISTEN)
		return &st->cfg->listeners[st->listener];
	return st->cfg;
}

static struct key_lines *
section_lines(struct parse_state *st)
{
	if (st->section == CONFIG_SECTION_LISTEN)
		return &st->llines[st->listener];
	return &st->lines;
}

static int
start_listen(struct parse_state *st, const char *name, size_t len)
{
	struct config *cfg = st->cfg;
	struct listen_config *l;
	struct key_lines *ll;
	char why[CONFIG_ERR_MAX / 2];
	int i;

	i = listener_index(cfg, name, len);
	if (i != -1) {
		config_error(st, st->lineno,
		    "%s: duplicate section (first on line %d)",
		    st->section_text, cfg->listeners[i].line);
		return -1;
	}
	if (cfg->nlisteners == CONFIG_LISTENERS_MAX) {
		config_error(st, st->lineno,
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
		config_error(st, st->lineno, "out of memory");
		return -1;
	}
	l += cfg->nlisteners;
	memset(l, 0, sizeof(*l));
	memset(&ll[cfg->nlisteners], 0, sizeof(*ll));
	/* Counted at once, so that config_free sees what is allocated. */
	st->listener = cfg->nlisteners++;
	st->section = CONFIG_SECTION_LISTEN;
	l->line = st->lineno;
	if ((l->name = strndup(name, len)) == NULL ||
	    config_keys_defaults(CONFIG_SECTION_LISTEN, l, why, sizeof(why)) ==
	        -1) {
		config_error(st, st->lineno, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * A section header, s at its '['. inih 55 cannot report a section to the
 * handler (INI_CALL_HANDLER_ON_NEW_SECTION is off in Debian's build) and
 * keeps only 49 bytes of its name, so the name is read here, from the line
 * inih took as a header. Returns 0, or -1 after config_error.
 */
static int
start_section(struct parse_state *st, char *s)
{
	enum config_section sec;
	char *end, *word, *rest;
	size_t wlen;

	if ((end = strchr(s + 1, ']')) == NULL) {
		rstrip(s);
		config_error(st, st->lineno,
		    "%s: missing \"]\" at the end of the section header", s);
		return -1;
	}
	*end = '\0';
	rest = lskip(end + 1);
	word = lskip(s + 1);
	rstrip(word);
	snprintf(st->section_text, sizeof(st->section_text), "[%s]", word);
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		config_error(st, st->lineno, "%s: unexpected text after \"]\"",
		    st->section_text);
		return -1;
	}
	wlen = strcspn(word, " \t");
	rest = lskip(word + wlen);
	if (wlen == 6 && strncmp(word, "listen", 6) == 0) {
		if (*rest == '\0') {
			config_error(st, st->lineno,
			    "%s: missing name (use [listen NAME])",
			    st->section_text);
			return -1;
		}
		if (!config_listen_name_valid(rest, strlen(rest))) {
			config_error(st, st->lineno,
			    "%s: \"%s\" is not a valid "
			    "name " CONFIG_LISTEN_NAME_HINT,
			    st->section_text, rest);
			return -1;
		}
		snprintf(st->section_text, sizeof(st->section_text),
		    "[listen %s]", rest);
		return start_listen(st, rest, strlen(rest));
	}
	for (sec = CONFIG_SECTION_BATON; sec < CONFIG_SECTION_LISTEN; sec++) {
		if (*rest == '\0' &&
		    strcmp(word, config_keys_section_name(sec)) == 0)
			break;
	}
	if (sec == CONFIG_SECTION_LISTEN) {
		config_error(
		    st, st->lineno, "%s: unknown section", st->section_text);
		return -1;
	}
	if (st->section_line[sec] != 0) {
		config_error(st, st->lineno,
		    "%s: duplicate section (first on line %d)",
		    st->section_text, st->section_line[sec]);
		return -1;
	}
	st->section_line[sec] = st->lineno;
	st->section = sec;
	return 0;
}

/* ---- the inih handler ---- */

/*
 * inih 55 leaves an inline comment (" ; ...") on a continuation line; later
 * inih strips it, as it does on key lines. Strip it the same way, so the
 * value does not depend on the version.
 */
static void
strip_inline_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++) {
		if (*p == ';' && p > s && isspace((unsigned char)p[-1])) {
			*p = '\0';
			rstrip(s);
			return;
		}
	}
}

static int
config_continue(struct parse_state *st, const char *key, const char *value)
{
	const struct config_key *k = config_keys_find(st->section, key);
	char why[CONFIG_ERR_MAX / 2], *v;
	int r;

	if ((v = strdup(value)) == NULL) {
		config_error(st, st->lineno, "%s: out of memory", key);
		return 0;
	}
	strip_inline_comment(v);
	r = -1;
	if (k != NULL)
		r = config_keys_continue(
		    k, section_object(st), v, why, sizeof(why));
	else
		snprintf(why, sizeof(why),
		    "continuation lines are only allowed for command");
	free(v);
	if (r == -1) {
		config_error(st, st->lineno, "%s: %s", key, why);
		return 0;
	}
	return 1;
}

static int
config_handler(
    void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *st = user;
	char why[CONFIG_ERR_MAX / 2];
	const struct config_key *k;
	struct key_lines *lines;
	int *line;

	/* inih truncates section names: start_section tracks them. */
	(void)section;
	st->handled = 1;
	if (st->failed)
		return 0;
	/*
	 * inih passes a key line's name as a pointer into the line it read,
	 * and a continuation line (indented, after a key) with the previous
	 * key's name from its own buffer: that is how its choice shows.
	 */
	if (key != st->content)
		return config_continue(st, key, value);
	if (key[0] == '\0') {
		config_error(st, st->lineno, "missing key name before \"=\"");
		return 0;
	}
	if (st->section == CONFIG_SECTION_NONE) {
		config_error(st, st->lineno,
		    "%s: key outside any section (start with [baton], [app] "
		    "or [listen NAME])",
		    key);
		return 0;
	}
	if ((k = config_keys_find(st->section, key)) == NULL) {
		config_error(st, st->lineno, "%s: unknown key in %s", key,
		    st->section_text);
		return 0;
	}
	if (k->type == CONFIG_KEY_ENV)
		return handle_env(st, key, value);
	lines = section_lines(st);
	line = &lines->line[config_keys_index(k)];
	if (*line != 0) {
		config_error(st, st->lineno,
		    "%s: duplicate key (first set on line %d)", key, *line);
		return 0;
	}
	*line = st->lineno;
	if (config_keys_set(k, section_object(st), value, why, sizeof(why)) ==
	    -1) {
		config_error(st, st->lineno, "%s: %s", key, why);
		return 0;
	}
	return 1;
}

/* ---- the line reader ---- */

/*
 * The line inih has just been through: if it called no handler for a line
 * that starts with '[', it took it as a section header (a continuation or
 * a key would have reached the handler, a comment cannot start so).
 */
static void
line_done(struct parse_state *st)
{
	char *s;

	if (st->lineno == 0 || st->handled)
		return;
	s = lskip(st->raw);
	if (*s == '[')
		(void)start_section(st, s);
}

/*
 * Read one physical line into st->raw, at most max characters, without its
 * newline (nor the CR of a CRLF). Returns the length, -1 at the end, or -2
 * when the line is too long or holds a NUL byte (already reported).
 */
static int
read_line(struct parse_state *st, int max)
{
	int n = 0, too_long = 0, nul = 0;
	char c;

	if (st->pos == st->len)
		return -1;
	st->lineno++;
	for (; st->pos < st->len && st->text[st->pos] != '\n'; st->pos++) {
		c = st->text[st->pos];
		/* A CR of a CRLF ending is no content. */
		if (c == '\r' &&
		    (st->pos + 1 == st->len || st->text[st->pos + 1] == '\n'))
			continue;
		if (c == '\0')
			nul = 1;
		if (n < max)
			st->raw[n++] = c;
		else
			too_long = 1;
	}
	if (st->pos < st->len)
		st->pos++; /* the newline */
	st->raw[n] = '\0';
	if (too_long) {
		config_error(
		    st, st->lineno, "line too long (max %d characters)", max);
		return -2;
	}
	if (nul) {
		config_error(st, st->lineno, "line contains a NUL byte");
		return -2;
	}
	return n;
}

/*
 * inih's fgets-style reader. It only deals in physical lines: it counts
 * them for the handler, reports an over-long line rather than letting inih
 * split it, refuses NUL bytes, and stops inih at the first error. Which
 * line is a comment, a key or a continuation is inih's call.
 */
static char *
config_reader(char *buf, int num, void *stream)
{
	struct parse_state *st = stream;
	int n, max = num - 1 < CONFIG_LINE_MAX ? num - 1 : CONFIG_LINE_MAX;
	char *raw = st->raw;

	line_done(st);
	if (st->failed || (n = read_line(st, max)) < 0)
		return NULL;
	st->handled = 0;
	/* inih 55 would count the BOM as indentation of the first line. */
	if (st->lineno == 1 && strncmp(raw, "\xef\xbb\xbf", 3) == 0) {
		memmove(raw, raw + 3, (size_t)n - 2);
		n -= 3;
	}
	memcpy(buf, raw, (size_t)n + 1);
	st->content = lskip(buf);
	return buf;
}

/* inih found line r wrong without asking the handler: no "=" or ":". */
static void
syntax_error(struct parse_state *st, int r)
{
	char line[CONFIG_LINE_MAX + 1];
	const char *p = st->text, *end = st->text + st->len, *eol;
	size_t n;
	int i;

	for (i = 1; i < r && p < end; i++) {
		eol = memchr(p, '\n', (size_t)(end - p));
		p = eol != NULL ? eol + 1 : end;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	n = (size_t)((eol != NULL ? eol : end) - p);
	if (n > CONFIG_LINE_MAX)
		n = CONFIG_LINE_MAX;
	memcpy(line, p, n);
	line[n] = '\0';
	rstrip(line);
	config_error(st, r,
	    "\"%s\": expected \"key = value\" or a [section] header",
	    lskip(line));
}

/* ---- checks once the whole file is read ---- */

static void
check_required(struct parse_state *st, enum config_section s,
    struct key_lines *lines, int section_line)
{
	const struct config_key *k = NULL;

	while ((k = config_keys_next(k)) != NULL) {
		if (k->section == s && (k->flags & CONFIG_KEY_REQUIRED) &&
		    lines->line[config_keys_index(k)] == 0)
			config_error(st, section_line, "%s: missing", k->name);
	}
}

static void
check_command(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	struct config_placeholder ph;
	char why[CONFIG_ERR_MAX / 2];
	const char *s;
	int line = key_line(st, NULL, "command", CONFIG_SECTION_APP), i, r;

	if (cfg->command == NULL)
		return; /* check_required said so */
	cfg->argv =
	    config_command_split(cfg->command, &cfg->argc, why, sizeof(why));
	if (cfg->argv == NULL) {
		config_error(st, line, "command: %s", why);
		return;
	}
	for (i = 0; i < cfg->argc; i++) {
		s = cfg->argv[i];
		while ((r = config_command_placeholder(
		            s, &ph, why, sizeof(why))) == 1) {
			if (listener_index(cfg, ph.name, ph.namelen) == -1) {
				config_error(st, line,
				    "command: %.*s: no [listen %.*s] section",
				    (int)ph.len, ph.start, (int)ph.namelen,
				    ph.name);
				return;
			}
			s = ph.start + ph.len;
		}
		if (r == -1) {
			config_error(st, line, "command: %s", why);
			return;
		}
	}
}

static void
check_listeners(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	struct listen_config *l, *o;
	struct key_lines *ll;
	int addr, v6only, mode;
	size_t i, j;

	for (i = 0; i < cfg->nlisteners; i++) {
		l = &cfg->listeners[i];
		ll = &st->llines[i];
		check_required(st, CONFIG_SECTION_LISTEN, ll, l->line);
		addr = key_line(st, ll, "address", CONFIG_SECTION_LISTEN);
		if (addr == 0)
			continue;
		v6only = key_line(st, ll, "v6only", CONFIG_SECTION_LISTEN);
		mode = key_line(st, ll, "mode", CONFIG_SECTION_LISTEN);
		if (v6only != 0 && l->addr.ss.ss_family != AF_INET6)
			config_error(st, v6only,
			    "v6only: only valid for an IPv6 address (address "
			    "is %s)",
			    l->addr.text);
		if (mode != 0 && l->addr.ss.ss_family != AF_UNIX)
			config_error(st, mode,
			    "mode: only valid for a unix: address (address is "
			    "%s)",
			    l->addr.text);
		for (j = 0; j < i; j++) {
			o = &cfg->listeners[j];
			if (key_line(st, &st->llines[j], "address",
			        CONFIG_SECTION_LISTEN) != 0 &&
			    address_equal(&l->addr, &o->addr))
				config_error(st, addr,
				    "address: %s is already used by [listen "
				    "%s] (line %d)",
				    l->addr.text, o->name,
				    key_line(st, &st->llines[j], "address",
				        CONFIG_SECTION_LISTEN));
		}
	}
}

/* A readiness check that cannot pass in time would roll back every reload. */
static void
check_ready_timeout(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	long delay = cfg->ready == READY_DELAY ? cfg->ready_arg_ms : 0;
	const char *key = "ready_timeout";
	int line;

	if (delay + cfg->ready_delay_ms < cfg->ready_timeout_ms)
		return;
	/* Blame ready_timeout if set, else the later of the other two. */
	if ((line = key_line(st, NULL, key, CONFIG_SECTION_APP)) == 0) {
		int rl = key_line(st, NULL, "ready", CONFIG_SECTION_APP);
		int dl = key_line(st, NULL, "ready_delay", CONFIG_SECTION_APP);

		key = dl > rl ? "ready_delay" : "ready";
		line = dl > rl ? dl : rl;
	}
	config_error(st, line,
	    "%s: ready_timeout (%ld ms) is not longer than the readiness delay "
	    "(%ld ms) plus ready_delay (%ld ms): every worker would time out",
	    key, cfg->ready_timeout_ms, delay, cfg->ready_delay_ms);
}

static void
check_config(struct parse_state *st)
{
	struct config *cfg = st->cfg;
	int app_line = st->section_line[CONFIG_SECTION_APP];

	if (app_line == 0) {
		config_error(st, 0, "[app]: missing section");
		return;
	}
	check_required(st, CONFIG_SECTION_APP, &st->lines, app_line);
	check_command(st);
	check_listeners(st);
	if (cfg->ready == READY_LISTEN && !cfg->intercept_bind)
		config_error(st,
		    key_line(st, NULL, "ready", CONFIG_SECTION_APP),
		    "ready: listen needs intercept_bind = yes");
	check_ready_timeout(st);
	cfg->user_line = key_line(st, NULL, "user", CONFIG_SECTION_BATON);
	cfg->group_line = key_line(st, NULL, "group", CONFIG_SECTION_BATON);
	cfg->control_group_line =
	    key_line(st, NULL, "control_group", CONFIG_SECTION_BATON);
}

/* The one code path behind config_load and config_load_string. */
static struct config *
parse(struct parse_state *st)
{
	char why[CONFIG_ERR_MAX / 2];
	struct config *cfg;
	int r;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || (cfg->path = strdup(st->name)) == NULL ||
	    (cfg->env = calloc(1, sizeof(*cfg->env))) == NULL ||
	    config_keys_defaults(CONFIG_SECTION_BATON, cfg, why, sizeof(why)) ==
	        -1 ||
	    config_keys_defaults(CONFIG_SECTION_APP, cfg, why, sizeof(why)) ==
	        -1) {
		config_free(cfg);
		config_error(st, 0, "out of memory");
		return NULL;
	}
	st->cfg = cfg;

	r = ini_parse_stream(config_reader, st, config_handler, st);
	if (r > 0)
		syntax_error(st, r); /* unless an earlier line failed */
	else if (r < 0)
		config_error(st, 0, "out of memory");
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
	struct parse_state *st;
	struct config *cfg;
	char why[CONFIG_ERR_MAX / 2], *text;
	size_t len;

	if (config_file_read(path, &text, &len, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	/* On the heap: a whole line of it is too much for a small stack. */
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(text);
		return NULL;
	}
	st->name = path;
	st->err = err;
	st->errlen = errlen;
	st->text = text;
	st->len = len;
	cfg = parse(st);
	free(st);
	free(text);
	return cfg;
}

struct config *
config_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct parse_state *st;
	struct config *cfg;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	st->name = name;
	st->err = err;
	st->errlen = errlen;
	st->text = text;
	st->len = strlen(text);
	cfg = parse(st);
	free(st);
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	config_keys_free(CONFIG_SECTION_BATON, cfg);
	config_keys_free(CONFIG_SECTION_APP, cfg);
	config_command_free(cfg->argv);
	free(cfg->probe_host);
	free(cfg->probe_path);
	for (i = 0; i < cfg->nenv; i++)
		free(cfg->env[i]);
	free(cfg->env);
	for (i = 0; i < cfg->nlisteners; i++) {
		free(cfg->listeners[i].name);
		config_keys_free(CONFIG_SECTION_LISTEN, &cfg->listeners[i]);
	}
	free(cfg->listeners);
	free(cfg);
}

int
config_listener_index(const struct config *cfg, const char *name)
{
	return listener_index(cfg, name, strlen(name));
}

const char *
config_signal_name(int sig)
{
	return parse_signal_name(sig);
}

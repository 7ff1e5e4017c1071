/* childenv.c: build the argv and environment a worker is exec'd with. */
/*
 * Owns every variable baton gives a worker (LISTEN_*, SERVER_STARTER_PORT,
 * EINHORN_*, BATON_*, NOTIFY_SOCKET) and the {fd:}/{addr:} substitution.
 * Builds vectors only: forks nothing, opens nothing, knows no worker.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "childenv.h"
#include "config.h"

/* The first listener is fd 3: after stdin, stdout and stderr. */
#define FIRST_FD 3

#define LISTEN_PID_PREFIX "LISTEN_PID="
/* Room for the digits of any pid_t, even a 64-bit one. */
#define PID_DIGITS_MAX 20

/* A growing string; oom sticks so that callers check once at the end. */
struct strbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	char *ns;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 64 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (ns == NULL) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
strbuf_str(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

/* The string, or NULL (freed) when an allocation failed. */
static char *
strbuf_finish(struct strbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s != NULL ? b->s : strdup("");
}

/* An address the way apps expect it: no "unix:" in front of a path. */
static const char *
bare_address(const struct address *a)
{
	if (a->ss.ss_family == AF_UNIX)
		return a->text + strlen("unix:");
	return a->text;
}

static char *
substitute(const struct config *cfg, const char *word, char *err, size_t errlen)
{
	struct config_placeholder ph;
	struct strbuf b = {0};
	const char *s = word;
	char num[16], *out;
	int r, i;

	while ((r = config_command_placeholder(s, &ph, err, errlen)) == 1) {
		for (i = 0; (size_t)i < cfg->nlisteners; i++) {
			if (strlen(cfg->listeners[i].name) == ph.namelen &&
			    memcmp(cfg->listeners[i].name, ph.name,
			        ph.namelen) == 0)
				break;
		}
		if ((size_t)i == cfg->nlisteners) {
			snprintf(err, errlen, "%.*s: no [listen %.*s] section",
			    (int)ph.len, ph.start, (int)ph.namelen, ph.name);
			free(b.s);
			return NULL;
		}
		strbuf_add(&b, s, (size_t)(ph.start - s));
		if (ph.kind == CONFIG_PLACEHOLDER_FD) {
			snprintf(num, sizeof(num), "%d", FIRST_FD + i);
			strbuf_str(&b, num);
		} else {
			strbuf_str(&b, bare_address(&cfg->listeners[i].addr));
		}
		s = ph.start + ph.len;
	}
	if (r == -1) {
		free(b.s);
		return NULL;
	}
	strbuf_str(&b, s);
	out = strbuf_finish(&b);
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	return out;
}

char **
childenv_argv(const struct config *cfg, char *err, size_t errlen)
{
	char **argv;
	int i;

	argv = calloc((size_t)cfg->argc + 1, sizeof(*argv));
	if (argv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < cfg->argc; i++) {
		argv[i] = substitute(cfg, cfg->argv[i], err, errlen);
		if (argv[i] == NULL) {
			childenv_free(argv);
			return NULL;
		}
	}
	return argv;
}

/* Length of the NAME in "NAME=value". */
static size_t
name_len(const char *entry)
{
	return strcspn(entry, "=");
}

static int
has_prefix(const char *entry, const char *prefix)
{
	return strncmp(entry, prefix, strlen(prefix)) == 0;
}

/* The master's own socket-passing variables must never reach a worker. */
static int
baton_owned(const char *entry)
{
	size_t n = name_len(entry);

	return has_prefix(entry, "LISTEN_") || has_prefix(entry, "EINHORN_") ||
	       has_prefix(entry, "BATON_") ||
	       (n == strlen("NOTIFY_SOCKET") &&
	           has_prefix(entry, "NOTIFY_SOCKET")) ||
	       (n == strlen("SERVER_STARTER_PORT") &&
	           has_prefix(entry, "SERVER_STARTER_PORT"));
}

static int
same_name(const char *a, const char *b)
{
	size_t n = name_len(a);

	return n == name_len(b) && strncmp(a, b, n) == 0;
}

static char *__attribute__((format(printf, 1, 2)))
entry_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r == -1 ? NULL : s;
}

static char *
server_starter_port(const struct config *cfg)
{
	struct strbuf b = {0};
	char num[16];
	size_t i;

	strbuf_str(&b, "SERVER_STARTER_PORT=");
	for (i = 0; i < cfg->nlisteners; i++) {
		if (i > 0)
			strbuf_str(&b, ";");
		strbuf_str(&b, bare_address(&cfg->listeners[i].addr));
		snprintf(num, sizeof(num), "=%d", FIRST_FD + (int)i);
		strbuf_str(&b, num);
	}
	return strbuf_finish(&b);
}

static char *
listen_fdnames(const struct config *cfg)
{
	struct strbuf b = {0};
	size_t i;

	/* Names cannot contain ':' (config checks): no escaping needed. */
	strbuf_str(&b, "LISTEN_FDNAMES=");
	for (i = 0; i < cfg->nlisteners; i++) {
		if (i > 0)
			strbuf_str(&b, ":");
		strbuf_str(&b, cfg->listeners[i].name);
	}
	return strbuf_finish(&b);
}

static char *
listen_pid_placeholder(void)
{
	char *s;

	s = malloc(strlen(LISTEN_PID_PREFIX) + PID_DIGITS_MAX + 1);
	if (s != NULL)
		strcpy(s, LISTEN_PID_PREFIX "0");
	return s;
}

char **
childenv_envp(char *const *base, const struct config *cfg, unsigned generation,
    int worker, const char *notify_socket, ssize_t *pid_slot)
{
	char **env, *pid_entry = NULL;
	size_t nbase = 0, n = 0, max, i, j, k;
	int oom = 0;

	*pid_slot = -1;
	while (base != NULL && base[nbase] != NULL)
		nbase++;
	/* Base, 8 of baton's own, one EINHORN_FD_n per listener, env. */
	max = nbase + 8 + cfg->nlisteners + cfg->nenv + 1;
	env = calloc(max, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; i < nbase; i++) {
		if (baton_owned(base[i]))
			continue;
		if ((env[n++] = strdup(base[i])) == NULL)
			oom = 1;
	}
	if (cfg->nlisteners > 0) {
		env[n++] = entry_printf("LISTEN_FDS=%zu", cfg->nlisteners);
		env[n++] = pid_entry = listen_pid_placeholder();
		env[n++] = listen_fdnames(cfg);
		env[n++] = server_starter_port(cfg);
		env[n++] =
		    entry_printf("EINHORN_FD_COUNT=%zu", cfg->nlisteners);
		for (i = 0; i < cfg->nlisteners; i++)
			env[n++] = entry_printf(
			    "EINHORN_FD_%zu=%d", i, FIRST_FD + (int)i);
	}
	env[n++] = entry_printf("BATON_GENERATION=%u", generation);
	env[n++] = entry_printf("BATON_WORKER=%d", worker);
	if (notify_socket != NULL)
		env[n++] = entry_printf("NOTIFY_SOCKET=%s", notify_socket);
	for (i = 0; i < cfg->nenv; i++) {
		/* A later entry wins: drop what the file overrides. */
		for (j = k = 0; j < n; j++) {
			if (env[j] != NULL && same_name(env[j], cfg->env[i])) {
				if (env[j] == pid_entry)
					pid_entry = NULL;
				free(env[j]);
			} else {
				env[k++] = env[j];
			}
		}
		n = k;
		env[n++] = strdup(cfg->env[i]);
	}
	env[n] = NULL;
	for (j = 0; j < n; j++) {
		if (env[j] == NULL)
			oom = 1;
		if (env[j] != NULL && env[j] == pid_entry)
			*pid_slot = (ssize_t)j;
	}
	if (oom) {
		for (j = 0; j < n; j++)
			free(env[j]);
		free(env);
		*pid_slot = -1;
		return NULL;
	}
	return env;
}

void
childenv_set_pid(char **envp, ssize_t slot, pid_t pid)
{
	char digits[PID_DIGITS_MAX];
	char *p;
	unsigned long long v;
	int n = 0;

	if (envp == NULL || slot < 0)
		return;
	/* By hand: snprintf is not async-signal-safe. */
	v = pid > 0 ? (unsigned long long)pid : 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < PID_DIGITS_MAX);
	p = envp[slot] + sizeof(LISTEN_PID_PREFIX) - 1;
	while (n > 0)
		*p++ = digits[--n];
	*p = '\0';
}

void
childenv_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

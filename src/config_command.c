/*
 * config_command.c: the words of `command =`: shell-like splitting, and the
 * {fd:NAME} / {addr:NAME} placeholders in them.
 *
 * Owns: the quoting rules of baton.ini(5) COMMAND LINES and the placeholder
 * syntax, shared by config.c (checks) and childenv.c (substitution). Its
 * functions are declared in config.h, beside the struct they serve. Must
 * not touch: listeners or fds; whether a NAME exists is the caller's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define PLACEHOLDER_HINT "(use {fd:NAME} or {addr:NAME})"

void
config_command_free(char **argv)
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
config_command_split(const char *s, int *argc, char *err, size_t errlen)
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
	config_command_free(argv);
	return NULL;
}

int
config_command_placeholder(
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
		if (!config_listen_name_valid(name, (size_t)(close - name))) {
			snprintf(err, errlen,
			    "%.*s: \"%.*s\" is not a listener "
			    "name " CONFIG_LISTEN_NAME_HINT,
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

/*
 * config_keys.h: the one table of configuration keys, and setting a key's
 * value by its type.
 *
 * Owns: each key's name, section, type, default, range and the field its
 * value goes to; the defaults of a fresh struct config / listen_config.
 * Must not touch: files, lines and section headers (config.c reads those),
 * nor anything outside the struct it is given (no lookups, no I/O).
 */
#ifndef BATON_CONFIG_KEYS_H
#define BATON_CONFIG_KEYS_H

#include <stddef.h>

#include "config.h"

/* At least the number of keys; config.c keeps one line per key. */
#define CONFIG_KEYS_MAX 32

enum config_section {
	CONFIG_SECTION_NONE, /* before the first header */
	CONFIG_SECTION_BATON,
	CONFIG_SECTION_APP,
	CONFIG_SECTION_LISTEN, /* struct listen_config, not struct config */
};

/* What a value looks like, and the C type of the field it is stored in. */
enum config_key_type {
	CONFIG_KEY_STRING,   /* char *, any text (after check) */
	CONFIG_KEY_PATH,     /* char *, an absolute path */
	CONFIG_KEY_COMMAND,  /* char *, continuation lines appended */
	CONFIG_KEY_INT,      /* int, min..max */
	CONFIG_KEY_DURATION, /* long, milliseconds, min..max */
	CONFIG_KEY_SIZE,     /* long long, bytes, min..max */
	CONFIG_KEY_BOOL,     /* int, 0 or 1 */
	CONFIG_KEY_SIGNAL,   /* int, a signal number */
	CONFIG_KEY_MODE,     /* int, octal bits; -1 when unset */
	CONFIG_KEY_ADDRESS,  /* struct address */
	CONFIG_KEY_ENV,      /* env.NAME: config.c keeps them in order */
	CONFIG_KEY_SPECIAL,  /* set() knows the fields (ready) */
};

#define CONFIG_KEY_REQUIRED 0x1 /* "KEY: missing" when not set */
#define CONFIG_KEY_PREFIX   0x2 /* name is a prefix, as "env." */

struct config_key {
	const char *name;
	enum config_section section;
	enum config_key_type type;
	unsigned flags;
	/* The default as it would be written in the file, and as baton.ini(5)
	 * states it; NULL when there is none (the field stays NULL / 0). */
	const char *def;
	long long min, max; /* CONFIG_KEY_INT, _DURATION, _SIZE */
	/* The field, in struct listen_config for CONFIG_SECTION_LISTEN, else
	 * in struct config. */
	size_t offset;
	/* A further check of a string (log), or NULL. */
	int (*check)(const char *value, char *err, size_t errlen);
	/* CONFIG_KEY_SPECIAL: parse value into cfg. */
	int (*set)(
	    struct config *cfg, const char *value, char *err, size_t errlen);
};

/* The table in order: the first key for NULL, then each; NULL after the
 * last. For docs, tests and `baton -t`. */
const struct config_key *config_keys_next(const struct config_key *k);

/* The key name of section s, a CONFIG_KEY_PREFIX one included, or NULL. */
const struct config_key *config_keys_find(
    enum config_section s, const char *name);

/* Position of k in the table, below CONFIG_KEYS_MAX. */
size_t config_keys_index(const struct config_key *k);

/* "baton", "app", "listen"; NULL for CONFIG_SECTION_NONE. */
const char *config_keys_section_name(enum config_section s);

/*
 * Parse value by k's type into obj (the struct config, or the struct
 * listen_config of a [listen] key). A string replaces the one there.
 * Returns 0, or -1 with a reason in err (without file, line or key).
 */
int config_keys_set(const struct config_key *k, void *obj, const char *value,
    char *err, size_t errlen);

/*
 * env.NAME = value: check NAME (a variable name baton does not set itself)
 * and append "NAME=value" to cfg->env. Returns 0, or -1 with a reason.
 */
int config_keys_set_env(struct config *cfg, const char *name, const char *value,
    char *err, size_t errlen);

/* Append a continuation line to k's value; -1 when k takes none. */
int config_keys_continue(const struct config_key *k, void *obj,
    const char *value, char *err, size_t errlen);

/* Store the defaults of every key of section s into obj. Returns 0, or -1
 * (out of memory) with a reason in err. */
int config_keys_defaults(
    enum config_section s, void *obj, char *err, size_t errlen);

/* Free the strings that the keys of section s own in obj. */
void config_keys_free(enum config_section s, void *obj);

#endif

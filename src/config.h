/*
 * config.h: the parsed, validated form of a baton ini file.
 *
 * Owns: struct config and the reading of the file into it. Must not touch:
 * the system beyond reading that one file; user and group stay names here
 * (credentials.c looks them up), so a reload is pure and repeatable.
 */
#ifndef BATON_CONFIG_H
#define BATON_CONFIG_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#include "address.h"

#define CONFIG_ERR_MAX 512
/* [listen NAME]: NAME is letters, digits, '_', '.' and '-'. */
#define CONFIG_LISTEN_NAME_MAX 64
#define CONFIG_LISTEN_NAME_HINT                                                \
	"(letters, digits, '_', '.' and '-', at most 64 characters)"
/* A config file is small; a bigger one is a mistake (or /dev/zero). */
#define CONFIG_FILE_MAX (1024 * 1024)
/* The longest line read, newline excluded; inih's buffer may cap it lower. */
#define CONFIG_LINE_MAX 4095
/* Workers get listeners at fds 3..66; more would need a bigger table. */
#define CONFIG_LISTENERS_MAX 64
/* workers, and TTIN/TTOU/batonctl scale, never go beyond this. */
#define CONFIG_WORKERS_MAX      4096
#define CONFIG_WORKERS_MAX_TEXT "4096"

/* Readiness check kinds, the `ready =` key. */
enum ready_kind {
	READY_NONE,
	READY_NOTIFY,
	READY_LISTEN,
	READY_DELAY,
	READY_TCP,
	READY_HTTP,
};

/* One `[listen NAME]` section. */
struct listen_config {
	char *name;
	struct address addr;
	int backlog; /* default 511, like nginx */
	int v6only;  /* 0 or 1; only meaningful for AF_INET6 */
	int mode;    /* UNIX sockets only; -1 when unset */
	int line;    /* line of the section header, for messages */
};

/* The whole file. Every string is owned by the struct (config_free). */
struct config {
	char *path;

	/* [baton] */
	char *pidfile;          /* NULL: no pidfile */
	char *control;          /* NULL: no control socket */
	char *control_group;    /* may also use it (mode 0660), or NULL */
	int control_group_line; /* where it is set, for messages */
	char *log;              /* "stderr" (default), "syslog" or a path */
	char *user;             /* NULL: keep the master's credentials */
	char *group;   /* names only: credentials_resolve looks them up */
	int user_line; /* where user and group are set, for messages */
	int group_line;
	int fdstore;
	int upgrade_retire_old;

	/* [app] */
	char *command; /* as written */
	char **argv;   /* split shell-like, NULL-terminated; {fd:}/{addr:}
	                  substituted later by the worker */
	int argc;
	int workers; /* default 1, 1..4096 */
	char *directory;
	enum ready_kind ready;
	long ready_arg_ms;     /* READY_DELAY: how long alive */
	struct address probe;  /* READY_TCP / READY_HTTP */
	char *probe_host;      /* Host header for READY_HTTP */
	char *probe_path;      /* READY_HTTP, starts with '/' */
	long ready_timeout_ms; /* default 60 s */
	long ready_delay_ms;   /* default 0 */
	int stop_signal;       /* default SIGTERM */
	long stop_timeout_ms;  /* default 30 s */
	int intercept_bind;
	int intercept_accept; /* hold a retiring worker's accept() */
	char **env;           /* "NAME=value", NULL-terminated, in file order */
	size_t nenv;

	/* [listen NAME], in file order */
	struct listen_config *listeners;
	size_t nlisteners;
};

/*
 * Parse and validate the file at path: a regular file (symlinks followed) of
 * at most CONFIG_FILE_MAX bytes, so that a FIFO or a device fails at once.
 * Returns a new config, or NULL with a message "file:line: key: reason" (or
 * "file: reason") in err.
 */
struct config *config_load(const char *path, char *err, size_t errlen);

/* Same, from a string; name is used in messages in place of a path. */
struct config *config_load_string(
    const char *name, const char *text, char *err, size_t errlen);

void config_free(struct config *cfg);

/* Whether s[0..len) is a valid [listen NAME] name. */
int config_listen_name_valid(const char *s, size_t len);

/* Index of the [listen NAME] section, or -1. */
int config_listener_index(const struct config *cfg, const char *name);

/*
 * The command line helpers below live in config_command.c; their names
 * predate it.
 *
 * Split a command line shell-like: whitespace separates words, single quotes
 * keep everything literally, double quotes keep everything but \" and \\,
 * a backslash outside quotes escapes the next character. No expansion of any
 * kind. Returns a NULL-terminated malloc'd vector (free with
 * config_command_free) and sets *argc, or NULL with a reason in err.
 */
char **config_command_split(const char *s, int *argc, char *err, size_t errlen);
void config_command_free(char **argv);

/* What a placeholder in a command word stands for. */
enum config_placeholder_kind {
	CONFIG_PLACEHOLDER_FD,   /* {fd:NAME}: the listener's fd number */
	CONFIG_PLACEHOLDER_ADDR, /* {addr:NAME}: its address */
};

/* One placeholder found by config_command_placeholder; points into the word. */
struct config_placeholder {
	enum config_placeholder_kind kind;
	const char *start; /* the '{' */
	size_t len;        /* up to and including the '}' */
	const char *name;  /* the listener name, not NUL-terminated */
	size_t namelen;
};

/*
 * Find the first "{fd:NAME}" or "{addr:NAME}" in s. Other braces are left
 * alone. Returns 1 and fills ph, 0 when there is none, or -1 with a reason
 * in err when one is malformed ("{fd:http" without '}', an empty or invalid
 * name). Whether NAME exists is the caller's business.
 */
int config_command_placeholder(
    const char *s, struct config_placeholder *ph, char *err, size_t errlen);

/* Signal number -> "TERM" (static string), "?" when unknown. The callers
 * predate parse.c; this is parse_signal_name. */
const char *config_signal_name(int sig);

#endif

/* signals.h: which signal does what to the master, and the child's reset. */
#ifndef BATON_SIGNALS_H
#define BATON_SIGNALS_H

enum signal_action {
	SIGNAL_RELOAD,    /* HUP */
	SIGNAL_UPGRADE,   /* USR2 */
	SIGNAL_RETIRE,    /* WINCH */
	SIGNAL_QUIT,      /* QUIT: graceful shutdown */
	SIGNAL_TERMINATE, /* TERM: graceful, a second one kills */
	SIGNAL_INTERRUPT, /* INT: fast shutdown */
	SIGNAL_REOPEN,    /* USR1 */
	SIGNAL_MORE,      /* TTIN */
	SIGNAL_FEWER,     /* TTOU */
};

struct signal_entry {
	int signo;
	enum signal_action action;
	const char *command; /* baton -s COMMAND, or NULL */
};

/* Entries in signals_table: sizes the master's watchers. */
#define SIGNALS_COUNT 9

extern const struct signal_entry signals_table[SIGNALS_COUNT];
extern const int signals_count;

/* The signal for `baton -s COMMAND`, or -1. */
int signals_for_command(const char *command);

/*
 * In a child between fork and exec: every disposition back to SIG_DFL and an
 * empty mask, since both survive exec and libev blocks what it watches.
 * Async-signal-safe.
 */
void signals_reset_for_exec(void);

#endif

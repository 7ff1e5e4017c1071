/* signals.c: which signal does what to the master, and the child's reset. */
/*
 * Owns the table of the master's signals (and the names `baton -s` takes)
 * and the reset of every disposition in a child before exec. Knows no
 * action's implementation: the master maps each entry to its own function.
 */
#include <sys/syscall.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "signals.h"

/*
 * nginx's semantics where nginx has the signal; unicorn's for TTIN/TTOU,
 * whose `baton -s` names say what they do (as SIGNAL_MORE/FEWER do).
 */
const struct signal_entry signals_table[SIGNALS_COUNT] = {
    {SIGHUP, SIGNAL_RELOAD, "reload"},
    {SIGUSR2, SIGNAL_UPGRADE, "upgrade"},
    {SIGWINCH, SIGNAL_RETIRE, "retire"},
    {SIGQUIT, SIGNAL_QUIT, "quit"},
    {SIGTERM, SIGNAL_TERMINATE, "stop"},
    {SIGINT, SIGNAL_INTERRUPT, NULL},
    {SIGUSR1, SIGNAL_REOPEN, "reopen"},
    {SIGTTIN, SIGNAL_MORE, "more"},
    {SIGTTOU, SIGNAL_FEWER, "fewer"},
};
const int signals_count = SIGNALS_COUNT;
/* One action per entry: a new signal must grow SIGNALS_COUNT with it. */
_Static_assert(SIGNAL_FEWER + 1 == SIGNALS_COUNT,
    "signals_table and enum signal_action disagree");

int
signals_for_command(const char *command)
{
	int i;

	for (i = 0; i < signals_count; i++)
		if (signals_table[i].command != NULL &&
		    strcmp(signals_table[i].command, command) == 0)
			return signals_table[i].signo;
	return -1;
}

void
signals_reset_for_exec(void)
{
	/* The kernel's struct sigaction; all zero is SIG_DFL on any layout. */
	struct {
		unsigned long handler, flags, restorer, mask;
	} kernel_dfl = {0, 0, 0, 0};
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, &sa, NULL) == 0 || sig == SIGKILL ||
		    sig == SIGSTOP)
			continue;
		/*
		 * glibc keeps two real-time signals for itself (32, 33) and
		 * refuses them, yet an ignored disposition there is inherited
		 * from whoever started us and survives exec.
		 */
		(void)syscall(SYS_rt_sigaction, sig, &kernel_dfl, NULL,
		    sizeof(kernel_dfl.mask));
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

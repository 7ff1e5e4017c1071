/* stamp.c: a do-nothing worker that timestamps its life, for bench/run. */

/*
 * The reload-overhead figure needs three instants seen from the workers
 * themselves: when each one was exec'd, when it sent READY=1, and when it
 * got its stop signal.  stamp appends one line per event to the file named
 * by its only argument, with one write(2) on an O_APPEND descriptor so that
 * hundreds of workers can share the file:
 *
 *	exec GEN WORKER PID NS
 *	ready GEN WORKER PID NS
 *	term GEN WORKER PID NS
 *
 * NS is CLOCK_REALTIME in nanoseconds (the clock of bash's $EPOCHREALTIME,
 * so the bench can stamp the HUP on the same scale), GEN and WORKER come
 * from BATON_GENERATION and BATON_WORKER.  The exec stamp is taken first
 * thing in main(); the binary is linked statically when the toolchain can,
 * so that the dynamic loader adds little before it.  After READY=1 it waits
 * for SIGTERM (or SIGQUIT), stamps it and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int out = -1;
static const char *gen = "?", *worker = "?";

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
stamp(const char *what, int64_t ns)
{
	char line[128];
	int n;

	n = snprintf(line, sizeof(line), "%s %s %s %d %lld\n", what, gen,
	    worker, (int)getpid(), (long long)ns);
	if (n > 0 && out != -1)
		(void)!write(out, line, (size_t)n);
}

static void
notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	size_t len;
	int fd;

	if (path == NULL || *path == '\0')
		return;
	len = strlen(path);
	if (len >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	stamp("ready", now_ns());
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) ==
	    -1)
		fprintf(stderr, "stamp[%d]: notify: %s\n", (int)getpid(),
		    strerror(errno));
	close(fd);
}

int
main(int argc, char **argv)
{
	int64_t t_exec = now_ns();
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (argc != 2) {
		fprintf(stderr, "usage: stamp FILE\n");
		return 2;
	}
	out = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (out == -1) {
		fprintf(stderr, "stamp: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (getenv("BATON_GENERATION") != NULL)
		gen = getenv("BATON_GENERATION");
	if (getenv("BATON_WORKER") != NULL)
		worker = getenv("BATON_WORKER");
	stamp("exec", t_exec);
	notify_ready();
	do {
		sig = sigwaitinfo(&set, NULL);
	} while (sig == -1 && errno == EINTR);
	stamp("term", now_ns());
	return 0;
}

/* bindcost.c: what an app that binds its own port pays, for bench/run. */

/*
 *	bindcost HOST PORT N FILE
 *
 * Times, with CLOCK_MONOTONIC around each system call:
 *
 *	bind	N times: socket(), SO_REUSEADDR, bind(HOST:PORT), listen(),
 *		close(): the bind of an app that insists on binding itself
 *	listen	the listen() of each of those
 *	other	N times: socket(), bind(127.0.0.1:0), close(): a bind to an
 *		address that is not a configured listener
 *	syscall	10^6 getppid(): any other system call, for the cost of a
 *		seccomp filter on everything else
 *
 * and appends one line per figure to FILE ("NAME p50_us p99_us" and
 * "syscall NS_PER_CALL"), in one write.  Run alone it measures the plain
 * kernel; as a baton worker with intercept_bind = yes, every bind, listen
 * and (but SHUT_WR) shutdown goes through the master.  With NOTIFY_SOCKET
 * set it then sends READY=1 and waits for SIGTERM; alone it exits at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_N 100000

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Appends "name p50 p99" (microseconds) to out. */
static void
put(char *out, size_t sz, const char *name, int64_t *v, int n)
{
	size_t len = strlen(out);

	qsort(v, (size_t)n, sizeof(*v), cmp64);
	snprintf(out + len, sz - len, "%s %.2f %.2f\n", name,
	    (double)v[n / 2] / 1000.0, (double)v[(n * 99) / 100] / 1000.0);
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
	(void)sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

int
main(int argc, char **argv)
{
	static int64_t tb[MAX_N], tl[MAX_N], to[MAX_N];
	struct sockaddr_in sa, any;
	char out[512] = "";
	int64_t t0, t1, t2;
	int n, i, s, one = 1, fd, sig;
	long calls = 1000000, k;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (argc != 5 || (n = atoi(argv[3])) < 1 || n > MAX_N) {
		fprintf(stderr, "usage: bindcost HOST PORT N FILE\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "bindcost: %s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	any = sa;
	any.sin_port = 0;
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	for (i = 0; i < n; i++) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s == -1 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
		                   sizeof(one)) == -1) {
			perror("bindcost: socket");
			return 1;
		}
		t0 = now_ns();
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
			fprintf(stderr, "bindcost: bind %s:%s: %s\n", argv[1],
			    argv[2], strerror(errno));
			return 1;
		}
		t1 = now_ns();
		if (listen(s, 128) == -1) {
			perror("bindcost: listen");
			return 1;
		}
		t2 = now_ns();
		tb[i] = t1 - t0;
		tl[i] = t2 - t1;
		close(s);
	}
	for (i = 0; i < n; i++) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s == -1) {
			perror("bindcost: socket");
			return 1;
		}
		t0 = now_ns();
		if (bind(s, (struct sockaddr *)&any, sizeof(any)) == -1) {
			perror("bindcost: bind 127.0.0.1:0");
			return 1;
		}
		to[i] = now_ns() - t0;
		close(s);
	}
	t0 = now_ns();
	for (k = 0; k < calls; k++)
		(void)syscall(SYS_getppid);
	t1 = now_ns();

	put(out, sizeof(out), "bind", tb, n);
	put(out, sizeof(out), "listen", tl, n);
	put(out, sizeof(out), "other", to, n);
	snprintf(out + strlen(out), sizeof(out) - strlen(out), "syscall %.1f\n",
	    (double)(t1 - t0) / (double)calls);
	fd = open(argv[4], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, out, strlen(out)) == -1) {
		perror("bindcost: writing the results");
		return 1;
	}
	close(fd);

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	notify_ready();
	do {
		sig = sigwaitinfo(&set, NULL);
	} while (sig == -1 && errno == EINTR);
	return 0;
}

/* intercept.c: seccomp user-notify bind interception (intercept_bind). */
/* Placeholder until the implementation lands: refuses cleanly. */
#include <errno.h>
#include <stdio.h>

#include "intercept.h"
#include "worker.h"

int
intercept_supported(char *err, size_t errlen)
{
	snprintf(err, errlen, "not implemented in this build");
	return -1;
}

int
intercept_child_install(int sock)
{
	(void)sock;
	errno = ENOSYS;
	return -1;
}

int
intercept_receive(int sock)
{
	(void)sock;
	errno = ENOSYS;
	return -1;
}

void
intercept_start(struct worker *w, int fd)
{
	(void)w;
	(void)fd;
}

void
intercept_stop(struct worker *w)
{
	(void)w;
}

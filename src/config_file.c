/*
 * config_file.c: read a configuration file whole, refusing anything but a
 * small regular file, so that `baton -t -c /dev/zero` or a FIFO answers at
 * once instead of hanging the check (or a reload).
 *
 * Owns: the open/fstat/read of the one file. Must not touch: what is in it
 * (config.c), or any other file.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_file.h"

int
config_file_read(
    const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat sb;
	size_t size = 0, cap;
	ssize_t n;
	char *buf = NULL, *nb;
	int fd;

	/* O_NONBLOCK: open(2) of a FIFO would wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		goto fail;
	}
	if (sb.st_size > CONFIG_FILE_MAX)
		goto too_large;
	/* One byte more than the size: a file growing under us shows. */
	cap = (size_t)sb.st_size + 1;
	for (;;) {
		if ((nb = realloc(buf, cap + 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		buf = nb;
		n = read(fd, buf + size, cap - size);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(
			    err, errlen, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > CONFIG_FILE_MAX)
			goto too_large;
		if (size == cap)
			cap = cap > CONFIG_FILE_MAX / 2 ? CONFIG_FILE_MAX + 1
			                                : cap * 2;
	}
	close(fd);
	buf[size] = '\0';
	*text = buf;
	*len = size;
	return 0;
too_large:
	snprintf(
	    err, errlen, "too large (more than %d bytes)", CONFIG_FILE_MAX);
fail:
	free(buf);
	close(fd);
	return -1;
}

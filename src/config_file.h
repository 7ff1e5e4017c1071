/*
 * config_file.h: read a configuration file whole, and only a small regular
 * one.
 *
 * Owns: open, fstat and read of the file. Must not touch: its content.
 */
#ifndef BATON_CONFIG_FILE_H
#define BATON_CONFIG_FILE_H

#include <stddef.h>

/*
 * Read path (symlinks followed) into a malloc'd NUL-terminated *text of
 * *len bytes (which may hold NUL bytes of their own). A FIFO, a device or a
 * directory is refused without waiting, as is a file over CONFIG_FILE_MAX
 * bytes. Returns 0, or -1 with a reason without the path in err, such as
 * "not a regular file".
 */
int config_file_read(
    const char *path, char **text, size_t *len, char *err, size_t errlen);

#endif

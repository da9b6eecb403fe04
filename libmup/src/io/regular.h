/* Opening a file that must be a regular file: a FIFO, a device or a directory where a data file,
 * corpus, base-shapes file or checkpoint is expected would block open() or read() forever, or read
 * without end. */
#ifndef MUP_REGULAR_H
#define MUP_REGULAR_H

#include <stdio.h>

#include "mup/error.h"

/* Opens path read-only without blocking and refuses anything but a regular file: MUP_ERR_IO (with
 * the system's reason, then hint) when it cannot be opened, MUP_ERR_FORMAT naming the kind of file
 * otherwise. what prefixes the messages ("text", "fashion-mnist"). *fd is -1 on failure; the file's
 * size in bytes goes to *size when size is not NULL. */
mup_status mup_open_regular(const char *path, const char *what, const char *hint, int *fd, long long *size);
/* The same as a stdio stream ("rb"). */
mup_status mup_fopen_regular(const char *path, const char *what, const char *hint, FILE **f);

#endif

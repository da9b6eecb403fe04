#include "regular.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m) {
    return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

mup_status mup_open_regular(const char *path, const char *what, const char *hint, int *fd, long long *size) {
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; the mode is checked on
     * the descriptor itself, so a file swapped in after a stat() cannot slip through */
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0)
        return mup_error(MUP_ERR_IO, "%s: cannot open %s: %s%s", what, path, strerror(errno), hint);
    struct stat st;
    if (fstat(*fd, &st) != 0) {
        int err = errno;
        close(*fd);
        *fd = -1;
        return mup_error(MUP_ERR_IO, "%s: cannot stat %s: %s%s", what, path, strerror(err), hint);
    }
    if (!S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return mup_error(MUP_ERR_FORMAT, "%s: %s is %s, not a regular file", what, path, kind(st.st_mode));
    }
    if (size)
        *size = (long long)st.st_size;
    /* reads of a regular file never block; clearing the flag keeps later reads ordinary */
    int flags = fcntl(*fd, F_GETFL);
    if (flags >= 0)
        fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK);
    return MUP_OK;
}

mup_status mup_fopen_regular(const char *path, const char *what, const char *hint, FILE **f) {
    *f = NULL;
    int fd;
    mup_status s = mup_open_regular(path, what, hint, &fd, NULL);
    if (s != MUP_OK)
        return s;
    *f = fdopen(fd, "rb");
    if (!*f) {
        close(fd);
        return mup_error(MUP_ERR_NOMEM, "%s: cannot set up a stream to read %s", what, path);
    }
    return MUP_OK;
}

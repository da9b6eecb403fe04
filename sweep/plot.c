#include "plot.h"

#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

mup_status mup_plot_open(const char *dir, const char *name, FILE **out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *out = fopen(path, "w");
    if (!*out)
        return mup_error(MUP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return MUP_OK;
}

mup_status mup_plot_close(FILE *f, const char *dir, const char *name) {
    /* a write that failed earlier leaves the error indicator; flushing again tells why */
    errno = 0;
    bool bad = fflush(f) != 0 || ferror(f);
    int why = errno;
    if (fclose(f) != 0) {
        bad = true;
        why = why ? why : errno;
    }
    if (bad)
        return mup_error(MUP_ERR_IO, "cannot write %s/%s: %s", dir, name, strerror(why ? why : EIO));
    return MUP_OK;
}

void mup_plot_header(FILE *f, const char *png, int w, int h) {
    fprintf(f, "# rerun with: gnuplot %s (from this directory)\n", png);
    fprintf(f, "set terminal pngcairo size %d,%d enhanced font 'DejaVu Sans,10'\n", w, h);
    fprintf(f, "set output '%s'\n", png);
    fprintf(f, "set grid lc rgb '#dddddd'\nset key outside right top box opaque\n");
}

mup_status mup_plot_render(const char *dir, const char *script) {
    /* posix_spawn has no chdir, so the child is a shell: cd DIR && exec gnuplot SCRIPT */
    const char *argv[] = {"/bin/sh", "-c", "cd \"$0\" && exec gnuplot \"$1\" 2>gnuplot.log", dir, script, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, (char *const *)argv, environ);
    if (rc != 0)
        return mup_error(MUP_ERR_IO, "cannot start /bin/sh for gnuplot: %s", strerror(rc));
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return mup_error(MUP_ERR_IO, "waiting for gnuplot: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return mup_error(MUP_ERR_IO, "gnuplot not found (install the Debian package gnuplot-nox); %s/%s and its "
                         "data are written, render them later with gnuplot", dir, script);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return mup_error(MUP_ERR_IO, "gnuplot failed on %s/%s (see %s/gnuplot.log)", dir, script, dir);
    return MUP_OK;
}

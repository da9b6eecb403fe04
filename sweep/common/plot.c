#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Writes fmt's text; control characters (a newline would end a gnuplot command or a data file's
 * comment) become '?'. Quoted, a ' becomes ’ (U+2019): gnuplot 5.4 reads '''' (two doubled quotes in
 * a row) as an escaped quote and the string's end, so doubling cannot keep every text inside. */
static void put_text(FILE *f, bool quoted, const char *fmt, va_list ap) {
    char text[4096]; /* a title or a label: longer ones are cut */
    vsnprintf(text, sizeof text, fmt, ap);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fputc('?', f);
        else if (quoted && *p == '\'')
            fputs("\u2019", f);
        else
            fputc(*p, f);
    }
}

void mup_plot_string(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputc('\'', f);
    put_text(f, true, fmt, ap);
    fputc('\'', f);
    va_end(ap);
}

void mup_plot_comment(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", f);
    put_text(f, false, fmt, ap);
    fputc('\n', f);
    va_end(ap);
}

void mup_plot_header(FILE *f, const char *png, int w, int h) {
    fprintf(f, "# rerun with gnuplot on this script, from this directory\n");
    fprintf(f, "set terminal pngcairo size %d,%d enhanced font 'DejaVu Sans,10'\nset output ", w, h);
    mup_plot_string(f, "%s", png);
    fprintf(f, "\nset grid lc rgb '#dddddd'\nset key outside right top box opaque\n");
}

/* Where starting gnuplot failed, as the child reports it through the pipe. */
enum { AT_CHDIR = 1, AT_LOG, AT_EXEC };

/* The child's side of mup_plot_render: enter DIR, send stderr to gnuplot.log, become gnuplot. No
 * shell: the directory and the script are arguments, never code. Only calls that are safe after a
 * fork; a failure goes back through the pipe as (step, errno). */
static void child(int report, const char *dir, char *const *argv) {
    int why[2] = {AT_CHDIR, 0};
    if (chdir(dir) == 0) {
        why[0] = AT_LOG;
        int log = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log >= 0 && dup2(log, STDERR_FILENO) >= 0) {
            why[0] = AT_EXEC;
            execvp(argv[0], argv);
        }
    }
    why[1] = errno;
    ssize_t ignored = write(report, why, sizeof why);
    (void)ignored;
    _exit(127);
}

/* An empty gnuplot.log says nothing: it is removed. */
static void drop_empty_log(const char *dir) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/gnuplot.log", dir);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        unlink(path);
}

mup_status mup_plot_render(const char *dir, const char *script) {
    /* "./" keeps a script name that begins with '-' from being read as an option */
    char path[4200];
    snprintf(path, sizeof path, "./%s", script);
    char *const argv[] = {"gnuplot", path, NULL};
    int report[2];
    if (pipe(report) != 0 || fcntl(report[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(report[1], F_SETFD, FD_CLOEXEC) != 0)
        return mup_error(MUP_ERR_IO, "cannot start gnuplot: pipe: %s", strerror(errno));
    fflush(NULL); /* else the child would write what stdio holds a second time */
    pid_t pid = fork();
    if (pid == 0)
        child(report[1], dir, argv);
    int fork_errno = errno;
    close(report[1]);
    int why[2] = {0, 0};
    ssize_t got = 0;
    while (pid > 0 && (got = read(report[0], why, sizeof why)) < 0 && errno == EINTR)
        continue;
    close(report[0]);
    if (pid < 0)
        return mup_error(MUP_ERR_IO, "cannot start gnuplot: fork: %s", strerror(fork_errno));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return mup_error(MUP_ERR_IO, "waiting for gnuplot: %s", strerror(errno));
    drop_empty_log(dir);
    if (got != (ssize_t)sizeof why)
        why[0] = 0;
    if (why[0] == AT_CHDIR)
        return mup_error(MUP_ERR_IO, "cannot render %s/%s: cannot enter %s: %s", dir, script, dir, strerror(why[1]));
    if (why[0] == AT_LOG)
        return mup_error(MUP_ERR_IO, "cannot render %s/%s: cannot write %s/gnuplot.log: %s", dir, script, dir,
                         strerror(why[1]));
    if (why[0] == AT_EXEC)
        return mup_error(MUP_ERR_IO, "cannot run gnuplot: %s (install the Debian package gnuplot-nox); %s/%s and its "
                         "data are written, render them later with gnuplot", strerror(why[1]), dir, script);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return mup_error(MUP_ERR_IO, "gnuplot failed on %s/%s (see %s/gnuplot.log)", dir, script, dir);
    return MUP_OK;
}

#include "preflight.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec.h"

mup_status mup_sweep_check_out_dir(const char *dir) {
    char path[MUP_SPEC_PATH_MAX];
    if (!*dir || strlen(dir) >= sizeof path)
        return mup_error(MUP_ERR_INVALID, "--out: an empty or too long path");
    snprintf(path, sizeof path, "%s", dir);
    struct stat st;
    /* the nearest part of the path that exists decides: the sweep creates the rest */
    while (stat(path, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            return mup_error(MUP_ERR_IO, "cannot create the output directory %s: %s: %s", dir, path, strerror(errno));
        char *slash = strrchr(path, '/');
        if (!slash)
            snprintf(path, sizeof path, ".");
        else
            slash[slash == path] = '\0'; /* "/x" leaves "/" */
    }
    if (!S_ISDIR(st.st_mode))
        return mup_error(MUP_ERR_IO, "cannot create the output directory %s: %s is a file", dir, path);
    /* a file made and removed at once: the mode bits do not stop root, a read-only mount or /proc do */
    char probe[MUP_SPEC_PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/.mup-sweep-check-XXXXXX", path);
    int fd = mkstemp(probe);
    if (fd < 0 && strcmp(path, dir) == 0)
        return mup_error(MUP_ERR_IO, "cannot write to the output directory %s: %s", dir, strerror(errno));
    if (fd < 0)
        return mup_error(MUP_ERR_IO, "cannot create the output directory %s: cannot write to %s: %s", dir, path,
                         strerror(errno));
    close(fd);
    unlink(probe);
    return MUP_OK;
}

mup_status mup_sweep_check_memory(const mup_sweep_config *c, mup_run_list *l, const mup_run_data *d) {
    int widest = 0;
    for (int i = 0; i < c->n_proxy_widths; i++)
        widest = c->proxy_widths[i] > widest ? c->proxy_widths[i] : widest;
    mup_status s = MUP_OK;
    for (int i = 0; i < l->n_proxy && !s; i++) {
        const mup_sweep_run *r = &l->runs[i];
        if (r->width == widest && r->seed_index == 0)
            s = mup_run_memory_check(&r->spec, d);
        if (s)
            return mup_error_context(s, "proxy run %s: ", r->id);
    }
    for (int t = 0; c->has_target && t < c->search.trials && !s; t++) {
        if (!mup_run_list_trial_drawn(l, c, t))
            continue;
        s = mup_run_list_set_target(l, c, t);
        s = s ? s : mup_run_memory_check(&l->runs[l->n_proxy].spec, d);
        if (s)
            s = mup_error_context(s, "target run %s with trial %d's values: ", l->runs[l->n_proxy].id, t);
    }
    mup_run_list_set_target(l, c, -1);
    return s;
}

mup_status mup_sweep_check_batch(const mup_run_list *l, const mup_run_data *d) {
    for (int i = 0; i < l->n; i++) {
        const mup_run_spec *s = &l->runs[i].spec;
        if (l->runs[i].has_spec && s->model.arch == MUP_ARCH_MLP && s->train.batch_size > d->train.n)
            return mup_error(MUP_ERR_INVALID, "train.batch_size %d is larger than the training set (%d examples), so "
                             "every step would repeat examples: at most %d (run %s)", s->train.batch_size,
                             d->train.n, d->train.n, l->runs[i].id);
    }
    return MUP_OK;
}

#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mup/error.h"

static char dir[64];

/* A harness that ends well leaves nothing behind (its files are flat in dir); one that crashes leaves
 * its last input's files. */
static void remove_dir(void) {
    DIR *d = opendir(dir);
    char path[512];
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

const char *fuzz_dir(void) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/mup-fuzz-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(remove_dir);
    }
    return dir;
}

const char *fuzz_write(const char *name, const uint8_t *data, size_t size) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    return path;
}

void fuzz_setup(void) {
    static int done;
    if (!done) {
        mup_set_log_fn(NULL, NULL);
        done = 1;
    }
}

mup_status fuzz_train(mup_model *M, mup_task *task, mup_train_opts o) {
    if (!task)
        return MUP_ERR_INVALID;
    mup_optim *opt = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    mup_train_result r;
    mup_status s = mup_train(M, opt, task, &o, &r);
    mup_train_result_free(&r);
    mup_optim_free(opt);
    mup_task_free(task);
    return s;
}

const char fuzz_sweep_config[] =
    "{\"name\": \"fuzz\", \"model\": {\"arch\": \"mlp\", \"depth\": 2},"
    " \"data\": {\"dataset\": \"synthetic\", \"train_size\": 500, \"val_size\": 100, \"synthetic_dim\": 8},"
    " \"mup\": {\"base_width\": 16, \"delta_width\": 32},"
    " \"train\": {\"optimizer\": \"sgd\", \"steps\": 20, \"batch_size\": 16, \"eval_every\": 10},"
    " \"search\": {\"sampler\": \"grid\", \"seeds\": 2, \"space\": {\"lr\": {\"dist\": \"log2uniform\","
    " \"low\": -8, \"high\": 12, \"grid\": 3}, \"activation\": {\"dist\": \"choice\", \"values\": [\"relu\"]}}},"
    " \"proxy_widths\": [16, 32], \"target\": {\"width\": 48, \"seeds\": 1}}";

static mup_status build_mlp(mup_model *M, int width, void *net) {
    mup_mlp_config cfg = {.d_in = 6, .width = width, .n_out = 3, .depth = 2};
    mup_mlp *m = mup_mlp_new(M, &cfg);
    if (mup_model_is_shapes_only(M))
        mup_mlp_free(m);
    else
        *(mup_mlp **)net = m;
    return MUP_OK;
}

mup_model *fuzz_mlp_model(mup_mlp **net) {
    mup_model *M = mup_model_new();
    MUP_CHECK(mup_build_with_base_shapes(M, build_mlp, net, 8, 4, 0));
    MUP_CHECK(mup_model_init(M, 1));
    return M;
}

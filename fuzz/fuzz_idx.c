/* The Fashion-MNIST gzip IDX reader, then the classification task's set-up on what it loaded and one
 * training step. The input's first byte chooses which file it replaces (images or labels); the other
 * is a valid small file made by fuzz-seeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mup/mup.h"

/* A data set the loader accepted must be refused by the split or the task with a status, or train. */
static void train_one_step(const mup_classif_data *d) {
    mup_classif_data train, val;
    if (mup_classif_split(d, 1, &train, &val) != MUP_OK)
        return;
    mup_model *M = mup_model_new();
    mup_mlp *net = mup_mlp_new(M, &(mup_mlp_config){.d_in = d->dim, .width = 8, .n_out = d->n_classes, .depth = 2});
    if (mup_set_base_shapes(M, NULL, NULL) == MUP_OK) {
        mup_model_init(M, 1);
        fuzz_train(M, mup_classif_task_new(M, mup_mlp_forward_fn, net, &train, &val, 2, 1),
                   (mup_train_opts){.steps = 1});
    }
    mup_mlp_free(net);
    mup_model_free(M);
    mup_classif_data_free(&train);
    mup_classif_data_free(&val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    if (size < 1)
        return 0;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fuzz_dir());
    const char *keep = getenv("MUP_FUZZ_IDX_DIR"); /* the valid pair, made by fuzz-seeds */
    if (!keep)
        return 0;
    char src[512], dst[512];
    const char *names[2] = {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    int replaced = data[0] & 1;
    fuzz_write(names[replaced], data + 1, size - 1);
    snprintf(src, sizeof src, "%s/%s", keep, names[!replaced]);
    snprintf(dst, sizeof dst, "%s/%s", dir, names[!replaced]);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    if (in && out) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    mup_classif_data d;
    if (mup_fashion_mnist_load(dir, false, 0, &d) == MUP_OK) {
        train_one_step(&d);
        mup_classif_data_free(&d);
    }
    return 0;
}

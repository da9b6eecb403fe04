/* The checkpoint loader, on mutations of valid checkpoints (fuzz-seeds writes them): a bad file is a
 * status, and a failed load leaves the model as it was. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mup/mup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    const char *path = fuzz_write("in.h5", data, size);
    mup_model *M = mup_model_new(), *B = mup_model_new_shapes_only();
    mup_mlp_config cfg = {.d_in = 6, .width = 8, .n_out = 3, .depth = 2};
    mup_mlp *net = mup_mlp_new(M, &cfg);
    cfg.width = 4;
    mup_mlp_free(mup_mlp_new(B, &cfg));
    if (mup_set_base_shapes(M, B, NULL) != MUP_OK)
        abort();
    mup_model_init(M, 1);
    mup_optim *opt = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    long n = mup_model_num_floats(M);
    float *before = malloc((size_t)n * sizeof *before);
    memcpy(before, mup_model_values(M), (size_t)n * sizeof *before);
    mup_checkpoint_meta meta;
    if (mup_checkpoint_load(path, M, opt, &meta) == MUP_OK)
        mup_checkpoint_meta_free(&meta);
    else if (memcmp(before, mup_model_values(M), (size_t)n * sizeof *before) != 0)
        abort(); /* a failed load must not change the model */
    free(before);
    mup_optim_free(opt);
    mup_mlp_free(net);
    mup_model_free(M);
    mup_model_free(B);
    return 0;
}

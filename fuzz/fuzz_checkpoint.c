/* The checkpoint loader, on mutations of valid checkpoints (fuzz-seeds writes them): a bad file is a
 * status, and a failed load leaves the model as it was. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mup/mup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    const char *path = fuzz_write("in.h5", data, size);
    mup_mlp *net;
    mup_model *M = fuzz_mlp_model(&net);
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
    return 0;
}

/* mup_train's resume from a fuzzed checkpoint, then the steps left: everything the file hands on (the
 * step, the loss curve, the data-order and dropout streams) must be refused with a status or be safe
 * to train from. Seeds: checkpoints mup_train wrote itself (fuzz-seeds). */
#include <stdlib.h>

#include "fuzz_common.h"
#include "mup/mup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    static mup_classif_data all, train, val;
    if (!all.n && (mup_synthetic_classif(48, 6, 3, 1, &all) != MUP_OK ||
                   mup_classif_split(&all, 8, &train, &val) != MUP_OK))
        abort();
    const char *path = fuzz_write("in.h5", data, size);
    mup_mlp *net;
    mup_model *M = fuzz_mlp_model(&net);
    fuzz_train(M, mup_classif_task_new(M, mup_mlp_forward_fn, net, &train, &val, 4, 1),
               (mup_train_opts){.steps = FUZZ_RESUME_STEPS, .resume_path = path});
    mup_mlp_free(net);
    mup_model_free(M);
    return 0;
}

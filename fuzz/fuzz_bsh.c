/* The base-shapes (.bsh) reader against an MLP's shapes. */
#include "fuzz_common.h"
#include "mup/mup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup();
    const char *path = fuzz_write("in.bsh", data, size);
    mup_model *M = mup_model_new_shapes_only();
    mup_mlp *net = mup_mlp_new(M, &(mup_mlp_config){.d_in = 12, .width = 32, .n_out = 5, .depth = 2});
    mup_set_base_shapes_file(M, path);
    mup_mlp_free(net);
    mup_model_free(M);
    return 0;
}

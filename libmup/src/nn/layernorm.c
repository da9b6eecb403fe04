#include "mup/nn.h"

#include <stdio.h>

void mup_layernorm_init(mup_layernorm_layer *ln, mup_model *M, const char *name, int dim, float eps) {
    char pname[MUP_NAME_MAX];
    mup_model_scoped_name(M, name, ln->name, sizeof ln->name);
    snprintf(pname, sizeof pname, "%s.weight", name);
    ln->weight = mup_model_add_param(M, pname, MUP_KIND_GAIN, 1, (int[]){dim});
    snprintf(pname, sizeof pname, "%s.bias", name);
    ln->bias = mup_model_add_param(M, pname, MUP_KIND_SHIFT, 1, (int[]){dim});
    ln->dim = dim;
    ln->eps = eps > 0.0f ? eps : 1e-5f;
}

mup_tensor *mup_layernorm_forward(mup_graph *g, const mup_layernorm_layer *ln, mup_tensor *x) {
    mup_tensor *y = mup_layernorm(g, x, &ln->weight->t, &ln->bias->t, ln->eps);
    mup_graph_tap(g, ln->name, y);
    return y;
}

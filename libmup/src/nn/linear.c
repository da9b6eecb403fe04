#include "mup/nn.h"

#include <stdio.h>

void mup_linear_init(mup_linear *l, mup_model *M, const char *name, int in, int out, mup_bias_flag bias) {
    char pname[MUP_NAME_MAX];
    mup_model_scoped_name(M, name, l->name, sizeof l->name);
    snprintf(pname, sizeof pname, "%s.weight", name);
    l->weight = mup_model_add_param(M, pname, MUP_KIND_WEIGHT, 2, (int[]){out, in});
    l->bias = NULL;
    if (bias) {
        snprintf(pname, sizeof pname, "%s.bias", name);
        l->bias = mup_model_add_param(M, pname, MUP_KIND_BIAS, 1, (int[]){out});
        l->bias->layer_weight = l->weight;
    }
    l->in = in;
    l->out = out;
}

mup_tensor *mup_linear_forward(mup_graph *g, const mup_linear *l, mup_tensor *x) {
    mup_tensor *y = mup_affine(g, x, &l->weight->t, l->bias ? &l->bias->t : NULL, 1.0f);
    mup_graph_tap(g, l->name, y);
    return y;
}

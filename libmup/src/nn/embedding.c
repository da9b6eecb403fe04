#include "mup/nn.h"

#include <stdio.h>

void mup_embedding_init(mup_embedding_layer *e, mup_model *M, const char *name, int num, int dim) {
    char pname[MUP_NAME_MAX];
    mup_model_scoped_name(M, name, e->name, sizeof e->name);
    snprintf(pname, sizeof pname, "%s.weight", name);
    e->weight = mup_model_add_param(M, pname, MUP_KIND_EMBEDDING, 2, (int[]){num, dim});
    e->num = num;
    e->dim = dim;
}

mup_tensor *mup_embedding_forward(mup_graph *g, const mup_embedding_layer *e, const int32_t *ids, int B, int T) {
    mup_tensor *y = mup_embedding(g, &e->weight->t, ids, B, T);
    mup_graph_tap(g, e->name, y);
    return y;
}

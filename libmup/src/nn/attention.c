#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mup/nn.h"

float mup_attention_scale(const mup_model *M, float attn_mult, int d_head) {
    if (mup_model_parametrization(M) == MUP_PARAMETRIZATION_MUP)
        return attn_mult / (float)d_head;
    return attn_mult / sqrtf((float)d_head);
}

void mup_attention_init(mup_attention_layer *a, mup_model *M, const char *name, int dim, mup_attention_opts opts) {
    MUP_ASSERT(opts.n_head > 0 && dim % opts.n_head == 0,
               "attention %s: width %d is not divisible into %d heads", name ? name : "", dim, opts.n_head);
    if (name && *name)
        mup_model_push_scope(M, "%s", name);
    mup_linear_init(&a->qkv, M, "qkv", dim, 3 * dim, MUP_BIAS);
    mup_linear_init(&a->proj, M, "proj", dim, dim, MUP_BIAS);
    mup_model_scoped_name(M, "attn", a->name, sizeof a->name);
    if (name && *name)
        mup_model_pop_scope(M);
    if (opts.zero_query) { /* q = 0 at init: the query's weight rows and its bias */
        a->qkv.weight->init.zero_rows = dim;
        a->qkv.bias->init.zero_rows = dim;
    }
    a->dim = dim;
    a->n_head = opts.n_head;
    a->attn_mult = opts.attn_mult != 0.0f ? opts.attn_mult : 1.0f;
    a->model = M;
}

mup_tensor *mup_attention_forward(mup_graph *g, const mup_attention_layer *a, mup_tensor *x) {
    mup_tensor *qkv = mup_linear_forward(g, &a->qkv, x);
    float scale = mup_attention_scale(a->model, a->attn_mult, a->dim / a->n_head);
    mup_tensor *y = mup_attention(g, qkv, a->n_head, scale, a->name);
    mup_graph_tap(g, a->name, y);
    return mup_linear_forward(g, &a->proj, y);
}

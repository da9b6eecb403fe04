#include "mup/nn.h"

#include <stdio.h>

static void add_bias(mup_readout *r, mup_model *M, const char *name, const mup_param *weight, int out,
                     mup_readout_opts opts) {
    char pname[MUP_NAME_MAX];
    r->bias = NULL;
    if (!opts.no_bias) {
        snprintf(pname, sizeof pname, "%s.bias", name);
        r->bias = mup_model_add_param(M, pname, MUP_KIND_READOUT_BIAS, 1, (int[]){out});
        r->bias->layer_weight = weight;
    }
}

void mup_readout_init(mup_readout *r, mup_model *M, const char *name, int in, int out, mup_readout_opts opts) {
    char pname[MUP_NAME_MAX];
    mup_model_scoped_name(M, name, r->name, sizeof r->name);
    snprintf(pname, sizeof pname, "%s.weight", name);
    r->weight = mup_model_add_param(M, pname, MUP_KIND_READOUT_WEIGHT, 2, (int[]){out, in});
    add_bias(r, M, name, r->weight, out, opts);
    if (opts.zero_init) { /* as the reference: weight and bias both start at 0 */
        r->weight->init.kind = MUP_INIT_ZEROS;
        if (r->bias)
            r->bias->init.kind = MUP_INIT_ZEROS;
    }
    r->in = in;
    r->out = out;
    r->output_mult = opts.output_mult != 0.0f ? opts.output_mult : 1.0f;
}

void mup_readout_init_tied(mup_readout *r, mup_model *M, const char *name, const mup_embedding_layer *e,
                           mup_readout_opts opts) {
    mup_model_scoped_name(M, name, r->name, sizeof r->name);
    r->weight = e->weight;
    add_bias(r, M, name, e->weight, e->num, opts);
    /* as the reference's MuSharedReadout: zero init zeroes the readout's own weight, which the
     * shared embedding replaces, and its bias; the embedding keeps its init */
    if (opts.zero_init && r->bias)
        r->bias->init.kind = MUP_INIT_ZEROS;
    r->in = e->dim;
    r->out = e->num;
    r->output_mult = opts.output_mult != 0.0f ? opts.output_mult : 1.0f;
}

mup_tensor *mup_readout_forward(mup_graph *g, const mup_readout *r, mup_tensor *x) {
    /* width_mult is 1 under SP and before base shapes are set */
    float alpha = (float)(r->output_mult / r->weight->width_mult);
    mup_tensor *y = mup_affine(g, x, &r->weight->t, r->bias ? &r->bias->t : NULL, alpha);
    mup_graph_tap(g, r->name, y);
    return y;
}

#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "mup/models.h"

struct mup_mlp {
    mup_mlp_config cfg;
    const mup_model *M;      /* its depth settings scale the residual branches */
    mup_linear *layers;      /* depth of them */
    char (*act_names)[MUP_NAME_MAX];
    mup_readout out;
};

static float or_one(float x) { return x != 0.0f ? x : 1.0f; }

mup_mlp *mup_mlp_new(mup_model *M, const mup_mlp_config *cfg) {
    MUP_ASSERT(cfg->d_in > 0 && cfg->width > 0 && cfg->n_out > 0 && cfg->depth >= 1,
               "mlp: d_in %d, width %d, n_out %d, depth %d must all be positive",
               cfg->d_in, cfg->width, cfg->n_out, cfg->depth);
    mup_mlp *m = mup_xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->M = M;
    m->layers = mup_xcalloc((size_t)cfg->depth, sizeof *m->layers);
    m->act_names = mup_xcalloc((size_t)cfg->depth, sizeof *m->act_names);
    float init = or_one(cfg->init_std);
    for (int i = 0; i < cfg->depth; i++) {
        char name[32];
        snprintf(name, sizeof name, "fc%d", i + 1);
        bool block = cfg->residual && i > 0;
        if (block)
            mup_model_begin_block(M);
        mup_linear_init(&m->layers[i], M, name, i ? cfg->width : cfg->d_in, cfg->width,
                        cfg->no_bias ? MUP_NO_BIAS : MUP_BIAS);
        if (block)
            mup_model_end_block(M);
        m->layers[i].weight->init.scale = init;
        snprintf(name, sizeof name, "fc%d.act", i + 1);
        mup_model_scoped_name(M, name, m->act_names[i], MUP_NAME_MAX);
    }
    mup_readout_init(&m->out, M, "readout", cfg->width, cfg->n_out,
                     (mup_readout_opts){.output_mult = or_one(cfg->output_mult),
                                        .zero_init = cfg->readout_zero_init,
                                        .no_bias = cfg->no_bias});
    m->out.weight->init.scale = init;
    return m;
}

void mup_mlp_free(mup_mlp *m) {
    if (!m)
        return;
    free(m->layers);
    free(m->act_names);
    free(m);
}

const mup_mlp_config *mup_mlp_config_of(const mup_mlp *m) { return &m->cfg; }

mup_tensor *mup_mlp_forward(mup_graph *g, const mup_mlp *m, mup_tensor *x) {
    float s = (float)mup_model_residual_mult(m->M);
    for (int i = 0; i < m->cfg.depth; i++) {
        mup_tensor *h = mup_linear_forward(g, &m->layers[i], x);
        if (i == 0 && m->cfg.input_mult != 0.0f && m->cfg.input_mult != 1.0f)
            h = mup_scale(g, h, m->cfg.input_mult);
        h = mup_activate(g, m->cfg.act, h);
        if (m->cfg.residual && i > 0)
            h = mup_add_scaled(g, x, h, s);
        x = h;
        mup_graph_tap(g, m->act_names[i], x);
    }
    return mup_readout_forward(g, &m->out, x);
}

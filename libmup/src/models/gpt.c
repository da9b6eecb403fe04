#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "mup/models.h"

typedef struct {
    mup_layernorm_layer ln1, ln2;
    mup_attention_layer attn;
    mup_linear fc, fc_out;
    char fc_act[MUP_NAME_MAX], res[MUP_NAME_MAX];
} gpt_block;

struct mup_gpt {
    mup_gpt_config cfg;
    const mup_model *M;      /* its depth settings scale the residual branches */
    mup_embedding_layer wte, wpe;
    gpt_block *blocks;
    mup_layernorm_layer lnf;
    mup_readout out;
};

static float or_one(float x) { return x != 0.0f ? x : 1.0f; }

static void block_init(gpt_block *b, mup_model *M, const mup_gpt_config *c, int n_head, int i) {
    float init = or_one(c->init_std);
    int ffn = (c->ffn_ratio > 0 ? c->ffn_ratio : 4) * c->width;
    mup_model_push_scope(M, "blocks.%d", i);
    mup_model_begin_block(M);
    mup_layernorm_init(&b->ln1, M, "ln1", c->width, c->ln_eps);
    mup_layernorm_init(&b->ln2, M, "ln2", c->width, c->ln_eps);
    mup_attention_init(&b->attn, M, NULL, c->width,
                       (mup_attention_opts){.n_head = n_head, .attn_mult = or_one(c->attn_mult),
                                            .zero_query = c->zero_query});
    mup_linear_init(&b->fc, M, "fc", c->width, ffn, MUP_BIAS);
    mup_linear_init(&b->fc_out, M, "fc_out", ffn, c->width, MUP_BIAS);
    mup_model_scoped_name(M, "res", b->res, sizeof b->res);
    mup_model_scoped_name(M, "fc.act", b->fc_act, sizeof b->fc_act);
    mup_model_end_block(M);
    mup_model_pop_scope(M);
    b->attn.qkv.weight->init.scale = init;
    b->attn.proj.weight->init.scale = init;
    b->fc.weight->init.scale = init;
    b->fc_out.weight->init.scale = init;
}

mup_gpt *mup_gpt_new(mup_model *M, const mup_gpt_config *cfg) {
    const mup_gpt_config *c = cfg;
    int n_head = c->head_dim > 0 ? c->width / c->head_dim : c->n_head;
    MUP_ASSERT(c->vocab > 0 && c->block_size > 0 && c->width > 0 && c->n_layer > 0,
               "gpt: vocab %d, block_size %d, width %d, n_layer %d must all be positive",
               c->vocab, c->block_size, c->width, c->n_layer);
    MUP_ASSERT(n_head > 0 && c->width % n_head == 0 && (c->head_dim <= 0 || c->width % c->head_dim == 0),
               "gpt: width %d does not split into heads (n_head %d, head_dim %d)", c->width, c->n_head, c->head_dim);
    mup_gpt *m = mup_xcalloc(1, sizeof *m);
    m->cfg = *c;
    m->cfg.n_head = n_head;
    m->M = M;
    float init = or_one(c->init_std);
    mup_embedding_init(&m->wte, M, "wte", c->vocab, c->width);
    mup_embedding_init(&m->wpe, M, "wpe", c->block_size, c->width);
    m->wte.weight->init.scale = init;
    m->wpe.weight->init.scale = init;
    m->blocks = mup_xcalloc((size_t)c->n_layer, sizeof *m->blocks);
    for (int i = 0; i < c->n_layer; i++)
        block_init(&m->blocks[i], M, c, n_head, i);
    mup_layernorm_init(&m->lnf, M, "lnf", c->width, c->ln_eps);
    mup_readout_opts ro = {.output_mult = or_one(c->output_mult), .zero_init = c->readout_zero_init};
    if (c->tied)
        mup_readout_init_tied(&m->out, M, "readout", &m->wte, ro);
    else
        mup_readout_init(&m->out, M, "readout", c->width, c->vocab, ro);
    if (!c->tied)
        m->out.weight->init.scale = init;
    return m;
}

void mup_gpt_free(mup_gpt *m) {
    if (!m)
        return;
    free(m->blocks);
    free(m);
}

const mup_gpt_config *mup_gpt_config_of(const mup_gpt *m) { return &m->cfg; }

/* The first T rows of the position table, as a tensor sharing its memory and gradient. */
static mup_tensor *positions(mup_graph *g, const mup_embedding_layer *wpe, int T) {
    mup_tensor *pos = mup_graph_alloc(g, sizeof *pos);
    *pos = (mup_tensor){.data = wpe->weight->t.data, .grad = wpe->weight->t.grad,
                        .requires_grad = true, .name = wpe->weight->name};
    mup_tensor_set_shape(pos, 2, (int[]){T, wpe->dim});
    return pos;
}

/* x + s F(x), F's output after dropout; s is 1 unless depth scaling is on */
static mup_tensor *residual(mup_graph *g, const mup_gpt_config *c, mup_tensor *x, mup_tensor *f, float s) {
    if (c->dropout > 0.0f)
        f = mup_dropout(g, f, c->dropout);
    return mup_add_scaled(g, x, f, s);
}

mup_tensor *mup_gpt_forward(mup_graph *g, const mup_gpt *m, const int32_t *ids, int B, int T) {
    const mup_gpt_config *c = &m->cfg;
    MUP_ASSERT(T > 0 && T <= c->block_size, "gpt: sequence length %d outside 1..%d", T, c->block_size);
    mup_tensor *x = mup_add(g, mup_embedding_forward(g, &m->wte, ids, B, T), positions(g, &m->wpe, T));
    if (c->input_mult != 0.0f && c->input_mult != 1.0f)
        x = mup_scale(g, x, c->input_mult);
    float s = (float)mup_model_residual_mult(m->M);
    for (int i = 0; i < c->n_layer; i++) {
        const gpt_block *b = &m->blocks[i];
        mup_tensor *a = mup_attention_forward(g, &b->attn, mup_layernorm_forward(g, &b->ln1, x));
        x = residual(g, c, x, a, s);
        mup_tensor *h = mup_linear_forward(g, &b->fc, mup_layernorm_forward(g, &b->ln2, x));
        h = mup_gelu(g, h);
        mup_graph_tap(g, b->fc_act, h);
        x = residual(g, c, x, mup_linear_forward(g, &b->fc_out, h), s);
        mup_graph_tap(g, b->res, x);
    }
    return mup_readout_forward(g, &m->out, mup_layernorm_forward(g, &m->lnf, x));
}

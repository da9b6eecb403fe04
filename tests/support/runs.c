#include "runs.h"

#include <string.h>

static mup_mlp_config mlp_config(int width) {
    return (mup_mlp_config){.d_in = 12, .width = width, .n_out = 5, .depth = 2, .act = MUP_ACT_RELU};
}

/* The builders keep the target's module handle in the run; base and delta handles are freed. */
static mup_status build_mlp(mup_model *M, int width, void *run) {
    mup_mlp_config c = mlp_config(width);
    mup_mlp *m = mup_mlp_new(M, &c);
    if (mup_model_is_shapes_only(M))
        mup_mlp_free(m);
    else
        ((test_run *)run)->mlp = m;
    return MUP_OK;
}

void test_run_classif(test_run *r, int width, uint64_t init_seed, mup_optim_opts opts) {
    *r = (test_run){0};
    MUP_CHECK(mup_synthetic_classif(600, 12, 5, 3, &r->all));
    MUP_CHECK(mup_classif_split(&r->all, 100, &r->train, &r->val));
    r->M = mup_model_new();
    MUP_CHECK(mup_build_with_base_shapes(r->M, build_mlp, r, width, 8, 16));
    mup_model_init(r->M, init_seed);
    r->opt = mup_optim_new(r->M, opts);
    r->task = mup_classif_task_new(r->M, mup_mlp_forward_fn, r->mlp, &r->train, &r->val, 16, 5);
}

static mup_gpt_config gpt_config(int width, float dropout) {
    return (mup_gpt_config){.vocab = 12, .block_size = 16, .width = width, .head_dim = 8, .n_layer = 2,
                            .dropout = dropout, .zero_query = true};
}

typedef struct {
    test_run *run;
    float dropout;
} gpt_build_ctx;

static mup_status build_gpt(mup_model *M, int width, void *ctx) {
    gpt_build_ctx *b = ctx;
    mup_gpt_config c = gpt_config(width, b->dropout);
    mup_gpt *g = mup_gpt_new(M, &c);
    if (mup_model_is_shapes_only(M))
        mup_gpt_free(g);
    else
        b->run->gpt = g;
    return MUP_OK;
}

void test_run_lm(test_run *r, int width, float dropout, uint64_t init_seed, mup_optim_opts opts) {
    *r = (test_run){0};
    MUP_CHECK(mup_synthetic_text(4000, 12, 3, &r->text));
    MUP_CHECK(mup_text_split(&r->text, 0.1, &r->train_text, &r->val_text));
    r->M = mup_model_new();
    MUP_CHECK(mup_build_with_base_shapes(r->M, build_gpt, &(gpt_build_ctx){r, dropout}, width, 16, 32));
    mup_model_init(r->M, init_seed);
    mup_graph_seed(mup_model_graph(r->M), init_seed);
    r->opt = mup_optim_new(r->M, opts);
    r->task = mup_lm_task_new(r->M, mup_gpt_forward_fn, r->gpt, &r->train_text, &r->val_text, 4, 16, 2, 5);
}

void test_run_free(test_run *r) {
    mup_task_free(r->task);
    mup_optim_free(r->opt);
    mup_mlp_free(r->mlp);
    mup_gpt_free(r->gpt);
    mup_model_free(r->M);
    mup_classif_data_free(&r->all);
    mup_classif_data_free(&r->train);
    mup_classif_data_free(&r->val);
    mup_text_data_free(&r->text);
    mup_text_data_free(&r->train_text);
    mup_text_data_free(&r->val_text);
    memset(r, 0, sizeof *r);
}

mup_optim_opts test_adam_cosine(float lr, int total_steps) {
    return (mup_optim_opts){.kind = MUP_OPTIM_ADAM, .lr = lr, MUP_ADAM_DEFAULTS,
                            .schedule = {.kind = MUP_SCHEDULE_COSINE, .warmup_steps = 2, .total_steps = total_steps,
                                         .min_factor = 0.1f}};
}

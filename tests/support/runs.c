#include "runs.h"

#include <string.h>

/* M's base shapes, from shapes-only builds at base_width and 2 base_width. */
static void set_base_shapes(mup_model *M, void (*build)(mup_model *, int, const void *), const void *cfg,
                            int base_width) {
    mup_model *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    build(B, base_width, cfg);
    build(D, 2 * base_width, cfg);
    MUP_CHECK(mup_set_base_shapes(M, B, D));
    mup_model_free(B);
    mup_model_free(D);
}

static mup_mlp_config mlp_config(int width) {
    return (mup_mlp_config){.d_in = 12, .width = width, .n_out = 5, .depth = 2, .act = MUP_ACT_RELU};
}

static void build_mlp(mup_model *M, int width, const void *unused) {
    (void)unused;
    mup_mlp_config c = mlp_config(width);
    mup_mlp_free(mup_mlp_new(M, &c));
}

void test_run_classif(test_run *r, int width, uint64_t init_seed, mup_optim_opts opts) {
    *r = (test_run){0};
    MUP_CHECK(mup_synthetic_classif(600, 12, 5, 3, &r->all));
    MUP_CHECK(mup_classif_split(&r->all, 100, &r->train, &r->val));
    mup_mlp_config c = mlp_config(width);
    r->M = mup_model_new();
    r->mlp = mup_mlp_new(r->M, &c);
    set_base_shapes(r->M, build_mlp, NULL, 8);
    mup_model_init(r->M, init_seed);
    r->opt = mup_optim_new(r->M, opts);
    r->task = mup_classif_task_new(r->M, mup_mlp_forward_fn, r->mlp, &r->train, &r->val, 16, 5);
}

static mup_gpt_config gpt_config(int width, float dropout) {
    return (mup_gpt_config){.vocab = 12, .block_size = 16, .width = width, .head_dim = 8, .n_layer = 2,
                            .dropout = dropout, .zero_query = true};
}

static void build_gpt(mup_model *M, int width, const void *dropout) {
    mup_gpt_config c = gpt_config(width, *(const float *)dropout);
    mup_gpt_free(mup_gpt_new(M, &c));
}

void test_run_lm(test_run *r, int width, float dropout, uint64_t init_seed, mup_optim_opts opts) {
    *r = (test_run){0};
    MUP_CHECK(mup_synthetic_text(4000, 12, 3, &r->text));
    MUP_CHECK(mup_text_split(&r->text, 0.1, &r->train_text, &r->val_text));
    mup_gpt_config c = gpt_config(width, dropout);
    r->M = mup_model_new();
    r->gpt = mup_gpt_new(r->M, &c);
    set_base_shapes(r->M, build_gpt, &dropout, 16);
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

/* Depth scaling (docs/rules/DEPTH_RULES.md): the factors it gives, what it refuses, and that off it
 * changes nothing. The figures from the written rules are checked in test_conformance. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

/* A residual MLP at width with base shapes from widths 8 and 9, n_blocks = depth - 1. */
static mup_model *residual_mlp(int width, int depth, mup_mlp **out) {
    mup_mlp_config c = {.d_in = 6, .width = width, .n_out = 3, .depth = depth, .act = MUP_ACT_RELU, .residual = true};
    mup_model *M = mup_model_new(), *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    *out = mup_mlp_new(M, &c);
    c.width = 8;
    mup_mlp *b = mup_mlp_new(B, &c);
    c.width = 9;
    mup_mlp *d = mup_mlp_new(D, &c);
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_OK, "%s", mup_error_message());
    mup_mlp_free(b);
    mup_mlp_free(d);
    mup_model_free(B);
    mup_model_free(D);
    mup_model_init(M, 7);
    return M;
}

Test(depth, blocks_are_declared_by_the_ready_models) {
    mup_mlp *m;
    mup_model *M = residual_mlp(32, 5, &m);
    cr_assert_eq(mup_model_num_blocks(M), 4);
    cr_assert_eq(mup_model_find_param(M, "fc1.weight")->block, -1, "fc1 maps the input: outside every block");
    cr_assert_eq(mup_model_find_param(M, "fc3.bias")->block, 1);
    cr_assert_eq(mup_model_find_param(M, "readout.weight")->block, -1);
    mup_mlp_free(m);
    mup_model_free(M);

    mup_model *G = mup_model_new_shapes_only();
    mup_gpt *g = mup_gpt_new(G, &(mup_gpt_config){.vocab = 11, .block_size = 4, .width = 16, .n_head = 2, .n_layer = 3});
    cr_assert_eq(mup_model_num_blocks(G), 3);
    cr_assert_eq(mup_model_find_param(G, "blocks.2.ln1.weight")->block, 2);
    cr_assert_eq(mup_model_find_param(G, "wte.weight")->block, -1);
    cr_assert_eq(mup_model_find_param(G, "lnf.weight")->block, -1);
    mup_gpt_free(g);
    mup_model_free(G);
}

Test(depth, factors_follow_the_rules) {
    mup_mlp *m;
    mup_model *M = residual_mlp(32, 9, &m); /* 8 blocks, base depth 2: l = 4; width mult 32/8 = 4 */
    const mup_param *in = mup_model_find_param(M, "fc2.weight"), *out = mup_model_find_param(M, "fc1.weight");
    const double alphas[] = {0.0, 0.5, 1.0};
    for (int k = 0; k < 3; k++) {
        double a = alphas[k];
        cr_assert_eq(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = a, .base_depth = 2, .eps_scaling = true}),
                     MUP_OK);
        cr_assert_float_eq(mup_model_residual_mult(M), pow(4.0, -a), 1e-15, "alpha %g", a);
        cr_assert_float_eq(mup_model_depth_lr_mult(M, in), pow(4.0, a - 1.0), 1e-15, "alpha %g", a);
        cr_assert_eq(mup_model_depth_lr_mult(M, out), 1.0, "outside a block the factor is 1");
        cr_assert_float_eq(mup_model_eps_mult(M), pow(4.0, -a) / 4.0, 1e-15, "alpha %g", a);
    }
    /* alpha 0 on is not plain µP: the branches keep weight 1 but the block's lr still falls by l */
    cr_assert_eq(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = 0.0, .base_depth = 2}), MUP_OK);
    cr_assert_eq(mup_model_residual_mult(M), 1.0);
    cr_assert_float_eq(mup_model_depth_lr_mult(M, in), 0.25, 1e-15);
    mup_optim *o = mup_adam_new(M, (mup_optim_opts){.lr = 1.0f, MUP_ADAM_DEFAULTS});
    int i2 = 0;
    while (mup_model_param(M, i2) != in)
        i2++;
    cr_assert_float_eq(mup_optim_param_lr(o, i2), in->adam_lr_mult * 0.25, 1e-12);
    cr_assert_eq(mup_optim_eps(o), 1e-8, "eps scaling off: eps as given (the default)");
    mup_optim_free(o);
    /* off: every factor 1, whatever alpha says */
    cr_assert_eq(mup_model_set_depth(M, (mup_depth_opts){.on = false, .alpha = 1.0, .base_depth = 2}), MUP_OK);
    cr_assert_eq(mup_model_residual_mult(M), 1.0);
    cr_assert_eq(mup_model_depth_lr_mult(M, in), 1.0);
    mup_mlp_free(m);
    mup_model_free(M);
}

static void expect_invalid(mup_status s, const char *words) {
    cr_assert_eq(s, MUP_ERR_INVALID, "status %d", s);
    cr_assert(strstr(mup_error_message(), words), "message \"%s\" lacks \"%s\"", mup_error_message(), words);
}

Test(depth, bad_settings_are_refused_by_name) {
    mup_mlp *m;
    mup_model *M = residual_mlp(16, 3, &m);
    expect_invalid(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = 1.5, .base_depth = 1}), "alpha 1.5");
    expect_invalid(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = -0.1, .base_depth = 1}), "alpha -0.1");
    expect_invalid(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = NAN, .base_depth = 1}), "alpha");
    expect_invalid(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = 1.0, .base_depth = 0}), "base_depth 0");
    cr_assert(!mup_model_depth(M).on, "a refused setting leaves the model as it was");
    cr_assert_eq(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = 1.0, .base_depth = 1}), MUP_OK);
    mup_optim_opts sgd = {.kind = MUP_OPTIM_SGD, .lr = 0.1f};
    expect_invalid(mup_optim_check(M, &sgd), "not SGD");
    mup_mlp_free(m);
    mup_model_free(M);

    mup_model *P = test_mlp_model(16, 8, 1); /* the plain MLP declares no block */
    expect_invalid(mup_model_set_depth(P, (mup_depth_opts){.on = true, .alpha = 1.0, .base_depth = 1}),
                   "no residual block");
    mup_model_free(P);
}

static void grab_fc3(const char *layer, const mup_tensor *t, void *ctx) {
    if (strcmp(layer, "fc3.act") == 0)
        memcpy(ctx, t->data, 8 * sizeof(float));
}

/* The branch multiplier is in the forward pass: with s = l^-alpha the residual MLP's output equals a
 * hand computation of h + s relu(W h + b) through the layers. */
Test(depth, residual_mlp_forward_scales_each_branch) {
    mup_mlp *m;
    mup_model *M = residual_mlp(8, 3, &m);
    cr_assert_eq(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = 0.5, .base_depth = 1}), MUP_OK);
    float s = (float)mup_model_residual_mult(M); /* 2 blocks: 2^-1/2 */
    float x[6] = {0.3f, -1.0f, 0.7f, 2.0f, -0.4f, 0.1f};
    mup_graph *g = mup_graph_begin_eval(M);
    mup_tensor *h = mup_linear_forward(g, &(mup_linear){.weight = mup_model_find_param(M, "fc1.weight"),
                                                        .bias = mup_model_find_param(M, "fc1.bias")},
                                       mup_graph_wrap(g, x, 2, (int[]){1, 6}));
    float want[8];
    for (int j = 0; j < 8; j++)
        want[j] = fmaxf(h->data[j], 0.0f);
    for (int l = 2; l <= 3; l++) {
        char wn[32], bn[32];
        snprintf(wn, sizeof wn, "fc%d.weight", l);
        snprintf(bn, sizeof bn, "fc%d.bias", l);
        const mup_param *W = mup_model_find_param(M, wn), *b = mup_model_find_param(M, bn);
        float next[8];
        for (int r = 0; r < 8; r++) {
            double acc = b->t.data[r];
            for (int c = 0; c < 8; c++)
                acc += (double)W->t.data[r * 8 + c] * want[c];
            next[r] = want[r] + s * fmaxf((float)acc, 0.0f);
        }
        memcpy(want, next, sizeof want);
    }
    float got[8] = {0};
    mup_graph *g2 = mup_graph_begin_eval(M);
    mup_graph_set_tap(g2, grab_fc3, got);
    mup_mlp_forward(g2, m, mup_graph_wrap(g2, x, 2, (int[]){1, 6}));
    mup_graph_set_tap(g2, NULL, NULL);
    for (int j = 0; j < 8; j++)
        cr_assert_float_eq(got[j], want[j], 1e-5f * (1.0f + fabsf(want[j])), "unit %d: %g, want %g", j, got[j], want[j]);
    mup_mlp_free(m);
    mup_model_free(M);
}

/* A checkpoint records the depth settings; a resume under other ones is refused, since every update
 * would differ. */
Test(depth, checkpoints_keep_the_settings) {
    mup_mlp *m, *m2;
    mup_model *M = residual_mlp(16, 4, &m), *R = residual_mlp(16, 4, &m2);
    mup_depth_opts d = {.on = true, .alpha = 0.5, .base_depth = 1, .eps_scaling = true};
    cr_assert_eq(mup_model_set_depth(M, d), MUP_OK);
    const char *path = test_path("depth.ckpt.h5");
    cr_assert_eq(mup_checkpoint_save(path, M, NULL, NULL), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_checkpoint_load(path, R, NULL, NULL), MUP_ERR_STATE, "loaded under depth scaling off");
    cr_assert(strstr(mup_error_message(), "saved with depth scaling on (alpha 0.5"), "%s", mup_error_message());
    d.alpha = 1.0;
    cr_assert_eq(mup_model_set_depth(R, d), MUP_OK);
    cr_assert_eq(mup_checkpoint_load(path, R, NULL, NULL), MUP_ERR_STATE, "loaded under another alpha");
    d.alpha = 0.5;
    cr_assert_eq(mup_model_set_depth(R, d), MUP_OK);
    cr_assert_eq(mup_checkpoint_load(path, R, NULL, NULL), MUP_OK, "%s", mup_error_message());
    mup_mlp_free(m);
    mup_mlp_free(m2);
    mup_model_free(M);
    mup_model_free(R);
}

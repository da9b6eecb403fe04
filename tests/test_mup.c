/* µP behaviour: the properties docs/rules/MUP_RULES.md says every implementation must have, the µP-aware init
 * functions, and the errors of mup_set_base_shapes. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "testing.h"

/* ---- three builds of the library's models ---- */

typedef struct {
    mup_model *M;
    mup_mlp *mlp;
    mup_gpt *gpt;
} built;

/* The builders: the target's module handle is kept in the built, the base's and delta's freed. */
typedef struct {
    mup_mlp_config mlp;
    mup_gpt_config gpt;
    built *out;
} build_ctx;

static mup_status mlp_builder(mup_model *M, int width, void *ctx) {
    build_ctx *c = ctx;
    c->mlp.width = width;
    mup_mlp *m = mup_mlp_new(M, &c->mlp);
    if (mup_model_is_shapes_only(M))
        mup_mlp_free(m);
    else
        c->out->mlp = m;
    return MUP_OK;
}

static mup_status gpt_builder(mup_model *M, int width, void *ctx) {
    build_ctx *c = ctx;
    c->gpt.width = width;
    mup_gpt *g = mup_gpt_new(M, &c->gpt);
    if (mup_model_is_shapes_only(M))
        mup_gpt_free(g);
    else
        c->out->gpt = g;
    return MUP_OK;
}

/* Base 16 and delta 32; sp: no base (SP). */
static built build_mlp(int width, mup_mlp_config cfg, bool sp) {
    built b = {mup_model_new(), NULL, NULL};
    mup_status s = mup_build_with_base_shapes(b.M, mlp_builder, &(build_ctx){.mlp = cfg, .out = &b}, width,
                                              sp ? 0 : 16, 32);
    cr_assert_eq(s, MUP_OK, "%s", mup_error_message());
    return b;
}

static built build_gpt(int width, mup_gpt_config cfg) {
    built b = {mup_model_new(), NULL, NULL};
    mup_status s = mup_build_with_base_shapes(b.M, gpt_builder, &(build_ctx){.gpt = cfg, .out = &b}, width, 16, 32);
    cr_assert_eq(s, MUP_OK, "%s", mup_error_message());
    return b;
}

static void built_free(built b) {
    mup_mlp_free(b.mlp);
    mup_gpt_free(b.gpt);
    mup_model_free(b.M);
}

/* ---- zero readout: loss ln C at step 1, and hidden layers untouched by the first update ---- */

typedef struct {
    float *h;      /* copy of the tapped layer */
    long n;
    const char *want;
} tap_copy;

static void copy_tap(const char *layer, const mup_tensor *t, void *ctx) {
    tap_copy *c = ctx;
    if (strcmp(layer, c->want) == 0) {
        c->n = t->size;
        memcpy(c->h, t->data, (size_t)t->size * sizeof(float));
    }
}

Test(mup, zero_readout_gives_ln_c_and_a_still_hidden_layer_mlp) {
    int N = 8, d_in = 12, C = 7;
    mup_classif_data data;
    cr_assert_eq(mup_synthetic_classif(N, d_in, C, 3, &data), MUP_OK);
    for (int width = 16; width <= 256; width *= 4) {
        built b = build_mlp(width, (mup_mlp_config){.d_in = d_in, .n_out = C, .depth = 2, .readout_zero_init = true},
                            false);
        mup_model_init(b.M, 1);
        mup_optim *opt = mup_adam_new(b.M, mup_optim_defaults(MUP_OPTIM_ADAM, 0.01f));
        float *h[2];
        for (int step = 0; step < 2; step++) {
            h[step] = malloc((size_t)N * width * sizeof(float));
            tap_copy tc = {.h = h[step], .want = "fc2.act"};
            mup_graph *g = mup_graph_begin(b.M);
            mup_graph_set_tap(g, copy_tap, &tc);
            mup_tensor *loss = mup_cross_entropy(
                g, mup_mlp_forward(g, b.mlp, mup_graph_wrap(g, data.x, 2, (int[]){N, d_in})), data.y);
            mup_graph_set_tap(g, NULL, NULL);
            if (step == 0)
                cr_assert_eq(loss->data[0], logf((float)C), "width %d: step-1 loss %.9g, ln C %.9g", width,
                             loss->data[0], logf((float)C));
            mup_backward(g, loss);
            mup_optim_step(opt);
        }
        cr_assert_eq(memcmp(h[0], h[1], (size_t)N * width * sizeof(float)), 0,
                     "width %d: hidden activations changed after the first update", width);
        free(h[0]);
        free(h[1]);
        mup_optim_free(opt);
        built_free(b);
    }
    mup_classif_data_free(&data);
}

Test(mup, zero_readout_gives_ln_v_for_the_gpt) {
    int B = 2, T = 5, V = 11;
    int32_t ids[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, tg[10] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 0};
    for (int width = 16; width <= 128; width *= 2) {
        built b = build_gpt(width, (mup_gpt_config){.vocab = V, .block_size = 8, .n_head = 2, .n_layer = 2,
                                                    .readout_zero_init = true, .zero_query = true});
        mup_model_init(b.M, 2);
        mup_graph *g = mup_graph_begin_eval(b.M);
        float loss = mup_cross_entropy(g, mup_gpt_forward(g, b.gpt, ids, B, T), tg)->data[0];
        cr_assert_eq(loss, logf((float)V), "width %d: %.9g vs ln V %.9g", width, loss, logf((float)V));
        built_free(b);
    }
}

/* ---- SP and µP agree bit for bit at the base width ---- */

Test(mup, sp_and_mup_identical_at_base_width_for_the_gpt) {
    mup_gpt_config cfg = {.vocab = 9, .block_size = 8, .n_head = 2, .n_layer = 1};
    built mu = build_gpt(16, cfg);
    mup_model *S = mup_model_new();
    cfg.width = 16;
    mup_gpt *sg = mup_gpt_new(S, &cfg);
    cr_assert_eq(mup_set_base_shapes(S, NULL, NULL), MUP_OK);
    mup_model_init(mu.M, 9);
    mup_model_init(S, 9);
    cr_assert_eq(memcmp(mup_model_values(mu.M), mup_model_values(S), (size_t)mup_model_num_floats(S) * 4), 0);
    mup_gpt_free(sg);
    mup_model_free(S);
    built_free(mu);
}

/* ---- init: default rescale and the µP-aware functions ---- */

Test(mup, default_init_scales_as_the_rules_say) {
    /* hidden weight std ∝ 1/sqrt(fan_in); readout and hidden biases constant in width */
    double std[2][3];
    int widths[2] = {64, 512};
    for (int k = 0; k < 2; k++) {
        built b = build_mlp(widths[k], (mup_mlp_config){.d_in = 12, .n_out = 5, .depth = 2}, false);
        mup_model_init(b.M, 4);
        const char *names[3] = {"fc2.weight", "readout.weight", "fc2.bias"};
        for (int i = 0; i < 3; i++)
            std[k][i] = test_sample_std(mup_model_find_param(b.M, names[i]));
        built_free(b);
    }
    cr_assert_float_eq(std[0][0] / std[1][0], sqrt(512.0 / 64.0), 0.05 * sqrt(8.0), "hidden weight std ratio");
    cr_assert_float_eq(std[0][1] / std[1][1], 1.0, 0.1, "readout std should not change with width");
    cr_assert_float_eq(std[0][2] / std[1][2], 1.0, 0.15, "hidden bias std should not change with width");
    /* and the value reported in the table is the drawn one */
    built b = build_mlp(512, (mup_mlp_config){.d_in = 12, .n_out = 5, .depth = 2}, false);
    mup_model_init(b.M, 4);
    mup_param *p = mup_model_find_param(b.M, "readout.weight");
    cr_assert_float_eq(p->init_std, test_sample_std(p), 0.1 * p->init_std);
    built_free(b);
}

Test(mup, mup_aware_init_functions) {
    built b = build_mlp(256, (mup_mlp_config){.d_in = 12, .n_out = 5, .depth = 2}, false); /* m = 16 */
    mup_model_values(b.M);
    mup_rng r = mup_rng_new(5);
    mup_param *hid = mup_model_find_param(b.M, "fc2.weight"), *in = mup_model_find_param(b.M, "fc1.weight");
    mup_param *out = mup_model_find_param(b.M, "readout.weight");
    /* normal: matrix-like std × m^-1/2, others unchanged */
    mup_param_init_now(hid, (mup_init_spec){.kind = MUP_INIT_NORMAL, .a = 0.5f}, &r);
    cr_assert_float_eq(test_sample_std(hid), 0.5 / 4.0, 0.005);
    mup_param_init_now(in, (mup_init_spec){.kind = MUP_INIT_NORMAL, .a = 0.5f}, &r);
    cr_assert_float_eq(test_sample_std(in), 0.5, 0.02);
    /* xavier on the hidden weight: base fans (16, 16), then ÷ sqrt(fanin mult 16) */
    mup_param_init_now(hid, (mup_init_spec){.kind = MUP_INIT_XAVIER_NORMAL, .a = 1.0f}, &r);
    cr_assert_float_eq(test_sample_std(hid), sqrt(2.0 / 32.0) / 4.0, 0.003);
    /* kaiming fan_in: readout (vector-like, infinite fan-in) × sqrt(16): like the base width */
    mup_param_init_now(out, (mup_init_spec){.kind = MUP_INIT_KAIMING_NORMAL}, &r);
    cr_assert_float_eq(test_sample_std(out), sqrt(2.0) / sqrt(16.0), 0.03);
    /* kaiming on the hidden weight (fan_in): unchanged, 1/fan_in variance is already µP */
    mup_param_init_now(hid, (mup_init_spec){.kind = MUP_INIT_KAIMING_UNIFORM}, &r);
    cr_assert_float_eq(test_sample_std(hid), sqrt(2.0 / 256.0), 0.003);
    /* trunc normal: the default bounds ±2, × m^-1/2 on a matrix-like tensor */
    mup_param_init_now(hid, (mup_init_spec){.kind = MUP_INIT_TRUNC_NORMAL, .a = 1.0f}, &r);
    for (long i = 0; i < hid->t.size; i++)
        cr_assert_leq(fabsf(hid->t.data[i]), 2.0f / 4.0f + 1e-6f);
    built_free(b);
}

Test(mup, set_base_shapes_after_init_rescales_once) {
    mup_mlp_config cfg = {.d_in = 12, .n_out = 5, .depth = 2, .width = 64};
    mup_model *A = mup_model_new(), *Z = mup_model_new(), *B = mup_model_new_shapes_only();
    mup_mlp *na = mup_mlp_new(A, &cfg), *nz = mup_mlp_new(Z, &cfg);
    cfg.width = 16;
    mup_mlp_free(mup_mlp_new(B, &cfg));
    /* A: init, then shapes (the reference's order: rescales in place); Z: shapes, then init */
    mup_model_init(A, 7);
    cr_assert_eq(mup_set_base_shapes(A, B, NULL), MUP_OK);
    cr_assert_eq(mup_set_base_shapes(Z, B, NULL), MUP_OK);
    mup_model_init(Z, 7);
    cr_assert_lt(test_max_abs_diff(mup_model_values(A), mup_model_values(Z), mup_model_num_floats(A)), 1e-7);
    cr_assert_eq(mup_set_base_shapes(A, B, NULL), MUP_ERR_STATE, "a second call must be refused");
    cr_assert(strstr(mup_error_message(), "twice"), "%s", mup_error_message());
    mup_mlp_free(na);
    mup_mlp_free(nz);
    mup_model_free(A);
    mup_model_free(Z);
    mup_model_free(B);
}

/* ---- wider is better at a fixed learning rate ---- */

Test(mup, wider_is_better_after_training) {
    mup_classif_data all, train, val;
    cr_assert_eq(mup_synthetic_classif(3000, 32, 10, 11, &all), MUP_OK);
    cr_assert_eq(mup_classif_split(&all, 1000, &train, &val), MUP_OK);
    double val_loss[3];
    int widths[3] = {32, 128, 512};
    for (int k = 0; k < 3; k++) {
        built b = build_mlp(widths[k], (mup_mlp_config){.d_in = 32, .n_out = 10, .depth = 2}, false);
        mup_model_init(b.M, 1);
        mup_optim *opt = mup_adam_new(b.M, mup_optim_defaults(MUP_OPTIM_ADAM, 3e-3f));
        mup_task *task = mup_classif_task_new(b.M, mup_mlp_forward_fn, b.mlp, &train, &val, 64, 1);
        mup_train_result r;
        cr_assert_eq(mup_train(b.M, opt, task, &(mup_train_opts){.steps = 300}, &r), MUP_OK);
        val_loss[k] = r.final_val_loss;
        mup_train_result_free(&r);
        mup_task_free(task);
        mup_optim_free(opt);
        built_free(b);
    }
    cr_assert(val_loss[1] < val_loss[0] && val_loss[2] < val_loss[1], "validation loss by width: %g %g %g",
              val_loss[0], val_loss[1], val_loss[2]);
    mup_classif_data_free(&all);
    mup_classif_data_free(&train);
    mup_classif_data_free(&val);
}

/* ---- errors of mup_set_base_shapes, each naming the parameter ---- */

static void expect_error(mup_model *M, const mup_model *B, const mup_model *D, mup_status want, const char *needle) {
    mup_status s = mup_set_base_shapes(M, B, D);
    cr_assert_eq(s, want, "status %s (%s)", mup_status_str(s), mup_error_message());
    cr_assert(strstr(mup_error_message(), needle), "message '%s' lacks '%s'", mup_error_message(), needle);
}

Test(mup_errors, names_counts_and_ranks_differ) {
    mup_model *M = mup_model_new_shapes_only(), *B = mup_model_new_shapes_only();
    mup_model_add_param(M, "a.weight", MUP_KIND_WEIGHT, 2, (int[]){32, 32});
    mup_model_add_param(B, "b.weight", MUP_KIND_WEIGHT, 2, (int[]){8, 8});
    expect_error(M, B, NULL, MUP_ERR_SHAPE, "a.weight");
    mup_model *C = mup_model_new_shapes_only();
    expect_error(M, C, NULL, MUP_ERR_SHAPE, "parameters");
    mup_model *R = mup_model_new_shapes_only();
    mup_model_add_param(R, "a.weight", MUP_KIND_WEIGHT, 1, (int[]){8});
    expect_error(M, R, NULL, MUP_ERR_SHAPE, "dimensions");
    mup_model_free(M);
    mup_model_free(B);
    mup_model_free(C);
    mup_model_free(R);
}

Test(mup_errors, three_width_dimensions) {
    mup_model *M = mup_model_new_shapes_only(), *B = mup_model_new_shapes_only();
    mup_model_add_param(M, "conv.weight", MUP_KIND_WEIGHT, 3, (int[]){32, 32, 32});
    mup_model_add_param(B, "conv.weight", MUP_KIND_WEIGHT, 3, (int[]){8, 8, 8});
    expect_error(M, B, NULL, MUP_ERR_SHAPE, "conv.weight has 3 width dimensions");
    mup_model_free(M);
    mup_model_free(B);
}

Test(mup_errors, width_to_finite_linear_is_not_a_readout) {
    mup_model *M = mup_model_new_shapes_only(), *B = mup_model_new_shapes_only();
    mup_linear l;
    mup_linear_init(&l, M, "head", 64, 10, MUP_BIAS);
    mup_linear_init(&l, B, "head", 16, 10, MUP_BIAS);
    expect_error(M, B, NULL, MUP_ERR_SHAPE, "head.weight maps width to a finite size");
    mup_model_free(M);
    mup_model_free(B);
}

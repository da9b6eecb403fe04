/* µP edge cases, each against what the reference package (mup 1.0) does: an init drawn before the
 * base shapes, Adam's betas at 0, decoupled weight decay, a tied zero readout, a dimension equal in
 * base and delta only, the truncated normal's bounds, kaiming gains, asymmetric uniform inits,
 * 0-d and zero-sized parameters, and a model too large to allocate. */
#include <criterion/criterion.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

/* The huge-model test needs malloc to fail, not AddressSanitizer to stop the process. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ---- catching a MUP_ASSERT and its message ---- */

static jmp_buf caught_jump;
static char caught[512];

static void catch_abort(const char *file, int line, const char *message, void *ctx) {
    (void)file;
    (void)line;
    (void)ctx;
    snprintf(caught, sizeof caught, "%s", message);
    longjmp(caught_jump, 1);
}

#define EXPECT_ASSERT(stmt, needle)                                                                  \
    do {                                                                                             \
        caught[0] = '\0';                                                                            \
        mup_set_abort_handler(catch_abort, NULL);                                                    \
        if (!setjmp(caught_jump)) {                                                                  \
            stmt;                                                                                    \
            mup_set_abort_handler(NULL, NULL);                                                       \
            cr_assert_fail("no assertion from " #stmt);                                              \
        }                                                                                            \
        mup_set_abort_handler(NULL, NULL);                                                           \
        cr_assert(strstr(caught, needle), "message '%s' lacks '%s'", caught, needle);                \
    } while (0)

/* The hand-built MLP at width 256 with base 16 and delta 17: m = 16 for every width dimension. */
static mup_model *mlp_with_shapes(mup_model *M) {
    mup_model *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    test_build_mlp(B, 16);
    test_build_mlp(D, 17);
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_OK, "%s", mup_error_message());
    mup_model_free(B);
    mup_model_free(D);
    return M;
}

/* ---- an init drawn before mup_set_base_shapes ---- */

static void set_specs(mup_model *M) {
    mup_param_set_init(mup_model_find_param(M, "fc2.weight"), (mup_init_spec){.kind = MUP_INIT_NORMAL, .a = 1.0f});
    mup_param_set_init(mup_model_find_param(M, "fc1.weight"),
                       (mup_init_spec){.kind = MUP_INIT_XAVIER_UNIFORM, .a = 1.0f});
    mup_param_set_init(mup_model_find_param(M, "fc1.bias"), (mup_init_spec){.kind = MUP_INIT_UNIFORM, .a = 0, .b = 1});
    mup_param_set_init(mup_model_find_param(M, "readout.weight"), (mup_init_spec){.kind = MUP_INIT_KAIMING_NORMAL});
    mup_param_set_init(mup_model_find_param(M, "fc2.bias"),
                       (mup_init_spec){.kind = MUP_INIT_TRUNC_NORMAL, .a = 0.5f, .b = 0.6f});
}

Test(mup_edges, init_drawn_before_base_shapes_is_rescaled) {
    /* before: init (µP-aware specs and defaults), then shapes; after: shapes, then init */
    mup_model *before = mup_model_new(), *after = mup_model_new();
    test_build_mlp(before, 256);
    test_build_mlp(after, 256);
    set_specs(before);
    set_specs(after);
    mup_model_init(before, 3);
    mlp_with_shapes(before);
    mlp_with_shapes(after);
    mup_model_init(after, 3);
    const mup_param *hid = mup_model_find_param(before, "fc2.weight");
    cr_assert_float_eq(hid->init_std, 0.25, 1e-12, "normal(1) of a matrix-like weight at m = 16");
    cr_assert_float_eq(test_sample_std(hid), 0.25, 0.005);
    for (int i = 0; i < mup_model_num_params(before); i++) {
        const mup_param *p = mup_model_param(before, i), *q = mup_model_param(after, i);
        cr_assert_float_eq(p->init_std, q->init_std, 1e-12, "%s", p->name);
        for (long k = 0; k < p->t.size; k++)
            cr_assert_float_eq(p->t.data[k], q->t.data[k], 1e-6 * (fabsf(q->t.data[k]) + 1e-6f), "%s[%ld]",
                               p->name, k);
    }
    mup_model_free(before);
    mup_model_free(after);
}

/* ---- uniform with a != -b ---- */

Test(mup_edges, asymmetric_uniform_refused_on_a_matrix_like_parameter) {
    mup_model *M = mup_model_new();
    test_build_mlp(M, 256);
    mup_param *hid = mup_model_find_param(M, "fc2.weight");
    mup_param_set_init(hid, (mup_init_spec){.kind = MUP_INIT_UNIFORM, .a = 0, .b = 1});
    mup_model *B = mup_model_new_shapes_only();
    test_build_mlp(B, 16);
    cr_assert_eq(mup_set_base_shapes(M, B, NULL), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "fc2.weight") && strstr(mup_error_message(), "a = -b"), "%s",
              mup_error_message());
    mup_model_free(M);
    mup_model_free(B);
}

Test(mup_edges, asymmetric_uniform_kept_on_a_vector_and_asserted_after_shapes) {
    mup_model *M = mup_model_new();
    test_build_mlp(M, 256);
    mlp_with_shapes(M);
    mup_model_init(M, 1);
    mup_rng r = mup_rng_new(1);
    mup_param *bias = mup_model_find_param(M, "fc1.bias"), *hid = mup_model_find_param(M, "fc2.weight");
    mup_param_init_now(bias, (mup_init_spec){.kind = MUP_INIT_UNIFORM, .a = 0, .b = 1}, &r);
    for (long k = 0; k < bias->t.size; k++)
        cr_assert(bias->t.data[k] >= 0.0f && bias->t.data[k] <= 1.0f, "a vector-like uniform keeps [0, 1]");
    EXPECT_ASSERT(mup_param_init_now(hid, (mup_init_spec){.kind = MUP_INIT_UNIFORM, .a = 0, .b = 1}, &r),
                  "fc2.weight: a uniform init on [0, 1] of a matrix-like parameter must have a = -b");
    mup_model_free(M);
}

/* ---- the truncated normal: absolute bounds, as torch's trunc_normal_(std, a=-2, b=2) ---- */

Test(mup_edges, trunc_normal_cuts_at_absolute_bounds_scaled_for_matrices) {
    mup_model *M = mup_model_new();
    test_build_mlp(M, 256);
    mlp_with_shapes(M);
    mup_model_values(M);
    mup_rng r = mup_rng_new(2);
    mup_param *in = mup_model_find_param(M, "fc1.weight"), *hid = mup_model_find_param(M, "fc2.weight");
    /* std 0.02 with the default bounds ±2 = ±100 std: nothing is cut (the old ±2 std cut gave 0.0176) */
    mup_param_init_now(in, (mup_init_spec){.kind = MUP_INIT_TRUNC_NORMAL, .a = 0.02f}, &r);
    cr_assert_float_eq(in->init_std, 0.02, 1e-9);
    cr_assert_float_eq(test_sample_std(in), 0.02, 0.0006);
    /* bounds ±0.03 = ±1.5 std: std × 0.742646 (the normal's std cut at ±1.5) */
    mup_param_init_now(in, (mup_init_spec){.kind = MUP_INIT_TRUNC_NORMAL, .a = 0.02f, .b = 0.03f}, &r);
    cr_assert_float_eq(in->init_std, 0.02 * 0.742646, 2e-7);
    cr_assert_float_eq(test_sample_std(in), in->init_std, 0.03 * in->init_std);
    for (long k = 0; k < in->t.size; k++)
        cr_assert_leq(fabsf(in->t.data[k]), 0.03f);
    /* matrix-like at m = 16: std and bounds both × 1/4 */
    mup_param_init_now(hid, (mup_init_spec){.kind = MUP_INIT_TRUNC_NORMAL, .a = 0.02f, .b = 0.03f}, &r);
    cr_assert_float_eq(hid->init_std, 0.005 * 0.742646, 1e-7);
    for (long k = 0; k < hid->t.size; k++)
        cr_assert_leq(fabsf(hid->t.data[k]), 0.0075f);
    /* a cut far inside one std still draws (and quickly): bounds ±0.1 std */
    mup_param_init_now(in, (mup_init_spec){.kind = MUP_INIT_TRUNC_NORMAL, .a = 1.0f, .b = 0.1f}, &r);
    cr_assert_float_eq(test_sample_std(in), 0.1 / sqrt(3.0), 0.003, "nearly uniform on ±0.1");
    mup_model_free(M);
}

/* ---- kaiming gains: torch.nn.init.calculate_gain ---- */

Test(mup_edges, kaiming_gains) {
    mup_model *M = mup_model_new();
    test_build_mlp(M, 256);
    mlp_with_shapes(M);
    mup_model_values(M);
    mup_rng r = mup_rng_new(3);
    mup_param *hid = mup_model_find_param(M, "fc2.weight"); /* fan_in 256, matrix-like: unchanged */
    struct { mup_gain g; float a; double gain; } cases[] = {
        {MUP_GAIN_LEAKY_RELU, 0.0f, sqrt(2.0)}, {MUP_GAIN_LEAKY_RELU, 0.2f, sqrt(2.0 / 1.04)},
        {MUP_GAIN_RELU, 0.0f, sqrt(2.0)},       {MUP_GAIN_LINEAR, 0.0f, 1.0},
        {MUP_GAIN_TANH, 0.0f, 5.0 / 3.0},        {MUP_GAIN_SELU, 0.0f, 0.75},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mup_param_init_now(hid, (mup_init_spec){.kind = MUP_INIT_KAIMING_NORMAL, .a = cases[i].a,
                                                .nonlinearity = cases[i].g}, &r);
        cr_assert_float_eq(hid->init_std, cases[i].gain / 16.0, 1e-6, "case %zu", i);
        cr_assert_float_eq(test_sample_std(hid), cases[i].gain / 16.0, 0.02 * cases[i].gain / 16.0, "case %zu", i);
    }
    mup_model_free(M);
}

/* ---- Adam's betas: 0 is 0 ---- */

Test(mup_edges, adam_betas_zero_are_zero) {
    mup_model *M = test_mlp_model(64, 16, 1);
    mup_optim *o = mup_adam_new(M, (mup_optim_opts){.lr = 0.01f, .beta1 = 0.0f, .beta2 = 0.0f, .eps = 0.0f});
    cr_assert_eq(mup_optim_options(o)->beta1, 0.0f);
    cr_assert_eq(mup_optim_options(o)->beta2, 0.0f);
    mup_param *b = mup_model_find_param(M, "fc1.bias");
    /* with both betas 0 and no eps every step is -lr sign(g), whatever came before */
    for (int step = 0; step < 2; step++) {
        float before = b->t.data[0];
        memset(mup_model_grads(M), 0, (size_t)mup_model_num_floats(M) * sizeof(float));
        b->t.grad[0] = step == 0 ? 5.0f : -0.001f;
        mup_optim_step(o);
        double change = b->t.data[0] - before;
        cr_assert_float_eq(change, step == 0 ? -0.01 : 0.01, 1e-5, "step %d: %.9g", step, change);
    }
    mup_optim_free(o);
    mup_optim *d = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 0.01f));
    cr_assert_eq(mup_optim_options(d)->beta1, 0.9f);
    cr_assert_eq(mup_optim_options(d)->beta2, 0.999f);
    cr_assert_eq(mup_optim_options(d)->eps, 1e-8f);
    mup_optim_free(d);
    mup_optim_opts bad = mup_optim_defaults(MUP_OPTIM_ADAM, 0.01f);
    bad.beta2 = 1.0f;
    cr_assert_eq(mup_optim_opts_check(&bad), MUP_ERR_INVALID);
    bad.beta2 = -0.5f;
    cr_assert_eq(mup_optim_opts_check(&bad), MUP_ERR_INVALID);
    mup_model_free(M);
}

/* ---- weight decay: µP-scaled, independent_wd, the reference's decoupled_wd ---- */

/* The factor one step with zero gradients multiplies fc2.weight (matrix-like, m = 4) by. */
static double shrink(mup_optim_opts opts) {
    mup_model *M = test_mlp_model(64, 16, 2);
    mup_optim *o = mup_optim_new(M, opts);
    mup_param *hid = mup_model_find_param(M, "fc2.weight");
    float before = hid->t.data[0];
    memset(mup_model_grads(M), 0, (size_t)mup_model_num_floats(M) * sizeof(float));
    mup_optim_step(o);
    double f = hid->t.data[0] / before;
    mup_optim_free(o);
    mup_model_free(M);
    return f;
}

Test(mup_edges, weight_decay_modes) {
    mup_optim_opts w = mup_optim_defaults(MUP_OPTIM_ADAMW, 0.01f);
    w.weight_decay = 0.1f;
    /* µP: lr / 4 × wd × 4, the same shrink as at the base width */
    cr_assert_float_eq(shrink(w), 1.0 - 0.01 * 0.1, 1e-7);
    /* the reference's decoupled_wd=True with AdamW: wd unscaled, still × the µP lr */
    w.decoupled_wd = true;
    cr_assert_float_eq(shrink(w), 1.0 - 0.01 / 4 * 0.1, 1e-7);
    /* independent_wd: not multiplied by lr at all */
    w.decoupled_wd = false;
    w.independent_wd = true;
    cr_assert_float_eq(shrink(w), 1.0 - 0.1, 1e-7);
    /* SGD's coupled decay, decoupled: lr × 1 (fan-in and fan-out both × 4) × wd unscaled */
    mup_optim_opts s = {.kind = MUP_OPTIM_SGD, .lr = 0.01f, .weight_decay = 0.1f, .decoupled_wd = true};
    cr_assert_float_eq(shrink(s), 1.0 - 0.01 * 0.1, 1e-7);
}

/* ---- a tied readout with zero init: the bias starts at 0, the shared table keeps its init ---- */

Test(mup_edges, tied_zero_readout_zeroes_the_bias_only) {
    mup_gpt_config cfg = {.vocab = 20, .block_size = 8, .n_layer = 1, .head_dim = 8, .tied = true,
                          .readout_zero_init = true};
    mup_model *M = mup_model_new(), *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    cfg.width = 64;
    mup_gpt *net = mup_gpt_new(M, &cfg);
    cfg.width = 16;
    mup_gpt_free(mup_gpt_new(B, &cfg));
    cfg.width = 32;
    mup_gpt_free(mup_gpt_new(D, &cfg));
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_OK, "%s", mup_error_message());
    mup_model_init(M, 1);
    bool found_bias = false;
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        if (p->kind == MUP_KIND_READOUT_BIAS) {
            found_bias = true;
            for (long k = 0; k < p->t.size; k++)
                cr_assert_eq(p->t.data[k], 0.0f, "%s", p->name);
        }
        if (p->kind == MUP_KIND_EMBEDDING && p->t.shape[0] == cfg.vocab)
            cr_assert_gt(test_sample_std(p), 0.5, "the shared table %s keeps its init", p->name);
    }
    cr_assert(found_bias);
    mup_gpt_free(net);
    mup_model_free(M);
    mup_model_free(B);
    mup_model_free(D);
}

/* ---- a dimension equal in base and delta but not in the target: finite, mult 1 ---- */

static void add_w(mup_model *M, int d0, int d1) { mup_model_add_param(M, "w", MUP_KIND_WEIGHT, 2, (int[]){d0, d1}); }

Test(mup_edges, dimension_equal_in_base_and_delta_is_finite_in_both_paths) {
    mup_model *M = mup_model_new_shapes_only(), *F = mup_model_new_shapes_only(), *B = mup_model_new_shapes_only(),
              *D = mup_model_new_shapes_only();
    add_w(M, 64, 48);
    add_w(F, 64, 48);
    add_w(B, 16, 12);
    add_w(D, 32, 12);
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_OK, "%s", mup_error_message());
    const char *bsh = test_path("finite.bsh");
    FILE *f = fopen(bsh, "w");
    fputs("w:\n- 16\n- null\n", f);
    fclose(f);
    cr_assert_eq(mup_set_base_shapes_file(F, bsh), MUP_OK, "%s", mup_error_message());
    const mup_param *models = mup_model_find_param(M, "w"), *file = mup_model_find_param(F, "w");
    for (const mup_param *p = models;; p = file) {
        cr_assert_eq(p->ninf, 1);
        cr_assert(p->width_dim[0] && !p->width_dim[1]);
        cr_assert_float_eq(p->width_mult, 4.0, 1e-12);
        cr_assert_float_eq(p->fanin_mult, 1.0, 1e-12, "the finite fan-in has mult 1 though 48 != 12");
        cr_assert_eq(p->cls, MUP_CLASS_VECTOR);
        cr_assert_eq(p->role, MUP_ROLE_INPUT);
        cr_assert_eq(p->base_shape[1], 48);
        if (p == file)
            break;
    }
    mup_model_free(M);
    mup_model_free(F);
    mup_model_free(B);
    mup_model_free(D);
}

/* ---- 0-d and zero-sized parameters ---- */

Test(mup_edges, zero_d_and_zero_sized_parameters) {
    mup_model *M = mup_model_new();
    EXPECT_ASSERT(mup_model_add_param(M, "temperature", MUP_KIND_GAIN, 0, (int[]){1}),
                  "parameter temperature has 0 dimensions; parameters have 1 to 4 (register a 0-d one as shape (1))");
    EXPECT_ASSERT(mup_model_add_param(M, "empty", MUP_KIND_WEIGHT, 2, (int[]){4, 0}),
                  "dimension 1 of parameter empty is 0; zero-sized parameters are not supported");
    /* PyTorch's 0-d parameter is [] in a .bsh file: it matches shape (1), finite */
    mup_model_add_param(M, "temperature", MUP_KIND_GAIN, 1, (int[]){1});
    add_w(M, 64, 12);
    const char *bsh = test_path("scalar.bsh");
    FILE *f = fopen(bsh, "w");
    fputs("temperature: []\nw:\n- 16\n- null\n", f);
    fclose(f);
    cr_assert_eq(mup_set_base_shapes_file(M, bsh), MUP_OK, "%s", mup_error_message());
    const mup_param *t = mup_model_find_param(M, "temperature");
    cr_assert_eq(t->ninf, 0);
    cr_assert_eq(t->cls, MUP_CLASS_SCALAR);
    cr_assert_eq(mup_model_init(M, 1), MUP_OK);
    cr_assert_eq(t->t.data[0], 1.0f, "a gain starts at 1");
    mup_model_free(M);
}

/* ---- a model too large to allocate ---- */

Test(mup_edges, model_too_large_returns_nomem_naming_the_bytes) {
    mup_model *M = mup_model_new();
    /* 2^50 floats: 4 PiB, beyond any address space, so no system hands it out */
    mup_model_add_param(M, "huge", MUP_KIND_WEIGHT, 3, (int[]){1 << 20, 1 << 20, 1 << 10});
    cr_assert_eq(mup_set_base_shapes(M, NULL, NULL), MUP_OK);
    cr_assert_eq(mup_model_init(M, 1), MUP_ERR_NOMEM);
    cr_assert(strstr(mup_error_message(), "4503599627370496 bytes"), "%s", mup_error_message());
    cr_assert(!mup_model_is_initialized(M));
    mup_model_free(M);
}

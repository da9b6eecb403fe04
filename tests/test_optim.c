/* SGD, Adam and AdamW against updates written out here in double, on the test MLP at width 32 with
 * base width 8 (m = 4: the hidden fc2.weight is matrix-like, fc1.weight, the biases and the readout
 * weight vector-like, the readout bias scalar-like), with gradients set by hand. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

#define WIDTH 32
#define BASE 8

static void fill_grads(mup_model *M, float value) {
    for (int i = 0; i < mup_model_num_params(M); i++) {
        mup_param *p = mup_model_param(M, i);
        for (long k = 0; k < p->t.size; k++)
            p->t.grad[k] = value;
    }
}

/* Parameters and optimizer state in double, in the model's slab layout. */
typedef struct {
    double *p, *init, *s0, *s1;
} ref_state;

static ref_state ref_new(mup_model *M) {
    long n = mup_model_num_floats(M);
    ref_state r = {calloc(n, 8), calloc(n, 8), calloc(n, 8), calloc(n, 8)};
    const float *v = mup_model_values(M);
    for (long j = 0; j < n; j++)
        r.p[j] = r.init[j] = v[j];
    return r;
}

static void ref_free(ref_state *r) {
    free(r->p);
    free(r->init);
    free(r->s0);
    free(r->s1);
}

/* Step t (1-based) of o with schedule factor f, from the model's gradients. */
static void ref_step(ref_state *r, mup_model *M, const mup_optim_opts *o, double f, int t) {
    double b1 = isnan(o->beta1) ? 0.9 : o->beta1, b2 = isnan(o->beta2) ? 0.999 : o->beta2,
           eps = isnan(o->eps) ? 1e-8 : o->eps;
    bool sgd = o->kind == MUP_OPTIM_SGD;
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        double lr = o->lr * f * (sgd ? p->sgd_lr_mult : p->adam_lr_mult);
        double wd = o->weight_decay * (o->independent_wd ? 1.0 : sgd ? p->sgd_wd_mult : p->adam_wd_mult);
        for (long k = 0; k < p->t.size; k++) {
            long j = p->offset + k;
            double g = p->t.grad[k], x = r->p[j];
            if (sgd) {
                g += wd * x;
                if (o->momentum != 0.0f) {
                    r->s0[j] = t == 1 ? g : o->momentum * r->s0[j] + g;
                    g = r->s0[j];
                }
                x -= lr * g;
            } else {
                if (o->kind == MUP_OPTIM_ADAM)
                    g += wd * x;
                else
                    x *= o->independent_wd ? 1.0 - f * wd : 1.0 - lr * wd;
                r->s0[j] = b1 * r->s0[j] + (1.0 - b1) * g;
                r->s1[j] = b2 * r->s1[j] + (1.0 - b2) * g * g;
                x -= lr * (r->s0[j] / (1.0 - pow(b1, t))) / (sqrt(r->s1[j] / (1.0 - pow(b2, t))) + eps);
            }
            r->p[j] = x;
        }
    }
}

static void expect_close(const float *got, const double *want, mup_model *M, const char *what, int step) {
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        for (long k = 0; k < p->t.size; k++) {
            double w = want[p->offset + k], d = fabs(got[p->offset + k] - w);
            cr_assert_leq(d, 1e-6 + 1e-5 * fabs(w), "step %d %s of %s[%ld]: %.9g, reference %.9g",
                          step, what, p->name, k, got[p->offset + k], w);
        }
    }
}

/* Steps the optimizer and the reference side by side (random gradients, schedule factors given by
 * hand or all 1), comparing parameters and state after each step. */
static void run_against_reference(mup_optim_opts opts, int steps, const double *factors) {
    mup_model *M = test_mlp_model(WIDTH, BASE, 1);
    mup_optim *o = mup_optim_new(M, opts);
    ref_state r = ref_new(M);
    for (int t = 1; t <= steps; t++) {
        test_set_grads(M, (uint64_t)t);
        ref_step(&r, M, &opts, factors ? factors[t - 1] : 1.0, t);
        mup_optim_step(o);
        cr_assert_eq(mup_optim_step_count(o), t);
        expect_close(mup_model_values(M), r.p, M, "value", t);
        if (mup_optim_num_state(o) > 0)
            expect_close(mup_optim_state(o, 0), r.s0, M, mup_optim_state_name(o, 0), t);
        if (mup_optim_num_state(o) > 1)
            expect_close(mup_optim_state(o, 1), r.s1, M, mup_optim_state_name(o, 1), t);
    }
    /* the comparison means something only if the steps moved the parameters well past its tolerance */
    double moved = 0.0;
    for (long j = 0; j < mup_model_num_floats(M); j++)
        moved = fmax(moved, fabs(r.p[j] - r.init[j]));
    cr_assert_gt(moved, 1e-3);
    ref_free(&r);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(optim, sgd) {
    run_against_reference((mup_optim_opts){.kind = MUP_OPTIM_SGD, .lr = 0.05f}, 3, NULL);
}

Test(optim, sgd_momentum_weight_decay) {
    mup_optim_opts o = {.kind = MUP_OPTIM_SGD, .lr = 0.05f, .momentum = 0.9f, .weight_decay = 0.01f};
    run_against_reference(o, 3, NULL);
}

Test(optim, sgd_warmup_scales_every_rate) {
    mup_optim_opts o = {.kind = MUP_OPTIM_SGD, .lr = 0.05f, .momentum = 0.5f,
                        .schedule = {.kind = MUP_SCHEDULE_CONSTANT, .warmup_steps = 2}};
    run_against_reference(o, 3, (double[]){0.5, 1.0, 1.0});
}

Test(optim, adam) {
    run_against_reference((mup_optim_opts){MUP_ADAM_DEFAULTS, .kind = MUP_OPTIM_ADAM, .lr = 0.01f}, 3, NULL);
}

Test(optim, adam_coupled_weight_decay_and_betas) {
    mup_optim_opts o = {.kind = MUP_OPTIM_ADAM, .lr = 0.01f, .weight_decay = 0.05f,
                        .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-6f};
    run_against_reference(o, 3, NULL);
}

Test(optim, adamw) {
    run_against_reference((mup_optim_opts){MUP_ADAM_DEFAULTS, .kind = MUP_OPTIM_ADAMW, .lr = 0.01f, .weight_decay = 0.1f},
                          3, NULL);
}

Test(optim, adamw_independent_wd_follows_schedule) {
    /* warmup 2 then cosine to 0.2 at step 4: factors 1/2, 1, 1, (1 + 0.2) / 2 */
    mup_optim_opts o = {MUP_ADAM_DEFAULTS, .kind = MUP_OPTIM_ADAMW, .lr = 0.01f, .weight_decay = 0.1f,
                        .independent_wd = true,
                        .schedule = {.kind = MUP_SCHEDULE_COSINE, .warmup_steps = 2, .total_steps = 4,
                                     .min_factor = 0.2f}};
    run_against_reference(o, 4, (double[]){0.5, 1.0, 1.0, 0.6});
}

/* One step's change of a parameter's first and last element, which must agree (to the rounding of
 * values near 1). */
static double step_change(mup_model *M, const char *name, const float *before) {
    const mup_param *p = mup_model_find_param(M, name);
    double first = p->t.data[0] - before[p->offset];
    double last = p->t.data[p->t.size - 1] - before[p->offset + p->t.size - 1];
    cr_assert_float_eq(first, last, 2e-7, "%s", name);
    return first;
}

/* Takes one step with every gradient 1 and returns a copy of the values before it. */
static float *step_with_unit_grads(mup_model *M, mup_optim *o) {
    float *before = test_copy(mup_model_values(M), mup_model_num_floats(M));
    fill_grads(M, 1.0f);
    mup_optim_step(o);
    return before;
}

Test(optim, adam_hidden_step_is_one_mth_of_a_vectors) {
    mup_model *M = test_mlp_model(WIDTH, BASE, 2);
    mup_optim *o = mup_adam_new(M, (mup_optim_opts){MUP_ADAM_DEFAULTS, .lr = 0.01f});
    float *before = step_with_unit_grads(M, o);
    /* first Adam step: -lr_i g / (|g| + eps) = -lr_i */
    cr_assert_float_eq(step_change(M, "fc2.weight", before), -0.01 / 4, 2e-7);
    cr_assert_float_eq(step_change(M, "fc1.weight", before), -0.01, 2e-7);
    cr_assert_float_eq(step_change(M, "fc1.bias", before), -0.01, 2e-7);
    cr_assert_float_eq(step_change(M, "readout.weight", before), -0.01, 2e-7);
    cr_assert_float_eq(step_change(M, "readout.bias", before), -0.01, 2e-7);
    free(before);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(optim, sgd_vector_rate_is_m_times) {
    mup_model *M = test_mlp_model(WIDTH, BASE, 2);
    mup_optim *o = mup_sgd_new(M, (mup_optim_opts){.lr = 0.1f});
    float *before = step_with_unit_grads(M, o);
    cr_assert_float_eq(step_change(M, "fc1.weight", before), -0.1 * 4, 1e-6);
    cr_assert_float_eq(step_change(M, "fc1.bias", before), -0.1 * 4, 1e-6);
    cr_assert_float_eq(step_change(M, "fc2.weight", before), -0.1, 1e-6); /* fan-in and fan-out both × 4 */
    cr_assert_float_eq(step_change(M, "readout.bias", before), -0.1, 1e-6);
    free(before);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(optim, sp_rates_are_all_lr) {
    mup_model *M = test_mlp_model(WIDTH, 0, 2);
    mup_optim *o = mup_adam_new(M, (mup_optim_opts){MUP_ADAM_DEFAULTS, .lr = 0.01f});
    float *before = step_with_unit_grads(M, o);
    for (int i = 0; i < mup_model_num_params(M); i++)
        cr_assert_float_eq(step_change(M, mup_model_param(M, i)->name, before), -0.01, 2e-7);
    free(before);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(optim, param_lr_follows_schedule_and_set_lr) {
    mup_model *M = test_mlp_model(WIDTH, BASE, 3);
    mup_optim *o = mup_adamw_new(M, (mup_optim_opts){MUP_ADAM_DEFAULTS, .lr = 0.01f, .schedule = {
        .kind = MUP_SCHEDULE_LINEAR, .warmup_steps = 2, .total_steps = 6, .min_factor = 0.0f}});
    int hidden = 2, bias = 1;
    cr_assert_eq(mup_model_param(M, hidden), mup_model_find_param(M, "fc2.weight"));
    cr_assert_float_eq(mup_optim_param_lr(o, hidden), 0.01f * 0.5 / 4, 1e-12);
    cr_assert_float_eq(mup_optim_param_lr(o, bias), 0.01f * 0.5, 1e-12);
    fill_grads(M, 0.0f);
    for (int s = 0; s < 4; s++)
        mup_optim_step(o);
    /* step 4: halfway down the linear decay */
    cr_assert_float_eq(mup_optim_param_lr(o, hidden), 0.01f * 0.5 / 4, 1e-12);
    mup_optim_set_lr(o, 0.02f);
    cr_assert_float_eq(mup_optim_param_lr(o, bias), 0.02f * 0.5, 1e-12);
    cr_assert_eq(mup_optim_options(o)->lr, 0.02f);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(optim, state_slabs_named_and_sized) {
    mup_model *M = test_mlp_model(WIDTH, BASE, 4);
    mup_optim *s = mup_sgd_new(M, (mup_optim_opts){.lr = 0.1f});
    mup_optim *sm = mup_sgd_new(M, (mup_optim_opts){.lr = 0.1f, .momentum = 0.9f});
    mup_optim *a = mup_adam_new(M, (mup_optim_opts){MUP_ADAM_DEFAULTS, .lr = 0.1f});
    cr_assert_eq(mup_optim_num_state(s), 0);
    cr_assert_eq(mup_optim_num_state(sm), 1);
    cr_assert_str_eq(mup_optim_state_name(sm, 0), "momentum");
    cr_assert_eq(mup_optim_num_state(a), 2);
    cr_assert_str_eq(mup_optim_state_name(a, 0), "exp_avg");
    cr_assert_str_eq(mup_optim_state_name(a, 1), "exp_avg_sq");
    cr_assert_eq(mup_optim_options(a)->beta2, 0.999f);
    float *st = mup_optim_state(a, 1);
    for (long j = 0; j < mup_model_num_floats(M); j++) /* zeroed, and the whole slab is addressable */
        cr_assert_eq(st[j], 0.0f);
    mup_optim_free(s);
    mup_optim_free(sm);
    mup_optim_free(a);
    mup_model_free(M);
}

/* A run stopped after 2 steps and resumed in a fresh optimizer from the state slabs and step count
 * gives the same bits as one run of 4 steps. */
static void check_resume(mup_optim_opts opts) {
    mup_model *A = test_mlp_model(WIDTH, BASE, 5), *B = test_mlp_model(WIDTH, BASE, 5);
    mup_optim *oa = mup_optim_new(A, opts), *ob = mup_optim_new(B, opts);
    for (int t = 1; t <= 2; t++) {
        test_set_grads(A, (uint64_t)t);
        test_set_grads(B, (uint64_t)t);
        mup_optim_step(oa);
        mup_optim_step(ob);
    }
    mup_optim *oc = mup_optim_new(B, opts);
    size_t bytes = (size_t)mup_model_num_floats(B) * sizeof(float);
    for (int i = 0; i < mup_optim_num_state(ob); i++)
        memcpy(mup_optim_state(oc, i), mup_optim_state(ob, i), bytes);
    mup_optim_set_step_count(oc, mup_optim_step_count(ob));
    mup_optim_free(ob);
    for (int t = 3; t <= 4; t++) {
        test_set_grads(A, (uint64_t)t);
        test_set_grads(B, (uint64_t)t);
        mup_optim_step(oa);
        mup_optim_step(oc);
    }
    cr_assert_eq(memcmp(mup_model_values(A), mup_model_values(B), bytes), 0);
    mup_optim_free(oa);
    mup_optim_free(oc);
    mup_model_free(A);
    mup_model_free(B);
}

Test(optim, resume_from_state_is_exact) {
    mup_schedule cosine = {.kind = MUP_SCHEDULE_COSINE, .warmup_steps = 1, .total_steps = 4};
    check_resume((mup_optim_opts){MUP_ADAM_DEFAULTS, .kind = MUP_OPTIM_ADAMW, .lr = 0.01f, .weight_decay = 0.1f,
                                  .schedule = cosine});
    check_resume((mup_optim_opts){.kind = MUP_OPTIM_SGD, .lr = 0.05f, .momentum = 0.9f, .schedule = cosine});
}

Test(optim, same_bits_with_one_and_two_threads) {
    /* fc2.weight holds a million floats: its update runs in parallel */
    mup_optim_opts opts = {MUP_ADAM_DEFAULTS, .kind = MUP_OPTIM_ADAMW, .lr = 0.01f, .weight_decay = 0.1f,
                           .clip_norm = 1.0f};
    mup_model *A = test_mlp_model(1003, BASE, 8), *B = test_mlp_model(1003, BASE, 8);
    mup_optim *oa = mup_optim_new(A, opts), *ob = mup_optim_new(B, opts);
    for (int t = 1; t <= 2; t++) {
        test_set_grads(A, (uint64_t)t);
        test_set_grads(B, (uint64_t)t);
        mup_set_num_threads(1);
        mup_optim_step(oa);
        mup_set_num_threads(2);
        mup_optim_step(ob);
        mup_set_num_threads(1);
    }
    size_t bytes = (size_t)mup_model_num_floats(A) * sizeof(float);
    cr_assert_eq(memcmp(mup_model_values(A), mup_model_values(B), bytes), 0);
    cr_assert_eq(memcmp(mup_optim_state(oa, 1), mup_optim_state(ob, 1), bytes), 0);
    mup_optim_free(oa);
    mup_optim_free(ob);
    mup_model_free(A);
    mup_model_free(B);
}

Test(optim, opts_check) {
    cr_assert_eq(mup_optim_opts_check(&(mup_optim_opts){0}), MUP_OK);
    const mup_optim_opts bad[] = {
        {.lr = -1.0f},
        {.lr = NAN},
        {.lr = 0.1f, .momentum = 1.0f},
        {.kind = MUP_OPTIM_ADAM, .lr = 0.1f, .beta2 = 1.0f},
        {.kind = MUP_OPTIM_ADAM, .lr = 0.1f, .weight_decay = -0.1f},
        {.kind = MUP_OPTIM_ADAM, .lr = 0.1f, .independent_wd = true},
        {.lr = 0.1f, .clip_norm = INFINITY},
        {.lr = 0.1f, .schedule = {.kind = MUP_SCHEDULE_COSINE, .warmup_steps = 5, .total_steps = 5}},
        {.lr = 0.1f, .schedule = {.kind = MUP_SCHEDULE_LINEAR, .total_steps = 5, .min_factor = 2.0f}},
        {.lr = 0.1f, .schedule = {.warmup_steps = -1}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(mup_optim_opts_check(&bad[i]), MUP_ERR_INVALID, "case %zu", i);
        cr_assert(strstr(mup_error_message(), "optimizer") || strstr(mup_error_message(), "schedule"));
    }
}

Test(optim, before_base_shapes_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("the model has no base shapes (first parameter \"fc1.weight\")");
    mup_model *M = mup_model_new();
    test_build_mlp(M, 16);
    mup_adam_new(M, (mup_optim_opts){MUP_ADAM_DEFAULTS, .lr = 0.01f});
}

Test(optim, invalid_options_abort, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("independent_wd applies to AdamW only");
    mup_model *M = test_mlp_model(16, 0, 1);
    mup_sgd_new(M, (mup_optim_opts){.lr = 0.01f, .independent_wd = true});
}

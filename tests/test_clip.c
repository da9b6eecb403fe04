/* The global gradient norm and clipping: values against a double sum, the same bits at any thread
 * count, and the optimizer's step clipping before it updates. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

static double plain_norm(mup_model *M) {
    double s = 0.0;
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        for (long k = 0; k < p->t.size; k++)
            s += (double)p->t.grad[k] * p->t.grad[k];
    }
    return sqrt(s);
}

Test(clip, norm_matches_double_sum) {
    mup_model *M = test_mlp_model(37, 8, 1);
    test_set_grads(M, 2);
    double want = plain_norm(M);
    cr_assert_gt(want, 1.0);
    cr_assert_float_eq(mup_grad_norm(M), want, 1e-12 * want);
    mup_model_free(M);
}

Test(clip, same_bits_with_one_and_two_threads) {
    mup_model *M = test_mlp_model(1003, 8, 1); /* over a million floats: the parallel path */
    test_set_grads(M, 3);
    mup_set_num_threads(1);
    double one = mup_grad_norm(M);
    mup_set_num_threads(2);
    double two = mup_grad_norm(M);
    mup_set_num_threads(1);
    cr_assert_eq(memcmp(&one, &two, sizeof one), 0, "%.17g vs %.17g", one, two);
    cr_assert_float_eq(one, plain_norm(M), 1e-10 * one);
    mup_model_free(M);
}

Test(clip, scales_to_exactly_max_norm) {
    mup_model *M = test_mlp_model(37, 8, 1);
    test_set_grads(M, 4);
    long n = mup_model_num_floats(M);
    float *before = test_copy(mup_model_grads(M), n);
    double norm = plain_norm(M);
    cr_assert_float_eq(mup_clip_grad_norm(M, 0.5 * norm), norm, 1e-12 * norm);
    cr_assert_float_eq(plain_norm(M), 0.5 * norm, 1e-6 * norm);
    const float *g = mup_model_grads(M);
    for (long j = 0; j < n; j++) /* a uniform scale: directions kept */
        cr_assert_float_eq(g[j], 0.5 * before[j], 1e-6 * fabs(before[j]) + 1e-30);
    free(before);
    mup_model_free(M);
}

Test(clip, below_max_leaves_grads_alone) {
    mup_model *M = test_mlp_model(37, 8, 1);
    test_set_grads(M, 5);
    long n = mup_model_num_floats(M);
    float *before = test_copy(mup_model_grads(M), n);
    double norm = mup_clip_grad_norm(M, 2.0 * plain_norm(M));
    cr_assert_float_eq(norm, plain_norm(M), 1e-12 * norm);
    cr_assert_eq(memcmp(before, mup_model_grads(M), (size_t)n * sizeof(float)), 0);
    free(before);
    mup_model_free(M);
}

Test(clip, optimizer_step_clips_first_and_records_norm) {
    mup_model *M = test_mlp_model(37, 8, 6);
    test_set_grads(M, 6);
    double norm = plain_norm(M), max = 0.25 * norm;
    long n = mup_model_num_floats(M);
    float *p0 = test_copy(mup_model_values(M), n), *g0 = test_copy(mup_model_grads(M), n);
    mup_optim *o = mup_sgd_new(M, (mup_optim_opts){.lr = 0.1f, .clip_norm = (float)max});
    mup_optim_step(o);
    cr_assert_float_eq(mup_optim_last_grad_norm(o), norm, 1e-12 * norm);
    double scale = (float)max / norm;
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        for (long k = 0; k < p->t.size; k++) {
            long j = p->offset + k;
            double want = p0[j] - 0.1f * p->sgd_lr_mult * scale * g0[j];
            cr_assert_float_eq(p->t.data[k], want, 1e-6 + 1e-5 * fabs(want), "%s[%ld]", p->name, k);
        }
    }
    free(p0);
    free(g0);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(clip, step_records_norm_without_clipping) {
    mup_model *M = test_mlp_model(37, 8, 7);
    test_set_grads(M, 7);
    mup_optim *o = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 0.01f));
    mup_optim_step(o);
    cr_assert_float_eq(mup_optim_last_grad_norm(o), plain_norm(M), 1e-12 * plain_norm(M));
    mup_optim_free(o);
    mup_model_free(M);
}

Test(clip, nonpositive_max_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("max_norm 0 must be positive");
    mup_model *M = test_mlp_model(8, 0, 1);
    mup_clip_grad_norm(M, 0.0);
}

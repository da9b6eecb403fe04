/* layernorm: gradient checks, normalised rows, known values, thread-count determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_layernorm(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_layernorm(g, in[0], in[1], in[2], 1e-5f);
}

Test(layernorm, gradcheck_2d) {
    gc_input in[3] = {{.ndim = 2, .shape = {5, 7}}, {.ndim = 1, .shape = {7}}, {.ndim = 1, .shape = {7}}};
    GC_EXPECT(gradcheck(f_layernorm, NULL, 3, in, 21));
}

Test(layernorm, gradcheck_3d) {
    gc_input in[3] = {{.ndim = 3, .shape = {2, 3, 6}, .scale = 2.5f},
                      {.ndim = 1, .shape = {6}},
                      {.ndim = 1, .shape = {6}}};
    GC_EXPECT(gradcheck(f_layernorm, NULL, 3, in, 22));
}

Test(layernorm, rows_have_zero_mean_unit_variance) {
    int N = 6, C = 33;
    mup_tensor *x = test_leaf(2, (int[]){N, C}, 3, true);
    for (long i = 0; i < x->size; i++)
        x->data[i] = 4.0f * x->data[i] + 7.0f;
    float one[33], zero[33] = {0};
    for (int c = 0; c < C; c++)
        one[c] = 1.0f;
    mup_graph *g = mup_graph_new();
    mup_tensor *w = mup_graph_wrap(g, one, 1, (int[]){C}), *b = mup_graph_wrap(g, zero, 1, (int[]){C});
    mup_tensor *y = mup_layernorm(g, x, w, b, 1e-5f);
    cr_assert_eq(y->ndim, 2);
    for (int r = 0; r < N; r++) {
        double m = 0, v = 0;
        for (int c = 0; c < C; c++)
            m += y->data[r * C + c];
        m /= C;
        for (int c = 0; c < C; c++)
            v += (y->data[r * C + c] - m) * (y->data[r * C + c] - m);
        v /= C;
        cr_assert(fabs(m) < 1e-5, "row %d mean %g", r, m);
        cr_assert(fabs(v - 1.0) < 1e-4, "row %d variance %g", r, v);
    }
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(layernorm, known_values) {
    /* x = 1..4: mean 2.5, biased variance 1.25 */
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 2, -1, 0.5f}, b[4] = {0, 1, 2, 3};
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_layernorm(g, mup_graph_wrap(g, x, 2, (int[]){1, 4}), mup_graph_wrap(g, w, 1, (int[]){4}),
                                  mup_graph_wrap(g, b, 1, (int[]){4}), 0.01f);
    double s = 1.0 / sqrt(1.25 + 0.01);
    for (int c = 0; c < 4; c++)
        cr_assert_float_eq(y->data[c], (x[c] - 2.5) * s * w[c] + b[c], 1e-6);
    mup_graph_free(g);
}

/* forward and backward of (N, C) layernorm with n_threads; the three gradients into out (3 buffers) */
static void grads_with_threads(int n_threads, int N, int C, float *dx, float *dw, float *db) {
    mup_set_num_threads(n_threads);
    mup_tensor *x = test_leaf(2, (int[]){N, C}, 5, false), *w = test_leaf(1, (int[]){C}, 6, false),
               *b = test_leaf(1, (int[]){C}, 7, false);
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_layernorm(g, x, w, b, 1e-5f);
    float *R = malloc((size_t)y->size * sizeof *R);
    mup_rng r = mup_rng_new(8);
    mup_rng_fill_normal(&r, R, y->size, 0.0f, 1.0f);
    mup_backward_seed(g, y, R);
    memcpy(dx, x->grad, (size_t)N * C * sizeof *dx);
    memcpy(dw, w->grad, (size_t)C * sizeof *dw);
    memcpy(db, b->grad, (size_t)C * sizeof *db);
    free(R);
    mup_graph_free(g);
    test_leaf_free(x);
    test_leaf_free(w);
    test_leaf_free(b);
    mup_set_num_threads(1);
}

Test(layernorm, one_and_two_threads_give_identical_grads) {
    int N = 301, C = 130; /* N*C above the parallel threshold */
    float *g1 = malloc(3 * sizeof(float) * (size_t)N * C), *g2 = malloc(3 * sizeof(float) * (size_t)N * C);
    long nc = (long)N * C;
    grads_with_threads(1, N, C, g1, g1 + nc, g1 + nc + C);
    grads_with_threads(2, N, C, g2, g2 + nc, g2 + nc + C);
    cr_assert(memcmp(g1 + nc, g2 + nc, (size_t)C * sizeof(float)) == 0, "weight grads differ");
    cr_assert(memcmp(g1 + nc + C, g2 + nc + C, (size_t)C * sizeof(float)) == 0, "bias grads differ");
    cr_assert(memcmp(g1, g2, (size_t)nc * sizeof(float)) == 0, "input grads differ");
    free(g1);
    free(g2);
}

Test(layernorm, weight_size_mismatch_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("must have 5 elements to normalise x (3, 5)");
    mup_graph *g = mup_graph_new();
    mup_tensor *x = mup_graph_zeros(g, 2, (int[]){3, 5});
    mup_tensor *w = mup_graph_zeros(g, 1, (int[]){4}), *b = mup_graph_zeros(g, 1, (int[]){5});
    mup_layernorm(g, x, w, b, 1e-5f);
}

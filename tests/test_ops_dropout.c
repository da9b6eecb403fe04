/* dropout: drop rate, scaling, reproducibility, eval pass-through, gradient through the mask. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "testing.h"

#define N 20001

static mup_tensor *nonzero_leaf(uint64_t seed) {
    mup_tensor *x = test_leaf(2, (int[]){3, N / 3}, seed, false);
    for (long i = 0; i < x->size; i++)
        if (x->data[i] == 0.0f)
            x->data[i] = 1.0f;
    return x;
}

Test(dropout, drop_rate_follows_p_survivors_scaled) {
    /* at p = 0.5 survivors are doubled; the dropped fraction's sd is at most 0.0035 here */
    float ps[3] = {0.5f, 0.1f, 0.9f};
    mup_tensor *x = nonzero_leaf(1);
    mup_graph *g = mup_graph_new();
    mup_graph_seed(g, 42);
    for (int k = 0; k < 3; k++) {
        float p = ps[k], scale = 1.0f / (1.0f - p);
        mup_tensor *y = mup_dropout(g, x, p);
        cr_assert_neq(y, x);
        cr_assert_eq(y->size, x->size);
        long zeros = 0;
        for (long i = 0; i < y->size; i++) {
            if (y->data[i] == 0.0f)
                zeros++;
            else
                cr_assert_eq(y->data[i], x->data[i] * scale, "p %g element %ld", p, i);
        }
        double frac = (double)zeros / (double)y->size;
        cr_assert(fabs(frac - p) < 0.015, "p %g: dropped fraction %g", p, frac);
    }
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(dropout, same_seed_same_mask_other_seed_other_mask) {
    mup_tensor *x = nonzero_leaf(3);
    mup_graph *g = mup_graph_new();
    float *y[3];
    uint64_t seeds[3] = {7, 7, 8};
    for (int k = 0; k < 3; k++) {
        mup_graph_seed(g, seeds[k]);
        y[k] = mup_dropout(g, x, 0.3f)->data;
    }
    cr_assert(memcmp(y[0], y[1], (size_t)x->size * sizeof(float)) == 0);
    cr_assert(memcmp(y[0], y[2], (size_t)x->size * sizeof(float)) != 0);
    /* the stream moves on: a second call under one seed draws a new mask */
    mup_graph_seed(g, 7);
    mup_dropout(g, x, 0.3f);
    cr_assert(memcmp(y[0], mup_dropout(g, x, 0.3f)->data, (size_t)x->size * sizeof(float)) != 0);
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(dropout, same_mask_at_one_and_two_threads) {
    mup_tensor *x = test_leaf(1, (int[]){1 << 18}, 4, true);
    float *y[2];
    mup_graph *g[2];
    for (int k = 0; k < 2; k++) {
        mup_set_num_threads(k + 1);
        g[k] = mup_graph_new();
        mup_graph_seed(g[k], 99);
        y[k] = mup_dropout(g[k], x, 0.25f)->data;
    }
    mup_set_num_threads(1);
    cr_assert(memcmp(y[0], y[1], (size_t)x->size * sizeof(float)) == 0);
    mup_graph_free(g[0]);
    mup_graph_free(g[1]);
    test_leaf_free(x);
}

Test(dropout, identity_in_evaluation_and_at_p_zero) {
    mup_tensor *x = nonzero_leaf(5);
    mup_graph *g = mup_graph_new();
    cr_assert_eq(mup_dropout(g, x, 0.0f), x);
    mup_graph_set_training(g, false);
    cr_assert_eq(mup_dropout(g, x, 0.5f), x);
    mup_graph_reset(g, false);
    cr_assert_eq(mup_dropout(g, x, 0.5f), x);
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(dropout, gradient_follows_the_mask) {
    mup_tensor *x = nonzero_leaf(6), *dy = test_leaf(1, (int[]){N}, 7, true);
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_dropout(g, x, 0.5f);
    mup_backward_seed(g, y, dy->data);
    for (long i = 0; i < x->size; i++) {
        float want = y->data[i] == 0.0f ? 0.0f : 2.0f * dy->data[i];
        cr_assert_eq(x->grad[i], want, "element %ld: %g vs %g", i, x->grad[i], want);
    }
    mup_graph_free(g);
    test_leaf_free(x);
    test_leaf_free(dy);
}

Test(dropout, p_one_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("p = 1 on input is outside [0, 1)");
    mup_graph *g = mup_graph_new();
    mup_dropout(g, mup_graph_zeros(g, 1, (int[]){4}), 1.0f);
}

/* cross entropy and accuracy: gradient checks, known values, eval path, bad targets. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_ce(mup_graph *g, mup_tensor **in, void *ctx) {
    return mup_cross_entropy(g, in[0], ctx);
}

Test(cross_entropy, gradcheck) {
    int32_t t3[3] = {6, 0, 3}, t6[6] = {4, 0, 2, 2, 1, 3};
    gc_input a[1] = {{.ndim = 2, .shape = {3, 7}, .scale = 2.0f}}, b[1] = {{.ndim = 3, .shape = {2, 3, 5}}};
    GC_EXPECT(gradcheck(f_ce, t3, 1, a, 1));
    GC_EXPECT(gradcheck(f_ce, t6, 1, b, 2));
}

Test(cross_entropy, uniform_logits_give_log_c_and_known_gradient) {
    int N = 4, C = 10;
    int32_t t[4] = {0, 9, 3, 3};
    mup_tensor *x = test_leaf(2, (int[]){N, C}, 1, false);
    for (long i = 0; i < x->size; i++)
        x->data[i] = 0.75f;
    mup_graph *g = mup_graph_new();
    mup_tensor *loss = mup_cross_entropy(g, x, t);
    cr_assert_eq(loss->size, 1);
    cr_assert_eq(loss->data[0], (float)log(10.0), "loss %.9g, ln 10 = %.9g", loss->data[0], log(10.0));
    mup_backward(g, loss);
    for (int r = 0; r < N; r++)
        for (int j = 0; j < C; j++)
            cr_assert_float_eq(x->grad[r * C + j], (0.1 - (j == t[r])) / N, 1e-7);
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(cross_entropy, known_value) {
    /* python3: (log(e + e² + e³) - 3 + log(2 + e⁵)) / 2 */
    mup_graph *g = mup_graph_new();
    mup_tensor *x = mup_graph_wrap(g, (float[]){1, 2, 3, 0, 0, 5}, 2, (int[]){2, 3});
    mup_tensor *loss = mup_cross_entropy(g, x, (int32_t[]){2, 0});
    cr_assert_float_eq(loss->data[0], 2.710495933082915, 1e-6, "loss %.9g", loss->data[0]);
    mup_graph_free(g);
}

Test(cross_entropy, evaluation_gives_the_training_value) {
    /* without a tape no probabilities are kept: the loss must not change */
    int32_t t[5] = {1, 2, 3, 4, 0};
    mup_tensor *x = test_leaf(2, (int[]){5, 9}, 2, false);
    mup_graph *g = mup_graph_new();
    float train = mup_cross_entropy(g, x, t)->data[0];
    mup_graph_reset(g, false);
    float eval = mup_cross_entropy(g, x, t)->data[0];
    cr_assert(memcmp(&train, &eval, sizeof train) == 0, "%.9g vs %.9g", train, eval);
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(cross_entropy, same_bits_at_one_and_two_threads) {
    int N = 3001, C = 37;
    mup_tensor *x = test_leaf(2, (int[]){N, C}, 3, false);
    int32_t *t = malloc((size_t)N * sizeof *t);
    for (int r = 0; r < N; r++)
        t[r] = (r * 7) % C;
    float loss[2];
    float *grad[2];
    for (int k = 0; k < 2; k++) {
        mup_set_num_threads(k + 1);
        mup_graph *g = mup_graph_new();
        mup_tensor *l = mup_cross_entropy(g, x, t);
        mup_backward(g, l);
        loss[k] = l->data[0];
        grad[k] = malloc((size_t)x->size * sizeof(float));
        memcpy(grad[k], x->grad, (size_t)x->size * sizeof(float));
        memset(x->grad, 0, (size_t)x->size * sizeof(float));
        mup_graph_free(g);
    }
    mup_set_num_threads(1);
    cr_assert(memcmp(&loss[0], &loss[1], sizeof loss[0]) == 0);
    cr_assert(memcmp(grad[0], grad[1], (size_t)x->size * sizeof(float)) == 0);
    free(grad[0]);
    free(grad[1]);
    free(t);
    test_leaf_free(x);
}

Test(cross_entropy, target_out_of_range_aborts_naming_row_and_value, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("target 5 of row 2 is outside [0, 5)");
    mup_graph *g = mup_graph_new();
    mup_tensor *x = mup_graph_zeros(g, 2, (int[]){3, 5});
    mup_cross_entropy(g, x, (int32_t[]){0, 4, 5});
}

Test(cross_entropy, negative_target_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("target -1 of row 0 is outside [0, 5)");
    mup_graph *g = mup_graph_new();
    mup_cross_entropy(g, mup_graph_zeros(g, 2, (int[]){2, 5}), (int32_t[]){-1, 0});
}

Test(accuracy, counts_argmax_hits_first_of_ties) {
    float x[12] = {
        0, 5, 1,   /* argmax 1 */
        2, 2, 1,   /* tie: the first, 0 */
        -1, -3, -2, /* argmax 0 */
        0, 1, 9,   /* argmax 2 */
    };
    mup_graph *g = mup_graph_new();
    mup_tensor *t = mup_graph_wrap(g, x, 2, (int[]){4, 3});
    cr_assert_float_eq(mup_accuracy(t, (int32_t[]){1, 0, 0, 2}), 1.0f, 0.0f);
    cr_assert_float_eq(mup_accuracy(t, (int32_t[]){1, 1, 0, 0}), 0.5f, 0.0f);
    cr_assert_float_eq(mup_accuracy(t, (int32_t[]){0, 1, 1, 1}), 0.0f, 0.0f);
    mup_graph_free(g);
}

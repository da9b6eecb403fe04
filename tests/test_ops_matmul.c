/* matmul and affine: gradient checks on odd shapes, known values. */
#include <criterion/criterion.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_matmul(mup_graph *g, mup_tensor **in, void *ctx) {
    const bool *t = ctx;
    return mup_matmul(g, in[0], in[1], t[0], t[1]);
}

Test(matmul, gradcheck_all_transposes) {
    int M = 5, K = 7, N = 3;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            bool t[2] = {ta, tb};
            gc_input in[2] = {
                {.ndim = 2, .shape = {ta ? K : M, ta ? M : K}},
                {.ndim = 2, .shape = {tb ? N : K, tb ? K : N}},
            };
            GC_EXPECT(gradcheck(f_matmul, t, 2, in, 11 + 2 * ta + tb));
        }
}

static mup_tensor *f_affine(mup_graph *g, mup_tensor **in, void *ctx) {
    float alpha = *(float *)ctx;
    return mup_affine(g, in[0], in[1], in[2], alpha);
}

static mup_tensor *f_affine_nobias(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_affine(g, in[0], in[1], NULL, 1.0f);
}

Test(affine, gradcheck_3d_input_with_alpha) {
    float alpha = 0.37f;
    gc_input in[3] = {
        {.ndim = 3, .shape = {2, 3, 9}},
        {.ndim = 2, .shape = {5, 9}},
        {.ndim = 1, .shape = {5}},
    };
    GC_EXPECT(gradcheck(f_affine, &alpha, 3, in, 5));
}

Test(affine, gradcheck_without_bias) {
    gc_input in[2] = {{.ndim = 2, .shape = {13, 17}}, {.ndim = 2, .shape = {1, 17}}};
    GC_EXPECT(gradcheck(f_affine_nobias, NULL, 2, in, 6));
}

Test(affine, known_values) {
    mup_graph *g = mup_graph_new();
    float x[4] = {1, 2, 3, 4}, w[6] = {1, 0, 0, 1, 1, 1}, b[3] = {0.5f, -1, 2};
    mup_tensor *tx = mup_graph_wrap(g, x, 2, (int[]){2, 2});
    mup_tensor *tw = mup_graph_wrap(g, w, 2, (int[]){3, 2});
    mup_tensor *tb = mup_graph_wrap(g, b, 1, (int[]){3});
    mup_tensor *y = mup_affine(g, tx, tw, tb, 2.0f);
    float want[6] = {2.5f, 3, 8, 6.5f, 7, 16};
    cr_assert_eq(y->shape[0], 2);
    cr_assert_eq(y->shape[1], 3);
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(y->data[i], want[i], 1e-6);
    mup_graph_free(g);
}

Test(affine, large_shapes_split_across_threads_agree) {
    /* the row-block split must give the same numbers as one sgemm */
    int N = 96, I = 300, O = 260;
    mup_tensor *x = test_leaf(2, (int[]){N, I}, 1, true), *w = test_leaf(2, (int[]){O, I}, 2, true);
    mup_graph *g = mup_graph_new();
    mup_set_num_threads(1);
    mup_tensor *y1 = mup_affine(g, x, w, NULL, 1.0f);
    mup_set_num_threads(2);
    mup_tensor *y2 = mup_affine(g, x, w, NULL, 1.0f);
    mup_set_num_threads(1);
    cr_assert_lt(test_max_abs_diff(y1->data, y2->data, y1->size), 1e-4);
    mup_graph_free(g);
    test_leaf_free(x);
    test_leaf_free(w);
}

Test(matmul, shape_mismatch_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("matmul: inner dimensions differ (3 vs 4)");
    mup_graph *g = mup_graph_new();
    mup_tensor *a = mup_graph_zeros(g, 2, (int[]){2, 3}), *b = mup_graph_zeros(g, 2, (int[]){4, 2});
    mup_matmul(g, a, b, false, false);
}

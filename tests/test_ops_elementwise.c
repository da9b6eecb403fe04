/* add (same shape and broadcast), mul, scale: gradient checks, known values, determinism. */
#include <criterion/criterion.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_add(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_add(g, in[0], in[1]);
}

static mup_tensor *f_add_scaled(mup_graph *g, mup_tensor **in, void *ctx) {
    return mup_add_scaled(g, in[0], in[1], *(float *)ctx);
}

static mup_tensor *f_mul(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_mul(g, in[0], in[1]);
}

static mup_tensor *f_scale(mup_graph *g, mup_tensor **in, void *ctx) {
    return mup_scale(g, in[0], *(float *)ctx);
}

Test(add, gradcheck_same_shape) {
    gc_input in[2] = {{.ndim = 2, .shape = {3, 7}}, {.ndim = 2, .shape = {3, 7}}};
    GC_EXPECT(gradcheck(f_add, NULL, 2, in, 1));
}

Test(add_scaled, gradcheck) {
    float s = 0.35f;
    gc_input in[2] = {{.ndim = 3, .shape = {2, 3, 5}}, {.ndim = 3, .shape = {2, 3, 5}}};
    GC_EXPECT(gradcheck(f_add_scaled, &s, 2, in, 11));
}

Test(add_scaled, gradcheck_branch_only) {
    float s = -1.5f;
    gc_input in[2] = {{.ndim = 2, .shape = {4, 6}, .no_grad = true}, {.ndim = 2, .shape = {4, 6}}};
    GC_EXPECT(gradcheck(f_add_scaled, &s, 2, in, 12));
}

Test(add_scaled, known_values_and_one_is_add) {
    mup_graph *g = mup_graph_new();
    float a[3] = {1.0f, -2.0f, 0.5f}, b[3] = {4.0f, 8.0f, -2.0f};
    mup_tensor *x = mup_graph_wrap(g, a, 1, (int[]){3}), *y = mup_graph_wrap(g, b, 1, (int[]){3});
    mup_tensor *o = mup_add_scaled(g, x, y, 0.25f), *one = mup_add_scaled(g, x, y, 1.0f), *sum = mup_add(g, x, y);
    const float want[3] = {2.0f, 0.0f, 0.0f};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(o->data[i], want[i], "[%d] %g, want %g", i, o->data[i], want[i]);
        cr_assert_eq(one->data[i], sum->data[i], "s = 1 must give add's bits");
    }
    mup_graph_free(g);
}

Test(add, gradcheck_broadcast_last_dim) {
    gc_input in[2] = {{.ndim = 3, .shape = {2, 3, 5}}, {.ndim = 1, .shape = {5}}};
    GC_EXPECT(gradcheck(f_add, NULL, 2, in, 2));
}

Test(add, gradcheck_broadcast_two_trailing_dims) {
    gc_input in[2] = {{.ndim = 3, .shape = {2, 3, 5}}, {.ndim = 2, .shape = {3, 5}}};
    GC_EXPECT(gradcheck(f_add, NULL, 2, in, 3));
}

Test(add, gradcheck_only_b_requires_grad) {
    gc_input in[2] = {{.ndim = 2, .shape = {3, 7}, .no_grad = true}, {.ndim = 1, .shape = {7}}};
    GC_EXPECT(gradcheck(f_add, NULL, 2, in, 4));
}

Test(add, broadcast_known_values_and_column_sums) {
    mup_graph *g = mup_graph_new();
    mup_tensor *a = test_leaf(2, (int[]){2, 3}, 1, false), *b = test_leaf(1, (int[]){3}, 2, false);
    memcpy(a->data, (float[]){1, 2, 3, 4, 5, 6}, sizeof(float) * 6);
    memcpy(b->data, (float[]){10, 20, 30}, sizeof(float) * 3);
    mup_tensor *y = mup_add(g, a, b);
    float want[6] = {11, 22, 33, 14, 25, 36};
    cr_assert_eq(y->ndim, 2);
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(y->data[i], want[i], 0.0f);
    mup_backward_seed(g, y, (float[]){1, 2, 3, 4, 5, 6});
    float db[3] = {5, 7, 9};
    for (int i = 0; i < 3; i++)
        cr_assert_float_eq(b->grad[i], db[i], 0.0f, "db[%d] = %g", i, b->grad[i]);
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(a->grad[i], (float)(i + 1), 0.0f);
    mup_graph_free(g);
    test_leaf_free(a);
    test_leaf_free(b);
}

Test(add, broadcast_backward_same_bits_at_one_and_two_threads) {
    /* many row blocks and two column blocks: both phases of the column sum run in parallel */
    int R = 1001, C = 300;
    mup_tensor *a = test_leaf(2, (int[]){R, C}, 5, true), *dy = test_leaf(2, (int[]){R, C}, 6, true);
    float db[2][300];
    for (int t = 0; t < 2; t++) {
        mup_set_num_threads(t + 1);
        mup_tensor *b = test_leaf(1, (int[]){C}, 7, false);
        mup_graph *g = mup_graph_new();
        mup_backward_seed(g, mup_add(g, a, b), dy->data);
        memcpy(db[t], b->grad, sizeof db[t]);
        mup_graph_free(g);
        test_leaf_free(b);
    }
    mup_set_num_threads(1);
    cr_assert(memcmp(db[0], db[1], sizeof db[0]) == 0, "the column sums differ between 1 and 2 threads");
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int r = 0; r < R; r++)
            s += dy->data[(long)r * C + c];
        cr_assert_float_eq(db[0][c], s, 1e-3, "column %d: %g vs %g", c, db[0][c], s);
    }
    test_leaf_free(a);
    test_leaf_free(dy);
}

Test(add, mismatched_shape_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("add: b (2) cannot be added to a (2, 3)");
    mup_graph *g = mup_graph_new();
    mup_add(g, mup_graph_zeros(g, 2, (int[]){2, 3}), mup_graph_zeros(g, 1, (int[]){2}));
}

Test(mul, gradcheck) {
    gc_input in[2] = {{.ndim = 3, .shape = {2, 3, 5}}, {.ndim = 3, .shape = {2, 3, 5}}};
    GC_EXPECT(gradcheck(f_mul, NULL, 2, in, 8));
    gc_input in2[2] = {{.ndim = 2, .shape = {3, 7}}, {.ndim = 2, .shape = {3, 7}, .no_grad = true}};
    GC_EXPECT(gradcheck(f_mul, NULL, 2, in2, 9));
}

Test(mul, square_of_itself_has_gradient_2x) {
    mup_graph *g = mup_graph_new();
    mup_tensor *x = test_leaf(2, (int[]){3, 7}, 10, false);
    mup_tensor *y = mup_mul(g, x, x);
    mup_backward(g, mup_sum(g, y));
    for (long i = 0; i < x->size; i++) {
        cr_assert_float_eq(y->data[i], x->data[i] * x->data[i], 0.0f);
        cr_assert_float_eq(x->grad[i], 2.0f * x->data[i], 1e-6);
    }
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(mul, mismatched_shape_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("mul: a (2, 3) and b (3) differ in shape");
    mup_graph *g = mup_graph_new();
    mup_mul(g, mup_graph_zeros(g, 2, (int[]){2, 3}), mup_graph_zeros(g, 1, (int[]){3}));
}

Test(scale, gradcheck_and_values) {
    float s = -1.7f;
    gc_input in[1] = {{.ndim = 3, .shape = {2, 3, 5}}};
    GC_EXPECT(gradcheck(f_scale, &s, 1, in, 11));
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_scale(g, mup_graph_wrap(g, (float[]){1, -2, 0.5f}, 1, (int[]){3}), s);
    cr_assert_float_eq(y->data[0], -1.7f, 0.0f);
    cr_assert_float_eq(y->data[1], 3.4f, 0.0f);
    cr_assert_float_eq(y->data[2], -0.85f, 0.0f);
    cr_assert(!y->requires_grad);
    mup_graph_free(g);
}

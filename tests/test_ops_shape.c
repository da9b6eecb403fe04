/* reshape (a view), transpose and slice: gradient checks, known values, bad arguments. */
#include <criterion/criterion.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_reshape(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_reshape(g, in[0], 2, (int[]){6, 5});
}

Test(reshape, gradcheck) {
    gc_input in[1] = {{.ndim = 3, .shape = {2, 3, 5}}};
    GC_EXPECT(gradcheck(f_reshape, NULL, 1, in, 41));
}

Test(reshape, shares_data_and_accumulates_grad) {
    mup_tensor *a = test_leaf(3, (int[]){2, 3, 5}, 1, false);
    for (long i = 0; i < a->size; i++)
        a->grad[i] = 1.0f;
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_reshape(g, a, 2, (int[]){5, 6});
    cr_assert_eq(y->data, a->data);
    cr_assert(y->ndim == 2 && y->shape[0] == 5 && y->shape[1] == 6 && y->size == 30);
    float dy[30];
    for (int i = 0; i < 30; i++)
        dy[i] = (float)i;
    mup_backward_seed(g, y, dy);
    for (int i = 0; i < 30; i++)
        cr_assert_eq(a->grad[i], 1.0f + (float)i);
    mup_graph_free(g);
    test_leaf_free(a);
}

Test(reshape, size_mismatch_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("reshape: (3, 4) has 12 elements, the new shape (5, 2) has 10");
    mup_graph *g = mup_graph_new();
    mup_reshape(g, mup_graph_zeros(g, 2, (int[]){3, 4}), 2, (int[]){5, 2});
}

typedef struct {
    int d0, d1;
} tr_ctx;

static mup_tensor *f_transpose(mup_graph *g, mup_tensor **in, void *ctx) {
    const tr_ctx *t = ctx;
    return mup_transpose(g, in[0], t->d0, t->d1);
}

Test(transpose, gradcheck_ranks_2_to_4) {
    tr_ctx c2 = {0, 1}, c3 = {0, 2}, c4 = {1, 3};
    gc_input in2[1] = {{.ndim = 2, .shape = {3, 5}}};
    gc_input in3[1] = {{.ndim = 3, .shape = {2, 3, 5}}};
    gc_input in4[1] = {{.ndim = 4, .shape = {2, 3, 4, 5}}};
    GC_EXPECT(gradcheck(f_transpose, &c2, 1, in2, 42));
    GC_EXPECT(gradcheck(f_transpose, &c3, 1, in3, 43));
    GC_EXPECT(gradcheck(f_transpose, &c4, 1, in4, 44));
}

Test(transpose, known_values_rank_3) {
    int A = 2, Bd = 3, C = 4;
    mup_tensor *a = test_leaf(3, (int[]){A, Bd, C}, 2, true);
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_transpose(g, a, 1, 2);
    cr_assert(y->ndim == 3 && y->shape[0] == A && y->shape[1] == C && y->shape[2] == Bd);
    for (int i = 0; i < A; i++)
        for (int j = 0; j < Bd; j++)
            for (int k = 0; k < C; k++)
                cr_assert_eq(y->data[(i * C + k) * Bd + j], a->data[(i * Bd + j) * C + k]);
    mup_graph_free(g);
    test_leaf_free(a);
}

Test(transpose, twice_is_identity) {
    int shapes[4][4] = {{7}, {3, 5}, {2, 3, 5}, {2, 3, 4, 5}};
    int pairs[4][2] = {{0, 0}, {1, 0}, {2, 0}, {3, 1}};
    mup_graph *g = mup_graph_new();
    for (int r = 0; r < 4; r++) {
        mup_tensor *a = test_leaf(r + 1, shapes[r], 10 + (uint64_t)r, true);
        mup_tensor *y = mup_transpose(g, a, pairs[r][0], pairs[r][1]);
        mup_tensor *z = mup_transpose(g, y, pairs[r][0], pairs[r][1]);
        cr_assert(mup_tensor_same_shape(a, z), "rank %d", r + 1);
        cr_assert(memcmp(a->data, z->data, (size_t)a->size * sizeof(float)) == 0, "rank %d", r + 1);
        if (r > 0)
            cr_assert(memcmp(a->data, y->data, (size_t)a->size * sizeof(float)) != 0, "rank %d", r + 1);
        test_leaf_free(a);
    }
    mup_graph_free(g);
}

Test(transpose, bad_dimension_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("transpose: dimensions 0 and 2 are not both dimensions of (3, 4)");
    mup_graph *g = mup_graph_new();
    mup_transpose(g, mup_graph_zeros(g, 2, (int[]){3, 4}), 0, 2);
}

typedef struct {
    int start, len;
} sl_ctx;

static mup_tensor *f_slice(mup_graph *g, mup_tensor **in, void *ctx) {
    const sl_ctx *s = ctx;
    return mup_slice(g, in[0], s->start, s->len);
}

Test(slice, gradcheck) {
    sl_ctx s = {2, 3};
    gc_input in[1] = {{.ndim = 3, .shape = {3, 2, 7}}};
    GC_EXPECT(gradcheck(f_slice, &s, 1, in, 45));
}

Test(slice, known_values) {
    float a[8] = {0, 1, 2, 3, 10, 11, 12, 13};
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_slice(g, mup_graph_wrap(g, a, 2, (int[]){2, 4}), 1, 2);
    float want[4] = {1, 2, 11, 12};
    cr_assert(y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 2);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(y->data[i], want[i]);
    mup_graph_free(g);
}

Test(slice, past_the_end_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("slice: columns [2, 5) are not inside the last dimension of (3, 4)");
    mup_graph *g = mup_graph_new();
    mup_slice(g, mup_graph_zeros(g, 2, (int[]){3, 4}), 2, 3);
}

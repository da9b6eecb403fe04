/* embedding: exact row copies, gradient check with repeated ids, range check, determinism. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

typedef struct {
    const int32_t *ids;
    int B, T;
} emb_ctx;

static mup_tensor *f_embedding(mup_graph *g, mup_tensor **in, void *ctx) {
    const emb_ctx *e = ctx;
    return mup_embedding(g, in[0], e->ids, e->B, e->T);
}

Test(embedding, gradcheck_with_repeated_ids) {
    int32_t ids[6] = {3, 0, 3, 4, 3, 0}; /* row 1 and 2 unused, row 3 three times */
    emb_ctx e = {ids, 2, 3};
    gc_input in[1] = {{.ndim = 2, .shape = {5, 7}}};
    GC_EXPECT(gradcheck(f_embedding, &e, 1, in, 31));
}

Test(embedding, rows_copied_exactly) {
    int V = 9, C = 11, B = 2, T = 4;
    int32_t ids[8] = {8, 0, 5, 5, 1, 8, 2, 7};
    mup_tensor *table = test_leaf(2, (int[]){V, C}, 2, false);
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_embedding(g, table, ids, B, T);
    cr_assert(y->ndim == 3 && y->shape[0] == B && y->shape[1] == T && y->shape[2] == C);
    for (int p = 0; p < B * T; p++)
        cr_assert(memcmp(y->data + p * C, table->data + ids[p] * C, (size_t)C * sizeof(float)) == 0,
                  "position %d", p);
    mup_graph_free(g);
    test_leaf_free(table);
}

Test(embedding, backward_uses_the_ids_of_the_forward) {
    /* the caller may refill its id buffer before backward */
    int32_t ids[3] = {1, 1, 2};
    mup_tensor *table = test_leaf(2, (int[]){4, 2}, 3, false);
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_embedding(g, table, ids, 1, 3);
    ids[0] = ids[1] = ids[2] = 0;
    float dy[6] = {1, 2, 10, 20, 100, 200};
    mup_backward_seed(g, y, dy);
    float want[8] = {0, 0, 11, 22, 100, 200, 0, 0};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(table->grad[i], want[i], "element %d: %g", i, table->grad[i]);
    mup_graph_free(g);
    test_leaf_free(table);
}

static void table_grad_with_threads(int n_threads, const int32_t *ids, int BT, int V, int C, float *out) {
    mup_set_num_threads(n_threads);
    mup_tensor *table = test_leaf(2, (int[]){V, C}, 4, false);
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_embedding(g, table, ids, 1, BT);
    float *R = malloc((size_t)y->size * sizeof *R);
    mup_rng r = mup_rng_new(5);
    mup_rng_fill_normal(&r, R, y->size, 0.0f, 1.0f);
    mup_backward_seed(g, y, R);
    memcpy(out, table->grad, (size_t)V * C * sizeof *out);
    free(R);
    mup_graph_free(g);
    test_leaf_free(table);
    mup_set_num_threads(1);
}

Test(embedding, one_and_two_threads_give_identical_grads) {
    int V = 7, C = 150, BT = 400; /* BT*C above the parallel threshold, every row hit many times */
    int32_t ids[400];
    for (int p = 0; p < BT; p++)
        ids[p] = (p * 5 + p / 3) % V;
    float *a = malloc((size_t)V * C * sizeof *a), *b = malloc((size_t)V * C * sizeof *b);
    table_grad_with_threads(1, ids, BT, V, C, a);
    table_grad_with_threads(2, ids, BT, V, C, b);
    cr_assert(memcmp(a, b, (size_t)V * C * sizeof *a) == 0);
    free(a);
    free(b);
}

Test(embedding, id_past_the_vocabulary_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("id 5 at position 2 (b 1, t 0) is outside [0, 5)");
    int32_t ids[4] = {0, 1, 5, 2};
    mup_graph *g = mup_graph_new();
    mup_embedding(g, mup_graph_zeros(g, 2, (int[]){5, 3}), ids, 2, 2);
}

Test(embedding, negative_id_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("id -1 at position 0 (b 0, t 0) is outside [0, 5)");
    int32_t ids[2] = {-1, 0};
    mup_graph *g = mup_graph_new();
    mup_embedding(g, mup_graph_zeros(g, 2, (int[]){5, 3}), ids, 1, 2);
}

/* sum and mean: gradient checks, known values, double accumulation, thread-count determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_sum(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_sum(g, in[0]);
}

static mup_tensor *f_mean(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_mean(g, in[0]);
}

Test(reduce, gradcheck_sum_and_mean) {
    gc_input a[1] = {{.ndim = 2, .shape = {3, 7}}}, b[1] = {{.ndim = 3, .shape = {2, 3, 5}}};
    GC_EXPECT(gradcheck(f_sum, NULL, 1, a, 1));
    GC_EXPECT(gradcheck(f_sum, NULL, 1, b, 2));
    GC_EXPECT(gradcheck(f_mean, NULL, 1, a, 3));
    GC_EXPECT(gradcheck(f_mean, NULL, 1, b, 4));
}

Test(reduce, known_values) {
    float x[100];
    for (int i = 0; i < 100; i++)
        x[i] = (float)(i + 1);
    mup_graph *g = mup_graph_new();
    mup_tensor *t = mup_graph_wrap(g, x, 2, (int[]){10, 10});
    mup_tensor *s = mup_sum(g, t), *m = mup_mean(g, t);
    cr_assert_eq(s->ndim, 1);
    cr_assert_eq(s->shape[0], 1);
    cr_assert_float_eq(s->data[0], 5050.0f, 0.0f);
    cr_assert_float_eq(m->data[0], 50.5f, 0.0f);
    mup_graph_free(g);
}

Test(reduce, accumulates_in_double) {
    /* a float running sum of ones stops at 2²⁴ */
    long n = (1L << 24) + 1001;
    float *x = malloc((size_t)n * sizeof *x);
    for (long i = 0; i < n; i++)
        x[i] = 1.0f;
    mup_graph *g = mup_graph_new();
    mup_tensor *t = mup_graph_wrap(g, x, 1, (int[]){(int)n});
    cr_assert_eq(mup_sum(g, t)->data[0], (float)n);
    cr_assert_eq(mup_mean(g, t)->data[0], 1.0f);
    mup_graph_free(g);
    free(x);
}

Test(reduce, same_bits_at_one_and_two_threads) {
    int n = (1 << 20) + 37;
    mup_tensor *x = test_leaf(1, (int[]){n}, 9, true);
    float s[2], m[2];
    for (int t = 0; t < 2; t++) {
        mup_set_num_threads(t + 1);
        mup_graph *g = mup_graph_new();
        s[t] = mup_sum(g, x)->data[0];
        m[t] = mup_mean(g, x)->data[0];
        mup_graph_free(g);
    }
    mup_set_num_threads(1);
    cr_assert(memcmp(&s[0], &s[1], sizeof s[0]) == 0, "sum: %.9g vs %.9g", s[0], s[1]);
    cr_assert(memcmp(&m[0], &m[1], sizeof m[0]) == 0, "mean: %.9g vs %.9g", m[0], m[1]);
    double ref = 0.0;
    for (int i = 0; i < n; i++)
        ref += x->data[i];
    cr_assert_float_eq(s[0], ref, 1e-3 * (1.0 + fabs(ref)));
    test_leaf_free(x);
}

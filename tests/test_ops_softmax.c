/* softmax over the last dimension: gradient checks, rows summing to 1, stability, known values. */
#include <criterion/criterion.h>
#include <math.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_softmax(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_softmax(g, in[0]);
}

Test(softmax, gradcheck) {
    gc_input a[1] = {{.ndim = 2, .shape = {3, 7}}}, b[1] = {{.ndim = 3, .shape = {2, 3, 5}, .scale = 3.0f}};
    GC_EXPECT(gradcheck(f_softmax, NULL, 1, a, 1));
    GC_EXPECT(gradcheck(f_softmax, NULL, 1, b, 2));
}

Test(softmax, rows_sum_to_one) {
    mup_tensor *x = test_leaf(3, (int[]){2, 3, 11}, 3, true);
    for (long i = 0; i < x->size; i++)
        x->data[i] *= 10.0f;
    mup_graph *g = mup_graph_new();
    mup_tensor *p = mup_softmax(g, x);
    cr_assert_eq(p->ndim, 3);
    for (int r = 0; r < 6; r++) {
        double s = 0.0;
        for (int j = 0; j < 11; j++) {
            float v = p->data[r * 11 + j];
            cr_assert(v >= 0.0f && v <= 1.0f);
            s += v;
        }
        cr_assert_float_eq(s, 1.0, 1e-6, "row %d sums to %.9g", r, s);
    }
    mup_graph_free(g);
    test_leaf_free(x);
}

Test(softmax, large_logits_are_stable) {
    mup_graph *g = mup_graph_new();
    mup_tensor *p = mup_softmax(g, mup_graph_wrap(g, (float[]){1000, 1001, -1000, -1001}, 2, (int[]){2, 2}));
    /* python3: exp(-1) / (1 + exp(-1)) */
    float want[4] = {0.2689414213699951f, 0.7310585786300049f, 0.7310585786300049f, 0.2689414213699951f};
    for (int i = 0; i < 4; i++)
        cr_assert_float_eq(p->data[i], want[i], 1e-7, "p[%d] = %.9g", i, p->data[i]);
    mup_graph_free(g);
}

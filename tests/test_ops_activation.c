/* relu, tanh, gelu: gradient checks, known values, GELU's accuracy. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "gradcheck.h"
#include "testing.h"

static mup_tensor *f_relu(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_relu(g, in[0]);
}

static mup_tensor *f_tanh(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_tanh(g, in[0]);
}

static mup_tensor *f_gelu(mup_graph *g, mup_tensor **in, void *ctx) {
    (void)ctx;
    return mup_gelu(g, in[0]);
}

Test(relu, gradcheck_away_from_the_kink) {
    /* the finite-difference step is 1e-2, so inputs stay further than that from 0 */
    gc_input a[1] = {{.ndim = 2, .shape = {3, 7}, .min_abs = 0.05f}};
    gc_input b[1] = {{.ndim = 3, .shape = {2, 3, 5}, .min_abs = 0.05f}};
    GC_EXPECT(gradcheck(f_relu, NULL, 1, a, 1));
    GC_EXPECT(gradcheck(f_relu, NULL, 1, b, 2));
}

Test(tanh, gradcheck) {
    gc_input a[1] = {{.ndim = 2, .shape = {3, 7}}}, b[1] = {{.ndim = 3, .shape = {2, 3, 5}, .scale = 2.0f}};
    GC_EXPECT(gradcheck(f_tanh, NULL, 1, a, 3));
    GC_EXPECT(gradcheck(f_tanh, NULL, 1, b, 4));
}

Test(gelu, gradcheck) {
    gc_input a[1] = {{.ndim = 2, .shape = {3, 7}}}, b[1] = {{.ndim = 3, .shape = {2, 3, 5}, .scale = 2.0f}};
    GC_EXPECT(gradcheck(f_gelu, NULL, 1, a, 5));
    GC_EXPECT(gradcheck(f_gelu, NULL, 1, b, 6));
}

/* values from python3's math.tanh and math.erf */
Test(activations, known_values) {
    mup_graph *g = mup_graph_new();
    float x[5] = {1.0f, -1.0f, 2.0f, -0.5f, 0.0f};
    mup_tensor *t = mup_graph_wrap(g, x, 1, (int[]){5});
    mup_tensor *r = mup_relu(g, t), *th = mup_tanh(g, t), *ge = mup_gelu(g, t);
    double relu[5] = {1, 0, 2, 0, 0};
    double tanh_[5] = {0.7615941559557649, -0.7615941559557649, 0.9640275800758169, -0.46211715726000974, 0};
    double gelu[5] = {0.8413447460685429, -0.15865525393145707, 1.9544997361036416, -0.15426876936299344, 0};
    for (int i = 0; i < 5; i++) {
        cr_assert_float_eq(r->data[i], relu[i], 0.0, "relu(%g)", x[i]);
        cr_assert_float_eq(th->data[i], tanh_[i], 2e-7, "tanh(%g) = %.9g", x[i], th->data[i]);
        cr_assert_float_eq(ge->data[i], gelu[i], 2e-7, "gelu(%g) = %.9g", x[i], ge->data[i]);
    }
    mup_graph_free(g);
}

Test(activations, known_derivatives) {
    /* relu' = step (0 at 0), tanh' = 1 - tanh², gelu'(x) = Φ(x) + x φ(x) (python3 math.erf, math.exp);
     * 0 and -12 are the edges of gelu's backward, which divides by x and sees erf saturate */
    float v[5] = {1.0f, -1.0f, 2.0f, 0.0f, -12.0f};
    double d_relu[5] = {1, 0, 1, 0, 0};
    double d_tanh[5] = {0.41997434161402614, 0.41997434161402614, 0.07065082485316443, 1, 0};
    double d_gelu[5] = {1.0833154705876864, -0.08331547058768629, 1.085231801078197, 0.5, 0};
    mup_tensor *(*ops[3])(mup_graph *, mup_tensor *) = {mup_relu, mup_tanh, mup_gelu};
    const double *want[3] = {d_relu, d_tanh, d_gelu};
    for (int k = 0; k < 3; k++) {
        mup_graph *g = mup_graph_new();
        mup_tensor *x = test_leaf(1, (int[]){5}, 1, false);
        for (int i = 0; i < 5; i++)
            x->data[i] = v[i];
        mup_backward(g, mup_sum(g, ops[k](g, x)));
        for (int i = 0; i < 5; i++)
            cr_assert_float_eq(x->grad[i], want[k][i], 1e-6, "op %d at %g: %.9g", k, v[i], x->grad[i]);
        mup_graph_free(g);
        test_leaf_free(x);
    }
}

/* GELU computes Φ without libm's erff (ops/activation.c). Against x Φ(x) and Φ(x) + x φ(x) from
 * erfc and exp in double, on a fine grid: relative accuracy holds in the negative tail too (where
 * 1 + erff(x / sqrt 2) in float cancels to nothing: 5% off at x = -5), and absolute errors stay at
 * the level of float rounding. */
Test(gelu, matches_erfc_in_double) {
    int n = 40001;
    float *x = malloc((size_t)n * sizeof *x), *ones = malloc((size_t)n * sizeof *ones);
    float *dx = calloc((size_t)n, sizeof *dx);
    for (int i = 0; i < n; i++) {
        x[i] = -20.0f + 40.0f * (float)i / (float)(n - 1);
        ones[i] = 1.0f;
    }
    mup_graph *g = mup_graph_new();
    mup_tensor t = {.data = x, .grad = dx, .requires_grad = true};
    mup_tensor_set_shape(&t, 1, (int[]){n});
    mup_tensor *y = mup_gelu(g, &t);
    mup_backward_seed(g, y, ones);
    for (int i = 0; i < n; i++) {
        double xi = x[i], cdf = 0.5 * erfc(-xi / sqrt(2.0)), want = xi * cdf;
        double dwant = cdf + xi * exp(-0.5 * xi * xi) / sqrt(2.0 * 3.14159265358979323846);
        double err = fabs(y->data[i] - want), rel = fabs(xi) <= 5.0 ? 3e-6 : fabs(xi) <= 10.0 ? 1.2e-5 : 1.0;
        cr_assert(err <= 5e-7 && err <= rel * fabs(want) + 1e-37, "gelu(%.9g) = %.9g, want %.9g", xi, y->data[i], want);
        cr_assert(fabs(dx[i] - dwant) <= 3e-7, "gelu'(%.9g) = %.9g, want %.9g", xi, dx[i], dwant);
    }
    mup_graph_free(g);
    free(x), free(ones), free(dx);
}

#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

#define GC_H 1e-2
#define GC_ATOL 1e-3
#define GC_RTOL 5e-3
#define GC_MAX_PER_INPUT 300

static double loss_of(mup_graph *g, gc_fn fn, void *ctx, mup_tensor **in, const float *R, long *n_out) {
    mup_graph_reset(g, false);
    mup_tensor *out = fn(g, in, ctx);
    double L = 0.0;
    for (long i = 0; i < out->size; i++)
        L += (double)out->data[i] * R[i];
    *n_out = out->size;
    return L;
}

gc_result gradcheck(gc_fn fn, void *ctx, int n_in, const gc_input *spec, uint64_t seed) {
    gc_result res = {0};
    mup_graph *g = mup_graph_new();
    mup_tensor *in[8];
    for (int k = 0; k < n_in; k++) {
        in[k] = test_leaf(spec[k].ndim, spec[k].shape, seed * 31 + (uint64_t)k, spec[k].no_grad);
        float s = spec[k].scale != 0.0f ? spec[k].scale : 1.0f;
        for (long i = 0; i < in[k]->size; i++) {
            float v = in[k]->data[i] * s;
            if (fabsf(v) < spec[k].min_abs)
                v = v < 0 ? v - spec[k].min_abs : v + spec[k].min_abs;
            in[k]->data[i] = v;
        }
    }
    /* analytic */
    mup_graph_reset(g, true);
    mup_tensor *out = fn(g, in, ctx);
    long n_out = out->size;
    float *R = malloc((size_t)n_out * sizeof *R);
    mup_rng rr = mup_rng_new(seed ^ 0xabcdefULL);
    mup_rng_fill_normal(&rr, R, n_out, 0.0f, 1.0f);
    mup_backward_seed(g, out, R);

    mup_rng pick = mup_rng_new(seed + 7);
    for (int k = 0; k < n_in; k++) {
        if (spec[k].no_grad)
            continue;
        long n = in[k]->size, count = n <= GC_MAX_PER_INPUT ? n : GC_MAX_PER_INPUT;
        float *analytic = malloc((size_t)n * sizeof *analytic);
        memcpy(analytic, in[k]->grad, (size_t)n * sizeof *analytic);
        for (long c = 0; c < count; c++) {
            long i = n <= GC_MAX_PER_INPUT ? c : (long)mup_rng_below(&pick, (uint32_t)n);
            float x0 = in[k]->data[i];
            long no;
            in[k]->data[i] = (float)(x0 + GC_H);
            double lp = loss_of(g, fn, ctx, in, R, &no);
            in[k]->data[i] = (float)(x0 - GC_H);
            double lm = loss_of(g, fn, ctx, in, R, &no);
            in[k]->data[i] = x0;
            double numeric = (lp - lm) / (2.0 * GC_H);
            double err = fabs(analytic[i] - numeric) / (GC_ATOL + GC_RTOL * fabs(numeric));
            res.checked++;
            if (err > res.max_err) {
                res.max_err = err;
                snprintf(res.worst, sizeof res.worst, "input %d element %ld: analytic %.6g, numeric %.6g",
                         k, i, analytic[i], numeric);
            }
        }
        free(analytic);
    }
    free(R);
    for (int k = 0; k < n_in; k++)
        test_leaf_free(in[k]);
    mup_graph_free(g);
    return res;
}

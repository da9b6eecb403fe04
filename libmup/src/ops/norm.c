/* layernorm over the last dimension. Letters: N rows (leading dimensions flattened), C channels. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "vecmath.h"
#include "mup/error.h"
#include "mup/ops.h"

/* The weight and bias gradients are summed per chunk of rows, then the chunks in order: a fixed
 * chunking (not one per thread) keeps the sums bit-identical at every thread count. */
#define LN_CHUNKS 64

/* y (N,C), mean (N), rstd (N), x (N,C), w (C), b (C) */
static void layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *w,
                              const float *b, int N, int C, float eps) {
    MUP_PARALLEL_FOR((long)N * C, r, N, {
        const float *xr = x + (long)r * C;
        float *yr = y + (long)r * C;
        float m = mup_sum_lanes(xr, NULL, C) / (float)C;
        for (int c = 0; c < C; c++) /* the row's deviations, kept in y until the last loop */
            yr[c] = xr[c] - m;
        float s = 1.0f / sqrtf(mup_sum_lanes(yr, yr, C) / (float)C + eps);
        for (int c = 0; c < C; c++)
            yr[c] = yr[c] * s * w[c] + b[c];
        mean[r] = m;
        rstd[r] = s;
    });
}

/* dx (N,C) or NULL, part (LN_CHUNKS, 4, C) per-chunk [dw; db] sums and [xhat; dy w] of the row at
 * hand, dy (N,C), x (N,C), mean (N), rstd (N), w (C) */
static void layernorm_backward_rows(float *dx, float *part, const float *dy, const float *x,
                                    const float *mean, const float *rstd, const float *w,
                                    int N, int C) {
    int rows = (N + LN_CHUNKS - 1) / LN_CHUNKS;
    MUP_PARALLEL_FOR((long)N * C, k, LN_CHUNKS, {
        float *dw = part + (long)k * 4 * C, *db = dw + C, *xhat = db + C, *dn = xhat + C;
        memset(dw, 0, 2 * (size_t)C * sizeof *dw);
        int hi = (k + 1) * rows < N ? (k + 1) * rows : N;
        for (int r = k * rows; r < hi; r++) {
            const float *xr = x + (long)r * C, *dyr = dy + (long)r * C;
            float m = mean[r], s = rstd[r];
            for (int c = 0; c < C; c++) {
                xhat[c] = (xr[c] - m) * s;
                dn[c] = dyr[c] * w[c];
                dw[c] += dyr[c] * xhat[c];
                db[c] += dyr[c];
            }
            if (!dx)
                continue;
            /* dx = s (dn - mean(dn) - xhat mean(dn xhat)), dn = dy w; the means in lanes (vecmath.h) */
            float a = mup_sum_lanes(dn, NULL, C) / (float)C, bsum = mup_sum_lanes(dn, xhat, C) / (float)C;
            float *dxr = dx + (long)r * C;
            for (int c = 0; c < C; c++)
                dxr[c] += s * (dn[c] - a - xhat[c] * bsum);
        }
    });
}

static void layernorm_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
    int C = mup_tensor_cols(x), N = (int)mup_tensor_rows(x);
    const float *mean = n->saved, *rstd = mean + N;
    float *part = mup_graph_alloc(g, (size_t)LN_CHUNKS * 4 * C * sizeof *part);
    layernorm_backward_rows(x->requires_grad ? mup_grad(g, x) : NULL, part, n->out->grad, x->data,
                            mean, rstd, w->data, N, C);
    float *dw = w->requires_grad ? mup_grad(g, w) : NULL, *db = b->requires_grad ? mup_grad(g, b) : NULL;
    for (int c = 0; c < C; c++) {
        float sw = 0.0f, sb = 0.0f;
        for (int k = 0; k < LN_CHUNKS; k++) {
            sw += part[(long)k * 4 * C + c];
            sb += part[(long)k * 4 * C + C + c];
        }
        if (dw)
            dw[c] += sw;
        if (db)
            db[c] += sb;
    }
}

static const mup_op op_layernorm = {"layernorm", layernorm_backward};

mup_tensor *mup_layernorm(mup_graph *g, mup_tensor *x, mup_tensor *weight, mup_tensor *bias, float eps) {
    MUP_ASSERT(x && weight && bias, "layernorm: x, weight and bias are required (got %p, %p, %p)",
               (void *)x, (void *)weight, (void *)bias);
    char xs[64];
    int C = mup_tensor_cols(x), N = (int)mup_tensor_rows(x);
    MUP_ASSERT(weight->ndim == 1 && weight->shape[0] == C && bias->ndim == 1 && bias->shape[0] == C,
               "layernorm: weight %s and bias %s must have %d elements to normalise x %s",
               weight->name ? weight->name : "", bias->name ? bias->name : "", C, mup_shape_str(x, xs, sizeof xs));
    MUP_ASSERT(eps >= 0.0f, "layernorm: eps %g must not be negative", (double)eps);
    mup_tensor *y = mup_graph_like(g, x);
    float *stats = mup_graph_alloc(g, 2 * (size_t)N * sizeof *stats); /* mean (N), rstd (N) */
    layernorm_forward(y->data, stats, stats + N, x->data, weight->data, bias->data, N, C, eps);
    mup_node *n = mup_graph_record(g, &op_layernorm, y, x, weight, bias);
    if (n)
        n->saved = stats;
    return y;
}

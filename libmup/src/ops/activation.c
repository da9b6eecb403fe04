/* relu, tanh, gelu (exact erf form). Letters: N elements. Each backward reads the forward's input
 * or output again instead of saving a derivative. */
#include <math.h>

#include "internal.h"
#include "vecmath.h"
#include "mup/ops.h"

#define SQRT1_2 0.70710678118654752f  /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143268f  /* 1 / sqrt(2 pi) */

/* ---- relu ---- */

static void relu_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *restrict da = mup_grad(g, a);
    const float *restrict x = a->data, *restrict dout = n->out->grad; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        float d = dout[i]; /* read unconditionally so the select vectorises */
        da[i] += x[i] > 0.0f ? d : 0.0f;
    });
}

static const mup_op op_relu = {"relu", relu_backward};

mup_tensor *mup_relu(mup_graph *g, mup_tensor *a) {
    mup_tensor *out = mup_graph_like(g, a);
    float *restrict y = out->data;
    const float *restrict x = a->data; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        y[i] = x[i] < 0.0f ? 0.0f : x[i]; /* NaN passes through, as in PyTorch, so divergence shows */
    });
    mup_graph_record(g, &op_relu, out, a, NULL, NULL);
    return out;
}

/* ---- tanh: dy/dx = 1 - y² ---- */

static void tanh_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *restrict da = mup_grad(g, a);
    const float *restrict y = n->out->data, *restrict dout = n->out->grad; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        da[i] += dout[i] * (1.0f - y[i] * y[i]);
    });
}

static const mup_op op_tanh = {"tanh", tanh_backward};

mup_tensor *mup_tanh(mup_graph *g, mup_tensor *a) {
    mup_tensor *out = mup_graph_like(g, a);
    float *restrict y = out->data;
    const float *restrict x = a->data; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        y[i] = tanhf(x[i]);
    });
    mup_graph_record(g, &op_tanh, out, a, NULL, NULL);
    return out;
}

/* ---- gelu: x Φ(x), dy/dx = Φ(x) + x φ(x) ---- */

/* Φ(x) = erfc(-x / sqrt 2) / 2 from Numerical Recipes' erfc (relative error below 1.2e-7 for every
 * argument), so the negative tail keeps its relative accuracy where 1 + erff(x) cancels to 0; a few
 * float ulps in all. Branch-free, with mup_expf, so the loops vectorise (erff is an opaque call and
 * was most of a GPT's GELU time). */
static inline float normal_cdf(float x) {
    float z = fabsf(x) * SQRT1_2;
    float t = 1.0f / (1.0f + 0.5f * z);
    /* the degree-9 polynomial in t by Estrin's scheme (pairs, then t², t⁴, t⁸), as in mup_expf */
    float t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
    float p = ((1.00002368f * t - 1.26551223f) + (0.09678418f * t + 0.37409196f) * t2) +
              ((0.27886807f * t - 0.18628806f) + (1.48851587f * t - 1.13520398f) * t2) * t4 +
              (0.17087277f * t - 0.82215223f) * t8;
    float tail = 0.5f * t * mup_expf(p - z * z); /* Φ(-|x|) */
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    float neg = (float)(bits >> 31); /* 1 for x < 0 (and -0: Φ(0) is 1/2 either way) */
    return (1.0f - neg) + (2.0f * neg - 1.0f) * tail; /* tail or 1 - tail, both exact selects */
}

/* y (n) = gelu(x (n)) */
MUP_CLONES static void gelu_span(float *restrict y, const float *restrict x, long n) {
    for (long i = 0; i < n; i++)
        y[i] = x[i] * normal_cdf(x[i]);
}

/* dx (n) += dy (n) gelu'(x (n)), y (n) = gelu(x) */
MUP_CLONES static void gelu_backward_span(float *restrict dx, const float *restrict x, const float *restrict y,
                                          const float *restrict dy, long n) {
    for (long i = 0; i < n; i++) {
        /* Φ(x) = y / x recovers the forward's Φ without computing it again; Φ(0) = 1/2.
         * Both loads are unconditional so that the select vectorises. */
        float xi = x[i], yi = y[i];
        float cdf = xi != 0.0f ? yi / xi : 0.5f;
        float pdf = INV_SQRT_2PI * mup_expf(-0.5f * xi * xi);
        dx[i] += dy[i] * (cdf + xi * pdf);
    }
}

/* Elements per call of a span kernel */
#define GELU_SPAN 4096L

static long span_len(long N, long k) { return N - k * GELU_SPAN < GELU_SPAN ? N - k * GELU_SPAN : GELU_SPAN; }

static void gelu_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *da = mup_grad(g, a);
    const float *x = a->data, *y = n->out->data, *dout = n->out->grad; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, k, (N + GELU_SPAN - 1) / GELU_SPAN, {
        long o = k * GELU_SPAN;
        gelu_backward_span(da + o, x + o, y + o, dout + o, span_len(N, k));
    });
}

static const mup_op op_gelu = {"gelu", gelu_backward};

mup_tensor *mup_gelu(mup_graph *g, mup_tensor *a) {
    mup_tensor *out = mup_graph_like(g, a);
    float *y = out->data;
    const float *x = a->data; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, k, (N + GELU_SPAN - 1) / GELU_SPAN, {
        gelu_span(y + k * GELU_SPAN, x + k * GELU_SPAN, span_len(N, k));
    });
    mup_graph_record(g, &op_gelu, out, a, NULL, NULL);
    return out;
}

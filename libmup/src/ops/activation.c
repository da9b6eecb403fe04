/* relu, tanh, gelu (exact erf form). Letters: N elements. Each backward reads the forward's input
 * or output again instead of saving a derivative. */
#include <math.h>

#include "internal.h"
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

static void gelu_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *restrict da = mup_grad(g, a);
    const float *restrict x = a->data, *restrict y = n->out->data, *restrict dout = n->out->grad; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        /* Φ(x) = y / x recovers the forward's erf without a second call (erff is the slowest
         * part); Φ(0) = 1/2 */
        float cdf = x[i] != 0.0f ? y[i] / x[i] : 0.5f;
        float pdf = INV_SQRT_2PI * expf(-0.5f * x[i] * x[i]);
        da[i] += dout[i] * (cdf + x[i] * pdf);
    });
}

static const mup_op op_gelu = {"gelu", gelu_backward};

mup_tensor *mup_gelu(mup_graph *g, mup_tensor *a) {
    mup_tensor *out = mup_graph_like(g, a);
    float *restrict y = out->data;
    const float *restrict x = a->data; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * SQRT1_2));
    });
    mup_graph_record(g, &op_gelu, out, a, NULL, NULL);
    return out;
}

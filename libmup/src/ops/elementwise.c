/* add (with broadcasting over leading dimensions), add_scaled, mul, scale. Letters: N elements; for a broadcast
 * add, R rows (the leading dimensions flattened) of C elements (b's size). */
#include <string.h>

#include "internal.h"
#include "mup/error.h"
#include "mup/ops.h"

/* Rows per partial sum in colsum_acc: fixed, so the bits do not depend on the thread count. */
#define COLSUM_ROWS 64
/* Columns per thread's share when the partials are combined (a multiple of a cache line). */
#define COLSUM_COLS 256

/* dst (N) += s * src (N) */
static void axpy(float *restrict dst, const float *restrict src, float s, long N) {
    MUP_PARALLEL_FOR(N, i, N, {
        dst[i] += s * src[i];
    });
}

/* dst (C) += the sum over rows of src (R, C). Blocks of COLSUM_ROWS rows are summed in parallel,
 * then the block partials are added in block order, column blocks in parallel. */
static void colsum_acc(mup_graph *g, float *restrict dst, const float *restrict src, long R, long C) {
    long nb = (R + COLSUM_ROWS - 1) / COLSUM_ROWS;
    float *part = mup_graph_alloc(g, (size_t)(nb * C) * sizeof(float)); /* (nb, C) */
    MUP_PARALLEL_FOR(R * C, b, nb, {
        float *restrict p = part + b * C;
        const float *s = src + b * COLSUM_ROWS * C;
        long rows = R - b * COLSUM_ROWS < COLSUM_ROWS ? R - b * COLSUM_ROWS : COLSUM_ROWS;
        memcpy(p, s, (size_t)C * sizeof(float));
        for (long r = 1; r < rows; r++)
            for (long c = 0; c < C; c++)
                p[c] += s[r * C + c];
    });
    long ncb = (C + COLSUM_COLS - 1) / COLSUM_COLS;
    MUP_PARALLEL_FOR(R * C, cb, ncb, {
        long c0 = cb * COLSUM_COLS, c1 = c0 + COLSUM_COLS < C ? c0 + COLSUM_COLS : C;
        for (long b = 0; b < nb; b++)
            for (long c = c0; c < c1; c++)
                dst[c] += part[b * C + c];
    });
}

/* Same-shape operands of op, or an assertion naming both shapes. */
static void assert_same_shape(const char *op, const mup_tensor *a, const mup_tensor *b) {
    char as[64], bs[64];
    MUP_ASSERT(mup_tensor_same_shape(a, b), "%s: %s %s and %s %s differ in shape", op, a->name ? a->name : "a",
               mup_shape_str(a, as, sizeof as), b->name ? b->name : "b", mup_shape_str(b, bs, sizeof bs));
}

/* ---- add ---- */

static void add_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0], *b = n->in[1];
    const float *dout = n->out->grad; /* (R, C) */
    if (a->requires_grad)
        axpy(mup_grad(g, a), dout, 1.0f, a->size);
    if (b->requires_grad) {
        if (b->size == a->size)
            axpy(mup_grad(g, b), dout, 1.0f, b->size);
        else
            colsum_acc(g, mup_grad(g, b), dout, a->size / b->size, b->size);
    }
}

static const mup_op op_add = {"add", add_backward};

mup_tensor *mup_add(mup_graph *g, mup_tensor *a, mup_tensor *b) {
    char as[64], bs[64];
    bool trailing = b->ndim <= a->ndim;
    for (int k = 1; trailing && k <= b->ndim; k++)
        trailing = b->shape[b->ndim - k] == a->shape[a->ndim - k];
    MUP_ASSERT(trailing, "add: %s %s cannot be added to %s %s (b must have a's shape or its trailing dims)",
               b->name ? b->name : "b", mup_shape_str(b, bs, sizeof bs),
               a->name ? a->name : "a", mup_shape_str(a, as, sizeof as));
    mup_tensor *out = mup_graph_like(g, a);
    float *restrict o = out->data;
    const float *restrict x = a->data, *restrict y = b->data;
    long N = a->size, C = b->size, R = N / C;
    if (R == 1) {
        MUP_PARALLEL_FOR(N, i, N, {
            o[i] = x[i] + y[i];
        });
    } else {
        /* out (R, C) = a (R, C) + b (C) */
        MUP_PARALLEL_FOR(N, r, R, {
            for (long c = 0; c < C; c++)
                o[r * C + c] = x[r * C + c] + y[c];
        });
    }
    mup_graph_record(g, &op_add, out, a, b, NULL);
    return out;
}

/* ---- add_scaled: a + s b ---- */

static void add_scaled_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0], *b = n->in[1];
    if (a->requires_grad)
        axpy(mup_grad(g, a), n->out->grad, 1.0f, a->size);
    if (b->requires_grad)
        axpy(mup_grad(g, b), n->out->grad, n->f[0], b->size);
}

static const mup_op op_add_scaled = {"add_scaled", add_scaled_backward};

mup_tensor *mup_add_scaled(mup_graph *g, mup_tensor *a, mup_tensor *b, float s) {
    assert_same_shape("add_scaled", a, b);
    if (s == 1.0f) /* depth scaling off: the plain add, whose tape entry the NaN detector names "add" */
        return mup_add(g, a, b);
    mup_tensor *out = mup_graph_like(g, a);
    float *restrict o = out->data;
    const float *restrict x = a->data, *restrict y = b->data;
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        o[i] = x[i] + s * y[i];
    });
    mup_node *n = mup_graph_record(g, &op_add_scaled, out, a, b, NULL);
    if (n)
        n->f[0] = s;
    return out;
}

/* ---- mul ---- */

static void mul_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0], *b = n->in[1];
    const float *restrict dout = n->out->grad, *restrict x = a->data, *restrict y = b->data; /* (N) */
    long N = a->size;
    /* separate passes: a and b may be the same tensor (x * x) */
    if (a->requires_grad) {
        float *restrict da = mup_grad(g, a);
        MUP_PARALLEL_FOR(N, i, N, {
            da[i] += dout[i] * y[i];
        });
    }
    if (b->requires_grad) {
        float *restrict db = mup_grad(g, b);
        MUP_PARALLEL_FOR(N, i, N, {
            db[i] += dout[i] * x[i];
        });
    }
}

static const mup_op op_mul = {"mul", mul_backward};

mup_tensor *mup_mul(mup_graph *g, mup_tensor *a, mup_tensor *b) {
    assert_same_shape("mul", a, b);
    mup_tensor *out = mup_graph_like(g, a);
    float *restrict o = out->data;
    const float *restrict x = a->data, *restrict y = b->data; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        o[i] = x[i] * y[i];
    });
    mup_graph_record(g, &op_mul, out, a, b, NULL);
    return out;
}

/* ---- scale ---- */

static void scale_backward(mup_graph *g, const mup_node *n) {
    axpy(mup_grad(g, n->in[0]), n->out->grad, n->f[0], n->out->size);
}

static const mup_op op_scale = {"scale", scale_backward};

mup_tensor *mup_scale(mup_graph *g, mup_tensor *a, float s) {
    mup_tensor *out = mup_graph_like(g, a);
    float *restrict o = out->data;
    const float *restrict x = a->data; /* (N) */
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        o[i] = s * x[i];
    });
    mup_node *n = mup_graph_record(g, &op_scale, out, a, NULL, NULL);
    if (n)
        n->f[0] = s;
    return out;
}

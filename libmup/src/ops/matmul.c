/* matmul and affine (the linear layer's op). Letters: M, N, K as in GEMM; N also rows of x. */
#include "internal.h"
#include "mup/error.h"
#include "mup/ops.h"

static void matmul_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0], *b = n->in[1];
    const float *dc = n->out->grad;
    bool ta = n->i[0], tb = n->i[1];
    int M = n->out->shape[0], N = n->out->shape[1], K = n->i[2];
    int lda = a->shape[1], ldb = b->shape[1];
    if (a->requires_grad) {
        float *da = mup_grad(g, a);
        if (!ta) /* da (M,K) += dc (M,N) op(b)ᵀ */
            mup_gemm(false, !tb, M, K, N, 1.0f, dc, N, b->data, ldb, 1.0f, da, lda);
        else     /* da (K,M) += op(b) dcᵀ */
            mup_gemm(tb, true, K, M, N, 1.0f, b->data, ldb, dc, N, 1.0f, da, lda);
    }
    if (b->requires_grad) {
        float *db = mup_grad(g, b);
        if (!tb) /* db (K,N) += op(a)ᵀ dc */
            mup_gemm(!ta, false, K, N, M, 1.0f, a->data, lda, dc, N, 1.0f, db, ldb);
        else     /* db (N,K) += dcᵀ op(a) */
            mup_gemm(true, ta, N, K, M, 1.0f, dc, N, a->data, lda, 1.0f, db, ldb);
    }
}

static const mup_op op_matmul = {"matmul", matmul_backward};

mup_tensor *mup_matmul(mup_graph *g, mup_tensor *a, mup_tensor *b, bool trans_a, bool trans_b) {
    MUP_ASSERT(a->ndim == 2 && b->ndim == 2, "matmul: operands must be 2-D (got %d-D and %d-D)", a->ndim, b->ndim);
    int M = trans_a ? a->shape[1] : a->shape[0], K = trans_a ? a->shape[0] : a->shape[1];
    int Kb = trans_b ? b->shape[1] : b->shape[0], N = trans_b ? b->shape[0] : b->shape[1];
    MUP_ASSERT(K == Kb, "matmul: inner dimensions differ (%d vs %d)", K, Kb);
    mup_tensor *c = mup_graph_tensor(g, 2, (int[]){M, N});
    mup_gemm(trans_a, trans_b, M, N, K, 1.0f, a->data, a->shape[1], b->data, b->shape[1], 0.0f, c->data, N);
    mup_node *n = mup_graph_record(g, &op_matmul, c, a, b, NULL);
    if (n) {
        n->i[0] = trans_a;
        n->i[1] = trans_b;
        n->i[2] = K;
    }
    return c;
}

/* ---- affine: y (N, O) = alpha * x (N, I) wᵀ (O, I) + bias (O) ---- */

/* Columns of the bias gradient per task */
#define BIAS_COLS 128

static void affine_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *x = n->in[0], *w = n->in[1], *bias = n->in[2];
    const float *dy = n->out->grad;
    float alpha = n->f[0];
    int O = w->shape[0], I = w->shape[1];
    int N = (int)(x->size / I);
    if (x->requires_grad) /* dx (N,I) += alpha dy (N,O) w (O,I) */
        mup_gemm(false, false, N, I, O, alpha, dy, O, w->data, I, 1.0f, mup_grad(g, x), I);
    if (w->requires_grad) /* dw (O,I) += alpha dyᵀ x */
        mup_gemm(true, false, O, I, N, alpha, dy, O, x->data, I, 1.0f, mup_grad(g, w), I);
    if (bias && bias->requires_grad) {
        float *db = mup_grad(g, bias);
        /* Each column's rows are summed in order whatever the blocking (deterministic at any thread
         * count); a block of columns walks the rows, so the inner loop runs along a row and vectorises. */
        MUP_PARALLEL_FOR((long)N * O, k, (O + BIAS_COLS - 1) / BIAS_COLS, {
            int lo = (int)k * BIAS_COLS, cols = O - lo < BIAS_COLS ? O - lo : BIAS_COLS;
            double s[BIAS_COLS] = {0}; /* double: a bias whose gradient cancels (attention keys) stays near 0 */
            for (int r = 0; r < N; r++) {
                const float *row = dy + (long)r * O + lo;
                for (int c = 0; c < cols; c++)
                    s[c] += row[c];
            }
            for (int c = 0; c < cols; c++)
                db[lo + c] += (float)s[c];
        });
    }
}

static const mup_op op_affine = {"affine", affine_backward};

mup_tensor *mup_affine(mup_graph *g, mup_tensor *x, mup_tensor *w, mup_tensor *bias, float alpha) {
    char xs[64], ws[64];
    MUP_ASSERT(w->ndim == 2, "affine: weight %s must be 2-D", w->name ? w->name : "");
    int O = w->shape[0], I = w->shape[1];
    MUP_ASSERT(mup_tensor_cols(x) == I, "affine: input %s does not match weight %s %s",
               mup_shape_str(x, xs, sizeof xs), w->name ? w->name : "", mup_shape_str(w, ws, sizeof ws));
    MUP_ASSERT(!bias || (bias->ndim == 1 && bias->shape[0] == O), "affine: bias must have %d elements", O);
    int N = (int)mup_tensor_rows(x);
    int shape[MUP_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        shape[i] = x->shape[i];
    shape[x->ndim - 1] = O;
    mup_tensor *y = mup_graph_tensor(g, x->ndim, shape);
    if (bias) {
        MUP_PARALLEL_FOR((long)N * O, r, N, {
            for (int o = 0; o < O; o++)
                y->data[(long)r * O + o] = bias->data[o];
        });
    }
    mup_gemm(false, true, N, O, I, alpha, x->data, I, w->data, I, bias ? 1.0f : 0.0f, y->data, O);
    mup_node *n = mup_graph_record(g, &op_affine, y, x, w, bias);
    if (n)
        n->f[0] = alpha;
    return y;
}

/* cross entropy (fused log-softmax + negative log-likelihood) and accuracy. Letters: N rows (the
 * leading dimensions flattened), C classes. */
#include "internal.h"
#include "mup/error.h"
#include "mup/ops.h"

/* Checked before any parallel region, so a failed assert never fires on a worker thread. */
static void check_targets(const char *op, const int32_t *targets, long N, int C) {
    MUP_ASSERT(targets, "%s: targets is NULL", op);
    for (long r = 0; r < N; r++)
        MUP_ASSERT(targets[r] >= 0 && targets[r] < C, "%s: target %d of row %ld is outside [0, %d)",
                   op, (int)targets[r], r, C);
}

/* dlogits (N, C) += (p - onehot(target)) * dloss / N */
static void cross_entropy_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *x = n->in[0];
    float *dx = mup_grad(g, x);
    const float *p = n->saved;     /* (N, C) */
    const int32_t *t = n->ptr;     /* (N) */
    long N = mup_tensor_rows(x);
    int C = mup_tensor_cols(x);
    float d = (float)(n->out->grad[0] / (double)N);
    MUP_PARALLEL_FOR(N * C, r, N, {
        float *restrict dxr = dx + r * C;
        const float *restrict pr = p + r * C;
        for (int j = 0; j < C; j++)
            dxr[j] += d * pr[j];
        dxr[t[r]] -= d;
    });
}

static const mup_op op_cross_entropy = {"cross_entropy", cross_entropy_backward};

mup_tensor *mup_cross_entropy(mup_graph *g, mup_tensor *logits, const int32_t *targets) {
    long N = mup_tensor_rows(logits);
    int C = mup_tensor_cols(logits);
    check_targets("cross_entropy", targets, N, C);
    mup_tensor *out = mup_graph_tensor(g, 1, (int[]){1});
    mup_node *n = mup_graph_record(g, &op_cross_entropy, out, logits, NULL, NULL);
    /* the probabilities are kept only for backward; evaluation needs just the normalisers */
    float *p = n ? mup_graph_alloc(g, (size_t)(N * C) * sizeof(float)) : NULL; /* (N, C) */
    double *row_loss = mup_graph_alloc(g, (size_t)N * sizeof(double));      /* (N) */
    const float *x = logits->data;                                            /* (N, C) */
    MUP_PARALLEL_FOR(N * C, r, N, {
        double lse = mup_softmax_row(p ? p + r * C : NULL, x + r * C, C);
        row_loss[r] = lse - x[r * C + targets[r]];
    });
    double s = 0.0;
    for (long r = 0; r < N; r++)
        s += row_loss[r];
    out->data[0] = (float)(s / (double)N);
    if (n) {
        n->saved = p;
        n->ptr = targets; /* borrowed: the batch outlives the step */
    }
    return out;
}

float mup_accuracy(const mup_tensor *logits, const int32_t *targets) {
    long N = mup_tensor_rows(logits);
    int C = mup_tensor_cols(logits);
    check_targets("accuracy", targets, N, C);
    const float *x = logits->data; /* (N, C) */
    long hits = 0; /* a pass of compares, cheap beside the forward that made the logits: no threads */
    for (long r = 0; r < N; r++) {
        const float *xr = x + r * C;
        int best = 0; /* the first of tied maxima */
        for (int j = 1; j < C; j++)
            if (xr[j] > xr[best])
                best = j;
        hits += best == targets[r];
    }
    return (float)((double)hits / (double)N);
}

/* softmax over the last dimension. Letters: N rows, C columns. The output is the saved
 * probabilities: backward reads it back. */
#include <math.h>

#include "internal.h"
#include "mup/ops.h"

double mup_softmax_row(float *restrict p, const float *restrict x, int C) {
    float m = x[0];
    for (int j = 1; j < C; j++)
        m = x[j] > m ? x[j] : m;
    double s = 0.0;
    if (p) {
        for (int j = 0; j < C; j++) {
            p[j] = expf(x[j] - m);
            s += p[j];
        }
        float inv = (float)(1.0 / s);
        for (int j = 0; j < C; j++)
            p[j] *= inv;
    } else {
        for (int j = 0; j < C; j++)
            s += expf(x[j] - m);
    }
    return m + log(s);
}

/* dx = y ⊙ (dy - Σ dy ⊙ y), row by row */
static void softmax_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *dx = mup_grad(g, a);
    const float *y = n->out->data, *dy = n->out->grad; /* (N, C) */
    long N = mup_tensor_rows(a);
    int C = mup_tensor_cols(a);
    MUP_PARALLEL_FOR(N * C, r, N, {
        const float *restrict yr = y + r * C, *restrict dyr = dy + r * C;
        float *restrict dxr = dx + r * C;
        double dot = 0.0;
        for (int j = 0; j < C; j++)
            dot += (double)dyr[j] * yr[j];
        float d = (float)dot;
        for (int j = 0; j < C; j++)
            dxr[j] += yr[j] * (dyr[j] - d);
    });
}

static const mup_op op_softmax = {"softmax", softmax_backward};

mup_tensor *mup_softmax(mup_graph *g, mup_tensor *a) {
    mup_tensor *out = mup_graph_like(g, a);
    long N = mup_tensor_rows(a);
    int C = mup_tensor_cols(a);
    MUP_PARALLEL_FOR(N * C, r, N, {
        mup_softmax_row(out->data + r * C, a->data + r * C, C);
    });
    mup_graph_record(g, &op_softmax, out, a, NULL, NULL);
    return out;
}

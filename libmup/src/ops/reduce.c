/* sum and mean of all elements -> (1). Letters: N elements.
 * The sum is taken in double over fixed chunks whose partials are added in chunk order, so it has
 * the same bits at any thread count. */
#include "internal.h"
#include "mup/ops.h"

#define SUM_CHUNK 8192
/* independent accumulators per chunk: lets the compiler vectorise while the order stays fixed */
#define SUM_LANES 8

/* Σ x (n), n <= SUM_CHUNK, in a fixed order */
static double chunk_sum(const float *x, long n) {
    double lane[SUM_LANES] = {0};
    long i = 0;
    for (; i + SUM_LANES <= n; i += SUM_LANES)
        for (int k = 0; k < SUM_LANES; k++)
            lane[k] += x[i + k];
    for (; i < n; i++)
        lane[0] += x[i];
    double s = 0.0;
    for (int k = 0; k < SUM_LANES; k++)
        s += lane[k];
    return s;
}

static double total_sum(mup_graph *g, const float *x, long N) {
    long nc = (N + SUM_CHUNK - 1) / SUM_CHUNK;
    double *part = mup_graph_alloc(g, (size_t)nc * sizeof(double)); /* (nc) */
    MUP_PARALLEL_FOR(N, c, nc, {
        long len = N - c * SUM_CHUNK < SUM_CHUNK ? N - c * SUM_CHUNK : SUM_CHUNK;
        part[c] = chunk_sum(x + c * SUM_CHUNK, len);
    });
    double s = 0.0;
    for (long c = 0; c < nc; c++)
        s += part[c];
    return s;
}

/* da (N) += f[0] * dout[0]: f[0] is 1 for sum, 1/N for mean */
static void reduce_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *restrict da = mup_grad(g, a);
    float d = n->f[0] * n->out->grad[0];
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        da[i] += d;
    });
}

static const mup_op op_sum = {"sum", reduce_backward};
static const mup_op op_mean = {"mean", reduce_backward};

static mup_tensor *reduce(mup_graph *g, mup_tensor *a, const mup_op *op, bool mean) {
    mup_tensor *out = mup_graph_tensor(g, 1, (int[]){1});
    double s = total_sum(g, a->data, a->size);
    out->data[0] = (float)(mean ? s / (double)a->size : s);
    mup_node *n = mup_graph_record(g, op, out, a, NULL, NULL);
    if (n)
        n->f[0] = mean ? (float)(1.0 / (double)a->size) : 1.0f;
    return out;
}

mup_tensor *mup_sum(mup_graph *g, mup_tensor *a) { return reduce(g, a, &op_sum, false); }
mup_tensor *mup_mean(mup_graph *g, mup_tensor *a) { return reduce(g, a, &op_mean, true); }

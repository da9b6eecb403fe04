/* Embedding lookup. Letters: V vocabulary, C channels, B batch, T sequence length. */
#include <string.h>

#include "internal.h"
#include "mup/error.h"
#include "mup/ops.h"

/* Columns handled per task in backward: each task walks all positions in order, so every gradient
 * element is summed in the same order at any thread count. */
#define EMB_COLS 64

/* out (B*T, C), table (V, C), ids (B*T) */
static void embedding_forward(float *out, const float *table, const int32_t *ids, long BT, int C) {
    MUP_PARALLEL_FOR(BT * C, p, BT, {
        memcpy(out + p * C, table + (long)ids[p] * C, (size_t)C * sizeof *out);
    });
}

/* dtable (V, C) +=, dout (B*T, C), ids (B*T) */
static void embedding_backward_rows(float *dtable, const float *dout, const int32_t *ids, long BT, int C) {
    int blocks = (C + EMB_COLS - 1) / EMB_COLS;
    MUP_PARALLEL_FOR(BT * C, k, blocks, {
        int lo = k * EMB_COLS, hi = lo + EMB_COLS < C ? lo + EMB_COLS : C;
        for (long p = 0; p < BT; p++) {
            float *d = dtable + (long)ids[p] * C;
            const float *s = dout + p * C;
            for (int c = lo; c < hi; c++)
                d[c] += s[c];
        }
    });
}

static void embedding_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *table = n->in[0];
    embedding_backward_rows(mup_grad(g, table), n->out->grad, n->ptr, n->out->size / table->shape[1],
                            table->shape[1]);
}

static const mup_op op_embedding = {"embedding", embedding_backward};

mup_tensor *mup_embedding(mup_graph *g, mup_tensor *table, const int32_t *ids, int B, int T) {
    char ts[64];
    MUP_ASSERT(table && table->ndim == 2, "embedding: table %s must be 2-D (V, C)",
               table ? mup_shape_str(table, ts, sizeof ts) : "NULL");
    MUP_ASSERT(ids, "embedding: ids are NULL");
    MUP_ASSERT(B > 0 && T > 0, "embedding: B %d and T %d must be positive", B, T);
    int V = table->shape[0], C = table->shape[1];
    long BT = (long)B * T;
    for (long p = 0; p < BT; p++)
        MUP_ASSERT(ids[p] >= 0 && ids[p] < V, "embedding %s: id %d at position %ld (b %ld, t %ld) is outside [0, %d)",
                   table->name ? table->name : "", (int)ids[p], p, p / T, p % T, V);
    mup_tensor *out = mup_graph_tensor(g, 3, (int[]){B, T, C});
    embedding_forward(out->data, table->data, ids, BT, C);
    mup_node *n = mup_graph_record(g, &op_embedding, out, table, NULL, NULL);
    if (n) {
        /* a copy: the caller may refill its batch before backward runs */
        int32_t *kept = mup_graph_alloc(g, (size_t)BT * sizeof *kept);
        memcpy(kept, ids, (size_t)BT * sizeof *kept);
        n->ptr = kept;
    }
    return out;
}

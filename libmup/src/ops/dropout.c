/* Inverted dropout. Letters: N elements.
 * Each call takes one number from the graph's stream and derives from it one stream per chunk of
 * DROPOUT_CHUNK elements, so the mask is the same at any thread count and chunks fill in parallel. */
#include <stdint.h>

#include "internal.h"
#include "mup/error.h"
#include "mup/ops.h"

#define DROPOUT_CHUNK 4096

/* keep (n) = 1 where an element survives: each 64-bit draw decides two elements */
static void draw_keep(uint8_t *restrict keep, mup_rng *r, uint32_t threshold, long n) {
    long j = 0;
    for (; j + 2 <= n; j += 2) {
        uint64_t u = mup_rng_u64(r);
        keep[j] = (uint32_t)u >= threshold;
        keep[j + 1] = (uint32_t)(u >> 32) >= threshold;
    }
    if (j < n)
        keep[j] = (uint32_t)mup_rng_u64(r) >= threshold;
}

/* da (N) += dout * keep * scale */
static void dropout_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *restrict da = mup_grad(g, a);
    const float *restrict dout = n->out->grad; /* (N) */
    const uint8_t *restrict keep = n->saved;   /* (N) */
    float scale = n->f[0];
    long N = a->size;
    MUP_PARALLEL_FOR(N, i, N, {
        da[i] += dout[i] * ((float)keep[i] * scale);
    });
}

static const mup_op op_dropout = {"dropout", dropout_backward};

mup_tensor *mup_dropout(mup_graph *g, mup_tensor *a, float p) {
    MUP_ASSERT(p >= 0.0f && p < 1.0f, "dropout: p = %g on %s is outside [0, 1)", p, a->name ? a->name : "input");
    if (!g->training || p == 0.0f)
        return a;
    mup_tensor *out = mup_graph_like(g, a);
    mup_node *n = mup_graph_record(g, &op_dropout, out, a, NULL, NULL);
    long N = a->size, nc = (N + DROPOUT_CHUNK - 1) / DROPOUT_CHUNK;
    /* the mask is kept only for backward; without a node each chunk uses a stack buffer */
    uint8_t *mask = n ? mup_graph_alloc(g, (size_t)N) : NULL; /* (N) */
    uint64_t seed = mup_rng_u64(&g->rng);
    uint32_t threshold = (uint32_t)((double)p * 4294967296.0); /* p < 1, so below 2³² */
    float scale = 1.0f / (1.0f - p);
    float *y = out->data;
    const float *x = a->data; /* (N) */
    MUP_PARALLEL_FOR(N, c, nc, {
        long i0 = c * DROPOUT_CHUNK, len = N - i0 < DROPOUT_CHUNK ? N - i0 : DROPOUT_CHUNK;
        uint8_t buf[DROPOUT_CHUNK];
        uint8_t *restrict keep = mask ? mask + i0 : buf;
        mup_rng r = mup_rng_stream(seed, (uint64_t)c);
        draw_keep(keep, &r, threshold, len);
        for (long j = 0; j < len; j++)
            y[i0 + j] = x[i0 + j] * ((float)keep[j] * scale);
    });
    if (n) {
        n->saved = mask;
        n->f[0] = scale;
    }
    return out;
}

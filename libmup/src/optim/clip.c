/* The global gradient norm and clipping by it. The gradient slab is walked whole: the padding
 * between parameters is zero (the slab is zeroed when allocated and ops write only inside
 * parameters), so it adds nothing to the norm and scaling leaves it zero. */
#include <math.h>

#include "internal.h"
#include "vecmath.h"
#include "mup/model.h"
#include "mup/optim.h"
#include "mup/threads.h"

#define BLOCK 256            /* partials per parallel region (kept on the stack: no allocation) */

/* Static, for the clones (update.c says why); the same sums in the same order in each. */
MUP_CLONES static double chunk_squares(const float *x, long n) { return mup_sum_lanes_d(x, x, n); }

double mup_sum_squares(float *x, long n, mup_chunk_fill fill, void *ctx) {
    mup_threads_init();
    long n_chunks = (n + MUP_NORM_CHUNK - 1) / MUP_NORM_CHUNK;
    double total = 0.0;
    for (long c0 = 0; c0 < n_chunks; c0 += BLOCK) {
        int nb = (int)(n_chunks - c0 < BLOCK ? n_chunks - c0 : BLOCK);
        double partial[BLOCK];
        MUP_PARALLEL_FOR((long)nb * MUP_NORM_CHUNK, b, nb, {
            long start = (c0 + b) * MUP_NORM_CHUNK, len = n - start < MUP_NORM_CHUNK ? n - start : MUP_NORM_CHUNK;
            if (fill)
                fill(ctx, start, len);
            partial[b] = chunk_squares(x + start, len);
        });
        for (int b = 0; b < nb; b++)
            total += partial[b];
    }
    return total;
}

double mup_grad_norm(mup_model *M) {
    return sqrt(mup_sum_squares(mup_model_grads(M), mup_model_num_floats(M), NULL, NULL));
}

void mup_clip_span(float *g, long n, double norm, double max_norm) {
    if (isfinite(norm) && norm > max_norm) {
        float coef = (float)(max_norm / norm);
        MUP_PARALLEL_FOR(n, i, n, {
            g[i] *= coef;
        });
    }
}

double mup_clip_grad_norm(mup_model *M, double max_norm) {
    MUP_ASSERT(max_norm > 0.0, "mup_clip_grad_norm: max_norm %g must be positive", max_norm);
    double norm = mup_grad_norm(M);
    mup_clip_span(mup_model_grads(M), mup_model_num_floats(M), norm, max_norm);
    return norm;
}

/* The global gradient norm and clipping by it. The gradient slab is walked whole: the padding
 * between parameters is zero (the slab is zeroed when allocated and ops write only inside
 * parameters), so it adds nothing to the norm and scaling leaves it zero. */
#include <math.h>

#include "internal.h"
#include "vecmath.h"
#include "mup/model.h"
#include "mup/optim.h"
#include "mup/threads.h"

/* Fixed sizes make the summation order a function of the slab length alone. */
#define CHUNK 4096L          /* floats summed by one thread into one partial */
#define BLOCK 256            /* partials per parallel region (kept on the stack: no allocation) */

double mup_grad_norm(mup_model *M) {
    mup_threads_init();
    const float *g = mup_model_grads(M);
    long n = mup_model_num_floats(M);
    long n_chunks = (n + CHUNK - 1) / CHUNK;
    double total = 0.0;
    for (long c0 = 0; c0 < n_chunks; c0 += BLOCK) {
        int nb = (int)(n_chunks - c0 < BLOCK ? n_chunks - c0 : BLOCK);
        double partial[BLOCK];
        MUP_PARALLEL_FOR((long)nb * CHUNK, b, nb, {
            long start = (c0 + b) * CHUNK;
            const float *x = g + start;
            partial[b] = mup_sum_lanes_d(x, x, n - start < CHUNK ? n - start : CHUNK);
        });
        for (int b = 0; b < nb; b++)
            total += partial[b];
    }
    return sqrt(total);
}

double mup_clip_grad_norm(mup_model *M, double max_norm) {
    MUP_ASSERT(max_norm > 0.0, "mup_clip_grad_norm: max_norm %g must be positive", max_norm);
    double norm = mup_grad_norm(M);
    if (isfinite(norm) && norm > max_norm) {
        float coef = (float)(max_norm / norm), *g = mup_model_grads(M);
        long n = mup_model_num_floats(M);
        MUP_PARALLEL_FOR(n, i, n, {
            g[i] *= coef;
        });
    }
    return norm;
}

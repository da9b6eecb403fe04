/* SGD and Adam(W) updates of a span of one parameter, elementwise (so any split of the span gives
 * the same bits). The float expressions follow PyTorch's kernels (lerp for the first moment, addcdiv
 * for the step) so that results stay within rounding of the reference's. Plain loops: the optimizer
 * spreads the spans over threads (optim.c). */
#include <math.h>

#include "internal.h"
#include "optim_impl.h"
#include "vecmath.h"

void mup_sgd_update(float *restrict p, const float *restrict g, float *restrict buf, long n,
                    const mup_sgd_coefs *c) {
    const float lr = c->lr, wd = c->wd, momentum = c->momentum, keep = c->keep;
    const bool nesterov = c->nesterov;
    if (buf) {
        /* the buffer starts zeroed, so the first step's momentum × 0 + g' is PyTorch's buf = g' */
        for (long i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            buf[i] = momentum * buf[i] + keep * d;
            p[i] -= lr * (nesterov ? d + momentum * buf[i] : buf[i]);
        }
    } else {
        for (long i = 0; i < n; i++)
            p[i] -= lr * (g[i] + wd * p[i]);
    }
}

/* Static, the clones and their resolver stay in this file: clang resolves target_clones only for
 * callers that see the attribute. */
MUP_CLONES static void adam_span(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                                 long n, const mup_adam_coefs *c) {
    /* locals: through c the compiler would reload every coefficient for every element */
    const float wd = c->wd, lerp1 = c->lerp1, beta2 = c->beta2, lerp2 = c->lerp2, bc2_sqrt = c->bc2_sqrt,
                eps = c->eps, shrink = c->shrink, step_size = c->step_size;
    for (long i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float mi = m[i] + lerp1 * (d - m[i]);
        float vi = beta2 * v[i] + lerp2 * d * d;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = p[i] * shrink - step_size * (mi / denom);
    }
}

void mup_adam_update(float *p, const float *g, float *m, float *v, long n, const mup_adam_coefs *c) {
    adam_span(p, g, m, v, n, c);
}

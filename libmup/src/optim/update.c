/* SGD and Adam(W) updates of one parameter, elementwise (deterministic at any thread count).
 * The float expressions follow PyTorch's kernels (lerp for the first moment, addcdiv for the step)
 * so that results stay within rounding of the reference's. */
#include <math.h>

#include "internal.h"
#include "optim_impl.h"

void mup_sgd_update(float *p, const float *g, float *buf, long n, float lr, float wd, float momentum) {
    MUP_PARALLEL_FOR(n, i, n, {
        float d = g[i] + wd * p[i];
        if (buf) {
            buf[i] = momentum * buf[i] + d;
            d = buf[i];
        }
        p[i] -= lr * d;
    });
}

void mup_adam_update(float *p, const float *g, float *m, float *v, long n, const mup_adam_coefs *c) {
    MUP_PARALLEL_FOR(n, i, n, {
        float d = g[i] + c->wd * p[i];
        m[i] += c->lerp1 * (d - m[i]);
        v[i] = c->beta2 * v[i] + c->lerp2 * d * d;
        float denom = sqrtf(v[i]) / c->bc2_sqrt + c->eps;
        p[i] = p[i] * c->shrink - c->step_size * (m[i] / denom);
    });
}

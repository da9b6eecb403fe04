/* The optimizers' update kernels, shared by the files of libmup/src/optim/. Each updates a span of
 * one parameter in the slabs elementwise in float, as PyTorch's single-tensor path does, in the
 * calling thread. */
#ifndef MUP_OPTIM_IMPL_H
#define MUP_OPTIM_IMPL_H

#include <stdbool.h>

typedef struct {
    float lr, wd, momentum;
    float keep;        /* the share of g' that enters the buffer: 1 - dampening, but 1 on the first step
                        * (buf = g', undamped, as PyTorch) */
    bool nesterov;     /* step along g' + momentum × buf instead of buf */
} mup_sgd_coefs;

/* p (n), g (n), buf (n, NULL when momentum is 0). */
void mup_sgd_update(float *p, const float *g, float *buf, long n, const mup_sgd_coefs *c);

typedef struct {
    float beta2;
    float lerp1, lerp2; /* 1 - β1, 1 - β2, rounded from double as PyTorch's scalars */
    float wd;          /* coupled L2 decay added to g (Adam); 0 for AdamW */
    float shrink;      /* p *= shrink before the update (AdamW's decay); 1 for Adam */
    float step_size;   /* lr_i / (1 - β1^t) */
    float bc2_sqrt;    /* sqrt(1 - β2^t) */
    float eps;
} mup_adam_coefs;

/* p (n), g (n), m (n), v (n) */
void mup_adam_update(float *p, const float *g, float *m, float *v, long n, const mup_adam_coefs *c);

#endif

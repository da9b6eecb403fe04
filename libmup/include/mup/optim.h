/* Optimizers: µSGD, µAdam, µAdamW, one code path each for µP and SP (under SP every multiplier is 1).
 *
 * Each parameter's learning rate is lr × schedule(step) × its µP multiplier; the schedule scales every
 * parameter's rate relatively and never overwrites it. Weight decay follows MUP_RULES.md: coupled
 * (SGD, Adam: g += wd_i p) and AdamW's (p *= 1 - lr_i wd_i) use the multiplier that keeps
 * lr_i × wd_i the same at every width; independent_wd (decay not multiplied by lr) uses wd as is.
 * State (momentum, first and second moments) lives in slabs laid out like the model's parameters. */
#ifndef MUP_OPTIM_H
#define MUP_OPTIM_H

#include <stdbool.h>

#include "mup/model.h"

typedef enum { MUP_OPTIM_SGD, MUP_OPTIM_ADAM, MUP_OPTIM_ADAMW } mup_optim_kind;

typedef enum {
    MUP_SCHEDULE_CONSTANT,   /* factor 1 after warmup */
    MUP_SCHEDULE_COSINE,     /* half cosine from 1 to min_factor over the steps after warmup */
    MUP_SCHEDULE_LINEAR,     /* straight line from 1 to min_factor over the steps after warmup */
} mup_schedule_kind;

typedef struct {
    mup_schedule_kind kind;
    int warmup_steps;        /* linear ramp from 1/warmup to 1 over the first warmup steps */
    int total_steps;         /* decay ends here (needed by cosine and linear) */
    float min_factor;        /* final factor of a decay */
} mup_schedule;

/* The factor at step (0-based: the step about to be taken). */
double mup_schedule_factor(const mup_schedule *s, int step);

typedef struct {
    mup_optim_kind kind;
    float lr;
    float momentum;          /* SGD; PyTorch semantics (buf = g on the first step) */
    float beta1, beta2, eps; /* Adam(W); 0 means 0.9, 0.999, 1e-8 */
    float weight_decay;
    bool independent_wd;     /* AdamW only: p *= 1 - wd (not multiplied by lr), multiplier 1 */
    float clip_norm;         /* clip the global gradient norm to this before the update; 0: off */
    mup_schedule schedule;
} mup_optim_opts;

typedef struct mup_optim mup_optim;

/* The model must have base shapes (mup_set_base_shapes; base NULL for SP): asserts otherwise,
 * naming the first parameter. Allocates the state slabs now; a step allocates nothing. */
mup_optim *mup_optim_new(mup_model *M, mup_optim_opts opts);
mup_optim *mup_sgd_new(mup_model *M, mup_optim_opts opts);    /* opts.kind set to SGD */
mup_optim *mup_adam_new(mup_model *M, mup_optim_opts opts);   /* ... ADAM */
mup_optim *mup_adamw_new(mup_model *M, mup_optim_opts opts);  /* ... ADAMW */
void mup_optim_free(mup_optim *o);

/* One update from the model's gradients: clip (if set), schedule, update, step += 1. */
void mup_optim_step(mup_optim *o);

const mup_optim_opts *mup_optim_options(const mup_optim *o);
void mup_optim_set_lr(mup_optim *o, float lr);
int mup_optim_step_count(const mup_optim *o);
/* The global gradient norm the last step saw (before clipping). */
double mup_optim_last_grad_norm(const mup_optim *o);
/* The learning rate the given parameter gets at the current step. */
double mup_optim_param_lr(const mup_optim *o, int param_index);

/* State for checkpoints: named slabs ("momentum"; "exp_avg", "exp_avg_sq"), each with the
 * model's slab layout (mup_model_num_floats floats). */
int mup_optim_num_state(const mup_optim *o);
const char *mup_optim_state_name(const mup_optim *o, int i);
float *mup_optim_state(mup_optim *o, int i);
/* Restores the step counter (with the slabs, everything a resumed run needs). */
void mup_optim_set_step_count(mup_optim *o, int steps);

/* The global L2 norm of the model's gradients, summed in a fixed order (same bits at any thread
 * count); and scaling them down to max_norm when above it. Returns the norm before clipping. */
double mup_grad_norm(mup_model *M);
double mup_clip_grad_norm(mup_model *M, double max_norm);

#endif

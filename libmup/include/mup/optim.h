/* Optimizers: µSGD, µAdam, µAdamW, one code path each for µP and SP (under SP every multiplier is 1).
 *
 * PyTorch's update rules, per parameter i with f = the schedule's factor at the step and t the
 * 1-based step number:
 *   lr_i = lr × f × group_lr_i × (SGD: sgd_lr_mult; Adam, AdamW: adam_lr_mult × mup_model_depth_lr_mult)
 *   wd_i = weight_decay × group_wd_i × (SGD: sgd_wd_mult; Adam, AdamW: adam_wd_mult; independent_wd or decoupled_wd: 1)
 * group_lr_i and group_wd_i are 1 unless set by mup_optim_set_group; group_wd_i is 0 for a parameter
 * of fewer than two dimensions (biases, norm gains and shifts) under wd_rule MUP_WD_MATRICES.
 *   SGD    g' = g + wd_i p; buf = g' at the first step, then buf = momentum buf + (1-dampening) g';
 *          p -= lr_i buf (nesterov: p -= lr_i (g' + momentum buf)); momentum 0: p -= lr_i g', no state
 *   Adam   g' = g + wd_i p; m = β1 m + (1-β1) g'; v = β2 v + (1-β2) g'²;
 *          p -= lr_i / (1-β1^t) × m / (sqrt(v) / sqrt(1-β2^t) + ε × mup_model_eps_mult)
 *   AdamW  p *= 1 - lr_i wd_i (independent_wd: p *= 1 - f wd_i), then Adam with g' = g.
 * The µP multipliers keep lr_i × wd_i the same at every width (docs/rules/MUP_RULES.md). Two ways out:
 *   independent_wd (AdamW only): p *= 1 - f × wd, multiplied by neither lr nor a µP multiplier, so
 *     every parameter shrinks by f × wd per step at every width; it follows the schedule
 *     (Loshchilov & Hutter's η_t), so a decay that anneals the rate anneals the shrink too.
 *   decoupled_wd (any kind): the reference's MuSGD/MuAdam(decoupled_wd=True), which only sets the wd
 *     multiplier to 1 and leaves the update alone. With AdamW the shrink is then 1 - lr_i × wd, so a
 *     matrix-like parameter's falls as 1/m with width; with SGD and Adam it is L2 decay with wd
 *     unscaled. (The reference meant it for optimizers whose decay is not multiplied by lr: with
 *     such an optimizer it is independent_wd.)
 * The schedule multiplies every parameter's rate, never overwrites it. The model's gradients are
 * read, never changed (except by clipping).
 * State (momentum, first and second moments) lives in slabs laid out like the model's parameters. */
#ifndef MUP_OPTIM_H
#define MUP_OPTIM_H

#include "mup/api.h"

#include <math.h>
#include <stdbool.h>

#include "mup/model.h"

typedef enum { MUP_OPTIM_SGD, MUP_OPTIM_ADAM, MUP_OPTIM_ADAMW } mup_optim_kind;

typedef enum {
    MUP_SCHEDULE_CONSTANT,   /* factor 1 after warmup */
    MUP_SCHEDULE_COSINE,     /* half cosine from 1 to min_factor over the steps after warmup */
    MUP_SCHEDULE_LINEAR,     /* straight line from 1 to min_factor over the steps after warmup */
} mup_schedule_kind;

/* A zeroed mup_schedule is constant 1 with no warmup. */
typedef struct {
    mup_schedule_kind kind;
    int warmup_steps;        /* factor (step+1)/warmup_steps for step < warmup_steps (0: no warmup) */
    int total_steps;         /* decay reaches min_factor at this step and stays (cosine, linear) */
    float min_factor;        /* final factor of a decay, in [0, 1] */
} mup_schedule;

/* The factor at step (0-based: the step about to be taken). After warmup, with
 * x = (step - warmup_steps) / (total_steps - warmup_steps) capped at 1:
 * cosine min + (1 - min)(1 + cos(πx))/2, linear 1 - (1 - min)x, constant 1.
 * So step warmup_steps has factor 1 and the midpoint of a decay (1 + min)/2. */
MUP_API double mup_schedule_factor(const mup_schedule *s, int step);

/* Which parameters weight decay applies to. */
typedef enum {
    MUP_WD_ALL,              /* every parameter (PyTorch's default) */
    MUP_WD_MATRICES,         /* parameters of two or more dimensions only, as nanoGPT groups them */
} mup_wd_rule;

typedef struct {
    mup_optim_kind kind;
    float lr;
    float momentum;          /* SGD; PyTorch semantics (buf = g on the first step) */
    float dampening;         /* SGD: in [0, 1]; the first step is undamped, as PyTorch */
    bool nesterov;           /* SGD: needs momentum > 0 and dampening 0, as PyTorch */
    float beta1, beta2, eps; /* Adam(W); MUP_OPTIM_DEFAULT means 0.9, 0.999, 1e-8 (kept in double, as
                              * PyTorch); 0 is 0 (mup_optim_defaults sets all three to the default) */
    float weight_decay;
    bool independent_wd;     /* AdamW only: p *= 1 - f × wd (not multiplied by lr), multiplier 1 */
    bool decoupled_wd;       /* the reference's decoupled_wd=True: wd multiplier 1, update unchanged */
    mup_wd_rule wd_rule;
    float clip_norm;         /* clip the global gradient norm to this before the update; 0: off */
    mup_schedule schedule;
} mup_optim_opts;

typedef struct mup_optim mup_optim;

/* Not a valid beta or eps (NaN): the field takes PyTorch's default. Zero is a valid beta, so a zeroed
 * field means 0; start from mup_optim_defaults to get Adam's usual betas. */
#define MUP_OPTIM_DEFAULT NAN
/* The same in an initializer: (mup_optim_opts){.kind = MUP_OPTIM_ADAM, .lr = 1e-3f, MUP_ADAM_DEFAULTS} */
#define MUP_ADAM_DEFAULTS .beta1 = MUP_OPTIM_DEFAULT, .beta2 = MUP_OPTIM_DEFAULT, .eps = MUP_OPTIM_DEFAULT

/* {kind, lr}, betas and eps MUP_OPTIM_DEFAULT, everything else 0 (no momentum, decay, clipping;
 * a constant schedule). */
MUP_API mup_optim_opts mup_optim_defaults(mup_optim_kind kind, float lr);

/* MUP_OK, or MUP_ERR_INVALID naming the first option out of range (negative or non-finite lr, wd,
 * eps or clip_norm; momentum or a beta outside [0, 1); dampening outside [0, 1]; nesterov without
 * momentum or with dampening; dampening or nesterov with Adam(W); independent_wd with SGD or Adam; a warmup
 * below 0; a decay whose total_steps is not past warmup_steps; min_factor outside [0, 1]).
 * For options read from a configuration; mup_optim_new asserts it. */
MUP_API mup_status mup_optim_opts_check(const mup_optim_opts *opts);

/* mup_optim_opts_check, then what the options need of the model: MUP_ERR_STATE when it has no base
 * shapes, MUP_ERR_INVALID for depth scaling on under SGD (DEPTH_RULES.md defines it for Adam(W)). */
MUP_API mup_status mup_optim_check(const mup_model *M, const mup_optim_opts *opts);

/* Asserts mup_optim_check. Allocates the model's slabs if needed and the state slabs now;
 * a step allocates nothing. */
MUP_API mup_optim *mup_optim_new(mup_model *M, mup_optim_opts opts);
MUP_API mup_optim *mup_sgd_new(mup_model *M, mup_optim_opts opts);    /* opts.kind set to SGD */
MUP_API mup_optim *mup_adam_new(mup_model *M, mup_optim_opts opts);   /* ... ADAM */
MUP_API mup_optim *mup_adamw_new(mup_model *M, mup_optim_opts opts);  /* ... ADAMW */
MUP_API void mup_optim_free(mup_optim *o);

/* One update from the model's gradients: measure the gradient norm and clip (if clip_norm is set),
 * schedule, update, step += 1. */
MUP_API void mup_optim_step(mup_optim *o);

/* A parameter group: every parameter whose name starts with prefix gets these factors on its learning
 * rate and weight decay, on top of the µP and depth multipliers (a later call wins where groups
 * overlap). MUP_ERR_INVALID for a factor that is negative or not finite, or a prefix that matches no
 * parameter (a mistyped name would otherwise change nothing). */
MUP_API mup_status mup_optim_set_group(mup_optim *o, const char *prefix, double lr_factor, double wd_factor);

MUP_API const mup_optim_opts *mup_optim_options(const mup_optim *o);
MUP_API void mup_optim_set_lr(mup_optim *o, float lr);
MUP_API int mup_optim_step_count(const mup_optim *o);
/* The global gradient norm the last step saw (before clipping); 0 before the first step. Without
 * clipping it is measured from the gradients when asked, so ask before the next mup_graph_begin
 * (which zeroes them). */
MUP_API double mup_optim_last_grad_norm(const mup_optim *o);
/* The eps Adam adds, after eps scaling (mup_depth_opts.eps_scaling); the options keep the user's. */
MUP_API double mup_optim_eps(const mup_optim *o);
/* The learning rate the given parameter gets at the current step. */
MUP_API double mup_optim_param_lr(const mup_optim *o, int param_index);

/* State for checkpoints: named slabs ("momentum"; "exp_avg", "exp_avg_sq"), each with the
 * model's slab layout (mup_model_num_floats floats). */
MUP_API int mup_optim_num_state(const mup_optim *o);
MUP_API const char *mup_optim_state_name(const mup_optim *o, int i);
MUP_API float *mup_optim_state(mup_optim *o, int i);
/* Restores the step counter (with the slabs, everything a resumed run needs). */
MUP_API void mup_optim_set_step_count(mup_optim *o, int steps);

/* The global L2 norm of the model's gradients, squares summed in double over fixed chunks combined
 * in a fixed order (same bits at any thread count); and scaling them by max_norm / norm when the
 * norm is above max_norm and finite (PyTorch adds 1e-6 to the norm; here the clipped norm is
 * max_norm itself). Returns the norm before clipping. */
MUP_API double mup_grad_norm(mup_model *M);
MUP_API double mup_clip_grad_norm(mup_model *M, double max_norm);

#endif

/* The optimizer object: per-parameter multipliers fixed at creation, state slabs laid out like the
 * model's, and a step that walks the parameters once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/optim.h"
#include "mup/threads.h"
#include "optim_impl.h"

#define MAX_STATE 2

struct mup_optim {
    mup_model *M;
    mup_optim_opts opts;
    double beta1, beta2, eps;     /* defaults resolved, in double as PyTorch's hyperparameters; eps
                                   * with its depth/width scaling (the options keep the user's) */
    int n_params;
    double *lr_mult, *wd_mult;    /* per parameter: the µP (and depth) multipliers this optimizer uses */
    double *group_lr, *group_wd;  /* per parameter: the factors of mup_optim_set_group, 1 by default */
    int n_state;
    const char *state_name[MAX_STATE];
    float *state[MAX_STATE];      /* each mup_model_num_floats floats */
    long state_lo, state_hi;      /* the state is current on these floats of the slab: all of them, unless
                                   * a data-parallel step updated a rank's block alone */
    int step;
    double last_norm;
    bool norm_measured;           /* false: the last step did not clip, so its norm is measured when asked */
};

static bool finite_nonneg(float x) { return isfinite(x) && x >= 0.0f; }
static bool unit_interval(float x) { return isfinite(x) && x >= 0.0f && x < 1.0f; }
static double or_default(float x, double def) { return isnan(x) ? def : x; }

mup_optim_opts mup_optim_defaults(mup_optim_kind kind, float lr) {
    return (mup_optim_opts){.kind = kind, .lr = lr, .beta1 = MUP_OPTIM_DEFAULT, .beta2 = MUP_OPTIM_DEFAULT,
                            .eps = MUP_OPTIM_DEFAULT};
}

mup_status mup_optim_opts_check(const mup_optim_opts *o) {
    if (o->kind != MUP_OPTIM_SGD && o->kind != MUP_OPTIM_ADAM && o->kind != MUP_OPTIM_ADAMW)
        return mup_error(MUP_ERR_INVALID, "optimizer: unknown kind %d", (int)o->kind);
    if (!finite_nonneg(o->lr))
        return mup_error(MUP_ERR_INVALID, "optimizer: lr %g must be finite and >= 0", o->lr);
    if (!unit_interval(o->momentum))
        return mup_error(MUP_ERR_INVALID, "optimizer: momentum %g must be in [0, 1)", o->momentum);
    if (!(isfinite(o->dampening) && o->dampening >= 0.0f && o->dampening <= 1.0f))
        return mup_error(MUP_ERR_INVALID, "optimizer: dampening %g must be in [0, 1]", o->dampening);
    if (o->nesterov && (o->momentum <= 0.0f || o->dampening != 0.0f))
        return mup_error(MUP_ERR_INVALID, "optimizer: nesterov needs momentum > 0 and dampening 0 (momentum %g, "
                         "dampening %g)", o->momentum, o->dampening);
    if (o->kind != MUP_OPTIM_SGD && (o->nesterov || o->dampening != 0.0f))
        return mup_error(MUP_ERR_INVALID, "optimizer: dampening and nesterov apply to SGD only");
    if (o->wd_rule != MUP_WD_ALL && o->wd_rule != MUP_WD_MATRICES)
        return mup_error(MUP_ERR_INVALID, "optimizer: unknown wd_rule %d", (int)o->wd_rule);
    if (!unit_interval((float)or_default(o->beta1, 0.9)) || !unit_interval((float)or_default(o->beta2, 0.999)))
        return mup_error(MUP_ERR_INVALID, "optimizer: betas (%g, %g) must be in [0, 1)", o->beta1, o->beta2);
    if (!finite_nonneg((float)or_default(o->eps, 1e-8)))
        return mup_error(MUP_ERR_INVALID, "optimizer: eps %g must be finite and >= 0", o->eps);
    if (!finite_nonneg(o->weight_decay))
        return mup_error(MUP_ERR_INVALID, "optimizer: weight_decay %g must be finite and >= 0", o->weight_decay);
    if (o->independent_wd && o->kind != MUP_OPTIM_ADAMW)
        return mup_error(MUP_ERR_INVALID, "optimizer: independent_wd applies to AdamW only");
    if (!finite_nonneg(o->clip_norm))
        return mup_error(MUP_ERR_INVALID, "optimizer: clip_norm %g must be finite and >= 0", o->clip_norm);
    const mup_schedule *s = &o->schedule;
    if (s->kind != MUP_SCHEDULE_CONSTANT && s->kind != MUP_SCHEDULE_COSINE && s->kind != MUP_SCHEDULE_LINEAR)
        return mup_error(MUP_ERR_INVALID, "schedule: unknown kind %d", (int)s->kind);
    if (s->warmup_steps < 0)
        return mup_error(MUP_ERR_INVALID, "schedule: warmup_steps %d must be >= 0", s->warmup_steps);
    if (s->kind != MUP_SCHEDULE_CONSTANT && s->total_steps <= s->warmup_steps)
        return mup_error(MUP_ERR_INVALID, "schedule: total_steps %d must exceed warmup_steps %d for a decay",
                         s->total_steps, s->warmup_steps);
    if (!(s->min_factor >= 0.0f && s->min_factor <= 1.0f))
        return mup_error(MUP_ERR_INVALID, "schedule: min_factor %g must be in [0, 1]", s->min_factor);
    return MUP_OK;
}

mup_status mup_optim_check(const mup_model *M, const mup_optim_opts *opts) {
    mup_status s = mup_optim_opts_check(opts);
    if (s != MUP_OK)
        return s;
    int n = mup_model_num_params(M);
    if (!mup_model_has_base_shapes(M))
        return mup_error(MUP_ERR_STATE, "optimizer: the model has no base shapes (first parameter \"%s\"): call "
                         "mup_set_base_shapes first (base NULL for SP)", n ? mup_model_param(M, 0)->name : "none");
    if (opts->kind == MUP_OPTIM_SGD && mup_model_depth(M).on)
        return mup_error(MUP_ERR_INVALID, "optimizer: depth scaling is defined for Adam and AdamW, not SGD "
                         "(docs/rules/DEPTH_RULES.md, rule 6)");
    return MUP_OK;
}

static void add_state(mup_optim *o, const char *name, long n_floats) {
    size_t bytes = (size_t)n_floats * sizeof(float);
    o->state_name[o->n_state] = name;
    o->state[o->n_state] = mup_xaligned(bytes);
    memset(o->state[o->n_state], 0, bytes);
    o->n_state++;
}

mup_optim *mup_optim_new(mup_model *M, mup_optim_opts opts) {
    MUP_ASSERT(M, "mup_optim_new: model is NULL");
    MUP_ASSERT(mup_optim_check(M, &opts) == MUP_OK, "mup_optim_new: %s", mup_error_message());
    int n = mup_model_num_params(M);
    mup_threads_init();
    mup_optim *o = mup_xcalloc(1, sizeof *o);
    o->M = M;
    o->beta1 = or_default(opts.beta1, 0.9);
    o->beta2 = or_default(opts.beta2, 0.999);
    o->eps = or_default(opts.eps, 1e-8);
    opts.beta1 = (float)o->beta1;
    opts.beta2 = (float)o->beta2;
    opts.eps = (float)o->eps;
    o->eps *= mup_model_eps_mult(M);
    o->opts = opts;
    o->n_params = n;
    o->lr_mult = mup_xcalloc((size_t)n, sizeof(double));
    o->wd_mult = mup_xcalloc((size_t)n, sizeof(double));
    o->group_lr = mup_xcalloc((size_t)n, sizeof(double));
    o->group_wd = mup_xcalloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++) {
        const mup_param *p = mup_model_param(M, i);
        bool sgd = opts.kind == MUP_OPTIM_SGD;
        o->lr_mult[i] = sgd ? p->sgd_lr_mult : p->adam_lr_mult * mup_model_depth_lr_mult(M, p);
        o->wd_mult[i] = opts.independent_wd || opts.decoupled_wd ? 1.0 : sgd ? p->sgd_wd_mult : p->adam_wd_mult;
        o->group_lr[i] = 1.0;
        o->group_wd[i] = opts.wd_rule == MUP_WD_MATRICES && p->t.ndim < 2 ? 0.0 : 1.0;
    }
    mup_model_values(M); /* the slabs, so that every parameter's data and grad are set */
    long nf = mup_model_num_floats(M);
    o->state_hi = nf;
    if (opts.kind == MUP_OPTIM_SGD) {
        if (opts.momentum != 0.0f)
            add_state(o, "momentum", nf);
    } else {
        add_state(o, "exp_avg", nf);
        add_state(o, "exp_avg_sq", nf);
    }
    return o;
}

mup_optim *mup_sgd_new(mup_model *M, mup_optim_opts opts) {
    opts.kind = MUP_OPTIM_SGD;
    return mup_optim_new(M, opts);
}

mup_optim *mup_adam_new(mup_model *M, mup_optim_opts opts) {
    opts.kind = MUP_OPTIM_ADAM;
    return mup_optim_new(M, opts);
}

mup_optim *mup_adamw_new(mup_model *M, mup_optim_opts opts) {
    opts.kind = MUP_OPTIM_ADAMW;
    return mup_optim_new(M, opts);
}

void mup_optim_free(mup_optim *o) {
    if (!o)
        return;
    for (int i = 0; i < o->n_state; i++)
        free(o->state[i]);
    free(o->lr_mult);
    free(o->wd_mult);
    free(o->group_lr);
    free(o->group_wd);
    free(o);
}

/* The user's group factor times the µP and depth multipliers (groups compose, never replace). */
static double param_lr_mult(const mup_optim *o, int i) { return o->group_lr[i] * o->lr_mult[i]; }
static double param_wd_mult(const mup_optim *o, int i) { return o->group_wd[i] * o->wd_mult[i]; }

/* A step is one parallel region: every parameter's floats within the span [lo, hi) of the slab (all
 * of them in a whole step) are cut into as many shares as there are threads and share k of each goes
 * to thread k (a region per parameter would cost a fork and a join each, and most of a GPT's
 * parameters are small). The updates are elementwise, so no split changes a bit. */
static void share_of(const mup_param *p, long lo, long hi, long k, int shares, long *from, long *to) {
    long a = lo > p->offset ? lo - p->offset : 0, b = hi - p->offset < p->t.size ? hi - p->offset : p->t.size;
    if (b < a)
        b = a;
    *from = a + (b - a) * k / shares;
    *to = a + (b - a) * (k + 1) / shares;
}

static void step_sgd(mup_optim *o, double factor, long lo_span, long hi_span) {
    const mup_optim_opts *op = &o->opts;
    float *buf = o->n_state ? o->state[0] : NULL;
    int shares = omp_get_max_threads();
    MUP_PARALLEL_FOR(hi_span - lo_span, k, shares, {
        for (int i = 0; i < o->n_params; i++) {
            mup_param *p = mup_model_param(o->M, i);
            mup_sgd_coefs c = {.lr = (float)(op->lr * factor * param_lr_mult(o, i)),
                               .wd = (float)(op->weight_decay * param_wd_mult(o, i)), .momentum = op->momentum,
                               .keep = o->step == 0 ? 1.0f : 1.0f - op->dampening, .nesterov = op->nesterov};
            long lo, hi;
            share_of(p, lo_span, hi_span, k, shares, &lo, &hi);
            mup_sgd_update(p->t.data + lo, p->t.grad + lo, buf ? buf + p->offset + lo : NULL, hi - lo, &c);
        }
    });
}

static void step_adam(mup_optim *o, double factor, long lo_span, long hi_span) {
    const mup_optim_opts *op = &o->opts;
    int t = o->step + 1;
    double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
    bool adamw = op->kind == MUP_OPTIM_ADAMW;
    const mup_adam_coefs common = {
        .beta2 = (float)o->beta2,
        .lerp1 = (float)(1.0 - o->beta1),
        .lerp2 = (float)(1.0 - o->beta2),
        .bc2_sqrt = (float)sqrt(bc2),
        .eps = (float)o->eps,
    };
    int shares = omp_get_max_threads();
    MUP_PARALLEL_FOR(hi_span - lo_span, k, shares, {
        mup_adam_coefs c = common;
        for (int i = 0; i < o->n_params; i++) {
            mup_param *p = mup_model_param(o->M, i);
            double lr = op->lr * factor * param_lr_mult(o, i), wd = op->weight_decay * param_wd_mult(o, i);
            c.step_size = (float)(lr / bc1);
            c.wd = adamw ? 0.0f : (float)wd;
            c.shrink = (float)(!adamw ? 1.0 : op->independent_wd ? 1.0 - factor * wd : 1.0 - lr * wd);
            long lo, hi;
            share_of(p, lo_span, hi_span, k, shares, &lo, &hi);
            long off = p->offset + lo;
            mup_adam_update(p->t.data + lo, p->t.grad + lo, o->state[0] + off, o->state[1] + off, hi - lo, &c);
        }
    });
}

/* Clipping (when asked, by the norm in last_norm), the schedule and the update of [lo, hi). */
static void update(mup_optim *o, long lo, long hi) {
    if (o->opts.clip_norm > 0.0f)
        mup_clip_span(mup_model_grads(o->M) + lo, hi - lo, o->last_norm, o->opts.clip_norm);
    double factor = mup_schedule_factor(&o->opts.schedule, o->step);
    if (o->opts.kind == MUP_OPTIM_SGD)
        step_sgd(o, factor, lo, hi);
    else
        step_adam(o, factor, lo, hi);
    o->step++;
}

void mup_optim_step(mup_optim *o) {
    mup_threads_init();
    long nf = mup_model_num_floats(o->M);
    MUP_ASSERT(mup_optim_state_covers(o, 0, nf), "mup_optim_step: the optimizer's state is current on the floats "
               "[%ld, %ld) of %ld only (mup_dist_optim_step shards it over ranks): gather it with "
               "mup_dist_gather_state on every rank first", o->state_lo, o->state_hi, nf);
    /* without clipping the update does not need the norm: measuring it on every step would cost a
     * pass over the gradients (an eighth of Adam's memory traffic) that few callers want */
    o->norm_measured = o->opts.clip_norm > 0.0f;
    if (o->norm_measured)
        o->last_norm = mup_grad_norm(o->M);
    /* every rank that steps whole writes every value: into its own copy, not the one sharded steps share */
    MUP_ASSERT(mup_model_own_values(o->M) == MUP_OK, "%s", mup_error_message());
    update(o, 0, nf);
}

void mup_optim_step_span(mup_optim *o, long lo, long hi, double norm) {
    mup_threads_init();
    MUP_ASSERT(0 <= lo && lo <= hi && hi <= mup_model_num_floats(o->M) && mup_optim_state_covers(o, lo, hi),
               "mup_optim_step_span: the span [%ld, %ld) is not within the floats [%ld, %ld) whose state is current",
               lo, hi, o->state_lo, o->state_hi);
    o->last_norm = norm;
    o->norm_measured = true;
    update(o, lo, hi);
    o->state_lo = lo;
    o->state_hi = hi;
}

bool mup_optim_state_covers(const mup_optim *o, long lo, long hi) {
    return o->n_state == 0 || (o->state_lo <= lo && hi <= o->state_hi);
}

void mup_optim_state_whole(mup_optim *o) {
    o->state_lo = 0;
    o->state_hi = mup_model_num_floats(o->M);
}

mup_model *mup_optim_model(const mup_optim *o) { return o->M; }

mup_status mup_optim_set_group(mup_optim *o, const char *prefix, double lr_factor, double wd_factor) {
    if (!(isfinite(lr_factor) && lr_factor >= 0.0 && isfinite(wd_factor) && wd_factor >= 0.0))
        return mup_error(MUP_ERR_INVALID, "parameter group \"%s\": factors (lr %g, wd %g) must be finite and >= 0",
                         prefix, lr_factor, wd_factor);
    size_t len = strlen(prefix);
    int matched = 0;
    for (int i = 0; i < o->n_params; i++) {
        if (strncmp(mup_model_param(o->M, i)->name, prefix, len) != 0)
            continue;
        o->group_lr[i] = lr_factor;
        o->group_wd[i] = wd_factor;
        matched++;
    }
    if (!matched)
        return mup_error(MUP_ERR_INVALID, "parameter group \"%s\" matches no parameter", prefix);
    return MUP_OK;
}

const mup_optim_opts *mup_optim_options(const mup_optim *o) { return &o->opts; }

void mup_optim_set_lr(mup_optim *o, float lr) {
    MUP_ASSERT(finite_nonneg(lr), "mup_optim_set_lr: lr %g must be finite and >= 0", lr);
    o->opts.lr = lr;
}

int mup_optim_step_count(const mup_optim *o) { return o->step; }

void mup_optim_set_step_count(mup_optim *o, int steps) {
    MUP_ASSERT(steps >= 0, "mup_optim_set_step_count: %d steps", steps);
    o->step = steps;
}

double mup_optim_last_grad_norm(const mup_optim *o) {
    return o->norm_measured || o->step == 0 ? o->last_norm : mup_grad_norm(o->M);
}

double mup_optim_param_lr(const mup_optim *o, int param_index) {
    MUP_ASSERT(param_index >= 0 && param_index < o->n_params,
               "mup_optim_param_lr: parameter %d of %d", param_index, o->n_params);
    return o->opts.lr * mup_schedule_factor(&o->opts.schedule, o->step) * param_lr_mult(o, param_index);
}

double mup_optim_eps(const mup_optim *o) { return o->eps; }

int mup_optim_num_state(const mup_optim *o) { return o->n_state; }

const char *mup_optim_state_name(const mup_optim *o, int i) {
    MUP_ASSERT(i >= 0 && i < o->n_state, "mup_optim_state_name: state %d of %d", i, o->n_state);
    return o->state_name[i];
}

float *mup_optim_state(mup_optim *o, int i) {
    MUP_ASSERT(i >= 0 && i < o->n_state, "mup_optim_state: state %d of %d", i, o->n_state);
    return o->state[i];
}

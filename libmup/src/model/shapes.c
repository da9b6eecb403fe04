/* mup_set_base_shapes: infer each parameter's width dimensions, then its class, role, multipliers
 * and init rescale, exactly as docs/rules/MUP_RULES.md states them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "model_impl.h"
#include "shapes_impl.h"

void mup_model_set_parametrization(mup_model *M, mup_parametrization p) {
    MUP_ASSERT(!M->shapes_set, "mup_model_set_parametrization after mup_set_base_shapes");
    M->parametrization = p;
}

static mup_status check_role(mup_param *p) {
    char sb[64], bb[64];
    mup_tensor base = p->t;
    for (int i = 0; i < p->t.ndim; i++)
        base.shape[i] = p->base_shape[i];
    if (p->ninf > 2)
        return mup_error(MUP_ERR_SHAPE,
                         "parameter %s has %d width dimensions (shape %s, base %s); µP handles at most two",
                         p->name, p->ninf, mup_shape_str(&p->t, sb, sizeof sb), mup_shape_str(&base, bb, sizeof bb));
    switch (p->kind) {
    case MUP_KIND_WEIGHT:
        if (p->t.ndim >= 2 && p->width_dim[1] && !p->width_dim[0])
            return mup_error(MUP_ERR_SHAPE,
                             "parameter %s maps width to a finite size (shape %s, base %s) but is not a readout; "
                             "build the output layer with mup_readout_init",
                             p->name, mup_shape_str(&p->t, sb, sizeof sb), mup_shape_str(&base, bb, sizeof bb));
        p->role = p->ninf == 2 ? MUP_ROLE_HIDDEN : p->ninf == 1 ? MUP_ROLE_INPUT : MUP_ROLE_FIXED;
        break;
    case MUP_KIND_EMBEDDING:
        p->role = p->ninf ? MUP_ROLE_INPUT : MUP_ROLE_FIXED;
        break;
    case MUP_KIND_READOUT_WEIGHT:
    case MUP_KIND_READOUT_BIAS:
        p->role = MUP_ROLE_OUTPUT;
        break;
    case MUP_KIND_BIAS:
    case MUP_KIND_GAIN:
    case MUP_KIND_SHIFT:
        p->role = p->ninf ? MUP_ROLE_VECTOR : MUP_ROLE_FIXED;
        break;
    }
    return MUP_OK;
}

/* Multipliers from the width dimensions: docs/rules/MUP_RULES.md, "Learning rate and weight decay per class". */
static void set_multipliers(mup_param *p, bool mup) {
    p->cls = p->ninf == 2 ? MUP_CLASS_MATRIX : p->ninf == 1 ? MUP_CLASS_VECTOR : MUP_CLASS_SCALAR;
    p->width_mult = p->fanin_mult = p->fanout_mult = 1.0;
    p->sgd_lr_mult = p->sgd_wd_mult = p->adam_lr_mult = p->adam_wd_mult = 1.0;
    if (!mup)
        return;
    for (int i = 0; i < p->t.ndim; i++)
        if (p->width_dim[i])
            p->width_mult = (double)p->t.shape[i] / p->base_shape[i];
    if (p->width_dim[0])
        p->fanout_mult = (double)p->t.shape[0] / p->base_shape[0];
    if (p->t.ndim >= 2 && p->width_dim[1])
        p->fanin_mult = (double)p->t.shape[1] / p->base_shape[1];
    if (p->cls == MUP_CLASS_VECTOR) {
        p->sgd_lr_mult = p->width_mult;
        p->sgd_wd_mult = 1.0 / p->width_mult;
    } else if (p->cls == MUP_CLASS_MATRIX) {
        p->sgd_lr_mult = p->fanout_mult / p->fanin_mult;
        p->sgd_wd_mult = p->fanin_mult / p->fanout_mult;
        p->adam_lr_mult = 1.0 / p->width_mult;
        p->adam_wd_mult = p->width_mult;
    }
}

/* The one-time rescale of PyTorch's default init: docs/rules/MUP_RULES.md, "Initialisation". */
static double default_rescale(const mup_param *p) {
    switch (p->kind) {
    case MUP_KIND_BIAS:
        return p->layer_weight ? sqrt(p->layer_weight->fanin_mult) : 1.0;
    case MUP_KIND_READOUT_WEIGHT:
        return sqrt(p->width_mult);
    case MUP_KIND_READOUT_BIAS:
        return p->layer_weight ? sqrt(p->layer_weight->width_mult) : 1.0;
    default:
        return 1.0;
    }
}

/* The reference refuses it too: scaling [a, b] by m^-1/2 would move the mean with width. */
static mup_status check_init(const mup_param *p) {
    if (p->init.kind == MUP_INIT_UNIFORM && p->cls == MUP_CLASS_MATRIX && p->init.a != -p->init.b)
        return mup_error(MUP_ERR_INVALID,
                         "parameter %s: a uniform init on [%g, %g] of a matrix-like parameter must have a = -b "
                         "(µP scales both bounds by m^-1/2, which would move its mean with width)",
                         p->name, p->init.a, p->init.b);
    return MUP_OK;
}

/* Values drawn before the shapes were known get what drawing now would give. A default init keeps
 * its exact rescale; a µP-aware one (normal, uniform, xavier, ...) is symmetric about 0 or a
 * constant, so its values scale with its standard deviation. */
static void rescale_drawn(mup_param *p, double std_before) {
    double f = p->init.kind == MUP_INIT_DEFAULT ? p->init_rescale
               : std_before > 0.0             ? mup_param_init_std(p) / std_before
                                               : 1.0;
    if (f != 1.0)
        for (long k = 0; k < p->t.size; k++)
            p->t.data[k] = (float)(p->t.data[k] * f);
}

mup_status mup_apply_infshapes(mup_model *M, const mup_infshape_row *rows) {
    if (M->shapes_set)
        return mup_error(MUP_ERR_STATE,
                         "base shapes are already set for this model; setting them again would rescale "
                         "its parameters twice (build a fresh model instead)");
    bool mup = M->parametrization == MUP_PARAMETRIZATION_MUP;
    for (int i = 0; i < M->n_params; i++) {
        mup_param *p = M->params[i];
        p->init_std = mup_param_init_std(p); /* before the shapes: what was drawn, if anything was */
        p->ninf = 0;
        for (int d = 0; d < p->t.ndim; d++) {
            p->base_shape[d] = rows[i].base[d];
            p->width_dim[d] = rows[i].width[d];
            p->ninf += p->width_dim[d];
        }
        mup_status s = check_role(p);
        if (s != MUP_OK)
            return s;
        set_multipliers(p, mup);
        if ((s = check_init(p)) != MUP_OK)
            return s;
    }
    /* biases read their weight's multipliers, so rescales come after every multiplier is set */
    for (int i = 0; i < M->n_params; i++) {
        mup_param *p = M->params[i];
        p->init_rescale = mup ? default_rescale(p) : 1.0;
    }
    M->shapes_set = true;
    bool rescale = M->initialized && !M->rescaled && mup;
    for (int i = 0; i < M->n_params; i++) {
        mup_param *p = M->params[i];
        if (rescale)
            rescale_drawn(p, p->init_std);
        p->init_std = mup_param_init_std(p);
    }
    M->rescaled |= rescale;
    return MUP_OK;
}

static const mup_param *find_matching(const mup_model *M, const mup_model *other, const char *what,
                                      const mup_param *p, mup_status *s) {
    const mup_param *q = mup_model_find_param(other, p->name);
    if (!q) {
        *s = mup_error(MUP_ERR_SHAPE, "parameter %s is not in the %s model", p->name, what);
        return NULL;
    }
    if (q->t.ndim != p->t.ndim) {
        *s = mup_error(MUP_ERR_SHAPE, "parameter %s has %d dimensions but %d in the %s model",
                       p->name, p->t.ndim, q->t.ndim, what);
        return NULL;
    }
    (void)M;
    return q;
}

mup_status mup_set_base_shapes(mup_model *M, const mup_model *base, const mup_model *delta) {
    MUP_ASSERT(M, "mup_set_base_shapes: model is NULL");
    if (!base) {
        if (delta)
            return mup_error(MUP_ERR_INVALID, "mup_set_base_shapes: a delta model needs a base model");
        if (M->shapes_set)
            return mup_apply_infshapes(M, NULL); /* reports the double call */
        M->parametrization = MUP_PARAMETRIZATION_SP;
        base = M;
    }
    const struct { const mup_model *m; const char *what; } others[] = {{base, "base"}, {delta, "delta"}};
    for (int k = 0; k < 2; k++)
        if (others[k].m && others[k].m->n_params != M->n_params)
            return mup_error(MUP_ERR_SHAPE, "the %s model has %d parameters but the model has %d",
                             others[k].what, others[k].m->n_params, M->n_params);
    mup_infshape_row *rows = mup_xcalloc((size_t)M->n_params ? (size_t)M->n_params : 1, sizeof *rows);
    mup_status s = MUP_OK;
    for (int i = 0; i < M->n_params && s == MUP_OK; i++) {
        const mup_param *p = M->params[i];
        const mup_param *b = find_matching(M, base, "base", p, &s);
        const mup_param *d = b && delta ? find_matching(M, delta, "delta", p, &s) : NULL;
        if (s != MUP_OK)
            break;
        /* as the reference: a dimension equal in base and delta is finite (mult 1) even where the
         * target's differs, exactly as a .bsh file's null */
        for (int k = 0; k < p->t.ndim; k++) {
            int bk = b->t.shape[k], other = d ? d->t.shape[k] : p->t.shape[k];
            rows[i].width[k] = bk != other;
            rows[i].base[k] = rows[i].width[k] ? bk : p->t.shape[k];
        }
    }
    if (s == MUP_OK)
        s = mup_apply_infshapes(M, rows);
    free(rows);
    return s;
}

mup_status mup_build_with_base_shapes(mup_model *M, mup_build_fn build, void *ctx, int width, int base_width,
                                      int delta_width) {
    MUP_ASSERT(M && build, "mup_build_with_base_shapes: model or build function is NULL");
    mup_status s = build(M, width, ctx);
    if (s != MUP_OK || base_width == 0)
        return s != MUP_OK ? s : mup_set_base_shapes(M, NULL, NULL);
    mup_model *B = mup_model_new_shapes_only(), *D = delta_width ? mup_model_new_shapes_only() : NULL;
    s = build(B, base_width, ctx);
    if (s == MUP_OK && D)
        s = build(D, delta_width, ctx);
    if (s == MUP_OK)
        s = mup_set_base_shapes(M, B, D);
    mup_model_free(B);
    mup_model_free(D);
    return s;
}

#include <math.h>
#include <string.h>

#include "model_impl.h"
#include "mup/init.h"

void mup_param_fans(const mup_param *p, double *fan_in, double *fan_out) {
    double receptive = 1.0;
    for (int i = 2; i < p->t.ndim; i++)
        receptive *= p->t.shape[i];
    *fan_out = p->t.ndim >= 2 ? p->t.shape[0] * receptive : p->t.shape[0];
    *fan_in = p->t.ndim >= 2 ? p->t.shape[1] * receptive : p->t.shape[0];
}

typedef enum { DIST_CONST, DIST_UNIFORM, DIST_NORMAL, DIST_TRUNC_NORMAL } dist_kind;

/* What to draw: a constant, uniform on [lo, hi], a normal with std, or one cut at ±hi. */
typedef struct {
    dist_kind kind;
    double lo, hi, std;
} dist;

/* torch.nn.init.calculate_gain */
static double gain_of(mup_gain g, double a) {
    switch (g) {
    case MUP_GAIN_LEAKY_RELU:
        return sqrt(2.0 / (1.0 + a * a));
    case MUP_GAIN_RELU:
        return sqrt(2.0);
    case MUP_GAIN_LINEAR:
        return 1.0;
    case MUP_GAIN_TANH:
        return 5.0 / 3.0;
    case MUP_GAIN_SELU:
        return 0.75;
    }
    MUP_ASSERT(false, "unknown kaiming nonlinearity %d", (int)g);
    return 0.0;
}

static double matrix_factor(const mup_param *p) {
    return p->cls == MUP_CLASS_MATRIX ? 1.0 / sqrt(p->width_mult) : 1.0;
}

static dist resolve(const mup_param *p, mup_init_spec s, bool rescale) {
    double scale = s.scale != 0.0f ? s.scale : 1.0;
    double fan_in, fan_out;
    mup_param_fans(p, &fan_in, &fan_out);
    dist d = {DIST_CONST, 0, 0, 0};
    switch (s.kind) {
    case MUP_INIT_DEFAULT: {
        double r = scale * (rescale ? p->init_rescale : 1.0);
        switch (p->kind) {
        case MUP_KIND_WEIGHT:
        case MUP_KIND_READOUT_WEIGHT:
            d = (dist){DIST_UNIFORM, -r / sqrt(fan_in), r / sqrt(fan_in), 0};
            break;
        case MUP_KIND_BIAS:
        case MUP_KIND_READOUT_BIAS:
            if (p->layer_weight) {
                double wi, wo;
                mup_param_fans(p->layer_weight, &wi, &wo);
                d = (dist){DIST_UNIFORM, -r / sqrt(wi), r / sqrt(wi), 0};
            }
            break;
        case MUP_KIND_EMBEDDING:
            d = (dist){DIST_NORMAL, 0, 0, r};
            break;
        case MUP_KIND_GAIN:
            d = (dist){DIST_CONST, 1, 1, 0};
            break;
        case MUP_KIND_SHIFT:
            break;
        }
        break;
    }
    case MUP_INIT_ZEROS:
        break;
    case MUP_INIT_ONES:
        d = (dist){DIST_CONST, 1, 1, 0};
        break;
    case MUP_INIT_NORMAL:
        d = (dist){DIST_NORMAL, 0, 0, scale * s.a * matrix_factor(p)};
        break;
    case MUP_INIT_TRUNC_NORMAL: {
        double f = scale * matrix_factor(p), cut = s.b != 0.0f ? fabs(s.b) : 2.0;
        d = (dist){DIST_TRUNC_NORMAL, -cut * f, cut * f, s.a * f};
        break;
    }
    case MUP_INIT_UNIFORM:
        MUP_ASSERT(p->cls != MUP_CLASS_MATRIX || s.a == -s.b,
                   "%s: a uniform init on [%g, %g] of a matrix-like parameter must have a = -b", p->name, s.a, s.b);
        d = (dist){DIST_UNIFORM, scale * s.a * matrix_factor(p), scale * s.b * matrix_factor(p), 0};
        break;
    case MUP_INIT_XAVIER_UNIFORM:
    case MUP_INIT_XAVIER_NORMAL: {
        double base_in = fan_in / p->fanin_mult, base_out = fan_out / p->fanout_mult;
        double std = scale * (s.a != 0.0f ? s.a : 1.0) * sqrt(2.0 / (base_in + base_out));
        if (p->cls == MUP_CLASS_MATRIX)
            std /= sqrt(p->fanin_mult);
        d = s.kind == MUP_INIT_XAVIER_NORMAL ? (dist){DIST_NORMAL, 0, 0, std}
                                             : (dist){DIST_UNIFORM, -sqrt(3.0) * std, sqrt(3.0) * std, 0};
        break;
    }
    case MUP_INIT_KAIMING_UNIFORM:
    case MUP_INIT_KAIMING_NORMAL: {
        double gain = gain_of(s.nonlinearity, s.a);
        double std = scale * gain / sqrt(s.fan_out ? fan_out : fan_in);
        if (p->cls == MUP_CLASS_VECTOR) {
            if (s.fan_out ? p->width_dim[0] : (p->t.ndim >= 2 && p->width_dim[1]))
                std *= sqrt(s.fan_out ? p->fanout_mult : p->fanin_mult);
        } else if (p->cls == MUP_CLASS_MATRIX && s.fan_out) {
            std *= sqrt(p->fanout_mult / p->fanin_mult);
        }
        d = s.kind == MUP_INIT_KAIMING_NORMAL ? (dist){DIST_NORMAL, 0, 0, std}
                                              : (dist){DIST_UNIFORM, -sqrt(3.0) * std, sqrt(3.0) * std, 0};
        break;
    }
    }
    return d;
}

/* A standard normal cut at ±k. Rejection from the normal accepts at least 68% of draws for k >= 1;
 * narrower cuts propose uniformly on [-k, k] and accept with the normal's density (at least 60%). */
static double trunc_normal(mup_rng *r, double k) {
    if (k >= 1.0)
        return mup_rng_trunc_normal(r, -k, k);
    for (;;) {
        double z = k * (2.0 * mup_rng_uniform(r) - 1.0);
        if (mup_rng_uniform(r) < exp(-0.5 * z * z))
            return z;
    }
}

/* Standard deviation of a normal with std cut at ±cut. */
static double trunc_normal_std(double std, double cut) {
    if (!(std > 0.0))
        return 0.0;
    double k = cut / std, mass = erf(k / sqrt(2.0)), density = exp(-0.5 * k * k) / sqrt(2.0 * M_PI);
    return std * sqrt(1.0 - 2.0 * k * density / mass);
}

static void draw(float *x, long n, dist d, mup_rng *r) {
    switch (d.kind) {
    case DIST_CONST:
        for (long i = 0; i < n; i++)
            x[i] = (float)d.lo;
        break;
    case DIST_UNIFORM:
        mup_rng_fill_uniform(r, x, n, (float)d.lo, (float)d.hi);
        break;
    case DIST_NORMAL:
        mup_rng_fill_normal(r, x, n, 0.0f, (float)d.std);
        break;
    case DIST_TRUNC_NORMAL:
        for (long i = 0; i < n; i++)
            x[i] = (float)(d.std * trunc_normal(r, d.hi / d.std));
        break;
    }
}

static void draw_param(mup_param *p, mup_init_spec spec, mup_rng *r, bool rescale) {
    draw(p->t.data, p->t.size, resolve(p, spec, rescale), r);
    long row = p->t.size / p->t.shape[0];
    MUP_ASSERT(spec.zero_rows >= 0 && spec.zero_rows <= p->t.shape[0],
               "%s: zero_rows %d outside 0..%d", p->name, spec.zero_rows, p->t.shape[0]);
    memset(p->t.data, 0, (size_t)(spec.zero_rows * row) * sizeof(float));
}

void mup_param_draw(mup_param *p, mup_rng *r, bool rescale) { draw_param(p, p->init, r, rescale); }

double mup_param_init_std(const mup_param *p) {
    dist d = resolve(p, p->init, true);
    switch (d.kind) {
    case DIST_CONST:
        return 0.0;
    case DIST_UNIFORM:
        return (d.hi - d.lo) / sqrt(12.0);
    case DIST_NORMAL:
        return d.std;
    case DIST_TRUNC_NORMAL:
        return trunc_normal_std(d.std, d.hi);
    }
    return 0.0;
}

void mup_param_set_init(mup_param *p, mup_init_spec spec) {
    p->init = spec;
    p->init_std = mup_param_init_std(p);
}

void mup_param_init_now(mup_param *p, mup_init_spec spec, mup_rng *r) {
    MUP_ASSERT(p->t.data, "mup_param_init_now(%s): the model has no memory yet", p->name);
    p->init = spec;
    draw_param(p, spec, r, true);
    p->init_std = mup_param_init_std(p);
}

/* The verdict of a coordinate check: per layer and step, how l1 scales with width, and whether the
 * noise the runs show lets us tell (the rule is in coord.h and docs/coord-check.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/coord.h"

/* How far below 0 the slope of the readout's output and attention logits may go at t = 1:
 * 1/sqrt(width). */
#define INIT_SHRINK_SLOPE 0.5

/* ---- Student's t distribution ---- */

/* The continued fraction of the regularized incomplete beta function I_x(a, b), by the modified Lentz
 * method; converges fast for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    d = 1.0 / (fabs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
        for (int odd = 0; odd < 2; odd++) {
            double num = odd ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                             : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1.0 + num * d;
            d = 1.0 / (fabs(d) < tiny ? tiny : d);
            c = 1.0 + num / c;
            c = fabs(c) < tiny ? tiny : c;
            h *= c * d;
            if (odd && fabs(c * d - 1.0) < 1e-15)
                return h;
        }
    }
    return h;
}

static double incomplete_beta(double a, double b, double x) {
    if (x <= 0.0 || x >= 1.0)
        return x <= 0.0 ? 0.0 : 1.0;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_fraction(a, b, x) / a;
    return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

/* P(T > t) for t >= 0 and dof degrees of freedom. */
static double t_upper_tail(double t, int dof) {
    return 0.5 * incomplete_beta(0.5 * dof, 0.5, dof / (dof + t * t));
}

/* The t with P(T > t) = tail, for tail in (0, 0.5], by bisection (the tail falls monotonically). */
static double t_quantile(double tail, int dof) {
    double lo = 0.0, hi = 1.0;
    while (t_upper_tail(hi, dof) > tail)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (t_upper_tail(mid, dof) > tail)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* ---- the fit ---- */

/* The common slope of log l1 against log width with one intercept per seed, and its standard error
 * from the residuals (r->dof degrees of freedom). logw holds log(width), centred; sxx its sum of
 * squares. */
static void fit(const mup_coord_result *r, int t, int l, const double *logw, double sxx, double *slope, double *se) {
    double sum = 0.0, rss = 0.0;
    for (int s = 0; s < r->n_seeds; s++) {
        double mean = 0.0, b = 0.0;
        for (int w = 0; w < r->n_widths; w++)
            mean += log(mup_coord_stat_at(r, w, s, t, l)->l1) / r->n_widths; /* -inf at 0, NaN stays NaN */
        for (int w = 0; w < r->n_widths; w++)
            b += logw[w] * (log(mup_coord_stat_at(r, w, s, t, l)->l1) - mean) / sxx;
        for (int w = 0; w < r->n_widths; w++) {
            double e = log(mup_coord_stat_at(r, w, s, t, l)->l1) - mean - b * logw[w];
            rss += e * e;
        }
        sum += b;
    }
    *slope = isfinite(sum) ? sum / r->n_seeds : NAN;
    if (isnan(*slope))
        *se = NAN;
    else
        *se = r->dof > 0 ? sqrt(rss / r->dof / (r->n_seeds * sxx)) : INFINITY;
}

/* FAIL needs the slope outside the band by more than k_fail se (Bonferroni over the layer-steps, so
 * that a right model rarely fails anywhere); PASS needs the one-sided interval inside the band, so that
 * a noisy run cannot pass by luck; the rest cannot be told. */
static mup_coord_status decide(const mup_coord_result *r, const mup_coord_verdict *v) {
    if (isnan(v->slope))
        return MUP_COORD_FAIL;
    if (r->dof == 0)
        return MUP_COORD_INCONCLUSIVE;
    if (v->slope - r->k_fail * v->se > v->hi || v->slope + r->k_fail * v->se < v->lo)
        return MUP_COORD_FAIL;
    if (v->slope - r->k_pass * v->se >= v->lo && v->slope + r->k_pass * v->se <= v->hi)
        return MUP_COORD_PASS;
    return MUP_COORD_INCONCLUSIVE;
}

static mup_coord_verdict judge_one(const mup_coord_result *r, int t, int l, double tol, const double *logw,
                                   double sxx) {
    mup_coord_verdict v = {.lo = -tol, .hi = tol};
    if (t == 0 && r->layers[l].init_shrink)
        v.lo = -INIT_SHRINK_SLOPE - tol;
    bool all_zero = true, finite = true;
    for (int w = 0; w < r->n_widths; w++)
        for (int s = 0; s < r->n_seeds; s++) {
            double l1 = mup_coord_stat_at(r, w, s, t, l)->l1;
            all_zero &= l1 == 0.0;
            finite &= isfinite(l1);
        }
    if (all_zero && finite) {
        v.zero = true;
        v.ratio = 1.0;
        v.status = MUP_COORD_PASS;
        return v;
    }
    fit(r, t, l, logw, sxx, &v.slope, &v.se);
    v.ratio = pow(4.0, v.slope);
    v.status = decide(r, &v);
    return v;
}

void mup_coord_judge(mup_coord_result *r, double factor, double alpha) {
    MUP_ASSERT(factor == 0.0 || factor > 1.0, "mup_coord_judge: factor %g, need 0 (the default) or above 1", factor);
    MUP_ASSERT(alpha == 0.0 || (alpha > 0.0 && alpha < 0.5), "mup_coord_judge: alpha %g, need 0 (the default) or in "
               "(0, 0.5)", alpha);
    r->factor = factor > 0.0 ? factor : MUP_COORD_DEFAULT_FACTOR;
    r->alpha = alpha > 0.0 ? alpha : MUP_COORD_DEFAULT_ALPHA;
    int m = r->steps * r->n_layers;
    r->dof = r->n_seeds * (r->n_widths - 1) - 1;
    r->k_pass = r->dof > 0 ? t_quantile(r->alpha, r->dof) : NAN;
    r->k_fail = r->dof > 0 ? t_quantile(r->alpha / m, r->dof) : NAN;
    double tol = log(r->factor) / log(4.0);
    free(r->verdict);
    r->verdict = mup_xcalloc((size_t)m + 1, sizeof *r->verdict);
    double *logw = mup_xcalloc((size_t)r->n_widths, sizeof *logw), mean = 0.0, sxx = 0.0;
    for (int w = 0; w < r->n_widths; w++)
        mean += log((double)r->widths[w]) / r->n_widths;
    for (int w = 0; w < r->n_widths; w++) {
        logw[w] = log((double)r->widths[w]) - mean;
        sxx += logw[w] * logw[w];
    }
    r->n_failed = r->n_inconclusive = 0;
    for (int t = 0; t < r->steps; t++)
        for (int l = 0; l < r->n_layers; l++) {
            mup_coord_verdict *v = &r->verdict[(size_t)t * r->n_layers + l];
            *v = judge_one(r, t, l, tol, logw, sxx);
            r->n_failed += v->status == MUP_COORD_FAIL;
            r->n_inconclusive += v->status == MUP_COORD_INCONCLUSIVE;
        }
    free(logw);
    r->status = r->n_failed ? MUP_COORD_FAIL : r->n_inconclusive ? MUP_COORD_INCONCLUSIVE : MUP_COORD_PASS;
}

const mup_coord_verdict *mup_coord_verdict_at(const mup_coord_result *r, int t, int l) {
    MUP_ASSERT(r->verdict && t >= 0 && t < r->steps && l >= 0 && l < r->n_layers,
               "coord: verdict (step %d, layer %d) outside (%d steps, %d layers) or not judged", t, l, r->steps,
               r->n_layers);
    return &r->verdict[(size_t)t * r->n_layers + l];
}

const char *mup_coord_status_name(mup_coord_status s) {
    static const char *const names[] = {"PASS", "FAIL", "INCONCLUSIVE"};
    MUP_ASSERT((unsigned)s < 3, "mup_coord_status_name: no status %d", (int)s);
    return names[s];
}

/* The layers with some step of the given status, comma-separated after label. */
static void list_layers(const mup_coord_result *r, mup_coord_status status, const char *label, FILE *f) {
    int shown = 0;
    for (int l = 0; l < r->n_layers; l++) {
        bool any = false;
        for (int t = 0; t < r->steps; t++)
            any |= mup_coord_verdict_at(r, t, l)->status == status;
        if (any)
            fprintf(f, "%s %s", shown++ ? "," : label, r->layers[l].name);
    }
}

void mup_coord_print_verdict(const mup_coord_result *r, FILE *f) {
    int wname = 5;
    for (int l = 0; l < r->n_layers; l++) {
        int n = (int)strlen(r->layers[l].name);
        wname = n > wname ? n : wname;
    }
    const char *p = r->parametrization == MUP_PARAMETRIZATION_MUP ? "µP" : "SP";
    fprintf(f, "%s  %-*s %4s %9s %9s %7s  %s\n", p, wname, "layer", "step", "slope", "x per 4x", "se", "verdict");
    for (int l = 0; l < r->n_layers; l++)
        for (int t = 0; t < r->steps; t++) {
            const mup_coord_verdict *v = mup_coord_verdict_at(r, t, l);
            const char *why = v->zero ? " (zero)" : isnan(v->slope) ? " (l1 zero or not finite)"
                            : t == 0 && r->layers[l].init_shrink ? " (may shrink at init)" : "";
            fprintf(f, "%s  %-*s %4d %9.3f %9.3f %7.3f  %s%s\n", p, wname, r->layers[l].name, t + 1, v->slope, v->ratio,
                    v->se, mup_coord_status_name(v->status), why);
        }
    int total = r->steps * r->n_layers, lo = r->widths[0], hi = r->widths[0];
    for (int w = 1; w < r->n_widths; w++) {
        lo = r->widths[w] < lo ? r->widths[w] : lo;
        hi = r->widths[w] > hi ? r->widths[w] : hi;
    }
    const char *axis = r->axis[0] ? r->axis : "width";
    fprintf(f, "%s: %s, %d of %d layer-steps within %gx per 4x of %s, %d inconclusive, %d failing (%ss %d..%d, "
               "%d seed%s, %d degrees of freedom)", p, mup_coord_status_name(r->status),
            total - r->n_failed - r->n_inconclusive, total, r->factor, axis, r->n_inconclusive, r->n_failed, axis,
            lo, hi,
            r->n_seeds, r->n_seeds == 1 ? "" : "s", r->dof);
    list_layers(r, MUP_COORD_FAIL, "; failing:", f);
    list_layers(r, MUP_COORD_INCONCLUSIVE, "; inconclusive:", f);
    if (r->status == MUP_COORD_INCONCLUSIVE)
        fprintf(f, "; more seeds or a wider span of %ss can decide", axis);
    fprintf(f, "\n");
}

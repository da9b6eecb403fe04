/* The verdict of a coordinate check: per layer and step, how l1 scales with width. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/coord.h"

/* How far below 0 the slope of the readout's output and attention logits may go at t = 1:
 * 1/sqrt(width). */
#define INIT_SHRINK_SLOPE 0.5

/* Least-squares slope of y against x over n points. */
static double ls_slope(const double *x, const double *y, int n) {
    double mx = 0.0, my = 0.0, sxy = 0.0, sxx = 0.0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxy / sxx;
}

static mup_coord_verdict judge_one(const mup_coord_result *r, int t, int l, double tol, double *logw, double *logl1) {
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
        v.zero = v.pass = true;
        v.slope = 0.0;
        v.ratio = 1.0;
        return v;
    }
    double sum = 0.0;
    for (int s = 0; s < r->n_seeds; s++) {
        for (int w = 0; w < r->n_widths; w++) {
            logw[w] = log((double)r->widths[w]);
            logl1[w] = log(mup_coord_stat_at(r, w, s, t, l)->l1); /* -inf at 0, NaN stays NaN */
        }
        sum += ls_slope(logw, logl1, r->n_widths);
    }
    v.slope = isfinite(sum) ? sum / r->n_seeds : NAN;
    v.ratio = pow(4.0, v.slope);
    v.pass = v.slope >= v.lo && v.slope <= v.hi; /* false for NaN */
    return v;
}

void mup_coord_judge(mup_coord_result *r, double factor) {
    MUP_ASSERT(factor == 0.0 || factor > 1.0, "mup_coord_judge: factor %g, need 0 (the default) or above 1", factor);
    r->factor = factor > 0.0 ? factor : MUP_COORD_DEFAULT_FACTOR;
    double tol = log(r->factor) / log(4.0);
    free(r->verdict);
    r->verdict = mup_xcalloc((size_t)r->steps * r->n_layers + 1, sizeof *r->verdict);
    double *logw = mup_xcalloc((size_t)r->n_widths * 2, sizeof *logw);
    r->n_failed = 0;
    for (int t = 0; t < r->steps; t++)
        for (int l = 0; l < r->n_layers; l++) {
            mup_coord_verdict *v = &r->verdict[(size_t)t * r->n_layers + l];
            *v = judge_one(r, t, l, tol, logw, logw + r->n_widths);
            r->n_failed += !v->pass;
        }
    free(logw);
    r->pass = r->n_failed == 0;
}

const mup_coord_verdict *mup_coord_verdict_at(const mup_coord_result *r, int t, int l) {
    MUP_ASSERT(r->verdict && t >= 0 && t < r->steps && l >= 0 && l < r->n_layers,
               "coord: verdict (step %d, layer %d) outside (%d steps, %d layers) or not judged", t, l, r->steps,
               r->n_layers);
    return &r->verdict[(size_t)t * r->n_layers + l];
}

void mup_coord_print_verdict(const mup_coord_result *r, FILE *f) {
    int wname = 5;
    for (int l = 0; l < r->n_layers; l++) {
        int n = (int)strlen(r->layers[l].name);
        wname = n > wname ? n : wname;
    }
    const char *p = r->parametrization == MUP_PARAMETRIZATION_MUP ? "µP" : "SP";
    fprintf(f, "%s  %-*s %4s %9s %9s  %s\n", p, wname, "layer", "step", "slope", "x per 4x", "verdict");
    for (int l = 0; l < r->n_layers; l++)
        for (int t = 0; t < r->steps; t++) {
            const mup_coord_verdict *v = mup_coord_verdict_at(r, t, l);
            const char *why = v->zero ? " (zero)" : !v->pass && isnan(v->slope) ? " (l1 zero or not finite)"
                            : t == 0 && r->layers[l].init_shrink ? " (may shrink at init)" : "";
            fprintf(f, "%s  %-*s %4d %9.3f %9.3f  %s%s\n", p, wname, r->layers[l].name, t + 1, v->slope, v->ratio,
                    v->pass ? "PASS" : "FAIL", why);
        }
    int total = r->steps * r->n_layers, lo = r->widths[0], hi = r->widths[0];
    for (int w = 1; w < r->n_widths; w++) {
        lo = r->widths[w] < lo ? r->widths[w] : lo;
        hi = r->widths[w] > hi ? r->widths[w] : hi;
    }
    fprintf(f, "%s: %s, %d of %d layer-steps within %gx per 4x of width (widths %d..%d, %d seed%s)", p,
            r->pass ? "PASS" : "FAIL", total - r->n_failed, total, r->factor, lo, hi, r->n_seeds,
            r->n_seeds == 1 ? "" : "s");
    if (!r->pass) {
        fprintf(f, "; failing:");
        int shown = 0;
        for (int l = 0; l < r->n_layers; l++) {
            bool bad = false;
            for (int t = 0; t < r->steps; t++)
                bad |= !mup_coord_verdict_at(r, t, l)->pass;
            if (bad)
                fprintf(f, "%s %s", shown++ ? "," : "", r->layers[l].name);
        }
    }
    fprintf(f, "\n");
}

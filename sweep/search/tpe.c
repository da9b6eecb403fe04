#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A Parzen estimator of one key: components (the values and the prior) of equal weight, or a choice's
 * probabilities. */
typedef struct {
    int m;                /* components; for a choice, the number of values */
    double lo, hi;        /* the range the Gaussians are truncated to */
    double *mu, *sigma;   /* m each */
    double *log_mass;     /* log of each component's weight over its mass inside [lo, hi]; a choice: log p */
} parzen;

static double normal_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void range_of(const mup_tpe_dim *d, double *lo, double *hi) {
    *lo = d->integer ? d->low - 0.5 : d->low;
    *hi = d->integer ? d->high + 0.5 : d->high;
}

/* Room for n values and the prior. */
static mup_status parzen_alloc(parzen *p, int n) {
    size_t m = (size_t)n + 1;
    p->mu = calloc(3 * m, sizeof *p->mu);
    if (!p->mu)
        return mup_error(MUP_ERR_NOMEM, "tpe: no memory for a Parzen estimator of %d values", n);
    p->sigma = p->mu + m;
    p->log_mass = p->sigma + m;
    return MUP_OK;
}

static void parzen_free(parzen *p) { free(p->mu); }

/* Builds p (allocated for at least n values) from the n values. */
static void parzen_build(parzen *p, const mup_tpe_dim *d, const double *values, int n) {
    if (d->n_choices > 0) {
        p->m = d->n_choices;
        for (int k = 0; k < p->m; k++)
            p->mu[k] = 1.0;
        for (int i = 0; i < n; i++)
            p->mu[(int)values[i]] += 1.0;
        for (int k = 0; k < p->m; k++)
            p->log_mass[k] = log(p->mu[k] / (n + p->m));
        return;
    }
    range_of(d, &p->lo, &p->hi);
    double width = p->hi - p->lo, middle = 0.5 * (p->lo + p->hi);
    p->m = n + 1;
    memcpy(p->mu, values, (size_t)n * sizeof *values);
    p->mu[n] = middle;
    qsort(p->mu, (size_t)p->m, sizeof *p->mu, compare_doubles);
    double min_sigma = width / fmin(100.0, 1.0 + p->m);
    bool prior_seen = false;
    for (int i = 0; i < p->m; i++) {
        double left = i > 0 ? p->mu[i] - p->mu[i - 1] : 0.0, right = i < p->m - 1 ? p->mu[i + 1] - p->mu[i] : 0.0;
        double s = p->m == 1 ? width : fmax(left, right);
        /* the first component at the middle is the prior (a value there gets the same density anyway) */
        if (!prior_seen && p->mu[i] == middle) {
            prior_seen = true;
            s = width;
        }
        p->sigma[i] = fmin(fmax(s, min_sigma), width);
        double mass = normal_cdf((p->hi - p->mu[i]) / p->sigma[i]) - normal_cdf((p->lo - p->mu[i]) / p->sigma[i]);
        p->log_mass[i] = -log((double)p->m) - log(mass);
    }
}

static double component_log_density(const parzen *p, int i, double v) {
    double z = (v - p->mu[i]) / p->sigma[i];
    return p->log_mass[i] - 0.5 * z * z - log(p->sigma[i] * sqrt(2.0 * M_PI));
}

static double parzen_log_density(const parzen *p, const mup_tpe_dim *d, double v) {
    if (d->n_choices > 0)
        return p->log_mass[(int)v];
    double top = -INFINITY, sum = 0.0;
    for (int i = 0; i < p->m; i++)
        top = fmax(top, component_log_density(p, i, v));
    for (int i = 0; i < p->m; i++)
        sum += exp(component_log_density(p, i, v) - top);
    return top + log(sum);
}

static double parzen_draw(const parzen *p, const mup_tpe_dim *d, mup_rng *r) {
    if (d->n_choices > 0) {
        double u = mup_rng_uniform(r), acc = 0.0;
        for (int k = 0; k < p->m - 1; k++) {
            acc += exp(p->log_mass[k]);
            if (u < acc)
                return k;
        }
        return p->m - 1;
    }
    int i = (int)mup_rng_below(r, (uint32_t)p->m);
    double s = p->sigma[i];
    double v = p->mu[i] + s * mup_rng_trunc_normal(r, (p->lo - p->mu[i]) / s, (p->hi - p->mu[i]) / s);
    if (d->integer)
        v = fmin(fmax(round(v), d->low), d->high);
    return fmin(fmax(v, d->low), d->high);
}

int mup_tpe_n_good(double gamma, int n, int n_finite) {
    int good = (int)ceil(gamma * n);
    good = good < MUP_TPE_GOOD_MAX ? good : MUP_TPE_GOOD_MAX;
    return good < n_finite ? good : n_finite;
}

mup_status mup_tpe_log_density(const mup_tpe_dim *d, const double *values, int n, double v, double *out) {
    parzen p = {0};
    mup_status s = parzen_alloc(&p, n > d->n_choices ? n : d->n_choices);
    if (s)
        return s;
    parzen_build(&p, d, values, n);
    *out = parzen_log_density(&p, d, v);
    parzen_free(&p);
    return MUP_OK;
}

/* Trial order for the split: by objective, non-finite ones last, ties by trial order. */
typedef struct {
    double y;
    int i;
} ranked;

static int compare_ranked(const void *a, const void *b) {
    const ranked *p = a, *q = b;
    bool fp = isfinite(p->y), fq = isfinite(q->y);
    if (fp != fq)
        return fp ? -1 : 1;
    if (fp && p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

mup_status mup_tpe_suggest(const mup_tpe_dim *dims, int n_dims, const double *x, const double *y, int n,
                           const mup_tpe_opts *o, mup_rng *r, double *out) {
    int widest = n;
    for (int k = 0; k < n_dims; k++)
        widest = dims[k].n_choices > widest ? dims[k].n_choices : widest;
    ranked *order = malloc(((size_t)n + 1) * sizeof *order);
    double *good = malloc(((size_t)n + 1) * sizeof *good), *bad = malloc(((size_t)n + 1) * sizeof *bad);
    parzen l = {0}, g = {0};
    mup_status s = order && good && bad ? MUP_OK : mup_error(MUP_ERR_NOMEM, "tpe: no memory for %d trials", n);
    if (!s)
        s = parzen_alloc(&l, widest);
    if (!s)
        s = parzen_alloc(&g, widest);
    if (s)
        goto done;
    int finite = 0;
    for (int i = 0; i < n; i++) {
        order[i] = (ranked){y[i], i};
        finite += isfinite(y[i]) != 0;
    }
    qsort(order, (size_t)n, sizeof *order, compare_ranked);
    int n_good = mup_tpe_n_good(o->gamma, n, finite);
    for (int k = 0; k < n_dims; k++) {
        const mup_tpe_dim *d = &dims[k];
        for (int i = 0; i < n; i++) {
            double v = x[(size_t)order[i].i * n_dims + k];
            if (i < n_good)
                good[i] = v;
            else
                bad[i - n_good] = v;
        }
        parzen_build(&l, d, good, n_good);
        parzen_build(&g, d, bad, n - n_good);
        double best = -INFINITY;
        for (int c = 0; c < o->n_candidates; c++) {
            double v = parzen_draw(&l, d, r);
            double score = parzen_log_density(&l, d, v) - parzen_log_density(&g, d, v);
            if (c == 0 || score > best) {
                best = score;
                out[k] = v;
            }
        }
    }
done:
    parzen_free(&l);
    parzen_free(&g);
    free(order);
    free(good);
    free(bad);
    return s;
}

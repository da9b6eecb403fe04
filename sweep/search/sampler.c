#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "distribution.h"
#include "sobol.h"
#include "tpe.h"
#include "mup/rng.h"

double mup_search_dim_value(const mup_search_dim *d, double u) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    if (!i->ranged) {
        int k = (int)(u * d->n_values);
        return d->values[k < d->n_values ? k : d->n_values - 1];
    }
    if (i->integer) { /* each integer an equal share of [0, 1) */
        double n = d->high - d->low + 1;
        return d->low + fmin(floor(u * n), n - 1);
    }
    double lo = mup_search_dim_scale_low(d), hi = mup_search_dim_scale_high(d);
    return mup_search_dim_from_scale(d, lo + u * (hi - lo));
}

int mup_search_dim_points(const mup_search_dim *d) { return mup_distribution(d->dist)->ranged ? d->grid : d->n_values; }

double mup_search_dim_point(const mup_search_dim *d, int k) {
    int n = mup_search_dim_points(d);
    MUP_ASSERT(k >= 0 && k < n, "grid point %d of %s.%s, which has %d", k, d->key->section, d->key->name, n);
    if (!mup_distribution(d->dist)->ranged)
        return d->values[k];
    /* the ends exactly as given, whatever the scale's round trip does to them */
    if (k == 0)
        return mup_search_dim_value_low(d);
    if (k == n - 1)
        return mup_search_dim_value_high(d);
    double lo = mup_search_dim_scale_low(d), hi = mup_search_dim_scale_high(d);
    return mup_search_dim_from_scale(d, lo + (double)k / (n - 1) * (hi - lo));
}

int mup_plan_size(const mup_sweep_config *c) { return c->search.trials; }

int mup_plan_fixed(const mup_sweep_config *c) {
    if (c->search.sampler != MUP_SAMPLER_TPE || c->search.tpe.n_startup >= c->search.trials)
        return c->search.trials;
    return c->search.tpe.n_startup;
}

bool mup_search_dim_holds(const mup_search_dim *d, double v) {
    if (!isfinite(v))
        return false;
    const mup_distribution_info *i = mup_distribution(d->dist);
    if (!i->ranged) {
        for (int k = 0; k < d->n_values; k++)
            if (d->values[k] == v)
                return true;
        return false;
    }
    return v >= mup_search_dim_value_low(d) && v <= mup_search_dim_value_high(d) && (!i->integer || v == floor(v));
}

/* A dimension as TPE sees it: its range in its own scale, or a choice's number of values. */
static mup_tpe_dim tpe_dim(const mup_search_dim *d) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    if (!i->ranged)
        return (mup_tpe_dim){.n_choices = d->n_values};
    return (mup_tpe_dim){.low = mup_search_dim_scale_low(d), .high = mup_search_dim_scale_high(d),
                         .integer = i->integer};
}

/* A value in the dimension's own scale (a choice: the index of the nearest value), and back. */
static double to_tpe(const mup_search_dim *d, double v) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    if (i->ranged)
        return i->to_scale(v);
    int best = 0;
    for (int k = 1; k < d->n_values; k++)
        if (fabs(d->values[k] - v) < fabs(d->values[best] - v))
            best = k;
    return best;
}

static double from_tpe(const mup_search_dim *d, double x) {
    return mup_distribution(d->dist)->ranged ? mup_search_dim_from_scale(d, x) : d->values[(int)x];
}

/* TPE's draws come from streams of their own, apart from the random draws of the same seed. */
#define TPE_STREAMS 0x7be0000000000000ULL

mup_status mup_plan_draw(const mup_sweep_config *c, int trial, const double *values, const double *objective, int n,
                         double *out) {
    int K = c->search.n_dims;
    MUP_ASSERT(c->search.sampler == MUP_SAMPLER_TPE && trial >= mup_plan_fixed(c) && trial < c->search.trials,
               "trial %d is not one the %s sampler draws", trial, mup_sampler_name(c->search.sampler));
    mup_tpe_dim *dims = mup_tool_xcalloc((size_t)K + 1, sizeof *dims);
    double *x = mup_tool_xcalloc((size_t)n * K + 1, sizeof *x), *drawn = mup_tool_xcalloc((size_t)K + 1, sizeof *drawn);
    for (int d = 0; d < K; d++) {
        dims[d] = tpe_dim(&c->search.dims[d]);
        for (int i = 0; i < n; i++)
            x[(size_t)i * K + d] = to_tpe(&c->search.dims[d], values[(size_t)i * K + d]);
    }
    mup_rng r = mup_rng_stream((uint64_t)c->search.seed, TPE_STREAMS + (uint64_t)trial);
    mup_tpe_opts o = {.gamma = c->search.tpe.gamma, .n_candidates = c->search.tpe.n_candidates};
    mup_status s = mup_tpe_suggest(dims, K, x, objective, n, &o, &r, drawn);
    for (int d = 0; d < K && !s; d++)
        out[d] = from_tpe(&c->search.dims[d], drawn[d]);
    free(dims);
    free(x);
    free(drawn);
    return s;
}

void mup_plan_values(const mup_sweep_config *c, int trial, double *values) {
    MUP_ASSERT(trial >= 0 && trial < mup_plan_fixed(c), "trial %d of a plan of %d whose first %d the config fixes",
               trial, c->search.trials, mup_plan_fixed(c));
    const mup_search_dim *dims = c->search.dims;
    int n = c->search.n_dims;
    switch (c->search.sampler) {
    case MUP_SAMPLER_RANDOM:
    case MUP_SAMPLER_TPE: {
        mup_rng r = mup_rng_stream((uint64_t)c->search.seed, (uint64_t)trial);
        for (int d = 0; d < n; d++)
            values[d] = mup_search_dim_value(&dims[d], mup_rng_uniform(&r));
        return;
    }
    case MUP_SAMPLER_SOBOL: {
        mup_rng r = mup_rng_new((uint64_t)c->search.seed);
        for (int d = 0; d < n; d++) {
            uint32_t scramble = (uint32_t)(mup_rng_u64(&r) >> 32);
            values[d] = mup_search_dim_value(&dims[d], mup_sobol_point((uint32_t)trial, d, scramble));
        }
        return;
    }
    case MUP_SAMPLER_GRID: {
        int rest = trial;
        for (int d = n - 1; d >= 0; d--) {
            int points = mup_search_dim_points(&dims[d]);
            values[d] = mup_search_dim_point(&dims[d], rest % points);
            rest /= points;
        }
        return;
    }
    }
}

mup_status mup_plan_spec(const mup_sweep_config *c, const double *values, mup_run_spec *out) {
    *out = c->base;
    mup_status s = MUP_OK;
    for (int d = 0; d < c->search.n_dims && !s; d++)
        s = mup_run_spec_set(out, c->search.dims[d].key, values[d]);
    return s;
}

mup_status mup_plan_apply(const mup_sweep_config *c, int trial, mup_run_spec *out) {
    double *values = mup_tool_xmalloc((size_t)c->search.n_dims * sizeof *values);
    mup_plan_values(c, trial, values);
    mup_status s = mup_plan_spec(c, values, out);
    free(values);
    return s;
}

void mup_plan_format(const mup_sweep_config *c, const double *values, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < c->search.n_dims && used < n; d++) {
        const mup_key *k = c->search.dims[d].key;
        char v[64], name[128];
        mup_key_format(k, values[d], v, sizeof v);
        used += (size_t)snprintf(buf + used, n - used, "%s%s=%s", d ? " " : "",
                                 mup_key_path(name, sizeof name, k->section, k->name), v);
    }
}

void mup_plan_print(const mup_sweep_config *c, FILE *f) {
    int trials = mup_plan_size(c);
    fprintf(f, "# %s: %s sampler, %d trials x %d seed%s at proxy width%s", c->name, mup_sampler_name(c->search.sampler),
            trials, c->search.seeds, c->search.seeds == 1 ? "" : "s", c->n_proxy_widths == 1 ? "" : "s");
    for (int i = 0; i < c->n_proxy_widths; i++)
        fprintf(f, "%s%d", i ? ", " : " ", c->proxy_widths[i]);
    for (int i = 0; i < c->n_proxy_depths; i++)
        fprintf(f, "%s%d", i ? ", " : " and depth(s) ", c->proxy_depths[i]);
    fprintf(f, " (%ld proxy runs)", (long)trials * c->search.seeds * mup_proxy_count(c));
    char label[MUP_PROXY_LABEL_MAX];
    if (c->has_target)
        fprintf(f, "; target width %s x %d seed%s", mup_target_label(c, label, sizeof label), c->target.seeds,
                c->target.seeds == 1 ? "" : "s");
    fprintf(f, "; objective %s; config %s\n", mup_sweep_objective(c), c->fingerprint);
    int digits = snprintf(NULL, 0, "%d", trials - 1);
    double *values = mup_tool_xmalloc((size_t)c->search.n_dims * sizeof *values);
    char line[4096];
    for (int t = 0; t < mup_plan_fixed(c); t++) {
        mup_plan_values(c, t, values);
        mup_plan_format(c, values, line, sizeof line);
        fprintf(f, "%*d  %s\n", digits, t, line);
    }
    if (mup_plan_fixed(c) < trials)
        fprintf(f, "%*d  ... %d: drawn by TPE as the sweep goes, each from the trials finished before it\n", digits,
                mup_plan_fixed(c), trials - 1);
    free(values);
}

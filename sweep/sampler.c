#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/rng.h"
#include "sobol.h"

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

double mup_search_dim_value(const mup_search_dim *d, double u) {
    switch (d->dist) {
    case MUP_DIST_UNIFORM: return clamp(d->low + u * (d->high - d->low), d->low, d->high);
    case MUP_DIST_LOGUNIFORM: {
        double lo = log(d->low), hi = log(d->high);
        return clamp(exp(lo + u * (hi - lo)), d->low, d->high);
    }
    case MUP_DIST_LOG2UNIFORM: return clamp(exp2(d->low + u * (d->high - d->low)), exp2(d->low), exp2(d->high));
    case MUP_DIST_INT: {
        double n = d->high - d->low + 1;
        return d->low + fmin(floor(u * n), n - 1);
    }
    case MUP_DIST_CHOICE: {
        int k = (int)(u * d->n_values);
        return d->values[k < d->n_values ? k : d->n_values - 1];
    }
    }
    mup_assert_fail(__FILE__, __LINE__, "search dimension of unknown distribution %d", (int)d->dist);
}

int mup_search_dim_points(const mup_search_dim *d) { return d->dist == MUP_DIST_CHOICE ? d->n_values : d->grid; }

double mup_search_dim_point(const mup_search_dim *d, int k) {
    int n = mup_search_dim_points(d);
    MUP_ASSERT(k >= 0 && k < n, "grid point %d of %s.%s, which has %d", k, d->key->section, d->key->name, n);
    if (d->dist == MUP_DIST_CHOICE)
        return d->values[k];
    double t = (double)k / (n - 1);
    switch (d->dist) {
    case MUP_DIST_UNIFORM: return k == n - 1 ? d->high : d->low + t * (d->high - d->low);
    case MUP_DIST_LOGUNIFORM:
        if (k == 0 || k == n - 1)
            return k ? d->high : d->low;
        return exp(log(d->low) + t * (log(d->high) - log(d->low)));
    case MUP_DIST_LOG2UNIFORM: return exp2(k == n - 1 ? d->high : d->low + t * (d->high - d->low));
    case MUP_DIST_INT: return floor(d->low + t * (d->high - d->low) + 0.5);
    case MUP_DIST_CHOICE: break;
    }
    return d->values[k];
}

int mup_plan_size(const mup_sweep_config *c) { return c->search.trials; }

void mup_plan_values(const mup_sweep_config *c, int trial, double *values) {
    MUP_ASSERT(trial >= 0 && trial < c->search.trials, "trial %d of a plan of %d", trial, c->search.trials);
    const mup_search_dim *dims = c->search.dims;
    int n = c->search.n_dims;
    switch (c->search.sampler) {
    case MUP_SAMPLER_RANDOM: {
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

mup_status mup_plan_apply(const mup_sweep_config *c, int trial, mup_run_spec *out) {
    double *values = mup_xmalloc((size_t)c->search.n_dims * sizeof *values);
    mup_plan_values(c, trial, values);
    *out = c->base;
    mup_status s = MUP_OK;
    for (int d = 0; d < c->search.n_dims && !s; d++)
        s = mup_run_spec_set(out, c->search.dims[d].key, values[d]);
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
    double *values = mup_xmalloc((size_t)c->search.n_dims * sizeof *values);
    char line[4096];
    for (int t = 0; t < trials; t++) {
        mup_plan_values(c, t, values);
        mup_plan_format(c, values, line, sizeof line);
        fprintf(f, "%*d  %s\n", digits, t, line);
    }
    free(values);
}

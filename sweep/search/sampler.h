/* The trial plan: which values of the searched keys each trial gets.
 *
 * Trial i's values depend on nothing but the config (search.seed included), so a resumed sweep, a
 * dry run and every MPI rank compute the same plan, and any trial can be computed alone:
 *  - random: trial i draws each key independently from the stream mup_rng_stream(seed, i);
 *  - sobol:  trial i is point i of a scrambled Sobol sequence (sobol.h), one dimension per key,
 *            scrambled with seeds drawn from mup_rng_new(seed);
 *  - grid:   the full factorial of each key's points, the last key varying fastest.
 * A point u in [0, 1) becomes a value through the distribution's inverse CDF: uniform in the
 * distribution's own scale (log for loguniform, the exponent for log2uniform), int and choice by
 * floor(u × count). Keys are in the order of c->search.dims (the spec table's order). */
#ifndef MUP_SWEEP_SAMPLER_H
#define MUP_SWEEP_SAMPLER_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* The number of trials (search.trials; for grid, the product of the keys' points). */
int mup_plan_size(const mup_sweep_config *c);

/* Trial i's value of each searched key: values[d] for c->search.dims[d]. */
void mup_plan_values(const mup_sweep_config *c, int trial, double *values);

/* The base spec with trial i's values set (width and seed left for the caller). */
mup_status mup_plan_apply(const mup_sweep_config *c, int trial, mup_run_spec *out);

/* "train.lr=0.000122 mup.output_mult=2.5 model.activation=gelu": trial values as text. */
void mup_plan_format(const mup_sweep_config *c, const double *values, char *buf, size_t n);

/* The dry run: a comment line on the sweep, then one line per trial, its index and values. */
void mup_plan_print(const mup_sweep_config *c, FILE *f);

/* The value a dimension gives at u in [0, 1) (inverse CDF); always within [low, high] or a value. */
double mup_search_dim_value(const mup_search_dim *d, double u);
/* The grid sampler's points of a dimension: how many, and the k-th (ends included, ascending). */
int mup_search_dim_points(const mup_search_dim *d);
double mup_search_dim_point(const mup_search_dim *d, int k);

#endif

/* The trial plan: which values of the searched keys each trial gets.
 *
 * Trial i's values depend on nothing but the config (search.seed included), so a resumed sweep, a
 * dry run and every MPI rank compute the same plan, and any trial can be computed alone:
 *  - random: trial i draws each key independently from the stream mup_rng_stream(seed, i);
 *  - sobol:  trial i is point i of a scrambled Sobol sequence (sobol.h), one dimension per key,
 *            scrambled with seeds drawn from mup_rng_new(seed);
 *  - grid:   the full factorial of each key's points, the last key varying fastest;
 *  - tpe:    the first search.tpe.n_startup_trials trials as random draws them; every later trial is
 *            drawn by the Tree-structured Parzen Estimator (search/tpe.h) from the results of the trials
 *            finished when it starts (mup_plan_draw), and journaled (journal.h): only those trials'
 *            values are not known from the config alone (mup_plan_fixed).
 * A point u in [0, 1) becomes a value through the distribution's inverse CDF: uniform in the
 * distribution's own scale (log for loguniform, the exponent for log2uniform), int and choice by
 * floor(u × count). Keys are in the order of c->search.dims (the spec table's order). */
#ifndef MUP_SWEEP_SAMPLER_H
#define MUP_SWEEP_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* The number of trials (search.trials; for grid, the product of the keys' points). */
int mup_plan_size(const mup_sweep_config *c);

/* How many of the first trials have values that follow from the config alone: every trial, except
 * for tpe, whose trials from n_startup_trials on are drawn as the sweep goes. */
int mup_plan_fixed(const mup_sweep_config *c);

/* Trial i's value of each searched key: values[d] for c->search.dims[d]; i < mup_plan_fixed(c). */
void mup_plan_values(const mup_sweep_config *c, int trial, double *values);

/* The tpe sampler's values for trial i (at or past its startup trials) from n finished trials:
 * values[k * n_dims + d] of trial k, objective[k] its score (minimised; not finite: failed). The draw
 * uses only its own stream of search.seed and i, so the same trials give the same point. */
mup_status mup_plan_draw(const mup_sweep_config *c, int trial, const double *values, const double *objective, int n,
                         double *out);

/* The base spec with the searched keys set to values (width and seed left for the caller). */
mup_status mup_plan_spec(const mup_sweep_config *c, const double *values, mup_run_spec *out);
/* The base spec with trial i's values set; i < mup_plan_fixed(c). */
mup_status mup_plan_apply(const mup_sweep_config *c, int trial, mup_run_spec *out);

/* "train.lr=0.000122 mup.output_mult=2.5 model.activation=gelu": trial values as text. */
void mup_plan_format(const mup_sweep_config *c, const double *values, char *buf, size_t n);

/* The dry run: a comment line on the sweep, then one line per trial, its index and values. */
void mup_plan_print(const mup_sweep_config *c, FILE *f);

/* The value a dimension gives at u in [0, 1) (inverse CDF); always within [low, high] or a value. */
double mup_search_dim_value(const mup_search_dim *d, double u);
/* Whether v is a value the dimension can give (in range; an integer, a choice's value). */
bool mup_search_dim_holds(const mup_search_dim *d, double v);
/* The grid sampler's points of a dimension: how many, and the k-th (ends included, ascending). */
int mup_search_dim_points(const mup_search_dim *d);
double mup_search_dim_point(const mup_search_dim *d, int k);

#endif

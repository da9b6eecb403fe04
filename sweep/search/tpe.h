/* The Tree-structured Parzen Estimator (Bergstra et al., 2011), independent per key, as Optuna's
 * TPESampler runs it by default (multivariate=False, consider_endpoints=False, prior_weight=1).
 *
 * Pure functions of the finished trials, so that the sweep, a resumed sweep and a test draw the same
 * point from the same trials and RNG state. Each key is seen in its own scale (log for loguniform, the
 * exponent for log2uniform, the value otherwise; a choice by the index of its value):
 *  - the finished trials are ordered by objective (minimised; ties by trial order; a non-finite
 *    objective, a failed or diverged trial, last), and the best n_good = min(ceil(gamma n), 25) of those
 *    with a finite objective are good, the rest bad (Optuna's default gamma function at gamma = 0.1);
 *  - per key, l(x) is a Parzen density of the good trials' values and g(x) of the bad ones': an equal
 *    mixture of one Gaussian per value, truncated to the key's range, plus a prior component at the
 *    range's middle with the range's width as its sigma. A value's sigma is the larger distance to its
 *    neighbours in the sorted values (the prior's middle counted as one), clipped to
 *    [range / min(100, 1 + values + 1), range] (Bergstra's adaptive Parzen, Optuna's "magic clip").
 *    Integers are Gaussians over [low - 0.5, high + 0.5] and their draws rounded; a choice of K values
 *    has probabilities (count + 1) / (values + K);
 *  - n_candidates values drawn from l, and the one with the largest log l(x) - log g(x) wins (the
 *    first of equals).
 * With no finished trial both densities are the prior, and the draw is a uniform one. */
#ifndef MUP_SWEEP_TPE_H
#define MUP_SWEEP_TPE_H

#include <stdbool.h>

#include "mup/error.h"
#include "mup/rng.h"

/* The good group holds at most this many trials (Optuna's cap). */
#define MUP_TPE_GOOD_MAX 25

/* One key as TPE sees it. */
typedef struct {
    double low, high;   /* the range in the key's own scale; integers: the smallest and largest */
    int n_choices;      /* > 0: a choice among this many values, given as indices 0..n_choices-1 */
    bool integer;       /* the integers low..high */
} mup_tpe_dim;

typedef struct {
    double gamma;       /* the good fraction, in (0, 1] */
    int n_candidates;   /* draws from l(x) ranked per key, >= 1 */
} mup_tpe_opts;

/* How many of n finished trials, n_finite of them with a finite objective, are good. */
int mup_tpe_n_good(double gamma, int n, int n_finite);

/* log of the Parzen density of a key built from n values at v (choices: v an index). */
mup_status mup_tpe_log_density(const mup_tpe_dim *d, const double *values, int n, double v, double *out);

/* The next point from n finished trials: x[i * n_dims + k] is trial i's value of key k (in the key's own
 * scale), y[i] its objective. Writes out[k]; draws from r. MUP_ERR_NOMEM when scratch memory is short. */
mup_status mup_tpe_suggest(const mup_tpe_dim *dims, int n_dims, const double *x, const double *y, int n,
                           const mup_tpe_opts *o, mup_rng *r, double *out);

#endif

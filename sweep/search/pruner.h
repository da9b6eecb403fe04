/* Pruning: whether a proxy run stops early, decided from the intermediate values it and the other runs
 * of its proxy width reported (docs/sweep.md, "Pruning"). Pure functions of their arguments: the sweep
 * gathers the values from the journal (report lines of runs in flight, the intermediate lists of
 * finished runs' records) and asks here at each of a run's evaluation points.
 *
 * Values are the objective as the sweep minimises it (a maximised metric negated): lower is better.
 *
 * median (Optuna's MedianPruner with n_startup_trials = n_min_trials = min_trials, n_warmup_steps =
 * warmup_steps, interval_steps = 1): at a report at step s >= warmup_steps, when at least min_trials
 * complete runs have a value at exactly s, the run stops if its best value so far is worse than (strictly
 * above) the median of those values; the median of an even count is the mean of the middle two, and a
 * value equal to the median goes on.
 *
 * asha (Optuna's SuccessiveHalvingPruner, min_early_stopping_rate 0): rung k is at step
 * min_resource * eta^k, for the rungs before the run's last step. A run's value at a rung is its value
 * at its first report at or after the rung's step. When the run reaches a rung it competes with every
 * run (in flight, complete or stopped) that reached that rung before it, itself included: with n of
 * them it goes on when its value is among the best max(1, floor(n / eta)) (ties go on); so while fewer
 * than eta runs have reached a rung, only a run that is the best there so far goes on. */
#ifndef MUP_SWEEP_PRUNER_H
#define MUP_SWEEP_PRUNER_H

#include <stdbool.h>

typedef enum { MUP_PRUNER_NONE, MUP_PRUNER_MEDIAN, MUP_PRUNER_ASHA } mup_pruner_kind;

typedef struct {
    mup_pruner_kind kind;
    int warmup_steps;      /* median: no stop before this step */
    int min_trials;        /* median: complete runs with a value at the step before any stop */
    int min_resource;      /* asha: the step of the first rung */
    int reduction_factor;  /* asha: eta */
} mup_pruner;

/* One run's intermediate values, by increasing step. */
typedef struct {
    const int *step;
    const double *value;   /* non-finite values are ignored */
    int n;
    bool complete;         /* the run trained to its end (median compares with these only) */
} mup_curve;

/* Whether the run whose values are `self` (its last point the report just made) stops there, given the
 * other runs of its width. steps is the run's full length: nothing stops at it. */
bool mup_pruner_should_stop(const mup_pruner *p, const mup_curve *self, const mup_curve *others, int n_others,
                            int steps);

/* The step of rung k (min_resource * eta^k), or -1 beyond INT_MAX. */
long mup_pruner_rung_step(const mup_pruner *p, int k);

#endif

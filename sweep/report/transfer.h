/* µTransfer: which trial's setting the target gets, from the proxy runs of the journal.
 *
 * A trial's score at a width is the mean objective over its seeds; a trial with any seed that did not
 * complete (diverged, failed) scores +inf, and one with a seed not yet journaled has no score (NAN).
 * Each proxy's (width's, or width and depth's with proxy_depths) best trial is its lowest finite score
 * (ties: the lower trial). The transferred trial is the best at the widest proxy width (and among
 * those, the deepest): under µP the optimum holds across widths (and with depth scaling across depth),
 * and that proxy is the closest to the target, so its ranking is the one to trust; the others show
 * whether the optimum indeed stayed put (the lr_transfer plot). */
#ifndef MUP_SWEEP_TRANSFER_H
#define MUP_SWEEP_TRANSFER_H

#include "config.h"
#include "journal.h"
#include "runs.h"

typedef struct {
    int n_trials, n_proxies;
    double *score;      /* [trial * n_proxies + p], p a proxy (mup_proxy_at) */
    int *best_trial;    /* per proxy; -1: no trial has a finite score */
    int select_proxy;   /* the proxy that picks (mup_proxy_select) */
    int best;           /* the transferred trial, -1: none */
    int n_dims;
    double *values;     /* [trial * n_dims + d]: each trial's values, NAN for a trial TPE has not drawn */
} mup_transfer;

void mup_transfer_compute(mup_transfer *t, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j);
/* The transfer, and once every proxy run is journaled, the target runs given the chosen trial (their
 * records then match): what a sweep rebuilds from its journal before the target phase or a report. */
void mup_transfer_choose(mup_transfer *t, const mup_sweep_config *c, mup_run_list *l, mup_journal *j);
void mup_transfer_free(mup_transfer *t);
/* A trial's values, c->search.dims order (NANs for a trial not drawn yet). */
void mup_transfer_trial_values(const mup_transfer *t, int trial, double *values);

/* The target's outcome over its seeds: the mean objective (+inf unless all complete), and a status
 * name: complete, diverged or failed (the first seed that was not complete), missing (a seed without a
 * record), "not run" (no target in the config, or no trial to transfer). */
double mup_target_objective(const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j,
                            const char **status);

/* Whether a target run kept its trained model in DIR; its path relative to DIR in rel either way:
 * runs/<id>/checkpoint.h5 for a built-in run, runs/<id>/checkpoint for a program's. */
bool mup_target_checkpoint(const char *dir, const mup_sweep_config *c, const mup_sweep_run *run, char *rel, size_t n);

/* DIR/summary.json: best, per_width, target, runs and compute (docs/sweep.md has the layout). */
mup_status mup_summary_write(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                             const mup_journal *j, const mup_transfer *t);

#endif

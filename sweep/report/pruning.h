/* What the pruner did, for the report: the runs it stopped and the compute that saved, the learning
 * curves plot (curves.png), and the values pruned trials reached (history.png marks them). */
#ifndef MUP_SWEEP_PRUNING_H
#define MUP_SWEEP_PRUNING_H

#include <stdio.h>

#include "config.h"
#include "journal.h"
#include "runs.h"

typedef struct {
    int pruned;            /* proxy runs journaled as pruned */
    int reporting;         /* proxy records with at least one intermediate value */
    int finished;          /* proxy records */
    double flops_spent;    /* by the pruned runs */
    double flops_saved;    /* what the pruned runs would have cost to their last step, less what they spent */
    long steps_saved;
} mup_pruning_stats;

void mup_pruning_count(const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j, mup_pruning_stats *p);

/* The mean over seeds at proxy index w (mup_proxy_at) of a trial with a pruned run, each pruned run counting its last
 * reported value and each complete run its objective; NAN when no run of it was pruned, or a seed has no
 * such value. */
double mup_pruned_trial_value(const mup_sweep_config *c, const mup_journal *j, int trial, int w);

/* DIR/curves.{dat,gp,png}: every proxy run's intermediate objective against steps, pruned runs in grey.
 * Nothing when no run reported one (*drawn false). */
mup_status mup_plot_curves(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                           const mup_journal *j, bool *drawn);

/* report.md's "Pruning" section (nothing without a pruner). */
void mup_pruning_section(FILE *f, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j);

#endif

/* What a sweep leaves in its directory besides the journal: summary.json (transfer.h), results.h5,
 * report.md and its plots (lr_transfer.png, history.png, each with its .gp script and .dat data).
 * All of it is rebuilt from the journal, so `mup-sweep --report-only` redoes it at any time. */
#ifndef MUP_SWEEP_REPORT_H
#define MUP_SWEEP_REPORT_H

#include "config.h"
#include "journal.h"
#include "runs.h"
#include "transfer.h"

/* DIR/results.h5 (layout in docs/sweep.md). */
mup_status mup_results_write(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                             const mup_journal *j, const mup_transfer *t);

/* DIR/report.md with DIR/lr_transfer.{gp,dat,png} and DIR/history.{gp,dat,png}. A plot gnuplot cannot
 * render is logged as a warning: its script and data are there to render later. */
mup_status mup_report_write(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                            const mup_journal *j, const mup_transfer *t);

/* summary.json, results.h5 and report.md, stopping at the first error. */
mup_status mup_sweep_report(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                            const mup_journal *j, const mup_transfer *t);

#endif

/* The trial API: a training program's side of mup-sweep's trial protocol (docs/trial-protocol.md).
 *
 * A program swept by mup-sweep reads its hyperparameters, width, seed and run directory from its
 * trial and reports its metrics back; the same program run by hand (no MUP_TRIAL in the environment)
 * gets every getter's default and its reports go to the log (mup_set_log_fn, at info level).
 *
 *     mup_trial *T;
 *     MUP_CHECK(mup_trial_open(&T));
 *     double lr = mup_trial_double(T, "lr", 1e-3);
 *     int width = mup_trial_width(T, 256);
 *     ... train, calling mup_trial_report(T, step, (mup_metric[]){{"train_loss", loss}}, 1) ...
 *     mup_trial_final(T, (mup_metric[]){{"val_loss", r.final_val_loss}, {"val_acc", acc}}, 2);
 *     mup_trial_close(T);
 *
 * The getters remember which keys were asked for; the final report tells the sweep, which flags a
 * searched key the program never read (a typo in the config, or a setting the program ignores). */
#ifndef MUP_TRIAL_H
#define MUP_TRIAL_H

#include "mup/api.h"

#include <stdbool.h>
#include <stdint.h>

#include "mup/dist.h"
#include "mup/error.h"

typedef struct mup_trial mup_trial;

/* One reported value. Names are 1 to 63 characters of A-Z a-z 0-9 _ . - ; a non-finite value is
 * reported as such (a diverged run, when it is the sweep's objective). */
typedef struct {
    const char *name;
    double value;
} mup_metric;

/* Opens this process's trial: the file MUP_TRIAL names, reports to the descriptor MUP_TRIAL_FD (or, in a
 * target run launched on several ranks, to the trial's report file). Without MUP_TRIAL, an empty trial
 * (defaults everywhere). MUP_ERR_IO or MUP_ERR_FORMAT for a trial file (or report file) that cannot be
 * read or is not one. Close with mup_trial_close. */
MUP_API mup_status mup_trial_open(mup_trial **out);
MUP_API void mup_trial_close(mup_trial *t);

/* A program that trains across MPI ranks (program.mpi in the sweep's config) opens the trial on every
 * rank and hands it the ranks: then rank 0 alone reports for the run (the other ranks' reports and final
 * report succeed without writing), and mup_trial_should_stop becomes collective, every rank getting rank
 * 0's answer. d must outlive the trial's last report. */
MUP_API void mup_trial_use_dist(mup_trial *t, mup_dist *d);
/* The number of ranks the sweep launched this run on (1: one process), or def without a sweep. */
MUP_API int mup_trial_ranks(const mup_trial *t, int def);

/* Whether a sweep started this process (MUP_TRIAL was set). */
MUP_API bool mup_trial_in_sweep(const mup_trial *t);

/* A searched value, or def when the trial has none of that name. A value of another type (a string
 * asked for as a number, 0.5 as an int) is a misuse that stops at MUP_ASSERT, naming the key. */
MUP_API double mup_trial_double(mup_trial *t, const char *name, double def);
MUP_API int mup_trial_int(mup_trial *t, const char *name, int def);
MUP_API bool mup_trial_bool(mup_trial *t, const char *name, bool def);
/* Valid until mup_trial_close. */
MUP_API const char *mup_trial_string(mup_trial *t, const char *name, const char *def);

/* The run's width, its base and delta widths (mup.base_width and mup.delta_width of the config) and
 * seed, or def without a sweep. */
MUP_API int mup_trial_width(const mup_trial *t, int def);
MUP_API int mup_trial_base_width(const mup_trial *t, int def);
MUP_API int mup_trial_delta_width(const mup_trial *t, int def);
MUP_API uint64_t mup_trial_seed(const mup_trial *t, uint64_t def);
/* The run's own directory, and where a target run keeps its trained model; NULL without a sweep
 * (and, for the checkpoint, in a proxy run). */
MUP_API const char *mup_trial_run_dir(const mup_trial *t);
MUP_API const char *mup_trial_checkpoint(const mup_trial *t);
/* "w64-t003-s0", "target-w1024-s0"; "" without a sweep. */
MUP_API const char *mup_trial_id(const mup_trial *t);

/* Metrics at a step while training, and the final ones (once, last). MUP_ERR_INVALID for a bad name,
 * MUP_ERR_IO when the report cannot be written (the sweep is gone). */
MUP_API mup_status mup_trial_report(mup_trial *t, int step, const mup_metric *metrics, int n);
MUP_API mup_status mup_trial_final(mup_trial *t, const mup_metric *metrics, int n);

/* Whether the sweep's pruner stops this run (docs/sweep.md, "Pruning"), judged on the reports sent so
 * far: waits for the sweep's answer to the latest one. True once told; the program should then end
 * promptly (exit 0; a final report is optional and the run is recorded as pruned either way). Always
 * false without a sweep, or under a sweep without a pruner. step is the step being asked about. */
MUP_API bool mup_trial_should_stop(mup_trial *t, int step);

#endif

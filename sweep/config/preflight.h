/* What a sweep can check before it trains anything, for --dry-run: the checks of a real start that
 * create nothing, and the memory of every run, the targets' included (a real sweep meets a target
 * that does not fit only after every proxy has trained). */
#ifndef MUP_SWEEP_PREFLIGHT_H
#define MUP_SWEEP_PREFLIGHT_H

#include "recipe.h"
#include "runs.h"

/* Whether dir can be the sweep's output directory, creating nothing: dir, or the nearest of its
 * parents that exists, must be a directory this process can write to. MUP_ERR_IO naming it. */
mup_status mup_sweep_check_out_dir(const char *dir);

/* mup_run_memory_check of the widest proxy run of each trial and of the target under each trial's
 * values, with d's sizes; the first that does not fit, named (MUP_ERR_NOMEM). The list's targets are
 * left without a spec. */
mup_status mup_sweep_check_memory(const mup_sweep_config *c, mup_run_list *l, const mup_run_data *d);

/* A run whose batch is larger than the training set (a classification's examples) would repeat
 * examples within every step: MUP_ERR_INVALID naming train.batch_size, the set's size and the first
 * such run. */
mup_status mup_sweep_check_batch(const mup_run_list *l, const mup_run_data *d);

#endif

/* The runs of a sweep.
 *
 * Every (proxy width, proxy depth, trial, seed index) is a run, and so is every target seed. The list is
 * a pure function of the config: a run's index (which byte of the claims file it locks), its id
 * ("w128-t007-s1", "target-w1024-s0"; with proxy depths "w128-d4-t007-s1", and "target-w1024-d16-s0"
 * with target.depth) and its seed are the same in every process, rank and resumed
 * sweep. A run's seed comes from (search.seed, trial, seed index) alone, so the same trial has the
 * same seeds at every width. The target runs get their spec once the best trial is known
 * (mup_run_list_set_target), and the runs of a trial that TPE draws as the sweep goes once it is drawn
 * (mup_run_list_set_trial; until then they have the base spec, has_spec false). */
#ifndef MUP_SWEEP_RUNS_H
#define MUP_SWEEP_RUNS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "config.h"
#include "spec.h"
#include "mup/train.h"

typedef enum { MUP_PHASE_PROXY, MUP_PHASE_TARGET } mup_phase;

/* complete: trained every step; diverged: stopped on a NaN or exploding loss; failed: an error
 * (I/O, memory cap, a failed assertion) stopped it. A failure is the run's own (its settings, a bug:
 * permanent) or its environment's (mup_run_failure_is_environment: retried by the next sweep that
 * opens the journal). */
typedef enum { MUP_RUN_COMPLETE, MUP_RUN_DIVERGED, MUP_RUN_FAILED, MUP_RUN_PRUNED } mup_run_status;
/* pruned: a proxy run its pruner stopped early (docs/sweep.md, "Pruning"); never run again, never
 * transferred. */

/* Whether a run that stopped with status st failed because of its environment (the memory cap, a file
 * or the machine: MUP_ERR_NOMEM, MUP_ERR_IO, MUP_ERR_FORMAT, MUP_ERR_MPI) rather than its settings. */
bool mup_run_failure_is_environment(mup_status st);

#define MUP_RUN_ID_MAX 48

typedef struct {
    int index;
    char id[MUP_RUN_ID_MAX];
    mup_phase phase;
    int width;
    int depth;           /* the blocks set by proxy_depths or target.depth; 0: the model section's */
    int proxy;           /* a proxy's index (mup_proxy_at); -1 for a target */
    int trial;           /* a target's: the transferred trial, -1 until chosen */
    int seed_index;
    uint64_t seed;
    bool has_spec;       /* false for targets until the best trial is known, and for undrawn trials */
    mup_run_spec spec;
    char *spec_text;     /* the spec as compact JSON: what a journal record must match */
} mup_sweep_run;

typedef struct {
    mup_sweep_run *runs;
    int n, n_proxy;      /* proxies first, in order trial, proxy (width, then depth), seed; then the targets */
} mup_run_list;

/* The seed of a trial's seed index (trial -1: the target's). Below 2^53, so JSON keeps it exact. */
uint64_t mup_sweep_seed(const mup_sweep_config *c, int trial, int seed_index);

#define MUP_RUNS_MAX 10000000

/* The runs of the config; refuses more than MUP_RUNS_MAX. */
mup_status mup_run_list_make(const mup_sweep_config *c, mup_run_list *l);
/* Gives the runs of a trial drawn as the sweep goes (mup_plan_draw) its values. */
mup_status mup_run_list_set_trial(mup_run_list *l, const mup_sweep_config *c, int trial, const double *values);
/* Whether a trial's runs have their values: false only for a TPE trial not drawn yet. */
bool mup_run_list_trial_drawn(const mup_run_list *l, const mup_sweep_config *c, int trial);
/* A trial's values (as its runs have them); false, and NANs, for a trial not drawn yet. */
bool mup_run_list_trial_values(const mup_run_list *l, const mup_sweep_config *c, int trial, double *values);
/* Gives the target runs trial's values; trial -1 takes their specs away again. */
mup_status mup_run_list_set_target(mup_run_list *l, const mup_sweep_config *c, int trial);
void mup_run_list_free(mup_run_list *l);
/* The index of the run with this id, or -1. */
int mup_run_list_find(const mup_run_list *l, const char *id);

#endif

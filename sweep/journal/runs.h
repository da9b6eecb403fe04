/* The runs of a sweep and their records.
 *
 * Every (proxy width, proxy depth, trial, seed index) is a run, and so is every target seed. The list is
 * a pure function of the config: a run's index (which byte of the claims file it locks), its id
 * ("w128-t007-s1", "target-w1024-s0"; with proxy depths "w128-d4-t007-s1", and "target-w1024-d16-s0"
 * with target.depth) and its seed are the same in every process, rank and resumed
 * sweep. A run's seed comes from (search.seed, trial, seed index) alone, so the same trial has the
 * same seeds at every width. The target runs get their spec once the best trial is known
 * (mup_run_list_set_target), and the runs of a trial that TPE draws as the sweep goes once it is drawn
 * (mup_run_list_set_trial; until then they have the base spec, has_spec false).
 *
 * A record is what the journal keeps of a finished run: one JSON line (mup_run_record_line), read
 * back by mup_run_record_parse. */
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

const char *mup_run_status_name(mup_run_status s);
const char *mup_phase_name(mup_phase p);

typedef struct {
    char id[MUP_RUN_ID_MAX];
    mup_phase phase;
    int width, trial, seed_index;
    int depth;               /* 0: not set by the sweep (a record without "depth") */
    uint64_t seed;
    double *params;          /* the searched keys' values, in c->search.dims order */
    char *spec_text;
    mup_run_status status;
    bool environment;        /* failed because of its environment ("cause": "environment") */
    char message[256];
    double objective;        /* +inf unless complete */
    double last_value;       /* pruned: the objective at its last report (NAN: none) */
    double best_objective;   /* the best the objective was at any evaluation (NAN: none) */
    int steps_done, steps, threads;
    int ranks;               /* MPI ranks that trained it together (1: one process) */
    double seconds, flops;
    char worker[96];
    char unread[256];        /* a program run's searched keys it never read, ", "-separated */
    int n_curve;             /* training loss, thinned to at most MUP_CURVE_POINTS means */
    int *curve_step;
    double *curve_loss;
    int n_evals;
    int *eval_step;
    double *eval_loss, *eval_acc;
    int n_inter;             /* the objective at each intermediate report (built-in: each evaluation), as */
    int *inter_step;         /* the sweep minimises it: what the pruners compare and curves.png draws */
    double *inter_value;
} mup_run_record;

#define MUP_CURVE_POINTS 200

struct mup_protocol;

/* How a run ended, for its journal line. */
typedef struct {
    mup_run_status status;
    bool environment;            /* failed: because of its environment, not its settings */
    const char *message;         /* why it diverged or failed; "" when complete */
    const mup_train_result *r;   /* NULL for a run that never produced a result */
    double step_flops;           /* mup_run_step_flops of the run */
    int threads;
    int ranks;                   /* MPI ranks that trained it together; 0 or 1: one process */
    const char *worker;          /* "host:pid" */
    /* a program run (program.c): what it reported, its wall time and the end of its stderr */
    const struct mup_protocol *report;
    double seconds;
    const char *stderr_tail;
} mup_run_outcome;

/* A built-in run's objective at its evaluation k, as the sweep minimises it: the validation loss or error
 * there, or the mean training loss over the last min(20, step) steps before it. */
double mup_run_intermediate(const mup_train_result *r, mup_objective o, int k);

/* The journal line of a finished run, ending in a newline; malloc'd. */
char *mup_run_record_line(const mup_sweep_config *c, const mup_sweep_run *run, const mup_run_outcome *o);
/* A run object of the journal back into a record (free it with mup_run_record_free). */
mup_status mup_run_record_parse(const mup_sweep_config *c, const cJSON *obj, mup_run_record *out);
void mup_run_record_free(mup_run_record *r);

/* A run's spec as its journal record holds it: every section of a built-in run; the mup widths and the
 * searched values ("program": {...}) of a program run. */
cJSON *mup_run_spec_json(const mup_sweep_config *c, const mup_run_spec *s);

/* "train.lr": 0.0039, ... for the searched keys (enum values by name). */
cJSON *mup_params_to_json(const mup_sweep_config *c, const double *values);
/* Reads such an object back into values (c->search.dims order); false unless every key has a number or
 * a choice's name. */
bool mup_params_from_json(const mup_sweep_config *c, const cJSON *params, double *values);
/* obj as one compact line ending in a newline (malloc'd); obj is deleted. */
char *mup_json_line(cJSON *obj);
/* A finite number, or null. */
cJSON *mup_json_number_or_null(double v);

#endif

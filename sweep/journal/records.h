/* A run's record: what the journal keeps of a finished run, one JSON line (mup_run_record_line) read
 * back by mup_run_record_parse, and the outcome it is made from. */
#ifndef MUP_SWEEP_RECORDS_H
#define MUP_SWEEP_RECORDS_H

#include "runs.h"

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

/* "train.lr": 0.0039, ... for the searched keys (enum values by name). */
cJSON *mup_params_to_json(const mup_sweep_config *c, const double *values);
/* Reads such an object back into values (c->search.dims order); false unless every key has a number or
 * a choice's name. */
bool mup_params_from_json(const mup_sweep_config *c, const cJSON *params, double *values);

/* A run's spec as its journal record holds it: every section of a built-in run; the mup widths and the
 * searched values ("program": {...}) of a program run. */
cJSON *mup_run_spec_json(const mup_sweep_config *c, const mup_run_spec *s);

/* The same, as compact JSON text (cJSON_free it): what a journal record must match. */
char *mup_run_spec_text(const mup_sweep_config *c, const mup_run_spec *s);

#endif

/* The run executor: what trains one run of a sweep. Workers, whatever started them (the sweep itself,
 * --jobs, --worker, MPI ranks), claim runs from the journal and hand each to the executor, which
 * returns the run's journal line; transfer, journal and report never see how a run was trained.
 *
 * Two implementations, chosen by the config's kind: the built-in recipe (recipe.c: the MLP and the
 * GPT on the config's data) and an external program (program.c, through the trial protocol of
 * docs/trial-protocol.md). */
#ifndef MUP_SWEEP_EXECUTOR_H
#define MUP_SWEEP_EXECUTOR_H

#include "config.h"
#include "recipe.h"
#include "records.h"

/* What a run is trained with besides its spec. */
typedef struct {
    int threads;          /* OpenMP threads of the run */
    const char *worker;   /* "host:pid", for the record */
    bool check_finite;    /* built-in: the NaN detector */
    bool progress;        /* built-in: the training loop's own progress (a target: a bar on a terminal, else
                           * lines in a log) */
    /* A proxy run's intermediate value (its step, and its objective as the sweep minimises it): the worker
     * journals it and answers whether the run's pruner stops the run, which is then journaled as pruned.
     * NULL: no pruner. */
    bool (*report)(void *arg, int step, double value);
    void *report_arg;
    mup_dist *dist;       /* built-in: every rank trains this run together, data-parallel; NULL: alone */
    /* the sweep's MPI ranks and their nodes ("node1:2,node2:2"): with program.mpi and more than one rank,
     * a program's target run is started once, through program.launcher, on all of them */
    int ranks;
    const char *hosts;
} mup_run_context;

typedef struct mup_executor mup_executor;

typedef struct {
    /* Everything a process needs before its first run (the data loaded, the command found); an error
     * names the problem, and no run is trained. */
    mup_status (*prepare)(mup_executor *x, const mup_run_list *l);
    /* A run's cost, for the ETA: the FLOPs of its steps, or 1 when unknown. */
    double (*cost)(const mup_executor *x, const mup_sweep_run *run);
    /* Trains one run; its journal line (malloc'd). A run's own failure is in the line, never an error. */
    char *(*run)(mup_executor *x, const mup_sweep_run *run, const mup_run_context *ctx);
    void (*close)(mup_executor *x);
} mup_executor_ops;

struct mup_executor {
    const mup_executor_ops *ops;
    const mup_sweep_config *c;
    char dir[2048];        /* the sweep's directory, absolute once prepared */
    mup_run_data data;     /* built-in: loaded once per process */
    char *command;         /* program: the command's resolved path */
    char *launcher;        /* program with program.mpi: the launcher's resolved path */
};

/* Picks the implementation for c's kind and prepares it for DIR's runs (dir must exist). */
mup_status mup_executor_open(mup_executor *x, const mup_sweep_config *c, const char *dir, const mup_run_list *l);
void mup_executor_close(mup_executor *x);

double mup_executor_cost(const mup_executor *x, const mup_sweep_run *run);
char *mup_executor_run(mup_executor *x, const mup_sweep_run *run, const mup_run_context *ctx);

/* The program implementation (program.c). */
extern const mup_executor_ops mup_program_executor;

#endif

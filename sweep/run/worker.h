/* A sweep worker: claims free runs of the journal one at a time, trains each and journals its
 * record. Any number of workers (forked processes, MPI ranks, Slurm array tasks, a user running the
 * tool twice) share a sweep directory this way; see journal.h for the claims.
 *
 * Also the sweep's progress: what one process tells about the runs it sees finish. */
#ifndef MUP_SWEEP_WORKER_H
#define MUP_SWEEP_WORKER_H

#include "config.h"
#include "executor.h"
#include "journal.h"
#include "runs.h"

typedef struct {
    bool tty;             /* a status line redrawn in place; otherwise one line per finished run */
    bool own_only;        /* tell only about this worker's runs (MPI ranks each tell their own) */
    bool silent;          /* tell nothing (a forked worker: its parent tells) */
    int from, to;         /* the phase's runs */
    int total, done, diverged, failed, pruned;
    bool *seen;           /* per run of the list: already told (or done before the phase began) */
    double t0, flops_left, flops_done;  /* for the ETA: compute left, and done in this phase */
    double best;
    char best_id[MUP_RUN_ID_MAX];
    bool line_drawn;
} mup_sweep_progress;

typedef struct {
    const mup_sweep_config *c;
    mup_run_list *list;
    mup_journal *j;
    mup_executor x;       /* trains the runs: the built-in recipe or the user's program (executor.h) */
    int threads;          /* OpenMP threads of each run */
    int cores;            /* the cores this process may use, shared out among forked workers */
    char worker[96];      /* "host:pid", with " rank R" under MPI */
    bool check_finite;    /* runs train with the NaN detector (mup_train_opts.check_finite) */
    /* the MPI ranks of the sweep and their nodes ("node1:2,node2:2"; NULL with one rank), on which rank 0
     * starts a program's target runs (program.mpi) */
    int ranks;
    const char *hosts;
    mup_sweep_progress progress;
} mup_sweep;

/* Fills in the worker's name and installs the abort handler that journals a run stopped by a failed
 * assertion as failed (the process then aborts; rerunning does not retry that run). */
void mup_sweep_init_worker(mup_sweep *S, int rank);

/* Trains free runs in [from, to) until none is left. With wait, it then waits for the runs that
 * other processes hold, and takes over those whose process died; without, it returns. Errors are the
 * journal's (a run's own failure is a record, not an error). */
mup_status mup_sweep_work(mup_sweep *S, int from, int to, bool wait);

/* Trains [from, to) with every rank of D on each run in turn, data-parallel: rank 0 claims a run from
 * the journal and tells the others which, all train it together (mup_train_opts.dist) and rank 0
 * journals its record. Waits, like mup_sweep_work with wait, for runs that other processes hold.
 * Collective; the errors are rank 0's (the other ranks return MUP_OK and stop with it). */
mup_status mup_sweep_work_together(mup_sweep *S, int from, int to, mup_dist *D);

/* Trains [from, to) with up to jobs forked workers (pool.c) of threads OpenMP threads each (0: the
 * cores shared out), while this process tells the progress from the journal. This process must not
 * have run OpenMP with more than one thread: libgomp's threads do not survive fork, and a child's
 * first parallel region would hang. */
mup_status mup_sweep_pool(mup_sweep *S, int from, int to, int jobs, int threads, bool wait);
/* The threads of each of workers forked workers: threads when positive, else the cores shared out. */
int mup_sweep_pool_threads(const mup_sweep *S, int workers, int threads);

/* Counts what is left of [from, to): runs without a record. Reads the journal first. */
int mup_sweep_count_left(mup_sweep *S, int from, int to);

/* Progress of the phase [from, to): starts it (the runs done before count as done), tells about runs
 * that finished since the last call (after a journal refresh), and ends it (clearing the line). */
void mup_sweep_progress_begin(mup_sweep *S, int from, int to);
void mup_sweep_progress_poll(mup_sweep *S);
void mup_sweep_progress_end(mup_sweep *S);

/* "1:23" or "1:02:03" */
void mup_format_hms(char *buf, size_t len, double seconds);

#endif

/* mup-sweep: search hyperparameters on narrow proxy models, then train the wide target with the best
 * setting (µTransfer). docs/sweep.md is the user's guide; docs/sweep-config.md the config reference.
 *
 *   mup-sweep CONFIG.json --out DIR [--jobs N] [--threads T] [--resume] [--force]
 *                                   [--dry-run] [--worker] [--report-only] [--check-finite]
 *
 * The flow: check everything (config, output directory, journal, data) before any training; train
 * the proxy runs (this process, N forked workers, or every MPI rank, all claiming runs through the
 * journal); pick the best trial; train the target runs the same way; write the report. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli.h"
#include "config.h"
#include "journal.h"
#include "preflight.h"
#include "ranks.h"
#include "recipe.h"
#include "report.h"
#include "records.h"
#include "sampler.h"
#include "transfer.h"
#include "warnings.h"
#include "worker.h"
#include "mup/threads.h"

typedef struct {
    const char *config, *out;
    int jobs, threads;
    bool resume, force, dry_run, worker, report_only, check_finite;
} options;

static const char *const USAGE =
    "usage: mup-sweep CONFIG.json --out DIR [--jobs N] [--threads T] [--resume] [--force]\n"
    "                 [--dry-run] [--worker] [--report-only] [--check-finite] [--version]\n";

enum { OPT_OUT, OPT_JOBS, OPT_THREADS, OPT_RESUME, OPT_FORCE, OPT_DRY_RUN, OPT_WORKER, OPT_REPORT_ONLY,
       OPT_CHECK_FINITE, OPT_HELP, OPT_VERSION, N_OPTIONS };
static const mup_cli_option OPTIONS[N_OPTIONS] = {
    [OPT_OUT] = {"out", 0, true, NULL},           [OPT_JOBS] = {"jobs", 'j', true, NULL},
    [OPT_THREADS] = {"threads", 0, true, NULL},   [OPT_RESUME] = {"resume", 0, false, NULL},
    [OPT_FORCE] = {"force", 0, false, NULL},      [OPT_DRY_RUN] = {"dry-run", 0, false, NULL},
    [OPT_WORKER] = {"worker", 0, false, NULL},    [OPT_REPORT_ONLY] = {"report-only", 0, false, NULL},
    [OPT_CHECK_FINITE] = {"check-finite", 0, false, NULL},
    [OPT_HELP] = {"help", 'h', false, NULL},      [OPT_VERSION] = {"version", 0, false, NULL},
};

static int help(void) {
    printf("%s\n"
           "Searches the config's hyperparameters on narrow proxy models, trains the wide target with the best\n"
           "setting, and writes DIR/report.md, summary.json and results.h5 (docs/sweep.md, installed as\n"
           MUP_DOCDIR "/sweep.md).\n\n"
           "  --out DIR       the sweep's directory: journal, results and report (rerunning resumes it)\n"
           "  --jobs N        N worker processes on this machine (default 1)\n"
           "  --threads T     OpenMP threads per worker (default: the cores shared out among the workers)\n"
           "  --resume        continue DIR's sweep; refuse when DIR has none\n"
           "  --force         continue DIR's sweep although the config changed (unchanged runs are kept)\n"
           "  --dry-run       check without training: print the trials and the runs (and, with --out, what is\n"
           "                  done), load the data, check that DIR can be written and that every run fits\n"
           "                  in memory; exit as the sweep would before training\n"
           "  --worker        train proxy runs until none is left to claim, then exit without the target or\n"
           "                  the report (for job arrays: a final plain run does the rest)\n"
           "  --report-only   write the report from DIR's journal without training\n"
           "  --check-finite  debug: a run stops at its first NaN or inf, and its journaled message names\n"
           "                  the op and the layer (slower)\n"
           "  --version       the version of libmup\n\n"
           "An option's value goes after it or after '=': --jobs 4 or --jobs=4.\n"
           "MPI: %s (under mpirun every rank is a worker on the proxy runs, all ranks train each target run\n"
           "together, data-parallel, and rank 0 writes the report).\n\n",
           USAGE, mup_ranks_built_with_mpi() ? "built in" : "not built in");
    mup_cli_print_exit_codes(stdout, "runs left undone (their workers died), or a run stopped the sweep");
    return MUP_EXIT_OK;
}

static bool parse_count(const char *flag, const char *v, int *out) {
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > 4096) {
        fprintf(stderr, "mup-sweep: --%s needs a whole number from 1 to 4096, got \"%s\"\n", flag, v);
        return false;
    }
    *out = (int)n;
    return true;
}

/* -1 when the options are good, else the exit code. */
static int parse(int argc, char **argv, options *o) {
    *o = (options){.jobs = 1};
    mup_cli p = mup_cli_start(OPTIONS, N_OPTIONS, argc, argv);
    for (;;) {
        int opt;
        const char *v;
        if (mup_cli_next(&p, &opt, &v) != MUP_OK) {
            fprintf(stderr, "mup-sweep: %s\n%s", mup_error_message(), USAGE);
            return MUP_EXIT_USAGE;
        }
        if (opt < 0 && !v)
            break;
        switch (opt) {
        case -1:
            if (o->config) {
                fprintf(stderr, "mup-sweep: one config only (got %s and %s)\n%s", o->config, v, USAGE);
                return MUP_EXIT_USAGE;
            }
            o->config = v;
            break;
        case OPT_HELP: return help();
        case OPT_VERSION: mup_cli_print_version("mup-sweep"); return MUP_EXIT_OK;
        case OPT_OUT: o->out = v; break;
        case OPT_JOBS:
        case OPT_THREADS:
            if (!parse_count(OPTIONS[opt].name, v, opt == OPT_JOBS ? &o->jobs : &o->threads))
                return MUP_EXIT_USAGE;
            break;
        case OPT_RESUME: o->resume = true; break;
        case OPT_FORCE: o->force = true; break;
        case OPT_DRY_RUN: o->dry_run = true; break;
        case OPT_WORKER: o->worker = true; break;
        case OPT_REPORT_ONLY: o->report_only = true; break;
        case OPT_CHECK_FINITE: o->check_finite = true; break;
        }
    }
    if (!o->config || (!o->out && !o->dry_run)) {
        fprintf(stderr, "mup-sweep: %s\n%s", o->config ? "--out DIR is missing" : "no config given", USAGE);
        return MUP_EXIT_USAGE;
    }
    if (o->worker + o->report_only + o->dry_run > 1) {
        fprintf(stderr, "mup-sweep: --worker, --report-only and --dry-run exclude each other\n");
        return MUP_EXIT_USAGE;
    }
    /* checked here, before the journal's opening would create the directory */
    char journal[4200];
    snprintf(journal, sizeof journal, "%s/journal.jsonl", o->out ? o->out : ".");
    if (o->resume && o->out && access(journal, F_OK) != 0) {
        fprintf(stderr, "mup-sweep: --resume: %s has no sweep to resume (no journal.jsonl); leave --resume out to "
                "start one\n", o->out);
        return MUP_EXIT_USAGE;
    }
    return -1;
}

static void log_line(mup_log_level level, const char *message, void *ctx) {
    (void)ctx;
    fprintf(stderr, "mup-sweep: %s%s\n", level == MUP_LOG_ERROR ? "error: " : level == MUP_LOG_WARN ? "warning: " : "",
            message);
}

static int fail(mup_status s) {
    fprintf(stderr, "mup-sweep: %s\n", mup_error_message());
    return mup_cli_exit_code(s);
}

/* One check of the dry run: "# NAME: ok" on stdout, or the error on stderr; the first failure's exit
 * code stays in *code. */
static void checked(int *code, const char *name, mup_status s) {
    if (s == MUP_OK) {
        printf("# %s: ok\n", name);
        return;
    }
    printf("# %s: FAILED\n", name);
    fprintf(stderr, "mup-sweep: %s: %s\n", name, mup_error_message());
    if (*code == MUP_EXIT_OK)
        *code = mup_cli_exit_code(s);
}

/* What the sweep would meet before and during its training, checked without training or creating
 * anything: the exit code the sweep would stop with. */
static int preflight(const options *o, const mup_sweep_config *c, mup_run_list *l) {
    int code = MUP_EXIT_OK;
    printf("# checks\n");
    fflush(stdout);
    if (c->kind == MUP_RUN_PROGRAM) { /* its data and memory are the program's own: its command */
        mup_executor x;
        checked(&code, "command", mup_executor_open(&x, c, o->out ? o->out : ".", l));
        mup_executor_close(&x);
        if (o->out)
            checked(&code, "output directory", mup_sweep_check_out_dir(o->out));
        return code;
    }
    mup_run_data d = {0};
    mup_status s = mup_run_data_load(&d, &l->runs[0].spec);
    checked(&code, "data", s ? s : mup_sweep_check_batch(l, &d));
    if (o->out)
        checked(&code, "output directory", mup_sweep_check_out_dir(o->out));
    if (s == MUP_OK) /* the estimate needs the data's sizes */
        checked(&code, "memory", mup_sweep_check_memory(c, l, &d));
    mup_run_data_free(&d);
    return code;
}

static int dry_run(const options *o, const mup_sweep_config *c, mup_run_list *l) {
    mup_plan_print(c, stdout);
    mup_journal *j = NULL;
    mup_transfer t = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/journal.jsonl", o->out ? o->out : ".");
    if (o->out && access(path, F_OK) == 0) {
        if (mup_journal_open(o->out, c, l, MUP_JOURNAL_READ, o->force, &j) == MUP_OK)
            mup_transfer_choose(&t, c, l, j);
        else
            printf("# %s\n", mup_error_message());
    }
    printf("# %d runs: %d proxy, %d target; id, width, trial, seed, state\n", l->n, l->n_proxy, l->n - l->n_proxy);
    for (int i = 0; i < l->n; i++) {
        const mup_sweep_run *r = &l->runs[i];
        const mup_run_record *rec = j && r->has_spec ? mup_journal_record(j, i) : NULL;
        char trial[16], state[64] = "to do";
        snprintf(trial, sizeof trial, r->trial >= 0 ? "%d" : "best", r->trial);
        if (rec && rec->status == MUP_RUN_COMPLETE)
            snprintf(state, sizeof state, "complete %.6g", rec->objective);
        else if (rec)
            snprintf(state, sizeof state, "%s", mup_run_status_name(rec->status));
        printf("%-20s %6d %5s %17llu  %s\n", r->id, r->width, trial, (unsigned long long)r->seed, state);
    }
    mup_transfer_free(&t);
    mup_journal_close(j);
    return preflight(o, c, l);
}

static mup_status phase(mup_sweep *S, const options *o, const mup_ranks *R, int from, int to, bool wait) {
    mup_sweep_progress_begin(S, from, to);
    const mup_sweep_progress *p = &S->progress;
    int left = p->total - p->done, workers = R->size > 1 ? R->size : o->jobs < left ? o->jobs : left;
    int threads = o->jobs > 1 ? mup_sweep_pool_threads(S, workers, o->threads) : S->threads;
    const char *what = from < S->list->n_proxy ? "proxy" : "target";
    /* the target is one wide run: under mpirun all ranks train it, data-parallel; a program that can use MPI
     * is started on all of them by rank 0 through its launcher (another program's target trains alone) */
    bool target = from >= S->list->n_proxy;
    bool together = R->dist && target && S->c->kind != MUP_RUN_PROGRAM;
    bool launched = R->size > 1 && target && S->c->kind == MUP_RUN_PROGRAM && S->c->program.mpi;
    if (R->rank == 0 && left == 0)
        fprintf(stderr, "mup-sweep: %s runs: %d, all done before\n", what, p->total);
    else if (R->rank == 0 && launched)
        fprintf(stderr, "mup-sweep: %s runs: %d, %d done before, %d to train on all %d MPI ranks, started by rank 0 "
                "through program.launcher, of %d thread%s each\n", what, p->total, p->done, left, R->size, threads,
                threads == 1 ? "" : "s");
    else if (R->rank == 0 && together)
        fprintf(stderr, "mup-sweep: %s runs: %d, %d done before, %d to train by all %d MPI ranks together "
                "(data-parallel) of %d thread%s each\n", what, p->total, p->done, left, R->size, threads,
                threads == 1 ? "" : "s");
    else if (R->rank == 0)
        fprintf(stderr, "mup-sweep: %s runs: %d, %d done before, %d to train by %d %s%s of %d thread%s\n",
                what, p->total, p->done, left, workers,
                R->size > 1 ? "MPI rank" : o->jobs > 1 ? "forked worker" : "worker", workers == 1 ? "" : "s",
                threads, threads == 1 ? "" : "s");
    /* launched: the other ranks wait, asleep, at the agreement after the phase */
    mup_status s = launched && R->rank != 0 ? MUP_OK
                 : together ? mup_sweep_work_together(S, from, to, R->dist)
                 : o->jobs > 1 ? mup_sweep_pool(S, from, to, o->jobs, o->threads, wait)
                               : mup_sweep_work(S, from, to, wait);
    mup_sweep_progress_end(S);
    return s;
}

static void print_outcome(const options *o, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j,
                          const mup_transfer *t) {
    int n[4] = {0}, missing = 0;
    for (int i = 0; i < l->n; i++) {
        const mup_run_record *rec = l->runs[i].has_spec ? mup_journal_record(j, i) : NULL;
        if (rec)
            n[rec->status]++;
        else
            missing++;
    }
    printf("mup-sweep: %d runs: %d complete, %d diverged, %d failed", l->n, n[0], n[1], n[2]);
    if (c->search.pruner.kind != MUP_PRUNER_NONE)
        printf(", %d pruned", n[MUP_RUN_PRUNED]);
    printf(missing ? ", %d not done\n" : "\n", missing);
    char label[MUP_PROXY_LABEL_MAX];
    if (t->best >= 0) {
        double *v = mup_tool_xcalloc((size_t)c->search.n_dims, sizeof *v);
        char text[4096];
        mup_transfer_trial_values(t, t->best, v);
        mup_plan_format(c, v, text, sizeof text);
        free(v);
        printf("mup-sweep: best at width %s: trial %d (%s), %s %.4f\n",
               mup_proxy_label(c, t->select_proxy, label, sizeof label), t->best, text, mup_sweep_objective(c), t->score[t->best * t->n_proxies + t->select_proxy]);
    }
    if (c->has_target) {
        const char *status;
        double obj = mup_target_objective(c, l, j, &status);
        if (isfinite(obj))
            printf("mup-sweep: target width %s: %s %.4f\n", mup_target_label(c, label, sizeof label),
                   mup_sweep_objective(c), obj);
        else
            printf("mup-sweep: target width %s: %s\n", mup_target_label(c, label, sizeof label), status);
    }
    mup_transfer_warnings warn;
    mup_transfer_warn(c, t, &warn);
    for (int i = 0; i < warn.n; i++)
        fprintf(stderr, "mup-sweep: warning: %s\n", warn.text[i]);
    printf("mup-sweep: report: %s/report.md\n", o->out);
}

static int report(const options *o, const mup_sweep_config *c, mup_run_list *l, mup_journal *j) {
    mup_journal_lock(j);
    mup_journal_refresh(j);
    mup_journal_unlock(j);
    mup_transfer t;
    mup_transfer_choose(&t, c, l, j);
    mup_status s = mup_sweep_report(o->out, c, l, j, &t);
    if (!s)
        print_outcome(o, c, l, j, &t);
    mup_transfer_free(&t);
    return s ? fail(s) : 0;
}

/* The proxy phase, then the target phase; every rank or the forked workers train. */
static int train(mup_sweep *S, const options *o, const mup_ranks *R) {
    mup_run_list *l = S->list;
    bool lead = R->rank == 0;
    mup_status s = phase(S, o, R, 0, l->n_proxy, !o->worker);
    if (!mup_ranks_agree(R, s == MUP_OK))
        return s ? fail(s) : 1;
    int left = mup_sweep_count_left(S, 0, l->n_proxy);
    if (o->worker) {
        printf("mup-sweep: worker done; %d of %d proxy runs are left to other workers\n", left, l->n_proxy);
        return 0;
    }
    if (left > 0) {
        if (lead)
            fprintf(stderr, "mup-sweep: %d proxy runs are not done (their workers died); rerun to resume\n", left);
        return 1;
    }
    if (!S->c->has_target)
        return 0;
    mup_transfer t;
    mup_transfer_choose(&t, S->c, l, S->j);
    char label[MUP_PROXY_LABEL_MAX];
    if (t.best < 0 && lead)
        fprintf(stderr, "mup-sweep: no trial completed every seed at width %s: the target is not trained\n",
                mup_proxy_label(S->c, t.select_proxy, label, sizeof label));
    bool transferred = t.best >= 0;
    mup_transfer_free(&t);
    if (transferred)
        s = phase(S, o, R, l->n_proxy, l->n, true);
    if (!mup_ranks_agree(R, s == MUP_OK))
        return s ? fail(s) : 1;
    left = transferred ? mup_sweep_count_left(S, l->n_proxy, l->n) : 0;
    if (left > 0) {
        if (lead)
            fprintf(stderr, "mup-sweep: %d target runs are not done (their workers died); rerun to resume\n", left);
        return 1;
    }
    return 0;
}

/* The memory cap belongs to the environment, not to a run: a malformed MUP_MAX_MEMORY, or a cap under
 * which no proxy run fits, stops the sweep here with one line instead of failing every run. A cap that
 * admits some runs fails the others (as failures of their environment, retried by a later sweep). */
static mup_status check_memory_cap(const mup_sweep *S) {
    if (S->c->kind == MUP_RUN_PROGRAM) /* a program's memory is its own */
        return MUP_OK;
    /* the data is not loaded yet: the check works its sizes out from the spec */
    const mup_run_list *l = S->list;
    char first[1024] = "";
    for (int i = 0; i < l->n_proxy; i++) {
        if (l->runs[i].seed_index != 0) /* a run's memory does not depend on its seed */
            continue;
        mup_status st = mup_run_memory_check(&l->runs[i].spec, NULL);
        if (st == MUP_OK)
            return MUP_OK;
        if (st != MUP_ERR_NOMEM)
            return st;
        if (!first[0])
            snprintf(first, sizeof first, "%s", mup_error_message());
    }
    return first[0] ? mup_error(MUP_ERR_NOMEM, "no proxy run fits under the memory cap: %s", first) : MUP_OK;
}

/* Sets this process's threads and worker name, and prepares the executor (loads the data once, finds a
 * program's command): a missing data file or command stops the sweep here, before its directory or
 * journal exist. */

static mup_status prepare(mup_sweep *S, const options *o, const mup_ranks *R) {
    S->cores = mup_num_threads() / R->local_size > 0 ? mup_num_threads() / R->local_size : 1;
    S->threads = o->threads ? o->threads : S->cores;
    /* a parent of forked workers computes with one thread, so that OpenMP starts no threads before fork */
    mup_set_num_threads(o->jobs > 1 ? 1 : S->threads);
    mup_sweep_init_worker(S, R->on ? R->rank : -1);
    S->ranks = R->size;
    S->hosts = R->hosts;
    S->check_finite = o->check_finite;
    S->progress.tty = isatty(STDERR_FILENO) && R->size == 1;
    S->progress.own_only = R->size > 1;
    /* from the specs alone, so that a bad cap stops the sweep before a large data set loads */
    mup_status s = check_memory_cap(S);
    if (s)
        return s;
    /* a large data set takes a while: a log shows what the sweep is doing */
    if (R->rank == 0 && S->c->kind != MUP_RUN_PROGRAM)
        fprintf(stderr, "mup-sweep: loading the data\n");
    return mup_executor_open(&S->x, S->c, o->out, S->list);
}

static int sweep(const options *o, mup_sweep_config *c, mup_run_list *l, mup_ranks *R) {
    bool lead = R->rank == 0;
    mup_sweep S = {.c = c, .list = l};
    mup_status s = o->report_only ? MUP_OK : prepare(&S, o, R);
    int code = mup_ranks_agree(R, s == MUP_OK) ? -1 : s ? fail(s) : 1;
    mup_journal_mode mode = o->report_only ? MUP_JOURNAL_READ : o->resume ? MUP_JOURNAL_RESUME : MUP_JOURNAL_CREATE;
    /* rank 0 first: it creates the journal, checks the fingerprint and appends a --force header */
    if (code < 0) {
        s = lead ? mup_journal_open(o->out, c, l, mode, o->force, &S.j) : MUP_OK;
        code = mup_ranks_agree(R, s == MUP_OK) ? -1 : s ? fail(s) : 1;
    }
    if (code < 0) {
        s = lead ? MUP_OK
                 : mup_journal_open(o->out, c, l, mode == MUP_JOURNAL_READ ? mode : MUP_JOURNAL_RESUME, o->force, &S.j);
        if (!lead && S.j)
            mup_journal_set_quiet(S.j, true);
        code = mup_ranks_agree(R, s == MUP_OK) ? -1 : s ? fail(s) : 1;
    }
    if (code < 0)
        code = o->report_only ? (lead ? report(o, c, l, S.j) : 0) : train(&S, o, R);
    /* the report needs no MPI, and gnuplot is a child process, which MPI may not like */
    mup_ranks_finish(R);
    if (code == 0 && lead && !o->report_only && !o->worker)
        code = report(o, c, l, S.j);
    mup_executor_close(&S.x);
    mup_journal_close(S.j);
    return code;
}

/* Ctrl-C (or SIGTERM from a scheduler): the sweep process says how to resume and exits; the journal
 * keeps every finished run and the run in progress is free again. Forked workers die with it. */
static char resume_hint[8400];
static size_t resume_hint_len; /* strlen is not async-signal-safe */
static pid_t sweep_pid;

static void on_interrupt(int sig) {
    if (getpid() == sweep_pid) {
        ssize_t ignored = write(STDERR_FILENO, resume_hint, resume_hint_len);
        (void)ignored;
        _exit(MUP_EXIT_INTERRUPTED);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_interrupt(const options *o, const mup_ranks *R) {
    if (R->rank != 0 || o->dry_run || o->report_only)
        return;
    snprintf(resume_hint, sizeof resume_hint,
             "%smup-sweep: interrupted; finished runs are kept in %s/journal.jsonl. To resume, run the same "
             "command again, or: mup-sweep %s --out %s --resume\n",
             isatty(STDERR_FILENO) ? "\n" : "", o->out, o->config, o->out);
    resume_hint_len = strlen(resume_hint);
    sweep_pid = getpid();
    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
}

int main(int argc, char **argv) {
    mup_ranks R;
    mup_ranks_start(&R, &argc, &argv);
    mup_set_log_fn(log_line, NULL);
    /* a write past `ulimit -f` is then an error (EFBIG) naming the file, not a silent death */
    signal(SIGXFSZ, SIG_IGN);
    options o;
    int code = parse(argc, argv, &o);
    if (code < 0 && R.size > 1 && o.jobs > 1) {
        fprintf(stderr, "mup-sweep: under mpirun every rank is a worker; leave --jobs out\n");
        code = 2;
    }
    mup_sweep_config *c = NULL;
    mup_run_list l = {0};
    mup_status s = code < 0 ? mup_sweep_config_load(o.config, &c) : MUP_OK;
    s = s ? s : code < 0 ? mup_run_list_make(c, &l) : MUP_OK;
    if (s && R.rank > 0) /* rank 0 may have loaded it: this rank says why it could not */
        fprintf(stderr, "mup-sweep: rank %d: %s\n", R.rank, mup_error_message());
    if (s)
        code = R.rank == 0 ? fail(s) : mup_cli_exit_code(s);
    /* every rank gets here, whatever its command line: none waits for one that stopped */
    mup_status same = mup_ranks_same(&R, code < 0, c ? c->fingerprint : "");
    if (same && code < 0)
        code = R.rank == 0 ? fail(same) : MUP_EXIT_USAGE;
    if (code < 0) {
        catch_interrupt(&o, &R);
        code = o.dry_run ? (R.rank == 0 ? dry_run(&o, c, &l) : 0) : sweep(&o, c, &l, &R);
    }
    mup_run_list_free(&l);
    mup_sweep_config_free(c);
    mup_ranks_finish(&R);
    return code;
}

#include "worker.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "sampler.h"
#include "transfer.h"

/* How often a worker with nothing to claim looks again for runs that others hold. */
#define POLL_NS 250000000L

/* The run this process is training, for the abort handler. */
static mup_sweep *current_sweep;
static int current_run = -1;

static void on_assert(const char *file, int line, const char *message, void *ctx) {
    (void)ctx;
    static bool inside;
    fprintf(stderr, "mup-sweep: %s:%d: %s\n", file, line, message);
    if (inside || !current_sweep || current_run < 0)
        return;
    inside = true;
    mup_sweep *S = current_sweep;
    char why[512];
    snprintf(why, sizeof why, "assertion failed at %s:%d: %s", file, line, message);
    mup_run_outcome o = {.status = MUP_RUN_FAILED, .message = why, .threads = S->threads, .worker = S->worker};
    char *rec = mup_run_record_line(S->c, &S->list->runs[current_run], &o);
    if (mup_journal_append(S->j, rec, current_run) == MUP_OK)
        fprintf(stderr, "mup-sweep: run %s is journaled as failed; this worker stops\n", S->list->runs[current_run].id);
    free(rec);
}

void mup_sweep_init_worker(mup_sweep *S, int rank) {
    char host[64] = "?";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    if (rank >= 0)
        snprintf(S->worker, sizeof S->worker, "%s:%ld rank %d", host, (long)getpid(), rank);
    else
        snprintf(S->worker, sizeof S->worker, "%s:%ld", host, (long)getpid());
    current_sweep = S;
    mup_set_abort_handler(on_assert, NULL);
}

/* A proxy run's intermediate value: journaled for the other workers, then judged by the pruner against
 * the runs of its proxy (width and depth) as the journal has them now. */
static bool on_report(void *arg, int step, double value) {
    mup_sweep *S = arg;
    const mup_sweep_run *run = &S->list->runs[current_run];
    if (mup_journal_report(S->j, current_run, step, value) != MUP_OK) {
        mup_log(MUP_LOG_WARN, "run %s: %s; the run goes on", run->id, mup_error_message());
        return false;
    }
    mup_curve *others = mup_tool_xcalloc((size_t)S->list->n_proxy + 1, sizeof *others);
    int n = 0;
    for (int k = 0; k < S->list->n_proxy; k++)
        if (k != current_run && S->list->runs[k].proxy == run->proxy)
            others[n++] = mup_journal_curve(S->j, k);
    mup_curve self = mup_journal_curve(S->j, current_run);
    bool stop = mup_pruner_should_stop(&S->c->search.pruner, &self, others, n,
                                       S->c->kind == MUP_RUN_BUILTIN ? run->spec.train.steps : INT_MAX);
    free(others);
    return stop;
}

/* Trains run i (with D: together with the other ranks) and journals it (with D: rank 0 alone). */
static mup_status run_one(mup_sweep *S, int i, mup_dist *D) {
    const mup_sweep_run *run = &S->list->runs[i];
    bool lead = !D || mup_dist_rank(D) == 0;
    /* a target run is long: it gets the training loop's own progress, a bar on a terminal (where a forked
     * worker would draw over its parent's line) or lines in a log */
    mup_run_context ctx = {.threads = S->threads, .worker = S->worker, .check_finite = S->check_finite,
                           .progress = (!S->progress.tty || !S->progress.silent) && run->phase == MUP_PHASE_TARGET,
                           .dist = D, .ranks = S->ranks, .hosts = S->hosts};
    if (S->c->search.pruner.kind != MUP_PRUNER_NONE && run->phase == MUP_PHASE_PROXY) {
        ctx.report = on_report;
        ctx.report_arg = S;
    }
    current_run = lead ? i : -1;
    char *line = mup_executor_run(&S->x, run, &ctx);
    mup_status s = lead ? mup_journal_append(S->j, line, i) : MUP_OK;
    current_run = -1;
    free(line);
    return s;
}

/* A trial that TPE draws: from the trials finished now, scored as the transfer scores them (the widest
 * proxy's mean over seeds; +inf for one that diverged or failed, which makes it bad). Trials still
 * running are left out. Under the journal lock, which keeps the draws of a sweep in trial order. */
static mup_status draw_trial(mup_sweep *S, int trial) {
    const mup_sweep_config *c = S->c;
    int K = c->search.n_dims, n = 0;
    mup_transfer t;
    mup_transfer_compute(&t, c, S->list, S->j);
    double *x = mup_tool_xcalloc((size_t)trial * K + 1, sizeof *x), *y = mup_tool_xcalloc((size_t)trial + 1, sizeof *y);
    double *drawn = mup_tool_xcalloc((size_t)K + 1, sizeof *drawn);
    for (int k = 0; k < trial; k++) {
        double score = t.score[k * t.n_proxies + t.select_proxy];
        if (isnan(score))
            continue;
        mup_transfer_trial_values(&t, k, x + (size_t)n * K);
        y[n++] = score;
    }
    mup_status s = mup_plan_draw(c, trial, x, y, n, drawn);
    if (!s)
        s = mup_journal_draw(S->j, trial, drawn);
    free(x);
    free(y);
    free(drawn);
    mup_transfer_free(&t);
    return s;
}

/* Claims the first free run of [from, to), and draws its trial when the sampler has not yet: the run's
 * index, or -1 (then *held says whether another process holds one that is not done, and *st is a
 * draw that failed). */
static int claim_next(mup_sweep *S, int from, int to, bool *held, mup_status *st) {
    int pick = -1;
    *held = false;
    mup_journal_lock(S->j);
    mup_journal_refresh(S->j);
    for (int i = from; i < to && pick < 0; i++) {
        if (mup_journal_record(S->j, i))
            continue;
        if (mup_journal_claim(S->j, i))
            pick = i;
        else
            *held = true;
    }
    if (pick >= 0 && !S->list->runs[pick].has_spec)
        *st = draw_trial(S, S->list->runs[pick].trial);
    mup_journal_unlock(S->j);
    mup_sweep_progress_poll(S);
    return *st ? -1 : pick;
}

mup_status mup_sweep_work(mup_sweep *S, int from, int to, bool wait) {
    bool *ran = mup_tool_xcalloc((size_t)S->list->n, sizeof *ran);
    mup_status s = MUP_OK;
    for (;;) {
        bool held;
        int pick = claim_next(S, from, to, &held, &s);
        if (s)
            break;
        if (pick < 0 && (!held || !wait))
            break;
        if (pick < 0) {
            nanosleep(&(struct timespec){0, POLL_NS}, NULL);
            continue;
        }
        /* a record that does not read back would make the run look undone for ever */
        if (ran[pick]) {
            s = mup_error(MUP_ERR_FORMAT, "run %s was journaled but its record does not read back from %s; stopping",
                          S->list->runs[pick].id, mup_journal_path(S->j));
            break;
        }
        ran[pick] = true;
        s = run_one(S, pick, NULL);
        if (s)
            break;
    }
    free(ran);
    return s;
}

/* What rank 0 tells the others at each turn of mup_sweep_work_together, besides a run's index. */
enum { TOGETHER_DONE = -1, TOGETHER_WAIT = -2, TOGETHER_STOP = -3 };

mup_status mup_sweep_work_together(mup_sweep *S, int from, int to, mup_dist *D) {
    bool lead = mup_dist_rank(D) == 0;
    bool *ran = mup_tool_xcalloc((size_t)S->list->n, sizeof *ran);
    mup_status s = MUP_OK;
    for (;;) {
        double turn = TOGETHER_DONE;
        if (lead && s != MUP_OK) {
            turn = TOGETHER_STOP;
        } else if (lead) {
            bool held;
            turn = claim_next(S, from, to, &held, &s);
            if (s != MUP_OK)
                turn = TOGETHER_STOP;
            else if (turn < 0 && held)
                turn = TOGETHER_WAIT;
            else if (turn >= 0 && ran[(int)turn]) {
                s = mup_error(MUP_ERR_FORMAT, "run %s was journaled but its record does not read back from %s; "
                              "stopping", S->list->runs[(int)turn].id, mup_journal_path(S->j));
                turn = TOGETHER_STOP;
            }
        }
        mup_dist_broadcast(D, &turn, 1);
        if (turn == TOGETHER_DONE || turn == TOGETHER_STOP)
            break;
        if (turn == TOGETHER_WAIT) {
            nanosleep(&(struct timespec){0, POLL_NS}, NULL);
            continue;
        }
        ran[(int)turn] = true;
        s = run_one(S, (int)turn, D); /* an error stops the ranks at the next turn */
    }
    free(ran);
    return s;
}

int mup_sweep_count_left(mup_sweep *S, int from, int to) {
    mup_journal_lock(S->j);
    mup_journal_refresh(S->j);
    mup_journal_unlock(S->j);
    int left = 0;
    for (int i = from; i < to; i++)
        left += mup_journal_record(S->j, i) == NULL;
    return left;
}

/* ---- progress ---- */

void mup_format_hms(char *buf, size_t len, double seconds) {
    long t = (long)(seconds + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* A proxy run of a trial TPE has not drawn yet has the base settings at its width for spec: the cost
 * of those stands in for its own. */
static double run_flops(const mup_sweep *S, int i) {
    mup_sweep_run run = S->list->runs[i];
    run.has_spec |= run.phase == MUP_PHASE_PROXY;
    return mup_executor_cost(&S->x, &run);
}

static void count(mup_sweep_progress *p, const mup_run_record *rec) {
    p->done++;
    p->diverged += rec->status == MUP_RUN_DIVERGED;
    p->failed += rec->status == MUP_RUN_FAILED;
    p->pruned += rec->status == MUP_RUN_PRUNED;
    if (rec->objective < p->best) {
        p->best = rec->objective;
        snprintf(p->best_id, sizeof p->best_id, "%s", rec->id);
    }
}

/* "12/48 runs (1 diverged) | best 0.4032 (w128-t007-s1) | ETA 1:23" */
static void status_text(const mup_sweep *S, char *buf, size_t len) {
    const mup_sweep_progress *p = &S->progress;
    double elapsed = mup_tool_now() - p->t0;
    char eta[32] = "?", best[96] = "none yet", bad[64] = "";
    if (p->flops_done > 0 && p->done < p->total)
        mup_format_hms(eta, sizeof eta, p->flops_left * elapsed / p->flops_done);
    else if (p->done == p->total)
        snprintf(eta, sizeof eta, "0:00");
    if (isfinite(p->best))
        snprintf(best, sizeof best, "%.4f (%s)", p->best, p->best_id);
    if (p->diverged || p->failed || p->pruned)
        snprintf(bad, sizeof bad, " (%d diverged, %d failed, %d pruned)", p->diverged, p->failed, p->pruned);
    snprintf(buf, len, "%d/%d runs%s | best %s %s | ETA %s", p->done, p->total, bad,
             mup_sweep_objective(S->c), best, eta);
}

static void tell(mup_sweep *S, const mup_run_record *rec) {
    mup_sweep_progress *p = &S->progress;
    char status[256];
    status_text(S, status, sizeof status);
    if (p->tty) {
        fprintf(stderr, "\r\033[Kmup-sweep: %s", status);
        p->line_drawn = true;
    } else if (rec) {
        char result[300], settings[1024];
        if (rec->status == MUP_RUN_COMPLETE)
            snprintf(result, sizeof result, "%.4f", rec->objective);
        else
            snprintf(result, sizeof result, "%s (%s)", mup_run_status_name(rec->status), rec->message);
        mup_plan_format(S->c, rec->params, settings, sizeof settings);
        fprintf(stderr, "mup-sweep: %s %s in %.1f s with %s | %s\n", rec->id, result, rec->seconds, settings, status);
    }
    fflush(stderr);
}

void mup_sweep_progress_begin(mup_sweep *S, int from, int to) {
    mup_sweep_progress *p = &S->progress;
    free(p->seen);
    p->seen = mup_tool_xcalloc((size_t)S->list->n, sizeof *p->seen);
    p->from = from;
    p->to = to;
    p->total = to - from;
    p->done = p->diverged = p->failed = p->pruned = 0;
    p->best = INFINITY;
    p->best_id[0] = '\0';
    p->t0 = mup_tool_now();
    p->flops_left = p->flops_done = 0.0;
    p->line_drawn = false;
    for (int i = from; i < to; i++) {
        const mup_run_record *rec = mup_journal_record(S->j, i);
        p->seen[i] = rec != NULL;
        if (rec)
            count(p, rec);
        else
            p->flops_left += run_flops(S, i);
    }
}

void mup_sweep_progress_poll(mup_sweep *S) {
    mup_sweep_progress *p = &S->progress;
    if (!p->seen)
        return;
    bool told = false;
    for (int i = p->from; i < p->to; i++) {
        const mup_run_record *rec = mup_journal_record(S->j, i);
        if (p->seen[i] || !rec)
            continue;
        p->seen[i] = true;
        count(p, rec);
        double f = run_flops(S, i);
        p->flops_left -= f;
        p->flops_done += f;
        if (!p->silent && (!p->own_only || strcmp(rec->worker, S->worker) == 0)) {
            tell(S, rec);
            told = true;
        }
    }
    if (!told && p->tty && !p->silent && p->done < p->total)
        tell(S, NULL);
}

void mup_sweep_progress_end(mup_sweep *S) {
    mup_sweep_progress *p = &S->progress;
    if (p->line_drawn) {
        fputc('\n', stderr);
        p->line_drawn = false;
    }
    free(p->seen);
    p->seen = NULL;
}

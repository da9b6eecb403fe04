/* mup_train: the loop every example, tool and experiment runs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/checkpoint.h"
#include "mup/train.h"
#include "progress.h"

#define TAIL_STEPS 20

typedef struct {
    mup_model *M;
    mup_optim *opt;
    mup_task *task;
    const mup_train_opts *o;
    mup_train_result *r;
    FILE *log;
    mup_dist *dist;       /* NULL: one process */
    int global;           /* data-parallel: the global batch's rows */
    bool lead;            /* rank 0, or the only process: evaluates, logs, shows progress, saves */
} run;

static mup_status stop(run *x, mup_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static mup_status stop(run *x, mup_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->r->message, sizeof x->r->message, fmt, ap);
    va_end(ap);
    x->r->status = s;
    return mup_error(s, "%s", x->r->message);
}

static void evaluate(run *x, int step) {
    mup_train_result *r = x->r;
    double v[2] = {NAN, NAN};
    /* the other ranks wait for rank 0's numbers, so that every rank decides alike on them */
    if (x->lead)
        x->task->evaluate(x->task, x->M, &v[0], &v[1]);
    if (x->dist)
        mup_dist_broadcast(x->dist, v, 2);
    double loss = v[0], acc = v[1];
    r->eval_step[r->n_evals] = step;
    r->eval_loss[r->n_evals] = loss;
    r->eval_acc[r->n_evals] = acc;
    r->n_evals++;
    r->final_val_loss = loss;
    r->final_val_acc = acc;
    if (isfinite(loss) && (!(r->best_val_loss <= loss)))
        r->best_val_loss = loss;
    if (x->log)
        fprintf(x->log, "{\"step\": %d, \"val_loss\": %.9g, \"val_acc\": %.9g}\n", step, loss, isnan(acc) ? -1.0 : acc);
}

static mup_status save(run *x, int step) {
    mup_checkpoint_meta meta = {.step = step, .first_loss = x->r->first_loss, .config_json = x->o->config_json,
                                .train_loss = x->r->train_loss};
    meta.n_state = x->task->get_state ? x->task->get_state(x->task, meta.state) : 0;
    mup_rng dr = mup_graph_rng(mup_model_graph(x->M));
    memcpy(meta.state + meta.n_state, dr.s, sizeof dr.s);
    meta.n_state += 4;
    return mup_checkpoint_save(x->o->checkpoint_path, x->M, x->opt, &meta);
}

/* Everything the checkpoint hands on is checked before the run changes: the counts, the streams and
 * the loss curve come from a file. */
static mup_status check_resume(const run *x, const mup_checkpoint_meta *m) {
    const char *path = x->o->resume_path;
    if (m->step > x->o->steps || m->n_state < 4)
        return mup_error(MUP_ERR_FORMAT, "checkpoint %s: step %d or state (%d words) does not fit this run of %d "
                         "steps", path, m->step, m->n_state, x->o->steps);
    if (m->step > 0 && !isfinite(m->first_loss))
        return mup_error(MUP_ERR_FORMAT, "checkpoint %s: first loss %g (the divergence check needs a finite one)",
                         path, m->first_loss);
    mup_rng dr;
    memcpy(dr.s, m->state + m->n_state - 4, sizeof dr.s);
    if (!mup_rng_valid(&dr))
        return mup_error(MUP_ERR_FORMAT, "checkpoint %s: the dropout stream is all zeros, which no generator "
                         "reaches", path);
    for (int i = 0; m->train_loss && i < m->step; i++)
        if (!isfinite(m->train_loss[i]))
            return mup_error(MUP_ERR_FORMAT, "checkpoint %s: the loss at step %d is %g (a run stops at a "
                             "non-finite loss, so no checkpoint holds one)", path, i + 1, m->train_loss[i]);
    if (!x->task->set_state && m->n_state != 4)
        return mup_error(MUP_ERR_FORMAT, "checkpoint %s: %d words of data-order state for a task that keeps none",
                         path, m->n_state - 4);
    return MUP_OK;
}

static mup_status resume(run *x, int *start) {
    mup_checkpoint_meta meta;
    mup_status s = mup_checkpoint_load(x->o->resume_path, x->M, x->opt, &meta);
    if (s != MUP_OK)
        return s;
    s = check_resume(x, &meta);
    int task_words = meta.n_state - 4;
    if (s == MUP_OK && x->task->set_state && (s = x->task->set_state(x->task, meta.state, task_words)) != MUP_OK)
        mup_error_context(s, "checkpoint %s: ", x->o->resume_path);
    if (s != MUP_OK) {
        mup_checkpoint_meta_free(&meta);
        return s;
    }
    mup_rng dr;
    memcpy(dr.s, meta.state + task_words, sizeof dr.s);
    mup_graph_set_rng(mup_model_graph(x->M), dr);
    if (meta.train_loss)
        memcpy(x->r->train_loss, meta.train_loss, (size_t)meta.step * sizeof(float));
    x->r->first_loss = meta.first_loss;
    *start = meta.step;
    mup_checkpoint_meta_free(&meta);
    return MUP_OK;
}

static void finish(run *x) {
    mup_train_result *r = x->r;
    int n = r->steps_done < TAIL_STEPS ? r->steps_done : TAIL_STEPS;
    double s = 0.0;
    for (int i = r->steps_done - n; i < r->steps_done; i++)
        s += r->train_loss[i];
    r->final_train_loss = n ? s / n : NAN;
}

static mup_status loop(run *x, int start, mup_progress *bar) {
    const mup_train_opts *o = x->o;
    mup_train_result *r = x->r;
    double factor = o->diverge_factor > 0 ? o->diverge_factor : 10.0;
    for (int step = start; step < o->steps; step++) {
        mup_graph *g = mup_graph_begin(x->M);
        mup_tensor *loss = x->task->train_loss(x->task, g);
        const char *bad = mup_graph_nonfinite(g);
        /* every rank's loss is the global batch's: all ranks stop together; a NaN anywhere is one everywhere */
        double L = x->dist ? mup_dist_mean(x->dist, bad ? NAN : loss->data[0], x->global) : loss->data[0];
        if (step == 0)
            r->first_loss = L;
        /* written so that a NaN first loss fails the comparison rather than switching the check off */
        if (bad || !isfinite(L) || !(L <= factor * r->first_loss)) {
            mup_graph_end(g);
            if (bad)
                return stop(x, MUP_ERR_DIVERGED, "at step %d, %s", step, bad);
            return stop(x, MUP_ERR_DIVERGED, isfinite(L) ? "loss %g at step %d exceeds %g x the first loss %g"
                                                         : "loss %g at step %d", L, step, factor, r->first_loss);
        }
        if (x->dist)
            mup_backward_seed(g, loss, &(float){(float)mup_dist_weight(x->dist, x->global)});
        else
            mup_backward(g, loss);
        bad = mup_graph_nonfinite(g);
        /* the detector is per rank: with it on, the ranks agree before the sum that every rank must enter */
        bool elsewhere = x->dist && o->check_finite && !mup_dist_all(x->dist, !bad);
        if (bad || elsewhere) {
            mup_graph_end(g);
            return bad ? stop(x, MUP_ERR_DIVERGED, "at step %d, %s", step, bad)
                       : stop(x, MUP_ERR_DIVERGED, "at step %d, a non-finite gradient on another rank", step);
        }
        mup_status s = MUP_OK;
        if (x->dist)
            s = mup_dist_optim_step(x->dist, x->opt);
        else
            mup_optim_step(x->opt);
        mup_graph_end(g);
        if (s != MUP_OK)
            return stop(x, s, "%s", mup_error_message());
        r->train_loss[step] = (float)L;
        r->steps_done = step + 1;
        if (x->log)
            fprintf(x->log, "{\"step\": %d, \"loss\": %.9g, \"lr\": %.9g, \"grad_norm\": %.9g}\n", step + 1, L,
                    mup_optim_options(x->opt)->lr * mup_schedule_factor(&mup_optim_options(x->opt)->schedule, step),
                    mup_optim_last_grad_norm(x->opt));
        bool last = step + 1 == o->steps;
        if (last || (o->eval_every > 0 && (step + 1) % o->eval_every == 0)) {
            evaluate(x, step + 1);
            if (!isfinite(r->final_val_loss))
                return stop(x, MUP_ERR_DIVERGED, "validation loss %g at step %d", r->final_val_loss, step + 1);
            if (!last && o->on_eval && o->on_eval(o->on_eval_arg, r)) {
                r->stopped = true;
                mup_progress_update(bar, step + 1, L, r->final_val_loss, true);
                return MUP_OK;
            }
        }
        if (o->checkpoint_path && (last || (o->checkpoint_every > 0 && (step + 1) % o->checkpoint_every == 0))) {
            /* written once, when every rank holds the same state (each updated its own block of the
             * optimizer's); the checkpoint holds none of any rank's own */
            mup_status s = x->dist ? mup_dist_gather_state(x->dist, x->opt) : MUP_OK;
            s = s == MUP_OK && x->lead ? save(x, step + 1) : s;
            bool saved = x->dist ? mup_dist_all(x->dist, s == MUP_OK) : s == MUP_OK;
            if (!saved)
                return s ? stop(x, s, "%s", mup_error_message())
                         : stop(x, MUP_ERR_IO, "rank 0 could not write the checkpoint %s at step %d (its message says "
                                "why)", o->checkpoint_path, step + 1);
        }
        mup_progress_update(bar, step + 1, L, r->n_evals ? r->final_val_loss : NAN, last);
    }
    return MUP_OK;
}

mup_status mup_train(mup_model *M, mup_optim *opt, mup_task *task, const mup_train_opts *o, mup_train_result *r) {
    MUP_ASSERT(o->steps > 0, "mup_train: steps must be positive (got %d)", o->steps);
    double t0 = mup_now();
    int max_evals = (o->eval_every > 0 ? o->steps / o->eval_every : 0) + 2;
    *r = (mup_train_result){.status = MUP_OK, .final_val_loss = NAN, .final_val_acc = NAN, .best_val_loss = NAN};
    r->train_loss = mup_xcalloc((size_t)o->steps, sizeof *r->train_loss);
    r->eval_step = mup_xcalloc((size_t)max_evals, sizeof *r->eval_step);
    r->eval_loss = mup_xcalloc((size_t)max_evals, sizeof *r->eval_loss);
    r->eval_acc = mup_xcalloc((size_t)max_evals, sizeof *r->eval_acc);
    run x = {.M = M, .opt = opt, .task = task, .o = o, .r = r, .dist = o->dist,
             .lead = !o->dist || mup_dist_rank(o->dist) == 0};
    int start = 0;
    mup_status s = MUP_OK;
    if (x.dist && !task->share)
        s = stop(&x, MUP_ERR_INVALID, "mup_train: data-parallel training needs a task that can share its batches "
                 "(mup_task.share is NULL)");
    else if (x.dist && (x.global = task->share(task, x.dist)) < mup_dist_size(x.dist))
        s = stop(&x, MUP_ERR_INVALID, "mup_train: a batch of %d rows cannot be shared by %d ranks (each needs one "
                 "row at least)", x.global, mup_dist_size(x.dist));
    if (s == MUP_OK && o->resume_path) /* every rank reads the checkpoint */
        s = resume(&x, &start);
    r->steps_done = start;
    if (s == MUP_OK && x.lead && o->log_path && !(x.log = fopen(o->log_path, start ? "a" : "w")))
        s = stop(&x, MUP_ERR_IO, "cannot open the log %s: %s", o->log_path, strerror(errno));
    /* a rank that cannot start stops every rank before the first collective of a step */
    if (x.dist && !mup_dist_all(x.dist, s == MUP_OK) && s == MUP_OK)
        s = stop(&x, MUP_ERR_STATE, "another rank could not start this run (its message says why)");
    mup_graph_check_finite(mup_model_graph(M), o->check_finite);
    if (s == MUP_OK) {
        mup_progress bar;
        mup_progress_start(&bar, o->progress && x.lead, o->label, o->steps);
        s = loop(&x, start, &bar);
        mup_progress_finish(&bar);
    }
    if (x.log && fclose(x.log) != 0 && s == MUP_OK)
        s = stop(&x, MUP_ERR_IO, "cannot write the log %s: %s", o->log_path, strerror(errno));
    finish(&x);
    r->seconds = mup_now() - t0;
    r->status = s;
    return s;
}

void mup_train_result_free(mup_train_result *r) {
    free(r->train_loss);
    free(r->eval_step);
    free(r->eval_loss);
    free(r->eval_acc);
    *r = (mup_train_result){0};
}

/* The executor interface, and its built-in implementation: the recipe of recipe.c, unchanged. */
#include "executor.h"

#include "preflight.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The data, loaded once, and every run's batch against it. */
static mup_status builtin_prepare(mup_executor *x, const mup_run_list *l) {
    mup_status s = mup_run_data_load(&x->data, &l->runs[0].spec);
    return s ? s : mup_sweep_check_batch(l, &x->data);
}

static double builtin_cost(const mup_executor *x, const mup_sweep_run *run) {
    return run->has_spec ? mup_run_step_flops(&run->spec, &x->data) * run->spec.train.steps : 0.0;
}

/* A target run keeps its trained model: DIR/runs/<id>/checkpoint.h5 (HDF5 with the base shapes, and the
 * run's spec with its transferred values as the config), written once, at the last step. A checkpoint
 * that cannot be written fails the run as its environment's (named, with the reason), so that the next
 * sweep on this directory trains it again; its record keeps the curves it trained. */
static mup_status target_checkpoint(const mup_executor *x, const mup_sweep_run *run, char *path, size_t n) {
    snprintf(path, n, "%s/runs", x->dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return mup_error(MUP_ERR_IO, "cannot make %s for the target's checkpoint: %s", path, strerror(errno));
    snprintf(path, n, "%s/runs/%s", x->dir, run->id);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return mup_error(MUP_ERR_IO, "cannot make %s for the target's checkpoint: %s", path, strerror(errno));
    snprintf(path, n, "%s/runs/%s/checkpoint.h5", x->dir, run->id);
    return MUP_OK;
}

typedef struct {
    const mup_run_context *ctx;
    mup_objective objective;
} eval_hook;

/* Each evaluation but the last is an intermediate report of the run's objective. */
static bool on_eval(void *arg, const mup_train_result *r) {
    const eval_hook *h = arg;
    int k = r->n_evals - 1;
    return h->ctx->report(h->ctx->report_arg, r->eval_step[k], mup_run_intermediate(r, h->objective, k));
}

static char *builtin_run(mup_executor *x, const mup_sweep_run *run, const mup_run_context *ctx) {
    mup_train_result r;
    eval_hook hook = {ctx, x->c->objective};
    mup_train_opts opts = {.label = run->id, .check_finite = ctx->check_finite, .progress = ctx->progress,
                           .on_eval = ctx->report ? on_eval : NULL, .on_eval_arg = &hook, .dist = ctx->dist};
    char path[sizeof x->dir + MUP_RUN_ID_MAX + 32];
    mup_status st = MUP_OK;
    if (run->phase == MUP_PHASE_TARGET) {
        st = target_checkpoint(x, run, path, sizeof path);
        opts.checkpoint_path = path;
        opts.config_json = run->spec_text;
    }
    if (st == MUP_OK)
        st = mup_run_train(&run->spec, &x->data, &opts, &r);
    else
        r = (mup_train_result){.status = st, .final_val_loss = NAN, .final_val_acc = NAN, .best_val_loss = NAN};
    char pruned[64];
    snprintf(pruned, sizeof pruned, "pruned at step %d", r.steps_done);
    mup_run_outcome o = {
        .status = st == MUP_OK ? (r.stopped ? MUP_RUN_PRUNED : MUP_RUN_COMPLETE)
                : st == MUP_ERR_DIVERGED ? MUP_RUN_DIVERGED : MUP_RUN_FAILED,
        .environment = mup_run_failure_is_environment(st),
        .message = st == MUP_OK ? (r.stopped ? pruned : "") : r.message[0] ? r.message : mup_error_message(),
        .r = &r, .step_flops = mup_run_step_flops(&run->spec, &x->data), .threads = ctx->threads,
        .ranks = ctx->dist ? mup_dist_size(ctx->dist) : 1, .worker = ctx->worker};
    char *line = mup_run_record_line(x->c, run, &o);
    mup_train_result_free(&r);
    return line;
}

static void builtin_close(mup_executor *x) { mup_run_data_free(&x->data); }

static const mup_executor_ops builtin_executor = {builtin_prepare, builtin_cost, builtin_run, builtin_close};

mup_status mup_executor_open(mup_executor *x, const mup_sweep_config *c, const char *dir, const mup_run_list *l) {
    *x = (mup_executor){.ops = c->kind == MUP_RUN_PROGRAM ? &mup_program_executor : &builtin_executor, .c = c};
    snprintf(x->dir, sizeof x->dir, "%s", dir ? dir : ".");
    return x->ops->prepare(x, l);
}

void mup_executor_close(mup_executor *x) {
    if (x->ops)
        x->ops->close(x);
    *x = (mup_executor){0};
}

double mup_executor_cost(const mup_executor *x, const mup_sweep_run *run) {
    return x->ops ? x->ops->cost(x, run) : 0.0;
}

char *mup_executor_run(mup_executor *x, const mup_sweep_run *run, const mup_run_context *ctx) {
    return x->ops->run(x, run, ctx);
}

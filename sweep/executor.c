/* The executor interface, and its built-in implementation: the recipe of recipe.c, unchanged. */
#include "executor.h"

#include "preflight.h"

#include <stdlib.h>
#include <string.h>

/* The data, loaded once, and every run's batch against it. */
static mup_status builtin_prepare(mup_executor *x, const mup_run_list *l) {
    mup_status s = mup_run_data_load(&x->data, &l->runs[0].spec);
    return s ? s : mup_sweep_check_batch(l, &x->data);
}

static double builtin_cost(const mup_executor *x, const mup_sweep_run *run) {
    return run->has_spec ? mup_run_step_flops(&run->spec, &x->data) * run->spec.train.steps : 0.0;
}

static char *builtin_run(mup_executor *x, const mup_sweep_run *run, const mup_run_context *ctx) {
    mup_train_result r;
    mup_train_opts opts = {.label = run->id, .check_finite = ctx->check_finite, .progress = ctx->progress,
                           .dist = ctx->dist};
    mup_status st = mup_run_train(&run->spec, &x->data, &opts, &r);
    mup_run_outcome o = {
        .status = st == MUP_OK ? MUP_RUN_COMPLETE : st == MUP_ERR_DIVERGED ? MUP_RUN_DIVERGED : MUP_RUN_FAILED,
        .environment = mup_run_failure_is_environment(st),
        .message = st == MUP_OK ? "" : r.message[0] ? r.message : mup_error_message(),
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

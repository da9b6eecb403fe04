#include "runs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "records.h"
#include "sampler.h"
#include "mup/rng.h"

/* The same grouping as the tools' exit codes: what the environment caused exits 3 and is retried. */
bool mup_run_failure_is_environment(mup_status st) { return mup_cli_exit_code(st) == MUP_EXIT_ENVIRONMENT; }

/* Run seeds come from streams of their own, apart from the sampler's streams of the same seed. */
#define SEED_STREAMS 0x5eed000000000000ULL

uint64_t mup_sweep_seed(const mup_sweep_config *c, int trial, int seed_index) {
    mup_rng r = mup_rng_stream((uint64_t)c->search.seed, SEED_STREAMS + (uint64_t)(trial + 1));
    uint64_t v = 0;
    for (int i = 0; i <= seed_index; i++)
        v = mup_rng_u64(&r);
    return v >> 11;
}

static void set_spec(const mup_sweep_config *c, mup_sweep_run *r, const mup_run_spec *s) {
    r->spec = *s;
    r->spec.width = r->width;
    mup_run_spec_set_depth(&r->spec, r->depth);
    r->spec.seed = r->seed;
    cJSON_free(r->spec_text);
    r->spec_text = mup_run_spec_text(c, &r->spec);
    r->has_spec = true;
}

mup_status mup_run_list_make(const mup_sweep_config *c, mup_run_list *l) {
    int trials = mup_plan_size(c), W = mup_proxy_count(c), S = c->search.seeds;
    int targets = c->has_target ? c->target.seeds : 0;
    *l = (mup_run_list){0};
    if ((long long)trials * W * S + targets > MUP_RUNS_MAX)
        return mup_error(MUP_ERR_INVALID, "the sweep has %lld runs (trials x proxy widths x proxy depths x seeds + "
                         "target seeds), more than the %d one sweep may have", (long long)trials * W * S + targets,
                         MUP_RUNS_MAX);
    *l = (mup_run_list){.n = trials * W * S + targets, .n_proxy = trials * W * S};
    l->runs = mup_tool_xcalloc((size_t)l->n, sizeof *l->runs);
    mup_run_spec spec = c->base;
    for (int t = 0; t < trials; t++) {
        bool fixed = t < mup_plan_fixed(c);
        mup_status st = fixed ? mup_plan_apply(c, t, &spec) : MUP_OK;
        if (st) {
            mup_run_list_free(l);
            return st;
        }
        if (!fixed)
            spec = c->base;
        for (int w = 0; w < W; w++) {
            mup_proxy p = mup_proxy_at(c, w);
            char depth[16] = "";
            if (p.depth > 0)
                snprintf(depth, sizeof depth, "-d%d", p.depth);
            for (int s = 0; s < S; s++) {
                mup_sweep_run *r = &l->runs[(t * W + w) * S + s];
                *r = (mup_sweep_run){.index = (int)(r - l->runs), .phase = MUP_PHASE_PROXY, .width = p.width,
                                     .depth = p.depth, .proxy = w, .trial = t, .seed_index = s,
                                     .seed = mup_sweep_seed(c, t, s)};
                /* ids sort in trial order: three digits, or six for the largest plans */
                snprintf(r->id, sizeof r->id, trials <= 1000 ? "w%d%s-t%03d-s%d" : "w%d%s-t%06d-s%d", r->width, depth,
                         t, s);
                if (fixed) {
                    set_spec(c, r, &spec);
                } else { /* the base's cost and memory stand in until the trial is drawn */
                    r->spec = spec;
                    r->spec.width = r->width;
                    mup_run_spec_set_depth(&r->spec, r->depth);
                    r->spec.seed = r->seed;
                }
            }
        }
    }
    for (int s = 0; s < targets; s++) {
        mup_sweep_run *r = &l->runs[l->n_proxy + s];
        *r = (mup_sweep_run){.index = l->n_proxy + s, .phase = MUP_PHASE_TARGET, .width = c->target.width,
                             .depth = c->target.depth, .proxy = -1, .trial = -1, .seed_index = s,
                             .seed = mup_sweep_seed(c, -1, s)};
        if (r->depth > 0)
            snprintf(r->id, sizeof r->id, "target-w%d-d%d-s%d", r->width, r->depth, s);
        else
            snprintf(r->id, sizeof r->id, "target-w%d-s%d", r->width, s);
    }
    return MUP_OK;
}

static int trial_runs(const mup_sweep_config *c) { return mup_proxy_count(c) * c->search.seeds; }

mup_status mup_run_list_set_trial(mup_run_list *l, const mup_sweep_config *c, int trial, const double *values) {
    MUP_ASSERT(trial >= 0 && trial < mup_plan_size(c), "trial %d of %d", trial, mup_plan_size(c));
    mup_run_spec spec;
    mup_status st = mup_plan_spec(c, values, &spec);
    for (int i = trial * trial_runs(c); i < (trial + 1) * trial_runs(c) && !st; i++)
        set_spec(c, &l->runs[i], &spec);
    return st;
}

bool mup_run_list_trial_drawn(const mup_run_list *l, const mup_sweep_config *c, int trial) {
    return l->runs[trial * trial_runs(c)].has_spec;
}

bool mup_run_list_trial_values(const mup_run_list *l, const mup_sweep_config *c, int trial, double *values) {
    const mup_sweep_run *r = &l->runs[trial * trial_runs(c)];
    for (int d = 0; d < c->search.n_dims; d++)
        values[d] = r->has_spec ? mup_run_spec_get(&r->spec, c->search.dims[d].key) : NAN;
    return r->has_spec;
}

mup_status mup_run_list_set_target(mup_run_list *l, const mup_sweep_config *c, int trial) {
    mup_run_spec spec;
    mup_status st = MUP_OK;
    if (trial >= 0) {
        double *values = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
        MUP_ASSERT(mup_run_list_trial_values(l, c, trial, values), "trial %d is transferred but was never drawn",
                   trial);
        st = mup_plan_spec(c, values, &spec);
        free(values);
    }
    for (int i = l->n_proxy; i < l->n && !st; i++) {
        mup_sweep_run *r = &l->runs[i];
        r->trial = trial;
        if (trial >= 0) {
            set_spec(c, r, &spec);
        } else {
            cJSON_free(r->spec_text);
            r->spec_text = NULL;
            r->has_spec = false;
        }
    }
    return st;
}

void mup_run_list_free(mup_run_list *l) {
    for (int i = 0; i < l->n; i++)
        cJSON_free(l->runs[i].spec_text);
    free(l->runs);
    *l = (mup_run_list){0};
}

int mup_run_list_find(const mup_run_list *l, const char *id) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->runs[i].id, id) == 0)
            return i;
    return -1;
}

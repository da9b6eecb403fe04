#include "transfer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "json.h"
#include "pruning.h"
#include "sampler.h"

void mup_transfer_compute(mup_transfer *t, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j) {
    int T = mup_plan_size(c), W = mup_proxy_count(c);
    *t = (mup_transfer){.n_trials = T, .n_proxies = W, .best = -1, .n_dims = c->search.n_dims};
    t->values = mup_tool_xcalloc((size_t)T * t->n_dims + 1, sizeof *t->values);
    for (int trial = 0; trial < T; trial++)
        mup_run_list_trial_values(l, c, trial, t->values + (size_t)trial * t->n_dims);
    t->score = mup_tool_xcalloc((size_t)T * W, sizeof *t->score);
    int *seen = mup_tool_xcalloc((size_t)T * W, sizeof *seen);
    for (int i = 0; i < l->n_proxy; i++) {
        const mup_sweep_run *run = &l->runs[i];
        const mup_run_record *rec = mup_journal_record(j, i);
        int k = run->trial * W + run->proxy;
        if (rec) {
            t->score[k] += rec->objective;  /* +inf unless complete, and +inf stays */
            seen[k]++;
        }
    }
    for (int k = 0; k < T * W; k++)
        t->score[k] = seen[k] == c->search.seeds ? t->score[k] / seen[k] : NAN;
    free(seen);
    t->best_trial = mup_tool_xcalloc((size_t)W, sizeof *t->best_trial);
    for (int w = 0; w < W; w++) {
        t->best_trial[w] = -1;
        for (int trial = 0; trial < T; trial++) {
            double s = t->score[trial * W + w];
            if (isfinite(s) && (t->best_trial[w] < 0 || s < t->score[t->best_trial[w] * W + w]))
                t->best_trial[w] = trial;
        }
    }
    t->select_proxy = mup_proxy_select(c);
    t->best = t->best_trial[t->select_proxy];
}

void mup_transfer_choose(mup_transfer *t, const mup_sweep_config *c, mup_run_list *l, mup_journal *j) {
    mup_transfer_compute(t, c, l, j);
    bool proxies_done = true;
    for (int i = 0; i < l->n_proxy && proxies_done; i++)
        proxies_done = mup_journal_record(j, i) != NULL;
    MUP_CHECK(mup_run_list_set_target(l, c, proxies_done ? t->best : -1));
    mup_journal_rematch(j);
}

void mup_transfer_trial_values(const mup_transfer *t, int trial, double *values) {
    memcpy(values, t->values + (size_t)trial * t->n_dims, (size_t)t->n_dims * sizeof *values);
}

void mup_transfer_free(mup_transfer *t) {
    free(t->values);
    free(t->score);
    free(t->best_trial);
    *t = (mup_transfer){0};
}

double mup_target_objective(const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j,
                            const char **status) {
    *status = "not run";
    if (!c->has_target || l->n == l->n_proxy || !l->runs[l->n_proxy].has_spec)
        return INFINITY;
    double sum = 0.0;
    *status = "complete";
    for (int i = l->n_proxy; i < l->n; i++) {
        const mup_run_record *rec = mup_journal_record(j, i);
        if (!rec) {
            *status = "missing";
            return INFINITY;
        }
        if (rec->status != MUP_RUN_COMPLETE && strcmp(*status, "complete") == 0)
            *status = mup_run_status_name(rec->status);
        sum += rec->objective;
    }
    return sum / (l->n - l->n_proxy);
}

static cJSON *trial_params(const mup_sweep_config *c, const mup_transfer *t, int trial) {
    if (trial < 0)
        return cJSON_CreateNull();
    double *v = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *v);
    mup_transfer_trial_values(t, trial, v);
    cJSON *o = mup_params_to_json(c, v);
    free(v);
    return o;
}

/* What the user feeds back: the target's whole run spec (its transferred values included), and the
 * trained models the target runs kept in DIR/runs/<id>/. */
static void add_target_outputs(cJSON *o, const char *dir, const mup_sweep_config *c, const mup_run_list *l) {
    if (l->n == l->n_proxy || !l->runs[l->n_proxy].has_spec)
        return;
    cJSON_AddItemToObject(o, "spec", mup_run_spec_json(c, &l->runs[l->n_proxy].spec));
    cJSON *kept = cJSON_AddArrayToObject(o, "checkpoints");
    char rel[MUP_RUN_ID_MAX + 32];
    for (int i = l->n_proxy; i < l->n; i++)
        if (mup_target_checkpoint(dir, c, &l->runs[i], rel, sizeof rel))
            cJSON_AddItemToArray(kept, cJSON_CreateString(rel));
}

bool mup_target_checkpoint(const char *dir, const mup_sweep_config *c, const mup_sweep_run *run, char *rel, size_t n) {
    char path[4200];
    snprintf(rel, n, "runs/%s/%s", run->id, c->kind == MUP_RUN_PROGRAM ? "checkpoint" : "checkpoint.h5");
    snprintf(path, sizeof path, "%.4000s/%s", dir, rel);
    return access(path, F_OK) == 0;
}

static cJSON *target_json(const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j,
                         const mup_transfer *t, int trial) {
    if (!c->has_target)
        return cJSON_CreateNull();
    const char *status;
    double obj = mup_target_objective(c, l, j, &status);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "width", c->target.width);
    if (c->target.depth > 0)
        cJSON_AddNumberToObject(o, "depth", c->target.depth);
    cJSON_AddNumberToObject(o, "seeds", c->target.seeds);
    cJSON_AddNumberToObject(o, "trial", trial);
    cJSON_AddItemToObject(o, "params", trial_params(c, t, trial));
    cJSON_AddItemToObject(o, "final_objective", mup_json_number_or_null(obj));
    cJSON *each = cJSON_AddArrayToObject(o, "objectives");
    for (int i = l->n_proxy; i < l->n; i++) {
        const mup_run_record *rec = l->runs[i].has_spec ? mup_journal_record(j, i) : NULL;
        cJSON_AddItemToArray(each, mup_json_number_or_null(rec ? rec->objective : NAN));
    }
    cJSON_AddStringToObject(o, "status", status);
    return o;
}

static void add_counts(cJSON *root, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j) {
    int n[4] = {0}, missing = 0;
    double flops[2] = {0}, seconds[2] = {0};
    for (int i = 0; i < l->n; i++) {
        const mup_run_record *rec = l->runs[i].has_spec ? mup_journal_record(j, i) : NULL;
        if (!rec) {
            missing++;
            continue;
        }
        n[rec->status]++;
        int phase = l->runs[i].phase == MUP_PHASE_TARGET;
        flops[phase] += isfinite(rec->flops) ? rec->flops : 0.0;
        seconds[phase] += isfinite(rec->seconds) ? rec->seconds : 0.0;
    }
    cJSON *runs = cJSON_AddObjectToObject(root, "runs");
    cJSON_AddNumberToObject(runs, "total", l->n);
    cJSON_AddNumberToObject(runs, "complete", n[MUP_RUN_COMPLETE]);
    cJSON_AddNumberToObject(runs, "diverged", n[MUP_RUN_DIVERGED]);
    cJSON_AddNumberToObject(runs, "failed", n[MUP_RUN_FAILED]);
    cJSON_AddNumberToObject(runs, "pruned", n[MUP_RUN_PRUNED]);
    cJSON_AddNumberToObject(runs, "missing", missing);
    cJSON *compute = cJSON_AddObjectToObject(root, "compute");
    cJSON_AddNumberToObject(compute, "proxy_flops", flops[0]);
    cJSON_AddNumberToObject(compute, "target_flops", flops[1]);
    cJSON_AddNumberToObject(compute, "proxy_seconds", seconds[0]);
    cJSON_AddNumberToObject(compute, "target_seconds", seconds[1]);
    mup_pruning_stats p;
    mup_pruning_count(c, l, j, &p);
    cJSON_AddNumberToObject(compute, "pruned_flops_saved", p.flops_saved);
}

mup_status mup_summary_write(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                             const mup_journal *j, const mup_transfer *t) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", c->name);
    cJSON_AddStringToObject(root, "fingerprint", c->fingerprint);
    cJSON_AddStringToObject(root, "objective", mup_sweep_objective(c));
    cJSON_AddStringToObject(root, "selection", c->n_proxy_depths > 0
                                                   ? "lowest mean objective over seeds at the widest, deepest proxy"
                                                   : "lowest mean objective over seeds at the widest proxy width");
    mup_proxy sel = mup_proxy_at(c, t->select_proxy);
    if (t->best >= 0) {
        cJSON *best = cJSON_AddObjectToObject(root, "best");
        cJSON_AddNumberToObject(best, "width", sel.width);
        if (sel.depth > 0)
            cJSON_AddNumberToObject(best, "depth", sel.depth);
        cJSON_AddNumberToObject(best, "trial", t->best);
        cJSON_AddItemToObject(best, "params", trial_params(c, t, t->best));
        cJSON_AddItemToObject(best, "objective", mup_json_number(t->score[t->best * t->n_proxies + t->select_proxy]));
    } else {
        cJSON_AddNullToObject(root, "best");
    }
    cJSON *per = cJSON_AddArrayToObject(root, "per_width");
    for (int w = 0; w < t->n_proxies; w++) {
        cJSON *o = cJSON_CreateObject();
        int b = t->best_trial[w];
        mup_proxy p = mup_proxy_at(c, w);
        cJSON_AddNumberToObject(o, "width", p.width);
        if (p.depth > 0)
            cJSON_AddNumberToObject(o, "depth", p.depth);
        cJSON_AddNumberToObject(o, "best_trial", b);
        cJSON_AddItemToObject(o, "best_params", trial_params(c, t, b));
        cJSON_AddItemToObject(o, "best_objective", mup_json_number_or_null(b >= 0 ? t->score[b * t->n_proxies + w] : NAN));
        cJSON_AddItemToArray(per, o);
    }
    bool chosen = l->n > l->n_proxy && l->runs[l->n_proxy].has_spec;
    cJSON_AddItemToObject(root, "target", target_json(c, l, j, t, chosen ? l->runs[l->n_proxy].trial : t->best));
    if (c->has_target)
        add_target_outputs(cJSON_GetObjectItemCaseSensitive(root, "target"), dir, c, l);
    add_counts(root, c, l, j);
    return mup_json_save(dir, "summary.json", root);
}

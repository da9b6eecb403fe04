/* DIR/results.h5: every journaled run's curves and settings, for analysis outside the tool (h5py).
 * The layout is in docs/sweep.md; the file is written aside and renamed, so a reader never sees half
 * of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "h5.h"
#include "report.h"
#include "sampler.h"

/* The blocks the run was built with (its spec's, which a searched depth key sets too); 0 for a program run. */
static int64_t record_depth(const mup_sweep_config *c, const mup_run_record *rec) {
    if (c->kind != MUP_RUN_BUILTIN)
        return 0;
    cJSON *j = cJSON_Parse(rec->spec_text);
    mup_run_spec spec;
    int64_t depth = j && mup_run_spec_from_json(&spec, j) == MUP_OK ? (int64_t)mup_run_spec_get(&spec, mup_spec_depth_key(&spec))
                                                               : rec->depth;
    cJSON_Delete(j);
    return depth;
}

static mup_status run_group(hid_t runs, const mup_sweep_config *c, const mup_run_record *rec) {
    hid_t g;
    mup_status s = mup_tool_h5_group(runs, rec->id, &g);
    if (s)
        return s;
    static const int32_t none_i;
    static const double none_d;
    int64_t nc = rec->n_curve, ne = rec->n_evals;
    cJSON *params = mup_params_to_json(c, rec->params);
    char *params_text = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    s = mup_tool_h5_attr_str(g, "phase", mup_phase_name(rec->phase));
    s = s ? s : mup_tool_h5_attr_i64(g, "width", rec->width);
    s = s ? s : mup_tool_h5_attr_i64(g, "depth", record_depth(c, rec));
    s = s ? s : mup_tool_h5_attr_i64(g, "trial", rec->trial);
    s = s ? s : mup_tool_h5_attr_i64(g, "seed_index", rec->seed_index);
    s = s ? s : mup_tool_h5_attr_i64(g, "seed", (int64_t)rec->seed);
    s = s ? s : mup_tool_h5_attr_str(g, "status", mup_run_status_name(rec->status));
    s = s ? s : mup_tool_h5_attr_str(g, "message", rec->message);
    s = s ? s : mup_tool_h5_attr_f64(g, "objective", rec->objective);
    s = s ? s : mup_tool_h5_attr_f64(g, "best_objective", rec->best_objective);
    s = s ? s : mup_tool_h5_attr_i64(g, "steps_done", rec->steps_done);
    s = s ? s : mup_tool_h5_attr_i64(g, "steps", rec->steps);
    s = s ? s : mup_tool_h5_attr_f64(g, "seconds", rec->seconds);
    s = s ? s : mup_tool_h5_attr_f64(g, "flops", rec->flops);
    s = s ? s : mup_tool_h5_attr_i64(g, "threads", rec->threads);
    s = s ? s : mup_tool_h5_attr_i64(g, "ranks", rec->ranks);
    s = s ? s : mup_tool_h5_attr_str(g, "worker", rec->worker);
    s = s ? s : mup_tool_h5_attr_str(g, "params", params_text);
    s = s ? s : mup_tool_h5_attr_str(g, "spec", rec->spec_text);
    s = s ? s : mup_tool_h5_write_i32(g, "train_step", nc ? rec->curve_step : &none_i, 1, &nc);
    s = s ? s : mup_tool_h5_write_f64(g, "train_loss", nc ? rec->curve_loss : &none_d, 1, &nc);
    s = s ? s : mup_tool_h5_write_i32(g, "eval_step", ne ? rec->eval_step : &none_i, 1, &ne);
    s = s ? s : mup_tool_h5_write_f64(g, "eval_loss", ne ? rec->eval_loss : &none_d, 1, &ne);
    s = s ? s : mup_tool_h5_write_f64(g, "eval_acc", ne ? rec->eval_acc : &none_d, 1, &ne);
    cJSON_free(params_text);
    H5Gclose(g);
    return s ? mup_error_context(s, "run %s: ", rec->id) : MUP_OK;
}

static mup_status tables(hid_t f, const mup_sweep_config *c, const mup_transfer *t) {
    int T = t->n_trials, K = c->search.n_dims, W = t->n_proxies;
    double *params = mup_tool_xcalloc((size_t)T * K + 1, sizeof *params);
    for (int trial = 0; trial < T; trial++)
        mup_transfer_trial_values(t, trial, params + (size_t)trial * K);
    cJSON *keys = cJSON_CreateArray();
    char path[128];
    for (int d = 0; d < K; d++)
        cJSON_AddItemToArray(keys, cJSON_CreateString(mup_key_path(path, sizeof path, c->search.dims[d].key->section,
                                                                   c->search.dims[d].key->name)));
    char *keys_text = cJSON_PrintUnformatted(keys);
    cJSON_Delete(keys);
    int32_t *widths = mup_tool_xcalloc((size_t)W, sizeof *widths), *depths = mup_tool_xcalloc((size_t)W, sizeof *depths);
    for (int w = 0; w < W; w++) {
        mup_run_spec spec = c->base;
        mup_run_spec_set_depth(&spec, mup_proxy_at(c, w).depth);
        widths[w] = mup_proxy_at(c, w).width;
        depths[w] = (int32_t)mup_run_spec_get(&spec, mup_spec_depth_key(&spec));
    }
    cJSON *canon = mup_sweep_config_to_json(c);
    char *config_text = cJSON_PrintUnformatted(canon);
    cJSON_Delete(canon);
    int64_t pd[2] = {T, K}, sd[2] = {T, W}, wd = W;
    mup_status s = mup_tool_h5_attr_str(f, "name", c->name);
    s = s ? s : mup_tool_h5_attr_str(f, "fingerprint", c->fingerprint);
    s = s ? s : mup_tool_h5_attr_str(f, "objective", mup_sweep_objective(c));
    s = s ? s : mup_tool_h5_attr_str(f, "config", config_text);
    s = s ? s : mup_tool_h5_attr_str(f, "keys", keys_text);
    s = s ? s : mup_tool_h5_attr_i64(f, "best_trial", t->best);
    s = s ? s : mup_tool_h5_attr_i64(f, "select_width", widths[t->select_proxy]);
    s = s ? s : mup_tool_h5_attr_i64(f, "select_depth", depths[t->select_proxy]);
    s = s ? s : mup_tool_h5_write_f64(f, "params", params, 2, pd);
    s = s ? s : mup_tool_h5_write_f64(f, "score", t->score, 2, sd);
    s = s ? s : mup_tool_h5_write_i32(f, "widths", widths, 1, &wd);
    s = s ? s : mup_tool_h5_write_i32(f, "depths", depths, 1, &wd);
    free(params);
    free(widths);
    free(depths);
    cJSON_free(keys_text);
    cJSON_free(config_text);
    return s;
}

mup_status mup_results_write(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                             const mup_journal *j, const mup_transfer *t) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    hid_t f, runs = -1;
    mup_status s = mup_tool_h5_create(tmp, &f);
    if (s)
        return s;
    s = tables(f, c, t);
    s = s ? s : mup_tool_h5_group(f, "runs", &runs);
    for (int i = 0; i < l->n && !s; i++) {
        const mup_run_record *rec = l->runs[i].has_spec ? mup_journal_record(j, i) : NULL;
        if (rec)
            s = run_group(runs, c, rec);
    }
    if (runs >= 0)
        H5Gclose(runs);
    mup_status closed = mup_tool_h5_close(f, tmp);
    s = s ? s : closed;
    if (!s && rename(tmp, path) != 0)
        s = mup_error(MUP_ERR_IO, "cannot rename %s to %s", tmp, path);
    if (s) {
        remove(tmp);
        return mup_error_context(s, "%s: ", path);
    }
    return MUP_OK;
}

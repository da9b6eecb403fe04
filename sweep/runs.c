#include "runs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/rng.h"
#include "protocol.h"
#include "recipe.h"
#include "sampler.h"

static const char *const status_names[] = {"complete", "diverged", "failed", NULL};
static const char *const phase_names[] = {"proxy", "target", NULL};

const char *mup_run_status_name(mup_run_status s) { return status_names[s]; }
const char *mup_phase_name(mup_phase p) { return phase_names[p]; }

/* Run seeds come from streams of their own, apart from the sampler's streams of the same seed. */
#define SEED_STREAMS 0x5eed000000000000ULL

uint64_t mup_sweep_seed(const mup_sweep_config *c, int trial, int seed_index) {
    mup_rng r = mup_rng_stream((uint64_t)c->search.seed, SEED_STREAMS + (uint64_t)(trial + 1));
    uint64_t v = 0;
    for (int i = 0; i <= seed_index; i++)
        v = mup_rng_u64(&r);
    return v >> 11;
}

static void search_values(const mup_sweep_config *c, const mup_run_spec *s, double *values) {
    for (int d = 0; d < c->search.n_dims; d++)
        values[d] = mup_run_spec_get(s, c->search.dims[d].key);
}

cJSON *mup_run_spec_json(const mup_sweep_config *c, const mup_run_spec *s) {
    cJSON *j = mup_run_spec_to_json(s);
    if (c->kind == MUP_RUN_BUILTIN)
        return j;
    cJSON *out = cJSON_CreateObject();
    cJSON *mup = cJSON_AddObjectToObject(out, "mup");
    cJSON_AddNumberToObject(mup, "base_width", s->mup.base_width);
    cJSON_AddNumberToObject(mup, "delta_width", s->mup.delta_width);
    cJSON_AddItemToObject(out, "width", cJSON_DetachItemFromObjectCaseSensitive(j, "width"));
    cJSON_AddItemToObject(out, "seed", cJSON_DetachItemFromObjectCaseSensitive(j, "seed"));
    cJSON_Delete(j);
    double *values = mup_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    search_values(c, s, values);
    cJSON_AddItemToObject(out, "program", mup_params_to_json(c, values));
    free(values);
    return out;
}

static char *spec_text(const mup_sweep_config *c, const mup_run_spec *s) {
    cJSON *j = mup_run_spec_json(c, s);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return t;
}

static void set_spec(const mup_sweep_config *c, mup_sweep_run *r, const mup_run_spec *s) {
    r->spec = *s;
    r->spec.width = r->width;
    r->spec.seed = r->seed;
    cJSON_free(r->spec_text);
    r->spec_text = spec_text(c, &r->spec);
    r->has_spec = true;
}

mup_status mup_run_list_make(const mup_sweep_config *c, mup_run_list *l) {
    int trials = mup_plan_size(c), W = c->n_proxy_widths, S = c->search.seeds;
    int targets = c->has_target ? c->target.seeds : 0;
    *l = (mup_run_list){0};
    if ((long long)trials * W * S + targets > MUP_RUNS_MAX)
        return mup_error(MUP_ERR_INVALID, "the sweep has %lld runs (trials x proxy widths x seeds + target seeds), "
                         "more than the %d one sweep may have", (long long)trials * W * S + targets, MUP_RUNS_MAX);
    *l = (mup_run_list){.n = trials * W * S + targets, .n_proxy = trials * W * S};
    l->runs = mup_xcalloc((size_t)l->n, sizeof *l->runs);
    mup_run_spec spec;
    for (int t = 0; t < trials; t++) {
        mup_status st = mup_plan_apply(c, t, &spec);
        if (st) {
            mup_run_list_free(l);
            return st;
        }
        for (int w = 0; w < W; w++) {
            for (int s = 0; s < S; s++) {
                mup_sweep_run *r = &l->runs[(t * W + w) * S + s];
                *r = (mup_sweep_run){.index = (int)(r - l->runs), .phase = MUP_PHASE_PROXY,
                                     .width = c->proxy_widths[w], .trial = t, .seed_index = s,
                                     .seed = mup_sweep_seed(c, t, s)};
                /* ids sort in trial order: three digits, or six for the largest plans */
                snprintf(r->id, sizeof r->id, trials <= 1000 ? "w%d-t%03d-s%d" : "w%d-t%06d-s%d", r->width, t, s);
                set_spec(c, r, &spec);
            }
        }
    }
    for (int s = 0; s < targets; s++) {
        mup_sweep_run *r = &l->runs[l->n_proxy + s];
        *r = (mup_sweep_run){.index = l->n_proxy + s, .phase = MUP_PHASE_TARGET, .width = c->target.width,
                             .trial = -1, .seed_index = s, .seed = mup_sweep_seed(c, -1, s)};
        snprintf(r->id, sizeof r->id, "target-w%d-s%d", r->width, s);
    }
    return MUP_OK;
}

mup_status mup_run_list_set_target(mup_run_list *l, const mup_sweep_config *c, int trial) {
    mup_run_spec spec;
    mup_status st = trial >= 0 ? mup_plan_apply(c, trial, &spec) : MUP_OK;
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

/* ---- records ---- */

cJSON *mup_json_number_or_null(double v) { return isfinite(v) ? mup_json_number(v) : cJSON_CreateNull(); }

cJSON *mup_params_to_json(const mup_sweep_config *c, const double *values) {
    cJSON *o = cJSON_CreateObject();
    char path[128];
    for (int d = 0; d < c->search.n_dims; d++) {
        const mup_key *k = c->search.dims[d].key;
        cJSON_AddItemToObject(o, mup_key_path(path, sizeof path, k->section, k->name),
                              isfinite(values[d]) ? mup_key_value_to_json(k, values[d]) : cJSON_CreateNull());
    }
    return o;
}

/* A list of numbers with 7 significant digits (curves need no more), null for non-finite ones. */
static cJSON *short_numbers(const double *v, int n) {
    size_t cap = 3 + (size_t)n * 16, used = 1;
    char *buf = mup_xmalloc(cap);
    buf[0] = '[';
    for (int i = 0; i < n; i++) {
        const char *sep = i ? "," : "";
        used += (size_t)(isfinite(v[i]) ? snprintf(buf + used, cap - used, "%s%.7g", sep, v[i])
                                        : snprintf(buf + used, cap - used, "%snull", sep));
    }
    snprintf(buf + used, cap - used, "]");
    cJSON *raw = cJSON_CreateRaw(buf);
    free(buf);
    return raw;
}

/* The training loss as at most MUP_CURVE_POINTS means over consecutive steps, each at its last step. */
static int thin_curve(const mup_train_result *r, int *step, double *loss) {
    int n = r->steps_done, points = n < MUP_CURVE_POINTS ? n : MUP_CURVE_POINTS;
    for (int b = 0; b < points; b++) {
        int lo = (int)((long)b * n / points), hi = (int)((long)(b + 1) * n / points);
        double s = 0.0;
        for (int i = lo; i < hi; i++)
            s += r->train_loss[i];
        step[b] = hi;
        loss[b] = s / (hi - lo);
    }
    return points;
}

static double best_objective(const mup_train_result *r, mup_objective o, const double *curve, int n_curve) {
    double best = NAN;
    int n = o == MUP_OBJECTIVE_TRAIN_LOSS ? n_curve : r->n_evals;
    for (int i = 0; i < n; i++) {
        double v = o == MUP_OBJECTIVE_TRAIN_LOSS ? curve[i]
                 : o == MUP_OBJECTIVE_VAL_ERROR  ? 1.0 - r->eval_acc[i]
                                                 : r->eval_loss[i];
        if (isfinite(v) && !(best <= v))
            best = v;
    }
    return best;
}

static void add_result(cJSON *root, const mup_sweep_config *c, const mup_train_result *r) {
    int *step = mup_xcalloc(MUP_CURVE_POINTS, sizeof *step);
    double *loss = mup_xcalloc(MUP_CURVE_POINTS, sizeof *loss);
    int n = thin_curve(r, step, loss);
    cJSON_AddItemToObject(root, "objective", mup_json_number_or_null(mup_run_objective(r, c->objective)));
    cJSON_AddItemToObject(root, "best_objective", mup_json_number_or_null(best_objective(r, c->objective, loss, n)));
    cJSON *final = cJSON_AddObjectToObject(root, "final");
    cJSON_AddItemToObject(final, "train_loss", mup_json_number_or_null(r->final_train_loss));
    cJSON_AddItemToObject(final, "val_loss", mup_json_number_or_null(r->final_val_loss));
    cJSON_AddItemToObject(final, "val_acc", mup_json_number_or_null(r->final_val_acc));
    cJSON_AddNumberToObject(root, "steps_done", r->steps_done);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    cJSON *curve = cJSON_AddObjectToObject(root, "curve");
    cJSON_AddItemToObject(curve, "step", cJSON_CreateIntArray(step, n));
    cJSON_AddItemToObject(curve, "loss", short_numbers(loss, n));
    cJSON *evals = cJSON_AddObjectToObject(root, "evals");
    cJSON_AddItemToObject(evals, "step", cJSON_CreateIntArray(r->eval_step, r->n_evals));
    cJSON_AddItemToObject(evals, "loss", short_numbers(r->eval_loss, r->n_evals));
    cJSON_AddItemToObject(evals, "acc", short_numbers(r->eval_acc, r->n_evals));
    free(step);
    free(loss);
}

/* The objective of each report, as at most MUP_CURVE_POINTS means over consecutive reports. */
static void add_report_curve(cJSON *root, const mup_protocol *p, double sign) {
    int n = p->n_curve, points = n < MUP_CURVE_POINTS ? n : MUP_CURVE_POINTS;
    int step[MUP_CURVE_POINTS];
    double value[MUP_CURVE_POINTS];
    for (int b = 0; b < points; b++) {
        int lo = (int)((long)b * n / points), hi = (int)((long)(b + 1) * n / points);
        double s = 0.0;
        for (int i = lo; i < hi; i++)
            s += p->curve_value[i];
        step[b] = p->curve_step[hi - 1];
        value[b] = sign * s / (hi - lo);
    }
    cJSON *curve = cJSON_AddObjectToObject(root, "curve");
    cJSON_AddItemToObject(curve, "step", cJSON_CreateIntArray(step, points));
    cJSON_AddItemToObject(curve, "loss", short_numbers(value, points));
    cJSON *evals = cJSON_AddObjectToObject(root, "evals");
    cJSON_AddItemToObject(evals, "step", cJSON_CreateArray());
    cJSON_AddItemToObject(evals, "loss", cJSON_CreateArray());
    cJSON_AddItemToObject(evals, "acc", cJSON_CreateArray());
}

/* The searched keys that the final report's "read" list leaves out. */
static cJSON *unread_keys(const mup_sweep_config *c, const mup_protocol *p) {
    cJSON *list = cJSON_CreateArray();
    for (int d = 0; d < c->search.n_dims && p->read; d++) {
        bool seen = false;
        for (const cJSON *r = p->read->child; r && !seen; r = r->next)
            seen = strcmp(r->valuestring, c->search.dims[d].key->name) == 0;
        if (!seen)
            cJSON_AddItemToArray(list, cJSON_CreateString(c->search.dims[d].key->name));
    }
    return list;
}

/* A program run's record: its objective (negated when maximised: the sweep minimises), its final
 * metrics as reported, the objective's curve, the keys it never read, the end of its stderr. */
static void add_report(cJSON *root, const mup_sweep_config *c, const mup_sweep_run *run, const mup_run_outcome *o) {
    const mup_protocol *p = o->report;
    double sign = c->maximize ? -1.0 : 1.0;
    bool complete = o->status == MUP_RUN_COMPLETE;
    cJSON_AddItemToObject(root, "objective", mup_json_number_or_null(complete ? sign * p->objective_value : NAN));
    cJSON_AddItemToObject(root, "best_objective", mup_json_number_or_null(sign * p->best));
    cJSON_AddItemToObject(root, "final", p->final_metrics ? cJSON_Duplicate(p->final_metrics, true) : cJSON_CreateObject());
    cJSON_AddNumberToObject(root, "steps_done", p->last_step > 0 ? p->last_step : 0);
    cJSON_AddNumberToObject(root, "seconds", o->seconds);
    add_report_curve(root, p, sign);
    if (p->read)
        cJSON_AddItemToObject(root, "unread", unread_keys(c, p));
    char dir[MUP_RUN_ID_MAX + 8];
    snprintf(dir, sizeof dir, "runs/%s", run->id);
    cJSON_AddStringToObject(root, "run_dir", dir);
    if (o->stderr_tail && *o->stderr_tail)
        cJSON_AddStringToObject(root, "stderr", o->stderr_tail);
}

char *mup_run_record_line(const mup_sweep_config *c, const mup_sweep_run *run, const mup_run_outcome *o) {
    MUP_ASSERT(run->has_spec, "run %s has no spec yet", run->id);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "type", "run");
    cJSON_AddStringToObject(root, "id", run->id);
    cJSON_AddStringToObject(root, "phase", phase_names[run->phase]);
    cJSON_AddNumberToObject(root, "width", run->width);
    cJSON_AddNumberToObject(root, "trial", run->trial);
    cJSON_AddNumberToObject(root, "seed_index", run->seed_index);
    cJSON_AddItemToObject(root, "seed", mup_json_number((double)run->seed));
    double *values = mup_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    search_values(c, &run->spec, values);
    cJSON_AddItemToObject(root, "params", mup_params_to_json(c, values));
    free(values);
    cJSON_AddStringToObject(root, "status", status_names[o->status]);
    cJSON_AddStringToObject(root, "message", o->message ? o->message : "");
    if (o->report) {
        add_report(root, c, run, o);
    } else if (o->r) {
        add_result(root, c, o->r);
    } else {
        cJSON_AddNullToObject(root, "objective");
        cJSON_AddNumberToObject(root, "steps_done", 0);
    }
    int done = o->r ? o->r->steps_done : 0;
    cJSON_AddNumberToObject(root, "steps", o->report ? cJSON_GetObjectItem(root, "steps_done")->valueint
                                                     : run->spec.train.steps);
    cJSON_AddNumberToObject(root, "flops", o->step_flops * done);
    cJSON_AddNumberToObject(root, "threads", o->threads);
    cJSON_AddStringToObject(root, "worker", o->worker ? o->worker : "");
    cJSON_AddItemToObject(root, "spec", mup_run_spec_json(c, &run->spec));
    return mup_json_line(root);
}

char *mup_json_line(cJSON *obj) {
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    size_t len = strlen(text);
    char *line = mup_xmalloc(len + 2);
    memcpy(line, text, len);
    memcpy(line + len, "\n", 2);
    cJSON_free(text);
    return line;
}

/* ---- reading records back ---- */

static bool get_int(const cJSON *obj, const char *name, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valueint;
    return true;
}

/* A number, null (+inf for objectives, NAN otherwise) or absent (NAN). */
static double get_number(const cJSON *obj, const char *name, double if_null) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    double x;
    if (mup_json_get_number(v, &x))
        return x;
    return cJSON_IsNull(v) ? if_null : NAN;
}

static int get_name(const cJSON *obj, const char *name, const char *const *names) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    for (int i = 0; cJSON_IsString(v) && names[i]; i++)
        if (strcmp(v->valuestring, names[i]) == 0)
            return i;
    return -1;
}

/* A list of numbers (null: NAN) into a new array of exactly n, or NULL when the list is not n long. */
static double *get_doubles(const cJSON *list, int n) {
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) != n)
        return NULL;
    double *out = mup_xcalloc((size_t)n + 1, sizeof *out);
    int i = 0;
    for (const cJSON *v = list->child; v; v = v->next, i++)
        out[i] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    return out;
}

static int *get_ints(const cJSON *list, int *n) {
    *n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    int *out = mup_xcalloc((size_t)*n + 1, sizeof *out);
    int i = 0;
    for (const cJSON *v = cJSON_IsArray(list) ? list->child : NULL; v; v = v->next, i++)
        out[i] = v->valueint;
    return out;
}

static void read_params(const mup_sweep_config *c, const cJSON *params, double *out) {
    char path[128];
    for (int d = 0; d < c->search.n_dims; d++) {
        const mup_key *k = c->search.dims[d].key;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, mup_key_path(path, sizeof path, k->section, k->name));
        out[d] = NAN;
        if (!mup_json_get_number(v, &out[d]) && v && !cJSON_IsNull(v) && mup_key_choice_from_json(k, v, path, &out[d]))
            out[d] = NAN;
    }
}

static void read_curves(const cJSON *obj, mup_run_record *r) {
    const cJSON *curve = cJSON_GetObjectItemCaseSensitive(obj, "curve");
    const cJSON *evals = cJSON_GetObjectItemCaseSensitive(obj, "evals");
    r->curve_step = get_ints(cJSON_GetObjectItemCaseSensitive(curve, "step"), &r->n_curve);
    r->curve_loss = get_doubles(cJSON_GetObjectItemCaseSensitive(curve, "loss"), r->n_curve);
    r->eval_step = get_ints(cJSON_GetObjectItemCaseSensitive(evals, "step"), &r->n_evals);
    r->eval_loss = get_doubles(cJSON_GetObjectItemCaseSensitive(evals, "loss"), r->n_evals);
    r->eval_acc = get_doubles(cJSON_GetObjectItemCaseSensitive(evals, "acc"), r->n_evals);
    if (!r->curve_loss)
        r->n_curve = 0;
    if (!r->eval_loss || !r->eval_acc)
        r->n_evals = 0;
}

/* A built-in run's spec, or a program run's: its widths, then the searched values of "program" (a
 * value missing or not allowed stays unset, so the record matches no run and the run is done again). */
static mup_status spec_from_json(const mup_sweep_config *c, const cJSON *spec, mup_run_spec *s) {
    if (c->kind == MUP_RUN_BUILTIN)
        return mup_run_spec_from_json(s, spec);
    cJSON *copy = cJSON_Duplicate(spec, true);
    cJSON *program = cJSON_DetachItemFromObjectCaseSensitive(copy, "program");
    mup_status st = mup_run_spec_from_json(s, copy);
    double *values = mup_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    read_params(c, program, values);
    for (int d = 0; d < c->search.n_dims && !st; d++)
        if (isfinite(values[d]))
            (void)mup_run_spec_set(s, c->search.dims[d].key, values[d]);
    free(values);
    cJSON_Delete(program);
    cJSON_Delete(copy);
    return st;
}

static void read_unread(const cJSON *list, mup_run_record *r) {
    size_t used = 0;
    for (const cJSON *v = cJSON_IsArray(list) ? list->child : NULL; v && used < sizeof r->unread; v = v->next)
        if (cJSON_IsString(v))
            used += (size_t)snprintf(r->unread + used, sizeof r->unread - used, "%s%s", used ? ", " : "", v->valuestring);
}

mup_status mup_run_record_parse(const mup_sweep_config *c, const cJSON *obj, mup_run_record *r) {
    *r = (mup_run_record){0};
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(obj, "message");
    const cJSON *worker = cJSON_GetObjectItemCaseSensitive(obj, "worker");
    int phase = get_name(obj, "phase", phase_names), status = get_name(obj, "status", status_names);
    double seed = get_number(obj, "seed", NAN);
    if (!cJSON_IsString(id) || strlen(id->valuestring) >= MUP_RUN_ID_MAX || phase < 0 || status < 0 ||
        !get_int(obj, "width", &r->width) || !get_int(obj, "trial", &r->trial) ||
        !get_int(obj, "seed_index", &r->seed_index) || !(seed >= 0 && seed <= 0x1p53) || !cJSON_IsObject(spec))
        return mup_error(MUP_ERR_FORMAT, "a run record lacks its id, phase, status, width, trial, seed (an integer "
                         "in [0, 2^53]) or spec");
    mup_run_spec s;
    mup_status st = spec_from_json(c, spec, &s);
    if (st)
        return mup_error_context(st, "run %s: spec: ", id->valuestring);
    snprintf(r->id, sizeof r->id, "%s", id->valuestring);
    r->phase = (mup_phase)phase;
    r->status = (mup_run_status)status;
    r->seed = (uint64_t)seed;
    r->spec_text = spec_text(c, &s);
    read_unread(cJSON_GetObjectItemCaseSensitive(obj, "unread"), r);
    snprintf(r->message, sizeof r->message, "%s", cJSON_IsString(message) ? message->valuestring : "");
    snprintf(r->worker, sizeof r->worker, "%s", cJSON_IsString(worker) ? worker->valuestring : "");
    r->params = mup_xcalloc((size_t)c->search.n_dims + 1, sizeof *r->params);
    read_params(c, cJSON_GetObjectItemCaseSensitive(obj, "params"), r->params);
    r->objective = r->status == MUP_RUN_COMPLETE ? get_number(obj, "objective", INFINITY) : INFINITY;
    if (isnan(r->objective))
        r->objective = INFINITY;
    r->best_objective = get_number(obj, "best_objective", NAN);
    get_int(obj, "steps_done", &r->steps_done);
    get_int(obj, "steps", &r->steps);
    get_int(obj, "threads", &r->threads);
    r->seconds = get_number(obj, "seconds", NAN);
    r->flops = get_number(obj, "flops", NAN);
    read_curves(obj, r);
    return MUP_OK;
}

void mup_run_record_free(mup_run_record *r) {
    free(r->params);
    cJSON_free(r->spec_text);
    free(r->curve_step);
    free(r->curve_loss);
    free(r->eval_step);
    free(r->eval_loss);
    free(r->eval_acc);
    *r = (mup_run_record){0};
}

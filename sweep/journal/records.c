#include "records.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "protocol.h"
#include "recipe.h"

static const char *const status_names[] = {"complete", "diverged", "failed", "pruned", NULL};
static const char *const phase_names[] = {"proxy", "target", NULL};
static const char *const cause_names[] = {"run", "environment", NULL};

const char *mup_run_status_name(mup_run_status s) { return status_names[s]; }
const char *mup_phase_name(mup_phase p) { return phase_names[p]; }

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
    double *values = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    search_values(c, s, values);
    cJSON_AddItemToObject(out, "program", mup_params_to_json(c, values));
    free(values);
    return out;
}

char *mup_run_spec_text(const mup_sweep_config *c, const mup_run_spec *s) {
    cJSON *j = mup_run_spec_json(c, s);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return t;
}

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
    char *buf = mup_tool_xmalloc(cap);
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

/* What mup_train's final training loss averages (loop.c). */
#define TAIL_STEPS 20

double mup_run_intermediate(const mup_train_result *r, mup_objective o, int k) {
    if (o == MUP_OBJECTIVE_VAL_LOSS)
        return r->eval_loss[k];
    if (o == MUP_OBJECTIVE_VAL_ERROR)
        return 1.0 - r->eval_acc[k];
    int end = r->eval_step[k], n = end < TAIL_STEPS ? end : TAIL_STEPS;
    double s = 0.0;
    for (int i = end - n; i < end; i++)
        s += r->train_loss[i];
    return n ? s / n : NAN;
}

/* "intermediate": {"step": [...], "value": [...]}, n points. */
static void add_intermediate(cJSON *root, const int *step, const double *value, int n) {
    cJSON *o = cJSON_AddObjectToObject(root, "intermediate");
    cJSON_AddItemToObject(o, "step", n ? cJSON_CreateIntArray(step, n) : cJSON_CreateArray());
    cJSON_AddItemToObject(o, "value", short_numbers(value, n));
}

static void add_result(cJSON *root, const mup_sweep_config *c, const mup_train_result *r) {
    int *step = mup_tool_xcalloc(MUP_CURVE_POINTS, sizeof *step);
    double *loss = mup_tool_xcalloc(MUP_CURVE_POINTS, sizeof *loss);
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
    /* cJSON makes no array of no numbers from NULL */
    cJSON_AddItemToObject(evals, "step", r->n_evals ? cJSON_CreateIntArray(r->eval_step, r->n_evals) : cJSON_CreateArray());
    cJSON_AddItemToObject(evals, "loss", short_numbers(r->eval_loss, r->n_evals));
    cJSON_AddItemToObject(evals, "acc", short_numbers(r->eval_acc, r->n_evals));
    double *inter = mup_tool_xcalloc((size_t)r->n_evals + 1, sizeof *inter);
    for (int k = 0; k < r->n_evals; k++)
        inter[k] = mup_run_intermediate(r, c->objective, k);
    add_intermediate(root, r->eval_step, inter, r->n_evals);
    free(inter);
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
    /* every report, unthinned, in increasing steps (a report at a step not above the one before is left
     * out): what the pruners compared */
    int *istep = mup_tool_xcalloc((size_t)n + 1, sizeof *istep), k = 0;
    double *ivalue = mup_tool_xcalloc((size_t)n + 1, sizeof *ivalue);
    for (int i = 0; i < n; i++)
        if (k == 0 || p->curve_step[i] > istep[k - 1]) {
            istep[k] = p->curve_step[i];
            ivalue[k++] = sign * p->curve_value[i];
        }
    add_intermediate(root, istep, ivalue, k);
    free(istep);
    free(ivalue);
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
    double sign = p->sign; /* the sweep minimises: a maximised metric is ranked by its negative */
    bool complete = o->status == MUP_RUN_COMPLETE;
    double last = p->n_curve ? p->curve_value[p->n_curve - 1] : NAN;
    cJSON_AddItemToObject(root, "objective", mup_json_number_or_null(complete ? sign * p->objective_value
                                                                     : o->status == MUP_RUN_PRUNED ? sign * last
                                                                                                   : NAN));
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
    if (run->depth > 0) /* records of sweeps without depths stay as they were */
        cJSON_AddNumberToObject(root, "depth", run->depth);
    cJSON_AddNumberToObject(root, "trial", run->trial);
    cJSON_AddNumberToObject(root, "seed_index", run->seed_index);
    cJSON_AddItemToObject(root, "seed", mup_json_number((double)run->seed));
    double *values = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    search_values(c, &run->spec, values);
    cJSON_AddItemToObject(root, "params", mup_params_to_json(c, values));
    free(values);
    /* a complete record carries a finite objective (the reader refuses one without): a run that ends
     * without one did not converge to an answer */
    mup_run_status status = o->status;
    const char *message = o->message ? o->message : "";
    char why[160];
    if (status == MUP_RUN_COMPLETE && !o->report && !(o->r && isfinite(mup_run_objective(o->r, c->objective)))) {
        status = MUP_RUN_DIVERGED;
        snprintf(why, sizeof why, "the %s after the last step is not a finite number", mup_sweep_objective(c));
        message = why;
    }
    cJSON_AddStringToObject(root, "status", status_names[status]);
    if (status == MUP_RUN_FAILED)
        cJSON_AddStringToObject(root, "cause", cause_names[o->environment]);
    cJSON_AddStringToObject(root, "message", message);
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
    cJSON_AddNumberToObject(root, "ranks", o->ranks > 1 ? o->ranks : 1);
    cJSON_AddStringToObject(root, "worker", o->worker ? o->worker : "");
    cJSON_AddItemToObject(root, "spec", mup_run_spec_json(c, &run->spec));
    return mup_json_line(root);
}

/* ---- reading records back ----
 *
 * A record is taken only when every field is what mup_run_record_line writes; anything else makes the
 * whole line garbled (MUP_ERR_FORMAT naming the field), so that its run is trained again rather than
 * ranked on a value the reader made up. */

/* A whole number in [lo, hi]. */
static bool get_int(const cJSON *obj, const char *name, int lo, int hi, int *out) {
    double x;
    if (!mup_json_get_number(cJSON_GetObjectItemCaseSensitive(obj, name), &x) || x != floor(x) || x < lo || x > hi)
        return false;
    *out = (int)x;
    return true;
}

/* A finite number, or (when null_ok) null, which reads as NAN. */
static bool get_number(const cJSON *obj, const char *name, bool null_ok, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NAN;
    if (null_ok && cJSON_IsNull(v))
        return true;
    return mup_json_get_number(v, out) && isfinite(*out);
}

static int get_name(const cJSON *obj, const char *name, const char *const *names) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    for (int i = 0; cJSON_IsString(v) && names[i]; i++)
        if (strcmp(v->valuestring, names[i]) == 0)
            return i;
    return -1;
}

static bool get_string(const cJSON *obj, const char *name, char *out, size_t size) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(v))
        return false;
    snprintf(out, size, "%s", v->valuestring);
    return true;
}

/* A list of finite numbers and nulls (NAN), exactly n long when n >= 0, into a new array; its length
 * in *len. NULL when it is anything else. */
static double *get_doubles(const cJSON *list, int n, int *len) {
    if (!cJSON_IsArray(list) || (n >= 0 && cJSON_GetArraySize(list) != n))
        return NULL;
    *len = cJSON_GetArraySize(list);
    double *out = mup_tool_xcalloc((size_t)*len + 1, sizeof *out);
    int i = 0;
    for (const cJSON *v = list->child; v; v = v->next, i++) {
        out[i] = NAN;
        if (!cJSON_IsNull(v) && !(mup_json_get_number(v, &out[i]) && isfinite(out[i]))) {
            free(out);
            return NULL;
        }
    }
    return out;
}

/* A list of steps: whole numbers from 1 to steps, in order. Absent is empty (the writers before 2026-12
 * left out a list of no steps). */
static int *get_steps(const cJSON *list, int steps, int *n) {
    if (list && !cJSON_IsArray(list))
        return NULL;
    *n = list ? cJSON_GetArraySize(list) : 0;
    int *out = mup_tool_xcalloc((size_t)*n + 1, sizeof *out), i = 0;
    for (const cJSON *v = list ? list->child : NULL; v; v = v->next, i++) {
        double x;
        if (!mup_json_get_number(v, &x) || x != floor(x) || x < (i ? out[i - 1] : 1) || x > steps) {
            free(out);
            return NULL;
        }
        out[i] = (int)x;
    }
    return out;
}

/* The searched keys' values, each a number or a choice's name. */
bool mup_params_from_json(const mup_sweep_config *c, const cJSON *params, double *out) {
    char path[128];
    if (!cJSON_IsObject(params))
        return false;
    for (int d = 0; d < c->search.n_dims; d++) {
        const mup_key *k = c->search.dims[d].key;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, mup_key_path(path, sizeof path, k->section, k->name));
        if (!(mup_json_get_number(v, &out[d]) && isfinite(out[d])) && mup_key_choice_from_json(k, v, path, &out[d]))
            return false;
    }
    return true;
}

/* "intermediate" (absent before pruners: none): whole steps increasing from 0 (a program may report
 * step 0), and a finite value or null for each. */
static const char *read_intermediate(const cJSON *obj, mup_run_record *r) {
    const cJSON *inter = cJSON_GetObjectItemCaseSensitive(obj, "intermediate");
    if (!inter)
        return NULL;
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(inter, "step");
    if (!cJSON_IsObject(inter) || !cJSON_IsArray(steps))
        return "intermediate";
    r->n_inter = cJSON_GetArraySize(steps);
    r->inter_step = mup_tool_xcalloc((size_t)r->n_inter + 1, sizeof *r->inter_step);
    int i = 0, n;
    for (const cJSON *v = steps->child; v; v = v->next, i++) {
        double x;
        if (!mup_json_get_number(v, &x) || x != floor(x) || x < (i ? r->inter_step[i - 1] + 1 : 0) || x > INT_MAX)
            return "intermediate.step";
        r->inter_step[i] = (int)x;
    }
    if (!(r->inter_value = get_doubles(cJSON_GetObjectItemCaseSensitive(inter, "value"), r->n_inter, &n)))
        return "intermediate.value";
    return NULL;
}

/* The curves of a run that trained: "curve" and "evals", their lists as long as their steps. */
static const char *read_curves(const cJSON *obj, mup_run_record *r) {
    const cJSON *curve = cJSON_GetObjectItemCaseSensitive(obj, "curve");
    const cJSON *evals = cJSON_GetObjectItemCaseSensitive(obj, "evals");
    int n;
    r->curve_step = get_steps(cJSON_GetObjectItemCaseSensitive(curve, "step"), r->steps_done, &r->n_curve);
    if (!r->curve_step || r->n_curve > MUP_CURVE_POINTS)
        return "curve.step";
    if (!(r->curve_loss = get_doubles(cJSON_GetObjectItemCaseSensitive(curve, "loss"), r->n_curve, &n)))
        return "curve.loss";
    r->eval_step = get_steps(cJSON_GetObjectItemCaseSensitive(evals, "step"), r->steps, &r->n_evals);
    if (!r->eval_step)
        return "evals.step";
    if (!(r->eval_loss = get_doubles(cJSON_GetObjectItemCaseSensitive(evals, "loss"), r->n_evals, &n)))
        return "evals.loss";
    if (!(r->eval_acc = get_doubles(cJSON_GetObjectItemCaseSensitive(evals, "acc"), r->n_evals, &n)))
        return "evals.acc";
    return read_intermediate(obj, r);
}

/* The first field that is missing or wrong, or NULL. */
static const char *read_fields(const mup_sweep_config *c, const cJSON *obj, mup_run_record *r) {
    double seed;
    if (!get_int(obj, "width", 1, INT_MAX, &r->width))
        return "width";
    if (cJSON_HasObjectItem(obj, "depth") && !get_int(obj, "depth", 1, INT_MAX, &r->depth))
        return "depth";
    if (!get_int(obj, "trial", -1, INT_MAX, &r->trial))
        return "trial";
    if (!get_int(obj, "seed_index", 0, INT_MAX, &r->seed_index))
        return "seed_index";
    if (!get_number(obj, "seed", false, &seed) || !(seed >= 0 && seed <= 0x1p53) || seed != floor(seed))
        return "seed (an integer in [0, 2^53])";
    r->seed = (uint64_t)seed;
    r->params = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *r->params);
    if (!mup_params_from_json(c, cJSON_GetObjectItemCaseSensitive(obj, "params"), r->params))
        return "params";
    if (!get_string(obj, "message", r->message, sizeof r->message))
        return "message";
    /* journals before 2026-12 have no cause: their failures stay as they were, permanent */
    int cause = cJSON_HasObjectItem(obj, "cause") ? get_name(obj, "cause", cause_names) : 0;
    if (cause < 0 || (cause && r->status != MUP_RUN_FAILED))
        return "cause";
    r->environment = cause == 1;
    if (!get_string(obj, "worker", r->worker, sizeof r->worker))
        return "worker";
    /* a program's steps are the ones it reported, none perhaps */
    if (!get_int(obj, "steps", c->kind == MUP_RUN_PROGRAM ? 0 : 1, INT_MAX, &r->steps))
        return "steps";
    if (!get_int(obj, "steps_done", 0, r->steps, &r->steps_done))
        return "steps_done";
    if (!get_int(obj, "threads", 0, INT_MAX, &r->threads))
        return "threads";
    /* journals before 2026-12 have no ranks: one process trained every run */
    r->ranks = 1;
    if (cJSON_HasObjectItem(obj, "ranks") && !get_int(obj, "ranks", 1, INT_MAX, &r->ranks))
        return "ranks";
    if (!get_number(obj, "flops", false, &r->flops) || r->flops < 0)
        return "flops";
    /* complete: a finite objective; diverged or failed: +inf, whatever was written */
    if (!get_number(obj, "objective", r->status != MUP_RUN_COMPLETE, &r->objective))
        return r->status == MUP_RUN_COMPLETE ? "objective (a complete run's is a finite number)" : "objective";
    r->last_value = r->status == MUP_RUN_PRUNED ? r->objective : NAN;
    if (r->status != MUP_RUN_COMPLETE)
        r->objective = INFINITY;
    /* a run that trained has its result; one that failed before it trained has none */
    r->best_objective = r->seconds = NAN;
    if (r->status != MUP_RUN_COMPLETE && !cJSON_HasObjectItem(obj, "curve"))
        return NULL;
    if (!get_number(obj, "best_objective", true, &r->best_objective))
        return "best_objective";
    if (!get_number(obj, "seconds", false, &r->seconds) || r->seconds < 0)
        return "seconds";
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "final")))
        return "final";
    return read_curves(obj, r);
}

/* A built-in run's spec, or a program run's: its widths, then the searched values of "program" (a
 * value missing or not allowed stays unset, so the record matches no run and the run is done again). */
static mup_status spec_from_json(const mup_sweep_config *c, const cJSON *spec, mup_run_spec *s) {
    if (c->kind == MUP_RUN_BUILTIN)
        return mup_run_spec_from_json(s, spec);
    cJSON *copy = cJSON_Duplicate(spec, true);
    cJSON *program = cJSON_DetachItemFromObjectCaseSensitive(copy, "program");
    mup_status st = mup_run_spec_from_json(s, copy);
    double *values = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    mup_params_from_json(c, program, values);
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
    *r = (mup_run_record){.objective = INFINITY};
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    int phase = get_name(obj, "phase", phase_names), status = get_name(obj, "status", status_names);
    if (!cJSON_IsString(id) || strlen(id->valuestring) >= MUP_RUN_ID_MAX || phase < 0 || status < 0 ||
        !cJSON_IsObject(spec))
        return mup_error(MUP_ERR_FORMAT, "a run record lacks its id, phase, status or spec");
    snprintf(r->id, sizeof r->id, "%s", id->valuestring);
    r->phase = (mup_phase)phase;
    r->status = (mup_run_status)status;
    const char *bad = read_fields(c, obj, r);
    if (bad) {
        mup_run_record_free(r);
        return mup_error(MUP_ERR_FORMAT, "run %s: the record's %s is missing or wrong", id->valuestring, bad);
    }
    mup_run_spec s;
    mup_status st = spec_from_json(c, spec, &s);
    if (st) {
        mup_run_record_free(r);
        return mup_error_context(st, "run %s: spec: ", id->valuestring);
    }
    r->spec_text = mup_run_spec_text(c, &s);
    read_unread(cJSON_GetObjectItemCaseSensitive(obj, "unread"), r);
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
    free(r->inter_step);
    free(r->inter_value);
    *r = (mup_run_record){0};
}

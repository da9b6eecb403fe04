#include "coord_verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "runs.h"

int mup_coord_exit_status(mup_coord_status s) {
    switch (s) {
    case MUP_COORD_PASS: return MUP_EXIT_OK;
    case MUP_COORD_FAIL: return MUP_EXIT_FAILED;
    case MUP_COORD_INCONCLUSIVE: return MUP_EXIT_INCONCLUSIVE;
    }
    mup_assert_fail(__FILE__, __LINE__, "mup_coord_exit_status: no status %d", (int)s);
}

/* The names of the layers with some step of the given status. */
static cJSON *layers_with(const mup_coord_result *r, mup_coord_status status) {
    cJSON *a = cJSON_CreateArray();
    for (int l = 0; l < r->n_layers; l++) {
        bool any = false;
        for (int t = 0; t < r->steps; t++)
            any |= mup_coord_verdict_at(r, t, l)->status == status;
        if (any)
            cJSON_AddItemToArray(a, cJSON_CreateString(r->layers[l].name));
    }
    return a;
}

static cJSON *layer_step(const mup_coord_result *r, int t, int l) {
    const mup_coord_verdict *v = mup_coord_verdict_at(r, t, l);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "layer", r->layers[l].name);
    cJSON_AddNumberToObject(o, "step", t + 1);
    cJSON_AddItemToObject(o, "slope", mup_json_number_or_null(v->slope));      /* null: l1 0 or not finite */
    cJSON_AddItemToObject(o, "se", mup_json_number_or_null(v->se));            /* null: no noise measured */
    cJSON_AddItemToObject(o, "ratio_per_4x", mup_json_number_or_null(v->ratio));
    cJSON_AddItemToObject(o, "lo", mup_json_number(v->lo));
    cJSON_AddItemToObject(o, "hi", mup_json_number(v->hi));
    cJSON_AddBoolToObject(o, "zero", v->zero);
    cJSON_AddStringToObject(o, "status", mup_coord_status_name(v->status));
    return o;
}

static cJSON *run_json(const mup_coord_result *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "parametrization", mup_parametrization_name(r->parametrization));
    cJSON_AddStringToObject(o, "verdict", mup_coord_status_name(r->status));
    cJSON_AddStringToObject(o, "axis", strcmp(r->axis, "depth") == 0 ? "depth" : "width");
    cJSON_AddItemToObject(o, "widths", cJSON_CreateIntArray(r->widths, r->n_widths)); /* depths when axis is depth */
    cJSON_AddNumberToObject(o, "seeds", r->n_seeds);
    cJSON_AddNumberToObject(o, "steps", r->steps);
    cJSON_AddItemToObject(o, "factor", mup_json_number(r->factor));
    cJSON_AddItemToObject(o, "alpha", mup_json_number(r->alpha));
    cJSON_AddNumberToObject(o, "dof", r->dof);
    cJSON_AddItemToObject(o, "k_pass", mup_json_number_or_null(r->k_pass));
    cJSON_AddItemToObject(o, "k_fail", mup_json_number_or_null(r->k_fail));
    int total = r->steps * r->n_layers;
    cJSON_AddNumberToObject(o, "layer_steps", total);
    cJSON_AddNumberToObject(o, "passed", total - r->n_failed - r->n_inconclusive);
    cJSON_AddNumberToObject(o, "failed", r->n_failed);
    cJSON_AddNumberToObject(o, "inconclusive", r->n_inconclusive);
    cJSON_AddItemToObject(o, "failing_layers", layers_with(r, MUP_COORD_FAIL));
    cJSON_AddItemToObject(o, "inconclusive_layers", layers_with(r, MUP_COORD_INCONCLUSIVE));
    cJSON *rows = cJSON_AddArrayToObject(o, "verdicts");
    for (int l = 0; l < r->n_layers; l++)
        for (int t = 0; t < r->steps; t++)
            cJSON_AddItemToArray(rows, layer_step(r, t, l));
    return o;
}

mup_status mup_coord_write_verdict(const char *dir, const mup_coord_result *const *runs, int n_runs) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "libmup-coord-verdict");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "verdict", mup_coord_status_name(runs[0]->status));
    cJSON_AddNumberToObject(root, "exit_status", mup_coord_exit_status(runs[0]->status));
    cJSON *a = cJSON_AddArrayToObject(root, "runs");
    for (int i = 0; i < n_runs; i++)
        cJSON_AddItemToArray(a, run_json(runs[i]));
    return mup_json_save(dir, "verdict.json", root);
}

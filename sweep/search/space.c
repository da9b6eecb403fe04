/* search.space: which spec keys are searched, over which distributions. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "distribution.h"
#include "protocol.h"

#define D mup_search_dim
static const mup_key dim_keys[] = {
    MUP_KEY_ENUM("space", "dist", D, dist, -1, mup_distribution_names, "distribution type kind",
                 "the distribution (see below)"),
    MUP_KEY_FLOAT("space", "low", D, low, NAN, MUP_RANGE_ANY, "min lower",
                  "lower end: a value (uniform, loguniform), an exponent of 2 (log2uniform) or an integer "
                  "(int)"),
    MUP_KEY_FLOAT("space", "high", D, high, NAN, MUP_RANGE_ANY, "max upper",
                  "upper end, in the same units as low; above low"),
    MUP_KEY_INT("space", "grid", D, grid, 0, MUP_RANGE_FROM(2), "points n_points num",
                "grid sampler: points along this key, evenly spaced in the distribution's own scale "
                "(log for the log distributions), both ends included; choice ignores it"),
};
#undef D
#define N_DIM_KEYS ((int)(sizeof dim_keys / sizeof dim_keys[0]))

static const char *const dim_extra[] = {"values", NULL};

static const char *type_words(const mup_key *k) {
    return k->type == MUP_KEY_BOOL ? "true/false" : k->type == MUP_KEY_ENUM ? "named values" : "text";
}

/* Which distributions can give the key's values. */
static mup_status check_fits(const mup_search_dim *d, const char *path) {
    const mup_key *k = d->key;
    if (k->type == MUP_KEY_STRING)
        return mup_error(MUP_ERR_INVALID, "%s: %s.%s is text and cannot be searched", path, k->section, k->name);
    if (!mup_distribution(d->dist)->ranged)
        return MUP_OK;
    if (!mup_key_is_numeric(k))
        return mup_error(MUP_ERR_INVALID, "%s: %s draws numbers, but %s.%s takes %s (use choice)", path,
                         mup_distribution(d->dist)->name, k->section, k->name, type_words(k));
    if (k->type == MUP_KEY_INT && !mup_distribution(d->dist)->integer)
        return mup_error(MUP_ERR_INVALID, "%s: %s draws fractions, but %s.%s is an integer (use int or choice)",
                         path, mup_distribution(d->dist)->name, k->section, k->name);
    return MUP_OK;
}

/* The ends of the distribution as values of the key must be values the key allows. */
static mup_status check_end(const mup_search_dim *d, const char *path, const char *end, double x) {
    const mup_key *k = d->key;
    const mup_distribution_info *i = mup_distribution(d->dist);
    double v = i->bounds_in_scale ? i->from_scale(x) : x;
    if (mup_key_in_range(k, v))
        return MUP_OK;
    char allowed[128];
    mup_key_format_allowed(k, allowed, sizeof allowed);
    if (i->bounds_in_scale)
        return mup_error(MUP_ERR_INVALID, "%s.%s: 2^%g = %g is outside %s.%s's allowed range %s", path, end, x,
                         v, k->section, k->name, allowed);
    return mup_error(MUP_ERR_INVALID, "%s.%s: %g is outside %s.%s's allowed range %s", path, end, x,
                     k->section, k->name, allowed);
}

static mup_status read_range(mup_search_dim *d, const cJSON *m, const char *path) {
    if (cJSON_GetObjectItemCaseSensitive(m, "values"))
        return mup_error(MUP_ERR_INVALID, "%s.values: only choice takes values (%s takes low and high)", path,
                         mup_distribution(d->dist)->name);
    if (!cJSON_GetObjectItemCaseSensitive(m, "low"))
        return mup_error(MUP_ERR_INVALID, "%s.low: missing (%s needs low and high)", path, mup_distribution(d->dist)->name);
    if (!cJSON_GetObjectItemCaseSensitive(m, "high"))
        return mup_error(MUP_ERR_INVALID, "%s.high: missing (%s needs low and high)", path, mup_distribution(d->dist)->name);
    const mup_distribution_info *i = mup_distribution(d->dist);
    if (i->integer) {
        if (d->low != floor(d->low))
            return mup_error(MUP_ERR_INVALID, "%s.low: int needs an integer, got %g", path, d->low);
        if (d->high != floor(d->high))
            return mup_error(MUP_ERR_INVALID, "%s.high: int needs an integer, got %g", path, d->high);
    }
    if (!(d->low < d->high))
        return mup_error(MUP_ERR_INVALID, "%s: low (%g) must be below high (%g)", path, d->low, d->high);
    if (i->log && !i->bounds_in_scale && d->low <= 0)
        return mup_error(MUP_ERR_INVALID, "%s.low: %s needs low > 0, got %g", path, i->name, d->low);
    mup_status s = check_end(d, path, "low", d->low);
    if (!s)
        s = check_end(d, path, "high", d->high);
    if (!s && i->integer && d->grid > d->high - d->low + 1)
        return mup_error(MUP_ERR_INVALID, "%s.grid: %d distinct points do not fit in the %g integers from %g to %g",
                         path, d->grid, d->high - d->low + 1, d->low, d->high);
    return s;
}

static mup_status read_values(mup_search_dim *d, const cJSON *m, const char *path) {
    const char *ends[] = {"low", "high"};
    for (int i = 0; i < 2; i++)
        if (cJSON_GetObjectItemCaseSensitive(m, ends[i]))
            return mup_error(MUP_ERR_INVALID, "%s.%s: choice takes values, not low and high", path, ends[i]);
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(m, "values");
    if (!vals)
        return mup_error(MUP_ERR_INVALID, "%s.values: missing (choice needs a list of values)", path);
    char at[300];
    snprintf(at, sizeof at, "%s.values", path);
    return mup_key_read_list(d->key, vals, at, &d->values, &d->n_values);
}

/* ---- a program's keys: made from their names, typed by their distributions ---- */

/* What the sweep sets in every trial itself (docs/trial-protocol.md). */
static const char *const reserved[] = {"width", "seed", "base_width", "delta_width", "run_id", "run_dir",
                                       "checkpoint", "trial_file", "phase", NULL};

static int by_name(const void *a, const void *b) {
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* The key's type from its entry: int draws integers, choice takes the type its values share. */
static void type_key(mup_key *k, const cJSON *m) {
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(m, "dist");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(m, "values");
    k->type = MUP_KEY_FLOAT;
    if (cJSON_IsString(dist) && strcmp(dist->valuestring, "int") == 0)
        k->type = MUP_KEY_INT;
    if (!cJSON_IsString(dist) || strcmp(dist->valuestring, "choice") != 0 || !cJSON_IsArray(vals) || !vals->child)
        return;
    int n = cJSON_GetArraySize(vals), bools = 0, names = 0;
    for (const cJSON *v = vals->child; v; v = v->next) {
        bools += cJSON_IsBool(v);
        names += cJSON_IsString(v) && mup_safe_name(v->valuestring);
    }
    if (bools == n) {
        k->type = MUP_KEY_BOOL;
    } else if (names == n) {
        char **values = mup_tool_xcalloc((size_t)n + 1, sizeof *values);
        int i = 0;
        for (const cJSON *v = vals->child; v; v = v->next)
            values[i++] = mup_tool_xstrdup(v->valuestring);
        k->type = MUP_KEY_ENUM;
        k->values = (const char *const *)values;
    }
}

static mup_status make_program_keys(mup_sweep_config *c, const cJSON *obj) {
    int n = cJSON_GetArraySize(obj);
    if (n > MUP_PROGRAM_KEYS_MAX)
        return mup_error(MUP_ERR_INVALID, "search.space: %d keys, more than the %d a program run takes", n,
                         MUP_PROGRAM_KEYS_MAX);
    const cJSON **sorted = mup_tool_xcalloc((size_t)n + 1, sizeof *sorted);
    int i = 0;
    for (const cJSON *m = obj->child; m; m = m->next)
        sorted[i++] = m;
    /* the keys' order, hence the plan, must not depend on the order they were written in */
    qsort(sorted, (size_t)n, sizeof *sorted, by_name);
    c->program_keys = mup_tool_xcalloc((size_t)n, sizeof *c->program_keys);
    mup_status s = MUP_OK;
    for (i = 0; i < n && !s; i++) {
        const char *name = sorted[i]->string;
        if (!mup_safe_name(name)) {
            s = mup_error(MUP_ERR_INVALID, "search.space: \"%.40s\" is not a key name (1 to %d of A-Z a-z 0-9 _ . -)",
                          name, MUP_SAFE_NAME_MAX);
            break;
        }
        for (int r = 0; reserved[r]; r++)
            if (strcmp(name, reserved[r]) == 0)
                s = mup_error(MUP_ERR_INVALID, "search.space.%s: the sweep sets %s in every trial; it is not searched",
                              name, name);
        if (!s && i > 0 && strcmp(sorted[i - 1]->string, name) == 0)
            s = mup_error(MUP_ERR_INVALID, "search.space.%s: duplicate key", name);
        mup_key *k = &c->program_keys[c->n_program_keys++];
        *k = (mup_key){.section = "", .name = mup_tool_xstrdup(name), .range = MUP_RANGE_ANY, .doc = ""};
        type_key(k, sorted[i]);
        k->offset = offsetof(mup_run_spec, program) + (size_t)i * sizeof(mup_program_slot);
        k->size = k->type == MUP_KEY_FLOAT ? sizeof(double) : k->type == MUP_KEY_BOOL ? sizeof(bool) : sizeof(int);
    }
    free(sorted);
    return s;
}

void mup_program_keys_free(mup_sweep_config *c) {
    for (int i = 0; i < c->n_program_keys; i++) {
        mup_key *k = &c->program_keys[i];
        for (int v = 0; k->values && k->values[v]; v++)
            free((char *)k->values[v]);
        free((void *)k->values);
        free((char *)k->name);
    }
    free(c->program_keys);
    c->program_keys = NULL;
    c->n_program_keys = 0;
}

static mup_status find_key(const mup_sweep_config *c, const char *name, const char *path, const mup_key **out) {
    if (c->kind == MUP_RUN_BUILTIN) {
        if (strcmp(name, "width") == 0 || strcmp(name, "seed") == 0)
            return mup_error(MUP_ERR_INVALID, "%s: the %s of a run is not searched (%s)", path, name,
                             name[0] == 'w' ? "proxy_widths and target.width set it"
                                            : "search.seeds and target.seeds set the runs' seeds");
        mup_status s = mup_spec_key_lookup(name, "search.space", out);
        if (!s && strcmp((*out)->section, "data") == 0)
            return mup_error(MUP_ERR_INVALID, "%s: data keys cannot be searched (every run sees the same data)", path);
        return s;
    }
    for (int i = 0; i < c->n_program_keys; i++)
        if (strcmp(c->program_keys[i].name, name) == 0) {
            *out = &c->program_keys[i];
            return MUP_OK;
        }
    return mup_error(MUP_ERR_INVALID, "%s: no such key", path);
}

static mup_status read_dim(const mup_sweep_config *c, mup_search_dim *d, const cJSON *m) {
    char path[256];
    mup_sampler_kind sampler = c->search.sampler;
    mup_key_path(path, sizeof path, "search.space", m->string);
    mup_status s = find_key(c, m->string, path, &d->key);
    if (s)
        return s;
    if (!cJSON_IsObject(m))
        return mup_error(MUP_ERR_INVALID, "%s: expected an object like {\"dist\": \"uniform\", \"low\": 0, "
                         "\"high\": 1}, got %s", path, mup_json_type_name(m));
    mup_keys_set_defaults(dim_keys, N_DIM_KEYS, d);
    mup_key_scope scope = {dim_keys, N_DIM_KEYS, "space", dim_extra, {{NULL, 0}}};
    s = mup_keys_read(&scope, d, m, path);
    if (s)
        return s;
    if (!cJSON_GetObjectItemCaseSensitive(m, "dist"))
        return mup_error(MUP_ERR_INVALID, "%s.dist: missing (one of uniform, loguniform, log2uniform, int, choice)",
                         path);
    s = check_fits(d, path);
    if (s)
        return s;
    if (sampler == MUP_SAMPLER_GRID && mup_distribution(d->dist)->ranged && d->grid == 0)
        return mup_error(MUP_ERR_INVALID, "%s.grid: missing (the grid sampler needs each key's number of points)",
                         path);
    return mup_distribution(d->dist)->ranged ? read_range(d, m, path) : read_values(d, m, path);
}

static int by_key(const void *a, const void *b) {
    const mup_key *ka = ((const mup_search_dim *)a)->key, *kb = ((const mup_search_dim *)b)->key;
    return (ka > kb) - (ka < kb);
}

mup_status mup_search_space_read(mup_sweep_config *c, const cJSON *obj) {
    if (!cJSON_IsObject(obj))
        return mup_error(MUP_ERR_INVALID, "search.space: expected an object of searched keys, got %s",
                         mup_json_type_name(obj));
    int n = cJSON_GetArraySize(obj);
    if (n == 0)
        return mup_error(MUP_ERR_INVALID, "search.space: empty (name at least one key to search)");
    if (c->kind == MUP_RUN_PROGRAM) {
        mup_status s = make_program_keys(c, obj);
        if (s)
            return s;
    }
    c->search.dims = mup_tool_xcalloc((size_t)n, sizeof *c->search.dims);
    for (const cJSON *m = obj->child; m; m = m->next) {
        mup_search_dim *d = &c->search.dims[c->search.n_dims++];
        for (const cJSON *p = obj->child; p != m; p = p->next)
            if (strcmp(p->string, m->string) == 0)
                return mup_error(MUP_ERR_INVALID, "search.space.%s: duplicate key", m->string);
        mup_status s = read_dim(c, d, m);
        if (s)
            return s;
        for (int j = 0; j < c->search.n_dims - 1; j++)
            if (c->search.dims[j].key == d->key)
                return mup_error(MUP_ERR_INVALID, "search.space.%s: %s.%s is already searched", m->string,
                                 d->key->section, d->key->name);
    }
    /* the plan must not depend on the order the keys were written in */
    qsort(c->search.dims, (size_t)n, sizeof *c->search.dims, by_key);
    return MUP_OK;
}

cJSON *mup_search_space_to_json(const mup_sweep_config *c) {
    cJSON *space = cJSON_CreateObject();
    char name[128];
    for (int i = 0; i < c->search.n_dims; i++) {
        const mup_search_dim *d = &c->search.dims[i];
        cJSON *o = cJSON_AddObjectToObject(space, mup_key_path(name, sizeof name, d->key->section, d->key->name));
        cJSON_AddStringToObject(o, "dist", mup_distribution(d->dist)->name);
        if (!mup_distribution(d->dist)->ranged) {
            cJSON *vals = cJSON_AddArrayToObject(o, "values");
            for (int j = 0; j < d->n_values; j++)
                cJSON_AddItemToArray(vals, mup_key_value_to_json(d->key, d->values[j]));
        } else {
            cJSON_AddItemToObject(o, "low", mup_json_number(d->low));
            cJSON_AddItemToObject(o, "high", mup_json_number(d->high));
        }
        if (d->grid > 0)
            cJSON_AddNumberToObject(o, "grid", d->grid);
    }
    return space;
}

void mup_search_space_write_markdown(FILE *f) {
    mup_keys_write_markdown(dim_keys, N_DIM_KEYS, "space", f);
    fprintf(f, "| `values` | list | none | values of the key | choice: the values to choose from |\n");
    fprintf(f, "\nThe distributions (`u` is uniform in [0, 1)):\n\n| dist | takes | draws |\n|---|---|---|\n");
    for (int k = 0; mup_distribution_names[k]; k++)
        fprintf(f, "| `%s` | %s | %s |\n", mup_distribution(k)->name, mup_distribution(k)->takes, mup_distribution(k)->draws);
}

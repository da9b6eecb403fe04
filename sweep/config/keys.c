#include "keys.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "suggest.h"

static void *field(const mup_key *k, void *base) { return (char *)base + k->offset; }
static const void *cfield(const mup_key *k, const void *base) { return (const char *)base + k->offset; }

static void check_size(const mup_key *k) {
    size_t want = k->type == MUP_KEY_FLOAT ? sizeof(double)
                : k->type == MUP_KEY_BOOL  ? sizeof(bool)
                : k->type == MUP_KEY_STRING ? k->size
                                            : sizeof(int);
    MUP_ASSERT(k->size == want, "key %s.%s: field of %zu bytes does not fit its type", k->section,
               k->name, k->size);
}

const char *mup_key_path(char *buf, size_t n, const char *prefix, const char *name) {
    snprintf(buf, n, "%s%s%s", prefix, *prefix ? "." : "", name);
    return buf;
}

/* Stores v without checks: a default outside the key's range marks a key without one. */
static void store(const mup_key *k, void *base, double v) {
    switch (k->type) {
    case MUP_KEY_FLOAT: *(double *)field(k, base) = v; return;
    case MUP_KEY_BOOL: *(bool *)field(k, base) = v != 0; return;
    case MUP_KEY_INT:
    case MUP_KEY_ENUM: *(int *)field(k, base) = (int)v; return;
    case MUP_KEY_STRING: break;
    }
}

void mup_keys_set_defaults(const mup_key *keys, int n, void *base) {
    for (int i = 0; i < n; i++) {
        const mup_key *k = &keys[i];
        check_size(k);
        if (k->type == MUP_KEY_STRING)
            snprintf(field(k, base), k->size, "%s", k->def_str ? k->def_str : "");
        else
            store(k, base, mup_key_has_default(k) ? k->def : 0);
    }
}

bool mup_key_is_default(const mup_key *k, const void *base) {
    if (k->type == MUP_KEY_STRING)
        return strcmp(cfield(k, base), k->def_str ? k->def_str : "") == 0;
    double v = mup_key_get(k, base), def = mup_key_has_default(k) ? k->def : 0;
    return v == def || (isnan(v) && isnan(def));
}

bool mup_key_written(const mup_key *k, const void *base) {
    return !(k->flags & MUP_KEY_OMIT_DEFAULT) || !mup_key_is_default(k, base);
}

bool mup_key_has_default(const mup_key *k) {
    if (k->flags & MUP_KEY_NULLABLE)
        return true;
    switch (k->type) {
    case MUP_KEY_INT:
    case MUP_KEY_FLOAT: return mup_key_in_range(k, k->def);
    case MUP_KEY_ENUM: return k->def >= 0;
    case MUP_KEY_BOOL:
    case MUP_KEY_STRING: return true;
    }
    return false;
}

double mup_key_get(const mup_key *k, const void *base) {
    switch (k->type) {
    case MUP_KEY_FLOAT: return *(const double *)cfield(k, base);
    case MUP_KEY_BOOL: return *(const bool *)cfield(k, base);
    case MUP_KEY_INT:
    case MUP_KEY_ENUM: return *(const int *)cfield(k, base);
    case MUP_KEY_STRING: break;
    }
    mup_assert_fail(__FILE__, __LINE__, "key %s.%s is a string, not a number", k->section, k->name);
}

static int enum_count(const mup_key *k) {
    int n = 0;
    while (k->values[n])
        n++;
    return n;
}

static int enum_find(const mup_key *k, const char *s) {
    for (int i = 0; k->values[i]; i++)
        if (strcmp(k->values[i], s) == 0)
            return i;
    return -1;
}

bool mup_key_is_numeric(const mup_key *k) { return k->type == MUP_KEY_INT || k->type == MUP_KEY_FLOAT; }

bool mup_key_in_range(const mup_key *k, double v) {
    if (!mup_key_is_numeric(k))
        return true;
    if (k->type == MUP_KEY_INT && fabs(v) > INT_MAX)
        return false;
    const mup_key_range *r = &k->range;
    bool lo_ok = r->lo_open ? v > r->lo : v >= r->lo;
    bool hi_ok = r->hi_open ? v < r->hi : v <= r->hi;
    return lo_ok && hi_ok;
}

void mup_key_format_allowed(const mup_key *k, char *buf, size_t n) {
    switch (k->type) {
    case MUP_KEY_INT: /* an int holds the value: a bound the table leaves open ends at INT_MAX */
        snprintf(buf, n, "%c%.0f, %.0f%c", k->range.lo_open ? '(' : '[', fmax(k->range.lo, -INT_MAX),
                 fmin(k->range.hi, INT_MAX), k->range.hi_open && k->range.hi <= INT_MAX ? ')' : ']');
        return;
    case MUP_KEY_FLOAT:
        snprintf(buf, n, "%c%g, %g%c%s", k->range.lo_open ? '(' : '[', k->range.lo, k->range.hi,
                 k->range.hi_open ? ')' : ']', k->flags & MUP_KEY_NULLABLE ? " or null" : "");
        return;
    case MUP_KEY_BOOL: snprintf(buf, n, "true, false"); return;
    case MUP_KEY_STRING: snprintf(buf, n, "text"); return;
    case MUP_KEY_ENUM: {
        size_t used = 0;
        buf[0] = '\0';
        for (int i = 0; k->values[i] && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", k->values[i]);
        return;
    }
    }
}

mup_status mup_key_set(const mup_key *k, void *base, double v, const char *path) {
    char allowed[256];
    switch (k->type) {
    case MUP_KEY_INT:
        if (!isfinite(v) || v != floor(v))
            return mup_error(MUP_ERR_INVALID, "%s: expected an integer, got %g", path, v);
        if (!mup_key_in_range(k, v)) {
            char given[32];
            snprintf(given, sizeof given, fabs(v) < 1e15 ? "%.0f" : "%g", v); /* every digit of a size */
            mup_key_format_allowed(k, allowed, sizeof allowed);
            return mup_error(MUP_ERR_INVALID, "%s: %s is out of range (allowed: %s)", path, given, allowed);
        }
        *(int *)field(k, base) = (int)v;
        return MUP_OK;
    case MUP_KEY_FLOAT:
        if (isnan(v) && (k->flags & MUP_KEY_NULLABLE)) {
            *(double *)field(k, base) = v;
            return MUP_OK;
        }
        if (!isfinite(v) || !mup_key_in_range(k, v)) {
            mup_key_format_allowed(k, allowed, sizeof allowed);
            return mup_error(MUP_ERR_INVALID, "%s: %g is out of range (allowed: %s)", path, v, allowed);
        }
        *(double *)field(k, base) = v;
        return MUP_OK;
    case MUP_KEY_BOOL:
        if (v != 0 && v != 1)
            return mup_error(MUP_ERR_INVALID, "%s: expected true or false, got %g", path, v);
        *(bool *)field(k, base) = v != 0;
        return MUP_OK;
    case MUP_KEY_ENUM:
        if (v != floor(v) || v < 0 || v >= enum_count(k))
            return mup_error(MUP_ERR_INVALID, "%s: %g is not one of its %d values", path, v, enum_count(k));
        *(int *)field(k, base) = (int)v;
        return MUP_OK;
    case MUP_KEY_STRING: break;
    }
    mup_assert_fail(__FILE__, __LINE__, "key %s.%s is a string: set it from text", k->section, k->name);
}

void mup_key_format(const mup_key *k, double v, char *buf, size_t n) {
    switch (k->type) {
    case MUP_KEY_INT: snprintf(buf, n, "%d", (int)v); return;
    case MUP_KEY_FLOAT: snprintf(buf, n, isnan(v) ? "null" : "%g", v); return;
    case MUP_KEY_BOOL: snprintf(buf, n, "%s", v != 0 ? "true" : "false"); return;
    case MUP_KEY_ENUM: snprintf(buf, n, "%s", k->values[(int)v]); return;
    case MUP_KEY_STRING: break;
    }
    mup_assert_fail(__FILE__, __LINE__, "key %s.%s is a string, not a number", k->section, k->name);
}

void mup_key_format_field(const mup_key *k, const void *base, char *buf, size_t n) {
    if (k->type == MUP_KEY_STRING)
        snprintf(buf, n, "\"%s\"", (const char *)cfield(k, base));
    else
        mup_key_format(k, mup_key_get(k, base), buf, n);
}

void mup_key_format_default(const mup_key *k, char *buf, size_t n) {
    if (!mup_key_has_default(k))
        snprintf(buf, n, "none");
    else if (k->type == MUP_KEY_STRING)
        snprintf(buf, n, "\"%s\"", k->def_str ? k->def_str : "");
    else
        mup_key_format(k, k->def, buf, n);
}

mup_status mup_key_read_list(const mup_key *k, const cJSON *v, const char *path, double **values, int *n) {
    *values = NULL;
    *n = 0;
    if (!cJSON_IsArray(v))
        return mup_error(MUP_ERR_INVALID, "%s: expected a list, got %s", path, mup_json_type_name(v));
    int len = cJSON_GetArraySize(v);
    if (len == 0)
        return mup_error(MUP_ERR_INVALID, "%s: empty", path);
    *values = mup_tool_xcalloc((size_t)len, sizeof **values);
    char at[300];
    for (const cJSON *item = v->child; item; item = item->next) {
        snprintf(at, sizeof at, "%s[%d]", path, *n);
        mup_status s = mup_key_choice_from_json(k, item, at, &(*values)[*n]);
        if (s)
            return s;
        for (int j = 0; j < *n; j++)
            if ((*values)[j] == (*values)[*n])
                return mup_error(MUP_ERR_INVALID, "%s: repeats %s[%d]", at, path, j);
        (*n)++;
    }
    return MUP_OK;
}

static mup_status enum_from_json(const mup_key *k, const cJSON *v, const char *path, int *out) {
    char allowed[256];
    mup_key_format_allowed(k, allowed, sizeof allowed);
    if (!cJSON_IsString(v))
        return mup_error(MUP_ERR_INVALID, "%s: expected one of %s (a string), got %s", path, allowed,
                         mup_json_type_name(v));
    *out = enum_find(k, v->valuestring);
    if (*out >= 0)
        return MUP_OK;
    const char *near = NULL;
    int best = INT_MAX;
    for (int i = 0; k->values[i]; i++) {
        int d = mup_suggest_distance(v->valuestring, k->values[i]);
        if (d >= 0 && d < best) {
            best = d;
            near = k->values[i];
        }
    }
    if (near)
        return mup_error(MUP_ERR_INVALID, "%s: \"%s\" is not allowed (did you mean \"%s\"? allowed: %s)",
                         path, v->valuestring, near, allowed);
    return mup_error(MUP_ERR_INVALID, "%s: \"%s\" is not allowed (allowed: %s)", path, v->valuestring,
                     allowed);
}

mup_status mup_key_from_json(const mup_key *k, void *base, const cJSON *v, const char *path) {
    switch (k->type) {
    case MUP_KEY_INT:
    case MUP_KEY_FLOAT: {
        double x;
        if ((k->flags & MUP_KEY_NULLABLE) && cJSON_IsNull(v))
            return mup_key_set(k, base, NAN, path);
        if (!mup_json_get_number(v, &x))
            return mup_error(MUP_ERR_INVALID, "%s: expected %s, got %s", path,
                             k->type == MUP_KEY_INT                ? "an integer"
                             : (k->flags & MUP_KEY_NULLABLE)        ? "a number or null"
                                                                    : "a number",
                             mup_json_type_name(v));
        return mup_key_set(k, base, x, path);
    }
    case MUP_KEY_BOOL:
        if (!cJSON_IsBool(v))
            return mup_error(MUP_ERR_INVALID, "%s: expected true or false, got %s", path,
                             mup_json_type_name(v));
        return mup_key_set(k, base, cJSON_IsTrue(v), path);
    case MUP_KEY_ENUM: {
        int e;
        mup_status s = enum_from_json(k, v, path, &e);
        return s ? s : mup_key_set(k, base, e, path);
    }
    case MUP_KEY_STRING:
        if (!cJSON_IsString(v))
            return mup_error(MUP_ERR_INVALID, "%s: expected a string, got %s", path, mup_json_type_name(v));
        if (strlen(v->valuestring) >= k->size)
            return mup_error(MUP_ERR_INVALID, "%s: longer than %zu characters", path, k->size - 1);
        memcpy(field(k, base), v->valuestring, strlen(v->valuestring) + 1);
        return MUP_OK;
    }
    return mup_error(MUP_ERR_INVALID, "%s: key of unknown type", path);
}

mup_status mup_key_from_text(const mup_key *k, void *base, const char *text, const char *path) {
    cJSON *v = NULL;
    char *end;
    double x = strtod(text, &end);
    if (k->type == MUP_KEY_ENUM || k->type == MUP_KEY_STRING)
        v = cJSON_CreateString(text);
    else if (k->type == MUP_KEY_BOOL && (!strcmp(text, "true") || !strcmp(text, "1")))
        v = cJSON_CreateTrue();
    else if (k->type == MUP_KEY_BOOL && (!strcmp(text, "false") || !strcmp(text, "0")))
        v = cJSON_CreateFalse();
    else if (k->type != MUP_KEY_BOOL && *text && end != text && *end == '\0')
        v = cJSON_CreateNumber(x);
    else if ((k->flags & MUP_KEY_NULLABLE) && !strcmp(text, "null"))
        v = cJSON_CreateNull();
    if (!v)
        return mup_error(MUP_ERR_INVALID, "%s: expected %s, got \"%s\"", path,
                         k->type == MUP_KEY_BOOL ? "true or false" : k->type == MUP_KEY_INT ? "an integer" : "a number",
                         text);
    mup_status s = mup_key_from_json(k, base, v, path);
    cJSON_Delete(v);
    return s;
}

mup_status mup_key_choice_from_json(const mup_key *k, const cJSON *v, const char *path, double *out) {
    MUP_ASSERT(k->type != MUP_KEY_STRING, "key %s.%s: string keys have no numeric choices", k->section,
               k->name);
    union { int i; double d; bool b; } scratch;
    mup_key at0 = *k;
    at0.offset = 0;
    mup_status s = mup_key_from_json(&at0, &scratch, v, path);
    if (s == MUP_OK)
        *out = mup_key_get(&at0, &scratch);
    return s;
}

cJSON *mup_key_value_to_json(const mup_key *k, double v) {
    switch (k->type) {
    case MUP_KEY_INT:
    case MUP_KEY_FLOAT: return isnan(v) && (k->flags & MUP_KEY_NULLABLE) ? cJSON_CreateNull() : mup_json_number(v);
    case MUP_KEY_BOOL: return cJSON_CreateBool(v != 0);
    case MUP_KEY_ENUM: return cJSON_CreateString(k->values[(int)v]);
    case MUP_KEY_STRING: break;
    }
    mup_assert_fail(__FILE__, __LINE__, "key %s.%s is a string, not a number", k->section, k->name);
}

cJSON *mup_key_to_json(const mup_key *k, const void *base) {
    if (k->type == MUP_KEY_STRING)
        return cJSON_CreateString(cfield(k, base));
    return mup_key_value_to_json(k, mup_key_get(k, base));
}

/* ---- objects ---- */

static bool in_scope(const mup_key_scope *sc, const mup_key *k) {
    return !sc->section || strcmp(k->section, sc->section) == 0;
}

static bool in_list(const char *const *list, const char *name) {
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

typedef struct {
    const char *word;
    int best;
    char suggestion[128];
} nearest;

/* Considers a candidate name, at a cost of penalty extra edits. */
static void consider_name(nearest *nr, const char *name, int penalty, const char *shown) {
    int d = mup_suggest_distance(nr->word, name);
    if (d >= 0 && d + penalty < nr->best) {
        nr->best = d + penalty;
        snprintf(nr->suggestion, sizeof nr->suggestion, "%s", shown);
    }
}

/* Considers a key by its name and each of its aliases. */
static void consider(nearest *nr, const mup_key *k, int penalty, const char *shown) {
    consider_name(nr, k->name, penalty, shown);
    for (const char *a = k->aliases; a && *a;) {
        size_t len = strcspn(a, " ");
        char alias[64];
        snprintf(alias, sizeof alias, "%.*s", (int)len, a);
        consider_name(nr, alias, penalty, shown);
        a += len + (a[len] == ' ');
    }
}

mup_status mup_error_unknown_key(const mup_key_scope *sc, const char *path, const char *name) {
    char full[256], shown[128];
    mup_key_path(full, sizeof full, path, name);
    nearest nr = {.word = name, .best = INT_MAX};
    for (int i = 0; i < sc->n_keys; i++)
        if (in_scope(sc, &sc->keys[i]))
            consider(&nr, &sc->keys[i], 0, sc->keys[i].name);
    for (const char *const *e = sc->extra; e && *e; e++)
        consider_name(&nr, *e, 0, *e);
    /* a key of another section must be nearer by two edits to beat one of this object */
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < sc->hints[t].n; i++) {
            const mup_key *k = &sc->hints[t].keys[i];
            if (!sc->section || strcmp(k->section, sc->section) != 0)
                consider(&nr, k, 2, mup_key_path(shown, sizeof shown, k->section, k->name));
        }
    if (nr.best != INT_MAX)
        return mup_error(MUP_ERR_INVALID, "%s: unknown key (did you mean \"%s\"?)", full, nr.suggestion);

    char valid[768];
    size_t used = 0;
    valid[0] = '\0';
    for (int i = 0; i < sc->n_keys && used < sizeof valid; i++)
        if (in_scope(sc, &sc->keys[i]))
            used += (size_t)snprintf(valid + used, sizeof valid - used, "%s%s", used ? ", " : "",
                                     sc->keys[i].name);
    for (const char *const *e = sc->extra; e && *e && used < sizeof valid; e++)
        used += (size_t)snprintf(valid + used, sizeof valid - used, "%s%s", used ? ", " : "", *e);
    return mup_error(MUP_ERR_INVALID, "%s: unknown key (valid keys: %s)", full, valid);
}

mup_status mup_keys_read(const mup_key_scope *sc, void *base, const cJSON *obj, const char *path) {
    if (!cJSON_IsObject(obj))
        return mup_error(MUP_ERR_INVALID, "%s: expected an object, got %s", *path ? path : "the config",
                         mup_json_type_name(obj));
    char full[256];
    for (const cJSON *m = obj->child; m; m = m->next) {
        mup_key_path(full, sizeof full, path, m->string);
        for (const cJSON *p = obj->child; p != m; p = p->next)
            if (strcmp(p->string, m->string) == 0)
                return mup_error(MUP_ERR_INVALID, "%s: duplicate key", full);
        if (in_list(sc->extra, m->string))
            continue;
        const mup_key *k = NULL;
        for (int i = 0; i < sc->n_keys && !k; i++)
            if (in_scope(sc, &sc->keys[i]) && strcmp(sc->keys[i].name, m->string) == 0)
                k = &sc->keys[i];
        if (!k)
            return mup_error_unknown_key(sc, path, m->string);
        mup_status s = mup_key_from_json(k, base, m, full);
        if (s)
            return s;
    }
    return MUP_OK;
}

void mup_keys_write_markdown(const mup_key *keys, int n, const char *section, FILE *f) {
    static const char *const type_names[] = {"int", "float", "bool", "string", "enum"};
    char def[128], allowed[256];
    fprintf(f, "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const mup_key *k = &keys[i];
        if (strcmp(k->section, section) != 0)
            continue;
        mup_key_format_default(k, def, sizeof def);
        mup_key_format_allowed(k, allowed, sizeof allowed);
        if (mup_key_has_default(k))
            fprintf(f, "| `%s` | %s | `%s` | %s | %s |\n", k->name, type_names[k->type], def, allowed, k->doc);
        else
            fprintf(f, "| `%s` | %s | %s | %s | %s |\n", k->name, type_names[k->type], def, allowed, k->doc);
    }
}

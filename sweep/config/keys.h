/* Settings described by static tables of keys.
 *
 * One entry per setting names its section and key, its type, where it lives in its struct (offsetof),
 * its default, its allowed range or values and a line of documentation. The same entries drive
 * reading JSON (with "did you mean" suggestions for unknown keys), checking values, setting a value by
 * key, printing, writing JSON and the reference tables of docs/sweep-config.md. */
#ifndef MUP_SWEEP_KEYS_H
#define MUP_SWEEP_KEYS_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "mup/error.h"

typedef enum { MUP_KEY_INT, MUP_KEY_FLOAT, MUP_KEY_BOOL, MUP_KEY_STRING, MUP_KEY_ENUM } mup_key_type;

/* Allowed values of an int or float key: lo..hi, each end open or closed. */
typedef struct {
    double lo, hi;
    bool lo_open, hi_open;
} mup_key_range;

#define MUP_RANGE_ANY ((mup_key_range){-INFINITY, INFINITY, true, true})
#define MUP_RANGE_POSITIVE ((mup_key_range){0, INFINITY, true, true})    /* (0, inf) */
#define MUP_RANGE_NONNEG ((mup_key_range){0, INFINITY, false, true})     /* [0, inf) */
#define MUP_RANGE_FROM(x) ((mup_key_range){(x), INFINITY, false, true})  /* [x, inf) */
#define MUP_RANGE_FRACTION ((mup_key_range){0, 1, false, true})          /* [0, 1) */

typedef struct {
    const char *section;        /* "model", "train", ...; "" for keys at the top level */
    const char *name;
    mup_key_type type;
    size_t offset, size;        /* the field in its struct: int, double, bool, char[size], enum */
    double def;                 /* default of int, float, bool (0/1) and enum (value) keys */
    const char *def_str;        /* default of string keys */
    mup_key_range range;        /* int and float keys */
    const char *const *values;  /* enum keys: the names by value, NULL-terminated */
    const char *aliases;        /* names users may try instead ("learning_rate"), space-separated;
                                   only suggested against, never accepted */
    const char *doc;
    unsigned flags;             /* MUP_KEY_NULLABLE, MUP_KEY_OMIT_DEFAULT */
} mup_key;

/* A float key that may be null (stored as NaN, its default): "not set", e.g. a feature that is off. */
#define MUP_KEY_NULLABLE 1u
/* Written to JSON only when it is not its default, so that configs from before the key keep their
 * canonical text (and fingerprint) and the journals of their runs still match. */
#define MUP_KEY_OMIT_DEFAULT 2u

/* Table entries: KEY_INT(section, name, struct, field, default, range, aliases, doc) and so on. */
#define MUP_KEY_FIELD(st, field) offsetof(st, field), sizeof(((st *)0)->field)
#define MUP_KEY_INT(sec, nm, st, field, d, rg, al, doc) \
    {sec, nm, MUP_KEY_INT, MUP_KEY_FIELD(st, field), d, NULL, rg, NULL, al, doc, 0}
#define MUP_KEY_FLOAT(sec, nm, st, field, d, rg, al, doc) \
    {sec, nm, MUP_KEY_FLOAT, MUP_KEY_FIELD(st, field), d, NULL, rg, NULL, al, doc, 0}
#define MUP_KEY_BOOL(sec, nm, st, field, d, al, doc) \
    {sec, nm, MUP_KEY_BOOL, MUP_KEY_FIELD(st, field), d, NULL, MUP_RANGE_ANY, NULL, al, doc, 0}
#define MUP_KEY_STRING(sec, nm, st, field, d, al, doc) \
    {sec, nm, MUP_KEY_STRING, MUP_KEY_FIELD(st, field), 0, d, MUP_RANGE_ANY, NULL, al, doc, 0}
#define MUP_KEY_ENUM(sec, nm, st, field, d, names, al, doc) \
    {sec, nm, MUP_KEY_ENUM, MUP_KEY_FIELD(st, field), d, NULL, MUP_RANGE_ANY, names, al, doc, 0}
/* Keys added after sweeps were journaled: left out of the JSON at their default (MUP_KEY_OMIT_DEFAULT). */
#define MUP_KEY_INT_OMIT(sec, nm, st, field, d, rg, al, doc) \
    {sec, nm, MUP_KEY_INT, MUP_KEY_FIELD(st, field), d, NULL, rg, NULL, al, doc, MUP_KEY_OMIT_DEFAULT}
#define MUP_KEY_BOOL_OMIT(sec, nm, st, field, d, al, doc) \
    {sec, nm, MUP_KEY_BOOL, MUP_KEY_FIELD(st, field), d, NULL, MUP_RANGE_ANY, NULL, al, doc, MUP_KEY_OMIT_DEFAULT}
/* A float key that is null (NaN) unless given, and left out of the JSON then. */
#define MUP_KEY_FLOAT_NULL(sec, nm, st, field, rg, al, doc) \
    {sec, nm, MUP_KEY_FLOAT, MUP_KEY_FIELD(st, field), NAN, NULL, rg, NULL, al, doc, \
     MUP_KEY_NULLABLE | MUP_KEY_OMIT_DEFAULT}

/* Sets every key of the table to its default in the struct at base. A key whose default lies outside
 * its range (NaN, -1 for an enum) has none: it must be given, and is set to 0 here. */
void mup_keys_set_defaults(const mup_key *keys, int n, void *base);
bool mup_key_has_default(const mup_key *k);
/* Whether the field holds what mup_keys_set_defaults stores: the default (null for a nullable key), 0
 * for a key without one. */
bool mup_key_is_default(const mup_key *k, const void *base);
/* Whether the key goes into JSON for the struct at base (not an MUP_KEY_OMIT_DEFAULT key at its default). */
bool mup_key_written(const mup_key *k, const void *base);

/* A numeric view of int, float, bool (0/1) and enum (value) keys. */
double mup_key_get(const mup_key *k, const void *base);
/* Sets an int, float, bool or enum key from a number after checking that it is allowed (an integer
 * in range, a float in range, 0/1, a valid enum value); the error names path. */
mup_status mup_key_set(const mup_key *k, void *base, double v, const char *path);
/* Whether v is in the key's range (int and float keys; always true for the others). */
bool mup_key_in_range(const mup_key *k, double v);
/* Whether the key takes numbers drawn from a continuous or integer distribution. */
bool mup_key_is_numeric(const mup_key *k);

/* "3e-05", "512", "relu", "true": a value of the key as text (%g for floats). */
void mup_key_format(const mup_key *k, double v, char *buf, size_t n);
/* The field's current value as text (string keys included). */
void mup_key_format_field(const mup_key *k, const void *base, char *buf, size_t n);
/* "(0, inf)", "[1, inf)", "relu | tanh | gelu", "true | false", "text": what the key accepts. */
void mup_key_format_allowed(const mup_key *k, char *buf, size_t n);
/* The key's default as text. */
void mup_key_format_default(const mup_key *k, char *buf, size_t n);

/* Reads one JSON value into the key's field: the JSON type must fit (a number for int and float, an
 * integral one for int, true/false for bool, a string of the allowed names for enum) and the value
 * must be allowed. path names the value in the errors. */
mup_status mup_key_from_json(const mup_key *k, void *base, const cJSON *v, const char *path);
cJSON *mup_key_to_json(const mup_key *k, const void *base);
/* A value of a numeric, bool or enum key as JSON: 3, true, "gelu". */
cJSON *mup_key_value_to_json(const mup_key *k, double v);
/* An enum or bool key's value for a JSON choice ("gelu", true): the error names path. */
mup_status mup_key_choice_from_json(const mup_key *k, const cJSON *v, const char *path, double *out);

/* A non-empty JSON list of distinct values of an int, float, bool or enum key, each checked as
 * mup_key_choice_from_json does ("values[2]: ..."). *values is allocated (mup_tool_xcalloc) when v is a
 * non-empty list, and is the caller's to free even when an element is rejected. */
mup_status mup_key_read_list(const mup_key *k, const cJSON *v, const char *path, double **values, int *n);

/* Sets a key from command-line text: a number for int and float keys, true/false (or 1/0) for bool,
 * a name for enum keys, the text itself for string keys; checked as mup_key_from_json checks JSON, and
 * the errors name path (the flag: "--lr"). */
mup_status mup_key_from_text(const mup_key *k, void *base, const char *text, const char *path);

/* ---- reading a JSON object against a table ---- */

/* What may appear in one JSON object: the table's keys of one section, plus names the caller reads
 * itself (extra). Keys of other sections in the hint tables are only used to suggest where a
 * misplaced key belongs ("mup.base_width"). */
typedef struct {
    const mup_key *keys;
    int n_keys;
    const char *section;
    const char *const *extra;   /* NULL-terminated, may be NULL */
    struct {
        const mup_key *keys;
        int n;
    } hints[2];                 /* unused ones NULL */
} mup_key_scope;

/* Reads every member of obj: keys of the scope into base, extra names skipped; rejects duplicate
 * members and unknown names (with the nearest valid name suggested). path is obj's ("train"; "" at
 * the top level). */
mup_status mup_keys_read(const mup_key_scope *scope, void *base, const cJSON *obj, const char *path);

/* The error for a name unknown in scope, at path, suggesting the nearest known one:
 * "train.lerning_rate: unknown key (did you mean "lr"?)", or listing the valid keys when none is near.
 * A scope whose section is NULL holds every key of its table. */
mup_status mup_error_unknown_key(const mup_key_scope *scope, const char *path, const char *name);

/* A markdown table of the table's keys of one section: key, type, default, allowed values, doc. */
void mup_keys_write_markdown(const mup_key *keys, int n, const char *section, FILE *f);

/* "train" + "lr" -> "train.lr" (just "lr" when prefix is empty), into buf. */
const char *mup_key_path(char *buf, size_t n, const char *prefix, const char *name);

#endif

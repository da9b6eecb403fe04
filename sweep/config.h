/* The sweep config: one JSON file saying what to train (the spec sections), what to search and how
 * (search), at which proxy widths, and which wide target gets the best hyperparameters.
 *
 * Loading checks everything before anything runs and fails with one line naming the key path and the
 * problem ("sweep.json: train.lerning_rate: unknown key (did you mean "lr"?)"). The reference of every
 * key is docs/sweep-config.md, written by mup_sweep_config_write_markdown. */
#ifndef MUP_SWEEP_CONFIG_H
#define MUP_SWEEP_CONFIG_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "spec.h"

typedef enum { MUP_SAMPLER_RANDOM, MUP_SAMPLER_SOBOL, MUP_SAMPLER_GRID } mup_sampler_kind;

/* What the sweep minimises, per run. */
typedef enum { MUP_OBJECTIVE_VAL_LOSS, MUP_OBJECTIVE_TRAIN_LOSS, MUP_OBJECTIVE_VAL_ERROR } mup_objective;

typedef enum {
    MUP_DIST_UNIFORM,      /* low..high */
    MUP_DIST_LOGUNIFORM,   /* low..high, uniform in log */
    MUP_DIST_LOG2UNIFORM,  /* 2^x for x uniform in low..high */
    MUP_DIST_INT,          /* integers low..high, both included */
    MUP_DIST_CHOICE,       /* one of values */
} mup_dist_kind;

/* One searched key. */
typedef struct {
    const mup_key *key;    /* into mup_spec_keys() */
    mup_dist_kind dist;
    double low, high;      /* uniform, loguniform: values; log2uniform: exponents; int: the integers */
    double *values;        /* choice: the key's values as numbers (enum value, 0/1 for bool) */
    int n_values;
    int grid;              /* the grid sampler's points; 0 when not given */
} mup_search_dim;

typedef struct {
    char name[128];
    mup_run_spec base;             /* the settings every run starts from; width and seed unset */
    struct {
        mup_sampler_kind sampler;
        int trials;                /* for grid: the product of the keys' points */
        int seeds;                 /* runs per trial and proxy width */
        int seed;                  /* of the sampler */
        mup_search_dim *dims;      /* ordered as the spec's key table, whatever the JSON order */
        int n_dims;
    } search;
    int *proxy_widths;
    int n_proxy_widths;
    bool has_target;               /* without a target, the sweep stops after the proxies */
    struct {
        int width, seeds;
    } target;
    mup_objective objective;
    char fingerprint[17];          /* 64-bit FNV-1a of the canonical JSON, in hex */
} mup_sweep_config;

/* Parses and checks a config; source names it in the errors (a file name; may be NULL).
 * Free the result with mup_sweep_config_free. */
mup_status mup_sweep_config_parse(const char *text, const char *source, mup_sweep_config **out);
/* The same from a file (MUP_ERR_IO when it cannot be read). */
mup_status mup_sweep_config_load(const char *path, mup_sweep_config **out);
void mup_sweep_config_free(mup_sweep_config *c);

/* The canonical JSON of the config: every key with its value (defaults included) in table order,
 * searched keys qualified ("train.lr") and sorted, the grid's trials computed. It parses back to the
 * same config, and two configs that differ only in key order, layout or explicit defaults give the
 * same text, hence the same fingerprint. cJSON_Delete it. */
cJSON *mup_sweep_config_to_json(const mup_sweep_config *c);

const char *mup_objective_name(mup_objective o);
const char *mup_sampler_name(mup_sampler_kind s);

/* The table of the config's own keys: name and objective (section ""), search and target. */
const mup_key *mup_sweep_config_keys(int *n);

/* docs/sweep-config.md, entire: the introduction, then the tables of every key. */
void mup_sweep_config_write_markdown(FILE *f);

/* ---- internal to the sweep library: the search space (space.c) ---- */

/* Reads search.space (obj) against the sampler: the searched keys, their distributions and points. */
mup_status mup_search_space_read(mup_sweep_config *c, const cJSON *obj);
/* {"train.lr": {"dist": ..., ...}, ...} in the order of c->search.dims. */
cJSON *mup_search_space_to_json(const mup_sweep_config *c);
/* The markdown tables of a search.space entry and of the distributions. */
void mup_search_space_write_markdown(FILE *f);
const char *mup_dist_name(mup_dist_kind d);

#endif

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

#include "pruner.h"
#include "spec.h"

typedef enum { MUP_SAMPLER_RANDOM, MUP_SAMPLER_SOBOL, MUP_SAMPLER_GRID, MUP_SAMPLER_TPE } mup_sampler_kind;

/* What the sweep minimises, per run. */
typedef enum { MUP_OBJECTIVE_VAL_LOSS, MUP_OBJECTIVE_TRAIN_LOSS, MUP_OBJECTIVE_VAL_ERROR } mup_objective;

/* Who trains a run: the built-in recipe (model, mup, train and data sections) or the user's program
 * (the program section; docs/trial-protocol.md). */
typedef enum { MUP_RUN_BUILTIN, MUP_RUN_PROGRAM } mup_run_kind;

/* A program run's command. Its argv elements may hold {name} substitutions (program.c). */
typedef struct {
    char **argv;                   /* argc elements, NULL-terminated */
    int argc;
    char **env;                    /* "NAME=value", n_env of them, added to the sweep's environment */
    int n_env;
    char cwd[MUP_SPEC_PATH_MAX];   /* "": the sweep's working directory */
    double timeout;                /* seconds per run; 0: none */
    bool mpi;                      /* the program can train across MPI ranks: under mpirun, a target run is
                                    * started once through launcher, on every rank (program.c) */
    char **launcher;               /* launcher_argc elements, NULL-terminated; may hold {ranks} and {hosts} */
    int launcher_argc;
} mup_program_config;

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
        mup_pruner pruner;         /* search.pruner: stops unpromising proxy runs early (pruner.h) */
        struct {
            int n_startup;         /* trials drawn at random before the model takes over */
            double gamma;          /* the good fraction of the finished trials (tpe.h) */
            int n_candidates;      /* draws from l(x) ranked per key */
        } tpe;                     /* search.tpe: the tpe sampler only */
    } search;
    int *proxy_widths;
    int n_proxy_widths;
    int *proxy_depths;             /* the blocks of the proxies; NULL: the model section's depth */
    int n_proxy_depths;
    bool has_target;               /* without a target, the sweep stops after the proxies */
    struct {
        int width, seeds;
        int depth;                 /* 0: the model section's depth */
    } target;
    mup_objective objective;
    int maximize;                  /* direction (0 minimize, 1 maximize): program objectives only */
    mup_run_kind kind;
    mup_program_config program;    /* kind program */
    char metric[64];               /* kind program: the metric named by objective */
    char objective_label[72];      /* what mup_sweep_objective returns for a program */
    mup_key *program_keys;         /* kind program: the searched keys, made from their names */
    int n_program_keys;
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

/* The proxy models: every proxy width at every proxy depth, index w × n_proxy_depths + d (one depth,
 * 0, the model section's own, when proxy_depths is absent). */
typedef struct {
    int width, depth;              /* depth 0: the model section's */
} mup_proxy;
int mup_proxy_count(const mup_sweep_config *c);
mup_proxy mup_proxy_at(const mup_sweep_config *c, int p);
/* The proxy that picks the setting: the widest, and among those the deepest (the closest to the target). */
int mup_proxy_select(const mup_sweep_config *c);
/* "128", or "128, depth 4" when the sweep sets the depth: what follows "width" in tables and plots. */
const char *mup_proxy_label(const mup_sweep_config *c, int p, char *buf, size_t n);
const char *mup_target_label(const mup_sweep_config *c, char *buf, size_t n);
#define MUP_PROXY_LABEL_MAX 48

const char *mup_objective_name(mup_objective o);
/* What the sweep minimises, as the reports name it: "val_loss", a program's metric, or "-acc" for a
 * metric it maximises (the sweep minimises its negative, so every ranking reads the same). */
const char *mup_sweep_objective(const mup_sweep_config *c);
const char *mup_sampler_name(mup_sampler_kind s);
const char *mup_pruner_name(mup_pruner_kind k);

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
/* Frees the keys a program config made from its search.space names. */
void mup_program_keys_free(mup_sweep_config *c);

#endif

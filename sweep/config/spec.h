/* The run spec: every setting of one training run, grouped in the sections of a sweep config (model,
 * mup, train, data), plus the run's width and seed.
 *
 * The settings are described by one table (mup_spec_keys) that drives parsing, checking, setting a
 * searched value by key, printing, the JSON of the journal and the reference in docs/sweep-config.md.
 * Adding a setting is one field here and one line in spec.c. */
#ifndef MUP_SWEEP_SPEC_H
#define MUP_SWEEP_SPEC_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "keys.h"
#include "mup/model.h"
#include "mup/models.h"
#include "mup/optim.h"

typedef enum { MUP_ARCH_MLP, MUP_ARCH_GPT } mup_arch;

typedef enum { MUP_DATASET_FASHION_MNIST, MUP_DATASET_TEXT, MUP_DATASET_SYNTHETIC } mup_dataset_kind;

#define MUP_SPEC_PATH_MAX 1024

/* A program run's searched values (config.h): keys made from the config's names store here. */
#define MUP_PROGRAM_KEYS_MAX 32
typedef union {
    double f;
    int i;
    bool b;
} mup_program_slot;

typedef struct {
    struct {
        mup_arch arch;
        int depth;                  /* MLP hidden layers */
        mup_activation activation;  /* MLP */
        bool no_bias;               /* MLP */
        bool residual;              /* MLP: fc2 .. fc<depth> are residual blocks */
        int n_layer, n_head;        /* GPT */
        int head_dim;               /* GPT; 0: n_head heads at every width */
        int block_size, ffn_ratio;  /* GPT */
        bool tied;                  /* GPT */
        double dropout;             /* GPT */
    } model;
    struct {
        mup_parametrization parametrization;
        int base_width;
        int delta_width;            /* 0: twice base_width (mup_run_spec_delta_width) */
        double output_mult, input_mult, init_std, attn_mult;
        bool readout_zero_init, zero_query;
        double depth_alpha;         /* NaN: depth scaling off */
        int base_depth;             /* residual blocks of the base depth */
        bool eps_scaling;
    } mup;
    struct {
        mup_optim_kind optimizer;
        double lr, momentum, beta1, beta2, eps, weight_decay;
        double clip;                /* global gradient norm; 0: off */
        int steps, batch_size;
        mup_schedule_kind schedule;
        int warmup_steps;
        double min_lr_factor;
        int eval_every, eval_batches;
    } train;
    struct {
        mup_dataset_kind dataset;
        char path[MUP_SPEC_PATH_MAX];  /* "": the dataset's default location */
        int train_size;             /* 0: all */
        int val_size;               /* 0: the dataset's default (see the key's doc) */
        int synthetic_classes, synthetic_dim;
    } data;
    mup_program_slot program[MUP_PROGRAM_KEYS_MAX];  /* program runs: each searched key's value */
    int width;                      /* set per run, not a config key; 0 until then */
    uint64_t seed;                  /* set per run, not a config key */
} mup_run_spec;

/* The table: every config key of a run spec, section by section. */
const mup_key *mup_spec_keys(int *n);
/* The sections in order: "model", "mup", "train", "data"; NULL-terminated. */
extern const char *const mup_spec_sections[];

/* The key "section.name", or NULL. */
const mup_key *mup_spec_key_find(const char *section, const char *name);
/* A key named bare ("lr", which must name one key across sections) or qualified ("train.lr");
 * an unknown or ambiguous name is an error naming parent.name, with the nearest key suggested. */
mup_status mup_spec_key_lookup(const char *name, const char *parent, const mup_key **out);

void mup_run_spec_defaults(mup_run_spec *s);

/* Reads the sections present in obj (a config or a journal's spec) over what s holds; members of obj
 * that are not sections are left to the caller. Unknown keys inside a section are errors. */
mup_status mup_run_spec_read_sections(mup_run_spec *s, const cJSON *obj);
/* Sets one key from a number (int, float, bool 0/1, enum value), checking it is allowed. */
mup_status mup_run_spec_set(mup_run_spec *s, const mup_key *k, double v);
double mup_run_spec_get(const mup_run_spec *s, const mup_key *k);

/* What a run needs beyond each key's own range: depth scaling only under Adam(W) and for a model with
 * residual blocks, warmup within the steps, a delta width other than
 * the base width, for GPT head counts that divide the base, delta and run widths, and sizes that the
 * library can hold: every product it computes in an int (2 × base_width, 3 × width, ffn_ratio × width,
 * batch_size × block_size, batch_size × heads) at most INT_MAX, and every data array it generates or
 * keeps (examples, tokens, the synthetic teacher) within MUP_DATA_MAX_BYTES. Sizes are computed in 64
 * bits; each error names the key and the largest value allowed. What needs the data or the memory cap
 * is checked by mup_run_memory_check (recipe.h). */
mup_status mup_run_spec_check(const mup_run_spec *s);

/* The depth scaling the spec asks for (mup_model_set_depth): on when mup.depth_alpha is set. */
mup_depth_opts mup_run_spec_depth_opts(const mup_run_spec *s);
/* The depth a run varies: model.depth for the MLP, model.n_layer for the GPT. */
const mup_key *mup_spec_depth_key(const mup_run_spec *s);
/* Gives s the depth (model.depth or model.n_layer, at least 1); 0 leaves s's. */
void mup_run_spec_set_depth(mup_run_spec *s, int depth);
/* The residual blocks of s's model: the GPT's layers, the residual MLP's hidden layers after fc1. */
int mup_run_spec_blocks(const mup_run_spec *s);

/* delta_width, or twice base_width when it is 0 (mup_run_spec_check keeps it within INT_MAX). */
int mup_run_spec_delta_width(const mup_run_spec *s);

/* The data section's defaults and fixed sizes, which mup_run_spec_check and the recipe share. */
#define MUP_SPEC_SYNTHETIC_TRAIN 10000     /* synthetic classification: training examples by default */
#define MUP_SPEC_DEFAULT_VAL 5000          /* classification: validation examples by default */
#define MUP_SPEC_SYNTHETIC_TEXT 200000     /* synthetic text: tokens by default */
#define MUP_SPEC_FASHION_TRAIN 60000       /* examples in Fashion-MNIST's training file */
#define MUP_SPEC_FASHION_DIM 784
#define MUP_SPEC_FASHION_CLASSES 10
#define MUP_SPEC_TEXT_VOCAB_MAX 256        /* a character vocabulary: one symbol per byte */
#define MUP_SPEC_TEACHER_HIDDEN 32         /* the synthetic teacher's hidden units (data/synthetic.c) */
#define MUP_SPEC_EVAL_ROWS 1000            /* classification: rows of an evaluation batch (train/tasks.c) */

/* "1.5 GiB", "512 bytes": a size for messages, into buf. */
const char *mup_format_bytes(char *buf, size_t len, double bytes);

/* Examples (classification) or tokens (text) that loading s's synthetic data generates, in 64 bits. */
int64_t mup_run_spec_synthetic_size(const mup_run_spec *s);

/* The spec as JSON: {"model": {...}, "mup": {...}, "train": {...}, "data": {...}, "width": W,
 * "seed": S} with every key. The caller frees it with cJSON_Delete. */
cJSON *mup_run_spec_to_json(const mup_run_spec *s);
/* The reverse: defaults, then every section and width and seed found in obj; anything else in obj
 * is an error. */
mup_status mup_run_spec_from_json(mup_run_spec *s, const cJSON *obj);

/* One "section.key = value" line per key, then width and seed. */
void mup_run_spec_print(const mup_run_spec *s, FILE *f);

/* The reference tables of docs/sweep-config.md: one markdown table per section. */
void mup_spec_write_markdown(FILE *f);

#endif

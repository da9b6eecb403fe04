/* A run spec turned into a trained run: its data (loaded once per process and shared by every run
 * with the same data section), its model (three builds and mup_set_base_shapes), task, optimizer and
 * training. mup-sweep, mup-coord and the experiments all train through here. */
#ifndef MUP_SWEEP_RECIPE_H
#define MUP_SWEEP_RECIPE_H

#include "config.h"
#include "spec.h"
#include "mup/mup.h"

/* The data a spec's data section names, split into training and validation. */
typedef struct {
    bool loaded;
    mup_dataset_kind kind;
    char key[MUP_SPEC_PATH_MAX + 64];   /* what was loaded, to know when a spec can reuse it */
    mup_classif_data train, val;        /* fashion-mnist, synthetic */
    mup_text_data text_train, text_val; /* text */
} mup_run_data;

/* Loads what s's data section names into d, unless d already holds it. Errors name the file and the
 * Debian package that provides it. */
mup_status mup_run_data_load(mup_run_data *d, const mup_run_spec *s);
void mup_run_data_free(mup_run_data *d);

/* A model built from a spec at s->width: the target, and its base and delta (shapes only). */
typedef struct {
    mup_model *M, *base, *delta;
    mup_mlp *mlp;
    mup_gpt *gpt;
} mup_run_model;

/* What a run of s allocates, in bytes, part by part. The model's parts come from a shapes-only build
 * of it (the builders themselves, at one and two layers for deeper models), the rest from the sizes
 * that the spec and the data give. */
typedef struct {
    double params;        /* value and gradient slabs; the parameter registries of the three builds */
    double optimizer;     /* the optimizer's state slabs (none, momentum, or Adam's two moments) */
    double activations;   /* the step arena: a training step with attention's (B, H, T, T) probabilities and
                             the gradients in flight, or an evaluation batch, whichever is larger, and the
                             arena's growth during its first step */
    double batches;       /* the task's batch buffers */
    double curve;         /* the result: one loss per step, and the evaluations */
    double data;          /* the training and validation sets, held while training */
    double data_loading;  /* the peak while loading: the set before its split and the split's copy, the
                             files' bytes, the synthetic teacher */
    double total;         /* the larger of data_loading and data plus everything the run adds (with 256 KiB
                             for the structures around the arrays) */
} mup_run_memory;

/* The estimate for a run of s at s->width, with d's sizes when d holds s's data, else the spec's
 * (exact for synthetic data and Fashion-MNIST; a text corpus that is not loaded counts a full
 * vocabulary and no data). d may be NULL. Nothing is allocated beyond shapes-only builds. Checks first
 * what mup_run_spec_check checks, then what needs the data (a text split whose parts are longer than
 * a block; a model whose tensors the registry can count): errors name the key and its limit. */
mup_status mup_run_memory_estimate(const mup_run_spec *s, const mup_run_data *d, mup_run_memory *m);

/* The memory cap: MUP_MAX_MEMORY when set (bytes, or with K, M, G or T: powers of 1024; anything else,
 * a space included, is MUP_ERR_INVALID), else the memory of the machine, or of its cgroup when less
 * (0 when unknown: no cap). source (len bytes) says where it came from, for messages. It is per process:
 * with several workers on a machine, give each its share. */
mup_status mup_run_memory_cap(double *bytes, char *source, size_t len);

/* The pre-flight check of one run, without training and before anything is loaded (d may be NULL, as
 * for mup_run_memory_estimate): the estimate's checks, then MUP_ERR_NOMEM naming the width, the bytes
 * and each part when the estimate exceeds the cap; MUP_ERR_INVALID for a malformed MUP_MAX_MEMORY. */
mup_status mup_run_memory_check(const mup_run_spec *s, const mup_run_data *d);

/* Builds the three models, sets base shapes (SP when the spec says so) and initialises from s->seed.
 * Refuses what mup_run_memory_check refuses, before building anything. d must be loaded. */
mup_status mup_run_model_build(mup_run_model *m, const mup_run_spec *s, const mup_run_data *d);
void mup_run_model_free(mup_run_model *m);

mup_optim_opts mup_run_optim_opts(const mup_run_spec *s);
/* The task for the model and data (borrowed; free the task first). */
mup_task *mup_run_task_new(const mup_run_spec *s, const mup_run_model *m, const mup_run_data *d);

/* Builds, trains and frees: the whole run; mup_run_memory_check runs before the data is loaded and
 * again, with its sizes, before the model is built, and the step arena is sized at the estimate before
 * the first step (grown inside a step, its overflow blocks can hold twice what the step uses). opts may add a log or progress (steps and eval_every come
 * from the spec), or the ranks to train across (opts->dist: every rank calls this, and a rank that cannot
 * set the run up fails it on every rank). A diverged run returns MUP_ERR_DIVERGED with its result filled in. */
mup_status mup_run_train(const mup_run_spec *s, mup_run_data *d, const mup_train_opts *opts, mup_train_result *r);

/* The value a sweep minimises; +inf for a run that did not complete. */
double mup_run_objective(const mup_train_result *r, mup_objective o);

/* FLOPs of one training step (forward and backward: two per multiply-add, three GEMMs per weight), from
 * the weights of a shapes-only build and attention's products; for compute accounting. 0 for a spec
 * that fails mup_run_spec_check (a hostile journal's); d as for mup_run_memory_estimate. */
double mup_run_step_flops(const mup_run_spec *s, const mup_run_data *d);

#endif

/* A run spec turned into a trained run: its data (loaded once per process and shared by every run
 * with the same data section), its model (three builds and mup_set_base_shapes), task, optimizer and
 * training. mup-sweep, mup-coord and the experiments all train through here. */
#ifndef MUP_SWEEP_RECIPE_H
#define MUP_SWEEP_RECIPE_H

#include "config.h"
#include "mup/mup.h"
#include "spec.h"

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

/* Bytes a run of s takes (parameters, gradients, optimizer state and the activations of a step), from
 * the spec and the data's sizes alone: nothing is built. */
double mup_run_memory_estimate(const mup_run_spec *s, const mup_run_data *d);
/* Refuses (MUP_ERR_NOMEM, naming the width and the bytes) a run whose estimate exceeds the memory cap:
 * MUP_ERR_INVALID for a MUP_MAX_MEMORY that is not a size. The cap is MUP_MAX_MEMORY when set (bytes,
 * or with K, M, G or T: powers of 1024), else the memory of the machine, or of its cgroup when less.
 * It is per process: with several workers on a machine, give each its share. */
mup_status mup_run_memory_check(const mup_run_spec *s, const mup_run_data *d);

/* Builds the three models, sets base shapes (SP when the spec says so) and initialises from s->seed.
 * Refuses what mup_run_memory_check refuses, before building anything. */
mup_status mup_run_model_build(mup_run_model *m, const mup_run_spec *s, const mup_run_data *d);
void mup_run_model_free(mup_run_model *m);

mup_optim_opts mup_run_optim_opts(const mup_run_spec *s);
/* The task for the model and data (borrowed; free the task first). */
mup_task *mup_run_task_new(const mup_run_spec *s, const mup_run_model *m, const mup_run_data *d);

/* Builds, trains and frees: the whole run. opts may add a log or progress (steps and eval_every come
 * from the spec). A diverged run returns MUP_ERR_DIVERGED with its result filled in. */
mup_status mup_run_train(const mup_run_spec *s, mup_run_data *d, const mup_train_opts *opts, mup_train_result *r);

/* The value a sweep minimises; +inf for a run that did not complete. */
double mup_run_objective(const mup_train_result *r, mup_objective o);

/* Multiply-add FLOPs of one training step (forward and backward), for compute accounting. */
double mup_run_step_flops(const mup_run_spec *s, const mup_run_data *d);

#endif

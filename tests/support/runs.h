/* Small training runs the training, checkpoint, allocation and determinism tests share: a µP model
 * of a ready architecture, an optimizer and a task over synthetic data, all fixed by the arguments,
 * so that two runs built with the same arguments are the same run. */
#ifndef MUP_TEST_RUNS_H
#define MUP_TEST_RUNS_H

#include <stdint.h>

#include "mup/mup.h"

typedef struct {
    mup_model *M;
    mup_mlp *mlp;            /* one of mlp, gpt */
    mup_gpt *gpt;
    mup_optim *opt;
    mup_task *task;
    mup_classif_data all, train, val;
    mup_text_data text, train_text, val_text;
} test_run;

/* An MLP (d_in 12, depth 2, 5 classes) at width, base shapes from widths 8 and 16, parameters drawn
 * from init_seed; a classification task on 500 + 100 synthetic examples, batches of 16. */
void test_run_classif(test_run *r, int width, uint64_t init_seed, mup_optim_opts opts);
/* A GPT (vocabulary 12, block 16, 2 layers, head size 8) at width, base shapes from widths 16 and
 * 32, the given dropout with its stream seeded from init_seed; a language-model task on a synthetic
 * Markov text, 4 windows of 16 characters per batch, 2 evaluation batches. */
void test_run_lm(test_run *r, int width, float dropout, uint64_t init_seed, mup_optim_opts opts);
void test_run_free(test_run *r);

/* Adam on a cosine schedule over total_steps: the default optimizer of these runs. */
mup_optim_opts test_adam_cosine(float lr, int total_steps);

#endif

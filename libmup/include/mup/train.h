/* The training loop: steps of forward, backward and update over a task (a model with its data),
 * evaluation on a held-out split every so often, divergence detection, a progress bar, a per-step
 * JSON-lines log, and checkpoints. After its set-up a step allocates nothing. */
#ifndef MUP_TRAIN_H
#define MUP_TRAIN_H

#include "mup/api.h"

#include <stdbool.h>
#include <stdint.h>

#include "mup/data.h"
#include "mup/dist.h"
#include "mup/model.h"
#include "mup/optim.h"

/* A task: what the loop needs from a model and its data. The library provides classification and
 * language-model tasks; a user can fill in this table for anything else. */
typedef struct mup_task mup_task;
struct mup_task {
    /* Draws the next training batch and builds its loss in g (a training graph). */
    mup_tensor *(*train_loss)(mup_task *t, mup_graph *g);
    /* Mean loss over the held-out split, and accuracy (NAN when it has no meaning). */
    void (*evaluate)(mup_task *t, mup_model *M, double *loss, double *accuracy);
    /* The data-order state, for checkpoints: writes at most MUP_TASK_STATE_WORDS words, returns how
     * many; set_state restores it. The words come from a file: set_state validates all of them and
     * returns an error naming the problem, leaving the task unchanged, for words get_state could not
     * have written. */
    int (*get_state)(const mup_task *t, uint64_t *words);
    mup_status (*set_state)(mup_task *t, const uint64_t *words, int n);
    void (*free)(mup_task *t);
    /* Data-parallel training (mup_train_opts.dist): from now on train_loss still draws the whole batch,
     * so that the data order depends on the seed and the step alone, but builds the mean loss of this
     * rank's rows (mup_dist_share); returns the global batch's rows. NULL: the task cannot. */
    int (*share)(mup_task *t, const mup_dist *d);
};

#define MUP_TASK_STATE_WORDS 8

/* Forward functions the library's tasks call: logits of a batch. */
typedef mup_tensor *(*mup_classif_forward_fn)(mup_graph *g, const void *net, mup_tensor *x);
typedef mup_tensor *(*mup_lm_forward_fn)(mup_graph *g, const void *net, const int32_t *ids, int B, int T);

/* Classification: batches drawn without replacement, reshuffled every epoch (from seed);
 * evaluation over the whole validation set in order. The data sets are borrowed. Both task
 * constructors return NULL with MUP_ERR_INVALID (mup_error_message names the problem) for data that
 * cannot fill a batch: empty sets, mismatched dimensions, a text no longer than a window. */
MUP_API mup_task *mup_classif_task_new(mup_model *M, mup_classif_forward_fn forward, const void *net,
                               const mup_classif_data *train, const mup_classif_data *val, int batch,
                               uint64_t seed);
/* Next-character prediction: random windows of T characters; evaluation over eval_batches fixed,
 * evenly spaced batches of the validation text. */
MUP_API mup_task *mup_lm_task_new(mup_model *M, mup_lm_forward_fn forward, const void *net, const mup_text_data *train,
                          const mup_text_data *val, int B, int T, int eval_batches, uint64_t seed);
MUP_API void mup_task_free(mup_task *t);

/* Adapters so the library's models plug into the tasks above. */
MUP_API mup_tensor *mup_mlp_forward_fn(mup_graph *g, const void *mlp, mup_tensor *x);
MUP_API mup_tensor *mup_gpt_forward_fn(mup_graph *g, const void *gpt, const int32_t *ids, int B, int T);

struct mup_train_result;

typedef struct {
    int steps;
    int eval_every;            /* evaluate every so many steps (and always at the end); 0: at the end */
    double diverge_factor;     /* a loss above this × the first loss is diverged; 0 means 10 */
    bool progress;             /* progress on stderr: a bar on a terminal, else (a log) a line at each
                                * tenth of the run and at least once a minute */
    const char *label;         /* shown before the progress bar */
    const char *log_path;      /* JSON lines, one per step and one per evaluation; NULL: none */
    const char *checkpoint_path; /* HDF5 checkpoint written every checkpoint_every steps and at the end */
    int checkpoint_every;
    const char *resume_path;   /* continue from this checkpoint (bit-identical to not stopping) */
    const char *config_json;   /* stored in checkpoints as they are written */
    bool check_finite;         /* debug: name the op and layer of the first NaN/inf (mup_graph_check_finite) */
    /* Asked after each evaluation but the one at the last step, with the result so far (its latest
     * evaluation last): true stops the run there, as complete as it got (status MUP_OK, r->stopped set).
     * mup-sweep's pruners ask here. NULL: never asked. */
    bool (*on_eval)(void *arg, const struct mup_train_result *r);
    void *on_eval_arg;
    mup_dist *dist;            /* train data-parallel across its ranks (mup/dist.h); NULL: this process
                                * alone. Every rank calls mup_train with the same options; rank 0 alone
                                * evaluates (the numbers are broadcast), logs, shows progress and writes
                                * checkpoints, and every rank reads the checkpoint it resumes from. */
} mup_train_opts;

typedef struct mup_train_result {
    mup_status status;         /* MUP_OK, MUP_ERR_DIVERGED, or why it stopped (I/O) */
    bool stopped;              /* on_eval stopped it before its last step */
    char message[256];         /* for a stop: what happened ("loss nan at step 37") */
    int steps_done;
    double first_loss;
    double final_train_loss;   /* mean over the last min(steps, 20) steps */
    double final_val_loss, final_val_acc;
    double best_val_loss;
    int n_evals;
    int *eval_step;            /* n_evals entries */
    double *eval_loss, *eval_acc;
    float *train_loss;         /* one per step done */
    double seconds;
} mup_train_result;

/* Trains M with opt on task. The result's arrays are allocated here and freed by
 * mup_train_result_free. Returns the result's status. */
MUP_API mup_status mup_train(mup_model *M, mup_optim *opt, mup_task *task, const mup_train_opts *opts,
                     mup_train_result *result);
MUP_API void mup_train_result_free(mup_train_result *r);

#endif

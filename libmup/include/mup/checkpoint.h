/* Checkpoints in HDF5, readable by h5py: every parameter by name, the optimizer's state slabs (one
 * dataset per parameter each), the step, the random streams, the base shapes and the run's config.
 * Loading never re-applies the µP rescale. A save goes to a temporary file renamed over the old one,
 * so a crash mid-save leaves the previous checkpoint intact. Layout in docs/file-formats.md. */
#ifndef MUP_CHECKPOINT_H
#define MUP_CHECKPOINT_H

#include "mup/api.h"

#include <stdint.h>

#include "mup/model.h"
#include "mup/optim.h"

#define MUP_CHECKPOINT_STATE_WORDS 16

typedef struct {
    int step;
    double first_loss;
    uint64_t state[MUP_CHECKPOINT_STATE_WORDS]; /* data order and dropout streams, opaque */
    int n_state;
    const char *config_json;   /* saved as given; on load, points into this struct's storage */
    float *train_loss;         /* the loss curve so far (step entries), optional */
    char *owned_config;        /* storage behind config_json after a load */
} mup_checkpoint_meta;

/* opt may be NULL (parameters only). */
MUP_API mup_status mup_checkpoint_save(const char *path, mup_model *M, mup_optim *opt, const mup_checkpoint_meta *meta);
/* Loads into a model built the same way (same names, shapes and base shapes; checked, with the first
 * difference named). opt may be NULL; if given its kind must match the saved one. meta may be NULL.
 * On failure the model and optimizer are left as they were. */
MUP_API mup_status mup_checkpoint_load(const char *path, mup_model *M, mup_optim *opt, mup_checkpoint_meta *meta);
/* Frees what a load allocated in meta. */
MUP_API void mup_checkpoint_meta_free(mup_checkpoint_meta *meta);

#endif

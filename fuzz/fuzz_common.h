/* Shared by the fuzz harnesses: the readers under test take paths, so each input is written to a
 * file in a private temporary directory first. */
#ifndef MUP_FUZZ_COMMON_H
#define MUP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "mup/mup.h"

/* The harness's directory (created on first use). */
const char *fuzz_dir(void);
/* Writes data to fuzz_dir()/name and returns the path (static buffer). */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);
/* Quiets the library's log and makes MUP_ASSERT a crash the fuzzer reports. */
void fuzz_setup(void);

/* Trains M on task (NULL: nothing, MUP_ERR_INVALID) with Adam under o, then frees the task; returns
 * mup_train's status. */
mup_status fuzz_train(mup_model *M, mup_task *task, mup_train_opts o);
/* fuzz_resume trains this many steps; its seeds are checkpoints of fewer. */
#define FUZZ_RESUME_STEPS 4

/* The tiny sweep whose journal fuzz_journal replays and fuzz-seeds writes: a grid of 3 SGD learning
 * rates (the largest diverges) x 2 seeds at widths 16 and 32 on synthetic data, and a target at 48. */
extern const char fuzz_sweep_config[];

/* The checkpoint harnesses' model: an MLP (6 -> width -> width -> 3) with base shapes from width 4
 * (no delta), initialised from seed 1. Free both with mup_mlp_free and mup_model_free. */
mup_model *fuzz_mlp_model(mup_mlp **net);

#endif

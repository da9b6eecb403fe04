/* Data-parallel training over MPI ranks (docs/distributed.md).
 *
 * Every rank holds the whole model and draws the same global batch (the data order depends on the
 * seed and the step, never on the number of ranks); each rank computes the loss of its share of the
 * batch, and the gradients are summed over the ranks before every optimizer step, so every rank applies
 * the same update to the same parameters. A user's own loop:
 *
 *     mup_dist *D;
 *     MUP_CHECK(mup_dist_new(NULL, &D));         (after MPI_Init; NULL: MPI_COMM_WORLD)
 *     int lo, hi;
 *     mup_dist_share(D, B, &lo, &hi);             (this rank's rows [lo, hi) of every batch of B)
 *     for each step:
 *         draw the global batch of B rows, wrap rows lo..hi-1 as x
 *         mup_graph *g = mup_graph_begin(M);
 *         mup_tensor *loss = ...mean loss of x...;
 *         mup_dist_step(D, opt, loss, B);         (backward of this rank's part, the gradient sum and
 *                                                  the optimizer step, sharded over the ranks)
 *         double L = mup_dist_mean(D, loss->data[0], B);  (the global batch's mean loss, for the log)
 *         mup_graph_end(g);
 *     mup_dist_free(D);
 *
 * or set mup_train_opts.dist and let mup_train do it (its tasks then compute their share).
 *
 * Built without MPI (meson option -Dmpi=disabled, or no MPI found), every function exists and a
 * handle is one rank: mup_dist_new(NULL, ...) succeeds with size 1 and the collectives return at once,
 * so the same program runs as one process. mup_dist_built_with_mpi says which build this is. */
#ifndef MUP_DIST_H
#define MUP_DIST_H

#include "mup/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "mup/error.h"
#include "mup/graph.h"
#include "mup/model.h"
#include "mup/optim.h"

typedef struct mup_dist mup_dist;

/* Whether this libmup was built with MPI. */
MUP_API bool mup_dist_built_with_mpi(void);

/* A handle on the ranks of a communicator: comm points at an MPI_Comm (it is duplicated, so the
 * caller's stays free for its own messages), or is NULL for MPI_COMM_WORLD. MPI must be initialised
 * (MUP_ERR_STATE otherwise); a non-NULL comm in a build without MPI is MUP_ERR_MPI. Collective: every
 * rank of comm calls it. Free with mup_dist_free (collective too). */
MUP_API mup_status mup_dist_new(const void *comm, mup_dist **out);
MUP_API void mup_dist_free(mup_dist *d);

MUP_API int mup_dist_rank(const mup_dist *d);
MUP_API int mup_dist_size(const mup_dist *d);

/* This rank's rows [lo, hi) of a global batch of `global` rows: consecutive blocks in rank order, the
 * first global % size ranks one row longer. A rank can get no rows (global < size). */
MUP_API void mup_dist_share(const mup_dist *d, int global, int *lo, int *hi);
/* (hi - lo) / global: what this rank's mean loss weighs in the global batch's mean. */
MUP_API double mup_dist_weight(const mup_dist *d, int global);

/* Backpropagates this rank's mean loss over its share (in M's graph), weighted by mup_dist_weight (so that no
 * separate pass scales the gradients), then sums the model's gradients over the ranks: one
 * MPI_Allreduce over the gradient slab, in place. Afterwards every rank holds the gradient of the
 * global batch's mean loss. Collective; allocates nothing. A rank without rows still calls it (with
 * loss NULL: it adds zeros). */
MUP_API mup_status mup_dist_backward(mup_dist *d, mup_model *M, mup_tensor *loss, int global);
/* The sum step alone, for a loop that seeds backward itself: every rank's gradients summed in place. */
MUP_API mup_status mup_dist_sum_grads(mup_dist *d, mup_model *M);

/* The data-parallel step in one: backpropagates this rank's mean loss weighted as mup_dist_backward
 * does (loss NULL on a rank without rows), then mup_dist_optim_step. Instead of mup_dist_backward +
 * mup_optim_step, and faster: it is what mup_train does. Collective. */
MUP_API mup_status mup_dist_step(mup_dist *d, mup_optim *opt, mup_tensor *loss, int global);
/* The gradient sum and the optimizer step, sharded over the ranks, for a loop that seeds backward
 * itself (mup_train does, to check the gradients first): the model's gradients must be this rank's own
 * (weighted, not summed: after mup_dist_sum_grads step with mup_optim_step instead). When every rank is
 * on one node, each rank sums and updates its own block of the parameter slab only: at the first call
 * the model's slabs move into the node's shared memory (each rank's gradients, read by the others, and
 * one copy of the values for all; (size + 1) slabs of the model's size, owned by the model and unmapped
 * by mup_model_free, so the model and the handle are freed in either order), and every rank reads the
 * other blocks' new values there; the ranks' parameters are then identical,
 * within a relative 1e-5 of one process's (docs/distributed.md). Ranks on several nodes get the plain
 * MPI_Allreduce and the whole update on every rank. One rank is mup_optim_step. Afterwards the model's
 * gradients are the global batch's on this rank's block only, mup_optim_last_grad_norm is the global
 * norm (always measured: one double summed over the ranks), and the optimizer's state is current on
 * this rank's block only: mup_optim_step and mup_checkpoint_save refuse it until mup_dist_gather_state.
 * mup_model_init, mup_checkpoint_load and mup_optim_step give a rank its own copy of shared values
 * before writing them; the next call shares rank 0's again (docs/distributed.md). Collective; allocates
 * nothing after its first call for a model. */
MUP_API mup_status mup_dist_optim_step(mup_dist *d, mup_optim *opt);
/* Makes every rank's optimizer state whole again after sharded steps (each rank's block broadcast to
 * the others): call it on every rank before a checkpoint is saved (mup_train does) or before
 * mup_optim_step. Collective. */
MUP_API mup_status mup_dist_gather_state(mup_dist *d, mup_optim *opt);

/* The global batch's mean of a per-rank mean over its share: the weighted sum over the ranks (a NaN on
 * any rank makes it NaN everywhere). Collective. */
MUP_API double mup_dist_mean(mup_dist *d, double local, int global);
/* Whether ok holds on every rank. Collective. */
MUP_API bool mup_dist_all(mup_dist *d, bool ok);
/* n doubles from rank 0 to every rank. Collective. */
MUP_API void mup_dist_broadcast(mup_dist *d, double *v, int n);
/* Refuses ranks that disagree: every rank hands in its text (at most MUP_DIST_TEXT_MAX characters: a
 * config's fingerprint, a version) for what; MUP_ERR_INVALID on every rank when any rank's differs from
 * rank 0's, naming what, the first such rank and both texts. Collective. */
#define MUP_DIST_TEXT_MAX 255
MUP_API mup_status mup_dist_same(mup_dist *d, const char *what, const char *text);

#endif

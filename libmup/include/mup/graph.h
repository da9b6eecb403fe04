/* The step graph: an arena for one step's activations and gradients, and the tape that autograd
 * walks backwards.
 *
 * Every op computes its output at once (eager) and, when gradients are wanted, appends a node to
 * the tape. mup_backward walks the tape in reverse; backward kernels accumulate (+=) into their
 * inputs' gradients, so residual connections and shared weights need no special case. An
 * intermediate tensor's gradient is handed back to the arena as soon as the walk is past its
 * producer: after mup_backward only leaves (parameters, inputs) hold gradients.
 * The arena is rewound, never freed, by mup_graph_begin/mup_graph_reset: after the first step a
 * training loop performs no heap allocation. Tensors made by a graph are valid until its next
 * rewind. */
#ifndef MUP_GRAPH_H
#define MUP_GRAPH_H

#include "mup/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mup/rng.h"
#include "mup/tensor.h"

typedef struct mup_graph mup_graph;
typedef struct mup_model mup_model;

/* A graph of its own, for programs that compute without a model (tests, tools). */
MUP_API mup_graph *mup_graph_new(void);
MUP_API void mup_graph_free(mup_graph *g);
/* Rewinds the arena and clears the tape. grad=false: record nothing (evaluation). */
MUP_API void mup_graph_reset(mup_graph *g, bool grad);

/* The model's own graph, rewound, with the model's gradient slab zeroed (one memset):
 * begin a training step. */
MUP_API mup_graph *mup_graph_begin(mup_model *M);
/* The model's graph, rewound, recording nothing and with dropout off: evaluation. */
MUP_API mup_graph *mup_graph_begin_eval(mup_model *M);
/* Ends the step; the graph's tensors stay readable until the next begin. */
MUP_API void mup_graph_end(mup_graph *g);

MUP_API bool mup_graph_grad_enabled(const mup_graph *g);
/* Training mode (dropout active): true after mup_graph_begin, false after begin_eval. */
MUP_API bool mup_graph_training(const mup_graph *g);
MUP_API void mup_graph_set_training(mup_graph *g, bool training);
/* Seeds the stream that dropout draws from; get/set save and restore it (checkpoints). */
MUP_API void mup_graph_seed(mup_graph *g, uint64_t seed);
MUP_API mup_rng mup_graph_rng(const mup_graph *g);
MUP_API void mup_graph_set_rng(mup_graph *g, mup_rng r);

/* ---- tensors in the arena ---- */

/* Uninitialised tensor of the given shape. */
MUP_API mup_tensor *mup_graph_tensor(mup_graph *g, int ndim, const int *shape);
MUP_API mup_tensor *mup_graph_zeros(mup_graph *g, int ndim, const int *shape);
/* A tensor over memory the caller owns (a batch): no copy; never given a gradient. */
MUP_API mup_tensor *mup_graph_wrap(mup_graph *g, float *data, int ndim, const int *shape);
/* Scratch memory from the arena, 64-byte aligned, valid until the next rewind. */
MUP_API void *mup_graph_alloc(mup_graph *g, size_t bytes);

/* Bytes of arena in use now, and the most the arena has ever held. */
MUP_API size_t mup_graph_bytes_used(const mup_graph *g);
MUP_API size_t mup_graph_bytes_reserved(const mup_graph *g);

/* ---- autograd ---- */

/* Backpropagates from a one-element loss (d loss = 1). */
MUP_API void mup_backward(mup_graph *g, mup_tensor *loss);
/* Backpropagates from any tensor with the given output gradient (same size as out). */
MUP_API void mup_backward_seed(mup_graph *g, mup_tensor *out, const float *dout);

/* ---- taps: how the coordinate check and the NaN detector watch layer outputs ---- */

typedef void (*mup_tap_fn)(const char *layer, const mup_tensor *t, void *ctx);

/* ---- the NaN detector (a debug option: it reads every op's output and every gradient) ---- */

/* When on, every op's output and, in backward, every input gradient is checked for NaN and inf;
 * the first one found is remembered with the op's name and the last layer tapped before it. Stays
 * on across rewinds. */
MUP_API void mup_graph_check_finite(mup_graph *g, bool on);
/* "forward of op affine after layer fc2.act: element 17 is nan", or NULL while all is finite
 * (cleared by a rewind). */
MUP_API const char *mup_graph_nonfinite(const mup_graph *g);
/* Calls fn on every tapped tensor (modules tap their outputs by layer name). NULL removes it. */
MUP_API void mup_graph_set_tap(mup_graph *g, mup_tap_fn fn, void *ctx);
/* The tap set now (NULL: none) and its ctx: a loss function may wrap it, renaming layers, and restore it. */
MUP_API mup_tap_fn mup_graph_get_tap(const mup_graph *g, void **ctx);
MUP_API void mup_graph_tap(mup_graph *g, const char *layer, const mup_tensor *t);

#endif

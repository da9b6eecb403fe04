/* What the library's source files share and users never see: the graph's insides, the tape node,
 * the GEMM and allocation wrappers. */
#ifndef MUP_INTERNAL_H
#define MUP_INTERNAL_H

#include <omp.h>
#include <stdbool.h>
#include <stddef.h>

#include "mup/error.h"
#include "mup/graph.h"
#include "mup/rng.h"
#include "mup/tensor.h"

/* ---- allocation: every heap allocation of the library goes through here ---- */

/* Aborts through MUP_ASSERT with the size when the allocation fails: the callers are places where
 * no status can be returned (arena growth in the middle of a forward pass). */
void *mup_xmalloc(size_t bytes);
void *mup_xcalloc(size_t n, size_t size);
void *mup_xrealloc(void *p, size_t bytes);
/* 64-byte aligned, for slabs and arena blocks */
void *mup_xaligned(size_t bytes);
char *mup_xstrdup(const char *s);

/* ---- the arena ---- */

typedef struct mup_arena_block mup_arena_block;
typedef struct mup_arena_free mup_arena_free;

typedef struct {
    char *base;              /* the main block */
    size_t cap, used;
    mup_arena_block *extra;  /* overflow blocks of this step, merged into the main one at rewind */
    size_t extra_used;       /* bytes handed out from overflow blocks this step */
    size_t high_water;
    mup_arena_free *free;    /* buffers handed back this step, newest first */
} mup_arena;

void *mup_arena_alloc(mup_arena *a, size_t bytes);
/* A buffer handed back before the step ends (a gradient the backward pass is done with), kept for
 * mup_arena_reuse; the arena still owns it and rewinding forgets it. */
void mup_arena_give_back(mup_arena *a, void *p, size_t bytes);
/* The newest buffer handed back with the same size, else a new one. */
void *mup_arena_reuse(mup_arena *a, size_t bytes);
void mup_arena_rewind(mup_arena *a);
void mup_arena_release(mup_arena *a);

/* ---- the tape ---- */

typedef struct mup_node mup_node;

/* An op's backward: reads n->out->grad, accumulates into the inputs that require a gradient. */
typedef void (*mup_backward_fn)(mup_graph *g, const mup_node *n);

typedef struct {
    const char *name;
    mup_backward_fn backward;
} mup_op;

#define MUP_NODE_INPUTS 3

struct mup_node {
    const mup_op *op;
    mup_tensor *out;
    mup_tensor *in[MUP_NODE_INPUTS];
    void *saved;             /* op-specific values kept for backward (arena) */
    float f[2];              /* op-specific scalars (scale, eps, ...) */
    int i[4];                /* op-specific integers (heads, transposes, ...) */
    const void *ptr;         /* op-specific borrowed pointer (targets, token ids) */
    mup_node *prev;
};

struct mup_graph {
    mup_arena arena;
    mup_node *tail;
    int n_nodes;
    bool grad;
    bool training;
    mup_rng rng;
    mup_tap_fn tap;
    void *tap_ctx;
    bool check_finite;
    const char *layer;       /* the last layer tapped: where the NaN detector says it was */
    char nonfinite[160];     /* the first non-finite value found this step, or "" */
    mup_model *model;        /* NULL for a standalone graph */
};

/* Appends a node when gradients are on and some input requires one; marks out->requires_grad.
 * Returns NULL (and records nothing) otherwise, so an op saves values for backward only when the
 * returned node is non-NULL. Inputs past the first NULL are ignored. */
mup_node *mup_graph_record(mup_graph *g, const mup_op *op, mup_tensor *out,
                           mup_tensor *a, mup_tensor *b, mup_tensor *c);

/* The gradient buffer of t, taken zeroed from the arena on first use (reusing one the backward pass
 * handed back, when one of the same size is free). */
float *mup_grad(mup_graph *g, mup_tensor *t);

/* A tensor with the same shape as t. */
mup_tensor *mup_graph_like(mup_graph *g, const mup_tensor *t);

/* ---- the optimizer's insides that data-parallel training uses (dist/dist.c) ---- */

typedef struct mup_optim mup_optim;

/* Sums of squares are taken over chunks of this many floats from the start of what is summed, combined
 * in order, so the sum depends on the values and their length only. A span that starts at a multiple
 * of it has the chunks of the whole slab: its partials are the whole sum's. */
#define MUP_NORM_CHUNK 4096L

/* Called on each chunk [start, start + len) (from x) before its squares are summed, in whichever
 * thread sums that chunk: it may write the chunk. */
typedef void (*mup_chunk_fill)(void *ctx, long start, long len);
/* The sum of squares of x (n floats) in double, chunk by chunk (fill may be NULL). */
double mup_sum_squares(float *x, long n, mup_chunk_fill fill, void *ctx);
/* Scales g (n floats) by max_norm / norm when norm is finite and above max_norm. */
void mup_clip_span(float *g, long n, double norm, double max_norm);

mup_model *mup_optim_model(const mup_optim *o);
/* One optimizer step that updates the slab's floats [lo, hi) only: their gradients are already the
 * global batch's, and norm is the global gradient norm (measured by the caller, clipped here when
 * clip_norm asks). The state outside [lo, hi) is then stale: mup_optim_state_covers tells, and
 * mup_optim_step, a checkpoint save and another span outside [lo, hi) refuse it until
 * mup_optim_state_whole marks the state whole again (after the caller gathered it). */
void mup_optim_step_span(mup_optim *o, long lo, long hi, double norm);
/* Whether the state is current on [lo, hi) of the slab (always, for an optimizer without state). */
bool mup_optim_state_covers(const mup_optim *o, long lo, long hi);
void mup_optim_state_whole(mup_optim *o);

/* ---- the model's slabs in the node's shared memory (dist/dist.c) ---- */

/* Places the model's slabs in map, a mapping of bytes of the node's shared memory that the model owns
 * from then on (mup_model_free unmaps it, so that freeing takes no other rank's part and no mup_dist):
 * grads is this rank's gradient slab within it, values the values' slab within it (one copy for the
 * node's ranks). The floats must already be there: the model's own slabs it gives up are freed, and a
 * mapping it held before is unmapped. key names who made the mapping (mup_model_slab_map hands it
 * back). */
void mup_model_place_slabs(mup_model *M, void *map, size_t bytes, unsigned long key, float *values, float *grads);
/* The mapping the slabs are placed in and its key, or NULL when the model allocated both itself. */
void *mup_model_slab_map(const mup_model *M, unsigned long *key);
/* Gives the model its own copy of values shared by the node's ranks (nothing when they are its own),
 * so that a rank can write them alone: an init, a checkpoint loaded, a whole optimizer step. The
 * gradients stay where they are; the next sharded step shares the values again. MUP_ERR_NOMEM. */
mup_status mup_model_own_values(mup_model *M);

/* ---- kernels shared across op families ---- */

/* C (M,N) = alpha * op(A) op(B) + beta * C, row-major; op(A) is (M,K), op(B) is (K,N).
 * Large products are split into row blocks across OpenMP threads, each calling single-threaded
 * sgemm; small ones run in the calling thread. */
void mup_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* p (C) = softmax(x (C)), numerically stable; p may be NULL when only the normaliser is wanted.
 * Returns log Σ exp x, in double. (softmax.c; cross entropy shares it.) */
double mup_softmax_row(float *p, const float *x, int C);

/* Work (in multiply-adds or elements) below which a loop is not worth an OpenMP region. */
#define MUP_PARALLEL_MIN 32768L

/* True when a loop of this much work should be spread over OpenMP threads: work above
 * MUP_PARALLEL_MIN, more than one thread available, and not already inside a parallel region. */
bool mup_parallel_worth(long work);

/* for (long i = 0; i < n; i++) { body }: split into one contiguous block per OpenMP thread when
 * mup_parallel_worth(work), else a plain loop in the calling thread. Loops use this, not
 * `#pragma omp parallel for if (...)`: libgomp allocates (and frees) a team for every parallel
 * region that runs on one thread, a false if() clause included, and LLVM's libomp allocates in
 * every worksharing `omp for`; either would be heap allocations in every training step. Each
 * iteration runs once whatever the split, so results do not depend on the thread count.
 * omp_get_thread_num() is 0 in the plain loop: per-thread scratch indexed by it works on both paths. */
#define MUP_PARALLEL_FOR(work, i, n, ...)                                           \
    do {                                                                            \
        long mup_n_ = (n);                                                          \
        if (mup_parallel_worth(work)) {                                             \
            _Pragma("omp parallel") {                                               \
                long mup_t_ = omp_get_thread_num(), mup_k_ = omp_get_num_threads(); \
                long mup_hi_ = mup_n_ * (mup_t_ + 1) / mup_k_;                      \
                for (long i = mup_n_ * mup_t_ / mup_k_; i < mup_hi_; i++) {         \
                    __VA_ARGS__                                                     \
                }                                                                   \
            }                                                                       \
        } else {                                                                    \
            for (long i = 0; i < mup_n_; i++) {                                     \
                __VA_ARGS__                                                         \
            }                                                                       \
        }                                                                           \
    } while (0)

#endif

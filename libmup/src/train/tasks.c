/* The library's two tasks: classification (the MLP on Fashion-MNIST or synthetic data) and
 * next-character prediction (the GPT on a text corpus). Batch buffers are allocated here, once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/models.h"
#include "mup/train.h"

#define EVAL_ROWS 1000

typedef struct {
    mup_task base;
    mup_model *M;
    mup_classif_forward_fn forward;
    const void *net;
    const mup_classif_data *train, *val;
    int batch;
    int lo, hi;           /* this rank's rows of each batch (all of them without mup_train_opts.dist) */
    mup_batcher batcher;
    float *x;
    int32_t *y;
} classif_task;

static mup_tensor *classif_loss(mup_task *t, mup_graph *g) {
    classif_task *c = (classif_task *)t;
    mup_batcher_next(&c->batcher, c->train, c->x, c->y);
    mup_tensor *x = mup_graph_wrap(g, c->x + (size_t)c->lo * c->train->dim, 2, (int[]){c->hi - c->lo, c->train->dim});
    return mup_cross_entropy(g, c->forward(g, c->net, x), c->y + c->lo);
}

static int classif_share(mup_task *t, const mup_dist *d) {
    classif_task *c = (classif_task *)t;
    mup_dist_share(d, c->batch, &c->lo, &c->hi);
    return c->batch;
}

static void classif_eval(mup_task *t, mup_model *M, double *loss, double *accuracy) {
    classif_task *c = (classif_task *)t;
    double sum_loss = 0.0, sum_acc = 0.0;
    for (int start = 0; start < c->val->n; start += EVAL_ROWS) {
        int rows = c->val->n - start < EVAL_ROWS ? c->val->n - start : EVAL_ROWS;
        mup_classif_batch_at(c->val, start, rows, c->x, c->y);
        mup_graph *g = mup_graph_begin_eval(M);
        mup_tensor *logits = c->forward(g, c->net, mup_graph_wrap(g, c->x, 2, (int[]){rows, c->val->dim}));
        sum_loss += (double)mup_cross_entropy(g, logits, c->y)->data[0] * rows;
        sum_acc += (double)mup_accuracy(logits, c->y) * rows;
        mup_graph_end(g);
    }
    *loss = sum_loss / c->val->n;
    *accuracy = sum_acc / c->val->n;
}

static int classif_get_state(const mup_task *t, uint64_t *w) {
    mup_batcher_state s = mup_batcher_get_state(&((const classif_task *)t)->batcher);
    w[0] = s.seed;
    w[1] = (uint64_t)s.epoch;
    w[2] = (uint64_t)(uint32_t)s.pos;
    w[3] = (uint64_t)(uint32_t)s.n;
    return 4;
}

static mup_status classif_set_state(mup_task *t, const uint64_t *w, int n) {
    classif_task *c = (classif_task *)t;
    if (n != 4)
        return mup_error(MUP_ERR_FORMAT, "classification task: a saved data state has 4 words, got %d", n);
    /* get_state writes a non-negative epoch, and the position and count as 32-bit values */
    if (w[1] > (uint64_t)INT64_MAX || w[2] > UINT32_MAX || w[3] > UINT32_MAX)
        return mup_error(MUP_ERR_FORMAT, "classification task: saved data state (epoch %llu, position %llu, "
                         "count %llu) is out of range", (unsigned long long)w[1], (unsigned long long)w[2],
                         (unsigned long long)w[3]);
    mup_batcher_state s = {.seed = w[0], .epoch = (int64_t)w[1], .pos = (int32_t)w[2], .n = (int32_t)w[3]};
    return mup_batcher_set_state(&c->batcher, s);
}

static void classif_free(mup_task *t) {
    classif_task *c = (classif_task *)t;
    mup_batcher_free(&c->batcher);
    free(c->x);
    free(c->y);
    free(c);
}

mup_task *mup_classif_task_new(mup_model *M, mup_classif_forward_fn forward, const void *net,
                               const mup_classif_data *train, const mup_classif_data *val, int batch,
                               uint64_t seed) {
    MUP_ASSERT(batch > 0, "classification task: batch %d must be positive", batch);
    if (train->n <= 0 || val->n <= 0 || train->dim <= 0 || train->dim != val->dim) {
        mup_error(MUP_ERR_INVALID, "classification task: %d training and %d validation examples of dimensions "
                  "%d and %d (need examples in both, of one positive dimension)", train->n, val->n, train->dim,
                  val->dim);
        return NULL;
    }
    classif_task *c = mup_xcalloc(1, sizeof *c);
    *c = (classif_task){.base = {classif_loss, classif_eval, classif_get_state, classif_set_state, classif_free,
                                 classif_share},
                        .M = M, .forward = forward, .net = net, .train = train, .val = val,
                        .batch = batch, .lo = 0, .hi = batch};
    mup_batcher_init(&c->batcher, train->n, batch, seed);
    int rows = batch > EVAL_ROWS ? batch : EVAL_ROWS;
    c->x = mup_xmalloc((size_t)rows * (size_t)train->dim * sizeof *c->x);
    c->y = mup_xmalloc((size_t)rows * sizeof *c->y);
    return &c->base;
}

typedef struct {
    mup_task base;
    mup_model *M;
    mup_lm_forward_fn forward;
    const void *net;
    const mup_text_data *train, *val;
    int B, T, eval_batches;
    int lo, hi;           /* this rank's sequences of each batch */
    mup_rng rng;
    int32_t *x, *y;
} lm_task;

static mup_tensor *lm_loss(mup_task *t, mup_graph *g) {
    lm_task *c = (lm_task *)t;
    mup_text_batch(c->train, &c->rng, c->B, c->T, c->x, c->y);
    size_t at = (size_t)c->lo * c->T;
    return mup_cross_entropy(g, c->forward(g, c->net, c->x + at, c->hi - c->lo, c->T), c->y + at);
}

static int lm_share(mup_task *t, const mup_dist *d) {
    lm_task *c = (lm_task *)t;
    mup_dist_share(d, c->B, &c->lo, &c->hi);
    return c->B;
}

static void lm_eval(mup_task *t, mup_model *M, double *loss, double *accuracy) {
    lm_task *c = (lm_task *)t;
    double sum_loss = 0.0, sum_acc = 0.0;
    long stride = (long)c->B * c->T;
    for (int k = 0; k < c->eval_batches; k++) {
        mup_text_batch_at(c->val, k * stride, c->B, c->T, c->x, c->y);
        mup_graph *g = mup_graph_begin_eval(M);
        mup_tensor *logits = c->forward(g, c->net, c->x, c->B, c->T);
        sum_loss += mup_cross_entropy(g, logits, c->y)->data[0];
        sum_acc += mup_accuracy(logits, c->y);
        mup_graph_end(g);
    }
    *loss = sum_loss / c->eval_batches;
    *accuracy = sum_acc / c->eval_batches;
}

static int lm_get_state(const mup_task *t, uint64_t *w) {
    memcpy(w, ((const lm_task *)t)->rng.s, 4 * sizeof *w);
    return 4;
}

static mup_status lm_set_state(mup_task *t, const uint64_t *w, int n) {
    if (n != 4)
        return mup_error(MUP_ERR_FORMAT, "language-model task: a saved data state has 4 words, got %d", n);
    mup_rng r;
    memcpy(r.s, w, sizeof r.s);
    if (!mup_rng_valid(&r))
        return mup_error(MUP_ERR_FORMAT, "language-model task: the saved data-order stream is all zeros, "
                         "which no generator reaches");
    ((lm_task *)t)->rng = r;
    return MUP_OK;
}

static void lm_free(mup_task *t) {
    lm_task *c = (lm_task *)t;
    free(c->x);
    free(c->y);
    free(c);
}

mup_task *mup_lm_task_new(mup_model *M, mup_lm_forward_fn forward, const void *net, const mup_text_data *train,
                          const mup_text_data *val, int B, int T, int eval_batches, uint64_t seed) {
    MUP_ASSERT(B > 0 && T > 0 && eval_batches > 0, "language-model task: B %d, T %d, %d eval batches", B, T,
               eval_batches);
    /* a window is T characters and the next one as its targets */
    if (train->n <= (long)T + 1 || val->n <= (long)T + 1) {
        mup_error(MUP_ERR_INVALID, "language-model task: %ld training and %ld validation characters; a block of "
                  "%d needs at least %ld in each", train->n, val->n, T, (long)T + 2);
        return NULL;
    }
    lm_task *c = mup_xcalloc(1, sizeof *c);
    *c = (lm_task){.base = {lm_loss, lm_eval, lm_get_state, lm_set_state, lm_free, lm_share}, .M = M,
                   .forward = forward, .net = net, .train = train, .val = val, .B = B, .T = T,
                   .eval_batches = eval_batches, .lo = 0, .hi = B,
                   .rng = mup_rng_stream(seed, 0x746578u)};
    c->x = mup_xmalloc((size_t)B * T * sizeof *c->x);
    c->y = mup_xmalloc((size_t)B * T * sizeof *c->y);
    return &c->base;
}

void mup_task_free(mup_task *t) {
    if (t)
        t->free(t);
}

mup_tensor *mup_mlp_forward_fn(mup_graph *g, const void *mlp, mup_tensor *x) { return mup_mlp_forward(g, mlp, x); }

mup_tensor *mup_gpt_forward_fn(mup_graph *g, const void *gpt, const int32_t *ids, int B, int T) {
    return mup_gpt_forward(g, gpt, ids, B, T);
}

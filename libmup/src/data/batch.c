/* Batches into buffers the caller owns: nothing here allocates after mup_batcher_init. */
#include <string.h>

#include "data_impl.h"
#include "internal.h"

/* The permutation of epoch state.epoch, a function of (seed, epoch) alone. */
static void batcher_shuffle(mup_batcher *b) {
    for (int i = 0; i < b->n; i++)
        b->perm[i] = i;
    mup_rng r = mup_rng_stream(b->state.seed, (uint64_t)b->state.epoch);
    mup_rng_shuffle(&r, b->perm, b->n);
}

void mup_batcher_init(mup_batcher *b, int n, int batch, uint64_t seed) {
    MUP_ASSERT(n > 0 && batch > 0, "mup_batcher_init: n %d and batch %d must be positive", n, batch);
    b->n = n;
    b->batch = batch;
    b->state = (mup_batcher_state){.seed = seed, .epoch = 0, .pos = 0, .n = n};
    b->perm = mup_xmalloc((size_t)n * sizeof(int32_t));
    batcher_shuffle(b);
}

void mup_batcher_free(mup_batcher *b) {
    free(b->perm);
    *b = (mup_batcher){0};
}

void mup_batcher_next(mup_batcher *b, const mup_classif_data *d, float *x, int32_t *y) {
    MUP_ASSERT(b->perm && d->n == b->n, "mup_batcher_next: batcher made for %d examples, data set has %d",
               b->n, d->n);
    size_t row = (size_t)d->dim;
    for (int i = 0; i < b->batch; i++) {
        int32_t k = b->perm[b->state.pos];
        memcpy(x + (size_t)i * row, d->x + (size_t)k * row, row * sizeof(float));
        y[i] = d->y[k];
        if (++b->state.pos == b->n) {
            b->state.epoch++;
            b->state.pos = 0;
            batcher_shuffle(b);
        }
    }
}

mup_batcher_state mup_batcher_get_state(const mup_batcher *b) { return b->state; }

mup_status mup_batcher_set_state(mup_batcher *b, mup_batcher_state s) {
    if (s.n != b->n)
        return mup_error(MUP_ERR_INVALID, "batcher state: saved for %d examples, this data set has %d",
                         (int)s.n, b->n);
    if (s.epoch < 0 || s.pos < 0 || s.pos >= s.n)
        return mup_error(MUP_ERR_INVALID,
                         "batcher state: epoch %lld, position %d out of range for %d examples",
                         (long long)s.epoch, (int)s.pos, b->n);
    b->state = s;
    batcher_shuffle(b);
    return MUP_OK;
}

void mup_classif_batch_at(const mup_classif_data *d, long start, int batch, float *x, int32_t *y) {
    MUP_ASSERT(start >= 0 && batch > 0 && d->n > 0, "mup_classif_batch_at: start %ld, batch %d, %d examples",
               start, batch, d->n);
    size_t row = (size_t)d->dim;
    for (int i = 0; i < batch; i++) {
        long k = (start + i) % d->n;
        memcpy(x + (size_t)i * row, d->x + (size_t)k * row, row * sizeof(float));
        y[i] = d->y[k];
    }
}

/* One window: x (T) = tokens[o .. o+T), y (T) = tokens[o+1 .. o+T] */
static void text_window(const mup_text_data *d, long o, int T, int32_t *x, int32_t *y) {
    memcpy(x, d->tokens + o, (size_t)T * sizeof(int32_t));
    memcpy(y, d->tokens + o + 1, (size_t)T * sizeof(int32_t));
}

static void text_check(const mup_text_data *d, int B, int T, const char *fn) {
    MUP_ASSERT(B > 0 && T > 0 && d->n > T && d->n - T <= (long)UINT32_MAX,
               "%s: B %d, T %d on %ld tokens (need more than T tokens)", fn, B, T, d->n);
}

void mup_text_batch(const mup_text_data *d, mup_rng *r, int B, int T, int32_t *x, int32_t *y) {
    text_check(d, B, T, "mup_text_batch");
    for (int b = 0; b < B; b++) {
        long o = (long)mup_rng_below(r, (uint32_t)(d->n - T));
        text_window(d, o, T, x + (size_t)b * (size_t)T, y + (size_t)b * (size_t)T);
    }
}

void mup_text_batch_at(const mup_text_data *d, long start, int B, int T, int32_t *x, int32_t *y) {
    text_check(d, B, T, "mup_text_batch_at");
    MUP_ASSERT(start >= 0, "mup_text_batch_at: start %ld is negative", start);
    for (int b = 0; b < B; b++) {
        long o = (start + (long)b * T) % (d->n - T);
        text_window(d, o, T, x + (size_t)b * (size_t)T, y + (size_t)b * (size_t)T);
    }
}

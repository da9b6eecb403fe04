/* Data: classification sets (Fashion-MNIST, a synthetic teacher task), character-level text
 * (a directory of text files such as Debian's fortunes, a synthetic Markov chain) and batching.
 *
 * A data set is a plain value whose arrays it owns; free it with its _free function (safe on a
 * zeroed struct, and a loader that fails leaves *out zeroed). Loaders return a mup_status and name
 * the file and what is wrong; batch functions fill buffers the caller allocated once, so a training
 * step allocates nothing. Every data set is capped at MUP_DATA_MAX_BYTES of memory, so a hostile
 * file header cannot ask for more. */
#ifndef MUP_DATA_H
#define MUP_DATA_H

#include "mup/api.h"

#include <stdbool.h>
#include <stdint.h>

#include "mup/error.h"
#include "mup/rng.h"

/* The largest array a loader or generator allocates (MUP_ERR_NOMEM beyond it). */
#define MUP_DATA_MAX_BYTES (1L << 30)

/* ---- classification ---- */

typedef struct {
    int n, dim, n_classes;
    float *x;                /* (n, dim) */
    int32_t *y;              /* (n), each in [0, n_classes) */
} mup_classif_data;

MUP_API void mup_classif_data_free(mup_classif_data *d);

#define MUP_FASHION_MNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define MUP_FASHION_MNIST_MEAN 0.2860f   /* of pixels scaled to [0, 1], over the training set */
#define MUP_FASHION_MNIST_STD 0.3530f

/* Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from dir (NULL: $MUP_FASHION_MNIST_DIR,
 * else MUP_FASHION_MNIST_DEFAULT_DIR, where Debian's dataset-fashion-mnist installs them).
 * dim 784, 10 classes; pixels scaled to [0, 1] then standardised with the mean and std above.
 * limit > 0 keeps the first limit examples (the whole file is still read and checked).
 * MUP_ERR_IO: a file is missing or unreadable; MUP_ERR_FORMAT: bad magic, sizes other than 28x28,
 * image and label counts that differ, a label outside 0..9, a truncated or corrupt file. */
MUP_API mup_status mup_fashion_mnist_load(const char *dir, bool train, int limit, mup_classif_data *out);

/* A learnable task: x ~ N(0, 1) and y = argmax of a fixed random teacher W2 tanh(W1 x / sqrt(dim)).
 * The teacher depends on (seed, dim, n_classes) only and examples are drawn in order, so a larger
 * n extends a smaller one: generate train + validation at once and split. MUP_ERR_INVALID for
 * n < 1, dim < 1 or n_classes < 2. */
MUP_API mup_status mup_synthetic_classif(int n, int dim, int n_classes, uint64_t seed, mup_classif_data *out);

/* Copies the first n - n_val examples into train and the last n_val into val.
 * MUP_ERR_INVALID unless 0 < n_val < all->n. */
MUP_API mup_status mup_classif_split(const mup_classif_data *all, int n_val, mup_classif_data *train,
                             mup_classif_data *val);

/* ---- character-level text ---- */

typedef struct {
    int32_t *tokens;         /* (n), each in [0, vocab) */
    long n;
    int vocab;
    unsigned char itos[256]; /* token -> byte */
    int16_t stoi[256];       /* byte -> token, -1 for a byte outside the vocabulary */
} mup_text_data;

MUP_API void mup_text_data_free(mup_text_data *d);

#define MUP_TEXT_DEFAULT_DIR "/usr/share/games/fortunes"

/* The bytes of the files, concatenated in the given order; the vocabulary is the distinct bytes
 * present, in increasing order. MUP_ERR_IO naming an unreadable file, MUP_ERR_FORMAT when the
 * corpus is empty, MUP_ERR_NOMEM above MUP_DATA_MAX_BYTES of tokens. */
MUP_API mup_status mup_text_load_files(const char *const *paths, int n_paths, mup_text_data *out);

/* Every regular file of dir in strcmp order of names, skipping names ending in .dat or .u8
 * (fortune's index files and its UTF-8 links to the same text) and files containing a NUL byte.
 * dir NULL: $MUP_TEXT_DIR, else MUP_TEXT_DEFAULT_DIR (Debian's fortunes package). */
MUP_API mup_status mup_text_load_dir(const char *dir, mup_text_data *out);

/* The last floor(n * val_fraction) tokens become val, the rest train; both keep all's vocabulary.
 * MUP_ERR_INVALID unless both parts get at least two tokens (one input-target pair). */
MUP_API mup_status mup_text_split(const mup_text_data *all, double val_fraction, mup_text_data *train,
                          mup_text_data *val);

/* n tokens of an order-2 Markov chain over vocab symbols: each pair of previous tokens has three
 * likely successors (probabilities 0.7, 0.2, 0.1) and, with probability 0.05, any token instead.
 * Deterministic from the seed; itos maps token i to byte 32 + i when vocab <= 95 (printable),
 * to byte i otherwise. MUP_ERR_INVALID unless n >= 3 and 2 <= vocab <= 256. */
MUP_API mup_status mup_synthetic_text(long n, int vocab, uint64_t seed, mup_text_data *out);

/* Entropy of the token frequencies, in nats: the loss of the best model that ignores context. */
MUP_API double mup_text_unigram_entropy(const mup_text_data *d);

/* ---- batching ---- */

/* Where a batcher stands: what a checkpoint saves to resume the same sequence of batches. */
typedef struct {
    uint64_t seed;
    int64_t epoch;           /* epochs completed */
    int32_t pos;             /* examples of the current epoch already handed out */
    int32_t n;               /* the data set size it was made for */
} mup_batcher_state;

/* Shuffled batches of a classification set: each epoch is a fresh permutation drawn from
 * (seed, epoch), so the sequence is fixed by the seed and a state can be restored without
 * replaying. A batch that crosses the end of an epoch takes its remaining examples from the next
 * one: every batch is full and every example is seen exactly once per epoch. */
typedef struct {
    int n, batch;
    mup_batcher_state state;
    int32_t *perm;           /* (n): the current epoch's order */
} mup_batcher;

MUP_API void mup_batcher_init(mup_batcher *b, int n, int batch, uint64_t seed);
MUP_API void mup_batcher_free(mup_batcher *b);
/* x (batch, d->dim), y (batch); d->n must be the n given to init. */
MUP_API void mup_batcher_next(mup_batcher *b, const mup_classif_data *d, float *x, int32_t *y);
MUP_API mup_batcher_state mup_batcher_get_state(const mup_batcher *b);
/* MUP_ERR_INVALID (and b unchanged) when s was saved for another n or is out of range. */
MUP_API mup_status mup_batcher_set_state(mup_batcher *b, mup_batcher_state s);

/* Examples start, start+1, ... (modulo d->n) into x (batch, d->dim), y (batch): for evaluation in
 * order; the last batch of a pass wraps around to the first examples. */
MUP_API void mup_classif_batch_at(const mup_classif_data *d, long start, int batch, float *x, int32_t *y);

/* B windows at uniform random offsets: x (B, T) and y (B, T) with y[b][t] = tokens[o_b + t + 1]
 * where x[b][t] = tokens[o_b + t]. Needs d->n > T. */
MUP_API void mup_text_batch(const mup_text_data *d, mup_rng *r, int B, int T, int32_t *x, int32_t *y);

/* Window b starts at (start + b T) modulo (d->n - T), so every window lies inside the text:
 * calling with start = 0, B T, 2 B T, ... walks through it in order. Needs d->n > T. */
MUP_API void mup_text_batch_at(const mup_text_data *d, long start, int B, int T, int32_t *x, int32_t *y);

#endif

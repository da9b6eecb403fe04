/* Synthetic data sets that a small model can learn, fixed by their seed: a teacher network's
 * classes and an order-2 Markov chain. Labels are computed in double precision with plain loops
 * (no BLAS, whose rounding varies between machines), so a seed gives the same set everywhere. */
#include <math.h>
#include <string.h>

#include "data_impl.h"
#include "internal.h"

#define TEACHER_HIDDEN 32
#define STREAM_TEACHER 1
#define STREAM_SAMPLES 2

/* y = argmax W2 tanh(W1 x / sqrt(dim)); x (dim), w1 (H, dim), w2 (C, H) */
static int32_t teacher_label(const float *x, const double *w1, const double *w2, int dim, int C) {
    double h[TEACHER_HIDDEN];
    for (int j = 0; j < TEACHER_HIDDEN; j++) {
        double a = 0.0;
        for (int k = 0; k < dim; k++)
            a += w1[(size_t)j * (size_t)dim + (size_t)k] * x[k];
        h[j] = tanh(a / sqrt((double)dim));
    }
    int32_t best = 0;
    double best_logit = -INFINITY;
    for (int c = 0; c < C; c++) {
        double z = 0.0;
        for (int j = 0; j < TEACHER_HIDDEN; j++)
            z += w2[c * TEACHER_HIDDEN + j] * h[j];
        if (z > best_logit) {
            best_logit = z;
            best = c;
        }
    }
    return best;
}

mup_status mup_synthetic_classif(int n, int dim, int n_classes, uint64_t seed, mup_classif_data *out) {
    *out = (mup_classif_data){0};
    if (n < 1 || dim < 1 || n_classes < 2)
        return mup_error(MUP_ERR_INVALID, "synthetic classification: n %d, dim %d, %d classes (need n >= 1, "
                         "dim >= 1, at least 2 classes)", n, dim, n_classes);
    mup_status s = mup_data_classif_alloc(out, n, dim, n_classes, "synthetic classification");
    if (s != MUP_OK)
        return s;
    mup_rng teacher = mup_rng_stream(seed, STREAM_TEACHER), samples = mup_rng_stream(seed, STREAM_SAMPLES);
    size_t n_w1 = (size_t)TEACHER_HIDDEN * (size_t)dim, n_w2 = (size_t)n_classes * TEACHER_HIDDEN;
    double *w = mup_xmalloc((n_w1 + n_w2) * sizeof(double));
    for (size_t i = 0; i < n_w1 + n_w2; i++)
        w[i] = mup_rng_normal(&teacher);
    mup_rng_fill_normal(&samples, out->x, (long)n * dim, 0.0f, 1.0f);
    long work = (long)n * dim * TEACHER_HIDDEN;
    MUP_PARALLEL_FOR(work, i, n, {
        out->y[i] = teacher_label(out->x + (size_t)i * (size_t)dim, w, w + n_w1, dim, n_classes);
    });
    free(w);
    return MUP_OK;
}

#define N_SUCC 3
static const double succ_cum[N_SUCC] = {0.7, 0.9, 1.0};
#define P_ANY 0.05

mup_status mup_synthetic_text(long n, int vocab, uint64_t seed, mup_text_data *out) {
    *out = (mup_text_data){0};
    if (n < 3 || vocab < 2 || vocab > 256)
        return mup_error(MUP_ERR_INVALID, "synthetic text: %ld tokens over %d symbols (need n >= 3 and "
                         "2 <= vocab <= 256)", n, vocab);
    mup_status s = mup_data_text_alloc(out, n, "synthetic text");
    if (s != MUP_OK)
        return s;
    out->vocab = vocab;
    memset(out->stoi, 0xff, sizeof out->stoi); /* -1 */
    for (int v = 0; v < vocab; v++) {
        out->itos[v] = (unsigned char)(vocab <= 95 ? 32 + v : v);
        out->stoi[out->itos[v]] = (int16_t)v;
    }
    mup_rng teacher = mup_rng_stream(seed, STREAM_TEACHER), samples = mup_rng_stream(seed, STREAM_SAMPLES);
    /* succ (vocab, vocab, N_SUCC): the likely successors of each pair of tokens */
    size_t n_succ = (size_t)vocab * (size_t)vocab * N_SUCC;
    uint8_t *succ = mup_xmalloc(n_succ);
    for (size_t i = 0; i < n_succ; i++)
        succ[i] = (uint8_t)mup_rng_below(&teacher, (uint32_t)vocab);
    int32_t *t = out->tokens;
    t[0] = (int32_t)mup_rng_below(&samples, (uint32_t)vocab);
    t[1] = (int32_t)mup_rng_below(&samples, (uint32_t)vocab);
    for (long i = 2; i < n; i++) {
        double u = mup_rng_uniform(&samples);
        if (u < P_ANY) {
            t[i] = (int32_t)mup_rng_below(&samples, (uint32_t)vocab);
            continue;
        }
        u = (u - P_ANY) / (1.0 - P_ANY);
        int k = 0;
        while (k < N_SUCC - 1 && u >= succ_cum[k])
            k++;
        t[i] = succ[((size_t)t[i - 2] * (size_t)vocab + (size_t)t[i - 1]) * N_SUCC + (size_t)k];
    }
    free(succ);
    return MUP_OK;
}

/* Fused causal attention: gradient checks, a double-precision reference, T = 1, causality, the
 * logits tap, thread-count determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

typedef struct {
    int H;
    float scale;
} at_ctx;

static mup_tensor *f_attention(mup_graph *g, mup_tensor **in, void *ctx) {
    const at_ctx *a = ctx;
    return mup_attention(g, in[0], a->H, a->scale, "attn");
}

static void check_grad(int B, int T, int C, int H, uint64_t seed) {
    int d = C / H;
    at_ctx muP = {H, 1.0f / (float)d}, sp = {H, 1.0f / sqrtf((float)d)};
    gc_input in[1] = {{.ndim = 3, .shape = {B, T, 3 * C}}};
    GC_EXPECT(gradcheck(f_attention, &muP, 1, in, seed));
    GC_EXPECT(gradcheck(f_attention, &sp, 1, in, seed + 1));
}

Test(attention, gradcheck_B2_T5_C6_H2) { check_grad(2, 5, 6, 2, 51); }
Test(attention, gradcheck_B1_T7_C9_H3) { check_grad(1, 7, 9, 3, 53); }

/* out (B,T,C) from qkv (B,T,3C) computed the obvious way, in double */
static void reference(double *out, const float *qkv, int B, int T, int C, int H, double scale) {
    int d = C / H;
    double *p = malloc((size_t)T * sizeof *p);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                const float *q = qkv + ((long)b * T + t) * 3 * C + h * d;
                double mx = -INFINITY, sum = 0;
                for (int s = 0; s <= t; s++) {
                    const float *k = qkv + ((long)b * T + s) * 3 * C + C + h * d;
                    p[s] = 0;
                    for (int i = 0; i < d; i++)
                        p[s] += (double)q[i] * k[i];
                    p[s] *= scale;
                    mx = fmax(mx, p[s]);
                }
                for (int s = 0; s <= t; s++)
                    sum += p[s] = exp(p[s] - mx);
                for (int i = 0; i < d; i++) {
                    double o = 0;
                    for (int s = 0; s <= t; s++)
                        o += p[s] / sum * qkv[((long)b * T + s) * 3 * C + 2 * C + h * d + i];
                    out[((long)b * T + t) * C + h * d + i] = o;
                }
            }
    free(p);
}

Test(attention, matches_double_reference) {
    int B = 2, T = 9, C = 12, H = 3;
    mup_tensor *qkv = test_leaf(3, (int[]){B, T, 3 * C}, 5, false);
    double *want = malloc((size_t)B * T * C * sizeof *want);
    reference(want, qkv->data, B, T, C, H, 0.5);
    mup_graph *g = mup_graph_new();
    for (int grad = 0; grad < 2; grad++) { /* with and without probabilities kept for backward */
        mup_graph_reset(g, grad);
        mup_tensor *y = mup_attention(g, qkv, H, 0.5f, NULL);
        cr_assert(y->ndim == 3 && y->shape[0] == B && y->shape[1] == T && y->shape[2] == C);
        for (long i = 0; i < y->size; i++)
            cr_assert(fabs(y->data[i] - want[i]) < 1e-5, "grad %d element %ld: %g vs %g", grad, i,
                      y->data[i], want[i]);
    }
    mup_graph_free(g);
    free(want);
    test_leaf_free(qkv);
}

Test(attention, single_token_returns_v) {
    int B = 3, C = 8, H = 2;
    mup_tensor *qkv = test_leaf(3, (int[]){B, 1, 3 * C}, 6, true);
    mup_graph *g = mup_graph_new();
    mup_tensor *y = mup_attention(g, qkv, H, 0.25f, NULL);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            cr_assert_eq(y->data[b * C + c], qkv->data[b * 3 * C + 2 * C + c]);
    mup_graph_free(g);
    test_leaf_free(qkv);
}

Test(attention, later_tokens_do_not_change_earlier_outputs) {
    int B = 2, T = 6, C = 6, H = 3;
    mup_tensor *qkv = test_leaf(3, (int[]){B, T, 3 * C}, 7, true);
    mup_graph *g = mup_graph_new();
    mup_tensor *y1 = mup_attention(g, qkv, H, 0.4f, NULL);
    for (int b = 0; b < B; b++) /* every q, k, v of the last token */
        for (int c = 0; c < 3 * C; c++)
            qkv->data[((long)b * T + T - 1) * 3 * C + c] += 1.5f;
    mup_tensor *y2 = mup_attention(g, qkv, H, 0.4f, NULL);
    for (int b = 0; b < B; b++) {
        long first = (long)b * T * C, last = first + (long)(T - 1) * C;
        cr_assert(memcmp(y1->data + first, y2->data + first, (size_t)(T - 1) * C * sizeof(float)) == 0,
                  "batch %d: earlier outputs changed", b);
        cr_assert(memcmp(y1->data + last, y2->data + last, (size_t)C * sizeof(float)) != 0,
                  "batch %d: the last output did not change", b);
    }
    mup_graph_free(g);
    test_leaf_free(qkv);
}

typedef struct {
    int calls;
    char layer[64];
    mup_tensor copy;
    float data[2 * 2 * 4 * 4];
} tap_seen;

static void on_tap(const char *layer, const mup_tensor *t, void *ctx) {
    tap_seen *s = ctx;
    s->calls++;
    strncpy(s->layer, layer, sizeof s->layer - 1);
    s->copy = *t;
    if (t->size <= (long)(sizeof s->data / sizeof s->data[0]))
        memcpy(s->data, t->data, (size_t)t->size * sizeof(float));
}

Test(attention, tap_sees_scaled_logits_before_the_mask) {
    int B = 2, T = 4, C = 6, H = 2, d = 3;
    float scale = 0.7f;
    mup_tensor *qkv = test_leaf(3, (int[]){B, T, 3 * C}, 8, true);
    tap_seen seen = {0};
    mup_graph *g = mup_graph_new();
    mup_graph_set_tap(g, on_tap, &seen);
    mup_attention(g, qkv, H, scale, NULL);
    cr_assert_eq(seen.calls, 0, "no name, no tap");
    mup_attention(g, qkv, H, scale, "blocks.0.attn");
    cr_assert_eq(seen.calls, 1);
    cr_assert_str_eq(seen.layer, "blocks.0.attn.logits");
    cr_assert(seen.copy.ndim == 4 && seen.copy.shape[0] == B && seen.copy.shape[1] == H &&
              seen.copy.shape[2] == T && seen.copy.shape[3] == T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++)
                for (int s = 0; s < T; s++) { /* s > t included: the mask comes after */
                    double want = 0;
                    for (int i = 0; i < d; i++)
                        want += (double)qkv->data[(b * T + t) * 3 * C + h * d + i] *
                                qkv->data[(b * T + s) * 3 * C + C + h * d + i];
                    float got = seen.data[((b * H + h) * T + t) * T + s];
                    cr_assert(fabs(got - scale * want) < 1e-5, "(%d,%d,%d,%d): %g vs %g", b, h, t, s, got,
                              scale * want);
                }
    mup_graph_free(g);
    test_leaf_free(qkv);
}

/* with n_threads: the output without and with a tape into ye and y, the gradient into dq */
static void run_with_threads(int n_threads, int B, int T, int C, int H, float *ye, float *y, float *dq) {
    mup_set_num_threads(n_threads);
    mup_tensor *qkv = test_leaf(3, (int[]){B, T, 3 * C}, 9, false);
    mup_graph *g = mup_graph_new();
    mup_graph_reset(g, false);
    mup_tensor *out = mup_attention(g, qkv, H, 0.125f, NULL);
    memcpy(ye, out->data, (size_t)out->size * sizeof *ye);
    mup_graph_reset(g, true);
    out = mup_attention(g, qkv, H, 0.125f, NULL);
    float *R = malloc((size_t)out->size * sizeof *R);
    mup_rng r = mup_rng_new(10);
    mup_rng_fill_normal(&r, R, out->size, 0.0f, 1.0f);
    mup_backward_seed(g, out, R);
    memcpy(y, out->data, (size_t)out->size * sizeof *y);
    memcpy(dq, qkv->grad, (size_t)qkv->size * sizeof *dq);
    free(R);
    mup_graph_free(g);
    test_leaf_free(qkv);
    mup_set_num_threads(1);
}

Test(attention, one_and_two_threads_agree_bitwise) {
    int B = 3, T = 32, C = 32, H = 4; /* B*H*T*T*d above the parallel threshold */
    long n = (long)B * T * C;
    float *a = malloc(5 * (size_t)n * sizeof *a), *b = malloc(5 * (size_t)n * sizeof *b);
    run_with_threads(1, B, T, C, H, a, a + n, a + 2 * n);
    run_with_threads(2, B, T, C, H, b, b + n, b + 2 * n);
    cr_assert(memcmp(a, a + n, (size_t)n * sizeof *a) == 0, "outputs with and without a tape differ");
    cr_assert(memcmp(a, b, 2 * (size_t)n * sizeof *a) == 0, "outputs differ");
    cr_assert(memcmp(a + 2 * n, b + 2 * n, 3 * (size_t)n * sizeof *a) == 0, "qkv grads differ");
    free(a);
    free(b);
}

Test(attention, heads_must_divide_width_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("2 heads do not divide C = 5");
    mup_graph *g = mup_graph_new();
    mup_attention(g, mup_graph_zeros(g, 3, (int[]){1, 2, 15}), 2, 1.0f, "attn");
}

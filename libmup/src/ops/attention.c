/* Fused causal multi-head self-attention. Letters: B batch, T sequence length, C channels,
 * H heads, d = C/H channels per head; s indexes keys, t queries.
 * Each (b, h) pair is independent: it reads and writes only its own head's columns, so the pairs run
 * in parallel and every sum inside one runs in a fixed order (deterministic at any thread count).
 * Inner loops run over contiguous memory: k and v of the head are first transposed to (d, T) so
 * that q·k for all keys becomes a sum of scaled rows rather than T separate dot products. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "mup/error.h"
#include "mup/ops.h"

typedef struct {
    int B, T, C, H, d;
    float scale;
} attn_dims;

/* dst (d, T) = the head's columns [col, col + d) of the rows of one batch entry, src (T, 3C) */
static void head_transpose(float *dst, const float *src, const attn_dims *a, int col) {
    for (int s = 0; s < a->T; s++) {
        const float *row = src + (long)s * 3 * a->C + col;
        for (int i = 0; i < a->d; i++)
            dst[(long)i * a->T + s] = row[i];
    }
}

/* row (n) = scale * q (d) · kt (d, T) for the first n keys */
static void head_scores(float *row, const float *q, const float *kt, const attn_dims *a, int n) {
    for (int s = 0; s < n; s++)
        row[s] = 0.0f;
    for (int i = 0; i < a->d; i++) {
        const float qi = q[i], *k = kt + (long)i * a->T;
        for (int s = 0; s < n; s++)
            row[s] += qi * k[s];
    }
    for (int s = 0; s < n; s++)
        row[s] *= a->scale;
}

/* One (b, h) pair. out (B,T,C), att: the pair's (T,T) probabilities, or one reusable row (T) when
 * none are kept (att_stride 0), logits: the pair's (T,T) scaled logits or NULL, qkv (B,T,3C),
 * kt scratch (d,T) */
static void head_forward(float *out, float *att, long att_stride, float *logits, const float *qkv,
                         float *kt, const attn_dims *a, int b, int h) {
    int T = a->T, C = a->C, d = a->d;
    const float *x = qkv + (long)b * T * 3 * C; /* (T, 3C) */
    head_transpose(kt, x, a, C + h * d);
    for (int t = 0; t < T; t++) {
        float *p = att + t * att_stride;
        head_scores(p, x + (long)t * 3 * C + h * d, kt, a, logits ? T : t + 1);
        if (logits)
            memcpy(logits + (long)t * T, p, (size_t)T * sizeof *p);
        float mx = p[0];
        for (int s = 1; s <= t; s++)
            mx = p[s] > mx ? p[s] : mx;
        float sum = 0.0f;
        for (int s = 0; s <= t; s++) {
            p[s] = expf(p[s] - mx);
            sum += p[s];
        }
        float inv = 1.0f / sum;
        for (int s = 0; s < T; s++)
            p[s] = s <= t ? p[s] * inv : 0.0f;
        float *o = out + ((long)b * T + t) * C + h * d;
        for (int i = 0; i < d; i++)
            o[i] = 0.0f;
        for (int s = 0; s <= t; s++) {
            const float ps = p[s], *v = x + (long)s * 3 * C + 2 * C + h * d;
            for (int i = 0; i < d; i++)
                o[i] += ps * v[i];
        }
    }
}

/* One (b, h) pair. dqkv (B,T,3C) +=, dout (B,T,C), att the pair's (T,T), qkv (B,T,3C),
 * scratch: vt (d,T), ds (T) */
static void head_backward(float *dqkv, const float *dout, const float *att, const float *qkv,
                          float *scratch, const attn_dims *a, int b, int h) {
    int T = a->T, C = a->C, d = a->d;
    long ld = 3L * C, base = (long)b * T * ld;
    const float *x = qkv + base;
    float *dx = dqkv + base, *vt = scratch, *ds = scratch + (long)d * T;
    head_transpose(vt, x, a, 2 * C + h * d);
    for (int t = 0; t < T; t++) {
        const float *p = att + (long)t * T, *go = dout + ((long)b * T + t) * C + h * d;
        const float *q = x + t * ld + h * d;
        /* ds = dP, the gradient of the probabilities: go · v_s */
        for (int s = 0; s <= t; s++)
            ds[s] = 0.0f;
        for (int i = 0; i < d; i++) {
            const float gi = go[i], *v = vt + (long)i * T;
            for (int s = 0; s <= t; s++)
                ds[s] += gi * v[s];
        }
        /* through the softmax and the scale: ds = scale * P (dP - sum P dP) */
        float dot = 0.0f;
        for (int s = 0; s <= t; s++)
            dot += p[s] * ds[s];
        for (int s = 0; s <= t; s++)
            ds[s] = a->scale * p[s] * (ds[s] - dot);
        float *dq = dx + t * ld + h * d;
        for (int s = 0; s <= t; s++) {
            const float *k = x + s * ld + a->C + h * d;
            float *dk = dx + s * ld + a->C + h * d, *dv = dx + s * ld + 2 * a->C + h * d;
            const float dss = ds[s], ps = p[s];
            for (int i = 0; i < d; i++) {
                dq[i] += dss * k[i];
                dk[i] += dss * q[i];
                dv[i] += ps * go[i];
            }
        }
    }
}

static attn_dims node_dims(const mup_node *n) {
    const mup_tensor *y = n->out;
    return (attn_dims){.B = y->shape[0], .T = y->shape[1], .C = y->shape[2], .H = n->i[0],
                       .d = y->shape[2] / n->i[0], .scale = n->f[0]};
}

static void attention_backward(mup_graph *g, const mup_node *n) {
    attn_dims a = node_dims(n);
    float *dqkv = mup_grad(g, n->in[0]);
    const float *att = n->saved, *dout = n->out->grad, *qkv = n->in[0]->data;
    long per = (long)(a.d + 1) * a.T;
    float *scratch = mup_graph_alloc(g, (size_t)omp_get_max_threads() * per * sizeof *scratch);
    int pairs = a.B * a.H;
#pragma omp parallel if ((long)pairs * a.T * a.T * a.d > MUP_PARALLEL_MIN)
    {
        float *mine = scratch + omp_get_thread_num() * per;
#pragma omp for schedule(static)
        for (int bh = 0; bh < pairs; bh++)
            head_backward(dqkv, dout, att + (long)bh * a.T * a.T, qkv, mine, &a, bh / a.H, bh % a.H);
    }
}

static const mup_op op_attention = {"attention", attention_backward};

mup_tensor *mup_attention(mup_graph *g, mup_tensor *qkv, int n_head, float scale, const char *name) {
    char qs[64];
    MUP_ASSERT(qkv->ndim == 3 && qkv->shape[2] % 3 == 0,
               "attention %s: qkv %s must be (B, T, 3C)", name ? name : "", mup_shape_str(qkv, qs, sizeof qs));
    int C = qkv->shape[2] / 3;
    MUP_ASSERT(n_head > 0 && C % n_head == 0, "attention %s: %d heads do not divide C = %d",
               name ? name : "", n_head, C);
    attn_dims a = {.B = qkv->shape[0], .T = qkv->shape[1], .C = C, .H = n_head, .d = C / n_head,
                   .scale = scale};
    int pairs = a.B * a.H;
    long TT = (long)a.T * a.T;
    mup_tensor *y = mup_graph_tensor(g, 3, (int[]){a.B, a.T, C});
    mup_tensor *logits = g->tap && name ? mup_graph_tensor(g, 4, (int[]){a.B, a.H, a.T, a.T}) : NULL;
    mup_node *n = mup_graph_record(g, &op_attention, y, qkv, NULL, NULL);
    /* probabilities are kept for backward; otherwise each pair needs one row at a time */
    long att_stride = n ? a.T : 0, att_pair = n ? TT : a.T;
    float *att = mup_graph_alloc(g, (size_t)pairs * att_pair * sizeof *att);
    long per = (long)a.d * a.T;
    float *scratch = mup_graph_alloc(g, (size_t)omp_get_max_threads() * per * sizeof *scratch);
#pragma omp parallel if ((long)pairs * TT * a.d > MUP_PARALLEL_MIN)
    {
        float *mine = scratch + omp_get_thread_num() * per;
#pragma omp for schedule(static)
        for (int bh = 0; bh < pairs; bh++)
            head_forward(y->data, att + bh * att_pair, att_stride, logits ? logits->data + bh * TT : NULL,
                         qkv->data, mine, &a, bh / a.H, bh % a.H);
    }
    if (n) {
        n->saved = att;
        n->i[0] = n_head;
        n->f[0] = scale;
    }
    if (logits) {
        size_t len = strlen(name) + sizeof ".logits";
        char *label = mup_graph_alloc(g, len);
        snprintf(label, len, "%s.logits", name);
        mup_graph_tap(g, label, logits);
    }
    return y;
}

/* Differentiable ops. Each computes its output now, in the graph's arena, and records a tape node
 * when gradients are wanted. Shapes are checked with MUP_ASSERT. Letters used in shape comments:
 * B batch, T sequence length, C channels (width), N rows (any leading dimensions flattened),
 * H heads, V vocabulary. */
#ifndef MUP_OPS_H
#define MUP_OPS_H

#include "mup/api.h"

#include <stdbool.h>
#include <stdint.h>

#include "mup/graph.h"
#include "mup/tensor.h"

/* ---- matmul family ---- */

/* a (M,K) or, transposed, (K,M); b (K,N) or (N,K) -> (M,N). 2-D only. */
MUP_API mup_tensor *mup_matmul(mup_graph *g, mup_tensor *a, mup_tensor *b, bool trans_a, bool trans_b);
/* x (..., in), w (out, in), bias (out) or NULL -> (..., out) = alpha * x wᵀ + bias.
 * alpha is how the µP readout's output_mult / m is applied without a separate op. */
MUP_API mup_tensor *mup_affine(mup_graph *g, mup_tensor *x, mup_tensor *w, mup_tensor *bias, float alpha);

/* ---- elementwise ---- */

/* a + b. b has a's shape, or the shape of a's trailing dimensions (broadcast over leading ones). */
MUP_API mup_tensor *mup_add(mup_graph *g, mup_tensor *a, mup_tensor *b);
/* a + s * b, same shapes, in one pass: a residual branch under depth scaling (s = 1 is mup_add, and
 * records an add). */
MUP_API mup_tensor *mup_add_scaled(mup_graph *g, mup_tensor *a, mup_tensor *b, float s);
/* a * b, same shapes. */
MUP_API mup_tensor *mup_mul(mup_graph *g, mup_tensor *a, mup_tensor *b);
/* s * a */
MUP_API mup_tensor *mup_scale(mup_graph *g, mup_tensor *a, float s);

/* ---- reductions ---- */

MUP_API mup_tensor *mup_sum(mup_graph *g, mup_tensor *a);   /* -> (1) */
MUP_API mup_tensor *mup_mean(mup_graph *g, mup_tensor *a);  /* -> (1) */

/* ---- activations ---- */

MUP_API mup_tensor *mup_relu(mup_graph *g, mup_tensor *a);
MUP_API mup_tensor *mup_tanh(mup_graph *g, mup_tensor *a);
/* exact: 0.5 x (1 + erf(x / sqrt 2)) */
MUP_API mup_tensor *mup_gelu(mup_graph *g, mup_tensor *a);

/* ---- softmax and loss ---- */

/* softmax over the last dimension */
MUP_API mup_tensor *mup_softmax(mup_graph *g, mup_tensor *a);
/* logits (N, C) (any leading dims flattened), targets N class indices in [0, C) -> mean over rows
 * of -log softmax(logits)[target]. Fused: backward is (p - onehot) / N. */
MUP_API mup_tensor *mup_cross_entropy(mup_graph *g, mup_tensor *logits, const int32_t *targets);
/* The fraction of rows whose argmax equals the target (no gradient; for metrics). */
MUP_API float mup_accuracy(const mup_tensor *logits, const int32_t *targets);

/* ---- normalisation ---- */

/* x (N, C) normalised over C with biased variance, then * weight (C) + bias (C). */
MUP_API mup_tensor *mup_layernorm(mup_graph *g, mup_tensor *x, mup_tensor *weight, mup_tensor *bias, float eps);

/* ---- embedding ---- */

/* table (V, C), ids B*T indices in [0, V) -> (B, T, C). */
MUP_API mup_tensor *mup_embedding(mup_graph *g, mup_tensor *table, const int32_t *ids, int B, int T);

/* ---- shape ---- */

/* Same data, new shape (sizes must agree). */
MUP_API mup_tensor *mup_reshape(mup_graph *g, mup_tensor *a, int ndim, const int *shape);
/* Swaps dimensions d0 and d1 (a copy). */
MUP_API mup_tensor *mup_transpose(mup_graph *g, mup_tensor *a, int d0, int d1);
/* Columns [start, start + len) of the last dimension (a copy). */
MUP_API mup_tensor *mup_slice(mup_graph *g, mup_tensor *a, int start, int len);

/* ---- attention ---- */

/* qkv (B, T, 3C) holding q, k, v side by side, each split into H heads of C/H consecutive columns.
 * Causal softmax(q kᵀ * scale) v per head, heads concatenated -> (B, T, C).
 * µP uses scale = attn_mult / d_head, SP 1 / sqrt(d_head): the caller chooses.
 * When a tap is set and name is not NULL, the scaled attention logits (B, H, T, T, before the mask)
 * are offered to it as "<name>.logits" (the coordinate check watches them). */
MUP_API mup_tensor *mup_attention(mup_graph *g, mup_tensor *qkv, int n_head, float scale, const char *name);

/* ---- regularisation ---- */

/* Inverted dropout with drop probability p from the graph's stream; identity when the graph is
 * not training or p == 0. */
MUP_API mup_tensor *mup_dropout(mup_graph *g, mup_tensor *a, float p);

#endif

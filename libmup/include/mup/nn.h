/* Modules: plain structs that register named parameters in a model and apply ops to them.
 * A module holds borrowed pointers to its parameters (the model owns them) and needs no freeing.
 * Every module taps its output under its full name ("blocks.0.fc"), which is how the coordinate check
 * and the NaN detector see layers. */
#ifndef MUP_NN_H
#define MUP_NN_H

#include "mup/api.h"
#include "mup/model.h"
#include "mup/ops.h"

typedef enum { MUP_NO_BIAS = 0, MUP_BIAS = 1 } mup_bias_flag;

/* y = x Wᵀ + b; W (out, in) */
typedef struct {
    mup_param *weight, *bias;
    int in, out;
    char name[MUP_NAME_MAX];
} mup_linear;

MUP_API void mup_linear_init(mup_linear *l, mup_model *M, const char *name, int in, int out, mup_bias_flag bias);
MUP_API mup_tensor *mup_linear_forward(mup_graph *g, const mup_linear *l, mup_tensor *x);

/* table (num, dim) */
typedef struct {
    mup_param *weight;
    int num, dim;
    char name[MUP_NAME_MAX];
} mup_embedding_layer;

MUP_API void mup_embedding_init(mup_embedding_layer *e, mup_model *M, const char *name, int num, int dim);
MUP_API mup_tensor *mup_embedding_forward(mup_graph *g, const mup_embedding_layer *e, const int32_t *ids, int B, int T);

/* LayerNorm over the last dimension with gain and shift. eps 0 means 1e-5. */
typedef struct {
    mup_param *weight, *bias;
    int dim;
    float eps;
    char name[MUP_NAME_MAX];
} mup_layernorm_layer;

MUP_API void mup_layernorm_init(mup_layernorm_layer *ln, mup_model *M, const char *name, int dim, float eps);
MUP_API mup_tensor *mup_layernorm_forward(mup_graph *g, const mup_layernorm_layer *ln, mup_tensor *x);

/* The µP output layer: y = W (output_mult · x / m) + b, m the weight's width multiplier (1 under SP).
 * The weight's default init is rescaled by sqrt(m) (constant variance in width); zero_init starts
 * weight and bias at 0. */
typedef struct {
    float output_mult;       /* 0 means 1 */
    bool zero_init;          /* readout_zero_init: weight starts at 0 */
    bool no_bias;
} mup_readout_opts;

typedef struct {
    mup_param *weight, *bias;
    int in, out;
    float output_mult;
    char name[MUP_NAME_MAX];
} mup_readout;

MUP_API void mup_readout_init(mup_readout *r, mup_model *M, const char *name, int in, int out, mup_readout_opts opts);
/* A readout that shares the embedding's table as its weight (tied embeddings). The table keeps its
 * embedding class and init: it is not rescaled as a readout (the reference package's bug), and the
 * bias is sized to the vocabulary. zero_init zeroes the bias only, as the reference's MuSharedReadout
 * (whose zeroed weight is replaced by the shared one): the table keeps its embedding init. */
MUP_API void mup_readout_init_tied(mup_readout *r, mup_model *M, const char *name, const mup_embedding_layer *e,
                           mup_readout_opts opts);
MUP_API mup_tensor *mup_readout_forward(mup_graph *g, const mup_readout *r, mup_tensor *x);

/* Causal multi-head self-attention: proj(attention(qkv(x))). Parameters "<name>.qkv" (3·dim, dim) and
 * "<name>.proj" (dim, dim); with name NULL they sit directly in the current scope ("qkv", "proj").
 * Logit scale: attn_mult / d_head under µP, attn_mult / sqrt(d_head) under SP. */
typedef struct {
    int n_head;
    float attn_mult;         /* 0 means 1 */
    bool zero_query;         /* start the query projection, weight and bias, at 0 (µP's recommendation) */
} mup_attention_opts;

typedef struct {
    mup_linear qkv, proj;
    int dim, n_head;
    float attn_mult;
    const mup_model *model;
    char name[MUP_NAME_MAX];
} mup_attention_layer;

MUP_API void mup_attention_init(mup_attention_layer *a, mup_model *M, const char *name, int dim, mup_attention_opts opts);
MUP_API mup_tensor *mup_attention_forward(mup_graph *g, const mup_attention_layer *a, mup_tensor *x);
/* The logit scale the model's parametrization gives for this head size. */
MUP_API float mup_attention_scale(const mup_model *M, float attn_mult, int d_head);

#endif

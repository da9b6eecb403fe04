/* Ready models, each built from a width by one call, so that three builds (base, delta, target) and
 * mup_set_base_shapes make it µP. Parameter names match the reference package's conformance models
 * (fc1, fc2, ..., readout; wte, wpe, blocks.N.{ln1,qkv,proj,ln2,fc,fc_out}, lnf, readout). */
#ifndef MUP_MODELS_H
#define MUP_MODELS_H

#include "mup/api.h"
#include "mup/nn.h"

typedef enum { MUP_ACT_RELU, MUP_ACT_TANH, MUP_ACT_GELU } mup_activation;

/* "relu", "tanh", "gelu" -> the enum; returns false for anything else. */
MUP_API bool mup_activation_parse(const char *s, mup_activation *out);
MUP_API const char *mup_activation_name(mup_activation a);
MUP_API mup_tensor *mup_activate(mup_graph *g, mup_activation a, mup_tensor *x);

/* ---- MLP: d_in -> width (fc1) -> width (fc2 .. fc<depth>) -> n_out (readout) ---- */

typedef struct {
    int d_in, width, n_out;
    int depth;               /* hidden layers (fc1 .. fc<depth>), at least 1 */
    mup_activation act;
    bool no_bias;
    float input_mult;        /* multiplies fc1's output; 0 means 1 */
    float output_mult;       /* the readout's; 0 means 1 */
    float init_std;          /* multiplies the default init of every weight; 0 means 1 */
    bool readout_zero_init;
    bool residual;           /* fc2 .. fc<depth> are residual blocks: h + act(fc_i(h)), the branch
                              * scaled by mup_model_residual_mult (depth scaling) */
} mup_mlp_config;

typedef struct mup_mlp mup_mlp;

/* Registers the MLP's parameters in M (a full or shapes-only model). Asserts on bad sizes. */
MUP_API mup_mlp *mup_mlp_new(mup_model *M, const mup_mlp_config *cfg);
MUP_API void mup_mlp_free(mup_mlp *m);
MUP_API const mup_mlp_config *mup_mlp_config_of(const mup_mlp *m);
/* x (N, d_in) -> logits (N, n_out). Taps "fc<i>" (pre-activation), "fc<i>.act", "readout". */
MUP_API mup_tensor *mup_mlp_forward(mup_graph *g, const mup_mlp *m, mup_tensor *x);

/* ---- GPT: pre-LayerNorm decoder with learned positions ---- */

typedef struct {
    int vocab, block_size;
    int width;               /* d_model */
    int n_head;              /* used when head_dim is 0 */
    int head_dim;            /* > 0: n_head = width / head_dim (fixed head size as width grows) */
    int n_layer;
    int ffn_ratio;           /* fc is (ffn_ratio·width, width); 0 means 4 */
    float attn_mult;         /* 0 means 1 */
    float output_mult;       /* 0 means 1 */
    float input_mult;        /* multiplies the summed embeddings; 0 means 1 */
    float init_std;          /* multiplies the default init of every weight and embedding; 0 means 1 */
    float ln_eps;            /* 0 means 1e-5 */
    float dropout;           /* after attention and MLP branches; 0: none */
    bool tied;               /* readout shares wte */
    bool readout_zero_init;  /* with tied: the readout bias only (mup_readout_init_tied) */
    bool zero_query;
} mup_gpt_config;

typedef struct mup_gpt mup_gpt;

MUP_API mup_gpt *mup_gpt_new(mup_model *M, const mup_gpt_config *cfg);
MUP_API void mup_gpt_free(mup_gpt *m);
MUP_API const mup_gpt_config *mup_gpt_config_of(const mup_gpt *m);
/* ids (B·T) -> logits (B, T, vocab). T <= block_size. Taps "wte", "blocks.N.ln1", "blocks.N.qkv",
 * "blocks.N.attn.logits", "blocks.N.attn", "blocks.N.proj", "blocks.N.fc", "blocks.N.fc.act",
 * "blocks.N.fc_out", "blocks.N.res" (the residual stream after the block), "lnf", "readout". */
MUP_API mup_tensor *mup_gpt_forward(mup_graph *g, const mup_gpt *m, const int32_t *ids, int B, int T);

#endif

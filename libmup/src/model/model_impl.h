/* The model's insides, shared by the files of libmup/src/model/. */
#ifndef MUP_MODEL_IMPL_H
#define MUP_MODEL_IMPL_H

#include "mup/model.h"

#define MUP_SCOPE_DEPTH 16

struct mup_model {
    mup_param **params;
    int n_params, cap_params;
    bool shapes_only;
    float *values, *grads;          /* slabs; NULL until first needed */
    void *node_map;                 /* the node's shared memory (mup_model_place_slabs) when some slab is in it */
    size_t node_map_bytes;
    unsigned long node_key;         /* who placed the slabs there */
    long n_floats;                  /* slab length with each parameter 64-byte aligned */
    long n_elements;
    bool shapes_set;                /* mup_set_base_shapes has run */
    bool initialized;               /* values hold an init or a loaded checkpoint */
    bool rescaled;                  /* the µP rescale has been applied to the values */
    mup_parametrization parametrization;
    char scope[MUP_NAME_MAX];
    int scope_len[MUP_SCOPE_DEPTH];
    int depth;
    int n_blocks;                   /* residual blocks declared so far */
    bool in_block;                  /* between mup_model_begin_block and mup_model_end_block */
    mup_depth_opts depth_opts;
    mup_graph *graph;
};

/* Allocates the value and gradient slabs and points every parameter at them: MUP_ERR_NOMEM naming
 * the bytes when the system refuses. */
mup_status mup_model_alloc(mup_model *M);

/* Draws one parameter by its init spec (default kinds use the µP rescale when rescale is true). */
void mup_param_draw(mup_param *p, mup_rng *r, bool rescale);
/* The standard deviation the spec gives (after the µP rescale when shapes are set). */
double mup_param_init_std(const mup_param *p);
/* Fan-in and fan-out of a weight-like tensor as PyTorch computes them. */
void mup_param_fans(const mup_param *p, double *fan_in, double *fan_out);

#endif

/* Models and their parameters.
 *
 * A model is a flat registry of named parameters ("blocks.0.qkv.weight"), filled by module
 * constructors, and one slab each for parameter values, gradients (and, in the optimizer, its state)
 * in the same layout: zeroing gradients is one memset, an optimizer step one flat loop, a checkpoint
 * one dataset per parameter. The model owns its parameters and slabs; modules hold borrowed pointers.
 *
 * A shapes-only model (mup_model_new_shapes_only) records names and shapes and never allocates
 * parameter memory: it is what the base and delta builds for mup_set_base_shapes are. */
#ifndef MUP_MODEL_H
#define MUP_MODEL_H

#include "mup/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mup/error.h"
#include "mup/graph.h"
#include "mup/rng.h"
#include "mup/tensor.h"

#define MUP_NAME_MAX 96

typedef enum { MUP_PARAMETRIZATION_MUP, MUP_PARAMETRIZATION_SP } mup_parametrization;

/* Shape class: how many of a parameter's dimensions grow with width (ninf 0, 1, 2). */
typedef enum { MUP_CLASS_SCALAR, MUP_CLASS_VECTOR, MUP_CLASS_MATRIX } mup_class;

/* Role: which kind of map the parameter belongs to.
 * input = finite -> width, hidden = width -> width, output = the readout (width -> finite),
 * vector = a bias or gain of width size, fixed = nothing scales with width. */
typedef enum {
    MUP_ROLE_INPUT, MUP_ROLE_HIDDEN, MUP_ROLE_OUTPUT, MUP_ROLE_VECTOR, MUP_ROLE_FIXED
} mup_role;

/* How a module uses a parameter: decides its role, its default init and its µP rescale. */
typedef enum {
    MUP_KIND_WEIGHT,          /* a linear map's (fan_out, fan_in) weight */
    MUP_KIND_BIAS,            /* a linear map's bias */
    MUP_KIND_EMBEDDING,       /* a (num, dim) lookup table */
    MUP_KIND_GAIN,            /* a normalisation's scale (init 1) */
    MUP_KIND_SHIFT,           /* a normalisation's shift (init 0) */
    MUP_KIND_READOUT_WEIGHT,  /* the output layer's weight */
    MUP_KIND_READOUT_BIAS,    /* the output layer's bias */
} mup_param_kind;

typedef enum {
    MUP_INIT_DEFAULT,         /* PyTorch's default for the kind (below), then the µP rescale */
    MUP_INIT_ZEROS,
    MUP_INIT_ONES,
    MUP_INIT_NORMAL,          /* µP-aware: std = a */
    MUP_INIT_UNIFORM,         /* µP-aware: [a, b]; a != -b is refused on a matrix-like tensor */
    MUP_INIT_TRUNC_NORMAL,    /* µP-aware: std = a, cut at the absolute bounds ±b (b = 0: ±2), as
                               * torch's trunc_normal_(std=a, a=-b, b=b); matrix-like: all × m^-1/2 */
    MUP_INIT_XAVIER_UNIFORM,  /* µP-aware: gain = a (0 means 1) */
    MUP_INIT_XAVIER_NORMAL,
    MUP_INIT_KAIMING_UNIFORM, /* µP-aware: gain of `nonlinearity` (a = leaky_relu's negative slope),
                               * fan mode = fan_out ? out : in */
    MUP_INIT_KAIMING_NORMAL,
} mup_init_kind;

/* torch.nn.init.calculate_gain's nonlinearities, for the kaiming kinds. */
typedef enum {
    MUP_GAIN_LEAKY_RELU,      /* sqrt(2 / (1 + a²)); with a = 0 the same as relu (torch's default) */
    MUP_GAIN_RELU,            /* sqrt(2) */
    MUP_GAIN_LINEAR,          /* 1 (also conv and sigmoid) */
    MUP_GAIN_TANH,            /* 5/3 */
    MUP_GAIN_SELU,            /* 3/4 */
} mup_gain;

typedef struct {
    mup_init_kind kind;
    float a, b;
    bool fan_out;             /* kaiming: fan_out mode */
    mup_gain nonlinearity;    /* kaiming: the gain */
    float scale;              /* multiplies whatever is drawn (the init_std knob); 0 means 1 */
    int zero_rows;            /* rows [0, zero_rows) set to 0 after drawing (µP's zero query) */
} mup_init_spec;

/* Defaults by kind: weight and bias uniform(±1/sqrt(fan_in)), embedding normal(0, 1), gain 1,
 * shift 0, readout as a linear (or zero with readout_zero_init). */

typedef struct mup_param {
    char name[MUP_NAME_MAX];
    mup_tensor t;                      /* data and grad point into the model's slabs */
    long offset;                       /* of t.data in the slabs, in floats */
    mup_param_kind kind;
    const struct mup_param *layer_weight; /* a bias's weight: its fan-in sets the bias's init */
    mup_init_spec init;

    /* set by mup_set_base_shapes */
    int base_shape[MUP_MAX_DIMS];
    bool width_dim[MUP_MAX_DIMS];
    int ninf;
    double width_mult;                 /* m: the multiplier of the last width dimension */
    double fanin_mult, fanout_mult;    /* of dims 1 and 0 (1 where finite or absent) */
    mup_class cls;
    mup_role role;
    double init_rescale;               /* applied once to a default init */
    double init_std;                   /* standard deviation of the resulting init */
    double sgd_lr_mult, sgd_wd_mult;   /* µSGD: lr and coupled weight decay multipliers */
    double adam_lr_mult, adam_wd_mult; /* µAdam/µAdamW: lr and (lr-coupled) weight decay */

    int block;                         /* the residual block it lives in (0-based), -1 outside any */
} mup_param;

typedef struct mup_model mup_model;

MUP_API mup_model *mup_model_new(void);
MUP_API mup_model *mup_model_new_shapes_only(void);
MUP_API void mup_model_free(mup_model *M);

MUP_API bool mup_model_is_shapes_only(const mup_model *M);

/* ---- building (module constructors call these) ---- */

/* Registers a parameter under the current scope ("blocks.0." + name). Asserts on a duplicate name,
 * a rank outside 1..MUP_MAX_DIMS (a 0-d parameter is shape (1)), a dimension below 1 (zero-sized
 * parameters are not supported), or registration after the slab exists. */
MUP_API mup_param *mup_model_add_param(mup_model *M, const char *name, mup_param_kind kind,
                               int ndim, const int *shape);
/* Name scopes: mup_model_push_scope(M, "blocks.%d", i) ... mup_model_pop_scope(M). */
MUP_API void mup_model_push_scope(mup_model *M, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
MUP_API void mup_model_pop_scope(mup_model *M);
/* The full name for a module under the current scope, into buf. */
MUP_API const char *mup_model_scoped_name(const mup_model *M, const char *name, char *buf, size_t len);

/* ---- lookup ---- */

MUP_API int mup_model_num_params(const mup_model *M);
MUP_API mup_param *mup_model_param(const mup_model *M, int i);
MUP_API mup_param *mup_model_find_param(const mup_model *M, const char *name);
MUP_API long mup_model_num_floats(const mup_model *M);      /* slab length, alignment padding included */
MUP_API long mup_model_num_elements(const mup_model *M);    /* sum of parameter sizes */
MUP_API float *mup_model_values(mup_model *M);              /* the value slab (allocated on first use) */
MUP_API float *mup_model_grads(mup_model *M);

/* ---- µP ---- */

/* Gives every parameter its infshape, class, role, multipliers and init rescale, from the base and
 * delta builds (see docs/rules/MUP_RULES.md). delta == NULL: width dimensions are those that differ between
 * base and M. base == NULL: standard parametrization (every multiplier 1, SP attention scale).
 * A dimension equal in base and delta is finite (mult 1), whatever the target's, as in the reference.
 * If M is already initialised, every parameter drawn from an init spec (the default kinds and the
 * µP-aware ones alike) is rescaled now to what drawing after this call gives; else mup_model_init
 * applies the µP scaling as it draws. Errors: MUP_ERR_SHAPE naming the parameter (names, counts,
 * ndim differ; more than two width dimensions; a width->finite weight that is not a readout),
 * MUP_ERR_INVALID (a uniform init with a != -b on a matrix-like parameter: µP would move its mean),
 * MUP_ERR_STATE (base shapes set twice). */
MUP_API mup_status mup_set_base_shapes(mup_model *M, const mup_model *base, const mup_model *delta);
/* Builds a module tree into a model at a width (the same function for every width: only width may
 * change what it registers). ctx is the caller's. */
typedef mup_status (*mup_build_fn)(mup_model *M, int width, void *ctx);

/* The three builds in one call: build(M, width), then build into a shapes-only base at base_width
 * and a shapes-only delta at delta_width, then mup_set_base_shapes(M, base, delta), then frees base
 * and delta. base_width 0: SP (no base, no delta); delta_width 0: no delta. M is a fresh model (set
 * its parametrization first if wanted); mup_model_is_shapes_only tells build which call it is in,
 * e.g. to keep the module handles from M's build only. Returns build's first error or
 * mup_set_base_shapes's. */
MUP_API mup_status mup_build_with_base_shapes(mup_model *M, mup_build_fn build, void *ctx, int width, int base_width,
                                              int delta_width);
/* The same from a base-shapes file (.bsh, the reference's YAML: name -> list of base dims, null for
 * a finite dimension; [] for a PyTorch 0-d parameter matches a parameter of shape (1)). */
MUP_API mup_status mup_set_base_shapes_file(mup_model *M, const char *bsh_path);
/* Writes M's base shapes (M must have them) as a .bsh file the reference package reads. To make one
 * from a base and a delta build alone: mup_set_base_shapes(base, base, delta), then save base. */
MUP_API mup_status mup_save_base_shapes(const mup_model *M, const char *path);

/* Chooses SP before mup_set_base_shapes: shapes, classes and roles are still inferred (so tables and
 * coordinate checks name them), but every multiplier and rescale is 1 and attention uses
 * 1/sqrt(d_head). Passing base == NULL to mup_set_base_shapes implies SP. */
MUP_API void mup_model_set_parametrization(mup_model *M, mup_parametrization p);
MUP_API bool mup_model_has_base_shapes(const mup_model *M);
MUP_API mup_parametrization mup_model_parametrization(const mup_model *M);

/* Allocates the slabs if needed and draws every parameter by its init spec, from seed.
 * The same seed draws the same numbers for a parameter whatever else the model holds
 * (each parameter draws from its own stream, keyed by its name). MUP_ERR_NOMEM, naming the bytes
 * asked for, when the slabs cannot be allocated (the model is then left without memory). */
MUP_API mup_status mup_model_init(mup_model *M, uint64_t seed);
MUP_API bool mup_model_is_initialized(const mup_model *M);
/* Marks the values as loaded from elsewhere (a checkpoint): already rescaled, never rescaled again. */
MUP_API void mup_model_mark_loaded(mup_model *M);

/* ---- depth (docs/rules/DEPTH_RULES.md) ----
 *
 * Depth scaling carries µP's transfer across depth: with l = blocks / base_depth, every residual
 * branch is added as h + l^-alpha F(h), and Adam's learning rate of every parameter inside a residual
 * block gets the factor l^(alpha-1). A model declares its residual blocks while it registers its
 * parameters (mup_model_begin_block ... mup_model_end_block around each block's modules) and scales
 * its branches with mup_model_residual_mult (the ready models do both). Off, nothing depends on depth. */

typedef struct {
    bool on;                 /* off: plain µP (or SP), whatever the depth */
    double alpha;            /* depth exponent in [0, 1]: 0.5 is Depth-µP, 1 CompleteP */
    int base_depth;          /* L0: the number of blocks the hyperparameters were tuned at */
    bool eps_scaling;        /* Adam's eps becomes eps m^-1 l^-alpha (m: the model's width multiplier;
                              * l^-alpha is 1 when depth scaling is off, so this alone scales with width) */
} mup_depth_opts;

/* Parameters registered from here to mup_model_end_block live in the next residual block. Blocks do
 * not nest. */
MUP_API void mup_model_begin_block(mup_model *M);
MUP_API void mup_model_end_block(mup_model *M);
MUP_API int mup_model_num_blocks(const mup_model *M);

/* MUP_ERR_INVALID naming the value: alpha outside [0, 1], base_depth <= 0, depth scaling on for a
 * model that declares no residual block. May come before or after mup_set_base_shapes. */
MUP_API mup_status mup_model_set_depth(mup_model *M, mup_depth_opts d);
MUP_API mup_depth_opts mup_model_depth(const mup_model *M);
/* l^-alpha with depth scaling on, else 1: what a residual branch is multiplied by. */
MUP_API double mup_model_residual_mult(const mup_model *M);
/* The factor on the parameter's Adam learning rate: l^(alpha-1) inside a block with depth scaling
 * on, else 1. */
MUP_API double mup_model_depth_lr_mult(const mup_model *M, const mup_param *p);
/* The factor on Adam's eps: m^-1 l^-alpha with eps_scaling, else 1. m is the largest width
 * multiplier of any parameter (1 before mup_set_base_shapes). */
MUP_API double mup_model_eps_mult(const mup_model *M);

/* One line per parameter: name, shape, base shape, class, role, width mult, init std, lr and wd
 * multipliers for SGD and Adam. */
MUP_API void mup_model_print_shapes(const mup_model *M, FILE *out);

/* The model's own step graph (mup_graph_begin uses it). */
MUP_API mup_graph *mup_model_graph(mup_model *M);

MUP_API const char *mup_class_name(mup_class c);
MUP_API const char *mup_role_name(mup_role r);
/* "mup" or "sp" (the names configs and files use). */
MUP_API const char *mup_parametrization_name(mup_parametrization p);

#endif

/* Initialisation. Each parameter carries an init spec (mup_init_spec in model.h) that
 * mup_model_init draws from; the µP-aware kinds scale with the parameter's infshape exactly as
 * docs/rules/MUP_RULES.md states (matrix-like normal/uniform/trunc_normal: std x m^-1/2; xavier from the base
 * fans; kaiming by fan mode), so they give the plain result at the base width. */
#ifndef MUP_INIT_H
#define MUP_INIT_H

#include "mup/api.h"
#include "mup/model.h"
#include "mup/rng.h"

/* Sets how mup_model_init will draw p. */
MUP_API void mup_param_set_init(mup_param *p, mup_init_spec spec);
/* Draws p now from spec (the model must have memory). Default kinds get the µP rescale when the
 * parameter's base shapes are set under µP. */
MUP_API void mup_param_init_now(mup_param *p, mup_init_spec spec, mup_rng *r);

#endif

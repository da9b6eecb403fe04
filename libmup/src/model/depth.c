/* Depth scaling: which parameters sit in residual blocks, and the three factors of DEPTH_RULES.md
 * that follow from l = blocks / base_depth. */
#include <math.h>

#include "internal.h"
#include "model_impl.h"

void mup_model_begin_block(mup_model *M) {
    MUP_ASSERT(!M->in_block, "mup_model_begin_block: block %d is still open (blocks do not nest)", M->n_blocks - 1);
    M->in_block = true;
    M->n_blocks++;
}

void mup_model_end_block(mup_model *M) {
    MUP_ASSERT(M->in_block, "mup_model_end_block without a matching mup_model_begin_block");
    M->in_block = false;
}

int mup_model_num_blocks(const mup_model *M) { return M->n_blocks; }

mup_status mup_model_set_depth(mup_model *M, mup_depth_opts d) {
    if (!(d.alpha >= 0.0 && d.alpha <= 1.0))
        return mup_error(MUP_ERR_INVALID, "depth: alpha %g must be in [0, 1] (0.5 Depth-µP, 1 CompleteP)", d.alpha);
    if (d.on && d.base_depth <= 0)
        return mup_error(MUP_ERR_INVALID, "depth: base_depth %d must be at least 1", d.base_depth);
    if (d.on && M->n_blocks == 0)
        return mup_error(MUP_ERR_INVALID, "depth: scaling is on but the model declares no residual block "
                         "(mup_model_begin_block/end_block around each block's parameters)");
    M->depth_opts = d;
    return MUP_OK;
}

mup_depth_opts mup_model_depth(const mup_model *M) { return M->depth_opts; }

static double depth_mult(const mup_model *M) { return (double)M->n_blocks / M->depth_opts.base_depth; }

double mup_model_residual_mult(const mup_model *M) {
    return M->depth_opts.on ? pow(depth_mult(M), -M->depth_opts.alpha) : 1.0;
}

double mup_model_depth_lr_mult(const mup_model *M, const mup_param *p) {
    return M->depth_opts.on && p->block >= 0 ? pow(depth_mult(M), M->depth_opts.alpha - 1.0) : 1.0;
}

double mup_model_eps_mult(const mup_model *M) {
    if (!M->depth_opts.eps_scaling)
        return 1.0;
    double m = 0.0;
    for (int i = 0; i < M->n_params; i++)
        m = fmax(m, M->params[i]->width_mult);
    return mup_model_residual_mult(M) / (m > 0.0 ? m : 1.0);
}

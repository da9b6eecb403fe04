/* µP on an architecture of your own: a residual MLP with LayerNorm, on a synthetic classification task.
 *
 *   build/examples/custom_model [width] [steps] [lr]
 *
 * If you know PyTorch's `mup` package, here is the correspondence:
 *   nn.Module with nn.Linear/nn.LayerNorm   a struct of modules (mup_linear, mup_layernorm_layer)
 *   MuReadout                               mup_readout (divides its input by the width multiplier)
 *   model(...) at base and delta widths     the same build function into shapes-only models
 *   set_base_shapes(model, base, delta)     mup_set_base_shapes(M, B, D), or all three builds at once:
 *                                           mup_build_with_base_shapes(M, build, net, width, 32, 64)
 *   re-initialising after set_base_shapes   nothing: mup_model_init draws and applies the µP rescale
 *   MuAdam(model.parameters(), lr)          mup_adam_new(M, opts): per-parameter µP lr multipliers
 *   forward()                               a function of (graph, net, input) that calls modules
 * There is no autograd bookkeeping to write: every op records itself on the step's tape. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mup/mup.h"

#define D_IN 32
#define N_CLASSES 8
#define DEPTH 3

/* The model: plain structs of modules. They hold borrowed pointers to parameters the model owns,
 * so nothing here needs freeing. */
typedef struct {
    mup_layernorm_layer ln;
    mup_linear fc;
} block;

typedef struct {
    mup_linear in;           /* D_IN -> width: an input layer (finite fan-in) */
    block blocks[DEPTH];     /* width -> width: hidden layers, matrix-like under µP */
    mup_layernorm_layer lnf;
    mup_readout out;         /* width -> N_CLASSES: the µP readout, never a plain mup_linear */
} resmlp;

/* One function builds the architecture at any width, into a full model or a shapes-only one.
 * Names must be identical at every width: mup_set_base_shapes matches parameters by name. */
/* Called for each of the three builds (mup_build_with_base_shapes). Only the target's module handles
 * are kept; the base's and delta's go to a scratch copy (modules own no memory). */
static mup_status resmlp_build(mup_model *M, int width, void *net) {
    resmlp scratch, *m = mup_model_is_shapes_only(M) ? &scratch : net;
    mup_linear_init(&m->in, M, "in", D_IN, width, MUP_BIAS);
    for (int i = 0; i < DEPTH; i++) {
        mup_model_push_scope(M, "blocks.%d", i);    /* parameters "blocks.0.ln.weight", ... */
        mup_layernorm_init(&m->blocks[i].ln, M, "ln", width, 0.0f);
        mup_linear_init(&m->blocks[i].fc, M, "fc", width, width, MUP_BIAS);
        mup_model_pop_scope(M);
    }
    mup_layernorm_init(&m->lnf, M, "lnf", width, 0.0f);
    /* zero_init: the readout weight starts at 0 (µP's advice), so the first logits are the bias
     * alone and the first loss is the same at every width */
    mup_readout_init(&m->out, M, "readout", width, N_CLASSES, (mup_readout_opts){.zero_init = true});
    return MUP_OK;
}

/* x (N, D_IN) -> logits (N, N_CLASSES). The signature is what mup_classif_task_new calls. */
static mup_tensor *resmlp_forward(mup_graph *g, const void *net, mup_tensor *x) {
    const resmlp *m = net;
    x = mup_linear_forward(g, &m->in, x);
    for (int i = 0; i < DEPTH; i++) {
        const block *b = &m->blocks[i];
        x = mup_add(g, x, mup_relu(g, mup_linear_forward(g, &b->fc, mup_layernorm_forward(g, &b->ln, x))));
    }
    return mup_readout_forward(g, &m->out, mup_layernorm_forward(g, &m->lnf, x));
}

int main(int argc, char **argv) {
    int width = argc > 1 ? atoi(argv[1]) : 256;
    int steps = argc > 2 ? atoi(argv[2]) : 400;
    float lr = argc > 3 ? (float)atof(argv[3]) : 0.003f;
    if (width <= 0 || steps <= 0 || !(lr > 0)) {
        fprintf(stderr, "usage: %s [width > 0] [steps > 0] [lr > 0]\n", argv[0]);
        return 2;
    }

    /* 10000 examples of a fixed random teacher; the last 2000 are held out */
    mup_classif_data all, train, val;
    mup_status s = mup_synthetic_classif(10000, D_IN, N_CLASSES, 1, &all);
    if (s == MUP_OK)
        s = mup_classif_split(&all, 2000, &train, &val);
    mup_classif_data_free(&all);
    if (s != MUP_OK) {
        fprintf(stderr, "custom_model: %s\n", mup_error_message());
        return 1;
    }

    /* Three builds. Only M gets memory; the base and delta record names and shapes. The dimensions
     * that differ between the base (width 32) and the delta (width 64) are the width dimensions; the
     * base's sizes are the base shapes that every multiplier is relative to. */
    resmlp net;
    mup_model *M = mup_model_new();
    MUP_CHECK(mup_build_with_base_shapes(M, resmlp_build, &net, width, 32, 64));
    mup_model_init(M, 1);
    /* What µP decided for each parameter: the table to read when something looks wrong. */
    mup_model_print_shapes(M, stdout);

    /* The same lr works at every width: Adam's rate is divided by the fan-in multiplier for
     * hidden weights only. The task draws shuffled batches and evaluates on val. */
    mup_optim *opt = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, lr));
    mup_task *task = mup_classif_task_new(M, resmlp_forward, &net, &train, &val, 64, 1);
    mup_train_result r;
    s = mup_train(M, opt, task, &(mup_train_opts){.steps = steps, .eval_every = steps / 4, .progress = true,
                                                  .label = "resmlp"}, &r);
    printf("first loss %.4f (chance: ln %d = %.4f), final training loss %.4f\n", r.first_loss, N_CLASSES,
           log((double)N_CLASSES), r.final_train_loss);
    for (int i = 0; i < r.n_evals; i++)
        printf("step %4d  validation loss %.4f  accuracy %.1f%%\n", r.eval_step[i], r.eval_loss[i],
               100 * r.eval_acc[i]);
    if (s != MUP_OK)
        fprintf(stderr, "custom_model: %s\n", r.message);

    mup_train_result_free(&r);
    mup_task_free(task);
    mup_optim_free(opt);
    mup_model_free(M);
    mup_classif_data_free(&train);
    mup_classif_data_free(&val);
    return s == MUP_OK ? 0 : 1;
}

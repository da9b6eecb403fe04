/* µP on an architecture of your own: a residual MLP with LayerNorm, on a synthetic classification task.
 *
 *   build/examples/custom_model [width] [steps] [lr]
 *   build/sweep/mup-sweep examples/configs/custom-model.json --out out/custom   (the same program, swept)
 *
 * Run by hand it trains once with the arguments' values. Run by mup-sweep it reads its width, base and
 * delta widths, seed and searched values from its trial (mup/trial.h) and reports its metrics back; the
 * arguments are then only defaults. A target run keeps its trained model at the trial's checkpoint.
 * Built with MPI, it can train across ranks: a sweep under mpirun whose config says "mpi": true
 * (examples/configs/custom-model-mpi.json) starts each target run on all its ranks, data-parallel.
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
#ifdef EXAMPLE_WITH_MPI
#include <mpi.h>
#endif

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
typedef struct {
    resmlp *net;
    float output_mult;
} build_ctx;

static mup_status resmlp_build(mup_model *M, int width, void *ctx) {
    const build_ctx *b = ctx;
    resmlp scratch, *m = mup_model_is_shapes_only(M) ? &scratch : b->net;
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
    mup_readout_init(&m->out, M, "readout", width, N_CLASSES,
                     (mup_readout_opts){.output_mult = b->output_mult, .zero_init = true});
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
    mup_trial *T;
    if (mup_trial_open(&T) != MUP_OK) {
        fprintf(stderr, "custom_model: %s\n", mup_error_message());
        return 1;
    }
    int width = mup_trial_width(T, argc > 1 ? atoi(argv[1]) : 256);
    int steps = mup_trial_int(T, "steps", argc > 2 ? atoi(argv[2]) : 400);
    double lr = mup_trial_double(T, "lr", argc > 3 ? atof(argv[3]) : 0.003);
    double output_mult = mup_trial_double(T, "output_mult", 1.0);
    int base_width = mup_trial_base_width(T, 32), delta_width = mup_trial_delta_width(T, 64);
    uint64_t seed = mup_trial_seed(T, 1);
    if (width <= 0 || steps <= 0 || !(lr > 0) || !(output_mult > 0)) {
        fprintf(stderr, "usage: %s [width > 0] [steps > 0] [lr > 0]\n", argv[0]);
        mup_trial_close(T);
        return 2;
    }
    /* Launched on several ranks by the sweep: every rank takes its share of each batch and the gradients
     * are summed (mup/dist.h); rank 0 reports for the run, prints and writes the checkpoint. */
    mup_dist *D = NULL;
#ifdef EXAMPLE_WITH_MPI
    if (mup_trial_ranks(T, 1) > 1) {
        MPI_Init(&argc, &argv);
        MUP_CHECK(mup_dist_new(NULL, &D));
        mup_trial_use_dist(T, D);
    }
#endif
    bool lead = !D || mup_dist_rank(D) == 0;

    /* 10000 examples of a fixed random teacher; the last 2000 are held out */
    mup_classif_data all, train, val;
    mup_status s = mup_synthetic_classif(10000, D_IN, N_CLASSES, 1, &all);
    if (s == MUP_OK)
        s = mup_classif_split(&all, 2000, &train, &val);
    mup_classif_data_free(&all);
    if (s != MUP_OK) {
        fprintf(stderr, "custom_model: %s\n", mup_error_message());
        mup_trial_close(T);
        return 1;
    }

    /* Three builds. Only M gets memory; the base and delta record names and shapes. The dimensions
     * that differ between the base and the delta are the width dimensions; the base's sizes are the
     * base shapes that every multiplier is relative to. */
    resmlp net;
    mup_model *M = mup_model_new();
    MUP_CHECK(mup_build_with_base_shapes(M, resmlp_build, &(build_ctx){&net, (float)output_mult}, width, base_width,
                                         delta_width));
    MUP_CHECK(mup_model_init(M, seed));
    /* What µP decided for each parameter: the table to read when something looks wrong. */
    if (!mup_trial_in_sweep(T) && lead)
        mup_model_print_shapes(M, stdout);

    /* The same lr works at every width: Adam's rate is divided by the fan-in multiplier for
     * hidden weights only. The task draws shuffled batches and evaluates on val. */
    mup_optim *opt = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, (float)lr));
    mup_task *task = mup_classif_task_new(M, resmlp_forward, &net, &train, &val, 64, seed);
    mup_train_result r;
    /* a sweep's target run keeps its trained model (HDF5, with the base shapes) where the trial says */
    s = mup_train(M, opt, task, &(mup_train_opts){.steps = steps, .eval_every = steps / 4, .progress = true,
                                                  .label = "resmlp", .checkpoint_path = mup_trial_checkpoint(T),
                                                  .checkpoint_every = steps, .dist = D}, &r);
    /* the evaluations as intermediate reports, then the final metrics: the sweep ranks by one of them */
    for (int i = 0; i < r.n_evals; i++)
        MUP_CHECK(mup_trial_report(T, r.eval_step[i], (mup_metric[]){{"val_loss", r.eval_loss[i]}}, 1));
    MUP_CHECK(mup_trial_final(T, (mup_metric[]){{"val_loss", r.final_val_loss}, {"val_acc", r.final_val_acc},
                                                {"train_loss", r.final_train_loss}}, 3));
    if (lead) {
        printf("first loss %.4f (chance: ln %d = %.4f), final training loss %.4f\n", r.first_loss, N_CLASSES,
               log((double)N_CLASSES), r.final_train_loss);
        for (int i = 0; i < r.n_evals; i++)
            printf("step %4d  validation loss %.4f  accuracy %.1f%%\n", r.eval_step[i], r.eval_loss[i],
                   100 * r.eval_acc[i]);
    }
    if (s != MUP_OK)
        fprintf(stderr, "custom_model: %s\n", r.message);

    mup_train_result_free(&r);
    mup_task_free(task);
    mup_optim_free(opt);
    mup_model_free(M);
    mup_classif_data_free(&train);
    mup_classif_data_free(&val);
    mup_trial_close(T);
#ifdef EXAMPLE_WITH_MPI
    if (D) {
        mup_dist_free(D);
        MPI_Finalize();
    }
#endif
    /* a diverged run has reported its non-finite loss: the sweep records it as diverged */
    return s == MUP_OK || s == MUP_ERR_DIVERGED ? 0 : 1;
}

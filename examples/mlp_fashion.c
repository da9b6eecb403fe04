/* µP MLP on Fashion-MNIST at a width of your choice.
 *
 *   build/examples/mlp_fashion [width] [steps] [lr]
 *
 * The model is built three times: at the width you want, and at a base and a delta width that only
 * tell mup_set_base_shapes which dimensions grow. The learning rate you tune at width 128 then works
 * unchanged at 4096: that is µTransfer. */
#include <stdio.h>
#include <stdlib.h>

#include "mup/mup.h"

/* The MLP at a width: called for the target, the base and the delta. Only the target's build (the
 * model with memory) keeps its handle. */
static mup_status build_mlp(mup_model *M, int width, void *net) {
    mup_mlp_config cfg = {.d_in = 784, .n_out = 10, .depth = 2, .act = MUP_ACT_RELU, .width = width};
    mup_mlp *m = mup_mlp_new(M, &cfg);
    if (mup_model_is_shapes_only(M))
        mup_mlp_free(m);
    else
        *(mup_mlp **)net = m;
    return MUP_OK;
}

int main(int argc, char **argv) {
    int width = argc > 1 ? atoi(argv[1]) : 256;
    int steps = argc > 2 ? atoi(argv[2]) : 2000;
    float lr = argc > 3 ? (float)atof(argv[3]) : 0x1p-8f;
    if (width <= 0 || steps <= 0 || !(lr > 0)) {
        fprintf(stderr, "usage: %s [width > 0] [steps > 0] [lr > 0]\n", argv[0]);
        return 2;
    }

    mup_classif_data train, test;
    mup_status s = mup_fashion_mnist_load(NULL, true, 0, &train);
    if (s == MUP_OK)
        s = mup_fashion_mnist_load(NULL, false, 0, &test);
    if (s != MUP_OK) {
        fprintf(stderr, "mlp_fashion: %s\n", mup_error_message());
        return 3; /* as the tools: an environment error */
    }

    /* three builds of one architecture: target, base (64), delta (128) */
    mup_model *M = mup_model_new();
    mup_mlp *net = NULL;
    MUP_CHECK(mup_build_with_base_shapes(M, build_mlp, &net, width, 64, 128));
    mup_model_init(M, 1);
    mup_model_print_shapes(M, stdout);

    mup_optim *opt = mup_adam_new(M, (mup_optim_opts){
        .lr = lr, MUP_ADAM_DEFAULTS,
        .schedule = {.kind = MUP_SCHEDULE_COSINE, .total_steps = steps, .warmup_steps = steps / 50}});
    mup_task *task = mup_classif_task_new(M, mup_mlp_forward_fn, net, &train, &test, 128, 1);
    mup_train_result r;
    s = mup_train(M, opt, task, &(mup_train_opts){.steps = steps, .eval_every = steps / 5, .progress = true,
                                                  .label = "mlp"}, &r);
    for (int i = 0; i < r.n_evals; i++)
        printf("step %5d  test loss %.4f  test accuracy %.2f%%\n", r.eval_step[i], r.eval_loss[i], 100 * r.eval_acc[i]);
    printf("width %d: %d steps in %.1f s (%.0f steps/s), final test accuracy %.2f%%\n", width, r.steps_done,
           r.seconds, r.steps_done / r.seconds, 100 * r.final_val_acc);
    if (s != MUP_OK)
        fprintf(stderr, "mlp_fashion: %s\n", r.message);

    mup_train_result_free(&r);
    mup_task_free(task);
    mup_optim_free(opt);
    mup_mlp_free(net);
    mup_model_free(M);
    mup_classif_data_free(&train);
    mup_classif_data_free(&test);
    return s == MUP_OK ? 0 : 1;
}

/* Data-parallel steps/s of a sweep's target (docs/performance.md, "Data-parallel targets"): run by
 * bench/dp-scaling under mpirun, one configuration per process, alternating.
 *
 *   mpirun --bind-to none -n R bench_dp mlp|gpt WIDTH STEPS [allreduce|sum]
 *
 * prints, on rank 0, "steps/s S" for STEPS timed steps after 3 of warm-up: the task's draw of the
 * global batch, this rank's forward and weighted backward, the loss's mean, and the sharded gradient sum
 * and Adam step (mup_dist_optim_step), as mup_train does them; and the milliseconds per step of each
 * part (forward and backward, the loss's mean, the sum and the optimizer). With "allreduce": the step
 * of a loop that calls mup_dist_sum_grads (one MPI_Allreduce of the gradient slab) and then
 * mup_optim_step (Adam over the whole slab on every rank), for comparison; the sum and the optimizer
 * are then timed apart. With "sum": the gradient sum alone (mup_dist_sum_grads
 * of the model's slab, no training), STEPS times; the best and the median time. The MLP is the demo
 * config's target (depth 2, batch 128, 784 inputs, 10 classes); the GPT is bench_train's (2 layers, 4
 * heads, batch 8 of 128). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mup/mup.h"

#define WARMUP 3

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The gradient sum alone, n times: the best and the median milliseconds. */
static void sum_alone(mup_dist *D, mup_model *M, int n) {
    double *t = calloc((size_t)n, sizeof *t);
    mup_graph_end(mup_graph_begin(M)); /* the gradient slab exists */
    for (int i = 0; i < n; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        MUP_CHECK(mup_dist_sum_grads(D, M));
        t[i] = now() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, by_value);
    if (mup_dist_rank(D) == 0)
        printf("sum of the gradient slab (%.1f MB) over %d ranks: best %.1f ms, median %.1f ms\n",
               mup_model_num_floats(M) * 4e-6, mup_dist_size(D), 1e3 * t[0], 1e3 * t[n / 2]);
    free(t);
}

static void time_steps(mup_dist *D, mup_model *M, mup_task *task, mup_optim *opt, int global, int steps,
                       bool allreduce) {
    double t0 = 0, sum = 0, part[4] = {0};
    float w = (float)mup_dist_weight(D, global);
    for (int step = 0; step < WARMUP + steps; step++) {
        if (step == WARMUP) {
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = now();
            memset(part, 0, sizeof part);
        }
        double t = now();
        mup_graph *g = mup_graph_begin(M);
        mup_tensor *loss = task->train_loss(task, g);
        mup_backward_seed(g, loss, &w);
        double t1 = now();
        sum += mup_dist_mean(D, loss->data[0], global);
        double t2 = now();
        if (allreduce)
            MUP_CHECK(mup_dist_sum_grads(D, M));
        else
            MUP_CHECK(mup_dist_optim_step(D, opt));
        double t3 = now();
        if (allreduce)
            mup_optim_step(opt);
        mup_graph_end(g);
        part[0] += t1 - t;
        part[1] += t2 - t1;
        part[2] += t3 - t2;
        part[3] += now() - t3;
    }
    double seconds = now() - t0, ms = 1e3 / steps;
    if (mup_dist_rank(D) == 0 && allreduce)
        printf("steps/s %.4f (ranks %d, threads %d, allreduce; ms per step: forward+backward %.1f, loss mean %.2f, "
               "sum %.1f, optimizer %.1f; mean loss %.4f)\n", steps / seconds, mup_dist_size(D), mup_num_threads(),
               ms * part[0], ms * part[1], ms * part[2], ms * part[3], sum / (WARMUP + steps));
    else if (mup_dist_rank(D) == 0)
        printf("steps/s %.4f (ranks %d, threads %d, sharded; ms per step: forward+backward %.1f, loss mean %.2f, "
               "sum and optimizer %.1f; mean loss %.4f)\n", steps / seconds, mup_dist_size(D), mup_num_threads(),
               ms * part[0], ms * part[1], ms * part[2], sum / (WARMUP + steps));
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    if (argc < 4 || argc > 5 || (strcmp(argv[1], "mlp") && strcmp(argv[1], "gpt")) || atoi(argv[2]) < 8 ||
        atoi(argv[3]) < 1 || (argc == 5 && strcmp(argv[4], "sum") && strcmp(argv[4], "allreduce"))) {
        fprintf(stderr, "usage: bench_dp mlp|gpt WIDTH STEPS [allreduce|sum]\n");
        MPI_Finalize();
        return 2;
    }
    bool gpt = strcmp(argv[1], "gpt") == 0;
    int width = atoi(argv[2]), steps = atoi(argv[3]), B = gpt ? 8 : 128;
    mup_dist *D;
    MUP_CHECK(mup_dist_new(NULL, &D));
    mup_model *M = mup_model_new();
    mup_mlp *mlp = NULL;
    mup_gpt *net = NULL;
    mup_classif_data all = {0}, train = {0}, val = {0};
    mup_text_data text = {0}, ttrain = {0}, tval = {0};
    mup_task *task;
    if (gpt) {
        net = mup_gpt_new(M, &(mup_gpt_config){.vocab = 65, .block_size = 128, .width = width, .n_head = 4,
                                                 .n_layer = 2, .ffn_ratio = 4});
        MUP_CHECK(mup_synthetic_text(200000, 65, 3, &text));
        MUP_CHECK(mup_text_split(&text, 0.1, &ttrain, &tval));
        task = mup_lm_task_new(M, mup_gpt_forward_fn, net, &ttrain, &tval, B, 128, 1, 5);
    } else {
        mlp = mup_mlp_new(M, &(mup_mlp_config){.d_in = 784, .width = width, .n_out = 10, .depth = 2,
                                                .act = MUP_ACT_RELU});
        MUP_CHECK(mup_synthetic_classif(6000, 784, 10, 3, &all));
        MUP_CHECK(mup_classif_split(&all, 1000, &train, &val));
        task = mup_classif_task_new(M, mup_mlp_forward_fn, mlp, &train, &val, B, 5);
    }
    MUP_CHECK(mup_set_base_shapes(M, NULL, NULL)); /* SP: the cost does not depend on the parametrization */
    MUP_CHECK(mup_model_init(M, 1));
    mup_optim *opt = mup_optim_new(M, (mup_optim_opts){.kind = MUP_OPTIM_ADAM, .lr = 1e-4f, MUP_ADAM_DEFAULTS});
    int global = task->share(task, D);
    if (argc == 5 && strcmp(argv[4], "sum") == 0)
        sum_alone(D, M, steps);
    else
        time_steps(D, M, task, opt, global, steps, argc == 5);
    mup_optim_free(opt);
    mup_task_free(task);
    mup_mlp_free(mlp);
    mup_gpt_free(net);
    mup_model_free(M);
    mup_classif_data_free(&all);
    mup_classif_data_free(&train);
    mup_classif_data_free(&val);
    mup_text_data_free(&text);
    mup_text_data_free(&ttrain);
    mup_text_data_free(&tval);
    mup_dist_free(D);
    MPI_Finalize();
    return 0;
}

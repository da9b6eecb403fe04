/* Depth scaling's cost: the GPT's training steps with depth scaling off and on (CompleteP, alpha 1,
 * so every residual branch goes through mup_add_scaled instead of mup_add), measured side by side:
 * rounds alternate between the two models, and the ratio of their medians is printed.
 *
 *   bench_depth [WIDTH [LAYERS [ROUNDS [STEPS]]]]   defaults 128 4 9 10 */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "mup/mup.h"

#define BATCH 8
#define BLOCK 64
#define VOCAB 65

typedef struct {
    mup_model *M;
    mup_gpt *net;
    mup_optim *opt;
} model;

static model build(int width, int layers, bool depth) {
    model m = {.M = mup_model_new()};
    mup_gpt_config cfg = {.vocab = VOCAB, .block_size = BLOCK, .width = width, .n_head = 4, .n_layer = layers};
    m.net = mup_gpt_new(m.M, &cfg);
    MUP_CHECK(mup_set_base_shapes(m.M, NULL, NULL));
    MUP_CHECK(mup_model_set_depth(m.M, (mup_depth_opts){.on = depth, .alpha = 1.0, .base_depth = 1}));
    MUP_CHECK(mup_model_init(m.M, 1));
    m.opt = mup_adam_new(m.M, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    return m;
}

static double steps_per_s(model *m, const int32_t *ids, const int32_t *y, int steps) {
    double t0 = now();
    for (int i = 0; i < steps; i++) {
        mup_graph *g = mup_graph_begin(m->M);
        mup_backward(g, mup_cross_entropy(g, mup_gpt_forward(g, m->net, ids, BATCH, BLOCK), y));
        mup_optim_step(m->opt);
        mup_graph_end(g);
    }
    return steps / (now() - t0);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int width = argc > 1 ? atoi(argv[1]) : 128, layers = argc > 2 ? atoi(argv[2]) : 4;
    int rounds = argc > 3 ? atoi(argv[3]) : 9, steps = argc > 4 ? atoi(argv[4]) : 10;
    if (width <= 0 || width % 4 || layers <= 0 || rounds <= 0 || rounds > 99 || steps <= 0) {
        fprintf(stderr, "usage: bench_depth [WIDTH (a multiple of 4) [LAYERS [ROUNDS (1-99) [STEPS]]]]\n");
        return 2;
    }
    int32_t ids[BATCH * BLOCK], y[BATCH * BLOCK];
    mup_rng r = mup_rng_new(7);
    for (int i = 0; i < BATCH * BLOCK; i++) {
        ids[i] = (int32_t)mup_rng_below(&r, VOCAB);
        y[i] = (int32_t)mup_rng_below(&r, VOCAB);
    }
    model off = build(width, layers, false), on = build(width, layers, true);
    steps_per_s(&off, ids, y, 2); /* warm-up: the arenas reach their size */
    steps_per_s(&on, ids, y, 2);
    double a[99], b[99];
    for (int k = 0; k < rounds; k++) {
        a[k] = steps_per_s(&off, ids, y, steps);
        b[k] = steps_per_s(&on, ids, y, steps);
    }
    qsort(a, (size_t)rounds, sizeof *a, cmp);
    qsort(b, (size_t)rounds, sizeof *b, cmp);
    printf("gpt width=%d layers=%d threads=%d: depth off %.2f steps/s, on (alpha 1, branch x %.3g) %.2f steps/s, "
           "on/off %.3f (medians of %d rounds of %d steps, alternated)\n", width, layers, mup_num_threads(),
           a[rounds / 2], mup_model_residual_mult(on.M), b[rounds / 2], b[rounds / 2] / a[rounds / 2], rounds, steps);
    model all[2] = {off, on};
    for (int i = 0; i < 2; i++) {
        mup_optim_free(all[i].opt);
        mup_gpt_free(all[i].net);
        mup_model_free(all[i].M);
    }
    return 0;
}

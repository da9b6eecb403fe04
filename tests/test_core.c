/* The core: RNG, arena, graph bookkeeping, errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "testing.h"

Test(rng, same_seed_same_stream) {
    mup_rng a = mup_rng_new(42), b = mup_rng_new(42), c = mup_rng_new(43);
    bool differs = false;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = mup_rng_u64(&a);
        cr_assert_eq(x, mup_rng_u64(&b));
        differs |= x != mup_rng_u64(&c);
    }
    cr_assert(differs);
}

Test(rng, known_values) {
    /* xoshiro256** seeded by splitmix64(0): fixed numbers, so every machine draws the same init */
    mup_rng r = mup_rng_new(0);
    cr_assert_eq(mup_rng_u64(&r), 0x99ec5f36cb75f2b4ULL);
    cr_assert_eq(mup_rng_u64(&r), 0xbf6e1f784956452aULL);
}

/* The all-zero state draws 0 forever: it is not valid, and the rejection loops get out of it rather
 * than spinning (a hang before the fix, hence the timeout). */
Test(rng, the_zero_state_is_invalid_and_cannot_hang, .timeout = 10) {
    mup_rng zero = {{0, 0, 0, 0}}, ok = mup_rng_new(0);
    cr_assert_not(mup_rng_valid(&zero));
    cr_assert(mup_rng_valid(&ok));
    uint32_t x = mup_rng_below(&zero, 3); /* 2^32 mod 3 != 0: the draw of 0 is rejected */
    cr_assert_lt(x, 3u);
    cr_assert(mup_rng_valid(&zero), "the state is still stuck");
    mup_rng z2 = {{0, 0, 0, 0}};
    double t = mup_rng_trunc_normal(&z2, 1.0, 2.0); /* the zero state's normal, 0, is outside [1, 2] */
    cr_assert(t >= 1.0 && t <= 2.0, "%g", t);
}

Test(rng, normal_moments) {
    mup_rng r = mup_rng_new(7);
    double s = 0, s2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = mup_rng_normal(&r);
        s += z;
        s2 += z * z;
    }
    cr_assert(fabs(s / n) < 0.01, "mean %g", s / n);
    cr_assert(fabs(s2 / n - 1.0) < 0.02, "variance %g", s2 / n);
}

Test(rng, trunc_normal_within_bounds) {
    mup_rng r = mup_rng_new(9);
    for (int i = 0; i < 10000; i++) {
        double z = mup_rng_trunc_normal(&r, -2, 2);
        cr_assert(z >= -2 && z <= 2);
    }
}

Test(rng, below_is_uniform_and_in_range) {
    mup_rng r = mup_rng_new(3);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint32_t k = mup_rng_below(&r, 7);
        cr_assert_lt(k, 7u);
        counts[k]++;
    }
    for (int k = 0; k < 7; k++)
        cr_assert(abs(counts[k] - 10000) < 500, "bucket %d has %d", k, counts[k]);
}

/* n tensors of 128 x 1024 floats in one step; the data pointers go to data. */
static void arena_step(mup_graph *g, int n, float **data) {
    mup_graph_reset(g, true);
    for (int i = 0; i < n; i++)
        data[i] = mup_graph_tensor(g, 2, (int[]){128, 1024})->data;
}

/* Whether one block served the whole step: every tensor sits at the same stride after the one before
 * (overflow blocks are 1 MiB, so a step served by them has gaps between tensors). */
static bool one_block(float **data, int n) {
    for (int i = 2; i < n; i++)
        if ((char *)data[i] - (char *)data[i - 1] != (char *)data[1] - (char *)data[0])
            return false;
    return true;
}

/* The first step (20 MB, more than any block) is served by overflow blocks; the rewind regrows the
 * main block once to the step's total, so the later steps of that size fit in it at the same address;
 * a larger step regrows it again; a smaller one keeps what is reserved. */
Test(graph, arena_regrows_once_then_stays) {
    enum { N = 40, BIG = 60 };
    size_t tensor = (sizeof(mup_tensor) + 63) / 64 * 64, step = N * (tensor + 128 * 1024 * 4);
    float *data[BIG], *first;
    mup_graph *g = mup_graph_new();
    arena_step(g, N, data);
    cr_assert_eq(mup_graph_bytes_used(g), step, "used %zu bytes, asked %zu", mup_graph_bytes_used(g), step);
    cr_assert_not(one_block(data, N), "the first step fitted in a main block the arena did not have yet");
    arena_step(g, N, data);
    cr_assert(one_block(data, N), "the step after the first did not fit in the regrown block");
    cr_assert_eq(mup_graph_bytes_reserved(g), step);
    first = data[0];
    for (int k = 0; k < 3; k++) {
        arena_step(g, N, data);
        cr_assert_eq(data[0], first, "step %d moved the block: the arena regrew without need", k + 3);
        cr_assert(one_block(data, N));
        cr_assert_eq(mup_graph_bytes_used(g), step);
    }
    arena_step(g, N / 2, data);
    cr_assert_eq(data[0], first);
    cr_assert_eq(mup_graph_bytes_reserved(g), step, "a smaller step changed the reserved bytes");
    arena_step(g, BIG, data);
    cr_assert_not(one_block(data, BIG), "a step larger than the block fitted in it");
    cr_assert_eq(mup_graph_bytes_reserved(g), step / N * BIG);
    arena_step(g, BIG, data);
    cr_assert(one_block(data, BIG), "the block did not regrow to the larger step");
    mup_graph_free(g);
}

Test(graph, wrap_has_no_grad_and_ops_skip_tape) {
    mup_graph *g = mup_graph_new();
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
    mup_tensor *ta = mup_graph_wrap(g, a, 2, (int[]){2, 3});
    mup_tensor *tb = mup_graph_wrap(g, b, 2, (int[]){3, 2});
    mup_tensor *c = mup_matmul(g, ta, tb, false, false);
    cr_assert(!c->requires_grad);
    float want[4] = {1 + 3, 2 + 3, 4 + 6, 5 + 6};
    for (int i = 0; i < 4; i++)
        cr_assert_float_eq(c->data[i], want[i], 1e-6);
    mup_graph_free(g);
}

/* The backward pass hands each intermediate gradient back once its producer has run, and later
 * gradients of the same size reuse it: a chain of 32 tanh holds its 33 activations and a few
 * gradients, not 33 of each; the leaf keeps its gradient, with the chain rule's value (a reused
 * buffer starts from zero). */
Test(graph, backward_reuses_dead_gradients) {
    enum { N = 4096, DEPTH = 32 };
    mup_graph *g = mup_graph_new();
    mup_graph_reset(g, true);
    mup_tensor *x = test_leaf(1, (int[]){N}, 5, false);
    mup_tensor *h[DEPTH + 1] = {x};
    for (int k = 1; k <= DEPTH; k++)
        h[k] = mup_tanh(g, h[k - 1]);
    mup_tensor *loss = mup_sum(g, h[DEPTH]);
    size_t before = mup_graph_bytes_used(g);
    mup_backward(g, loss);
    size_t grads = mup_graph_bytes_used(g) - before;
    cr_assert_leq(grads, 3u * N * sizeof(float), "the backward pass took %zu bytes, %d gradients' worth", grads,
                  (int)(grads / (N * sizeof(float))));
    for (int k = 1; k <= DEPTH; k++)
        cr_assert_null(h[k]->grad, "the gradient of tanh %d outlived the backward pass", k);
    for (int i = 0; i < N; i++) {
        double want = 1.0;
        for (int k = 1; k <= DEPTH; k++)
            want *= 1.0 - (double)h[k]->data[i] * h[k]->data[i];
        cr_assert_float_eq(x->grad[i], want, 1e-5 * want + 1e-7, "element %d: %g, want %g", i, x->grad[i], want);
    }
    test_leaf_free(x);
    mup_graph_free(g);
}

Test(errors, status_message_roundtrip) {
    mup_status s = mup_error(MUP_ERR_IO, "cannot open %s", "x.h5");
    cr_assert_eq(s, MUP_ERR_IO);
    cr_assert_str_eq(mup_error_message(), "cannot open x.h5");
    mup_error_context(s, "checkpoint: ");
    cr_assert_str_eq(mup_error_message(), "checkpoint: cannot open x.h5");
    cr_assert_str_eq(mup_status_str(MUP_ERR_DIVERGED), "diverged");
}

Test(errors, assert_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("dimension 1 of a tensor is 0");
    mup_graph *g = mup_graph_new();
    mup_graph_tensor(g, 2, (int[]){3, 0});
}

static int logged;
static void count_log(mup_log_level level, const char *msg, void *ctx) {
    (void)msg;
    (void)ctx;
    if (level >= MUP_LOG_WARN)
        logged++;
}

Test(errors, log_callback_receives_messages) {
    mup_set_log_fn(count_log, NULL);
    mup_log(MUP_LOG_WARN, "hello %d", 1);
    mup_log(MUP_LOG_DEBUG, "filtered");
    cr_assert_eq(logged, 1);
    mup_set_log_fn(NULL, NULL);
    mup_log(MUP_LOG_ERROR, "silenced");
    cr_assert_eq(logged, 1);
}

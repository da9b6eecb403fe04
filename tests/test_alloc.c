/* No heap allocation in the steady state: after its first two steps a training step (forward,
 * cross-entropy, backward, optimizer step) of an MLP and of a GPT with dropout calls no allocator,
 * and neither does mup_train between steps, except around its first evaluation.
 *
 * The test executable defines malloc and its relatives itself, counting calls while `counting` is
 * on and forwarding to glibc's own entry points (__libc_malloc, ...). The library is linked
 * statically, and OpenBLAS and the OpenMP runtime resolve these names to the executable's
 * definitions, so every allocation of the process is seen. AddressSanitizer replaces the same
 * functions, so under it the counting is impossible and the tests skip. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "runs.h"
#include "testing.h"

#ifndef TEST_UNDER_ASAN

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static atomic_bool counting;
static atomic_long n_allocs, n_frees;

static void count(atomic_long *n) {
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(n, 1, memory_order_relaxed);
}

void *malloc(size_t n) {
    count(&n_allocs);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
    count(&n_allocs);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
    count(&n_allocs);
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n) {
    count(&n_allocs);
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
    count(&n_allocs);
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *memalign(size_t align, size_t n) {
    count(&n_allocs);
    return __libc_memalign(align, n);
}

void free(void *p) {
    if (p)
        count(&n_frees);
    __libc_free(p);
}

static long allocs(void) { return atomic_load(&n_allocs); }

#define STEPS 8
#define WARMUP 2

/* One training step, written out as a user would: forward, loss, backward, update. */
typedef mup_tensor *(*loss_fn)(mup_graph *g, test_run *r, void *batch);

static void assert_steady_state(test_run *r, loss_fn loss, void *batch) {
    atomic_store(&n_allocs, 0);
    atomic_store(&n_frees, 0);
    long per_step[STEPS];
    for (int step = 0; step < STEPS; step++) {
        if (step == WARMUP)
            atomic_store(&counting, true);
        long before = allocs();
        mup_graph *g = mup_graph_begin(r->M);
        mup_tensor *L = loss(g, r, batch);
        mup_backward(g, L);
        mup_optim_step(r->opt);
        mup_graph_end(g);
        per_step[step] = allocs() - before;
    }
    atomic_store(&counting, false);
    for (int step = WARMUP; step < STEPS; step++)
        cr_assert_eq(per_step[step], 0, "step %d made %ld allocations", step + 1, per_step[step]);
    cr_assert_eq(atomic_load(&n_frees), 0, "%ld frees after the first steps", atomic_load(&n_frees));
}

typedef struct {
    mup_batcher batcher;
    float *x;
    int32_t *y;
} classif_batch;

static mup_tensor *mlp_loss(mup_graph *g, test_run *r, void *batch) {
    classif_batch *b = batch;
    mup_batcher_next(&b->batcher, &r->train, b->x, b->y);
    mup_tensor *x = mup_graph_wrap(g, b->x, 2, (int[]){16, r->train.dim});
    return mup_cross_entropy(g, mup_mlp_forward(g, r->mlp, x), b->y);
}

static void mlp_steady_state(int width) {
    test_run r;
    test_run_classif(&r, width, 1, test_adam_cosine(1e-2f, STEPS));
    classif_batch b = {.x = malloc(16 * sizeof(float) * (size_t)r.train.dim), .y = malloc(16 * sizeof(int32_t))};
    mup_batcher_init(&b.batcher, r.train.n, 16, 1);
    assert_steady_state(&r, mlp_loss, &b);
    mup_batcher_free(&b.batcher);
    free(b.x);
    free(b.y);
    test_run_free(&r);
}

Test(alloc, mlp_step) { mlp_steady_state(64); }

/* Wide enough that GEMMs, the optimizer and elementwise ops take their OpenMP regions: libgomp keeps
 * a team of two between regions, so those must not allocate either. */
Test(alloc, mlp_step_two_threads) {
    mup_set_num_threads(2);
    mlp_steady_state(512);
}

typedef struct {
    mup_rng rng;
    int32_t x[4 * 16], y[4 * 16];
} text_batch;

static mup_tensor *gpt_loss(mup_graph *g, test_run *r, void *batch) {
    text_batch *b = batch;
    mup_text_batch(&r->train_text, &b->rng, 4, 16, b->x, b->y);
    return mup_cross_entropy(g, mup_gpt_forward(g, r->gpt, b->x, 4, 16), b->y);
}

Test(alloc, gpt_step_with_dropout) {
    test_run r;
    test_run_lm(&r, 32, 0.1f, 1, test_adam_cosine(1e-2f, STEPS));
    text_batch b = {.rng = mup_rng_new(3)};
    assert_steady_state(&r, gpt_loss, &b);
    test_run_free(&r);
}

/* ---- through mup_train: a task that notes the allocation count as the loop calls it ---- */

#define TRAIN_STEPS 12
#define EVAL_EVERY 3

typedef struct {
    mup_task base;
    mup_task *inner;
    int n_steps, n_evals;
    long at_step[TRAIN_STEPS];            /* the count when step i's loss was asked for */
    long eval_allocs[TRAIN_STEPS];        /* made by evaluation i */
} counted_task;

static mup_tensor *counted_loss(mup_task *t, mup_graph *g) {
    counted_task *c = (counted_task *)t;
    c->at_step[c->n_steps++] = allocs();
    return c->inner->train_loss(c->inner, g);
}

static void counted_eval(mup_task *t, mup_model *M, double *loss, double *acc) {
    counted_task *c = (counted_task *)t;
    long before = allocs();
    c->inner->evaluate(c->inner, M, loss, acc);
    c->eval_allocs[c->n_evals++] = allocs() - before;
}

static void assert_train_steady(test_run *r) {
    counted_task c = {.base = {.train_loss = counted_loss, .evaluate = counted_eval}, .inner = r->task};
    mup_train_result res;
    atomic_store(&n_allocs, 0);
    atomic_store(&counting, true);
    mup_status s = mup_train(r->M, r->opt, &c.base, &(mup_train_opts){.steps = TRAIN_STEPS, .eval_every = EVAL_EVERY,
                                                                      .log_path = test_path("log.jsonl")}, &res);
    atomic_store(&counting, false);
    cr_assert_eq(s, MUP_OK, "%s", mup_error_message());
    cr_assert_eq(c.n_steps, TRAIN_STEPS);
    cr_assert_eq(c.n_evals, TRAIN_STEPS / EVAL_EVERY);
    for (int i = 1; i < c.n_evals; i++)
        cr_assert_eq(c.eval_allocs[i], 0, "evaluation %d made %ld allocations", i + 1, c.eval_allocs[i]);
    /* between the loss of step i and that of step i + 1: the rest of step i, its log line, maybe an
     * evaluation, and the next step's start; the first evaluation (after step EVAL_EVERY) may grow
     * the arena, which is then regrown when the next step begins */
    for (int i = WARMUP; i + 1 < TRAIN_STEPS; i++) {
        long n = c.at_step[i + 1] - c.at_step[i];
        cr_assert(n == 0 || i + 1 == EVAL_EVERY, "between steps %d and %d: %ld allocations", i + 1, i + 2, n);
    }
    mup_train_result_free(&res);
}

Test(alloc, train_loop_classification) {
    test_run r;
    test_run_classif(&r, 64, 1, test_adam_cosine(1e-2f, TRAIN_STEPS));
    assert_train_steady(&r);
    test_run_free(&r);
}

Test(alloc, train_loop_language_model) {
    test_run r;
    test_run_lm(&r, 32, 0.1f, 1, test_adam_cosine(1e-2f, TRAIN_STEPS));
    assert_train_steady(&r);
    test_run_free(&r);
}

/* ---- the coordinate check: its tap and bookkeeping add nothing to a step ---- */

#define COORD_STEPS 6

static long coord_at[2 * COORD_STEPS];  /* the count when each step's loss was asked for */
static int coord_calls;

typedef struct {
    test_run r;
    int32_t x[4 * 16], y[4 * 16];
} coord_net;

static mup_tensor *coord_loss(mup_coord_model *m, mup_graph *g) {
    coord_net *n = m->net;
    coord_at[coord_calls++] = allocs();
    return mup_cross_entropy(g, mup_gpt_forward(g, n->r.gpt, n->x, 4, 16), n->y);
}

static void coord_release(mup_coord_model *m) {
    coord_net *n = m->net;
    test_run_free(&n->r);
    free(n);
}

static mup_status coord_build(void *ctx, int width, uint64_t seed, mup_coord_model *out) {
    (void)ctx;
    coord_net *n = calloc(1, sizeof *n);
    test_run_lm(&n->r, width, 0.0f, seed, test_adam_cosine(1e-2f, COORD_STEPS));
    mup_text_batch_at(&n->r.train_text, 0, 4, 16, n->x, n->y);
    *out = (mup_coord_model){.model = n->r.M, .net = n, .loss = coord_loss, .release = coord_release};
    return MUP_OK;
}

Test(alloc, coordinate_check_steps) {
    static const int widths[] = {32, 64};
    mup_coord_opts o = {.widths = widths, .n_widths = 2, .steps = COORD_STEPS, .seeds = 1,
                        .optim = {.kind = MUP_OPTIM_ADAM, .lr = 1e-2f, MUP_ADAM_DEFAULTS}};
    mup_coord_result res;
    atomic_store(&n_allocs, 0);
    atomic_store(&counting, true);
    mup_status s = mup_coord_run(coord_build, NULL, &o, &res);
    atomic_store(&counting, false);
    cr_assert_eq(s, MUP_OK, "%s", mup_error_message());
    cr_assert_eq(coord_calls, 2 * COORD_STEPS);
    for (int m = 0; m < 2; m++) /* each model's arena grows in its first two steps */
        for (int t = WARMUP; t < COORD_STEPS - 1; t++)
            cr_assert_eq(coord_at[m * COORD_STEPS + t + 1] - coord_at[m * COORD_STEPS + t], 0,
                         "width %d: step %d made allocations", widths[m], t + 1);
    cr_assert_gt(coord_at[COORD_STEPS] - coord_at[COORD_STEPS - 1], 0, "building a model allocates: the count is live");
    mup_coord_result_free(&res);
}

/* The counter itself works: a test that cannot fail would prove nothing. */
Test(alloc, counter_sees_the_library) {
    atomic_store(&n_allocs, 0);
    atomic_store(&counting, true);
    mup_model *M = test_mlp_model(8, 0, 1);
    atomic_store(&counting, false);
    cr_assert_gt(allocs(), 3);
    mup_model_free(M);
}

#else

Test(alloc, skipped) {
    cr_skip_test("AddressSanitizer owns malloc in this build, so allocations cannot be counted; "
                 "run this test in a build without -Db_sanitize=address");
}

#endif

/* The memory estimate (mup_run_memory_estimate) against what runs really allocate: an MLP and a GPT,
 * the GPT with one-float heads over a 512-character block, where attention's (B, H, T, T)
 * probabilities are most of the step. The estimate is meant as an upper bound that is not loose:
 * for every case, measured peak <= estimate <= MAX_OVER x measured peak.
 *
 * The test executable defines malloc and its relatives itself, as test_alloc does, and keeps the
 * bytes live (malloc_usable_size of each block) and their peak. mup_run_train then runs in full
 * from nothing loaded: the data's generation and split, the three builds, the optimizer, the task,
 * the steps, the evaluations and the result. Under AddressSanitizer, which replaces the same
 * functions, the tests skip. */
#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "recipe.h"
#include "testing.h"

/* The largest estimate / measured peak allowed (docs/performance.md has the figures). */
#define MAX_OVER 1.5

#ifndef TEST_UNDER_ASAN

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static atomic_long live, peak;

static void *note(void *p) {
    if (p) {
        long now = atomic_fetch_add(&live, (long)malloc_usable_size(p)) + (long)malloc_usable_size(p);
        long was = atomic_load(&peak);
        while (now > was && !atomic_compare_exchange_weak(&peak, &was, now)) {
        }
    }
    return p;
}

static void forget(void *p) {
    if (p)
        atomic_fetch_sub(&live, (long)malloc_usable_size(p));
}

void *malloc(size_t n) { return note(__libc_malloc(n)); }
void *calloc(size_t n, size_t size) { return note(__libc_calloc(n, size)); }
void *aligned_alloc(size_t align, size_t n) { return note(__libc_memalign(align, n)); }
void *memalign(size_t align, size_t n) { return note(__libc_memalign(align, n)); }

void *realloc(void *p, size_t n) {
    forget(p);
    return note(__libc_realloc(p, n));
}

int posix_memalign(void **out, size_t align, size_t n) {
    void *p = note(__libc_memalign(align, n));
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p) {
    forget(p);
    __libc_free(p);
}

/* Trains s from nothing loaded; the peak of live heap bytes above those live before, and the estimate. */
static void measure(const mup_run_spec *s, double *measured, double *estimated) {
    mup_run_memory m;
    cr_assert_eq(mup_run_memory_estimate(s, NULL, &m), MUP_OK, "%s", mup_error_message());
    mup_run_data d = {0};
    mup_train_result r;
    long before = atomic_load(&live);
    atomic_store(&peak, before);
    mup_status st = mup_run_train(s, &d, NULL, &r);
    *measured = (double)(atomic_load(&peak) - before);
    cr_assert_eq(st, MUP_OK, "%s", r.message);
    mup_train_result_free(&r);
    mup_run_data_free(&d);
    *estimated = m.total;
}

/* The step arena of s's run grown step by step as a user's own loop grows it (not sized up front as
 * mup_run_train sizes it): bytes reserved after training, 9/8 of the largest step. */
static double arena_grown(const mup_run_spec *s) {
    mup_run_data d = {0};
    mup_run_model m;
    cr_assert_eq(mup_run_data_load(&d, s), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_run_model_build(&m, s, &d), MUP_OK, "%s", mup_error_message());
    mup_optim *opt = mup_optim_new(m.M, mup_run_optim_opts(s));
    mup_task *t = mup_run_task_new(s, &m, &d);
    mup_train_result r;
    mup_train_opts o = {.steps = s->train.steps, .eval_every = s->train.eval_every};
    cr_assert_eq(mup_train(m.M, opt, t, &o, &r), MUP_OK, "%s", r.message);
    double reserved = (double)mup_graph_bytes_reserved(mup_model_graph(m.M));
    mup_train_result_free(&r);
    mup_task_free(t);
    mup_optim_free(opt);
    mup_run_model_free(&m);
    mup_run_data_free(&d);
    return reserved;
}

/* estimate / measured peak of the whole run within [1, MAX_OVER]; and the arena's part alone at least
 * what the steps really use, so that the arena mup_run_train sizes from it never grows in training. */
static void check(const char *what, mup_run_spec s) {
    double measured, estimated;
    measure(&s, &measured, &estimated);
    double ratio = estimated / measured;
    mup_run_memory m;
    cr_assert_eq(mup_run_memory_estimate(&s, NULL, &m), MUP_OK);
    double arena = arena_grown(&s);
    printf("memory %s: measured_mib=%.2f estimate_mib=%.2f ratio=%.2f arena_mib=%.2f arena_estimate_mib=%.2f\n",
           what, measured / 1048576, estimated / 1048576, ratio, arena / 1048576, m.activations / 1048576);
    cr_assert(ratio >= 1.0 && ratio <= MAX_OVER, "%s: estimate %.0f bytes against a measured peak of %.0f (ratio %.2f, "
              "allowed 1 to %g)", what, estimated, measured, ratio, MAX_OVER);
    cr_assert_leq(arena, m.activations, "%s: the steps grew the arena to %.0f bytes, the estimate has %.0f", what,
                  arena, m.activations);
}

static mup_run_spec mlp(int width, int depth, int batch) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    s.data.dataset = MUP_DATASET_SYNTHETIC;
    s.data.train_size = 4000;
    s.data.val_size = 1000;
    s.data.synthetic_dim = 32;
    s.model.depth = depth;
    s.mup.base_width = 16;
    s.mup.delta_width = 32;
    s.train.steps = 4;
    s.train.eval_every = 200000;
    s.train.batch_size = batch;
    s.width = width;
    s.seed = 1;
    return s;
}

static mup_run_spec gpt(int width, int head_dim, int block, int batch) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    s.model.arch = MUP_ARCH_GPT;
    s.model.block_size = block;
    s.model.head_dim = head_dim;
    s.data.dataset = MUP_DATASET_SYNTHETIC;
    s.data.synthetic_classes = 16;
    s.data.train_size = 20000;
    s.mup.base_width = 16;
    s.mup.delta_width = 32;
    s.train.steps = 3;
    s.train.eval_every = 3;
    s.train.eval_batches = 2;
    s.train.batch_size = batch;
    s.width = width;
    s.seed = 1;
    return s;
}

Test(memory, mlp_narrow_small_batch) { check("mlp w64 depth2 batch32", mlp(64, 2, 32)); }

Test(memory, mlp_wide) { check("mlp w512 depth3 batch256", mlp(512, 3, 256)); }

Test(memory, mlp_sgd_long_curve) {
    mup_run_spec s = mlp(256, 2, 64);
    s.train.optimizer = MUP_OPTIM_SGD;
    s.train.steps = 200000; /* a loss curve of 800 KB: counted */
    s.train.eval_every = 200000;
    s.data.train_size = 200;
    s.data.val_size = 100;
    s.mup.base_width = 16;
    s.train.lr = 1e-3;
    /* the steps are many but tiny; what is measured is their memory, not their speed */
    s.width = 16;
    s.mup.delta_width = 32;
    s.model.depth = 1;
    s.train.batch_size = 8;
    s.data.synthetic_dim = 4;
    check("mlp w16 sgd 200000 steps", s);
}

Test(memory, gpt_head_dim_1_block_512, .timeout = 60) {
    mup_run_spec s = gpt(32, 1, 512, 1);
    s.train.steps = s.train.eval_every = 2;
    s.train.eval_batches = 1;
    check("gpt w32 head_dim1 block512 batch1", s);
}

Test(memory, gpt_heads_of_16_block_64) { check("gpt w64 head_dim16 block64 batch8", gpt(64, 16, 64, 8)); }

Test(memory, gpt_tied_with_dropout) {
    mup_run_spec s = gpt(128, 8, 128, 4);
    s.model.tied = true;
    s.model.dropout = 0.1;
    s.model.n_layer = 3;
    check("gpt w128 tied dropout block128 batch4 3 layers", s);
}

#else

Test(memory, skipped_under_asan) { cr_skip_test("AddressSanitizer replaces malloc: live bytes cannot be counted"); }

#endif

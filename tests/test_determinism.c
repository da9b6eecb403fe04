/* Determinism: one seed and one thread count give the same bits; two threads give the same loss
 * curve as one to float rounding. The widths are large enough that GEMMs and elementwise loops
 * take their multithreaded paths (MUP_PARALLEL_MIN). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"
#include "testing.h"

#define STEPS 20

typedef struct {
    float loss[STEPS];
    float *values;
    long n;
} outcome;

static outcome run(bool gpt, int threads) {
    mup_set_num_threads(threads);
    cr_assert_eq(mup_num_threads(), threads);
    test_run r;
    if (gpt)
        test_run_lm(&r, 128, 0.1f, 1, test_adam_cosine(1e-2f, STEPS));
    else
        test_run_classif(&r, 256, 1, test_adam_cosine(1e-2f, STEPS));
    mup_train_result res;
    cr_assert_eq(mup_train(r.M, r.opt, r.task, &(mup_train_opts){.steps = STEPS, .eval_every = 10}, &res), MUP_OK,
                 "%s", mup_error_message());
    outcome o = {.n = mup_model_num_floats(r.M)};
    memcpy(o.loss, res.train_loss, sizeof o.loss);
    o.values = test_copy(mup_model_values(r.M), o.n);
    mup_train_result_free(&res);
    test_run_free(&r);
    return o;
}

static void assert_repeatable(bool gpt) {
    outcome a = run(gpt, 1), b = run(gpt, 1);
    cr_assert_eq(memcmp(a.loss, b.loss, sizeof a.loss), 0, "loss curves differ");
    cr_assert_eq(memcmp(a.values, b.values, (size_t)a.n * sizeof(float)), 0, "parameters differ");
    free(a.values);
    free(b.values);
}

Test(determinism, mlp_same_bits_twice) { assert_repeatable(false); }
Test(determinism, gpt_same_bits_twice) { assert_repeatable(true); }

static void assert_threads_agree(bool gpt) {
    outcome one = run(gpt, 1), two = run(gpt, 2);
    for (int i = 0; i < STEPS; i++)
        cr_assert(fabs(one.loss[i] - two.loss[i]) <= 1e-5 * fabs(one.loss[i]),
                  "step %d: loss %.9g (1 thread), %.9g (2)", i + 1, one.loss[i], two.loss[i]);
    cr_assert(one.loss[STEPS - 1] < one.loss[0], "the run does not learn, so the comparison shows little");
    free(one.values);
    free(two.values);
}

Test(determinism, mlp_one_and_two_threads_agree) { assert_threads_agree(false); }
Test(determinism, gpt_one_and_two_threads_agree) { assert_threads_agree(true); }

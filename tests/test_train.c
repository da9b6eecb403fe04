/* The training loop: a run stopped at a checkpoint and resumed ends with the same bits as one that
 * never stopped (classification, and a language model whose dropout stream must be restored too);
 * divergence is a status with a message; the JSON-lines log and the result agree with each other. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5util.h"
#include "runs.h"
#include "testing.h"

#define N 20

typedef void (*make_fn)(test_run *r, uint64_t seed);

static void make_classif(test_run *r, uint64_t seed) { test_run_classif(r, 32, seed, test_adam_cosine(1e-2f, N)); }
static void make_lm(test_run *r, uint64_t seed) { test_run_lm(r, 32, 0.1f, seed, test_adam_cosine(1e-2f, N)); }

static void train(test_run *r, mup_train_opts o, mup_train_result *res) {
    cr_assert_eq(mup_train(r->M, r->opt, r->task, &o, res), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(res->steps_done, o.steps);
}

static void assert_same_bits(test_run *a, test_run *b) {
    size_t bytes = (size_t)mup_model_num_floats(a->M) * sizeof(float);
    cr_assert_eq(memcmp(mup_model_values(a->M), mup_model_values(b->M), bytes), 0, "parameters differ");
    for (int k = 0; k < mup_optim_num_state(a->opt); k++)
        cr_assert_eq(memcmp(mup_optim_state(a->opt, k), mup_optim_state(b->opt, k), bytes), 0,
                     "optimizer state %s differs", mup_optim_state_name(a->opt, k));
    cr_assert_eq(mup_optim_step_count(a->opt), mup_optim_step_count(b->opt));
}

/* Run A: N steps, checkpoints every N/2. Run B: N/2 steps, checkpoints every N/4, then a fresh
 * model, optimizer and task (other seeds: everything must come from the file) resume it to N.
 * B's two log files, appended, must be A's log byte for byte. */
static void assert_resume_identical(make_fn make) {
    const char *ck_a = test_path("a.h5"), *ck_b = test_path("b.h5");
    const char *log_a = test_path("a.jsonl"), *log_b = test_path("b.jsonl");
    test_run a, b, resumed;
    mup_train_result ra, rb, rr;
    make(&a, 1);
    train(&a, (mup_train_opts){.steps = N, .eval_every = 5, .log_path = log_a, .checkpoint_path = ck_a,
                               .checkpoint_every = N / 2}, &ra);
    make(&b, 1);
    train(&b, (mup_train_opts){.steps = N / 2, .eval_every = 5, .log_path = log_b, .checkpoint_path = ck_b,
                               .checkpoint_every = N / 4}, &rb);
    make(&resumed, 77);
    train(&resumed, (mup_train_opts){.steps = N, .eval_every = 5, .log_path = log_b, .resume_path = ck_b}, &rr);

    assert_same_bits(&a, &resumed);
    cr_assert_eq(memcmp(ra.train_loss, rr.train_loss, N * sizeof(float)), 0, "loss curves differ");
    cr_assert_eq(rr.first_loss, ra.first_loss);
    cr_assert_eq(rr.final_train_loss, ra.final_train_loss);
    cr_assert_eq(rr.final_val_loss, ra.final_val_loss);
    char *la = test_read_file(log_a, NULL), *lb = test_read_file(log_b, NULL);
    cr_assert_str_eq(lb, la);
    free(la);
    free(lb);
    mup_train_result_free(&ra);
    mup_train_result_free(&rb);
    mup_train_result_free(&rr);
    test_run_free(&a);
    test_run_free(&b);
    test_run_free(&resumed);
}

Test(resume, classification_bit_identical) { assert_resume_identical(make_classif); }

Test(resume, language_model_with_dropout_bit_identical) {
    /* first, that the dropout stream matters here: another stream gives other parameters */
    test_run a, b;
    mup_train_result ra, rb;
    make_lm(&a, 1);
    make_lm(&b, 1);
    mup_graph_seed(mup_model_graph(b.M), 2);
    train(&a, (mup_train_opts){.steps = 3}, &ra);
    train(&b, (mup_train_opts){.steps = 3}, &rb);
    cr_assert_neq(memcmp(mup_model_values(a.M), mup_model_values(b.M),
                         (size_t)mup_model_num_floats(a.M) * sizeof(float)), 0, "dropout has no effect");
    mup_train_result_free(&ra);
    mup_train_result_free(&rb);
    test_run_free(&a);
    test_run_free(&b);

    assert_resume_identical(make_lm);
}

Test(resume, errors) {
    const char *ck = test_path("c.h5");
    test_run r;
    mup_train_result res;
    make_classif(&r, 1);
    train(&r, (mup_train_opts){.steps = 6, .checkpoint_path = ck}, &res);
    mup_train_result_free(&res);
    /* a checkpoint past the run's end */
    mup_status s = mup_train(r.M, r.opt, r.task, &(mup_train_opts){.steps = 4, .resume_path = ck}, &res);
    cr_assert_eq(s, MUP_ERR_FORMAT, "%s", mup_error_message());
    cr_assert(strstr(mup_error_message(), "step 6"), "%s", mup_error_message());
    cr_assert_eq(res.steps_done, 0);
    mup_train_result_free(&res);
    /* a missing one */
    s = mup_train(r.M, r.opt, r.task, &(mup_train_opts){.steps = 4, .resume_path = test_path("none.h5")}, &res);
    cr_assert_eq(s, MUP_ERR_IO, "%s", mup_error_message());
    cr_assert(strstr(mup_error_message(), "none.h5"), "%s", mup_error_message());
    mup_train_result_free(&res);
    test_run_free(&r);
}

/* ---- hostile checkpoints: everything the resume hands on is validated, none of it aborts ---- */

/* A checkpoint of 6 steps of r at path, its state words in state (n of them). */
static int checkpointed(test_run *r, const char *path, uint64_t *state) {
    mup_train_result res;
    train(r, (mup_train_opts){.steps = 6, .checkpoint_path = path}, &res);
    mup_train_result_free(&res);
    hid_t f;
    int nd;
    int64_t n;
    cr_assert_eq(mup_h5_open(path, false, &f), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_shape(f, "state", 1, &nd, &n), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_read_u64(f, "state", state, n), MUP_OK, "%s", mup_error_message());
    H5Fclose(f);
    return (int)n;
}

static void rewrite_state(const char *path, const uint64_t *state, int n) {
    hid_t f;
    cr_assert_eq(mup_h5_open(path, true, &f), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_write_u64(f, "state", state, n), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_close_written(f, path), MUP_OK, "%s", mup_error_message());
}

static void expect_resume_error(test_run *r, const char *path, mup_status want, const char *needle) {
    mup_train_result res;
    mup_status s = mup_train(r->M, r->opt, r->task, &(mup_train_opts){.steps = 10, .resume_path = path}, &res);
    cr_assert_eq(s, want, "%s: %s", mup_status_str(s), mup_error_message());
    cr_assert(strstr(mup_error_message(), needle), "'%s' lacks '%s'", mup_error_message(), needle);
    cr_assert_eq(res.steps_done, 0);
    mup_train_result_free(&res);
}

Test(resume_hostile, bad_data_order_state_is_an_error) {
    const char *ck = test_path("order.h5");
    test_run r;
    make_classif(&r, 1);
    uint64_t good[MUP_CHECKPOINT_STATE_WORDS], bad[MUP_CHECKPOINT_STATE_WORDS];
    int n = checkpointed(&r, ck, good);
    cr_assert_eq(n, 8, "4 words of batcher state and 4 of dropout stream");
    struct { int word; uint64_t value; const char *needle; mup_status status; } cases[] = {
        {1, 1ULL << 63, "out of range", MUP_ERR_FORMAT},      /* epoch past int64 */
        {2, 1ULL << 40, "out of range", MUP_ERR_FORMAT},      /* position past 32 bits */
        {2, 500, "position 500 out of range", MUP_ERR_INVALID}, /* position = the count */
        {3, 499, "saved for 499 examples", MUP_ERR_INVALID},
        {2, good[2] ^ (1ULL << 31), "out of range", MUP_ERR_INVALID}, /* one flipped bit: a negative position */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, sizeof good);
        bad[cases[i].word] = cases[i].value;
        rewrite_state(ck, bad, n);
        expect_resume_error(&r, ck, cases[i].status, cases[i].needle);
    }
    /* the wrong number of words: 3 for the task */
    rewrite_state(ck, good + 1, n - 1);
    expect_resume_error(&r, ck, MUP_ERR_FORMAT, "has 4 words, got 3");
    test_run_free(&r);
}

Test(resume_hostile, zero_streams_are_refused) {
    const char *ck = test_path("zero.h5");
    test_run r;
    make_lm(&r, 1);
    uint64_t good[MUP_CHECKPOINT_STATE_WORDS], bad[MUP_CHECKPOINT_STATE_WORDS];
    int n = checkpointed(&r, ck, good);
    memcpy(bad, good, sizeof good);
    memset(bad, 0, 4 * sizeof *bad); /* the data order: before the fix, mup_rng_below spun forever */
    rewrite_state(ck, bad, n);
    expect_resume_error(&r, ck, MUP_ERR_FORMAT, "data-order stream is all zeros");
    memcpy(bad, good, sizeof good);
    memset(bad + n - 4, 0, 4 * sizeof *bad); /* the dropout stream */
    rewrite_state(ck, bad, n);
    expect_resume_error(&r, ck, MUP_ERR_FORMAT, "dropout stream is all zeros");
    test_run_free(&r);
}

/* A NaN first loss made every "L > 10 x first" false: the divergence check was off for the rest of
 * the run. */
Test(resume_hostile, a_non_finite_first_loss_is_refused) {
    const char *ck = test_path("nan.h5");
    test_run r;
    make_classif(&r, 1);
    uint64_t state[MUP_CHECKPOINT_STATE_WORDS];
    checkpointed(&r, ck, state);
    hid_t f;
    cr_assert_eq(mup_h5_open(ck, true, &f), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_attr_write_f64(f, "first_loss", NAN), MUP_OK);
    H5Fclose(f);
    expect_resume_error(&r, ck, MUP_ERR_FORMAT, "first loss nan");
    test_run_free(&r);
}

Test(task, a_corpus_shorter_than_a_block_is_an_error) {
    mup_text_data all, train, val;
    cr_assert_eq(mup_synthetic_text(40, 12, 3, &all), MUP_OK);
    cr_assert_eq(mup_text_split(&all, 0.5, &train, &val), MUP_OK);
    mup_model *M = mup_model_new();
    mup_gpt *gpt = mup_gpt_new(M, &(mup_gpt_config){.vocab = 12, .block_size = 32, .width = 16, .head_dim = 8,
                                                    .n_layer = 1});
    /* 20 characters each: a block of 32 needs 34 */
    cr_assert_null(mup_lm_task_new(M, mup_gpt_forward_fn, gpt, &train, &val, 2, 32, 1, 1));
    cr_assert(strstr(mup_error_message(), "20 training and 20 validation characters; a block of 32 needs at "
                     "least 34"), "%s", mup_error_message());
    mup_gpt_free(gpt);
    mup_model_free(M);
    mup_text_data_free(&all);
    mup_text_data_free(&train);
    mup_text_data_free(&val);
}

/* ---- divergence ---- */

Test(train, huge_learning_rate_diverges_with_a_message) {
    test_run r;
    mup_train_result res;
    test_run_classif(&r, 32, 1, (mup_optim_opts){.kind = MUP_OPTIM_SGD, .lr = 1e6f});
    mup_status s = mup_train(r.M, r.opt, r.task, &(mup_train_opts){.steps = 50}, &res);
    cr_assert_eq(s, MUP_ERR_DIVERGED, "status %s", mup_status_str(s));
    cr_assert_eq(res.status, MUP_ERR_DIVERGED);
    cr_assert(res.steps_done >= 1 && res.steps_done < 50, "steps_done %d", res.steps_done);
    cr_assert(strstr(res.message, "step"), "message \"%s\"", res.message);
    cr_assert_str_eq(mup_error_message(), res.message);
    for (int i = 0; i < res.steps_done; i++)
        cr_assert(isfinite(res.train_loss[i]), "step %d recorded loss %g", i, res.train_loss[i]);
    mup_train_result_free(&res);
    test_run_free(&r);
}

/* ---- the log and the result ---- */

static double number(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(v), "no number \"%s\"", key);
    return v->valuedouble;
}

Test(train, json_log_one_line_per_step_and_evaluation) {
    const char *log = test_path("log.jsonl");
    test_run r;
    mup_train_result res;
    mup_optim_opts opts = test_adam_cosine(1e-2f, 12);
    test_run_classif(&r, 32, 1, opts);
    train(&r, (mup_train_opts){.steps = 12, .eval_every = 4, .log_path = log}, &res);
    cr_assert_eq(res.n_evals, 3);

    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    char line[512];
    int steps = 0, evals = 0, last_step = 0;
    while (fgets(line, sizeof line, f)) {
        cr_assert(strchr(line, '\n'), "line too long or unterminated: %s", line);
        cJSON *o = cJSON_Parse(line);
        cr_assert_not_null(o, "not JSON: %s", line);
        int step = (int)number(o, "step");
        if (cJSON_HasObjectItem(o, "loss")) {
            cr_assert_eq(step, ++steps, "step lines out of order: %s", line);
            cr_assert_eq((float)number(o, "loss"), res.train_loss[step - 1], "%s", line);
            double lr = 1e-2 * mup_schedule_factor(&opts.schedule, step - 1);
            cr_assert(fabs(number(o, "lr") - lr) <= 1e-6 * lr, "%s: want lr %g", line, lr);
            cr_assert(number(o, "grad_norm") > 0, "%s", line);
        } else {
            cr_assert(evals < res.n_evals, "more evaluation lines than evaluations: %s", line);
            cr_assert_eq(step, res.eval_step[evals], "%s", line);
            cr_assert_eq(step, last_step, "an evaluation line must follow its step's line: %s", line);
            cr_assert(fabs(number(o, "val_loss") - res.eval_loss[evals]) <= 1e-8 * res.eval_loss[evals], "%s", line);
            double acc = number(o, "val_acc");
            cr_assert(acc >= 0 && acc <= 1 && fabs(acc - res.eval_acc[evals]) <= 1e-8, "%s", line);
            evals++;
        }
        last_step = step;
        cJSON_Delete(o);
    }
    fclose(f);
    cr_assert_eq(steps, 12);
    cr_assert_eq(evals, 3);
    mup_train_result_free(&res);
    test_run_free(&r);
}

static void expect_eval_steps(int steps, int eval_every, int n, const int *want) {
    test_run r;
    mup_train_result res;
    test_run_classif(&r, 16, 1, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    train(&r, (mup_train_opts){.steps = steps, .eval_every = eval_every}, &res);
    cr_assert_eq(res.n_evals, n, "eval_every %d: %d evaluations, want %d", eval_every, res.n_evals, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(res.eval_step[i], want[i], "eval_every %d: evaluation %d at step %d, want %d", eval_every, i,
                     res.eval_step[i], want[i]);
    mup_train_result_free(&res);
    test_run_free(&r);
}

Test(train, eval_steps) {
    expect_eval_steps(10, 3, 4, (int[]){3, 6, 9, 10});
    expect_eval_steps(10, 5, 2, (int[]){5, 10});
    expect_eval_steps(10, 0, 1, (int[]){10});
    expect_eval_steps(10, 20, 1, (int[]){10});
    expect_eval_steps(7, 1, 7, (int[]){1, 2, 3, 4, 5, 6, 7});
}

Test(train, result_agrees_with_its_arrays) {
    test_run r;
    mup_train_result res;
    test_run_classif(&r, 32, 1, test_adam_cosine(1e-2f, 25));
    train(&r, (mup_train_opts){.steps = 25, .eval_every = 2}, &res);
    cr_assert_eq(res.first_loss, res.train_loss[0]);
    double tail = 0.0; /* the mean of the last 20 */
    for (int i = 5; i < 25; i++)
        tail += res.train_loss[i];
    cr_assert(fabs(res.final_train_loss - tail / 20) <= 1e-12 * fabs(tail), "%.17g vs %.17g", res.final_train_loss,
              tail / 20);
    cr_assert_eq(res.n_evals, 13);
    double best = INFINITY;
    for (int i = 0; i < res.n_evals; i++)
        best = fmin(best, res.eval_loss[i]);
    cr_assert_eq(res.best_val_loss, best);
    cr_assert_eq(res.final_val_loss, res.eval_loss[res.n_evals - 1]);
    cr_assert_eq(res.final_val_acc, res.eval_acc[res.n_evals - 1]);
    cr_assert(res.final_val_loss < res.eval_loss[0], "no learning: %g then %g", res.eval_loss[0], res.final_val_loss);
    cr_assert(res.seconds > 0);
    mup_train_result_free(&res);
    cr_assert_null(res.train_loss);
    test_run_free(&r);
}

Test(train, short_run_tail_is_all_steps) {
    test_run r;
    mup_train_result res;
    test_run_classif(&r, 16, 1, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    train(&r, (mup_train_opts){.steps = 3}, &res);
    double mean = ((double)res.train_loss[0] + res.train_loss[1] + res.train_loss[2]) / 3;
    cr_assert(fabs(res.final_train_loss - mean) <= 1e-12 * mean);
    mup_train_result_free(&res);
    test_run_free(&r);
}

/* Runs built from specs: the path every sweep and coordinate check takes. */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recipe.h"
#include "testing.h"

static mup_run_spec small_mlp(void) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    s.data.dataset = MUP_DATASET_SYNTHETIC;
    s.data.train_size = 2000;
    s.data.val_size = 500;
    s.data.synthetic_dim = 16;
    s.mup.base_width = 16;
    s.mup.delta_width = 32;
    s.train.steps = 60;
    s.train.eval_every = 30;
    s.train.batch_size = 32;
    s.train.lr = 0.01;
    s.width = 64;
    s.seed = 1;
    return s;
}

Test(recipe, mlp_on_synthetic_data_learns) {
    mup_run_spec s = small_mlp();
    mup_run_data d = {0};
    mup_train_result r;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_OK, "%s", r.message);
    cr_assert_eq(r.steps_done, 60);
    cr_assert_eq(r.n_evals, 2);
    cr_assert_lt(r.final_val_loss, logf(10.0f) - 0.3, "val loss %g", r.final_val_loss);
    double obj = mup_run_objective(&r, MUP_OBJECTIVE_VAL_LOSS);
    cr_assert_eq(obj, r.final_val_loss);
    cr_assert_float_eq(mup_run_objective(&r, MUP_OBJECTIVE_VAL_ERROR), 1.0 - r.final_val_acc, 1e-12);
    /* the data stay loaded for the next run with the same data section */
    const float *x = d.train.x;
    mup_train_result_free(&r);
    s.width = 32;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_OK);
    cr_assert_eq(d.train.x, x);
    mup_train_result_free(&r);
    mup_run_data_free(&d);
}

static mup_run_spec small_gpt(void) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    s.model.arch = MUP_ARCH_GPT;
    s.model.block_size = 16;
    s.model.n_head = 2;
    s.data.dataset = MUP_DATASET_SYNTHETIC;
    s.data.synthetic_classes = 12;
    s.data.train_size = 20000;
    s.mup.base_width = 16;
    s.mup.delta_width = 32;
    s.width = 32;
    s.seed = 3;
    return s;
}

Test(recipe, gpt_on_synthetic_text_learns) {
    mup_run_spec s = small_gpt();
    s.train.steps = 80;
    s.train.eval_every = 0;
    s.train.batch_size = 8;
    s.train.eval_batches = 4;
    s.train.lr = 0.01;
    cr_assert_eq(mup_run_spec_check(&s), MUP_OK, "%s", mup_error_message());
    mup_run_data d = {0};
    mup_train_result r;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_OK, "%s", r.message);
    cr_assert_eq(d.text_train.vocab, 12);
    cr_assert_lt(r.final_val_loss, mup_text_unigram_entropy(&d.text_val) - 0.2, "val %g, unigram %g",
                 r.final_val_loss, mup_text_unigram_entropy(&d.text_val));
    mup_train_result_free(&r);
    mup_run_data_free(&d);
}

Test(recipe, a_huge_learning_rate_diverges_cleanly) {
    mup_run_spec s = small_mlp();
    s.train.lr = 1e4;
    s.train.optimizer = MUP_OPTIM_SGD;
    mup_run_data d = {0};
    mup_train_result r;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_ERR_DIVERGED);
    cr_assert_lt(r.steps_done, s.train.steps);
    cr_assert(isinf(mup_run_objective(&r, MUP_OBJECTIVE_VAL_LOSS)));
    cr_assert(strlen(r.message) > 0);
    mup_train_result_free(&r);
    mup_run_data_free(&d);
}

Test(recipe, missing_fashion_mnist_names_the_file_and_package) {
    mup_run_spec s = small_mlp();
    s.data.dataset = MUP_DATASET_FASHION_MNIST;
    snprintf(s.data.path, sizeof s.data.path, "%s", test_path("no-such-dir"));
    mup_run_data d = {0};
    mup_train_result r;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_ERR_IO);
    cr_assert(strstr(r.message, "no-such-dir") && strstr(r.message, "dataset-fashion-mnist"), "%s", r.message);
    mup_train_result_free(&r);
    mup_run_data_free(&d);
}

Test(recipe, memory_cap_refuses_before_training) {
    mup_run_spec s = small_mlp();
    s.width = 4096;
    setenv("MUP_MAX_MEMORY", "1000000", 1);
    mup_run_data d = {0};
    mup_train_result r;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_ERR_NOMEM);
    cr_assert(strstr(r.message, "MUP_MAX_MEMORY") && strstr(r.message, "4096"), "%s", r.message);
    cr_assert_eq(r.steps_done, 0);
    unsetenv("MUP_MAX_MEMORY");
    mup_train_result_free(&r);
    mup_run_data_free(&d);
}

Test(recipe, the_memory_cap_takes_sizes_and_refuses_anything_else) {
    mup_run_spec s = small_mlp();
    mup_run_data d = {0};
    cr_assert_eq(mup_run_data_load(&d, &s), MUP_OK);
    mup_run_memory m;
    cr_assert_eq(mup_run_memory_estimate(&s, &d, &m), MUP_OK, "%s", mup_error_message());
    cr_assert(m.total > 1e6 && m.total < 1e7, "width 64: %.0f bytes", m.total);
    static const struct {
        const char *cap;
        mup_status want;
    } cases[] = {{"1K", MUP_ERR_NOMEM}, {"1000", MUP_ERR_NOMEM}, {"8G", MUP_OK}, {"8G ", MUP_ERR_INVALID},
                 {" 8G", MUP_ERR_INVALID}, {"abc", MUP_ERR_INVALID}, {"0x1p33", MUP_ERR_INVALID}, {"inf", MUP_ERR_INVALID},
                 {"nan", MUP_ERR_INVALID}, {"0", MUP_ERR_INVALID}, {"G", MUP_ERR_INVALID}, {"8GiB", MUP_OK}, {"4m", MUP_OK},
                 {"1e9", MUP_OK}, {"eight", MUP_ERR_INVALID}, {"8Q", MUP_ERR_INVALID}, {"-1", MUP_ERR_INVALID},
                 {"8GBs", MUP_ERR_INVALID}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("MUP_MAX_MEMORY", cases[i].cap, 1);
        mup_status st = mup_run_memory_check(&s, &d);
        cr_assert_eq(st, cases[i].want, "MUP_MAX_MEMORY=%s: %s", cases[i].cap, st ? mup_error_message() : "ok");
        if (st)
            cr_assert(strstr(mup_error_message(), cases[i].cap), "%s", mup_error_message());
    }
    unsetenv("MUP_MAX_MEMORY");
    mup_run_data_free(&d);
}

Test(recipe, a_width_beyond_the_machine_is_refused_without_building_anything) {
    unsetenv("MUP_MAX_MEMORY");
    mup_run_spec s = small_mlp();
    s.width = 1 << 22; /* 2^44 parameters in fc2: 64 TiB of them before their gradients */
    mup_run_data d = {0};
    mup_train_result r;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_ERR_NOMEM);
    cr_assert(strstr(r.message, "width 4194304 needs about") && strstr(r.message, "memory of this machine"), "%s",
              r.message);
    mup_train_result_free(&r);
    mup_run_data_free(&d);
}

/* The pre-flight needs no data: every check runs on the spec alone, before anything is loaded. */
Test(recipe, the_preflight_refuses_with_the_key_and_the_limit_before_loading) {
    setenv("MUP_MAX_MEMORY", "1G", 1);
    mup_run_spec s = small_mlp();
    cr_assert_eq(mup_run_memory_check(&s, NULL), MUP_OK, "%s", mup_error_message());
    /* steps 2^31 - 1: an 8 GiB loss curve and 21 million evaluations, which the estimate counts */
    s.train.steps = INT_MAX;
    cr_assert_eq(mup_run_memory_check(&s, NULL), MUP_ERR_NOMEM);
    cr_assert(strstr(mup_error_message(), "loss curve of 2147483647 steps 9.3 GiB") &&
              strstr(mup_error_message(), "MUP_MAX_MEMORY=1G"), "%s", mup_error_message());
    mup_run_data d = {0};
    mup_train_result r;
    cr_assert_eq(mup_run_train(&s, &d, NULL, &r), MUP_ERR_NOMEM);
    cr_assert_not(d.loaded, "the data was loaded before the run was refused");
    mup_train_result_free(&r);
    /* a text shorter than a block: once aborted in the task's set-up */
    mup_run_spec g = small_gpt();
    g.data.train_size = 300;
    g.model.block_size = 64;
    cr_assert_eq(mup_run_memory_check(&g, NULL), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "model.block_size: 64 needs more than 65 characters") &&
              strstr(mup_error_message(), "33 for validation"), "%s", mup_error_message());
    cr_assert_eq(mup_run_train(&g, &d, NULL, &r), MUP_ERR_INVALID);
    mup_train_result_free(&r);
    /* a model whose tensors the registry cannot count */
    s = small_mlp();
    s.model.depth = INT_MAX;
    cr_assert_eq(mup_run_memory_check(&s, NULL), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "model.depth: 2147483647 layers make"), "%s", mup_error_message());
    unsetenv("MUP_MAX_MEMORY");
    mup_run_data_free(&d);
}

static int spec_depth_of(const mup_run_spec *s) {
    return s->model.arch == MUP_ARCH_MLP ? s->model.depth : s->model.n_layer;
}

/* The parameters are the builders' own: the estimate's slabs equal a real build's, at any depth (deep
 * models are extrapolated from builds of one and two layers), tied or not. */
Test(recipe, the_estimate_counts_the_parameters_a_build_makes) {
    mup_run_spec specs[4] = {small_mlp(), small_mlp(), small_gpt(), small_gpt()};
    specs[1].model.depth = 7;
    specs[2].model.n_layer = 5;
    specs[3].model.tied = true;
    for (int i = 0; i < 4; i++) {
        mup_run_data d = {0};
        mup_run_model m;
        mup_run_memory est;
        cr_assert_eq(mup_run_data_load(&d, &specs[i]), MUP_OK);
        cr_assert_eq(mup_run_memory_estimate(&specs[i], &d, &est), MUP_OK, "%s", mup_error_message());
        cr_assert_eq(mup_run_model_build(&m, &specs[i], &d), MUP_OK, "%s", mup_error_message());
        double slabs = 2.0 * (double)mup_model_num_floats(m.M) * sizeof(float);
        int tensors = mup_model_num_params(m.M) + mup_model_num_params(m.base) + mup_model_num_params(m.delta);
        double registry = tensors * (sizeof(mup_param) + sizeof(mup_param *));
        cr_assert(est.params >= slabs + registry && est.params <= slabs + registry + 4096.0 * spec_depth_of(&specs[i]),
                  "spec %d: %.0f against %.0f slabs and %.0f registry", i, est.params, slabs, registry);
        mup_run_model_free(&m);
        mup_run_data_free(&d);
    }
}

/* FLOPs count every GEMM weight of the build, the GPT's readout included, and attention's products. */
Test(recipe, step_flops_follow_the_build) {
    mup_run_spec s = small_gpt();
    mup_run_data d = {0};
    mup_run_model m;
    cr_assert_eq(mup_run_data_load(&d, &s), MUP_OK);
    cr_assert_eq(mup_run_model_build(&m, &s, &d), MUP_OK);
    double weights = 0;
    for (int i = 0; i < mup_model_num_params(m.M); i++) {
        const mup_param *p = mup_model_param(m.M, i);
        if (p->kind == MUP_KIND_WEIGHT || p->kind == MUP_KIND_READOUT_WEIGHT)
            weights += (double)p->t.size;
    }
    double rows = (double)s.train.batch_size * s.model.block_size;
    double attention = s.model.n_layer * 2.0 * s.model.block_size * s.width;
    cr_assert_float_eq(mup_run_step_flops(&s, &d), 6.0 * rows * (weights + attention), 1.0);
    cr_assert(weights > s.model.n_layer * 12.0 * s.width * s.width + s.width * 12.0 - 1);
    mup_run_model_free(&m);
    mup_run_data_free(&d);
    s.width = -1; /* a hostile journal's spec: no compute, no abort */
    cr_assert_eq(mup_run_step_flops(&s, NULL), 0);
}

/* Attention's (B, H, T, T) probabilities: at head_dim 1 and block 512 they are most of a step. */
Test(recipe, the_estimate_counts_attention) {
    mup_run_spec s = small_gpt();
    s.model.head_dim = 1;
    s.model.block_size = 512;
    s.train.batch_size = 4;
    mup_run_memory m;
    cr_assert_eq(mup_run_memory_estimate(&s, NULL, &m), MUP_OK, "%s", mup_error_message());
    double probs = (double)s.train.batch_size * s.width * 512.0 * 512.0 * s.model.n_layer * sizeof(float);
    cr_assert(m.activations > probs && m.activations < 1.5 * probs, "activations %.0f, probabilities %.0f",
              m.activations, probs);
    cr_assert(m.total > m.activations + m.params + m.optimizer + m.curve);
}

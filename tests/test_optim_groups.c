/* SGD's dampening and Nesterov momentum against PyTorch's formulas computed by hand, the nanoGPT weight
 * decay rule, and parameter groups composing with the µP multipliers. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "testing.h"

/* Fixed gradients g_t = (t + 1) × (0.1 + 0.01 k) for element k, written straight into the slab. */
static void set_grads(mup_model *M, int t) {
    float *g = mup_model_grads(M);
    for (long k = 0; k < mup_model_num_floats(M); k++)
        g[k] = (float)(t + 1) * (0.1f + 0.01f * (float)(k % 17));
}

/* PyTorch's SGD for one element over three steps (torch/optim/sgd.py, _single_tensor_sgd). */
static double torch_sgd(double p, const double *g, double lr, double mom, double damp, bool nesterov) {
    double buf = 0.0;
    for (int t = 0; t < 3; t++) {
        buf = t == 0 ? g[t] : mom * buf + (1.0 - damp) * g[t];
        p -= lr * (nesterov ? g[t] + mom * buf : buf);
    }
    return p;
}

static void check_sgd(float mom, float damp, bool nesterov) {
    mup_model *M = test_mlp_model(16, 0, 3); /* SP: every multiplier 1 */
    float *before = test_copy(mup_model_values(M), mup_model_num_floats(M));
    mup_optim *o = mup_sgd_new(M, (mup_optim_opts){.lr = 0.05f, .momentum = mom, .dampening = damp, .nesterov = nesterov});
    for (int t = 0; t < 3; t++) {
        set_grads(M, t);
        mup_optim_step(o);
    }
    const mup_param *w = mup_model_find_param(M, "fc2.weight");
    for (long k = 0; k < w->t.size; k += 7) {
        long at = w->offset + k;
        double g[3];
        for (int t = 0; t < 3; t++)
            g[t] = (float)(t + 1) * (0.1f + 0.01f * (float)(at % 17));
        double want = torch_sgd(before[at], g, 0.05, mom, damp, nesterov);
        cr_assert_float_eq(w->t.data[k], want, 1e-6, "momentum %g dampening %g nesterov %d, [%ld]: %.9g, want %.9g",
                           mom, damp, nesterov, k, w->t.data[k], want);
    }
    free(before);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(sgd, dampening_as_pytorch) { check_sgd(0.9f, 0.3f, false); }
Test(sgd, nesterov_as_pytorch) { check_sgd(0.9f, 0.0f, true); }
Test(sgd, plain_momentum_unchanged) { check_sgd(0.5f, 0.0f, false); }

static void expect_refused(mup_optim_opts o, const char *words) {
    cr_assert_eq(mup_optim_opts_check(&o), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), words), "\"%s\" lacks \"%s\"", mup_error_message(), words);
}

Test(sgd, bad_combinations_are_refused) {
    expect_refused((mup_optim_opts){.lr = 0.1f, .nesterov = true}, "nesterov needs momentum > 0");
    expect_refused((mup_optim_opts){.lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .nesterov = true},
                   "dampening 0");
    expect_refused((mup_optim_opts){.lr = 0.1f, .dampening = 1.5f}, "dampening 1.5");
    expect_refused((mup_optim_opts){.kind = MUP_OPTIM_ADAM, .lr = 0.1f, .dampening = 0.5f}, "SGD only");
}

/* AdamW with zero gradients only decays: under MUP_WD_MATRICES biases keep their values, weights
 * shrink by exactly 1 - lr_i wd_i. */
Test(weight_decay, matrices_rule_spares_biases_and_gains) {
    mup_model *M = test_mlp_model(16, 8, 5);
    float *before = test_copy(mup_model_values(M), mup_model_num_floats(M));
    mup_optim *o = mup_adamw_new(M, (mup_optim_opts){.lr = 0.01f, .weight_decay = 0.5f, .wd_rule = MUP_WD_MATRICES, MUP_ADAM_DEFAULTS});
    memset(mup_model_grads(M), 0, (size_t)mup_model_num_floats(M) * sizeof(float));
    mup_optim_step(o);
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        double shrink = p->t.ndim < 2 ? 1.0 : 1.0 - mup_optim_param_lr(o, i) * 0.5 * p->adam_wd_mult;
        for (long k = 0; k < p->t.size; k++)
            cr_assert_float_eq(p->t.data[k], (float)(before[p->offset + k] * shrink), 1e-7,
                               "%s[%ld]: %g, want %g", p->name, k, p->t.data[k], before[p->offset + k] * shrink);
    }
    free(before);
    mup_optim_free(o);
    mup_model_free(M);
}

Test(groups, compose_with_the_mup_multipliers) {
    mup_model *M = test_mlp_model(32, 8, 2);
    mup_optim *o = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 0.01f));
    cr_assert_eq(mup_optim_set_group(o, "fc2.", 3.0, 1.0), MUP_OK, "%s", mup_error_message());
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        double g = strncmp(p->name, "fc2.", 4) == 0 ? 3.0 : 1.0;
        cr_assert_float_eq(mup_optim_param_lr(o, i), 0.01f * p->adam_lr_mult * g, 1e-12, "%s", p->name);
    }
    cr_assert_eq(mup_optim_set_group(o, "fc9.", 1.0, 1.0), MUP_ERR_INVALID, "a prefix that matches nothing");
    cr_assert(strstr(mup_error_message(), "matches no parameter"));
    cr_assert_eq(mup_optim_set_group(o, "fc1.", -1.0, 1.0), MUP_ERR_INVALID);
    /* lr factor 0 freezes a group */
    cr_assert_eq(mup_optim_set_group(o, "readout.", 0.0, 1.0), MUP_OK);
    const mup_param *r = mup_model_find_param(M, "readout.weight");
    float *before = test_copy(r->t.data, r->t.size);
    set_grads(M, 0);
    mup_optim_step(o);
    cr_assert_eq(memcmp(before, r->t.data, (size_t)r->t.size * sizeof(float)), 0, "the readout moved at factor 0");
    free(before);
    mup_optim_free(o);
    mup_model_free(M);
}

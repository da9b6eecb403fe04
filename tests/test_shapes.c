/* mup_set_base_shapes on hand-built models: classes, multipliers, errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "testing.h"

Test(shapes, classes_and_multipliers) {
    mup_model *M = mup_model_new(), *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    test_build_mlp(M, 32);
    test_build_mlp(B, 8);
    test_build_mlp(D, 9);
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_OK, "%s", mup_error_message());
    mup_param *p = mup_model_find_param(M, "fc2.weight");
    cr_assert_eq(p->cls, MUP_CLASS_MATRIX);
    cr_assert_eq(p->role, MUP_ROLE_HIDDEN);
    cr_assert_float_eq(p->width_mult, 4.0, 1e-12);
    cr_assert_float_eq(p->adam_lr_mult, 0.25, 1e-12);
    cr_assert_float_eq(p->adam_wd_mult, 4.0, 1e-12);
    p = mup_model_find_param(M, "fc1.weight");
    cr_assert_eq(p->cls, MUP_CLASS_VECTOR);
    cr_assert_eq(p->role, MUP_ROLE_INPUT);
    cr_assert_float_eq(p->sgd_lr_mult, 4.0, 1e-12);
    p = mup_model_find_param(M, "readout.bias");
    cr_assert_eq(p->cls, MUP_CLASS_SCALAR);
    cr_assert_eq(p->role, MUP_ROLE_OUTPUT);
    cr_assert_float_eq(mup_model_find_param(M, "readout.weight")->init_rescale, 2.0, 1e-12);
    cr_assert_float_eq(mup_model_find_param(M, "fc2.bias")->init_rescale, 2.0, 1e-12);
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_ERR_STATE);
    mup_model_free(M);
    mup_model_free(B);
    mup_model_free(D);
}

Test(shapes, sp_and_mup_identical_at_base_width) {
    mup_model *M = mup_model_new(), *S = mup_model_new(), *B = mup_model_new_shapes_only(),
              *D = mup_model_new_shapes_only();
    test_build_mlp(M, 8);
    test_build_mlp(S, 8);
    test_build_mlp(B, 8);
    test_build_mlp(D, 9);
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_OK);
    cr_assert_eq(mup_set_base_shapes(S, NULL, NULL), MUP_OK);
    mup_model_init(M, 5);
    mup_model_init(S, 5);
    cr_assert_eq(memcmp(mup_model_values(M), mup_model_values(S), (size_t)mup_model_num_floats(M) * 4), 0);
    mup_model_free(M);
    mup_model_free(S);
    mup_model_free(B);
    mup_model_free(D);
}

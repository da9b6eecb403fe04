/* The NaN detector: the first non-finite value is reported with its op, pass and layer. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "testing.h"

static mup_train_result train_with_poison(bool check, const char *param, long index) {
    mup_classif_data all, train, val;
    cr_assert_eq(mup_synthetic_classif(300, 12, 5, 1, &all), MUP_OK);
    cr_assert_eq(mup_classif_split(&all, 100, &train, &val), MUP_OK);
    mup_model *M = mup_model_new();
    mup_mlp_config cfg = {.d_in = 12, .width = 16, .n_out = 5, .depth = 2};
    mup_mlp *net = mup_mlp_new(M, &cfg);
    cr_assert_eq(mup_set_base_shapes(M, NULL, NULL), MUP_OK);
    mup_model_init(M, 1);
    mup_model_find_param(M, param)->t.data[index] = NAN;
    mup_optim *opt = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    mup_task *task = mup_classif_task_new(M, mup_mlp_forward_fn, net, &train, &val, 10, 1);
    mup_train_result r;
    cr_assert_eq(mup_train(M, opt, task, &(mup_train_opts){.steps = 5, .check_finite = check}, &r), MUP_ERR_DIVERGED);
    mup_task_free(task);
    mup_optim_free(opt);
    mup_mlp_free(net);
    mup_model_free(M);
    mup_classif_data_free(&all);
    mup_classif_data_free(&train);
    mup_classif_data_free(&val);
    return r;
}

Test(nan, forward_names_the_op_and_the_layer_before_it) {
    mup_train_result r = train_with_poison(true, "fc2.weight", 3);
    cr_assert(strstr(r.message, "forward of op affine after layer fc1.act"), "%s", r.message);
    cr_assert_eq(r.steps_done, 0);
    mup_train_result_free(&r);
}

Test(nan, without_the_option_the_loss_check_still_stops_the_run) {
    mup_train_result r = train_with_poison(false, "fc2.weight", 3);
    cr_assert(strstr(r.message, "nan"), "%s", r.message);
    cr_assert_null(strstr(r.message, "affine"));
    mup_train_result_free(&r);
}

Test(nan, backward_names_the_op) {
    mup_graph *g = mup_graph_new();
    mup_graph_check_finite(g, true);
    mup_tensor *x = test_leaf(2, (int[]){3, 4}, 1, false);
    mup_tensor *y = mup_relu(g, x);
    cr_assert_null(mup_graph_nonfinite(g));
    float dout[12] = {0};
    dout[5] = INFINITY;
    x->data[5] = 1.0f; /* relu passes the gradient here */
    mup_backward_seed(g, y, dout);
    cr_assert(mup_graph_nonfinite(g) && strstr(mup_graph_nonfinite(g), "backward of op relu"), "%s",
              mup_graph_nonfinite(g) ? mup_graph_nonfinite(g) : "(nothing found)");
    mup_graph_reset(g, true);
    cr_assert_null(mup_graph_nonfinite(g), "a rewind clears the report");
    test_leaf_free(x);
    mup_graph_free(g);
}

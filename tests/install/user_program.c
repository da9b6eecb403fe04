/* A user's program, built outside the tree against the installed libmup (tests/install/check):
 * the three builds of an MLP, base shapes, init, one Adam step, the table, and a checkpoint round
 * trip. Public headers only. */
#include <math.h>
#include <stdio.h>

#include <mup/mup.h>

static mup_status build(mup_model *M, int width, void *net) {
    mup_mlp_config cfg = {.d_in = 8, .width = width, .n_out = 3, .depth = 2, .act = MUP_ACT_RELU};
    mup_mlp *m = mup_mlp_new(M, &cfg);
    if (mup_model_is_shapes_only(M))
        mup_mlp_free(m);
    else
        *(mup_mlp **)net = m;
    return MUP_OK;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CHECKPOINT.h5\n", argv[0]);
        return 2;
    }
    mup_mlp *net = NULL;
    mup_model *M = mup_model_new();
    MUP_CHECK(mup_build_with_base_shapes(M, build, &net, 64, 16, 32));
    MUP_CHECK(mup_model_init(M, 1));
    mup_model_print_shapes(M, stdout);

    mup_optim *opt = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-2f));
    mup_graph *g = mup_graph_begin(M);
    float x[2 * 8];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i / 16.0f;
    mup_tensor *logits = mup_mlp_forward(g, net, mup_graph_wrap(g, x, 2, (int[]){2, 8}));
    mup_tensor *loss = mup_cross_entropy(g, logits, (int32_t[]){0, 2});
    mup_backward(g, loss);
    mup_optim_step(opt);
    printf("loss %.6f\n", loss->data[0]);
    MUP_CHECK(mup_checkpoint_save(argv[1], M, opt, NULL));

    int ok = isfinite(loss->data[0]) && mup_model_find_param(M, "fc2.weight")->width_mult == 4.0;
    mup_optim_free(opt);
    mup_mlp_free(net);
    mup_model_free(M);
    printf("%s\n", ok ? "user program: ok" : "user program: WRONG");
    return ok ? 0 : 1;
}

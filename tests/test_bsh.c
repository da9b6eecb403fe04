/* Base-shape files: written the way the reference writes them, read back, and bad files refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "testing.h"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

static mup_model *mlp_shapes(int width) {
    mup_model *M = mup_model_new_shapes_only();
    test_build_mlp(M, width);
    return M;
}

Test(bsh, save_then_load_gives_the_same_infshapes) {
    mup_model *base = mlp_shapes(8), *delta = mlp_shapes(9), *M = mlp_shapes(32), *F = mlp_shapes(32);
    cr_assert_eq(mup_set_base_shapes(base, base, delta), MUP_OK);
    const char *path = test_path("mlp.bsh");
    cr_assert_eq(mup_save_base_shapes(base, path), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_set_base_shapes(M, base, delta), MUP_OK);
    cr_assert_eq(mup_set_base_shapes_file(F, path), MUP_OK, "%s", mup_error_message());
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *a = mup_model_param(M, i), *b = mup_model_find_param(F, a->name);
        cr_assert(b);
        cr_assert_eq(a->ninf, b->ninf, "%s", a->name);
        cr_assert_eq(a->cls, b->cls, "%s", a->name);
        cr_assert_eq(a->width_mult, b->width_mult, "%s", a->name);
        cr_assert_eq(a->adam_lr_mult, b->adam_lr_mult, "%s", a->name);
        cr_assert_eq(a->init_rescale, b->init_rescale, "%s", a->name);
    }
    /* the exact text the reference writes: sorted keys, block lists, null for finite */
    FILE *f = fopen(path, "r");
    char text[2048] = {0};
    cr_assert_gt(fread(text, 1, sizeof text - 1, f), 0);
    fclose(f);
    cr_assert(strstr(text, "fc1.weight:\n- 8\n- null\n"), "%s", text);
    cr_assert(strstr(text, "readout.bias:\n- null\n"), "%s", text);
    cr_assert_lt(strstr(text, "fc1.bias:"), strstr(text, "fc1.weight:"), "keys must be sorted");
    mup_model_free(base);
    mup_model_free(delta);
    mup_model_free(M);
    mup_model_free(F);
}

Test(bsh, reads_flow_lists_quotes_and_comments) {
    const char *path = test_path("flow.bsh");
    write_file(path, "# written by hand\n---\n'fc1.weight': [8, null]  # input\nfc1.bias: [8]\n"
                     "fc2.weight: [8, 8]\nfc2.bias: [8]\nreadout.weight: [~, 8]\n\"readout.bias\": [null]\n");
    mup_model *M = mlp_shapes(32);
    cr_assert_eq(mup_set_base_shapes_file(M, path), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_model_find_param(M, "fc2.weight")->cls, MUP_CLASS_MATRIX);
    cr_assert_float_eq(mup_model_find_param(M, "readout.weight")->width_mult, 4.0, 1e-12);
    mup_model_free(M);
}

typedef struct {
    const char *text, *needle;
    mup_status status;
} bad_case;

Test(bsh, bad_files_are_refused_with_the_reason) {
    const bad_case cases[] = {
        {"fc1.weight:\n- 8\n- abc\n", "abc", MUP_ERR_PARSE},
        {"- 8\n", "before any parameter", MUP_ERR_PARSE},
        {"fc1.weight: [8, 0]\n", "'0'", MUP_ERR_PARSE},
        {"fc1.weight: [8, -3]\n", "-3", MUP_ERR_PARSE},
        {"fc1.weight: [1, 2, 3, 4, 5]\n", "more than 4", MUP_ERR_PARSE},
        {"fc1.weight: 8, 9\n", "expected a list", MUP_ERR_PARSE},
        {"fc1.weight: [8, null]\nfc1.weight: [8, null]\n", "twice", MUP_ERR_PARSE},
        {"# nothing\n", "no parameters", MUP_ERR_FORMAT},
        {"fc1.weight: [8, null]\n", "lists 1 parameters", MUP_ERR_SHAPE},
        {"fc1.weight: [8]\nfc1.bias: [8]\nfc2.weight: [8, 8]\nfc2.bias: [8]\nreadout.weight: [null, 8]\n"
         "readout.bias: [null]\n", "fc1.weight has 2 dimensions but 1", MUP_ERR_SHAPE},
        {"fc1.weight: [8, null]\nfc1.bias: [8]\nfc2.weight: [8, 8]\nfc2.bias: [8]\nreadout.weight: [null, 8]\n"
         "out.bias: [null]\n", "readout.bias is not in", MUP_ERR_SHAPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = test_path("bad.bsh");
        write_file(path, cases[i].text);
        mup_model *M = mlp_shapes(32);
        mup_status s = mup_set_base_shapes_file(M, path);
        cr_assert_eq(s, cases[i].status, "case %zu: %s (%s)", i, mup_status_str(s), mup_error_message());
        cr_assert(strstr(mup_error_message(), cases[i].needle), "case %zu: '%s' lacks '%s'", i,
                  mup_error_message(), cases[i].needle);
        mup_model_free(M);
    }
    mup_model *M = mlp_shapes(32);
    cr_assert_eq(mup_set_base_shapes_file(M, test_path("missing.bsh")), MUP_ERR_IO);
    cr_assert(strstr(mup_error_message(), "missing.bsh"));
    mup_model_free(M);
}

/* A hostile file's length costs memory and time in proportion to the model, not to the file: reading
 * stops at the first name past the model's parameter count. */
Test(bsh, many_names_stop_at_the_models_count) {
    const char *path = test_path("many.bsh");
    FILE *f = fopen(path, "w");
    cr_assert(f);
    for (int i = 0; i < 200000; i++)
        fprintf(f, "p%d: [8, null]\n", i);
    fclose(f);
    mup_model *M = mlp_shapes(32);
    cr_assert_eq(mup_set_base_shapes_file(M, path), MUP_ERR_SHAPE);
    /* the MLP has 6 parameters: the 7th name, on line 7, is where reading stops */
    cr_assert(strstr(mup_error_message(), ":7: lists more parameters than the model's 6"), "%s",
              mup_error_message());
    mup_model_free(M);
}

/* Duplicates are found by sorting (n log n); the message names both lines. */
Test(bsh, a_duplicate_names_both_lines) {
    const char *path = test_path("dup.bsh");
    write_file(path, "fc1.weight: [8, null]\nfc1.bias: [8]\nfc2.weight: [8, 8]\nreadout.bias: [null]\n"
                     "fc2.bias: [8]\nfc1.bias: [8]\n");
    mup_model *M = mlp_shapes(32);
    cr_assert_eq(mup_set_base_shapes_file(M, path), MUP_ERR_PARSE);
    cr_assert(strstr(mup_error_message(), ":6: parameter fc1.bias appears twice (first on line 2)"), "%s",
              mup_error_message());
    mup_model_free(M);
}

Test(bsh, a_fifo_is_refused_without_blocking, .timeout = 20) {
    const char *path = test_path("fifo.bsh");
    cr_assert_eq(mkfifo(path, 0600), 0);
    mup_model *M = mlp_shapes(32);
    cr_assert_eq(mup_set_base_shapes_file(M, path), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), "is a FIFO, not a regular file"), "%s", mup_error_message());
    mup_model_free(M);
}

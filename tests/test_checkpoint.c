/* Checkpoints: a save loaded into a fresh model and optimizer gives back the same bits; the file has
 * the layout checkpoint.c documents (read here with HDF5 itself, and with h5py when installed);
 * loading never re-applies the µP rescale; and every kind of bad file is a clear error that leaves
 * the model and optimizer as they were. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5util.h"
#include "runs.h"
#include "testing.h"

#define WIDTH 32
#define STEPS 5

static const mup_optim_opts adam = {.kind = MUP_OPTIM_ADAM, .lr = 1e-2f, MUP_ADAM_DEFAULTS};

/* The classification run, trained STEPS steps so that parameters and optimizer state are far from
 * their initial values. */
static void trained(test_run *r, int width, mup_optim_opts opts, mup_train_result *res) {
    test_run_classif(r, width, 1, opts);
    cr_assert_eq(mup_train(r->M, r->opt, r->task, &(mup_train_opts){.steps = STEPS}, res), MUP_OK, "%s",
                 mup_error_message());
}

static mup_checkpoint_meta meta_of(test_run *r, const mup_train_result *res) {
    mup_checkpoint_meta m = {.step = STEPS, .first_loss = res->first_loss, .config_json = "{\"width\": 32}",
                             .train_loss = res->train_loss};
    m.n_state = r->task->get_state(r->task, m.state);
    m.state[m.n_state++] = 0xfedcba9876543210ULL;
    return m;
}

/* A saved checkpoint of the trained run at path. */
static void save_trained(const char *path, int width, mup_optim_opts opts) {
    test_run r;
    mup_train_result res;
    trained(&r, width, opts, &res);
    mup_checkpoint_meta m = meta_of(&r, &res);
    cr_assert_eq(mup_checkpoint_save(path, r.M, r.opt, &m), MUP_OK, "%s", mup_error_message());
    mup_train_result_free(&res);
    test_run_free(&r);
}

static void assert_same_state(mup_model *A, mup_optim *oa, mup_model *B, mup_optim *ob) {
    long nf = mup_model_num_floats(A);
    cr_assert_eq(nf, mup_model_num_floats(B));
    cr_assert_eq(memcmp(mup_model_values(A), mup_model_values(B), (size_t)nf * sizeof(float)), 0,
                 "parameters differ");
    cr_assert_eq(mup_optim_num_state(oa), mup_optim_num_state(ob));
    for (int k = 0; k < mup_optim_num_state(oa); k++)
        cr_assert_eq(memcmp(mup_optim_state(oa, k), mup_optim_state(ob, k), (size_t)nf * sizeof(float)), 0,
                     "optimizer state %s differs", mup_optim_state_name(oa, k));
    cr_assert_eq(mup_optim_step_count(oa), mup_optim_step_count(ob));
}

static void round_trip(mup_optim_opts opts) {
    const char *path = test_path("rt.h5");
    test_run a, b;
    mup_train_result res;
    trained(&a, WIDTH, opts, &res);
    mup_checkpoint_meta m = meta_of(&a, &res);
    cr_assert_eq(mup_checkpoint_save(path, a.M, a.opt, &m), MUP_OK, "%s", mup_error_message());

    test_run_classif(&b, WIDTH, 99, opts); /* other initial values, fresh optimizer state */
    cr_assert_neq(memcmp(mup_model_values(a.M), mup_model_values(b.M), sizeof(float) * 16), 0);
    mup_checkpoint_meta got;
    cr_assert_eq(mup_checkpoint_load(path, b.M, b.opt, &got), MUP_OK, "%s", mup_error_message());
    assert_same_state(a.M, a.opt, b.M, b.opt);
    cr_assert_eq(mup_optim_step_count(b.opt), STEPS);
    cr_assert_eq(got.step, STEPS);
    cr_assert_eq(got.first_loss, res.first_loss);
    cr_assert_eq(got.n_state, m.n_state);
    cr_assert_eq(memcmp(got.state, m.state, (size_t)m.n_state * sizeof m.state[0]), 0);
    cr_assert_str_eq(got.config_json, "{\"width\": 32}");
    cr_assert_not_null(got.train_loss);
    cr_assert_eq(memcmp(got.train_loss, res.train_loss, STEPS * sizeof(float)), 0);
    mup_checkpoint_meta_free(&got);
    mup_train_result_free(&res);
    test_run_free(&a);
    test_run_free(&b);
}

Test(checkpoint, round_trip_adam) { round_trip(adam); }
Test(checkpoint, round_trip_adamw) {
    round_trip((mup_optim_opts){.kind = MUP_OPTIM_ADAMW, .lr = 1e-2f, .weight_decay = 0.1f, MUP_ADAM_DEFAULTS});
}
Test(checkpoint, round_trip_sgd_momentum) {
    round_trip((mup_optim_opts){.kind = MUP_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f});
}

Test(checkpoint, parameters_only) {
    const char *path = test_path("p.h5");
    test_run a, b;
    mup_train_result res;
    trained(&a, WIDTH, adam, &res);
    cr_assert_eq(mup_checkpoint_save(path, a.M, NULL, NULL), MUP_OK, "%s", mup_error_message());
    test_run_classif(&b, WIDTH, 99, adam);
    cr_assert_eq(mup_checkpoint_load(path, b.M, NULL, NULL), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(memcmp(mup_model_values(a.M), mup_model_values(b.M),
                        (size_t)mup_model_num_floats(a.M) * sizeof(float)), 0);
    /* a file without optimizer state cannot resume an optimizer */
    cr_assert_neq(mup_checkpoint_load(path, b.M, b.opt, NULL), MUP_OK);
    cr_assert(strstr(mup_error_message(), "none"), "%s", mup_error_message());
    mup_train_result_free(&res);
    test_run_free(&a);
    test_run_free(&b);
}

/* ---- the layout of checkpoint.c's header comment, read with HDF5 ---- */

static void assert_attr_str(hid_t f, const char *name, const char *want) {
    char buf[256];
    cr_assert_eq(mup_h5_attr_read_str(f, name, buf, sizeof buf), MUP_OK, "%s", mup_error_message());
    cr_assert_str_eq(buf, want, "attribute %s", name);
}

static void assert_dataset(hid_t f, const char *name, const mup_param *p, const float *want) {
    int nd;
    int64_t dims[MUP_MAX_DIMS];
    cr_assert_eq(mup_h5_shape(f, name, MUP_MAX_DIMS, &nd, dims), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(nd, p->t.ndim, "%s", name);
    for (int d = 0; d < nd; d++)
        cr_assert_eq(dims[d], p->t.shape[d], "%s dim %d", name, d);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t type = H5Dget_type(ds);
    cr_assert(H5Tequal(type, H5T_NATIVE_FLOAT) > 0 || H5Tequal(type, H5T_IEEE_F32LE) > 0, "%s is not float32", name);
    H5Tclose(type);
    hid_t dcpl = H5Dget_create_plist(ds);
    cr_assert_eq(H5Pget_layout(dcpl), H5D_CHUNKED, "%s", name);
    cr_assert_eq(H5Pget_nfilters(dcpl), 1, "%s", name);
    unsigned flags, cd[4], config;
    size_t n_cd = 4;
    char filter[32];
    cr_assert_eq(H5Pget_filter2(dcpl, 0, &flags, &n_cd, cd, sizeof filter, filter, &config), H5Z_FILTER_FLETCHER32,
                 "%s", name);
    H5Pclose(dcpl);
    H5Dclose(ds);
    float *got = malloc((size_t)p->t.size * sizeof *got);
    cr_assert_eq(mup_h5_read_f32(f, name, got, p->t.size), MUP_OK);
    cr_assert_eq(memcmp(got, want, (size_t)p->t.size * sizeof *got), 0, "%s", name);
    free(got);
}

static hsize_t group_size(hid_t f, const char *name) {
    hid_t g;
    cr_assert_eq(mup_h5_group(f, name, false, &g), MUP_OK, "%s", mup_error_message());
    H5G_info_t info;
    cr_assert(H5Gget_info(g, &info) >= 0);
    H5Gclose(g);
    return info.nlinks;
}

Test(checkpoint, file_layout) {
    const char *path = test_path("layout.h5");
    test_run r;
    mup_train_result res;
    trained(&r, WIDTH, adam, &res);
    mup_checkpoint_meta m = meta_of(&r, &res);
    cr_assert_eq(mup_checkpoint_save(path, r.M, r.opt, &m), MUP_OK, "%s", mup_error_message());

    hid_t f;
    cr_assert_eq(mup_h5_open(path, false, &f), MUP_OK, "%s", mup_error_message());
    assert_attr_str(f, "format", "libmup-checkpoint");
    assert_attr_str(f, "parametrization", "mup");
    assert_attr_str(f, "optimizer", "adam");
    assert_attr_str(f, "config", "{\"width\": 32}");
    int64_t version, step;
    double first;
    cr_assert_eq(mup_h5_attr_read_i64(f, "version", &version), MUP_OK);
    cr_assert_eq(version, 2);
    cr_assert_eq(mup_h5_attr_read_i64(f, "step", &step), MUP_OK);
    cr_assert_eq(step, STEPS);
    cr_assert_eq(mup_h5_attr_read_f64(f, "first_loss", &first), MUP_OK);
    cr_assert_eq(first, res.first_loss);

    int n = mup_model_num_params(r.M);
    cr_assert_eq(group_size(f, "params"), (hsize_t)n);
    cr_assert_eq(group_size(f, "base_shapes"), (hsize_t)n);
    cr_assert_eq(group_size(f, "optim"), 2);
    for (int i = 0; i < n; i++) {
        const mup_param *p = mup_model_param(r.M, i);
        char name[256];
        snprintf(name, sizeof name, "params/%s", p->name);
        assert_dataset(f, name, p, p->t.data);
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof name, "optim/%s/%s", k ? "exp_avg_sq" : "exp_avg", p->name);
            assert_dataset(f, name, p, mup_optim_state(r.opt, k) + p->offset);
        }
        /* base dims, 0 where finite: fc1.weight (width, 12) has base (8, 0), readout.bias (5) has (0) */
        int32_t base[MUP_MAX_DIMS];
        snprintf(name, sizeof name, "base_shapes/%s", p->name);
        cr_assert_eq(mup_h5_read_i32(f, name, base, p->t.ndim), MUP_OK, "%s", mup_error_message());
        for (int d = 0; d < p->t.ndim; d++)
            cr_assert_eq(base[d], p->t.shape[d] == WIDTH ? 8 : 0, "%s dim %d: %d", p->name, d, base[d]);
    }
    uint64_t state[MUP_CHECKPOINT_STATE_WORDS];
    cr_assert_eq(mup_h5_read_u64(f, "state", state, m.n_state), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(memcmp(state, m.state, (size_t)m.n_state * sizeof *state), 0);
    float loss[STEPS];
    cr_assert_eq(mup_h5_read_f32(f, "train_loss", loss, STEPS), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(memcmp(loss, res.train_loss, sizeof loss), 0);
    H5Fclose(f);
    mup_train_result_free(&res);
    test_run_free(&r);
}

/* h5py, the reader users will reach for, sees the same numbers. */
Test(checkpoint, h5py_reads_it) {
    if (system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0)
        cr_skip_test("python3 with h5py is not installed (Debian package python3-h5py)");
    const char *path = test_path("py.h5");
    test_run r;
    mup_train_result res;
    trained(&r, WIDTH, adam, &res);
    cr_assert_eq(mup_checkpoint_save(path, r.M, r.opt, NULL), MUP_OK, "%s", mup_error_message());
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import h5py, numpy, sys\n"
             "f = h5py.File(sys.argv[1], \"r\")\n"
             "w = f[\"params/fc2.weight\"]\n"
             "v = f[\"optim/exp_avg_sq/fc2.weight\"]\n"
             "fmt = f.attrs[\"format\"]\n"
             "fmt = fmt.decode() if isinstance(fmt, bytes) else fmt\n"
             "total = lambda d: repr(float(numpy.sum(d[...], dtype=numpy.float64)))\n"
             "print(fmt, w.dtype, *w.shape, total(w), total(v))' %s",
             path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char format[64], dtype[16];
    int rows, cols;
    double sum, sum_v;
    int got = fscanf(p, "%63s %15s %d %d %lf %lf", format, dtype, &rows, &cols, &sum, &sum_v);
    cr_assert_eq(pclose(p), 0, "python3 failed");
    cr_assert_eq(got, 6);
    cr_assert_str_eq(format, "libmup-checkpoint");
    cr_assert_str_eq(dtype, "float32");
    const mup_param *w = mup_model_find_param(r.M, "fc2.weight");
    cr_assert_eq(rows, w->t.shape[0]);
    cr_assert_eq(cols, w->t.shape[1]);
    double want = 0.0, want_v = 0.0;
    for (long i = 0; i < w->t.size; i++) {
        want += w->t.data[i];
        want_v += mup_optim_state(r.opt, 1)[w->offset + i];
    }
    /* numpy sums pairwise, C here in order: both in double, so they agree far below float precision */
    cr_assert(fabs(sum - want) <= 1e-9 * (1.0 + fabs(want)), "h5py %.17g, C %.17g", sum, want);
    cr_assert(fabs(sum_v - want_v) <= 1e-9 * fabs(want_v), "h5py %.17g, C %.17g", sum_v, want_v);
    mup_train_result_free(&res);
    test_run_free(&r);
}

/* ---- loading never rescales ---- */

Test(checkpoint, load_at_non_base_width_keeps_bits) {
    const char *path = test_path("wide.h5");
    test_run a, b;
    mup_train_result res;
    trained(&a, 64, adam, &res); /* base width 8: m = 8, so an init rescale would show */
    const mup_param *ro = mup_model_find_param(a.M, "readout.weight"), *b2 = mup_model_find_param(a.M, "fc2.bias");
    cr_assert(ro->init_rescale != 1.0 && b2->init_rescale != 1.0, "the test needs rescaled parameters");
    cr_assert_eq(mup_checkpoint_save(path, a.M, a.opt, NULL), MUP_OK, "%s", mup_error_message());
    test_run_classif(&b, 64, 7, adam);
    cr_assert_eq(mup_checkpoint_load(path, b.M, b.opt, NULL), MUP_OK, "%s", mup_error_message());
    assert_same_state(a.M, a.opt, b.M, b.opt);
    mup_train_result_free(&res);
    test_run_free(&a);
    test_run_free(&b);
}

/* ---- bad checkpoints: clear errors, and nothing changed ---- */

/* Loading path into M (and opt, if given) fails with want, with a message holding the path and s,
 * and leaves the parameters, the optimizer state and its step count as they were. */
static void expect_load_error_into(const char *path, mup_model *M, mup_optim *opt, mup_status want, const char *s) {
    long nf = mup_model_num_floats(M);
    int n_state = opt ? mup_optim_num_state(opt) : 0, steps = opt ? mup_optim_step_count(opt) : 0;
    float *values = test_copy(mup_model_values(M), nf), *state[2] = {NULL, NULL};
    for (int k = 0; k < n_state; k++)
        state[k] = test_copy(mup_optim_state(opt, k), nf);
    mup_checkpoint_meta meta = {0};
    mup_status got = mup_checkpoint_load(path, M, opt, &meta);
    const char *msg = mup_error_message();
    cr_assert_eq(got, want, "status %s, want %s (%s)", mup_status_str(got), mup_status_str(want), msg);
    cr_assert(strstr(msg, path), "message \"%s\" does not name the file", msg);
    cr_assert(!s || strstr(msg, s), "message \"%s\" lacks \"%s\"", msg, s);
    cr_assert_null(meta.train_loss);
    cr_assert_null(meta.owned_config);
    cr_assert_eq(memcmp(mup_model_values(M), values, (size_t)nf * sizeof(float)), 0, "the model changed");
    for (int k = 0; k < n_state; k++)
        cr_assert_eq(memcmp(mup_optim_state(opt, k), state[k], (size_t)nf * sizeof(float)), 0,
                     "optimizer state %s changed", mup_optim_state_name(opt, k));
    cr_assert_eq(opt ? mup_optim_step_count(opt) : 0, steps);
    free(values);
    free(state[0]);
    free(state[1]);
}

/* The same into a fresh classification run of the given width and optimizer. */
static void expect_load_error(const char *path, int width, mup_optim_opts opts, mup_status want, const char *s) {
    test_run r;
    test_run_classif(&r, width, 42, opts);
    expect_load_error_into(path, r.M, r.opt, want, s);
    test_run_free(&r);
}

/* Copies src to dst, or only its first half. */
static void copy_file(const char *src, const char *dst, bool half) {
    long n;
    char *buf = test_read_file(src, &n);
    if (half)
        n /= 2;
    FILE *out = fopen(dst, "wb");
    cr_assert_not_null(out);
    cr_assert_eq(fwrite(buf, 1, (size_t)n, out), (size_t)n);
    cr_assert_eq(fclose(out), 0);
    free(buf);
}

Test(checkpoint_errors, missing_file) {
    expect_load_error(test_path("no-such.h5"), WIDTH, adam, MUP_ERR_IO, NULL);
}

Test(checkpoint_errors, truncated_file) {
    const char *good = test_path("good.h5"), *cut = test_path("cut.h5");
    save_trained(good, WIDTH, adam);
    copy_file(good, cut, true);
    test_run r;
    test_run_classif(&r, WIDTH, 42, adam);
    mup_status s = mup_checkpoint_load(cut, r.M, r.opt, NULL);
    cr_assert(s == MUP_ERR_IO || s == MUP_ERR_FORMAT, "status %s", mup_status_str(s));
    expect_load_error_into(cut, r.M, r.opt, s, NULL);
    test_run_free(&r);
}

Test(checkpoint_errors, not_hdf5) {
    const char *path = test_path("text.h5");
    FILE *f = fopen(path, "w");
    fputs("{\"this\": \"is JSON, not HDF5\"}\n", f);
    fclose(f);
    expect_load_error(path, WIDTH, adam, MUP_ERR_FORMAT, "not an HDF5 file");
}

Test(checkpoint_errors, hdf5_without_format) {
    const char *path = test_path("other.h5");
    hid_t f;
    cr_assert_eq(mup_h5_create(path, &f), MUP_OK);
    float x[3] = {1, 2, 3};
    cr_assert_eq(mup_h5_write_f32(f, "data", x, 1, (int64_t[]){3}), MUP_OK);
    H5Fclose(f);
    expect_load_error(path, WIDTH, adam, MUP_ERR_FORMAT, "not a libmup checkpoint");
}

Test(checkpoint_errors, other_width_names_the_parameter) {
    const char *path = test_path("w32.h5");
    save_trained(path, WIDTH, adam);
    expect_load_error(path, 2 * WIDTH, adam, MUP_ERR_SHAPE, "fc1.weight");
}

Test(checkpoint_errors, other_optimizer) {
    const char *path = test_path("adam.h5");
    save_trained(path, WIDTH, adam);
    mup_optim_opts sgd = {.kind = MUP_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f};
    expect_load_error(path, WIDTH, sgd, MUP_ERR_STATE, "saved with optimizer adam but resumed with sgd");
}

Test(checkpoint_errors, other_parametrization) {
    const char *path = test_path("mup.h5");
    save_trained(path, WIDTH, adam);
    mup_model *sp = test_mlp_model(WIDTH, 0, 3); /* the same names and shapes, in SP */
    expect_load_error_into(path, sp, NULL, MUP_ERR_SHAPE, "saved under mup but the model is sp");
    mup_model_free(sp);
}

Test(checkpoint_errors, other_base_shapes) {
    const char *path = test_path("b8.h5");
    save_trained(path, WIDTH, adam);
    mup_model *b16 = test_mlp_model(WIDTH, 16, 3); /* base width 16 where the file has 8 */
    expect_load_error_into(path, b16, NULL, MUP_ERR_SHAPE, "fc1.weight: base dimension 0 is 8 in the file, 16");
    mup_model_free(b16);
}

/* A dataset missing near the end: the load fails after it has read (staged) everything before. */
Test(checkpoint_errors, missing_state_dataset_changes_nothing) {
    const char *good = test_path("good.h5"), *bad = test_path("holed.h5");
    save_trained(good, WIDTH, adam);
    copy_file(good, bad, false);
    hid_t f;
    cr_assert_eq(mup_h5_open(bad, true, &f), MUP_OK);
    cr_assert(H5Ldelete(f, "optim/exp_avg_sq/readout.bias", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_load_error(bad, WIDTH, adam, MUP_ERR_FORMAT, "optim/exp_avg_sq/readout.bias");
}

/* A file holding a parameter the model lacks is another architecture, not a match. */
Test(checkpoint_errors, extra_parameter_in_file) {
    const char *good = test_path("good.h5"), *bad = test_path("extra.h5");
    save_trained(good, WIDTH, adam);
    copy_file(good, bad, false);
    hid_t f, g;
    cr_assert_eq(mup_h5_open(bad, true, &f), MUP_OK);
    cr_assert_eq(mup_h5_group(f, "params", false, &g), MUP_OK);
    float x[4] = {0};
    cr_assert_eq(mup_h5_write_f32(g, "fc3.weight", x, 2, (int64_t[]){2, 2}), MUP_OK);
    H5Gclose(g);
    H5Fclose(f);
    expect_load_error(bad, WIDTH, adam, MUP_ERR_SHAPE, "fc3.weight");
}

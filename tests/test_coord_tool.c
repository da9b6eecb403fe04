/* mup-coord as a user runs it (the built executable, named by $MUP_COORD): exit status, the files it
 * writes and how they agree, and one clear line for bad input. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <hdf5.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing.h"
#include "train/progress.h"

extern char **environ;

typedef struct {
    int code;
    char *out, *err;       /* what it printed (free them) */
} tool_run;

/* Runs mup-coord with args (NULL-terminated). */
static tool_run run_tool(const char *const *args) {
    const char *exe = getenv("MUP_COORD");
    cr_assert(exe && *exe, "MUP_COORD is not set (meson test sets it to the built mup-coord)");
    const char *argv[64] = {exe};
    int n = 1;
    while (args[n - 1])
        argv[n] = args[n - 1], n++;
    argv[n] = NULL;
    char out[512], err[512];
    snprintf(out, sizeof out, "%s", test_path("stdout"));
    snprintf(err, sizeof err, "%s", test_path("stderr"));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, environ), 0, "cannot start %s", exe);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "mup-coord did not exit normally");
    return (tool_run){WEXITSTATUS(status), test_read_file(out, NULL), test_read_file(err, NULL)};
}

static void tool_run_free(tool_run *r) {
    free(r->out);
    free(r->err);
}

static void check_stopped(const char *const *args, int code, const char *names);

/* ---- the files ---- */

typedef struct {
    char parametrization[8];
    int32_t width;
    uint64_t seed;
    int32_t step;
    char layer[96];
    double l1, rms, std;
} row;

/* A fixed-length string type of n bytes. */
static hid_t string_type(size_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    return t;
}

/* A 1-D dataset of path read whole into rows of the memory type t (fields matched by name, as any
 * reader would); closes t. */
static void *read_table(const char *path, const char *name, hid_t t, size_t row_size, long *n) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert(f >= 0, "cannot open %s", path);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    cr_assert(d >= 0, "%s: no dataset %s", path, name);
    hid_t space = H5Dget_space(d);
    hsize_t dims[1];
    cr_assert_eq(H5Sget_simple_extent_ndims(space), 1);
    H5Sget_simple_extent_dims(space, dims, NULL);
    void *rows = calloc(dims[0] + 1, row_size);
    cr_assert(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0, "%s: cannot read %s", path, name);
    H5Tclose(t);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(f);
    *n = (long)dims[0];
    return rows;
}

/* The "coord" table read back with the HDF5 C API, and the file's format attribute checked. */
static row *read_h5(const char *path, long *n) {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(row)), s8 = string_type(8), s96 = string_type(96);
    H5Tinsert(t, "parametrization", HOFFSET(row, parametrization), s8);
    H5Tinsert(t, "width", HOFFSET(row, width), H5T_NATIVE_INT32);
    H5Tinsert(t, "seed", HOFFSET(row, seed), H5T_NATIVE_UINT64);
    H5Tinsert(t, "step", HOFFSET(row, step), H5T_NATIVE_INT32);
    H5Tinsert(t, "layer", HOFFSET(row, layer), s96);
    H5Tinsert(t, "l1", HOFFSET(row, l1), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "rms", HOFFSET(row, rms), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "std", HOFFSET(row, std), H5T_NATIVE_DOUBLE);
    H5Tclose(s8);
    H5Tclose(s96);
    row *rows = read_table(path, "coord", t, sizeof(row), n);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "format", H5P_DEFAULT), fs = string_type(32);
    H5Tset_cset(fs, H5T_CSET_UTF8);
    char format[32] = "";
    cr_assert(H5Aread(a, fs, format) >= 0);
    cr_assert_str_eq(format, "libmup-coord");
    H5Tclose(fs);
    H5Aclose(a);
    H5Fclose(f);
    return rows;
}

/* Every CSV row (after the header) equals the HDF5 row of the same index, to the last bit. */
static void check_csv_matches(const char *csv_path, const row *rows, long n) {
    char *csv = test_read_file(csv_path, NULL), *save;
    char *line = strtok_r(csv, "\n", &save);
    cr_assert_str_eq(line, "parametrization,width,seed,step,layer,l1,rms,std");
    long i = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        cr_assert_lt(i, n, "more CSV rows than HDF5 rows");
        char p[16], layer[128];
        int width, step;
        unsigned long long seed;
        double l1, rms, std;
        cr_assert_eq(sscanf(line, "%15[^,],%d,%llu,%d,%127[^,],%lf,%lf,%lf", p, &width, &seed, &step, layer, &l1, &rms,
                            &std), 8, "%s", line);
        const row *r = &rows[i++];
        cr_assert_str_eq(p, r->parametrization);
        cr_assert_str_eq(layer, r->layer);
        cr_assert(width == r->width && seed == r->seed && step == r->step, "%s", line);
        cr_assert(l1 == r->l1 && rms == r->rms && std == r->std, "%s: h5 %.17g %.17g %.17g", line, r->l1, r->rms,
                  r->std);
        cr_assert(l1 > 0 && rms >= l1 && std <= rms, "%s", line);
    }
    cr_assert_eq(i, n);
    free(csv);
}

typedef struct {
    char parametrization[8], layer[96];
    int32_t step;
    double slope, se;
    char status[16];
} vrow;

/* The "verdict" table of DIR/coord.h5. */
static vrow *read_verdicts(const char *dir, long *n) {
    char path[512];
    snprintf(path, sizeof path, "%s/coord.h5", dir);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(vrow)), s8 = string_type(8), s96 = string_type(96), s16 = string_type(16);
    H5Tinsert(t, "parametrization", HOFFSET(vrow, parametrization), s8);
    H5Tinsert(t, "layer", HOFFSET(vrow, layer), s96);
    H5Tinsert(t, "step", HOFFSET(vrow, step), H5T_NATIVE_INT32);
    H5Tinsert(t, "slope", HOFFSET(vrow, slope), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "se", HOFFSET(vrow, se), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "status", HOFFSET(vrow, status), s16);
    H5Tclose(s8);
    H5Tclose(s96);
    H5Tclose(s16);
    return read_table(path, "verdict", t, sizeof(vrow), n);
}

/* A verdict line the tool printed ("µP  fc2  2  0.012  1.016  0.004  PASS") agrees with the "verdict"
 * table. */
static void check_printed_verdicts(const char *dir, const char *out) {
    long n;
    vrow *v = read_verdicts(dir, &n);
    for (long i = 0; i < n; i++) {
        char want[256];
        snprintf(want, sizeof want, "%s  %-*s %4d %9.3f", strcmp(v[i].parametrization, "mup") ? "SP" : "µP", 7,
                 v[i].layer, v[i].step, v[i].slope);
        const char *at = strstr(out, want);
        cr_assert(at, "no printed line starts \"%s\"", want);
        char se[16];
        snprintf(se, sizeof se, " %7.3f  ", v[i].se);
        const char *verdict = at + strlen(want) + 10; /* past the ratio */
        cr_assert_eq(strncmp(verdict, se, strlen(se)), 0, "%s: se %.12s", want, verdict);
        verdict += strlen(se);
        cr_assert_eq(strncmp(verdict, v[i].status, strlen(v[i].status)), 0, "%s: %.14s", want, verdict);
    }
    free(v);
}

static double json_number(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(v) || cJSON_IsNull(v), "%s is neither a number nor null", key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *json_string(const cJSON *o, const char *key) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    cr_assert(s, "%s is not a string", key);
    return s;
}

/* DIR/verdict.json parsed back: its overall verdict matches the exit status and the printed summary,
 * and every layer-step matches the HDF5 "verdict" table to the last bit. Returns the overall verdict. */
static const char *check_verdict_json(const char *dir, const tool_run *r, char *verdict, size_t size) {
    char path[512];
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    char *text = test_read_file(path, NULL);
    cJSON *root = cJSON_Parse(text);
    cr_assert(root, "%s is not JSON:\n%s", path, text);
    cr_assert_str_eq(json_string(root, "format"), "libmup-coord-verdict");
    snprintf(verdict, size, "%s", json_string(root, "verdict"));
    cr_assert_eq((int)json_number(root, "exit_status"), r->code);
    long n;
    vrow *v = read_verdicts(dir, &n);
    long i = 0;
    const cJSON *run;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(root, "runs")) {
        const char *param = json_string(run, "parametrization");
        char summary[64];
        snprintf(summary, sizeof summary, "%s: %s, ", strcmp(param, "mup") ? "SP" : "µP", json_string(run, "verdict"));
        cr_assert(strstr(r->out, summary), "no \"%s\" in\n%s", summary, r->out);
        int failed = 0, inconclusive = 0;
        const cJSON *ls;
        cJSON_ArrayForEach(ls, cJSON_GetObjectItemCaseSensitive(run, "verdicts")) {
            cr_assert_lt(i, n, "more layer-steps in verdict.json than in coord.h5");
            cr_assert_str_eq(param, v[i].parametrization);
            cr_assert_str_eq(json_string(ls, "layer"), v[i].layer);
            cr_assert_eq((int)json_number(ls, "step"), v[i].step);
            double slope = json_number(ls, "slope"), se = json_number(ls, "se");
            cr_assert(slope == v[i].slope || (isnan(slope) && isnan(v[i].slope)), "%s: %.17g", v[i].layer, slope);
            cr_assert(se == v[i].se || (isnan(se) && !isfinite(v[i].se)), "%s: se %.17g", v[i].layer, se);
            const char *status = json_string(ls, "status");
            cr_assert_str_eq(status, v[i].status);
            failed += strcmp(status, "FAIL") == 0;
            inconclusive += strcmp(status, "INCONCLUSIVE") == 0;
            i++;
        }
        cr_assert_eq((int)json_number(run, "failed"), failed);
        cr_assert_eq((int)json_number(run, "inconclusive"), inconclusive);
        cr_assert_str_eq(json_string(run, "verdict"), failed ? "FAIL" : inconclusive ? "INCONCLUSIVE" : "PASS");
    }
    cr_assert_eq(i, n, "verdict.json has %ld layer-steps, coord.h5 %ld", i, n);
    free(v);
    cJSON_Delete(root);
    free(text);
    return verdict;
}

static bool is_png(const char *path) {
    FILE *f = fopen(path, "rb");
    unsigned char magic[8] = {0};
    bool ok = f && fread(magic, 1, 8, f) == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0;
    if (f)
        fclose(f);
    return ok;
}

Test(coord_tool, mlp_check_passes_and_its_files_agree) {
    const char *dir = test_path("mlp");
    tool_run r = run_tool((const char *[]){"--model", "mlp", "--widths", "32,64,128,256", "--steps", "3", "--seeds",
                                           "3", "--base-width", "32", "--out", dir, NULL});
    cr_assert_eq(r.code, 0, "exit %d\n%s%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "µP: PASS") && strstr(r.out, "SP: FAIL"), "%s", r.out);
    char path[512];
    long n;
    snprintf(path, sizeof path, "%s/coord.h5", dir);
    row *rows = read_h5(path, &n);
    cr_assert_eq(n, 2 * 4 * 3 * 3 * 5, "(parametrization, width, seed, step, layer) rows: %ld", n);
    cr_assert_str_eq(rows[0].parametrization, "mup");
    cr_assert_str_eq(rows[0].layer, "fc1");
    cr_assert(rows[0].width == 32 && rows[0].seed == 0 && rows[0].step == 1);
    cr_assert_str_eq(rows[n - 1].parametrization, "sp");
    cr_assert_str_eq(rows[n - 1].layer, "readout");
    cr_assert(rows[n - 1].width == 256 && rows[n - 1].seed == 2 && rows[n - 1].step == 3);
    snprintf(path, sizeof path, "%s/coord.csv", dir);
    check_csv_matches(path, rows, n);
    check_printed_verdicts(dir, r.out);
    char verdict[32];
    cr_assert_str_eq(check_verdict_json(dir, &r, verdict, sizeof verdict), "PASS");
    snprintf(path, sizeof path, "%s/coord.png", dir);
    cr_assert(is_png(path), "%s is not a PNG", path);
    snprintf(path, sizeof path, "%s/coord.gp", dir);
    char *gp = test_read_file(path, NULL);
    cr_assert(strstr(gp, "coord.dat") && strstr(gp, "title 'fc2.act'"), "%s", gp);
    /* SP's failing layers are drawn thick, at t = 3 all three of them */
    cr_assert(strstr(gp, "SP, t = 3: 3 failing (thick)") && strstr(gp, "lw 4.5"), "%s", gp);
    free(gp);
    tool_run_free(&r);

    /* coord.json reruns the same check: the same numbers */
    char config[512];
    snprintf(config, sizeof config, "%s/coord.json", dir);
    const char *again = test_path("again");
    r = run_tool((const char *[]){config, "--out", again, NULL});
    cr_assert_eq(r.code, 0, "%s", r.err);
    snprintf(path, sizeof path, "%s/coord.csv", again);
    check_csv_matches(path, rows, n);
    free(rows);
    tool_run_free(&r);
}

/* SP alone, at widths..: its own exit status, summary and verdict.json. */
static void check_sp_alone(const char *name, const char *widths, const char *seeds, int code, const char *verdict) {
    const char *dir = test_path(name);
    tool_run r = run_tool((const char *[]){"--widths", widths, "--steps", "3", "--seeds", seeds, "--param", "sp",
                                           "--base-width", "32", "--out", dir, NULL});
    cr_assert_eq(r.code, code, "exit %d\n%s%s", r.code, r.out, r.err);
    char summary[64], got[32];
    snprintf(summary, sizeof summary, "SP: %s, ", verdict);
    cr_assert(strstr(r.out, summary) && !strstr(r.out, "µP"), "%s", r.out);
    cr_assert_str_eq(check_verdict_json(dir, &r, got, sizeof got), verdict);
    if (code == 4)
        cr_assert(strstr(r.out, "more seeds or a wider span of widths can decide"), "%s", r.out);
    tool_run_free(&r);
}

Test(coord_tool, sp_alone_reports_its_own_failure) { check_sp_alone("sp", "32,64,128,256", "3", 1, "FAIL"); }

/* Two widths and one seed measure no noise: the check cannot tell, says so, and exits 4. */
Test(coord_tool, a_check_that_cannot_tell_is_inconclusive_and_exits_4) {
    check_sp_alone("two", "32,128", "1", 4, "INCONCLUSIVE");
}

Test(coord_tool, gpt_check_passes_on_synthetic_text) {
    tool_run r = run_tool((const char *[]){"--model", "gpt", "--widths", "32,64,128,256", "--steps", "3", "--seeds", "2",
                                           "--batch", "4", "--set", "model.block_size=8", "--set", "model.head_dim=8",
                                           "--base-width", "32", "--param", "mup", "--out", test_path("gpt"), NULL});
    cr_assert_eq(r.code, 0, "exit %d\n%s%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "blocks.1.attn.logits") && strstr(r.out, "µP: PASS"), "%s", r.out);
    tool_run_free(&r);
}

/* Across depth at one width: under CompleteP the first and last blocks' layers and the residual stream stay
 * flat as blocks are added. */
Test(coord_tool, gpt_depth_check_passes_under_completep) {
    const char *dir = test_path("depth");
    tool_run r = run_tool((const char *[]){"--model", "gpt", "--depths", "8,1,2,4", "--width", "32", "--base-width", "32",
                                           "--depth-alpha", "1", "--base-depth", "1", "--param", "mup", "--steps", "3",
                                           "--seeds", "3", "--batch", "4", "--set", "model.block_size=8", "--set",
                                           "model.head_dim=8", "--out", dir, NULL});
    cr_assert_eq(r.code, 0, "exit %d\n%s%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "µP: PASS, 69 of 69 layer-steps within 1.2x per 4x of depth") && strstr(r.out, "(depths 1..8"),
              "%s", r.out);
    cr_assert(strstr(r.out, "blocks.last.res") && strstr(r.out, "blocks.first.attn.logits") && !strstr(r.out, "blocks.1."),
              "%s", r.out);
    char path[600];
    snprintf(path, sizeof path, "%s/verdict.json", dir);
    char *json = test_read_file(path, NULL);
    cr_assert(strstr(json, "\"axis\":\t\"depth\"") && strstr(json, "[1, 2, 4, 8]"), "%s", json);
    free(json);
    snprintf(path, sizeof path, "%s/coord.gp", dir);
    char *gp = test_read_file(path, NULL);
    cr_assert(strstr(gp, "set xlabel 'depth'"), "%s", gp);
    free(gp);
    snprintf(path, sizeof path, "%s/coord.json", dir);
    char *config = test_read_file(path, NULL);
    cr_assert(strstr(config, "\"depth_alpha\":\t1") && strstr(config, "\"depths\":"), "%s", config);
    free(config);
    tool_run_free(&r);
}

/* Without depth scaling the residual MLP's stream grows with depth: the check fails, at the last block. */
Test(coord_tool, residual_mlp_depth_check_fails_without_depth_scaling) {
    tool_run r = run_tool((const char *[]){"--model", "mlp", "--set", "model.residual=true", "--depths", "2,3,5,9",
                                           "--width", "32", "--base-width", "32", "--param", "mup", "--steps", "3",
                                           "--seeds", "3", "--out", test_path("mlp-depth"), NULL});
    cr_assert_eq(r.code, 1, "exit %d\n%s%s", r.code, r.out, r.err);
    cr_assert(strstr(r.out, "µP: FAIL") && strstr(r.out, "failing: blocks.last"), "%s", r.out);
    tool_run_free(&r);
}

Test(coord_tool, help_exits_0_and_lists_the_exit_codes) {
    tool_run r = run_tool((const char *[]){"--help", NULL});
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "usage: mup-coord") && strstr(r.out, "--widths"), "%s", r.out);
    cr_assert(strstr(r.out, "Exit status") && strstr(r.out, "  2  bad command line") && strstr(r.out, "  3  the environment"),
              "%s", r.out);
    tool_run_free(&r);
}

Test(coord_tool, version_prints_the_library_version) {
    tool_run r = run_tool((const char *[]){"--version", NULL});
    cr_assert_eq(r.code, 0);
    cr_assert_str_eq(r.out, "mup-coord (libmup " MUP_VERSION ")\n");
    tool_run_free(&r);
}

/* --name=VALUE is --name VALUE: the same settings reach coord.json */
Test(coord_tool, an_option_takes_its_value_after_a_space_or_an_equals_sign) {
    const char *dirs[2] = {test_path("spaced"), test_path("joined")};
    tool_run r = run_tool((const char *[]){"--widths", "32,64", "--steps", "2", "--seeds", "1", "--param", "mup",
                                           "--lr", "0.003", "--out", dirs[0], NULL});
    int code = r.code; /* a verdict either way: the check ran */
    cr_assert(code == 0 || code == 1 || code == 4, "exit %d: %s", code, r.err);
    tool_run_free(&r);
    char out[600];
    snprintf(out, sizeof out, "--out=%s", dirs[1]);
    r = run_tool((const char *[]){"--widths=32,64", "--steps=2", "--seeds=1", "--param=mup", "--lr=0.003", out, NULL});
    cr_assert_eq(r.code, code, "%s", r.err);
    tool_run_free(&r);
    char *json[2];
    for (int i = 0; i < 2; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/coord.json", dirs[i]);
        json[i] = test_read_file(path, NULL);
    }
    cr_assert(strstr(json[0], "0.003") && strstr(json[0], "\"steps\":\t2"), "%s", json[0]);
    cr_assert_str_eq(json[0], json[1]);
    free(json[0]);
    free(json[1]);
}

Test(coord_tool, missing_data_is_an_environment_error_exit_3) {
    check_stopped((const char *[]){"--data", "fashion-mnist", "--set", "data.path=/no/such/dir", "--out",
                                   test_path("nodata"), NULL},
                  3, "/no/such/dir");
}

/* A check that stops before its verdict: exit code, nothing on stdout, one line on stderr naming what is
 * wrong. */
static void check_stopped(const char *const *args, int code, const char *names) {
    tool_run r = run_tool(args);
    cr_assert_eq(r.code, code, "%s: exit %d\n%s", args[0], r.code, r.err);
    cr_assert_str_eq(r.out, "");
    cr_assert(strncmp(r.err, "mup-coord: ", 11) == 0 && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
              "not one line: %s", r.err);
    cr_assert(strstr(r.err, names), "\"%s\" not named in: %s", names, r.err);
    tool_run_free(&r);
}

/* Bad input: exit 2. */
static void check_refused(const char *const *args, const char *names) { check_stopped(args, 2, names); }

Test(coord_tool, bad_input_exits_2_with_one_line) {
    check_refused((const char *[]){"--widths", "64", NULL}, "--widths");
    check_refused((const char *[]){"--widths", "64,abc", NULL}, "--widths");
    check_refused((const char *[]){"--lr", "fast", NULL}, "--lr");
    check_refused((const char *[]){"--lr", "-1", NULL}, "--lr: -1 is out of range");
    check_refused((const char *[]){"--optimizer", "adamm", NULL}, "did you mean \"adam\"");
    check_refused((const char *[]){"--stepz", "3", NULL}, "--stepz: unknown option (did you mean --steps?)");
    check_refused((const char *[]){"--stepz=3", NULL}, "--stepz: unknown option (did you mean --steps?)");
    check_refused((const char *[]){"-steps", "3", NULL}, "-steps: unknown option (did you mean --steps?)");
    check_refused((const char *[]){"--out", "--steps", "3", NULL}, "--out: missing its value");
    check_refused((const char *[]){"--check-finite=yes", NULL}, "--check-finite takes no value");
    check_refused((const char *[]){"--steps=", NULL}, "--steps");
    check_refused((const char *[]){"--model", NULL}, "--model: missing its value");
    check_refused((const char *[]){"--data", "text", NULL}, "data.dataset");
    check_refused((const char *[]){"--set", "train.lerning_rate=1", NULL}, "did you mean \"lr\"");
    check_refused((const char *[]){"--model", "gpt", "--widths", "64,100", NULL}, "width 100");
    check_refused((const char *[]){"--depths", "4", NULL}, "--depths: give at least two depths to compare");
    check_refused((const char *[]){"--depths", "2,0", NULL}, "--depths[1]: 0 is out of range");
    check_refused((const char *[]){"--depths", "2,4", "--depth-alpha", "1", NULL},
                  "mup.depth_alpha: the MLP has no residual blocks to scale (set model.residual)");
    check_refused((const char *[]){"--depth-alpha", "2", NULL}, "--depth-alpha: 2 is out of range");
    check_refused((const char *[]){"--model", "gpt", "--depths", "2,4", "--depth-alpha", "1", "--optimizer", "sgd", NULL},
                  "mup.depth_alpha: depth scaling is defined for Adam and AdamW only");
    const char *config = test_path("bad.json");
    FILE *f = fopen(config, "w");
    fprintf(f, "{\"coord\": {\"widths\": [32, 64], \"stepz\": 2}}\n");
    fclose(f);
    check_refused((const char *[]){config, NULL}, "coord.stepz: unknown key (did you mean \"steps\"?)");
    f = fopen(config, "w");
    fprintf(f, "{\"coord\": {\"widths\": [32, 64],\n \"steps\": }}\n");
    fclose(f);
    check_refused((const char *[]){"--config", config, NULL}, "bad.json:2:");
}

Test(coord_tool, a_width_too_big_for_the_machine_is_refused_at_once_naming_the_bytes) {
    double t0 = mup_now();
    check_stopped((const char *[]){"--widths", "64,3000000", "--out", test_path("big"), NULL}, 3,
                  "width 3000000 needs about");
    cr_assert_lt(mup_now() - t0, 5.0, "the refusal took %.1f s: something was built or trained", mup_now() - t0);
    tool_run r = run_tool((const char *[]){"--widths", "64,3000000", "--out", test_path("big"), NULL});
    cr_assert(strstr(r.err, " bytes: parameters") && strstr(r.err, "memory of this machine"), "%s", r.err);
    tool_run_free(&r);
    cr_assert_neq(access(test_path("big"), F_OK), 0, "nothing is written");
}

Test(coord_tool, check_finite_names_the_op_and_layer_of_the_first_inf) {
    const char *args[] = {"--optimizer", "sgd", "--lr", "1e30", "--widths", "64,128", "--steps", "3", "--seeds",
                          "1", "--check-finite", "--out", test_path("nan"), NULL};
    check_stopped(args, 1, "coord: width 64, seed 0: step 2: forward of op affine after layer fc1.act");
}

/* mup-sweep end to end: the built binary ($MUP_SWEEP_BIN) on tiny synthetic sweeps. Each run is a few
 * milliseconds, so every test is a real sweep: journal, claims, resume, workers, MPI, report. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "io/h5util.h"
#include "testing.h"

extern char **environ;

/* 3 trials x 2 seeds at widths 16 and 32, then one target run at 48: 13 runs of 20 steps. */
static const char *TINY =
    "{'name': 'tiny', 'model': {'arch': 'mlp', 'depth': 2},"
    " 'data': {'dataset': 'synthetic', 'train_size': 1000, 'val_size': 200, 'synthetic_dim': 12},"
    " 'mup': {'base_width': 16, 'delta_width': 32},"
    " 'train': {'optimizer': 'adam', 'steps': 20, 'batch_size': 32, 'eval_every': 10, 'eval_batches': 2},"
    " 'search': {'sampler': 'random', 'trials': 3, 'seeds': 2, 'seed': 1,"
    "   'space': {'lr': {'dist': 'log2uniform', 'low': -10, 'high': -4}}},"
    " 'proxy_widths': [16, 32], 'target': {'width': 48, 'seeds': 1}}";
#define TINY_RUNS 13

static const char *bin(void) {
    const char *b = getenv("MUP_SWEEP_BIN");
    cr_assert(b && *b, "MUP_SWEEP_BIN is not set (run through meson test)");
    return b;
}

/* Writes TINY, with the member at path replaced by value when path is not NULL, to a file; its path
 * stays valid for the next three calls (test_path's own slots are reused by every run). */
static const char *config(const char *name, const char *path, const char *value) {
    char *text = path ? test_json_with(TINY, path, value) : test_json_quotes(TINY);
    static char slots[4][600];
    static int next;
    char *file = slots[next++ % 4];
    snprintf(file, sizeof slots[0], "%s", test_path(name));
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    free(text);
    return file;
}

static char *slurp(const char *path);

/* Sets one more member of the config in file. */
static void edit(const char *file, const char *path, const char *value) {
    char *text = slurp(file), *edited = test_json_with(text, path, value);
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs(edited, f);
    fclose(f);
    free(text);
    free(edited);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

/* Runs `prefix BIN args` in a shell; returns the exit status and (when err is given) its stderr. */
static int run(const char *prefix, const char *args, char **err) {
    char cmd[4096];
    const char *err_path = test_path("stderr.txt");
    snprintf(cmd, sizeof cmd, "%s '%s' %s > '%s' 2> '%s'", prefix, bin(), args, test_path("stdout.txt"), err_path);
    int st = system(cmd);
    if (err)
        *err = slurp(err_path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int sweep(const char *args) {
    char *err;
    int rc = run("", args, &err);
    if (rc != 0)
        fprintf(stderr, "mup-sweep %s: exit %d\n%s\n", args, rc, err);
    free(err);
    return rc;
}

typedef struct {
    char id[48], status[16], worker[96];
    double objective;
    int count;
} record;

typedef struct {
    record r[256];
    int n, headers, garbled;
} journal;

/* The journal's run records by id (a repeated id counts up), headers and lines that do not parse. */
static void read_journal(const char *dir, journal *j) {
    memset(j, 0, sizeof *j);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    char *text = slurp(path), *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_ParseWithOpts(line, NULL, true); /* a record is the whole line */
        const cJSON *type = cJSON_GetObjectItem(o, "type");
        if (!cJSON_IsString(type)) {
            j->garbled++;
        } else if (strcmp(type->valuestring, "header") == 0) {
            j->headers++;
        } else {
            const char *id = cJSON_GetObjectItem(o, "id")->valuestring;
            int k = 0;
            while (k < j->n && strcmp(j->r[k].id, id) != 0)
                k++;
            cr_assert_lt(k, 256);
            if (k == j->n) {
                j->n++;
                snprintf(j->r[k].id, sizeof j->r[k].id, "%s", id);
                snprintf(j->r[k].status, sizeof j->r[k].status, "%s", cJSON_GetObjectItem(o, "status")->valuestring);
                snprintf(j->r[k].worker, sizeof j->r[k].worker, "%s", cJSON_GetObjectItem(o, "worker")->valuestring);
                const cJSON *obj = cJSON_GetObjectItem(o, "objective");
                j->r[k].objective = cJSON_IsNumber(obj) ? obj->valuedouble : INFINITY;
            }
            j->r[k].count++;
        }
        cJSON_Delete(o);
    }
    free(text);
}

static const record *find(const journal *j, const char *id) {
    for (int k = 0; k < j->n; k++)
        if (strcmp(j->r[k].id, id) == 0)
            return &j->r[k];
    cr_assert_fail("run %s is not in the journal", id);
    return NULL;
}

static void assert_each_once(const journal *j, int runs) {
    cr_assert_eq(j->n, runs, "%d distinct runs journaled, want %d", j->n, runs);
    for (int k = 0; k < j->n; k++)
        cr_assert_eq(j->r[k].count, 1, "run %s is journaled %d times", j->r[k].id, j->r[k].count);
}

/* The same bits, or for target runs within a relative target_rel (0: the same bits too). */
static void assert_same_objectives(const journal *a, const journal *b, double target_rel) {
    cr_assert_eq(a->n, b->n);
    for (int k = 0; k < a->n; k++) {
        double x = find(b, a->r[k].id)->objective, y = a->r[k].objective;
        double rel = strncmp(a->r[k].id, "target", 6) == 0 ? target_rel : 0.0;
        cr_assert(x == y || fabs(x - y) <= rel * fabs(y), "run %s: %.17g against %.17g", a->r[k].id, x, y);
    }
}

static cJSON *summary(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *text = slurp(path);
    cJSON *s = cJSON_Parse(text);
    free(text);
    cr_assert(s, "%s does not parse", path);
    return s;
}

static double number(const cJSON *o, const char *path) {
    char buf[128], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
        o = cJSON_GetObjectItem(o, tok);
    cr_assert(cJSON_IsNumber(o), "%s is not a number", path);
    return o->valuedouble;
}

static bool exists(const char *dir, const char *name) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Runs the tiny sweep into "out": dir gets its path, args the arguments that run it again. */
static void tiny_once(char *dir, char *args) {
    snprintf(dir, 512, "%s", test_path("out"));
    snprintf(args, 2048, "'%s' --out '%s' --threads 1", config("tiny.json", NULL, NULL), dir);
    cr_assert_eq(sweep(args), 0);
}

/* ---- errors before any training ---- */

#define LOADING "mup-sweep: loading the data\n"

/* Refused with one line naming needle (after the line that says the data is loading, if any). */
static void assert_refused(const char *args, const char *needle) {
    char *err;
    int rc = run("", args, &err);
    cr_assert_neq(rc, 0, "mup-sweep %s succeeded", args);
    cr_assert(strstr(err, needle), "mup-sweep %s: \"%s\" not in: %s", args, needle, err);
    const char *line = strncmp(err, LOADING, strlen(LOADING)) == 0 ? err + strlen(LOADING) : err;
    cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "more than one line: %s", err);
    free(err);
}

Test(sweep_cli, bad_configs_data_and_directories_are_refused_with_one_line) {
    char args[2048];
    snprintf(args, sizeof args, "'%s' --out '%s'", config("a.json", "train.lerning_rate", "0.1"), test_path("a"));
    assert_refused(args, "train.lerning_rate: unknown key (did you mean \"lr\"?)");
    snprintf(args, sizeof args, "'%s' --out '%s'", config("b.json", "search.trials", "'many'"), test_path("b"));
    assert_refused(args, "search.trials: expected an integer");
    snprintf(args, sizeof args, "'%s' --out '%s'", config("c.json", "proxy_widths", NULL), test_path("c"));
    assert_refused(args, "proxy_widths: missing");
    snprintf(args, sizeof args, "'%s' --out '%s'",
             config("d.json", "data", "{'dataset': 'fashion-mnist', 'path': '/no/such/dir'}"), test_path("d"));
    assert_refused(args, "/no/such/dir");
    for (const char *d = "abcd"; *d; d++) {
        char name[2] = {*d, 0};
        cr_assert(!exists(test_tmpdir(), name), "the refused sweep %s left a directory", name);
    }
    /* a regular file where a directory must go, and a directory nobody can write (not even root) */
    const char *file = config("e.json", NULL, NULL);
    snprintf(args, sizeof args, "'%s' --out '%s/sub'", file, file);
    assert_refused(args, "cannot create the output directory");
    snprintf(args, sizeof args, "'%s' --out /proc", file);
    assert_refused(args, "cannot write to the output directory /proc");
    char *err;
    cr_assert_eq(run("", "--jobs 0 x.json --out y", &err), 2);
    cr_assert(strstr(err, "--jobs"), "%s", err);
    free(err);
}

Test(sweep_cli, dry_run_prints_the_plan_and_the_runs) {
    char args[2048];
    snprintf(args, sizeof args, "'%s' --dry-run", config("tiny.json", NULL, NULL));
    cr_assert_eq(sweep(args), 0);
    char *out = slurp(test_path("stdout.txt"));
    cr_assert(strstr(out, "3 trials x 2 seeds") && strstr(out, "train.lr="), "%s", out);
    cr_assert(strstr(out, "w16-t000-s0") && strstr(out, "w32-t002-s1") && strstr(out, "target-w48-s0"), "%s", out);
    free(out);
}

Test(sweep_cli, options_take_a_value_after_a_space_or_an_equals_sign_and_typos_get_a_suggestion) {
    char args[2048], *err;
    cr_assert_eq(run("", "--version", NULL), MUP_EXIT_OK);
    char *out = slurp(test_path("stdout.txt"));
    cr_assert_str_eq(out, "mup-sweep (libmup " MUP_VERSION ")\n");
    free(out);
    cr_assert_eq(run("", "--help", NULL), MUP_EXIT_OK);
    out = slurp(test_path("stdout.txt"));
    cr_assert(strstr(out, "Exit status") && strstr(out, "  2  bad command line") && strstr(out, "  3  the environment") &&
                  strstr(out, "130  interrupted"), "%s", out);
    free(out);
    const char *cfg = config("tiny.json", NULL, NULL);
    snprintf(args, sizeof args, "'%s' --out='%s' --jbos 2", cfg, test_path("x"));
    cr_assert_eq(run("", args, &err), MUP_EXIT_USAGE);
    cr_assert(strstr(err, "--jbos: unknown option (did you mean --jobs?)"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "'%s' --out='%s' --jobs=0", cfg, test_path("x"));
    cr_assert_eq(run("", args, &err), MUP_EXIT_USAGE);
    cr_assert(strstr(err, "--jobs needs a whole number from 1 to 4096, got \"0\""), "%s", err);
    free(err);
    snprintf(args, sizeof args, "'%s' --out --resume", cfg);
    cr_assert_eq(run("", args, &err), MUP_EXIT_USAGE);
    cr_assert(strstr(err, "--out: missing its value"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "'%s' --dry-run=yes", cfg);
    cr_assert_eq(run("", args, &err), MUP_EXIT_USAGE);
    cr_assert(strstr(err, "--dry-run takes no value"), "%s", err);
    free(err);
    /* the same sweep with either form */
    snprintf(args, sizeof args, "'%s' --dry-run --out='%s' --threads=1 --jobs=2", cfg, test_path("x"));
    cr_assert_eq(sweep(args), 0);
    out = slurp(test_path("stdout.txt"));
    cr_assert(strstr(out, "# output directory: ok") && strstr(out, "target-w48-s0"), "%s", out);
    free(out);
    /* a config error and an environment error: the same codes as mup-coord's */
    snprintf(args, sizeof args, "'%s' --out '%s'", config("a.json", "train.lerning_rate", "0.1"), test_path("a"));
    cr_assert_eq(run("", args, NULL), MUP_EXIT_USAGE);
    snprintf(args, sizeof args, "'%s' --out '%s'", test_path("no-such.json"), test_path("a"));
    cr_assert_eq(run("", args, NULL), MUP_EXIT_ENVIRONMENT);
}

Test(sweep_cli, resume_of_a_directory_without_a_sweep_is_refused_and_creates_nothing) {
    char args[2048];
    snprintf(args, sizeof args, "'%s' --out '%s/deeper' --resume", config("tiny.json", NULL, NULL), test_path("none"));
    assert_refused(args, "--resume: ");
    cr_assert(!exists(test_tmpdir(), "none"), "--resume created the directory");
    test_mkdir("empty");
    snprintf(args, sizeof args, "'%s' --out '%s' --resume", config("tiny.json", NULL, NULL), test_path("empty"));
    assert_refused(args, "has no sweep to resume");
    cr_assert(!exists(test_path("empty"), "journal.lock"), "--resume wrote into the empty directory");
}

/* A dry run finds what the sweep would stop on: exit 0 only when the sweep can run, the sweep's exit
 * code otherwise, and nothing created. */
static void assert_dry_run(const char *cfg, const char *out, int code, const char *needle) {
    char args[2048], *err;
    snprintf(args, sizeof args, "'%s' --dry-run --out '%s'", cfg, out);
    cr_assert_eq(run("", args, &err), code, "%s", err);
    cr_assert(strstr(err, needle), "\"%s\" not in: %s", needle, err);
    free(err);
    cr_assert_neq(access(test_path("dry"), F_OK), 0, "the dry run created its directory");
}

Test(sweep_cli, dry_run_checks_the_data_the_directory_and_the_memory_of_every_run) {
    unsetenv("MUP_MAX_MEMORY"); /* the cap is the machine's memory */
    char dry[512];
    snprintf(dry, sizeof dry, "%s", test_path("dry"));
    assert_dry_run(config("tiny.json", NULL, NULL), dry, MUP_EXIT_OK, "");
    char *out = slurp(test_path("stdout.txt"));
    cr_assert(strstr(out, "# data: ok\n# output directory: ok\n# memory: ok\n"), "%s", out);
    free(out);
    assert_dry_run(config("d.json", "data", "{'dataset': 'fashion-mnist', 'path': '/no/such/dir'}"), dry,
                   MUP_EXIT_ENVIRONMENT, "mup-sweep: data: fashion-mnist: cannot open /no/such/dir/");
    const char *file = config("e.json", NULL, NULL);
    char under_file[600];
    snprintf(under_file, sizeof under_file, "%s/sub", file);
    assert_dry_run(file, under_file, MUP_EXIT_ENVIRONMENT, "mup-sweep: output directory: cannot create the output directory");
    assert_dry_run(file, "/proc", MUP_EXIT_ENVIRONMENT, "cannot write to the output directory /proc");
    assert_dry_run(file, "/proc/sweep", MUP_EXIT_ENVIRONMENT, "cannot create the output directory /proc/sweep: "
                   "cannot write to /proc");
    /* a batch larger than the training set: refused by the dry run and by the sweep, before any directory */
    const char *big_batch = config("batch.json", "train.batch_size", "5000");
    assert_dry_run(big_batch, dry, MUP_EXIT_USAGE,
                   "mup-sweep: data: train.batch_size 5000 is larger than the training set (1000 examples)");
    char args[2048];
    snprintf(args, sizeof args, "'%s' --out '%s'", big_batch, dry);
    assert_refused(args, "train.batch_size 5000 is larger than the training set (1000 examples), so every step would "
                   "repeat examples: at most 1000");
    cr_assert_neq(access(dry, F_OK), 0, "the refused sweep created its directory");
    /* the target: the one a real sweep meets only after every proxy has trained */
    assert_dry_run(config("big.json", "target.width", "3000000"), dry, MUP_EXIT_ENVIRONMENT,
                   "mup-sweep: memory: target run target-w3000000-s0 with trial 0's values: width 3000000 needs about");
}

/* ---- a whole sweep ---- */

Test(sweep_cli, summary_report_and_results_agree_with_the_journal) {
    char dir[512], args[2048];
    tiny_once(dir, args);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS);
    cr_assert_eq(j.headers, 1);
    /* the best trial is the lowest mean over seeds at the widest proxy width, 32 */
    double best = INFINITY;
    int best_trial = -1;
    for (int t = 0; t < 3; t++) {
        char a[48], b[48];
        snprintf(a, sizeof a, "w32-t%03d-s0", t);
        snprintf(b, sizeof b, "w32-t%03d-s1", t);
        double mean = (find(&j, a)->objective + find(&j, b)->objective) / 2;
        if (mean < best) {
            best = mean;
            best_trial = t;
        }
    }
    cJSON *s = summary(dir);
    cr_assert_eq(number(s, "best.objective"), best);
    cr_assert_eq(number(s, "best.trial"), best_trial);
    cr_assert_eq(number(s, "best.width"), 32);
    cr_assert_eq(number(s, "runs.total"), TINY_RUNS);
    cr_assert_eq(number(s, "runs.complete"), TINY_RUNS);
    cr_assert_eq(number(s, "runs.diverged") + number(s, "runs.failed"), 0);
    cr_assert_eq(number(s, "target.final_objective"), find(&j, "target-w48-s0")->objective);
    cr_assert_eq(number(s, "target.trial"), best_trial);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "target"), "status")->valuestring, "complete");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s, "per_width")), 2);
    cr_assert_gt(number(s, "compute.proxy_flops"), number(s, "compute.target_flops"));
    cJSON_Delete(s);
    /* results.h5: every run's curves, and the score table */
    char path[600];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f, g;
    cr_assert_eq(mup_h5_open(path, false, &f), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_group(f, "runs/w32-t001-s1", false, &g), MUP_OK, "%s", mup_error_message());
    int nd;
    int64_t dims[2];
    cr_assert_eq(mup_h5_shape(g, "train_loss", 1, &nd, dims), MUP_OK);
    cr_assert_eq(dims[0], 20, "one point per step up to 200 steps");
    double objective, score[6];
    cr_assert_eq(mup_h5_attr_read_f64(g, "objective", &objective), MUP_OK);
    cr_assert_eq(objective, find(&j, "w32-t001-s1")->objective);
    cr_assert_eq(mup_h5_read_f64(f, "score", score, 6), MUP_OK);
    cr_assert_eq(score[best_trial * 2 + 1], best);
    H5Gclose(g);
    H5Fclose(f);
    char *report = slurp(test_path("out/report.md"));
    cr_assert(strstr(report, "## Top trials") && strstr(report, "lr_transfer.png"), "%s", report);
    free(report);
    cr_assert(exists(dir, "lr_transfer.gp") && exists(dir, "lr_transfer.dat") && exists(dir, "history.gp"));
    if (system("command -v gnuplot > /dev/null") == 0)
        cr_assert(exists(dir, "lr_transfer.png") && exists(dir, "history.png"));
    /* rerunning finds nothing to do */
    cr_assert_eq(sweep(args), 0);
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS);
}

/* Proxies at two depths of a residual MLP under CompleteP, and a deeper target: runs per width and depth,
 * their depth in the journal, the summary, results.h5 and the plot. */
Test(sweep_cli, proxy_depths_run_every_width_at_every_depth_and_record_the_depth) {
    const char *file = config("depth.json", "model.residual", "true");
    edit(file, "mup.depth_alpha", "1");
    edit(file, "mup.base_depth", "1");
    edit(file, "search.trials", "2");
    edit(file, "search.seeds", "1");
    edit(file, "proxy_widths", "[16]");
    edit(file, "proxy_depths", "[2, 4]");
    edit(file, "target", "{'width': 32, 'depth': 4}");
    char dir[512], args[2048];
    snprintf(dir, sizeof dir, "%s", test_path("depth"));
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1", file, dir);
    cr_assert_eq(sweep(args), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, 5);
    double best = INFINITY;
    int best_trial = -1;
    for (int t = 0; t < 2; t++) {
        char deep[48], shallow[48];
        snprintf(deep, sizeof deep, "w16-d4-t%03d-s0", t);
        snprintf(shallow, sizeof shallow, "w16-d2-t%03d-s0", t);
        find(&j, shallow);
        if (find(&j, deep)->objective < best) { /* the deepest proxy picks */
            best = find(&j, deep)->objective;
            best_trial = t;
        }
    }
    cJSON *s = summary(dir);
    cr_assert_eq(number(s, "best.trial"), best_trial);
    cr_assert_eq(number(s, "best.depth"), 4);
    cr_assert_eq(number(s, "target.depth"), 4);
    cr_assert_eq(number(s, "target.spec.model.depth"), 4);
    cr_assert_eq(number(s, "target.spec.mup.depth_alpha"), 1);
    cr_assert_eq(number(s, "target.final_objective"), find(&j, "target-w32-d4-s0")->objective);
    const cJSON *per = cJSON_GetObjectItem(s, "per_width");
    cr_assert_eq(cJSON_GetArraySize(per), 2);
    cr_assert_eq(number(cJSON_GetArrayItem(per, 0), "depth"), 2);
    cr_assert_eq(number(cJSON_GetArrayItem(per, 1), "depth"), 4);
    cJSON_Delete(s);
    char path[600];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f, g;
    cr_assert_eq(mup_h5_open(path, false, &f), MUP_OK, "%s", mup_error_message());
    int32_t depths[2], widths[2];
    cr_assert_eq(mup_h5_read_i32(f, "depths", depths, 2), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_read_i32(f, "widths", widths, 2), MUP_OK, "%s", mup_error_message());
    cr_assert(depths[0] == 2 && depths[1] == 4 && widths[0] == 16 && widths[1] == 16);
    int64_t depth;
    cr_assert_eq(mup_h5_attr_read_i64(f, "select_depth", &depth), MUP_OK);
    cr_assert_eq(depth, 4);
    cr_assert_eq(mup_h5_group(f, "runs/w16-d2-t001-s0", false, &g), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_attr_read_i64(g, "depth", &depth), MUP_OK);
    cr_assert_eq(depth, 2);
    H5Gclose(g);
    H5Fclose(f);
    char *gp = slurp(test_path("depth/lr_transfer.gp"));
    cr_assert(strstr(gp, "title 'width 16, depth 2'") && strstr(gp, "title 'width 16, depth 4'") &&
                  strstr(gp, "title 'target width 32, depth 4'"),
              "%s", gp);
    free(gp);
    /* rerunning finds nothing to do */
    cr_assert_eq(sweep(args), 0);
    read_journal(dir, &j);
    assert_each_once(&j, 5);
}

/* tests/sweep_before_depth/ holds a config and the journal mup-sweep wrote for it before the depth keys
 * existed: the config keeps its fingerprint and every run its spec, so the sweep resumes with nothing
 * left to do and the journal stays as it was. */
Test(sweep_cli, a_journal_from_before_the_depth_keys_resumes_with_nothing_to_do) {
    const char *src = getenv("MUP_SOURCE_DIR");
    cr_assert(src && *src, "MUP_SOURCE_DIR is not set (run through meson test)");
    char from[600], dir[600], journal_path[700], args[2048];
    snprintf(dir, sizeof dir, "%s", test_path("before-depth"));
    cr_assert_eq(mkdir(dir, 0777), 0);
    snprintf(from, sizeof from, "%s/tests/sweep_before_depth/journal.jsonl", src);
    char *before = slurp(from);
    cr_assert(strstr(before, "\"fingerprint\":\"25ac7afc03eecbdc\""), "the fixture's header changed");
    snprintf(journal_path, sizeof journal_path, "%s/journal.jsonl", dir);
    FILE *f = fopen(journal_path, "w");
    cr_assert(f);
    fputs(before, f);
    fclose(f);
    snprintf(args, sizeof args, "'%s/tests/sweep_before_depth/config.json' --out '%s' --resume --threads 1", src, dir);
    cr_assert_eq(sweep(args), 0);
    char *after = slurp(journal_path);
    cr_assert_str_eq(after, before, "the resumed sweep trained or appended something");
    free(before);
    free(after);
}

/* stderr is a file here, as under Slurm: a line says the data is loading, each finished run has a line
 * with its settings, and the target run tells its progress by lines */
Test(sweep_cli, a_log_file_gets_the_loading_each_run_with_its_settings_and_the_targets_progress) {
    char dir[512], args[2048];
    tiny_once(dir, args);
    char *err = slurp(test_path("stderr.txt"));
    cr_assert(strncmp(err, LOADING, strlen(LOADING)) == 0, "%s", err);
    cr_assert(strstr(err, "mup-sweep: w16-t000-s0 ") && strstr(err, " with train.lr="), "%s", err);
    int runs = 0;
    for (const char *p = err; (p = strstr(p, " with train.lr=")); p++)
        runs++;
    cr_assert_eq(runs, TINY_RUNS, "%d run lines with settings\n%s", runs, err);
    cr_assert(strstr(err, "target-w48-s0: step 2/20 loss ") && strstr(err, "target-w48-s0: step 20/20 loss "), "%s", err);
    cr_assert_null(strchr(err, '\r'), "a terminal's status line in a log: %s", err);
    free(err);
}

Test(sweep_cli, a_diverging_learning_rate_is_recorded_and_the_sweep_goes_on) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", test_path("out"));
    const char *cfg = config("div.json", "search.space", "{'lr': {'dist': 'log2uniform', 'low': 12, 'high': 14}}");
    edit(cfg, "train.optimizer", "'sgd'");
    char args[2048];
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1", cfg, dir);
    cr_assert_eq(sweep(args), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS - 1);
    for (int k = 0; k < j.n; k++) {
        cr_assert_str_eq(j.r[k].status, "diverged", "run %s", j.r[k].id);
        cr_assert(isinf(j.r[k].objective));
    }
    cJSON *s = summary(dir);
    cr_assert_eq(number(s, "runs.diverged"), TINY_RUNS - 1);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(s, "best")));
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "target"), "status")->valuestring, "not run");
    cJSON_Delete(s);
}

Test(sweep_cli, a_failing_run_is_recorded_as_failed_and_the_sweep_goes_on) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", test_path("out"));
    /* the memory cap admits width 16 (1 442 496 bytes, most of it the arena's 1 MiB block) and refuses
     * 32 (1 460 928 bytes) */
    char args[2048], *err;
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1", config("tiny.json", NULL, NULL), dir);
    int rc = run("MUP_MAX_MEMORY=1450000", args, &err);
    cr_assert_eq(rc, 0, "%s", err);
    free(err);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS - 1);
    for (int k = 0; k < j.n; k++)
        cr_assert_str_eq(j.r[k].status, strncmp(j.r[k].id, "w16", 3) == 0 ? "complete" : "failed", "run %s",
                         j.r[k].id);
    cJSON *s = summary(dir);
    cr_assert_eq(number(s, "runs.failed"), 6);
    cr_assert_eq(number(s, "runs.complete"), 6);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(s, "best")), "nothing completed at the widest width");
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "per_width"), 0),
                                                 "best_objective")));
    cJSON_Delete(s);
    char *journal_text = slurp(test_path("out/journal.jsonl"));
    cr_assert(strstr(journal_text, "MUP_MAX_MEMORY"), "the failure's message is journaled");
    free(journal_text);
}

/* ---- resuming ---- */

static int count_lines(const char *path) {
    char *text = slurp(path);
    int n = 0;
    for (char *p = text; *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

/* 8 trials of 300 steps (33 runs): long enough to be killed in the middle. */
#define LONG_RUNS (8 * 2 * 2 + 1)
static const char *long_config(void) {
    const char *cfg = config("long.json", "train.steps", "300");
    edit(cfg, "search.trials", "8");
    return cfg;
}

/* Starts mup-sweep on cfg into dir in the background, its stderr into err_path, its stdout thrown away. */
static pid_t start_sweep_to(const char *cfg, const char *dir, const char *err_path) {
    const char *argv[] = {bin(), cfg, "--out", dir, "--threads", "1", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, bin(), &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static pid_t start_sweep(const char *cfg, const char *dir) { return start_sweep_to(cfg, dir, "/dev/null"); }

/* Waits (up to 30 s) for dir's journal to have at least n lines; returns how many it has. */
static int wait_lines(const char *dir, int n) {
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    int lines = 0;
    for (int tries = 0; tries < 3000 && (lines = count_lines(path)) < n; tries++)
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    return lines;
}

static void kill_9(pid_t pid) {
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFSIGNALED(st), "the sweep ended before the kill");
}

Test(sweep_cli, kill_9_mid_sweep_then_resume_runs_every_run_once) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", test_path("out"));
    const char *cfg = long_config();
    pid_t pid = start_sweep(cfg, dir);
    wait_lines(dir, 4);
    kill_9(pid);
    int lines = wait_lines(dir, 0);
    cr_assert(lines >= 4 && lines < LONG_RUNS + 1, "%d journal lines at the kill", lines);
    char args[2048];
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1 --resume", cfg, dir);
    cr_assert_eq(sweep(args), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, LONG_RUNS);
    cr_assert_eq(j.garbled, 0);
}

Test(sweep_cli, ctrl_c_says_how_to_resume) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", test_path("out"));
    const char *cfg = long_config(), *err_path = test_path("interrupted.txt");
    pid_t pid = start_sweep_to(cfg, dir, err_path);
    wait_lines(dir, 3);
    kill(pid, SIGINT);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == MUP_EXIT_INTERRUPTED, "status %#x", st);
    char *err = slurp(err_path), want[1600];
    snprintf(want, sizeof want, "mup-sweep: interrupted; finished runs are kept in %s/journal.jsonl. To resume, run "
             "the same command again, or: mup-sweep %s --out %s --resume\n", dir, cfg, dir);
    cr_assert(strstr(err, want), "%s", err);
    free(err);
}

static bool worked(const journal *j, pid_t pid) {
    char tag[32];
    snprintf(tag, sizeof tag, ":%ld", (long)pid);
    for (int k = 0; k < j->n; k++)
        if (strstr(j->r[k].worker, tag))
            return true;
    return false;
}

Test(sweep_cli, two_sweeps_share_a_directory_and_one_takes_over_when_the_other_is_killed) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", test_path("out"));
    const char *cfg = long_config();
    pid_t a = start_sweep(cfg, dir);
    wait_lines(dir, 3);
    pid_t b = start_sweep(cfg, dir);
    /* a holds a claim on the run it is training when it dies: b must take that run over */
    int lines = wait_lines(dir, 8);
    kill_9(a);
    cr_assert_lt(lines, LONG_RUNS + 1, "the sweep ended before the kill");
    int st;
    waitpid(b, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the second sweep failed");
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, LONG_RUNS);
    cr_assert(worked(&j, a) && worked(&j, b), "both sweeps trained runs");
}

Test(sweep_cli, a_truncated_last_line_is_skipped_with_a_warning_and_redone) {
    char dir[512], args[2048], path[600];
    tiny_once(dir, args);
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size - 40), 0);
    journal before;
    read_journal(dir, &before);
    cr_assert_eq(before.n, TINY_RUNS - 1);
    char *err;
    cr_assert_eq(run("", args, &err), 0, "%s", err);
    cr_assert(strstr(err, "cut short"), "no warning about the cut line: %s", err);
    free(err);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS);
    cr_assert_eq(j.garbled, 1);
}

Test(sweep_cli, a_changed_config_is_refused_without_force_and_keeps_unchanged_runs_with_it) {
    char dir[512], args[2048];
    tiny_once(dir, args);
    /* one trial more: the random sampler's first three trials, and their runs, stay the same */
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1", config("more.json", "search.trials", "4"), dir);
    assert_refused(args, "--force");
    strcat(args, " --force");
    cr_assert_eq(sweep(args), 0);
    journal j;
    read_journal(dir, &j);
    cr_assert_eq(j.headers, 2);
    for (int k = 0; k < j.n; k++)
        cr_assert(j.r[k].count == 1 || strncmp(j.r[k].id, "target", 6) == 0, "run %s was done %d times",
                  j.r[k].id, j.r[k].count);
    cr_assert(find(&j, "w16-t003-s1"));
}

/* ---- workers ---- */

static void tiny_sweep(const char *prefix, const char *name, const char *extra, journal *j) {
    char args[2048], dir[600], *err;
    snprintf(dir, sizeof dir, "%s", test_path(name));
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1 %s", config("tiny.json", NULL, NULL), dir, extra);
    int rc = run(prefix, args, &err);
    cr_assert_eq(rc, 0, "%s mup-sweep %s: exit %d\n%s", prefix, args, rc, err);
    free(err);
    read_journal(dir, j);
    assert_each_once(j, TINY_RUNS);
}

Test(sweep_cli, two_forked_workers_give_the_results_of_one) {
    journal one, two;
    tiny_sweep("", "one", "", &one);
    tiny_sweep("", "two", "--jobs 2", &two);
    assert_same_objectives(&one, &two, 0.0);
}

Test(sweep_cli, two_mpi_ranks_give_the_results_of_one) {
    if (system("command -v mpirun > /dev/null") != 0)
        cr_skip("mpirun is not installed");
    char *out;
    run("", "--help", NULL);
    out = slurp(test_path("stdout.txt"));
    bool mpi = strstr(out, "MPI: built in") != NULL;
    free(out);
    if (!mpi)
        cr_skip("mup-sweep is built without MPI");
    journal one, two;
    tiny_sweep("", "one", "", &one);
    /* Open MPI's own allocations outlive MPI_Finalize: no leak report for them */
    tiny_sweep("ASAN_OPTIONS=detect_leaks=0 mpirun -n 2 --oversubscribe --allow-run-as-root", "two", "",
               &two);
    /* a proxy run is one rank's, the same bits; the target is trained by both ranks together, whose
     * gradient sums group the rows otherwise (docs/distributed.md) */
    assert_same_objectives(&one, &two, 1e-5);
    for (int k = 0; k < two.n; k++)
        cr_assert(strstr(two.r[k].worker, " rank "), "run %s by %s", two.r[k].id, two.r[k].worker);
}

/* ---- the machine: a full disk, an unwritable directory, too little memory; the NaN detector ---- */

/* Runs `mup-sweep args` as run() does, in a child process whose files may not grow past bytes (RLIMIT_FSIZE,
 * what `ulimit -f` sets): a write past it fails with EFBIG as one on a full disk fails with ENOSPC. */
static int run_limited(rlim_t bytes, const char *args, char **err) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct rlimit rl = {bytes, bytes};
        _exit(setrlimit(RLIMIT_FSIZE, &rl) == 0 ? run("", args, NULL) : 99);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    *err = slurp(test_path("stderr.txt"));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static long file_size(const char *dir, const char *name) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

Test(sweep_cli, a_full_disk_stops_the_sweep_naming_the_file_and_a_resume_runs_every_run_once) {
    /* a whole sweep first, to know the sizes: the limit cuts the journal in its fifth line */
    char dir[512], args[2048], *err;
    tiny_once(dir, args);
    char *text = slurp(test_path("out/journal.jsonl"));
    long cut = 0;
    for (int line = 0; line < 4; line++)
        cut = strchr(text + cut, '\n') - text + 1;
    cut += (strchr(text + cut, '\n') - (text + cut)) / 2;
    long whole = (long)strlen(text);
    free(text);
    snprintf(dir, sizeof dir, "%s", test_path("full"));
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1", config("tiny.json", NULL, NULL), dir);
    cr_assert_eq(run_limited((rlim_t)cut, args, &err), MUP_EXIT_ENVIRONMENT, "%s", err);
    cr_assert(strstr(err, "journal.jsonl: File too large"), "the file and the reason are not named: %s", err);
    free(err);
    journal j;
    read_journal(dir, &j);
    cr_assert_eq(j.n, 3, "the records before the limit are kept");
    cr_assert_eq(file_size(dir, "journal.jsonl"), cut, "the fourth record is written up to the limit");
    cr_assert_eq(run("", args, &err), 0, "%s", err);
    cr_assert(strstr(err, "cut short"), "%s", err);
    free(err);
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS);
    cr_assert_eq(j.garbled, 1);

    /* room for the journal, not for the target's checkpoint or results.h5: every run is journaled, the
     * target as failed by its environment, and both files are named */
    snprintf(dir, sizeof dir, "%s", test_path("report"));
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1", config("tiny.json", NULL, NULL), dir);
    cr_assert_eq(run_limited((rlim_t)whole + 4096, args, &err), MUP_EXIT_ENVIRONMENT, "%s", err);
    cr_assert(strstr(err, "results.h5") && strstr(err, "File too large"), "%s", err);
    cr_assert(strstr(err, "target-w48-s0/checkpoint.h5"), "the checkpoint is not named: %s", err);
    free(err);
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS);
    cr_assert_eq(j.garbled, 0);
    cr_assert_str_eq(find(&j, "target-w48-s0")->status, "failed");
    cr_assert_eq(file_size(dir, "runs/target-w48-s0/checkpoint.h5"), -1);
    /* with room again the target trains again (an environment's failure is retried) and keeps its model */
    cr_assert_eq(sweep(args), 0);
    read_journal(dir, &j);
    cr_assert_eq(find(&j, "target-w48-s0")->count, 2, "the failed target is not trained again");
    cJSON *sum = summary(dir);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "target"), "status")->valuestring, "complete");
    cJSON_Delete(sum);
    cr_assert_gt(file_size(dir, "runs/target-w48-s0/checkpoint.h5"), 0);
    cr_assert_gt(file_size(dir, "results.h5"), whole + 4096);
}

/* Runs `mup-sweep args` as a user who does not own the test's files: as root, the user nobody (mode bits
 * do not stop root); otherwise this user. 77 when nobody cannot run the binary (a checkout under /root). */
static int run_unprivileged(const char *args, char **err) {
    unlink(test_path("stdout.txt"));
    unlink(test_path("stderr.txt"));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (chmod(test_tmpdir(), 0777) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
            _exit(99);
        _exit(access(bin(), X_OK) == 0 ? run("", args, NULL) : 77);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    *err = slurp(test_path("stderr.txt"));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(sweep_cli, an_output_directory_that_takes_no_new_file_is_refused_before_training) {
    /* a sweep's journal (its header alone: every run to do) and lock stay writable, the directory does
     * not: without the check, the sweep would train every run and then fail on summary.json */
    char dir[512], args[2048], *err;
    tiny_once(dir, args);
    char *text = slurp(test_path("out/journal.jsonl"));
    long header = strchr(text, '\n') - text + 1;
    free(text);
    char journal_path[600], lock_path[600];
    snprintf(journal_path, sizeof journal_path, "%s/journal.jsonl", dir);
    snprintf(lock_path, sizeof lock_path, "%s/journal.lock", dir);
    cr_assert_eq(truncate(journal_path, header), 0);
    if (geteuid() == 0)
        cr_assert(chown(journal_path, 65534, 65534) == 0 && chown(lock_path, 65534, 65534) == 0);
    cr_assert_eq(chmod(dir, 0555), 0);
    int rc = run_unprivileged(args, &err);
    chmod(dir, 0755);
    if (rc == 77)
        cr_skip("the user nobody cannot run %s", bin());
    cr_assert_eq(rc, MUP_EXIT_ENVIRONMENT, "%s", err);
    cr_assert(strstr(err, "cannot write to the output directory") && strstr(err, "Permission denied"), "%s", err);
    const char *line = err + strlen(LOADING);
    cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "more than one line: %s", err);
    free(err);
    cr_assert_eq(file_size(dir, "journal.jsonl"), header, "nothing was trained");
}

Test(sweep_cli, a_target_too_big_for_the_machine_fails_at_once_naming_the_bytes) {
    unsetenv("MUP_MAX_MEMORY"); /* the cap is the machine's memory */
    char dir[512], args[2048];
    snprintf(dir, sizeof dir, "%s", test_path("out"));
    snprintf(args, sizeof args, "'%s' --out '%s' --threads 1", config("big.json", "target.width", "3000000"), dir);
    cr_assert_eq(sweep(args), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, TINY_RUNS);
    cr_assert_str_eq(find(&j, "target-w3000000-s0")->status, "failed");
    char *text = slurp(test_path("out/journal.jsonl"));
    cr_assert(strstr(text, "width 3000000 needs about") && strstr(text, " bytes: parameters") &&
                  strstr(text, "memory of this machine"), "the failure does not name the bytes");
    free(text);
}

Test(sweep_cli, check_finite_names_the_op_and_layer_where_a_run_diverged) {
    const char *cfg = config("nan.json", "search.space", "{'lr': {'dist': 'log2uniform', 'low': 99, 'high': 100}}");
    edit(cfg, "train.optimizer", "'sgd'");
    char args[2048];
    for (int check = 0; check < 2; check++) {
        const char *dir = test_path(check ? "checked" : "plain");
        snprintf(args, sizeof args, "'%s' --out '%s' --threads 1%s", cfg, dir, check ? " --check-finite" : "");
        cr_assert_eq(sweep(args), 0);
        char path[600];
        snprintf(path, sizeof path, "%s/journal.jsonl", dir);
        char *text = slurp(path);
        bool named = strstr(text, "forward of op affine after layer fc1.act") != NULL;
        cr_assert_eq(named, check, "the op and layer are named %s --check-finite", check ? "without" : "with");
        free(text);
    }
}

/* Hostile text in the plots (docs/reliability.md, "Hostile input"): names that try to break out of a
 * gnuplot string (quotes, backquotes, system(), newlines, macros) and output directories that begin
 * with '-' draw their plots and run nothing. Every injected command would create a file named PWNED
 * in gnuplot's directory; the tests look for it there, in the test's directory and in $HOME. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coord_plot.h"
#include "testing.h"
#include <cjson/cJSON.h>

/* Names no longer than a config's name (127 bytes), each trying another way out. */
static const char *const HOSTILE[] = {
    "a' . system('touch PWNED') . '\" . system(\"touch PWNED\") . \" `touch PWNED` ''",
    "b\nsystem(\"touch PWNED\")\n-P `touch PWNED` @x ^{}_ \r\\",
    "--help ' ; `touch PWNED`; print \"x",
};
#define N_HOSTILE (int)(sizeof HOSTILE / sizeof *HOSTILE)

static bool exists(const char *dir, const char *name) {
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static bool have_gnuplot(void) {
    const char *path = getenv("PATH");
    char buf[4096], file[4200];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        snprintf(file, sizeof file, "%s/gnuplot", dir);
        if (access(file, X_OK) == 0)
            return true;
    }
    return false;
}

/* The test's own directory as the working directory, with $HOME inside it: what an `--out -P` that
 * became `cd -P` would reach. */
static void enter_tmpdir(void) {
    cr_assert_eq(chdir(test_tmpdir()), 0);
    mkdir("home", 0755);
    setenv("HOME", test_path("home"), 1);
}

static void assert_nothing_ran(const char *out) {
    cr_assert(!exists(out, "PWNED"), "a command injected through a name ran in %s", out);
    cr_assert(!exists(".", "PWNED"), "a command injected through a name ran in the working directory");
    cr_assert(!exists("home", "PWNED") && !exists("home", "lr_transfer.png") && !exists("home", "coord.png"),
              "gnuplot ran in $HOME");
}

/* mup-sweep with args (after the program), no shell between; its output appended to sweep.out. */
static int sweep(const char *const *args) {
    const char *argv[16] = {getenv("MUP_SWEEP_BIN")};
    cr_assert(argv[0] && *argv[0], "MUP_SWEEP_BIN is not set (run through meson test)");
    for (int n = 1; args[n - 1]; n++)
        argv[n] = args[n - 1];
    return test_wait(test_spawn(argv, "sweep.out"));
}

/* A tiny sweep (2 trials at widths 16 and 32, 20 steps) named name, written to file. */
static void write_config(const char *file, const char *name) {
    char *text = test_json_quotes(
        "{'name': 'x', 'model': {'arch': 'mlp', 'depth': 2},"
        " 'data': {'dataset': 'synthetic', 'train_size': 500, 'val_size': 100, 'synthetic_dim': 8},"
        " 'mup': {'base_width': 16, 'delta_width': 32},"
        " 'train': {'optimizer': 'adam', 'steps': 20, 'batch_size': 32, 'eval_every': 10, 'eval_batches': 1},"
        " 'search': {'sampler': 'random', 'trials': 2, 'seeds': 1, 'seed': 1,"
        "   'space': {'lr': {'dist': 'log2uniform', 'low': -10, 'high': -4},"
        "             'train.optimizer': {'dist': 'choice', 'values': ['adam', 'sgd']}}},"
        " 'proxy_widths': [16, 32]}");
    cJSON *c = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(c);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "name", cJSON_CreateString(name));
    char *json = cJSON_Print(c);
    cJSON_Delete(c);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    cJSON_free(json);
}

static void assert_plots(const char *out, const char *const *pngs) {
    for (int i = 0; pngs[i]; i++) {
        char gp[64];
        snprintf(gp, sizeof gp, "%.*s.gp", (int)(strlen(pngs[i]) - 4), pngs[i]);
        cr_assert(exists(out, gp), "%s/%s is missing", out, gp);
        if (have_gnuplot())
            cr_assert(exists(out, pngs[i]), "%s/%s was not drawn", out, pngs[i]);
    }
    char log[1024];
    snprintf(log, sizeof log, "%s/gnuplot.log", out);
    cr_assert(!exists(out, "gnuplot.log"), "gnuplot complained: %s", test_read_file(log, NULL));
}

Test(plot_hostile, the_sweep_report_runs_nothing_from_its_names) {
    enter_tmpdir();
    static const char *const pngs[] = {"lr_transfer.png", "history.png", NULL};
    for (int i = 0; i < N_HOSTILE; i++) {
        char out[32];
        snprintf(out, sizeof out, "-P%d", i); /* an --out that once became `cd -P`, i.e. $HOME */
        write_config("hostile.json", HOSTILE[i]);
        cr_assert_eq(sweep((const char *[]){"hostile.json", "--out", out, "--threads", "1", NULL}), 0,
                     "%s", test_read_file("sweep.out", NULL));
        assert_plots(out, pngs);
        assert_nothing_ran(out);
    }
}

/* A journal is an input of its own: --report-only draws from whatever DIR holds, here records whose
 * strings are hostile too. */
Test(plot_hostile, a_report_drawn_from_a_hostile_journal_runs_nothing) {
    enter_tmpdir();
    static const char *const pngs[] = {"lr_transfer.png", "history.png", NULL};
    write_config("hostile.json", HOSTILE[0]);
    cr_assert_eq(sweep((const char *[]){"hostile.json", "--out", "-out", "--threads", "1", NULL}), 0);
    FILE *j = fopen("-out/journal.jsonl", "a");
    cr_assert_not_null(j);
    fprintf(j, "{\"type\":\"run\",\"id\":\"w16-t000-s0' `touch PWNED`\",\"phase\":\"proxy\",\"status\":\"failed\","
               "\"message\":\"\\\" . system(\\\"touch PWNED\\\") . \\\"\",\"worker\":\"'\\n`touch PWNED`\","
               "\"width\":16,\"trial\":0,\"seed_index\":0,\"seed\":1,\"spec\":{},"
               "\"params\":{\"train.lr\":\"`touch PWNED`\",\"train.optimizer\":\"' . system('touch PWNED') . '\"}}\n");
    fclose(j);
    unlink("-out/lr_transfer.png");
    unlink("-out/history.png");
    for (int i = 0; i < N_HOSTILE; i++) {
        write_config("hostile.json", HOSTILE[i]);
        cr_assert_eq(sweep((const char *[]){"hostile.json", "--out", "-out", "--report-only", "--force", NULL}), 0,
                     "%s", test_read_file("sweep.out", NULL));
        assert_plots("-out", pngs);
        assert_nothing_ran("-out");
    }
}

/* mup-coord's plot, drawn straight from a result whose layers and title are hostile. */
Test(plot_hostile, the_coord_plot_runs_nothing_from_its_names) {
    enter_tmpdir();
    int widths[2] = {64, 256};
    uint64_t seeds[1] = {1};
    mup_coord_layer layers[N_HOSTILE];
    mup_coord_stat stats[2 * N_HOSTILE];
    for (int l = 0; l < N_HOSTILE; l++) {
        snprintf(layers[l].name, sizeof layers[l].name, "%s", HOSTILE[l]);
        layers[l].init_shrink = false;
        for (int w = 0; w < 2; w++)
            stats[w * N_HOSTILE + l] = (mup_coord_stat){.l1 = 1.0 + l + w, .rms = 1.0, .std = 1.0};
    }
    mup_coord_result r = {.parametrization = MUP_PARAMETRIZATION_MUP, .n_widths = 2, .n_seeds = 1, .steps = 1,
                          .n_layers = N_HOSTILE, .widths = widths, .seeds = seeds, .layers = layers, .stats = stats};
    mup_coord_judge(&r, 0.0, 0.0); /* the plot draws each layer by its verdict */
    const mup_coord_result *runs[1] = {&r};
    static const char *const pngs[] = {"coord.png", NULL};
    for (int i = 0; i < N_HOSTILE; i++) {
        char out[32];
        snprintf(out, sizeof out, "-P%d", i);
        cr_assert_eq(mkdir(out, 0755), 0);
        mup_status s = mup_coord_plot(out, runs, 1, HOSTILE[i]);
        cr_assert(s == MUP_OK || !have_gnuplot(), "%s", mup_error_message());
        assert_plots(out, pngs);
        assert_nothing_ran(out);
    }
    free(r.verdict);
}

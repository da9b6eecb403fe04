/* mup-sweep against its environment (docs/reliability.md, "Hostile input", classes 5 and 6): errors that
 * no run caused stop the sweep before it starts with one line; a run that failed because of its
 * environment runs again on the next sweep; a deleted --out stops the sweep with one line; a sweep of
 * another config cannot --force its way into a directory while a sweep runs there. Through the built
 * binary ($MUP_SWEEP_BIN), without a shell. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "testing.h"

/* 3 trials at widths 16 and 32, a target at 48: 7 runs; steps 20 (fast) or 20000 (about a second a run). */
static const char *CONFIG =
    "{'name': 'env', 'model': {'arch': 'mlp', 'depth': 2},"
    " 'data': {'dataset': 'synthetic', 'train_size': 1000, 'val_size': 200, 'synthetic_dim': 12},"
    " 'mup': {'base_width': 16, 'delta_width': 32},"
    " 'train': {'optimizer': 'adam', 'steps': %d, 'batch_size': 32, 'eval_every': %d, 'eval_batches': 2},"
    " 'search': {'sampler': 'random', 'trials': 3, 'seeds': 1, 'seed': %d,"
    "   'space': {'lr': {'dist': 'log2uniform', 'low': -10, 'high': -4}}},"
    " 'proxy_widths': [16, 32], 'target': {'width': 48, 'seeds': 1}}";

static void write_config(const char *file, int steps, int seed) {
    char text[2048];
    snprintf(text, sizeof text, CONFIG, steps, steps / 2, seed);
    char *json = test_json_quotes(text);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    free(json);
}

/* mup-sweep config --out out --threads 1 [extra [value]], its output in log (emptied first). */
static int start(const char *config, const char *out, const char *extra, const char *value, const char *log) {
    const char *argv[] = {getenv("MUP_SWEEP_BIN"), config, "--out", out, "--threads", "1", extra, value, NULL};
    cr_assert(argv[0] && *argv[0], "MUP_SWEEP_BIN is not set (run through meson test)");
    unlink(log);
    return test_spawn(argv, log);
}

static int lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++)
        n++;
    return n;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Waits up to 60 s for the file to hold at least n lines. */
static void wait_for_lines(const char *path, int n, int pid) {
    for (int k = 0; k < 6000; k++) {
        if (exists(path)) {
            char *text = test_read_file(path, NULL);
            int got = lines(text);
            free(text);
            if (got >= n)
                return;
        }
        cr_assert_eq(kill(pid, 0), 0, "the sweep ended early");
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    }
    cr_assert_fail("%s never reached %d lines", path, n);
}

Test(sweep_env, a_bad_memory_cap_stops_the_sweep_before_it_starts_with_one_line) {
    cr_assert_eq(chdir(test_tmpdir()), 0);
    write_config("fast.json", 20, 1);
    static const char *const caps[] = {"8G ", "abc", "1", "1K"};
    static const char *const says[] = {"MUP_MAX_MEMORY=\"8G \"", "MUP_MAX_MEMORY=\"abc\"", "no proxy run fits",
                                       "no proxy run fits"};
    /* a value that is not a size is a bad setting (2); a size that nothing fits under, the machine (3) */
    static const int codes[] = {MUP_EXIT_USAGE, MUP_EXIT_USAGE, MUP_EXIT_ENVIRONMENT, MUP_EXIT_ENVIRONMENT};
    for (int k = 0; k < 4; k++) {
        setenv("MUP_MAX_MEMORY", caps[k], 1);
        cr_assert_eq(test_wait(start("fast.json", "out", NULL, NULL, "log")), codes[k], "MUP_MAX_MEMORY=%s", caps[k]);
        char *log = test_read_file("log", NULL);
        cr_assert(strstr(log, says[k]) && lines(log) == 1, "MUP_MAX_MEMORY=%s: one line naming it: %s", caps[k], log);
        free(log);
        cr_assert(!exists("out/journal.jsonl"), "no run was journaled");
    }
}

Test(sweep_env, a_run_that_failed_on_its_environment_runs_again) {
    cr_assert_eq(chdir(test_tmpdir()), 0);
    write_config("fast.json", 20, 1);
    /* the cap admits width 16 (1 442 784 bytes) and refuses 32 (about 1 460 000) */
    setenv("MUP_MAX_MEMORY", "1450000", 1);
    cr_assert_eq(test_wait(start("fast.json", "out", NULL, NULL, "log")), 0, "%s", test_read_file("log", NULL));
    char *journal = test_read_file("out/journal.jsonl", NULL);
    cr_assert_eq(lines(journal), 1 + 6, "the header and the proxies: %s", journal);
    cr_assert_eq(count(journal, "\"status\":\"failed\",\"cause\":\"environment\""), 3, "the three runs at width 32 failed because of their environment: %s", journal);
    free(journal);
    unsetenv("MUP_MAX_MEMORY");
    cr_assert_eq(test_wait(start("fast.json", "out", NULL, NULL, "log")), 0, "%s", test_read_file("log", NULL));
    char *log = test_read_file("log", NULL);
    cr_assert(strstr(log, "3 runs failed because of their environment") && strstr(log, "7 complete"), "%s", log);
    free(log);
}

/* --out moved away (as good as deleted: its path is gone) once a run is journaled. */
static void deleted_out(const char *jobs) {
    cr_assert_eq(chdir(test_tmpdir()), 0);
    write_config("slow.json", 20000, 1);
    int pid = start("slow.json", "out", jobs ? "--jobs" : NULL, jobs, "log");
    wait_for_lines("out/journal.jsonl", 2, pid); /* the header and one run */
    cr_assert_eq(rename("out", "moved"), 0);
    time_t t0 = time(NULL);
    cr_assert_eq(test_wait(pid), MUP_EXIT_ENVIRONMENT);
    char *log = test_read_file("log", NULL);
    cr_assert(count(log, "out/journal.jsonl is gone") == 1 && count(log, "error") == 0 &&
                  count(log, "mup-sweep: worker ") == 0,
              "one line says so, and nothing about the workers: %s", log);
    cr_assert_lt(time(NULL) - t0, 30, "the sweep trained on");
    char *moved = test_read_file("moved/journal.jsonl", NULL);
    cr_assert_lt(lines(moved), 1 + 7, "not every run was trained: %s", moved);
    free(moved);
    free(log);
}

Test(sweep_env, a_deleted_out_stops_the_sweep_with_one_line, .timeout = 120) { deleted_out(NULL); }

Test(sweep_env, a_deleted_out_stops_forked_workers_with_one_line, .timeout = 120) { deleted_out("2"); }

Test(sweep_env, a_sweep_of_another_config_cannot_force_its_way_in, .timeout = 120) {
    cr_assert_eq(chdir(test_tmpdir()), 0);
    write_config("a.json", 20000, 1);
    write_config("b.json", 20, 2);
    int a = start("a.json", "out", NULL, NULL, "a.log");
    wait_for_lines("out/journal.jsonl", 1, a);
    cr_assert_eq(test_wait(start("b.json", "out", "--force", NULL, "b.log")), MUP_EXIT_USAGE);
    char *log = test_read_file("b.log", NULL);
    cr_assert(strstr(log, "in use by a running sweep of another config") && lines(log) == 3,
              "the data loading, the warning that the config changed, then one line refusing: %s", log);
    free(log);
    cr_assert_eq(test_wait(a), 0, "%s", test_read_file("a.log", NULL));
    log = test_read_file("a.log", NULL);
    cr_assert(strstr(log, "7 complete"), "the first sweep ended untouched: %s", log);
    free(log);
    /* once the first has ended, --force takes the directory over */
    cr_assert_eq(test_wait(start("b.json", "out", "--force", NULL, "b.log")), 0, "%s", test_read_file("b.log", NULL));
}

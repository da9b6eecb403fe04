/* mup-sweep on programs of the user's own, end to end through the built binary ($MUP_SWEEP_BIN):
 * tests/programs/bowl.py (Python's standard library only: a noisy bowl in log2 lr whose optimum is 2^-6
 * at every width, and misbehaviours chosen by BOWL_MODE) and the C example examples/custom_model.c
 * ($MUP_CUSTOM_MODEL), which speaks the protocol through libmup's trial API. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testing.h"

extern char **environ;

static const char *env(const char *name) {
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set (run through meson test)", name);
    return v;
}

/* The file, or "" while it does not exist. */
static char *slurp(const char *path) { return access(path, F_OK) == 0 ? test_read_file(path, NULL) : strdup(""); }

/* Writes a config file; its path is good for the next seven test_path calls. */
static const char *config_text(const char *name, const char *text) {
    const char *file = test_path(name);
    FILE *f = fopen(file, "w");
    fputs(text, f);
    fclose(f);
    return file;
}

/* A bowl sweep: by default lr on 3 grid points 2^-10, 2^-6, 2^-2 at widths 16 and 32, then width 64
 * (7 runs). mode is BOWL_MODE; extra is more JSON members of the program section, space the
 * search.space, widths the proxy widths, target the target's width (0: none). */
static const char *bowl_sweep(const char *name, const char *mode, const char *extra, const char *space,
                              const char *widths, int target) {
    char text[4096], tail[64] = "";
    if (target)
        snprintf(tail, sizeof tail, ", \"target\": {\"width\": %d}", target);
    snprintf(text, sizeof text,
            "{\"name\": \"bowl\", \"objective\": \"loss\",\n"
            " \"program\": {\"command\": [\"%s/tests/programs/bowl.py\", \"--lr={lr}\"],"
            " \"env\": {\"BOWL_MODE\": \"%s\"}%s%s},\n"
            " \"mup\": {\"base_width\": 16, \"delta_width\": 32},\n"
            " \"search\": {\"sampler\": \"grid\", \"space\": {%s}},\n"
            " \"proxy_widths\": %s%s}\n",
            env("MUP_SOURCE_DIR"), mode, *extra ? ", " : "", extra,
            space ? space : "\"lr\": {\"dist\": \"log2uniform\", \"low\": -10, \"high\": -2, \"grid\": 3}", widths,
            tail);
    return config_text(name, text);
}

static const char *bowl_config(const char *name, const char *mode, const char *extra, const char *space,
                               bool target) {
    return bowl_sweep(name, mode, extra, space, "[16, 32]", target ? 64 : 0);
}

#define BOWL_RUNS 7

/* Runs `mup-sweep cfg --out dir extra`; the exit status, and its stderr in *err when err is given. */
static int sweep(const char *prefix, const char *cfg, const char *dir, const char *extra, char **err) {
    char cmd[4096];
    const char *err_path = test_path("stderr.txt");
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' --out '%s' --threads 1 %s > '%s' 2> '%s'", prefix, env("MUP_SWEEP_BIN"),
             cfg, dir, extra, test_path("stdout.txt"), err_path);
    int st = system(cmd);
    char *text = slurp(err_path);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (err)
        *err = text;
    else {
        if (rc != 0)
            fprintf(stderr, "%s: exit %d\n%s\n", cmd, rc, text);
        free(text);
    }
    return rc;
}

/* The journal's run records by id, each with how often it appears. */
typedef struct {
    cJSON *rec[64];
    int count[64];
    int n;
} journal;

/* text (freed) parsed; what names it when it does not parse. */
static cJSON *parsed(char *text, const char *what) {
    cJSON *o = cJSON_Parse(text);
    free(text);
    cr_assert(o, "%s does not parse", what);
    return o;
}

/* The journal read as one JSON list (its lines joined by commas): these sweeps tear no line. */
static void read_journal(const char *dir, journal *j) {
    memset(j, 0, sizeof *j);
    char path[700];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    char *text = slurp(path);
    size_t n = strlen(text);
    char *list = malloc(n + 3);
    list[0] = '[';
    for (size_t i = 0; i < n; i++)
        list[i + 1] = text[i] == '\n' && i + 1 < n ? ',' : text[i];
    snprintf(list + n + 1, 2, "]");
    free(text);
    cJSON *all = parsed(list, path);
    for (cJSON *o = all->child; o; o = o->next) {
        if (strcmp(cJSON_GetObjectItem(o, "type")->valuestring, "run") != 0)
            continue;
        const char *id = cJSON_GetObjectItem(o, "id")->valuestring;
        int k = 0;
        while (k < j->n && strcmp(cJSON_GetObjectItem(j->rec[k], "id")->valuestring, id) != 0)
            k++;
        cr_assert_lt(k, 64);
        if (k == j->n)
            j->rec[j->n++] = cJSON_Duplicate(o, true);
        j->count[k]++;
    }
    cJSON_Delete(all);
}

static void journal_free(journal *j) {
    for (int k = 0; k < j->n; k++)
        cJSON_Delete(j->rec[k]);
}

static const cJSON *record(const journal *j, const char *id) {
    for (int k = 0; k < j->n; k++)
        if (strcmp(cJSON_GetObjectItem(j->rec[k], "id")->valuestring, id) == 0)
            return j->rec[k];
    cr_assert_fail("run %s is not in the journal", id);
    return NULL;
}

static const char *str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItem(o, name);
    cr_assert(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

static void assert_each_once(const journal *j, int runs) {
    cr_assert_eq(j->n, runs, "%d runs journaled, want %d", j->n, runs);
    for (int k = 0; k < j->n; k++)
        cr_assert_eq(j->count[k], 1, "run %s journaled %d times", str(j->rec[k], "id"), j->count[k]);
}

/* Both sweeps journaled each run once with the same objective. */
static void assert_same_runs(const char *one, const char *two, int runs) {
    journal a, b;
    read_journal(one, &a);
    read_journal(two, &b);
    assert_each_once(&b, runs);
    for (int k = 0; k < a.n; k++) {
        const cJSON *ra = a.rec[k], *rb = record(&b, str(ra, "id"));
        cr_assert_eq(cJSON_GetObjectItem(ra, "objective")->valuedouble,
                     cJSON_GetObjectItem(rb, "objective")->valuedouble, "run %s", str(ra, "id"));
    }
    journal_free(&a);
    journal_free(&b);
}

static cJSON *summary(const char *dir) {
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    return parsed(slurp(path), path);
}

Test(program, a_python_trainer_is_swept_and_transferred_and_its_target_kept) {
    const char *dir = test_path("bowl");
    const char *cfg = bowl_config("bowl.json", "", "\"timeout\": 60",
                                  "\"lr\": {\"dist\": \"log2uniform\", \"low\": -10, \"high\": -2, \"grid\": 3},"
                                  " \"typo_key\": {\"dist\": \"choice\", \"values\": [\"a\"]}",
                                  true);
    cr_assert_eq(sweep("", cfg, dir, "", NULL), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, BOWL_RUNS);
    for (int k = 0; k < j.n; k++) {
        cr_assert_str_eq(str(j.rec[k], "status"), "complete", "%s: %s", str(j.rec[k], "id"),
                         str(j.rec[k], "message"));
        /* bowl.py never asks for typo_key: every record says so */
        const cJSON *unread = cJSON_GetObjectItem(j.rec[k], "unread");
        cr_assert(cJSON_GetArraySize(unread) == 1 && strcmp(unread->child->valuestring, "typo_key") == 0);
    }
    /* the argument substitution gave bowl.py the same lr as its trial (it exits 3 otherwise) */
    cJSON *s = summary(dir);
    const cJSON *best = cJSON_GetObjectItem(s, "best");
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(best, "params"), "lr")->valuedouble, 0x1p-6);
    const cJSON *per_width = cJSON_GetObjectItem(s, "per_width");
    for (const cJSON *w = per_width->child; w; w = w->next)
        cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(w, "best_params"), "lr")->valuedouble, 0x1p-6,
                     "the optimum moved at width %d", cJSON_GetObjectItem(w, "width")->valueint);
    const cJSON *target = cJSON_GetObjectItem(s, "target");
    cr_assert_str_eq(str(target, "status"), "complete");
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(target, "checkpoints"), 0)->valuestring,
                     "runs/target-w64-s0/checkpoint");
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(target, "params"), "lr")->valuedouble, 0x1p-6);
    cJSON_Delete(s);
    /* the target's checkpoint is where its trial said, and proxies got none */
    char path[800];
    snprintf(path, sizeof path, "%s/runs/target-w64-s0/checkpoint", dir);
    char *ckpt = slurp(path);
    cr_assert_str_eq(ckpt, "weights of width 64\n");
    free(ckpt);
    snprintf(path, sizeof path, "%s/runs/w16-t000-s0/trial.json", dir);
    char *trial = slurp(path);
    cr_assert(strstr(trial, "\"checkpoint\":null"), "%s", trial);
    free(trial);
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = slurp(path);
    cr_assert(strstr(report, "`typo_key`"), "the report does not flag the unread key:\n%s", report);
    cr_assert(strstr(report, "[runs/target-w64-s0/checkpoint](runs/target-w64-s0/checkpoint)"),
              "the report does not link the trained target:\n%s", report);
    free(report);
    journal_free(&j);
}

Test(program, warnings_name_an_edge_optimum_a_moving_optimum_and_a_narrow_target) {
    const char *dir = test_path("drift");
    /* a target narrower than the proxies */
    const char *cfg = bowl_sweep("drift.json", "drift", "",
                                 "\"lr\": {\"dist\": \"log2uniform\", \"low\": -10, \"high\": -2, \"grid\": 5}",
                                 "[16, 32]", 8);
    char *err;
    cr_assert_eq(sweep("", cfg, dir, "", &err), 0, "%s", err);
    char path[800];
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = slurp(path);
    const char *expect[] = {"the target (width 8) is narrower than the widest proxy (32)",
                            "lr = 0.25 is on the upper edge of its searched range",
                            "lr: width 16's optimum (0.015625) is 2.0 search steps from width 32's (0.25)"};
    for (int i = 0; i < 3; i++) {
        cr_assert(strstr(report, expect[i]), "report.md lacks \"%s\":\n%s", expect[i], report);
        cr_assert(strstr(err, expect[i]), "stderr lacks \"%s\":\n%s", expect[i], err);
    }
    free(report);
    free(err);
}

Test(program, two_forked_workers_give_the_results_of_one) {
    const char *cfg = bowl_config("bowl.json", "", "", NULL, false);
    const char *one = test_path("one"), *two = test_path("two");
    cr_assert_eq(sweep("", cfg, one, "", NULL), 0);
    cr_assert_eq(sweep("", cfg, two, "--jobs 2", NULL), 0);
    assert_same_runs(one, two, BOWL_RUNS - 1);
}

static int count_runs(const char *dir) {
    journal j;
    read_journal(dir, &j);
    int n = j.n;
    journal_free(&j);
    return n;
}

Test(program, kill_9_of_the_sweep_then_resume_runs_every_run_once) {
    const char *dir = test_path("killed");
    const char *cfg = bowl_config("slow.json", "slow", "", NULL, true);
    const char *argv[] = {env("MUP_SWEEP_BIN"), cfg, "--out", dir, "--threads", "1", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    for (int tries = 0; tries < 1200 && count_runs(dir) < 3; tries++)
        nanosleep(&(struct timespec){0, 50000000L}, NULL);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFSIGNALED(st), "the sweep ended before the kill");
    int before = count_runs(dir);
    cr_assert(before >= 3 && before < BOWL_RUNS, "%d runs at the kill", before);
    cr_assert_eq(sweep("", cfg, dir, "--resume", NULL), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, BOWL_RUNS);
    journal_free(&j);
}

/* One run (one lr point at width 16, no target) of bowl.py in mode; its record. */
static cJSON *one_run(const char *mode, const char *extra, char **err) {
    char name[64];
    snprintf(name, sizeof name, "%s.json", *mode ? mode : "plain");
    const char *cfg = bowl_sweep(name, mode, extra, "\"lr\": {\"dist\": \"choice\", \"values\": [0.015625]}", "[16]", 0);
    const char *dir = test_path(*mode ? mode : "plain");
    int rc = sweep("", cfg, dir, "", err);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err ? *err : "");
    journal j;
    read_journal(dir, &j);
    cr_assert_eq(j.n, 1);
    cJSON *rec = cJSON_Duplicate(j.rec[0], true);
    journal_free(&j);
    return rec;
}

static void assert_run(const cJSON *rec, const char *status, const char *needle) {
    cr_assert_str_eq(str(rec, "status"), status, "%s", str(rec, "message"));
    cr_assert(strstr(str(rec, "message"), needle), "\"%s\" not in: %s", needle, str(rec, "message"));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(rec, "objective")));
}

/* Grid 2^-10, 2^-7, 2^-4 at width 16 under asha (rungs at steps 1 and 3, eta 3). At step 1 the bowl's
 * losses are about 11, 3.5 and 5: trial 0 is alone at the rung, trial 1 the best of two, and trial 2 not
 * the best of three, so the sweep answers its should-stop question with true and the program stops. */
/* That sweep with BOWL_MODE mode; the record of trial 2, which the pruner stops at step 1. */
static void pruned_sweep(const char *mode, journal *j, const char **dir) {
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\": \"bowl\", \"objective\": \"loss\",\n"
             " \"program\": {\"command\": [\"%s/tests/programs/bowl.py\"], \"env\": {\"BOWL_MODE\": \"%s\"}},\n"
             " \"mup\": {\"base_width\": 16, \"delta_width\": 32},\n"
             " \"search\": {\"sampler\": \"grid\", \"space\": {\"lr\": {\"dist\": \"log2uniform\", \"low\": -10,"
             " \"high\": -4, \"grid\": 3}}, \"pruner\": {\"type\": \"asha\", \"min_resource\": 1}},\n"
             " \"proxy_widths\": [16]}\n", env("MUP_SOURCE_DIR"), mode);
    const char *cfg = config_text("pruned.json", text);
    *dir = test_path(*mode ? mode : "plain");
    cr_assert_eq(sweep("", cfg, *dir, "", NULL), 0);
    read_journal(*dir, j);
    cr_assert_str_eq(str(record(j, "w16-t000-s0"), "status"), "complete");
    cr_assert_str_eq(str(record(j, "w16-t001-s0"), "status"), "complete");
    const cJSON *pruned = record(j, "w16-t002-s0");
    cr_assert_str_eq(str(pruned, "status"), "pruned", "%s", str(pruned, "message"));
    cr_assert_str_eq(str(pruned, "message"), "pruned at step 1");
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(pruned, "objective")), "a pruned run keeps its last value");
}

Test(program, the_pruner_answers_should_stop_and_the_program_stops) {
    journal j;
    const char *dir;
    pruned_sweep("obey", &j, &dir);
    char path[700];
    snprintf(path, sizeof path, "%s/runs/w16-t002-s0/stopped", dir);
    char *stopped = slurp(path);
    cr_assert_str_eq(stopped, "1\n", "the program was not told to stop at step 1: \"%s\"", stopped);
    free(stopped);
    snprintf(path, sizeof path, "%s/runs/w16-t001-s0/stopped", dir);
    cr_assert_neq(access(path, F_OK), 0, "a run that goes on was told to stop");
    journal_free(&j);
}

Test(program, a_program_that_never_asks_is_ended_at_its_next_report) {
    journal j;
    const char *dir;
    pruned_sweep("deaf", &j, &dir);
    /* told to stop at step 1, it reports again 0.3 s later and is ended there: before its fifth and last */
    int done = cJSON_GetObjectItem(record(&j, "w16-t002-s0"), "steps_done")->valueint;
    cr_assert(done >= 2 && done < 5, "the run reported up to step %d: it was not ended at a report after the stop",
              done);
    journal_free(&j);
}

Test(program, a_crash_fails_the_run_with_the_end_of_its_stderr) {
    cJSON *rec = one_run("crash", "", NULL);
    assert_run(rec, "failed", "exit status 3; stderr: Traceback: something broke");
    cr_assert(strstr(str(rec, "stderr"), "Traceback: something broke"));
    cJSON_Delete(rec);
}

Test(program, a_hanging_program_and_its_children_end_at_the_timeout) {
    double t0 = (double)time(NULL);
    cJSON *rec = one_run("hang", "\"timeout\": 3", NULL);
    assert_run(rec, "failed", "timed out after 3 s");
    cr_assert_lt((double)time(NULL) - t0, 60);
    cJSON_Delete(rec);
}

/* Whether pid is a live process (a zombie is not). */
static bool alive(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    char *stat = slurp(path);
    const char *close_paren = strrchr(stat, ')');
    bool live = close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z';
    free(stat);
    return live;
}

Test(program, children_a_program_forks_end_with_it) {
    cJSON *rec = one_run("fork", "", NULL);
    cr_assert_str_eq(str(rec, "status"), "complete", "%s", str(rec, "message"));
    char path[800];
    snprintf(path, sizeof path, "%s/runs/w16-t000-s0/child.pid", test_path("fork"));
    char *text = slurp(path);
    pid_t child = (pid_t)atol(text);
    free(text);
    cr_assert_gt(child, 0, "bowl.py left no child pid");
    for (int tries = 0; tries < 100 && alive(child); tries++)
        nanosleep(&(struct timespec){0, 20000000L}, NULL);
    cr_assert_not(alive(child), "the program's child %ld outlived it", (long)child);
    cJSON_Delete(rec);
}

Test(program, garbage_on_the_channel_fails_the_run_quoting_the_line) {
    cJSON *rec = one_run("garbage", "", NULL);
    assert_run(rec, "failed", "bad report line 6 (not JSON): \"this is not json at all\"");
    cJSON_Delete(rec);
}

Test(program, a_final_report_without_the_objective_fails_the_run) {
    cJSON *rec = one_run("noobj", "", NULL);
    assert_run(rec, "failed", "no loss reported");
    cJSON_Delete(rec);
}

Test(program, a_non_finite_objective_is_a_diverged_run) {
    cJSON *rec = one_run("nan", "", NULL);
    cr_assert_str_eq(str(rec, "status"), "diverged", "%s", str(rec, "message"));
    cr_assert(strstr(str(rec, "message"), "loss is not finite at step 3"), "%s", str(rec, "message"));
    cJSON_Delete(rec);
}

static void assert_refused(const char *cfg, const char *dir, const char *needle) {
    char *err;
    int rc = sweep("", cfg, dir, "", &err);
    cr_assert_eq(rc, 2, "a config error exits 2 (the tools' table, mup-sweep --help): exit %d: %s", rc, err);
    cr_assert(strstr(err, needle), "\"%s\" not in: %s", needle, err);
    cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "more than one line: %s", err);
    cr_assert_neq(access(dir, F_OK), 0, "the refused sweep made %s", dir);
    free(err);
}


Test(program, a_missing_or_unusable_command_and_hostile_names_are_refused_before_any_run) {
    static const char *head = "{\"objective\": \"loss\", \"search\": {\"sampler\": \"grid\", \"space\": {%s}},"
                              " \"proxy_widths\": [16], \"program\": {\"command\": %s}}";
    static const char *lr = "\"lr\": {\"dist\": \"choice\", \"values\": [1]}";
    char text[2048];
    snprintf(text, sizeof text, head, lr, "[\"no-such-trainer-anywhere\"]");
    assert_refused(config_text("a.json", text), test_path("a"), "no-such-trainer-anywhere is not found in PATH");
    snprintf(text, sizeof text, head, lr, "[\"/etc/passwd\"]");
    assert_refused(config_text("b.json", text), test_path("b"), "/etc/passwd is not executable");
    snprintf(text, sizeof text, head, lr, "[\"/no/such/file\"]");
    assert_refused(config_text("c.json", text), test_path("c"), "/no/such/file: No such file or directory");
    snprintf(text, sizeof text, head, lr, "[\"true\", \"--x={lrr}\"]");
    assert_refused(config_text("d.json", text), test_path("d"), "{lrr} is neither a searched key");
    snprintf(text, sizeof text, head, "\"l;r\": {\"dist\": \"choice\", \"values\": [1]}", "[\"true\"]");
    assert_refused(config_text("e.json", text), test_path("e"), "is not a key name");
    snprintf(text, sizeof text, head, "\"width\": {\"dist\": \"choice\", \"values\": [1]}", "[\"true\"]");
    assert_refused(config_text("f.json", text), test_path("f"), "search.space.width: the sweep sets width");
    snprintf(text, sizeof text, head, lr, "[\"true\"], \"env\": {\"MUP_TRIAL\": \"x\"}");
    assert_refused(config_text("g.json", text), test_path("g"), "program.env.MUP_TRIAL: set by the sweep");
    snprintf(text, sizeof text, head, "\"act\": {\"dist\": \"choice\", \"values\": [\"$(reboot)\"]}", "[\"true\"]");
    assert_refused(config_text("h.json", text), test_path("h"), "search.space.act.values[0]");
    snprintf(text, sizeof text, head, lr, "[\"true\"]");
    memcpy(strstr(text, "\"loss\""), "\"lo s\"", 6);
    assert_refused(config_text("i.json", text), test_path("i"), "objective: expected a metric name");
    snprintf(text, sizeof text, head, lr, "[\"true\"]");
    char *with_model = malloc(strlen(text) + 64);
    sprintf(with_model, "{\"model\": {\"depth\": 2}, %s", text + 1);
    assert_refused(config_text("j.json", with_model), test_path("j"), "model: a program run has no model section");
    free(with_model);
}

Test(program, the_c_example_is_swept_through_the_trial_api_and_keeps_its_target) {
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\": \"custom\", \"objective\": \"val_loss\","
             " \"program\": {\"command\": [\"%s\", \"{width}\", \"20\"], \"timeout\": 120},"
             " \"mup\": {\"base_width\": 16, \"delta_width\": 32},"
             " \"search\": {\"sampler\": \"grid\", \"space\": {\"lr\": {\"dist\": \"log2uniform\", \"low\": -8,"
             " \"high\": -4, \"grid\": 2}}},"
             " \"proxy_widths\": [16, 32], \"target\": {\"width\": 48}}",
             env("MUP_CUSTOM_MODEL"));
    const char *dir = test_path("custom");
    cr_assert_eq(sweep("", config_text("custom.json", text), dir, "", NULL), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, 5);
    for (int k = 0; k < j.n; k++) {
        cr_assert_str_eq(str(j.rec[k], "status"), "complete", "%s", str(j.rec[k], "message"));
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j.rec[k], "unread")), 0);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(j.rec[k], "final"), "val_acc")));
    }
    journal_free(&j);
    char path[800];
    snprintf(path, sizeof path, "%s/runs/target-w48-s0/checkpoint", dir);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "the target kept no checkpoint at %s", path);
    unsigned char magic[8];
    cr_assert_eq(fread(magic, 1, 8, f), 8);
    fclose(f);
    cr_assert(memcmp(magic, "\x89HDF\r\n\x1a\n", 8) == 0, "the checkpoint is not HDF5");
}

/* The config a checkpoint holds (its root attribute "config") and the shape of one parameter. */
static char *checkpoint_config(const char *path, const char *param, hsize_t dims[2]) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "cannot open %s", path);
    hid_t a = H5Aopen(f, "config", H5P_DEFAULT), t = H5Aget_type(a);
    size_t n = H5Tget_size(t);
    char *text = calloc(n + 1, 1);
    cr_assert_geq(H5Aread(a, t, text), 0);
    H5Tclose(t);
    H5Aclose(a);
    hid_t d = H5Dopen2(f, param, H5P_DEFAULT), sp = H5Dget_space(d);
    cr_assert_eq(H5Sget_simple_extent_dims(sp, dims, NULL), 2, "%s is not a matrix", param);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    return text;
}

Test(program, a_built_in_target_keeps_its_trained_model_and_the_summary_its_spec) {
    const char *cfg = config_text("builtin.json",
        "{\"name\": \"tiny\", \"model\": {\"arch\": \"mlp\", \"depth\": 2},"
        " \"data\": {\"dataset\": \"synthetic\", \"train_size\": 500, \"val_size\": 100, \"synthetic_dim\": 12},"
        " \"mup\": {\"base_width\": 16, \"delta_width\": 32},"
        " \"train\": {\"steps\": 10, \"batch_size\": 32, \"eval_every\": 10, \"eval_batches\": 2},"
        " \"search\": {\"sampler\": \"grid\", \"space\": {\"lr\": {\"dist\": \"choice\", \"values\": [0.01, 0.001]}}},"
        " \"proxy_widths\": [16], \"target\": {\"width\": 32}}");
    const char *dir = test_path("builtin");
    cr_assert_eq(sweep("", cfg, dir, "", NULL), 0);
    cJSON *s = summary(dir);
    const cJSON *target = cJSON_GetObjectItem(s, "target");
    const cJSON *spec = cJSON_GetObjectItem(target, "spec");
    cr_assert_eq(cJSON_GetObjectItem(spec, "width")->valueint, 32);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "train"), "lr")->valuedouble,
                 cJSON_GetObjectItem(cJSON_GetObjectItem(target, "params"), "train.lr")->valuedouble);
    const cJSON *kept = cJSON_GetObjectItem(target, "checkpoints");
    cr_assert_eq(cJSON_GetArraySize(kept), 1);
    cr_assert_str_eq(cJSON_GetArrayItem(kept, 0)->valuestring, "runs/target-w32-s0/checkpoint.h5");
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetArrayItem(kept, 0)->valuestring);
    hsize_t dims[2];
    char *text = checkpoint_config(path, "/params/fc1.weight", dims);
    cr_assert(dims[0] == 32 || dims[1] == 32, "fc1.weight is %llux%llu, not the target's width",
              (unsigned long long)dims[0], (unsigned long long)dims[1]);
    /* the checkpoint's config is the spec the summary gives to train it again */
    cJSON *stored = cJSON_Parse(text);
    cr_assert(stored, "the checkpoint's config is not JSON: %s", text);
    cr_assert(cJSON_Compare(stored, spec, true), "checkpoint config %s differs from the summary's spec", text);
    cJSON_Delete(stored);
    free(text);
    cJSON_Delete(s);
}

Test(program, two_mpi_ranks_share_the_runs) {
    if (system("command -v mpirun > /dev/null") != 0)
        cr_skip("mpirun is not installed");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --help | grep -q 'MPI: built in'", env("MUP_SWEEP_BIN"));
    if (system(cmd) != 0)
        cr_skip("mup-sweep is built without MPI");
    const char *cfg = bowl_config("bowl.json", "", "", NULL, true), *dir = test_path("ranks");
    /* Open MPI's own allocations outlive MPI_Finalize: no leak report for them */
    cr_assert_eq(sweep("ASAN_OPTIONS=detect_leaks=0 mpirun -n 2 --oversubscribe --allow-run-as-root", cfg, dir, "", NULL), 0);
    journal j;
    read_journal(dir, &j);
    assert_each_once(&j, BOWL_RUNS);
    for (int k = 0; k < j.n; k++) {
        cr_assert_str_eq(str(j.rec[k], "status"), "complete", "%s", str(j.rec[k], "message"));
        cr_assert(strstr(str(j.rec[k], "worker"), " rank "), "run %s by %s", str(j.rec[k], "id"), str(j.rec[k], "worker"));
    }
    journal_free(&j);
    cJSON *s = summary(dir);
    const cJSON *target = cJSON_GetObjectItem(s, "target");
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(target, "params"), "lr")->valuedouble, 0x1p-6);
    cJSON_Delete(s);
}

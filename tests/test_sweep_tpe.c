/* A tpe sweep end to end, through the built binary ($MUP_SWEEP_BIN): the same seed gives the same
 * trials, a sweep stopped after k trials (its journal cut where a kill leaves it) and resumed draws
 * the trials an uninterrupted one draws, and parallel workers journal each draw once, before its runs. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

/* 12 trials (the first 3 random) at widths 16 and 24, one seed each: 24 runs of 20 steps, no target. */
static const char *CONFIG =
    "{'name': 'tpe', 'model': {'arch': 'mlp', 'depth': 2},"
    " 'data': {'dataset': 'synthetic', 'train_size': 1000, 'val_size': 200, 'synthetic_dim': 12},"
    " 'mup': {'base_width': 16, 'delta_width': 32},"
    " 'train': {'optimizer': 'adam', 'steps': 20, 'batch_size': 32, 'eval_every': 10, 'eval_batches': 2},"
    " 'search': {'sampler': 'tpe', 'trials': 12, 'seeds': 1, 'seed': 1, 'tpe': {'n_startup_trials': 3},"
    "   'space': {'lr': {'dist': 'log2uniform', 'low': -10, 'high': -3},"
    "             'output_mult': {'dist': 'loguniform', 'low': 0.25, 'high': 4}}},"
    " 'proxy_widths': [16, 24]}";
#define TRIALS 12
#define STARTUP 3
#define RUNS 24

/* CONFIG with search.seed set, written to a file of the test's directory; the path stays valid until
 * the next call (test_path's slots are reused). */
static const char *config(const char *name, int seed) {
    static char kept[600];
    char value[16];
    snprintf(value, sizeof value, "%d", seed);
    char *text = test_json_with(CONFIG, "search.seed", value);
    const char *path = test_path(name);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    free(text);
    snprintf(kept, sizeof kept, "%s", path);
    return kept;
}

/* mup-sweep CONFIG --out DIR --threads 1 [--jobs N]; its exit code. */
static int sweep(const char *cfg, const char *dir, const char *jobs) {
    char config_path[600], out[600];
    snprintf(config_path, sizeof config_path, "%s", cfg);
    snprintf(out, sizeof out, "%s", dir);
    const char *bin = getenv("MUP_SWEEP_BIN");
    cr_assert(bin && *bin, "MUP_SWEEP_BIN is not set (run through meson test)");
    const char *argv[] = {bin, config_path, "--out", out, "--threads", "1", jobs ? "--jobs" : NULL, jobs, NULL};
    int rc = test_wait(test_spawn(argv, test_path("log.txt")));
    if (rc != 0) {
        char *log = test_read_file(test_path("log.txt"), NULL);
        fprintf(stderr, "mup-sweep on %s: exit %d\n%s\n", dir, rc, log ? log : "");
        free(log);
    }
    return rc;
}

typedef struct {
    char *params[TRIALS];   /* each trial's params as its runs journaled them (compact JSON) */
    int runs[TRIALS];       /* run records per trial */
    int draws[TRIALS];      /* trial lines per trial */
    bool drawn_first[TRIALS];  /* the draw came before the trial's first run record */
    int records;
} sweep_log;

static void read_log(const char *dir, sweep_log *s) {
    memset(s, 0, sizeof *s);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    char *text = test_read_file(path, NULL), *save = NULL;
    cr_assert(text, "no journal in %s", dir);
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        cr_assert(o, "a journal line does not parse: %.80s", line);
        const char *type = cJSON_GetObjectItem(o, "type")->valuestring;
        int t = cJSON_GetObjectItem(o, "trial") ? cJSON_GetObjectItem(o, "trial")->valueint : -1;
        if (strcmp(type, "trial") == 0) {
            s->draws[t]++;
            s->drawn_first[t] = s->runs[t] == 0;
        } else if (strcmp(type, "run") == 0) {
            s->records++;
            s->runs[t]++;
            char *p = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "params"));
            if (!s->params[t])
                s->params[t] = p;
            else {
                cr_assert_str_eq(s->params[t], p, "trial %d's runs have different values", t);
                free(p);
            }
        }
        cJSON_Delete(o);
    }
    free(text);
}

static void free_log(sweep_log *s) {
    for (int t = 0; t < TRIALS; t++)
        free(s->params[t]);
}

/* Every trial ran at both widths once, the drawn ones each drawn once before their runs. */
static void assert_whole(const sweep_log *s, const char *what) {
    cr_assert_eq(s->records, RUNS, "%s: %d run records, not %d", what, s->records, RUNS);
    for (int t = 0; t < TRIALS; t++) {
        cr_assert_eq(s->runs[t], 2, "%s: trial %d has %d run records", what, t, s->runs[t]);
        cr_assert_eq(s->draws[t], t >= STARTUP, "%s: trial %d was drawn %d times", what, t, s->draws[t]);
        cr_assert(t < STARTUP || s->drawn_first[t], "%s: trial %d ran before its draw was journaled", what, t);
    }
}

static void assert_same_trials(const sweep_log *a, const sweep_log *b, const char *what) {
    for (int t = 0; t < TRIALS; t++)
        cr_assert_str_eq(a->params[t], b->params[t], "%s: trial %d differs", what, t);
}

Test(sweep_tpe, the_same_seed_gives_the_same_trials_and_another_seed_others) {
    const char *cfg = config("tpe.json", 1);
    cr_assert_eq(sweep(cfg, test_path("a"), NULL), 0);
    cr_assert_eq(sweep(cfg, test_path("b"), NULL), 0);
    cr_assert_eq(sweep(config("tpe2.json", 2), test_path("c"), NULL), 0);
    sweep_log a, b, c;
    read_log(test_path("a"), &a);
    read_log(test_path("b"), &b);
    read_log(test_path("c"), &c);
    assert_whole(&a, "seed 1");
    assert_whole(&c, "seed 2");
    assert_same_trials(&a, &b, "two sweeps of seed 1");
    int same = 0;
    for (int t = STARTUP; t < TRIALS; t++)
        same += strcmp(a.params[t], c.params[t]) == 0;
    cr_assert_eq(same, 0, "seeds 1 and 2 drew %d of the same trials", same);
    char report[600];
    snprintf(report, sizeof report, "%s/report.md", test_path("a"));
    char *md = test_read_file(report, NULL);
    cr_assert(md && strstr(md, "tpe sampler (the first 3 trials random, then each drawn from the finished ones; "
                               "gamma 0.1, 24 candidates), 12 trials"), "the report does not name the sampler");
    free(md);
    free_log(&a);
    free_log(&b);
    free_log(&c);
}

/* Copies DIR/journal.jsonl of from into to, up to and including its line number `lines`. */
static void cut_journal(const char *from, const char *to, int lines) {
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", from);
    char *text = test_read_file(path, NULL), *end = text;
    for (int i = 0; i < lines; i++)
        end = strchr(end, '\n') + 1;
    test_mkdir(to);
    snprintf(path, sizeof path, "%s/journal.jsonl", test_path(to));
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fwrite(text, 1, (size_t)(end - text), f);
    fclose(f);
    free(text);
}

/* The line number of the last run record of trial k in DIR's journal, or of trial k's draw. */
static int line_of(const char *dir, int k, const char *type) {
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    char *text = test_read_file(path, NULL), *save = NULL;
    int n = 0, found = -1;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        n++;
        cJSON *o = cJSON_Parse(line);
        const cJSON *t = cJSON_GetObjectItem(o, "trial");
        if (t && t->valueint == k && strcmp(cJSON_GetObjectItem(o, "type")->valuestring, type) == 0)
            found = n;
        cJSON_Delete(o);
    }
    free(text);
    cr_assert_gt(found, 0, "no %s line of trial %d", type, k);
    return found;
}

Test(sweep_tpe, a_sweep_stopped_after_k_trials_and_resumed_draws_the_trials_of_one_that_ran_through) {
    const char *cfg = config("tpe.json", 1);
    cr_assert_eq(sweep(cfg, test_path("whole"), NULL), 0);
    sweep_log whole;
    read_log(test_path("whole"), &whole);
    assert_whole(&whole, "uninterrupted");
    /* stopped between trials: after the startup trials, and after trial 6, which TPE drew */
    /* stopped inside a trial: trial 7 drawn and started, none of its runs journaled */
    struct {
        const char *dir;
        int lines;
    } cuts[] = {{"after-startup", line_of(test_path("whole"), STARTUP - 1, "run")},
                {"after-6", line_of(test_path("whole"), 6, "run")},
                {"inside-7", line_of(test_path("whole"), 7, "trial")}};
    for (int i = 0; i < 3; i++) {
        cut_journal(test_path("whole"), cuts[i].dir, cuts[i].lines);
        cr_assert_eq(sweep(cfg, test_path(cuts[i].dir), NULL), 0, "the resume of %s failed", cuts[i].dir);
        sweep_log resumed;
        read_log(test_path(cuts[i].dir), &resumed);
        assert_whole(&resumed, cuts[i].dir);
        assert_same_trials(&whole, &resumed, cuts[i].dir);
        free_log(&resumed);
    }
    free_log(&whole);
}

/* A sweep stopped as trial 7 was drawn, with draw as that trial's journaled line instead of TPE's own:
 * the whole sweep's journal cut before its trial-7 line, into dir. The line number the draw takes. */
static int stopped_at_trial_7(const char *dir, const char *draw) {
    int at = line_of(test_path("whole"), 7, "trial");
    cut_journal(test_path("whole"), dir, at - 1);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", test_path(dir));
    FILE *f = fopen(path, "a");
    cr_assert(f);
    fputs(draw, f);
    fclose(f);
    return at;
}

Test(sweep_tpe, a_resumed_sweep_takes_a_started_trial_from_its_journaled_draw) {
    const char *cfg = config("tpe.json", 1);
    cr_assert_eq(sweep(cfg, test_path("whole"), NULL), 0);
    /* trial 7 drawn and started when the sweep stopped; its draw says values TPE would not pick */
    stopped_at_trial_7("stopped",
                       "{\"type\":\"trial\",\"trial\":7,\"params\":{\"mup.output_mult\":1,\"train.lr\":0.001}}\n");
    cr_assert_eq(sweep(cfg, test_path("stopped"), NULL), 0);
    sweep_log whole, resumed;
    read_log(test_path("whole"), &whole);
    read_log(test_path("stopped"), &resumed);
    assert_whole(&resumed, "resumed");
    for (int t = 0; t < 7; t++)
        cr_assert_str_eq(whole.params[t], resumed.params[t], "trial %d differs", t);
    cr_assert_str_eq(resumed.params[7], "{\"mup.output_mult\":1,\"train.lr\":0.001}",
                     "trial 7 was drawn again: %s", resumed.params[7]);
    free_log(&whole);
    free_log(&resumed);
}

Test(sweep_tpe, a_journaled_draw_outside_the_search_space_is_skipped_with_a_warning_and_drawn_again) {
    const char *cfg = config("tpe.json", 1);
    cr_assert_eq(sweep(cfg, test_path("whole"), NULL), 0);
    int at = stopped_at_trial_7("unfit",
                                "{\"type\":\"trial\",\"trial\":7,\"params\":{\"mup.output_mult\":1,\"train.lr\":1}}\n");
    remove(test_path("log.txt"));
    cr_assert_eq(sweep(cfg, test_path("unfit"), NULL), 0);
    char *log = test_read_file(test_path("log.txt"), NULL), want[128];
    snprintf(want, sizeof want, "journal.jsonl:%d: the draw of trial 7 does not fit the search space; skipped", at);
    cr_assert(strstr(log, want), "no \"%s\" in:\n%s", want, log);
    free(log);
    sweep_log whole, resumed;
    read_log(test_path("whole"), &whole);
    read_log(test_path("unfit"), &resumed);
    assert_same_trials(&whole, &resumed, "redrawn");
    free_log(&whole);
    free_log(&resumed);
}

Test(sweep_tpe, parallel_workers_journal_each_draw_once_before_its_runs) {
    cr_assert_eq(sweep(config("tpe.json", 1), test_path("jobs"), "3"), 0);
    sweep_log s;
    read_log(test_path("jobs"), &s);
    assert_whole(&s, "--jobs 3");
    free_log(&s);
}

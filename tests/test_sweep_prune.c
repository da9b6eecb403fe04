/* mup-sweep with a pruner, end to end through the built binary ($MUP_SWEEP_BIN) on a tiny synthetic
 * sweep: runs stopped early are journaled as pruned with their compute, never trained again on resume,
 * counted in the report with what they saved, drawn in curves.png; a pruner with no intermediate values
 * says so and stops nothing. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing.h"

/* 12 trials at width 16, 40 steps each, an evaluation every 5: asha's rungs at 5 and 15. */
static const char *TINY =
    "{'name': 'pruned', 'model': {'arch': 'mlp', 'depth': 2},"
    " 'data': {'dataset': 'synthetic', 'train_size': 600, 'val_size': 100, 'synthetic_dim': 8},"
    " 'mup': {'base_width': 8, 'delta_width': 16},"
    " 'train': {'optimizer': 'adam', 'steps': 40, 'batch_size': 16, 'eval_every': 5, 'eval_batches': 1},"
    " 'search': {'sampler': 'random', 'trials': 12, 'seed': 3,"
    "   'space': {'lr': {'dist': 'log2uniform', 'low': -14, 'high': -3}},"
    "   'pruner': {'type': 'asha', 'min_resource': 5, 'reduction_factor': 3}},"
    " 'proxy_widths': [16]}";
#define RUNS 12

/* The file, or "" while it does not exist. */
static char *slurp(const char *path) { return access(path, F_OK) == 0 ? test_read_file(path, NULL) : strdup(""); }

/* Runs mup-sweep on TINY with the member at path set to value (none when NULL) into DIR/name. */
static void sweep(const char *name, const char *path, const char *value, char *dir) {
    char *text = path ? test_json_with(TINY, path, value) : test_json_quotes(TINY);
    char cfg[600], cmd[2048];
    snprintf(cfg, sizeof cfg, "%s", test_path("c.json"));
    FILE *f = fopen(cfg, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    free(text);
    snprintf(dir, 600, "%s", test_path(name));
    snprintf(cmd, sizeof cmd, "'%s' '%s' --out '%s' --threads 1 2> '%s'", getenv("MUP_SWEEP_BIN"), cfg, dir,
             test_path("stderr.txt"));
    int st = system(cmd);
    char *err = slurp(test_path("stderr.txt"));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mup-sweep failed: %s", err);
    free(err);
}

typedef struct {
    int runs, pruned, complete, reports;
    int off_rung;   /* pruned runs stopped at a step that is no rung of asha's at 5 and 15 */
    char pruned_ids[RUNS * 16];
    double pruned_flops, complete_flops;
} tally;

static void read_journal(const char *dir, tally *t) {
    memset(t, 0, sizeof *t);
    char path[700];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    char *text = slurp(path), *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const char *type = cJSON_GetObjectItem(o, "type")->valuestring;
        if (strcmp(type, "report") == 0) {
            t->reports++;
        } else if (strcmp(type, "run") == 0) {
            t->runs++;
            const char *status = cJSON_GetObjectItem(o, "status")->valuestring;
            double flops = cJSON_GetObjectItem(o, "flops")->valuedouble;
            int done = cJSON_GetObjectItem(o, "steps_done")->valueint;
            if (strcmp(status, "pruned") == 0) {
                t->pruned++;
                t->pruned_flops = flops;
                t->off_rung += done != 5 && done != 15;
                cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(o, "objective")), "a pruned run keeps its last value");
                strcat(t->pruned_ids, cJSON_GetObjectItem(o, "id")->valuestring);
            } else if (strcmp(status, "complete") == 0) {
                t->complete++;
                t->complete_flops = flops;
                cr_assert_eq(done, 40);
            }
        }
        cJSON_Delete(o);
    }
    free(text);
}

static bool exists(const char *dir, const char *name) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

Test(sweep_prune, asha_prunes_runs_that_resume_never_reruns_and_the_report_counts) {
    char dir[600], again[600];
    sweep("out", NULL, NULL, dir);
    tally t;
    read_journal(dir, &t);
    cr_assert_eq(t.runs, RUNS);
    cr_assert_gt(t.pruned, 0, "nothing was pruned");
    cr_assert_gt(t.complete, 0, "everything was pruned");
    cr_assert_gt(t.reports, 0, "no report line in the journal");
    cr_assert_eq(t.off_rung, 0, "a run stopped between asha's rungs");
    cr_assert_lt(t.pruned_flops, t.complete_flops, "a pruned run's compute is what it spent");
    /* resume: nothing runs again */
    sweep("out", NULL, NULL, dir);
    tally r;
    read_journal(dir, &r);
    cr_assert_eq(r.runs, RUNS, "resume trained %d runs again", r.runs - RUNS);
    cr_assert_eq(r.reports, t.reports);
    /* --jobs 1: the same decisions in a new directory */
    sweep("again", NULL, NULL, again);
    tally a;
    read_journal(again, &a);
    cr_assert_str_eq(a.pruned_ids, t.pruned_ids);
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *text = slurp(path);
    cJSON *s = cJSON_Parse(text);
    free(text);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "runs"), "pruned")->valueint, t.pruned);
    cr_assert_gt(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "compute"), "pruned_flops_saved")->valuedouble, 0);
    cJSON_Delete(s);
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = slurp(path), want[128];
    snprintf(want, sizeof want, "%d of %d proxy runs were pruned", t.pruned, RUNS);
    cr_assert(strstr(report, want), "\"%s\" not in the report", want);
    cr_assert(strstr(report, "curves.png"));
    free(report);
    cr_assert(exists(dir, "curves.dat") && exists(dir, "curves.gp"));
    snprintf(path, sizeof path, "%s/curves.dat", dir);
    char *curves = slurp(path);
    cr_assert(strstr(curves, "pruned") && strstr(curves, "0xb0b0b0"), "no grey pruned curve in curves.dat");
    free(curves);
}

Test(sweep_prune, median_prunes_after_min_trials_complete_runs) {
    char dir[600];
    sweep("median", "search.pruner", "{'type': 'median', 'min_trials': 3}", dir);
    tally t;
    read_journal(dir, &t);
    cr_assert_eq(t.runs, RUNS);
    cr_assert_gt(t.pruned, 0, "nothing was pruned");
    cr_assert_geq(t.complete, 3, "fewer than min_trials runs completed before the first stop");
}

Test(sweep_prune, a_pruner_without_intermediate_values_says_so_and_stops_nothing) {
    char dir[600], path[700];
    /* evaluated at the end only */
    sweep("silent", "train.eval_every", "40", dir);
    tally t;
    read_journal(dir, &t);
    cr_assert_eq(t.pruned, 0);
    cr_assert_eq(t.reports, 0);
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = slurp(path);
    cr_assert(strstr(report, "no run reported an intermediate value, so the pruner stopped nothing"), "%s", report);
    free(report);
}

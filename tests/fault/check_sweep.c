/* fault_check CONFIG DIR: the verdict on a sweep that went through faults (tests/fault/inject-sweep).
 * Every run the config plans is journaled exactly once with a terminal status and no other run is;
 * summary.json agrees with the journal: the counts, the transferred trial and its score at the widest
 * proxy width, and the target's objective. The journal is read with cJSON alone, not with the reader
 * under test. Prints one line of figures; exits 1 after listing every disagreement. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "records.h"

static int problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fault_check: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    problems++;
}

static cJSON *load(const char *dir, const char *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        problem("%s is missing", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc(1, (size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = '\0';
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j)
        problem("%s does not parse", path);
    return j;
}

static double number(const cJSON *o, const char *a, const char *b) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void agree(const char *what, double journal, double summary) {
    if (!(journal == summary || (isnan(journal) && isnan(summary))))
        problem("summary.json: %s is %.17g, the journal says %.17g", what, summary, journal);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fault_check CONFIG DIR\n");
        return 2;
    }
    mup_sweep_config *c;
    mup_run_list l;
    if (mup_sweep_config_load(argv[1], &c) != MUP_OK || mup_run_list_make(c, &l) != MUP_OK) {
        fprintf(stderr, "fault_check: %s\n", mup_error_message());
        return 2;
    }
    int *count = calloc((size_t)l.n, sizeof *count), status_count[3] = {0}, torn = 0, headers = 0;
    int *status = calloc((size_t)l.n, sizeof *status);
    double *objective = calloc((size_t)l.n, sizeof *objective);
    char path[4200], *line = NULL;
    size_t cap = 0;
    snprintf(path, sizeof path, "%s/journal.jsonl", argv[2]);
    FILE *f = fopen(path, "r");
    if (!f)
        problem("%s is missing", path);
    while (f && getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_ParseWithOpts(line, NULL, true); /* a record is the whole line */
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(o, "objective");
        if (!cJSON_IsString(type)) {
            torn++;
        } else if (strcmp(type->valuestring, "header") == 0) {
            headers++;
        } else if (!cJSON_IsString(id) || !cJSON_IsString(st) || mup_run_list_find(&l, id->valuestring) < 0) {
            problem("a run record that names no planned run: %s", line);
        } else {
            int i = mup_run_list_find(&l, id->valuestring), s = 0;
            while (s < 3 && strcmp(st->valuestring, mup_run_status_name((mup_run_status)s)) != 0)
                s++;
            if (s == 3)
                problem("run %s: status %s is not terminal", id->valuestring, st->valuestring);
            if (count[i]++ == 0 && s < 3) {
                status[i] = s;
                objective[i] = s == MUP_RUN_COMPLETE && cJSON_IsNumber(obj) ? obj->valuedouble : INFINITY;
            }
        }
        cJSON_Delete(o);
    }
    free(line);
    if (f)
        fclose(f);
    if (headers != 1)
        problem("%s has %d header lines, want 1", path, headers);
    int lost = 0, repeated = 0;
    for (int i = 0; i < l.n; i++) {
        if (count[i] == 0 && ++lost)
            problem("run %s is not journaled (lost)", l.runs[i].id);
        if (count[i] > 1 && ++repeated)
            problem("run %s is journaled %d times", l.runs[i].id, count[i]);
        if (count[i] > 0)
            status_count[status[i]]++;
    }
    /* the transfer, as docs/sweep.md defines it: lowest mean over seeds at the widest proxy width */
    int W = c->n_proxy_widths, S = c->search.seeds, widest = 0, best = -1;
    for (int w = 1; w < W; w++)
        widest = c->proxy_widths[w] > c->proxy_widths[widest] ? w : widest;
    double best_score = INFINITY;
    for (int t = 0; t * W * S < l.n_proxy; t++) {
        double sum = 0;
        for (int s = 0; s < S; s++)
            sum += objective[(t * W + widest) * S + s];
        if (isfinite(sum / S) && sum / S < best_score) {
            best_score = sum / S;
            best = t;
        }
    }
    double target = 0;
    for (int i = l.n_proxy; i < l.n; i++)
        target += objective[i];
    target = l.n > l.n_proxy ? target / (l.n - l.n_proxy) : NAN;
    cJSON *sum = load(argv[2], "summary.json");
    if (sum) {
        agree("runs.total", l.n, number(sum, "runs", "total"));
        agree("runs.complete", status_count[MUP_RUN_COMPLETE], number(sum, "runs", "complete"));
        agree("runs.diverged", status_count[MUP_RUN_DIVERGED], number(sum, "runs", "diverged"));
        agree("runs.failed", status_count[MUP_RUN_FAILED], number(sum, "runs", "failed"));
        agree("runs.missing", lost, number(sum, "runs", "missing"));
        agree("best.trial", best >= 0 ? best : NAN, number(sum, "best", "trial"));
        agree("best.objective", best >= 0 ? best_score : NAN, number(sum, "best", "objective"));
        if (c->has_target && best >= 0)
            agree("target.final_objective", isfinite(target) ? target : NAN, number(sum, "target", "final_objective"));
        cJSON_Delete(sum);
    }
    printf("fault_check: %d planned runs: %d journaled once, %d lost, %d repeated (%d complete, %d diverged, "
           "%d failed); %d torn lines skipped; best trial %d (%.6g); summary.json %s\n",
           l.n, l.n - lost - repeated, lost, repeated, status_count[0], status_count[1], status_count[2], torn, best,
           best_score, problems ? "or the journal DISAGREE" : "agrees");
    free(count);
    free(status);
    free(objective);
    mup_run_list_free(&l);
    mup_sweep_config_free(c);
    return problems ? 1 : 0;
}

/* report.md and its two plots. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "distribution.h"
#include "plot.h"
#include "pruning.h"
#include "sampler.h"
#include "warnings.h"

#define TOP_TRIALS 10

/* The key on the lr_transfer plot's x axis: train.lr when searched, else the first searched key. */
static int x_dim(const mup_sweep_config *c) {
    for (int d = 0; d < c->search.n_dims; d++)
        if (strcmp(c->search.dims[d].key->section, c->kind == MUP_RUN_PROGRAM ? "" : "train") == 0 &&
            strcmp(c->search.dims[d].key->name, "lr") == 0)
            return d;
    return 0;
}

static double score(const mup_transfer *t, int trial, int w) { return t->score[trial * t->n_proxies + w]; }

typedef struct {
    double x, y;
    int trial;
} point;

static int by_x(const void *a, const void *b) {
    const point *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* One width's curve: per distinct x, the best finite score among the trials there (with one key
 * searched that is each trial; with a grid over several keys, the profile over the others). */
static int curve(const mup_sweep_config *c, const mup_transfer *t, int w, int d, point *out) {
    double *v = mup_tool_xcalloc((size_t)c->search.n_dims, sizeof *v);
    int n = 0;
    for (int trial = 0; trial < t->n_trials; trial++) {
        double s = score(t, trial, w);
        if (!isfinite(s))
            continue;
        mup_transfer_trial_values(t, trial, v);
        out[n++] = (point){mup_search_dim_plot_x(&c->search.dims[d], v[d]), s, trial};
    }
    free(v);
    qsort(out, (size_t)n, sizeof *out, by_x);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && out[m - 1].x == out[i].x) {
            if (out[i].y < out[m - 1].y)
                out[m - 1] = out[i];
        } else {
            out[m++] = out[i];
        }
    }
    return m;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Scores far above the best squash the interesting part of the plot: the y axis stops at
 * min + 4 × (median - min) when the largest score lies beyond. */
static double y_cap(const mup_transfer *t) {
    int n = 0;
    double *s = mup_tool_xcalloc((size_t)t->n_trials * t->n_proxies + 1, sizeof *s);
    for (int k = 0; k < t->n_trials * t->n_proxies; k++)
        if (isfinite(t->score[k]))
            s[n++] = t->score[k];
    qsort(s, (size_t)n, sizeof *s, by_value);
    double lim = n >= 4 ? s[0] + 4 * (s[n / 2] - s[0]) : INFINITY;
    double cap = n >= 4 && s[n - 1] > lim && lim > s[0] ? lim : INFINITY;
    free(s);
    return cap;
}

/* The x range is the searched range, and the y range a placeholder when no trial completed (gnuplot
 * refuses to plot nothing on an undefined range). */
static void ranges(FILE *f, const mup_search_dim *d, const mup_transfer *t) {
    double lo, hi;
    if (mup_distribution(d->dist)->ranged) {
        lo = mup_search_dim_plot_x(d, mup_search_dim_value_low(d));
        hi = mup_search_dim_plot_x(d, mup_search_dim_value_high(d));
    } else {
        lo = hi = d->values[0];
        for (int i = 1; i < d->n_values; i++) {
            lo = fmin(lo, d->values[i]);
            hi = fmax(hi, d->values[i]);
        }
    }
    double pad = hi > lo ? 0.03 * (hi - lo) : 0.5;
    fprintf(f, "set xrange [%.9g:%.9g]\n", lo - pad, hi + pad);
    bool any = false;
    for (int k = 0; k < t->n_trials * t->n_proxies; k++)
        any |= isfinite(t->score[k]) != 0;
    if (!any)
        fprintf(f, "set yrange [0:1]\nset label 'no trial completed' at graph 0.5, 0.5 center\n");
    else if (isfinite(y_cap(t)))
        fprintf(f, "set yrange [*:%.9g]\n", y_cap(t));
}

static void x_tics(FILE *f, const mup_search_dim *d) {
    if (mup_distribution(d->dist)->ranged || d->key->type == MUP_KEY_INT || d->key->type == MUP_KEY_FLOAT)
        return;
    fprintf(f, "set xtics (");
    for (int i = 0; i < d->n_values; i++) {
        char name[64];
        mup_key_format(d->key, d->values[i], name, sizeof name);
        fprintf(f, "%s", i ? ", " : "");
        mup_plot_string(f, "%s", name);
        fprintf(f, " %g", d->values[i]);
    }
    fprintf(f, ") noenhanced\n");
}

static mup_status plot_transfer(const char *dir, const mup_sweep_config *c, const mup_transfer *t,
                                double target_obj) {
    int d = x_dim(c);
    const mup_search_dim *dim = &c->search.dims[d];
    char key[128];
    mup_key_path(key, sizeof key, dim->key->section, dim->key->name);
    FILE *data, *best, *gp;
    mup_status s = mup_plot_open(dir, "lr_transfer.dat", &data);
    if (s)
        return s;
    s = mup_plot_open(dir, "lr_transfer_best.dat", &best);
    if (s) {
        fclose(data);
        return s;
    }
    point *pts = mup_tool_xcalloc((size_t)t->n_trials + 1, sizeof *pts);
    mup_plot_comment(data, "%s: per proxy width, %s%s and the mean %s over seeds (the best where several trials "
                     "share the value), then the trial", c->name, mup_distribution(dim->dist)->log ? "log2 " : "", key,
                     mup_sweep_objective(c));
    mup_plot_comment(best, "the best trial of each proxy: x, %s, width, trial, depth (0: the model section's)",
                     mup_sweep_objective(c));
    char label[MUP_PROXY_LABEL_MAX];
    for (int w = 0; w < t->n_proxies; w++) {
        int n = curve(c, t, w, d, pts);
        fprintf(data, "%s# width %s\n", w ? "\n\n" : "", mup_proxy_label(c, w, label, sizeof label));
        for (int i = 0; i < n; i++)
            fprintf(data, "%.9g %.9g %d\n", pts[i].x, pts[i].y, pts[i].trial);
        if (n == 0)
            fprintf(data, "NaN NaN -1\n");
        int b = t->best_trial[w], at = -1;
        for (int i = 0; i < n && b >= 0; i++)
            if (pts[i].y == score(t, b, w) && (at < 0 || pts[i].trial == b))
                at = i;
        if (at >= 0)
            fprintf(best, "%.9g %.9g %d %d %d\n", pts[at].x, pts[at].y, mup_proxy_at(c, w).width, b,
                    mup_proxy_at(c, w).depth);
    }
    bool have_target = isfinite(target_obj) && t->best >= 0;
    if (have_target) {
        double *v = mup_tool_xcalloc((size_t)c->search.n_dims, sizeof *v);
        mup_transfer_trial_values(t, t->best, v);
        fprintf(data, "\n\n# target width %s, trained with trial %d\n%.9g %.9g %d\n",
                mup_target_label(c, label, sizeof label), t->best, mup_search_dim_plot_x(dim, v[d]), target_obj, t->best);
        free(v);
    }
    free(pts);
    s = mup_plot_close(data, dir, "lr_transfer.dat");
    mup_status sb = mup_plot_close(best, dir, "lr_transfer_best.dat");
    s = s ? s : sb ? sb : mup_plot_open(dir, "lr_transfer.gp", &gp);
    if (s)
        return s;
    mup_plot_header(gp, "lr_transfer.png", 900, 560);
    fprintf(gp, "set title ");
    mup_plot_string(gp, "%s: %s against %s at each proxy %s (µTransfer)", c->name,
                    mup_sweep_objective(c), key, c->n_proxy_depths > 0 ? "width and depth" : "width");
    fprintf(gp, " noenhanced\nset xlabel ");
    mup_plot_string(gp, "%s%s", mup_distribution(dim->dist)->log ? "log2 " : "", key);
    fprintf(gp, " noenhanced\nset ylabel ");
    mup_plot_string(gp, "%s (mean over seeds)", mup_sweep_objective(c));
    fprintf(gp, " noenhanced\nset datafile missing 'NaN'\n");
    x_tics(gp, dim);
    ranges(gp, dim, t);
    fprintf(gp, "plot ");
    for (int w = 0; w < t->n_proxies; w++)
        fprintf(gp, "'lr_transfer.dat' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.7 title 'width %s', \\\n     ",
                w, mup_proxy_label(c, w, label, sizeof label));
    if (have_target)
        fprintf(gp, "'lr_transfer.dat' index %d using 1:2 with points pt 5 ps 1.6 lc rgb 'black' "
                "title 'target width %s', \\\n     ", t->n_proxies, mup_target_label(c, label, sizeof label));
    fprintf(gp, "'lr_transfer_best.dat' using 1:2 with points pt 6 ps 2.4 lw 2 lc rgb '#444444' title 'best of each %s'\n",
            c->n_proxy_depths > 0 ? "proxy" : "width");
    s = mup_plot_close(gp, dir, "lr_transfer.gp");
    return s ? s : mup_plot_render(dir, "lr_transfer.gp");
}

static mup_status plot_history(const char *dir, const mup_sweep_config *c, const mup_journal *j,
                               const mup_transfer *t) {
    FILE *data, *gp;
    mup_status s = mup_plot_open(dir, "history.dat", &data);
    if (s)
        return s;
    int sel = t->select_proxy;
    char widths[512] = "", label[MUP_PROXY_LABEL_MAX];
    for (int w = 0, at = 0; w < t->n_proxies && at < (int)sizeof widths; w++)
        at += snprintf(widths + at, sizeof widths - (size_t)at, "%s%s", w ? "; " : "",
                       mup_proxy_label(c, w, label, sizeof label));
    mup_plot_comment(data, "trial, mean %s over seeds at each proxy width (%s; NaN: not complete or not run), best so "
                     "far at width %s, then at each width the mean of a trial with a pruned run (its last reported "
                     "value)", mup_sweep_objective(c), widths, mup_proxy_label(c, sel, label, sizeof label));
    double best = INFINITY;
    for (int trial = 0; trial < t->n_trials; trial++) {
        fprintf(data, "%d", trial);
        for (int w = 0; w < t->n_proxies; w++) {
            double v = score(t, trial, w);
            fprintf(data, isfinite(v) ? " %.9g" : " NaN", v);
        }
        double v = score(t, trial, sel);
        if (isfinite(v) && v < best)
            best = v;
        fprintf(data, isfinite(best) ? " %.9g" : " NaN", best);
        for (int w = 0; w < t->n_proxies; w++) {
            double p = mup_pruned_trial_value(c, j, trial, w);
            fprintf(data, isfinite(p) ? " %.9g" : " NaN", p);
        }
        fprintf(data, "\n");
    }
    s = mup_plot_close(data, dir, "history.dat");
    s = s ? s : mup_plot_open(dir, "history.gp", &gp);
    if (s)
        return s;
    mup_plot_header(gp, "history.png", 900, 480);
    fprintf(gp, "set title ");
    mup_plot_string(gp, "%s: %s of each trial, in the order tried", c->name, mup_sweep_objective(c));
    fprintf(gp, " noenhanced\nset xlabel 'trial'\nset ylabel ");
    mup_plot_string(gp, "%s (mean over seeds)", mup_sweep_objective(c));
    fprintf(gp, " noenhanced\nset datafile missing 'NaN'\n");
    mup_search_dim trials = {.dist = MUP_DIST_UNIFORM, .low = 0, .high = t->n_trials - 1};
    ranges(gp, &trials, t);
    fprintf(gp, "plot ");
    for (int w = 0; w < t->n_proxies; w++)
        fprintf(gp, "'history.dat' using 1:%d with points pt 7 ps 0.8 title 'width %s', \\\n     ", w + 2,
                mup_proxy_label(c, w, label, sizeof label));
    /* a pruned trial's last value is mostly far above the others: above a capped axis, it sits on its top */
    double cap = y_cap(t);
    for (int w = 0; w < t->n_proxies && c->search.pruner.kind != MUP_PRUNER_NONE; w++) {
        int col = t->n_proxies + 3 + w;
        if (isfinite(cap))
            fprintf(gp, "'history.dat' using 1:(column(%d) > %.9g ? %.9g : column(%d))", col, cap, cap, col);
        else
            fprintf(gp, "'history.dat' using 1:%d", col);
        fprintf(gp, " with points pt 6 ps 1.0 lc rgb '#909090' title 'pruned: last value (width %s)', \\\n     ",
                mup_proxy_label(c, w, label, sizeof label));
    }
    fprintf(gp, "'history.dat' using 1:%d with steps lw 2 lc rgb 'black' title 'best so far (width %s)'\n",
            t->n_proxies + 2, mup_proxy_label(c, sel, label, sizeof label));
    s = mup_plot_close(gp, dir, "history.gp");
    return s ? s : mup_plot_render(dir, "history.gp");
}

/* ---- report.md ---- */

static void cell(FILE *f, double v, bool recorded) {
    if (!recorded)
        fprintf(f, " | ");
    else if (isfinite(v))
        fprintf(f, " | %.4f", v);
    else
        fprintf(f, " | not complete");
}

static void params_cells(FILE *f, const mup_sweep_config *c, const mup_transfer *t, int trial) {
    double *v = mup_tool_xcalloc((size_t)c->search.n_dims, sizeof *v);
    mup_transfer_trial_values(t, trial, v);
    for (int d = 0; d < c->search.n_dims; d++) {
        char text[64];
        mup_key_format(c->search.dims[d].key, v[d], text, sizeof text);
        fprintf(f, " | %s", text);
    }
    free(v);
}

static void params_header(FILE *f, const mup_sweep_config *c) {
    char name[128];
    for (int d = 0; d < c->search.n_dims; d++)
        fprintf(f, " | %s", mup_key_path(name, sizeof name, c->search.dims[d].key->section, c->search.dims[d].key->name));
}

/* Lower score first, +inf (not complete) after every finite score, NAN (not run) last, ties by trial. */
static int by_rank(const void *a, const void *b) {
    const point *p = a, *q = b;
    if (isnan(p->y) != isnan(q->y))
        return isnan(p->y) ? 1 : -1;
    if (!isnan(p->y) && p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return p->trial - q->trial;
}

static void top_table(FILE *f, const mup_sweep_config *c, const mup_transfer *t) {
    int T = t->n_trials, sel = t->select_proxy;
    point *order = mup_tool_xcalloc((size_t)T, sizeof *order);
    for (int i = 0; i < T; i++)
        order[i] = (point){0, score(t, i, sel), i};
    qsort(order, (size_t)T, sizeof *order, by_rank);
    int n = T < TOP_TRIALS ? T : TOP_TRIALS;
    char label[MUP_PROXY_LABEL_MAX];
    fprintf(f, "## Top trials\n\nThe %d best of %d trials, ranked at width %s. Each cell is the mean %s over %d "
            "seed%s; \"not complete\" means a seed diverged or failed.\n\n| rank | trial", n, T,
            mup_proxy_label(c, sel, label, sizeof label), mup_sweep_objective(c), c->search.seeds,
            c->search.seeds == 1 ? "" : "s");
    params_header(f, c);
    for (int w = 0; w < t->n_proxies; w++)
        fprintf(f, " | width %s", mup_proxy_label(c, w, label, sizeof label));
    fprintf(f, " |\n|---|---");
    for (int k = 0; k < c->search.n_dims + t->n_proxies; k++)
        fprintf(f, "|---");
    fprintf(f, "|\n");
    for (int r = 0; r < n; r++) {
        int trial = order[r].trial;
        fprintf(f, "| %d | %d", r + 1, trial);
        params_cells(f, c, t, trial);
        for (int w = 0; w < t->n_proxies; w++)
            cell(f, score(t, trial, w), !isnan(score(t, trial, w)));
        fprintf(f, " |\n");
    }
    free(order);
}

static void counts(const mup_run_list *l, const mup_journal *j, int from, int to, int *n, double *flops,
                   double *seconds) {
    for (int i = from; i < to; i++) {
        const mup_run_record *rec = l->runs[i].has_spec ? mup_journal_record(j, i) : NULL;
        if (!rec) {
            n[4]++;
            continue;
        }
        n[rec->status]++;
        *flops += isfinite(rec->flops) ? rec->flops : 0;
        *seconds += isfinite(rec->seconds) ? rec->seconds : 0;
    }
}

static void runs_section(FILE *f, const mup_run_list *l, const mup_journal *j) {
    fprintf(f, "\n## Runs and compute\n\n| phase | runs | complete | diverged | failed | pruned | missing | FLOPs | "
            "seconds (sum over runs) |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int phase = 0; phase < 2; phase++) {
        int n[5] = {0};
        double flops = 0, seconds = 0;
        int from = phase ? l->n_proxy : 0, to = phase ? l->n : l->n_proxy;
        if (from == to)
            continue;
        counts(l, j, from, to, n, &flops, &seconds);
        fprintf(f, "| %s | %d | %d | %d | %d | %d | %d | %.3g | %.1f |\n", phase ? "target" : "proxy", to - from,
                n[0], n[1], n[2], n[3], n[4], flops, seconds);
    }
}

/* Searched keys a program run never read (its final report's "read" list leaves them out). */
static void unread_section(FILE *f, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j) {
    for (int d = 0; d < c->search.n_dims; d++) {
        const char *name = c->search.dims[d].key->name;
        int runs = 0, unread = 0;
        for (int i = 0; i < l->n; i++) {
            const mup_run_record *rec = l->runs[i].has_spec ? mup_journal_record(j, i) : NULL;
            runs += rec != NULL;
            for (const char *p = rec ? rec->unread : ""; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 2 : 0))
                if (strncmp(p, name, strlen(name)) == 0 && (p[strlen(name)] == ',' || !p[strlen(name)])) {
                    unread++;
                    break;
                }
        }
        if (unread)
            fprintf(f, "\n**Warning**: the program never read the searched key `%s` (%d of %d runs): it ignores it, "
                    "or its name in the config is misspelt.\n", name, unread, runs);
    }
}

static void result_section(FILE *f, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j,
                           const mup_transfer *t) {
    const char *obj = mup_sweep_objective(c);
    char label[MUP_PROXY_LABEL_MAX], target_label[MUP_PROXY_LABEL_MAX];
    mup_proxy_label(c, t->select_proxy, label, sizeof label);
    mup_target_label(c, target_label, sizeof target_label);
    fprintf(f, "## Result\n\n");
    mup_transfer_warnings warn;
    mup_transfer_warn(c, t, &warn);
    for (int i = 0; i < warn.n; i++)
        fprintf(f, "**Warning**: %s.\n\n", warn.text[i]);
    if (t->best < 0) {
        fprintf(f, "No trial completed every seed at width %s: nothing to transfer.\n\n", label);
    } else {
        double *v = mup_tool_xcalloc((size_t)c->search.n_dims, sizeof *v);
        char text[4096];
        mup_transfer_trial_values(t, t->best, v);
        mup_plan_format(c, v, text, sizeof text);
        free(v);
        fprintf(f, "Best setting: trial %d, `%s`, with mean %s %.4f at width %s (the widest%s proxy, which picks "
                "the setting).\n\n", t->best, text, obj, score(t, t->best, t->select_proxy), label,
                c->n_proxy_depths > 0 ? " and deepest" : "");
    }
    fprintf(f, "| width | best trial");
    params_header(f, c);
    fprintf(f, " | %s |\n|---|---", obj);
    for (int d = 0; d < c->search.n_dims; d++)
        fprintf(f, "|---");
    fprintf(f, "|---|\n");
    for (int w = 0; w < t->n_proxies; w++) {
        int b = t->best_trial[w];
        char at[MUP_PROXY_LABEL_MAX];
        fprintf(f, "| %s | %s", mup_proxy_label(c, w, at, sizeof at), b >= 0 ? "" : "none");
        if (b >= 0) {
            fprintf(f, "%d", b);
            params_cells(f, c, t, b);
            fprintf(f, " | %.4f |\n", score(t, b, w));
        } else {
            for (int d = 0; d <= c->search.n_dims; d++)
                fprintf(f, " | ");
            fprintf(f, " |\n");
        }
    }
    if (!c->has_target)
        return;
    const char *status;
    double target = mup_target_objective(c, l, j, &status);
    fprintf(f, "\n**Target**: width %s, %d seed%s, ", target_label, c->target.seeds, c->target.seeds == 1 ? "" : "s");
    if (isfinite(target))
        fprintf(f, "trained with trial %d: mean %s **%.4f** (%s).", l->runs[l->n_proxy].trial, obj, target, status);
    else
        fprintf(f, "%s.", status);
    if (isfinite(target) && t->best >= 0)
        fprintf(f, " Under µP a wider model with the same setting should do at least as well as the proxies: "
                "%.4f at width %s against %.4f at width %s.", target, target_label,
                score(t, t->best, t->select_proxy), label);
    fprintf(f, "\n");
}

mup_status mup_report_write(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                            const mup_journal *j, const mup_transfer *t) {
    const char *status;
    double target = mup_target_objective(c, l, j, &status);
    mup_status ps[3] = {plot_transfer(dir, c, t, target), MUP_OK, MUP_OK};
    char why[3][1024] = {"", "", ""};
    if (ps[0])
        snprintf(why[0], sizeof why[0], "%s", mup_error_message());
    ps[1] = plot_history(dir, c, j, t);
    if (ps[1])
        snprintf(why[1], sizeof why[1], "%s", mup_error_message());
    bool curves;
    ps[2] = mup_plot_curves(dir, c, l, j, &curves);
    if (ps[2])
        snprintf(why[2], sizeof why[2], "%s", mup_error_message());
    for (int i = 0; i < 3; i++)
        if (ps[i])
            mup_log(MUP_LOG_WARN, "%s", why[i]);
    FILE *f;
    mup_status s = mup_plot_open(dir, "report.md", &f);
    if (s)
        return s;
    int sel = t->select_proxy;
    char label[MUP_PROXY_LABEL_MAX];
    fprintf(f, "# Sweep report: %s\n\n", c->name);
    fprintf(f, "Config fingerprint `%s`; %s sampler", c->fingerprint, mup_sampler_name(c->search.sampler));
    if (c->search.sampler == MUP_SAMPLER_TPE)
        fprintf(f, " (the first %d trials random, then each drawn from the finished ones; gamma %g, %d candidates)",
                mup_plan_fixed(c), c->search.tpe.gamma, c->search.tpe.n_candidates);
    fprintf(f, ", %d trials × %d seed%s at proxy width%s", t->n_trials, c->search.seeds,
            c->search.seeds == 1 ? "" : "s", t->n_proxies == 1 ? "" : "s");
    for (int w = 0; w < t->n_proxies; w++)
        fprintf(f, "%s%s", w ? (c->n_proxy_depths ? "; " : ", ") : " ", mup_proxy_label(c, w, label, sizeof label));
    fprintf(f, "; objective `%s` (lower is better)", mup_sweep_objective(c));
    if (c->has_target)
        fprintf(f, "; target width %s", mup_target_label(c, label, sizeof label));
    fprintf(f, ". The setting with the lowest mean over seeds at the widest%s proxy (%s) is transferred.\n\n",
            c->n_proxy_depths > 0 ? ", deepest" : "", mup_proxy_label(c, sel, label, sizeof label));
    result_section(f, c, l, j, t);
    char rel[MUP_RUN_ID_MAX + 32];
    for (int i = l->n_proxy; i < l->n; i++)
        if (l->runs[i].has_spec && mup_target_checkpoint(dir, c, &l->runs[i], rel, sizeof rel))
            fprintf(f, "The trained target %s: [%s](%s).\n\n", l->runs[i].id, rel, rel);
    fprintf(f, "\n");
    top_table(f, c, t);
    runs_section(f, l, j);
    mup_pruning_section(f, c, l, j);
    unread_section(f, c, l, j);
    int d = x_dim(c);
    char name[128];
    fprintf(f, "\n## Plots\n\n![µTransfer](lr_transfer.png)\n\n`lr_transfer.png`: the mean %s of each trial "
            "against %s%s, one line per proxy %s, each one's best circled%s. Under µP the lines' minima "
            "sit at the same %s: the setting found on the narrow models is the right one for the wide model.%s%s\n\n",
            mup_sweep_objective(c), mup_distribution(c->search.dims[d].dist)->log ? "log2 " : "",
            mup_key_path(name, sizeof name, c->search.dims[d].key->section, c->search.dims[d].key->name),
            c->n_proxy_depths > 0 ? "width and depth" : "width", c->has_target ? " and the target's result as a black square" : "", c->search.dims[d].key->name,
            c->search.n_dims > 1 ? " Other keys are searched too, so a point is the best trial at that value, and "
                                   "the lines are noisier than a one-key sweep's." : "",
            c->n_proxy_depths > 0 ? " Across depth they sit together only with depth scaling on (mup.depth_alpha)."
                                  : "");
    fprintf(f, "![history](history.png)\n\n`history.png`: each trial's mean %s in the order tried, at every proxy "
            "width, and the best so far at width %s%s.\n\n", mup_sweep_objective(c),
            mup_proxy_label(c, sel, label, sizeof label),
            c->search.pruner.kind != MUP_PRUNER_NONE ? "; grey circles: trials with a pruned run, at the mean of "
                                                       "their runs' last reported values (on the top edge when "
                                                       "above the axis)" : "");
    if (curves)
        fprintf(f, "![learning curves](curves.png)\n\n`curves.png`: every proxy run's %s at its intermediate "
                "reports against steps; pruned runs in grey.\n\n", mup_sweep_objective(c));
    fprintf(f, "Each plot's gnuplot script (`.gp`) and data (`.dat`) are beside it: edit and rerun "
            "`gnuplot lr_transfer.gp` in this directory. Every run's curves are in `results.h5`, the raw records in "
            "`journal.jsonl`, the numbers above in `summary.json`.\n");
    return mup_plot_close(f, dir, "report.md");
}

mup_status mup_sweep_report(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                            const mup_journal *j, const mup_transfer *t) {
    mup_status s = mup_summary_write(dir, c, l, j, t);
    s = s ? s : mup_results_write(dir, c, l, j, t);
    return s ? s : mup_report_write(dir, c, l, j, t);
}

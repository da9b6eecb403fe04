#include "pruning.h"

#include <math.h>

#include "plot.h"

void mup_pruning_count(const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j, mup_pruning_stats *p) {
    *p = (mup_pruning_stats){0};
    for (int i = 0; i < l->n_proxy; i++) {
        const mup_run_record *rec = mup_journal_record(j, i);
        if (!rec)
            continue;
        p->finished++;
        /* a value at the last step (a built-in run's final evaluation) is no intermediate one */
        p->reporting += rec->n_inter > 1 || (rec->n_inter == 1 && rec->inter_step[0] < rec->steps);
        if (rec->status != MUP_RUN_PRUNED)
            continue;
        p->pruned++;
        p->flops_spent += rec->flops;
        /* a program's full length is what its proxy's complete runs reached */
        int full = rec->steps;
        for (int k = 0; c->kind == MUP_RUN_PROGRAM && k < l->n_proxy; k++) {
            const mup_run_record *o = mup_journal_record(j, k);
            if (o && o->status == MUP_RUN_COMPLETE && o->width == rec->width && o->depth == rec->depth &&
                o->steps_done > full)
                full = o->steps_done;
        }
        p->steps_saved += full - rec->steps_done;
        if (rec->steps_done > 0)
            p->flops_saved += rec->flops / rec->steps_done * (full - rec->steps_done);
    }
}

double mup_pruned_trial_value(const mup_sweep_config *c, const mup_journal *j, int trial, int w) {
    /* the run list's order: trial, proxy, seed */
    int S = c->search.seeds, first = (trial * mup_proxy_count(c) + w) * S;
    double sum = 0.0;
    bool pruned = false;
    for (int s = 0; s < S; s++) {
        const mup_run_record *rec = mup_journal_record(j, first + s);
        double v = !rec ? NAN : rec->status == MUP_RUN_PRUNED ? rec->last_value
                 : rec->status == MUP_RUN_COMPLETE ? rec->objective : NAN;
        pruned |= rec && rec->status == MUP_RUN_PRUNED;
        sum += v;
    }
    return pruned ? sum / S : NAN;
}

mup_status mup_plot_curves(const char *dir, const mup_sweep_config *c, const mup_run_list *l,
                           const mup_journal *j, bool *drawn) {
    *drawn = false;
    int points = 0;
    for (int i = 0; i < l->n_proxy; i++) {
        const mup_run_record *rec = mup_journal_record(j, i);
        points += rec ? rec->n_inter : 0;
    }
    if (points == 0)
        return MUP_OK;
    FILE *data, *gp;
    mup_status s = mup_plot_open(dir, "curves.dat", &data);
    if (s)
        return s;
    mup_plot_comment(data, "each proxy run's %s at its intermediate reports: step, value, colour (grey: pruned); "
                     "one block per run, the pruned ones first", mup_sweep_objective(c));
    /* the pruned runs first, so that the others are drawn over them */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < l->n_proxy; i++) {
            const mup_run_record *rec = mup_journal_record(j, i);
            if (!rec || rec->n_inter == 0 || (rec->status == MUP_RUN_PRUNED) != (pass == 0))
                continue;
            mup_plot_comment(data, "%s %s", rec->id, mup_run_status_name(rec->status));
            const char *colour = pass == 0 ? "0xb0b0b0" : rec->status == MUP_RUN_COMPLETE ? "0x1f77b4" : "0xd62728";
            for (int k = 0; k < rec->n_inter; k++) {
                fprintf(data, "%d", rec->inter_step[k]);
                fprintf(data, isfinite(rec->inter_value[k]) ? " %.9g" : " NaN", rec->inter_value[k]);
                fprintf(data, " %s\n", colour);
            }
            fprintf(data, "\n");
        }
    s = mup_plot_close(data, dir, "curves.dat");
    s = s ? s : mup_plot_open(dir, "curves.gp", &gp);
    if (s)
        return s;
    mup_plot_header(gp, "curves.png", 900, 480);
    fprintf(gp, "set title ");
    mup_plot_string(gp, "%s: each proxy run's %s while it trained", c->name, mup_sweep_objective(c));
    fprintf(gp, " noenhanced\nset xlabel 'step'\nset ylabel ");
    mup_plot_string(gp, "%s", mup_sweep_objective(c));
    fprintf(gp, " noenhanced\nset datafile missing 'NaN'\nset key top right\n");
    /* points too: a run pruned at its first report has one */
    fprintf(gp, "plot 'curves.dat' using 1:2:3 with linespoints pt 7 ps 0.4 lw 1 lc rgb variable notitle, \\\n"
                "     NaN with lines lc rgb '#1f77b4' title 'complete', \\\n"
                "     NaN with lines lc rgb '#b0b0b0' title 'pruned', \\\n"
                "     NaN with lines lc rgb '#d62728' title 'diverged or failed'\n");
    s = mup_plot_close(gp, dir, "curves.gp");
    s = s ? s : mup_plot_render(dir, "curves.gp");
    *drawn = s == MUP_OK;
    return s;
}

void mup_pruning_section(FILE *f, const mup_sweep_config *c, const mup_run_list *l, const mup_journal *j) {
    const mup_pruner *p = &c->search.pruner;
    if (p->kind == MUP_PRUNER_NONE)
        return;
    mup_pruning_stats st;
    mup_pruning_count(c, l, j, &st);
    fprintf(f, "\n## Pruning\n\n");
    fprintf(f, "Pruner `%s` (", mup_pruner_name(p->kind));
    if (p->kind == MUP_PRUNER_MEDIAN)
        fprintf(f, "warmup_steps %d, min_trials %d). ", p->warmup_steps, p->min_trials);
    else
        fprintf(f, "min_resource %d, reduction_factor %d). ", p->min_resource, p->reduction_factor);
    if (st.finished > 0 && st.reporting == 0) {
        fprintf(f, "**Warning**: no run reported an intermediate value, so the pruner stopped nothing (%s).\n",
                c->kind == MUP_RUN_BUILTIN ? "a built-in run reports at every train.eval_every: set it below "
                                             "train.steps" : "the program sends no report lines with the objective");
        return;
    }
    double total = 0.0;
    for (int i = 0; i < l->n_proxy; i++) {
        const mup_run_record *rec = mup_journal_record(j, i);
        total += rec ? rec->flops : 0.0;
    }
    fprintf(f, "%d of %d proxy runs were pruned; they spent %.3g FLOPs and saved %.3g FLOPs (%ld steps) that "
            "training them to the end would have cost: the proxies took %.3g FLOPs, %.0f%% of the %.3g they would "
            "have without the pruner.\n", st.pruned, st.finished, st.flops_spent, st.flops_saved, st.steps_saved,
            total, total + st.flops_saved > 0 ? 100.0 * total / (total + st.flops_saved) : 100.0,
            total + st.flops_saved);
}

#include "coord_plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

#define PANEL_W 380
#define PANEL_H 330
#define KEY_W 230
#define KEY_LINE_H 13 /* pixels per layer in the key */

/* Mean, least and largest l1 over seeds. */
static void over_seeds(const mup_coord_result *r, int w, int t, int l, double *mean, double *lo, double *hi) {
    *mean = 0.0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int s = 0; s < r->n_seeds; s++) {
        double v = mup_coord_stat_at(r, w, s, t, l)->l1;
        *mean += v / r->n_seeds;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
}

/* Whether a layer has a point a log axis can show at step t. */
static bool plottable(const mup_coord_result *r, int t, int l) {
    for (int w = 0; w < r->n_widths; w++) {
        double mean, lo, hi;
        over_seeds(r, w, t, l, &mean, &lo, &hi);
        if (mean > 0.0 && isfinite(mean))
            return true;
    }
    return false;
}

/* One block per (run, step, layer), widths in rows: gnuplot's index counts them in this order. */
static void write_data(FILE *f, const mup_coord_result *const *runs, int n_runs) {
    mup_plot_comment(f, "width  l1 (mean over seeds)  l1 (least)  l1 (largest); one block per parametrization, "
                        "step and layer");
    for (int p = 0; p < n_runs; p++) {
        const mup_coord_result *r = runs[p];
        for (int t = 0; t < r->steps; t++)
            for (int l = 0; l < r->n_layers; l++) {
                mup_plot_comment(f, "%s t=%d %s", mup_parametrization_name(r->parametrization), t + 1,
                                 r->layers[l].name);
                for (int w = 0; w < r->n_widths; w++) {
                    double mean, lo, hi;
                    over_seeds(r, w, t, l, &mean, &lo, &hi);
                    fprintf(f, "%d %.9g %.9g %.9g\n", r->widths[w], mean, lo, hi);
                }
                fprintf(f, "\n\n");
            }
    }
}

static void row_range(const mup_coord_result *r, double *ymin, double *ymax, int *wmin, int *wmax) {
    *ymin = INFINITY;
    *ymax = 0.0;
    *wmin = *wmax = r->widths[0];
    for (int w = 0; w < r->n_widths; w++) {
        *wmin = r->widths[w] < *wmin ? r->widths[w] : *wmin;
        *wmax = r->widths[w] > *wmax ? r->widths[w] : *wmax;
        for (int t = 0; t < r->steps; t++)
            for (int l = 0; l < r->n_layers; l++) {
                double mean, lo, hi;
                over_seeds(r, w, t, l, &mean, &lo, &hi);
                if (mean > 0.0 && isfinite(mean)) {
                    *ymin = fmin(*ymin, mean);
                    *ymax = fmax(*ymax, mean);
                }
            }
    }
    if (!(*ymax > 0.0)) {
        *ymin = 0.1;
        *ymax = 10.0;
    }
}

/* Layer l's line: 8 colours, 13 point shapes and 4 dash patterns, so that 24 layers stay apart; a
 * failing layer drawn thick and an inconclusive one a little thicker, so that the eye finds them. */
static void line_style(FILE *f, int l, mup_coord_status status) {
    static const double width[] = {[MUP_COORD_PASS] = 1.5, [MUP_COORD_FAIL] = 4.5, [MUP_COORD_INCONCLUSIVE] = 2.5};
    fprintf(f, "with linespoints lt %d pt %d dt %d lw %g", l % 8 + 1, l % 13 + 1, l / 8 % 4 + 1, width[status]);
}

/* The panel's place on the canvas, in screen fractions. */
static void place(FILE *f, double left, double right, double bottom, double top) {
    fprintf(f, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", left, right);
    fprintf(f, "set bmargin at screen %.4f\nset tmargin at screen %.4f\n", bottom, top);
}

static void write_panel(FILE *f, const mup_coord_result *r, int t, int first_index) {
    const char *name = r->parametrization == MUP_PARAMETRIZATION_MUP ? "µP" : "SP";
    int failing = 0;
    for (int l = 0; l < r->n_layers; l++)
        failing += mup_coord_verdict_at(r, t, l)->status == MUP_COORD_FAIL;
    fprintf(f, "set title ");
    if (failing)
        mup_plot_string(f, "%s, t = %d%s: %d failing (thick)", name, t + 1, t == 0 ? " (init)" : "", failing);
    else
        mup_plot_string(f, "%s, t = %d%s", name, t + 1, t == 0 ? " (init)" : "");
    fprintf(f, " noenhanced\n");
    const char *sep = "plot ";
    for (int l = 0; l < r->n_layers; l++) {
        if (!plottable(r, t, l))
            continue; /* all zero: nothing on a log axis (the verdict says "zero") */
        fprintf(f, "%s'coord.dat' index %d using 1:2 ", sep, first_index + t * r->n_layers + l);
        line_style(f, l, mup_coord_verdict_at(r, t, l)->status);
        fprintf(f, " notitle");
        sep = ", \\\n     ";
    }
    if (sep[0] == 'p')
        fprintf(f, "plot 1/0 notitle");
    fprintf(f, "\n");
}

/* The key, once, as a plot of nothing in the column right of the panels (a key inside a panel would
 * be cut to the panel's height). */
static void write_key(FILE *f, const mup_coord_result *r, double left) {
    place(f, left, 0.99, 0.02, 0.92);
    fprintf(f, "unset title\nunset border\nunset grid\nunset tics\nunset xlabel\nunset ylabel\nunset logscale\n"
               "set xrange [0:1]\nset yrange [0:1]\n"
               "set key inside left top box opaque font ',8' spacing 0.9 maxrows %d\n", r->n_layers);
    for (int l = 0; l < r->n_layers; l++) {
        fprintf(f, "%s NaN ", l ? ", \\\n    " : "plot");
        line_style(f, l, MUP_COORD_PASS); /* the key names the style; the panels show the verdict */
        fprintf(f, " title ");
        mup_plot_string(f, "%s", r->layers[l].name);
        fprintf(f, " noenhanced");
    }
    fprintf(f, "\n");
}

static void write_script(FILE *f, const mup_coord_result *const *runs, int n_runs, const char *title) {
    int cols = runs[0]->steps;
    int height = n_runs * PANEL_H + 40, key_h = runs[0]->n_layers * KEY_LINE_H + 80;
    mup_plot_header(f, "coord.png", cols * PANEL_W + KEY_W, height > key_h ? height : key_h);
    fprintf(f, "set logscale x 2\nset logscale y\nset format y '10^{%%L}'\n");
    /* the axis is the library's word ("width", "depth"), never a user's text */
    fprintf(f, "set xlabel '%s' offset 0,0.5\nset ylabel 'mean |x|'\n", strcmp(runs[0]->axis, "depth") == 0 ? "depth" : "width");
    fprintf(f, "unset key\nset multiplot title ");
    mup_plot_string(f, "%s", title);
    fprintf(f, " noenhanced\n");
    double panels = (double)cols * PANEL_W / (cols * PANEL_W + KEY_W), col_w = panels / cols;
    double top = 0.92, row_h = (top - 0.01) / n_runs;
    int index = 0;
    for (int p = 0; p < n_runs; p++) {
        const mup_coord_result *r = runs[p];
        double ymin, ymax;
        int wmin, wmax;
        row_range(r, &ymin, &ymax, &wmin, &wmax);
        fprintf(f, "set xrange [%g:%g]\nset yrange [%.6g:%.6g]\n", wmin / 1.2, wmax * 1.2, ymin / 2, ymax * 2);
        double row_top = top - p * row_h;
        for (int t = 0; t < r->steps; t++) {
            place(f, t * col_w + 0.055, (t + 1) * col_w - 0.01, row_top - row_h + 0.09, row_top - 0.05);
            write_panel(f, r, t, index);
        }
        index += r->steps * r->n_layers;
    }
    write_key(f, runs[0], panels);
    fprintf(f, "unset multiplot\n");
}

mup_status mup_coord_plot(const char *dir, const mup_coord_result *const *runs, int n_runs, const char *title) {
    FILE *f;
    mup_status s = mup_plot_open(dir, "coord.dat", &f);
    if (s)
        return s;
    write_data(f, runs, n_runs);
    s = mup_plot_close(f, dir, "coord.dat");
    s = s ? s : mup_plot_open(dir, "coord.gp", &f);
    if (s)
        return s;
    write_script(f, runs, n_runs, title);
    s = mup_plot_close(f, dir, "coord.gp");
    return s ? s : mup_plot_render(dir, "coord.gp");
}

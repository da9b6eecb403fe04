/* Plots: a tool writes its data and a gnuplot script into an output directory, then renders the PNG
 * here. The script and data stay beside the plot so that a user can restyle it and rerun gnuplot. */
#ifndef MUP_SWEEP_PLOT_H
#define MUP_SWEEP_PLOT_H

#include <stdio.h>

#include "mup/error.h"

/* Opens DIR/NAME for writing; the caller writes and closes it with mup_plot_close. */
mup_status mup_plot_open(const char *dir, const char *name, FILE **out);
/* Closes what mup_plot_open opened: MUP_ERR_IO naming DIR/NAME and the reason (a full disk: ENOSPC,
 * a file size limit: EFBIG) when any write to it failed. */
mup_status mup_plot_close(FILE *f, const char *dir, const char *name);
/* Runs `gnuplot ./SCRIPT` inside DIR (the script names its data and its PNG relative to DIR), with
 * no shell between, its stderr in DIR/gnuplot.log (removed when empty). MUP_ERR_IO when gnuplot is
 * missing (naming the gnuplot-nox package) or fails. */
mup_status mup_plot_render(const char *dir, const char *script);
/* The lines every script starts with: a PNG terminal of size w x h writing DIR/png. */
void mup_plot_header(FILE *f, const char *png, int w, int h);

/* Every text from outside (a config's name, a key, a metric, a layer, a file name) reaches a script
 * through mup_plot_string: the formatted text as one single-quoted gnuplot string, in which gnuplot
 * substitutes neither backquotes nor macros and nothing is an escape. A ' in the text becomes ’, so
 * that no text can close the string; control characters (a newline would end the command) become
 * '?'. Pair it with noenhanced where the text is shown, so that ^ _ { } and @ print as themselves. */
void mup_plot_string(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A comment line of a data file ("# " TEXT), its control characters replaced likewise: a newline in
 * a name cannot start a data line. */
void mup_plot_comment(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

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
/* Runs `gnuplot SCRIPT` inside DIR (the script names its data and its PNG relative to DIR).
 * MUP_ERR_IO when gnuplot is missing (naming the gnuplot-nox package) or fails. */
mup_status mup_plot_render(const char *dir, const char *script);
/* The lines every script starts with: a PNG terminal of size w x h writing DIR/png. */
void mup_plot_header(FILE *f, const char *png, int w, int h);

#endif

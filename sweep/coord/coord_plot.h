/* mup-coord's plot: one panel per step t (columns) and parametrization (rows), x = width (log2; depth across depth),
 * y = mean |x| (log), one line per layer, mean over seeds; a layer that fails at a step is drawn thick
 * in that panel, an inconclusive one thicker than one that passes, and each panel's title counts its
 * failing layers. Writes coord.dat and coord.gp into the
 * directory and renders coord.png with gnuplot. */
#ifndef MUP_SWEEP_COORD_PLOT_H
#define MUP_SWEEP_COORD_PLOT_H

#include "mup/coord.h"

/* runs: one result per parametrization (rows of the plot), all with the same steps. title heads it. */
mup_status mup_coord_plot(const char *dir, const mup_coord_result *const *runs, int n_runs, const char *title);

#endif

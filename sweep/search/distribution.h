/* The search distributions, one table row each: what a config calls it, and how its values map to the
 * search's own scale. Every ranged distribution is uniform in its scale: the value itself (uniform,
 * int), its natural log (loguniform) or its log2 (log2uniform, whose low and high are given in the
 * scale already, as exponents of 2). The samplers draw, the grid spaces its points, the report places
 * a value and the warnings judge its distance to an edge, all in that scale and all through here. */
#ifndef MUP_SWEEP_DISTRIBUTION_H
#define MUP_SWEEP_DISTRIBUTION_H

#include <stdbool.h>

#include "config.h"

typedef struct {
    const char *name;          /* "loguniform" */
    bool ranged;               /* low and high; else a list of values (choice) */
    bool integer;              /* whole numbers only (int) */
    bool log;                  /* a log scale: plotted on a log2 axis */
    bool bounds_in_scale;      /* low and high are in the scale (log2uniform's exponents), not values */
    double (*to_scale)(double v);
    double (*from_scale)(double x);
    const char *takes, *draws; /* for docs/sweep-config.md */
} mup_distribution_info;

const mup_distribution_info *mup_distribution(mup_dist_kind k);
/* The distributions' names in enum order, NULL-terminated (the config's enum key). */
extern const char *const mup_distribution_names[];

/* A ranged dimension's ends in its scale, and as values. */
double mup_search_dim_scale_low(const mup_search_dim *d);
double mup_search_dim_scale_high(const mup_search_dim *d);
double mup_search_dim_value_low(const mup_search_dim *d);
double mup_search_dim_value_high(const mup_search_dim *d);
/* Where v sits between the ends, 0 to 1, in the scale; NAN for a choice, which has no order. */
double mup_search_dim_position(const mup_search_dim *d, double v);
/* The value at x in the scale, kept within the ends (and whole for int). */
double mup_search_dim_from_scale(const mup_search_dim *d, double x);
/* A value's x coordinate on the report's plots: log2 of it for a log distribution, else itself. */
double mup_search_dim_plot_x(const mup_search_dim *d, double v);

#endif

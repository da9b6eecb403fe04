#include "distribution.h"

#include <math.h>

static double same(double v) { return v; }
static double ln(double v) { return log(v); }

static const mup_distribution_info table[] = {
    /*                         name     ranged integer log   in_scale */
    [MUP_DIST_UNIFORM] = {"uniform", true, false, false, false, same, same, "`low`, `high`",
                          "a value uniform in [low, high)"},
    [MUP_DIST_LOGUNIFORM] = {"loguniform", true, false, true, false, ln, exp, "`low` > 0, `high`",
                             "a value whose logarithm is uniform: low × (high/low)^u"},
    [MUP_DIST_LOG2UNIFORM] = {"log2uniform", true, false, true, true, log2, exp2, "`low`, `high` (exponents)",
                              "2^x for x uniform in [low, high): `-14..-4` is 2^-14 to 2^-4"},
    [MUP_DIST_INT] = {"int", true, true, false, false, same, same, "`low`, `high` (integers)",
                      "an integer from low to high, both included"},
    [MUP_DIST_CHOICE] = {"choice", false, false, false, false, same, same, "`values`: [...]",
                         "one of the values: numbers, `true`/`false`, or names for enum keys"},
};

const char *const mup_distribution_names[] = {"uniform", "loguniform", "log2uniform", "int", "choice", NULL};

const mup_distribution_info *mup_distribution(mup_dist_kind k) {
    MUP_ASSERT(k >= 0 && k < (int)(sizeof table / sizeof table[0]), "search distribution %d unknown", (int)k);
    return &table[k];
}

double mup_search_dim_scale_low(const mup_search_dim *d) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    return i->bounds_in_scale ? d->low : i->to_scale(d->low);
}

double mup_search_dim_scale_high(const mup_search_dim *d) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    return i->bounds_in_scale ? d->high : i->to_scale(d->high);
}

double mup_search_dim_value_low(const mup_search_dim *d) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    return i->bounds_in_scale ? i->from_scale(d->low) : d->low;
}

double mup_search_dim_value_high(const mup_search_dim *d) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    return i->bounds_in_scale ? i->from_scale(d->high) : d->high;
}

double mup_search_dim_position(const mup_search_dim *d, double v) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    if (!i->ranged)
        return NAN;
    double lo = mup_search_dim_scale_low(d), hi = mup_search_dim_scale_high(d);
    return (i->to_scale(v) - lo) / (hi - lo);
}

double mup_search_dim_from_scale(const mup_search_dim *d, double x) {
    const mup_distribution_info *i = mup_distribution(d->dist);
    double v = i->from_scale(x), lo = mup_search_dim_value_low(d), hi = mup_search_dim_value_high(d);
    v = v < lo ? lo : v > hi ? hi : v;
    return i->integer ? floor(v + 0.5) : v;
}

double mup_search_dim_plot_x(const mup_search_dim *d, double v) { return mup_distribution(d->dist)->log ? log2(v) : v; }

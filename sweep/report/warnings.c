#include "warnings.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "distribution.h"
#include "sampler.h"

static void add(mup_transfer_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(mup_transfer_warnings *w, const char *fmt, ...) {
    if (w->n == MUP_WARNINGS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->text[w->n++], sizeof w->text[0], fmt, ap);
    va_end(ap);
}

/* One step of the search along a dimension, in position units: the grid's, or for random and Sobol
 * search the spacing of a grid with as many points as the trials give each ranged dimension. */
static double step(const mup_sweep_config *c, const mup_search_dim *d) {
    if (c->search.sampler == MUP_SAMPLER_GRID)
        return 1.0 / (d->grid - 1);
    int ranged = 0;
    for (int i = 0; i < c->search.n_dims; i++)
        ranged += mup_distribution(c->search.dims[i].dist)->ranged;
    double points = ceil(pow(c->search.trials, 1.0 / (ranged ? ranged : 1)));
    return 1.0 / (points > 2 ? points - 1 : 1);
}

static const char *name(const mup_search_dim *d, char *buf, size_t n) {
    return mup_key_path(buf, n, d->key->section, d->key->name);
}

void mup_transfer_warn(const mup_sweep_config *c, const mup_transfer *t, mup_transfer_warnings *w) {
    w->n = 0;
    int widest = mup_proxy_at(c, t->select_proxy).width;
    char label[MUP_PROXY_LABEL_MAX], sel[MUP_PROXY_LABEL_MAX];
    mup_proxy_label(c, t->select_proxy, sel, sizeof sel);
    if (c->has_target && c->target.width < widest)
        add(w, "the target (width %d) is narrower than the widest proxy (%d): µTransfer carries settings to wider "
            "models", c->target.width, widest);
    if (t->best < 0)
        return;
    double *best = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *best);
    double *other = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *other);
    mup_transfer_trial_values(t, t->best, best);
    char key[128], text[64];
    for (int d = 0; d < c->search.n_dims; d++) {
        const mup_search_dim *dim = &c->search.dims[d];
        double u = mup_search_dim_position(dim, best[d]), s = step(c, dim);
        if (isnan(u))
            continue;
        /* on the grid's end point, or within half a step of the range's end */
        if (u < (c->search.sampler == MUP_SAMPLER_GRID ? 1e-9 : s / 2) ||
            u > 1 - (c->search.sampler == MUP_SAMPLER_GRID ? 1e-9 : s / 2)) {
            mup_key_format(dim->key, best[d], text, sizeof text);
            add(w, "%s = %s is on the %s edge of its searched range: the optimum may lie beyond it (widen the range)",
                name(dim, key, sizeof key), text, u < 0.5 ? "lower" : "upper");
        }
        for (int wi = 0; wi < t->n_proxies; wi++) {
            if (wi == t->select_proxy || t->best_trial[wi] < 0)
                continue;
            mup_transfer_trial_values(t, t->best_trial[wi], other);
            double gap = fabs(mup_search_dim_position(dim, other[d]) - u);
            if (gap > s * (1 + 1e-6)) {
                char there[64];
                mup_key_format(dim->key, best[d], text, sizeof text);
                mup_key_format(dim->key, other[d], there, sizeof there);
                add(w, "%s: width %s's optimum (%s) is %.1f search steps from width %s's (%s): µTransfer may not hold "
                    "for this key", name(dim, key, sizeof key), mup_proxy_label(c, wi, label, sizeof label), there,
                    gap / s, sel, text);
            }
        }
    }
    free(best);
    free(other);
}

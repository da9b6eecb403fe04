#include "lint.h"

#include <math.h>

#include "distribution.h"

static void check_target(const mup_sweep_config *c) {
    int widest = 0;
    for (int i = 0; i < c->n_proxy_widths; i++)
        widest = c->proxy_widths[i] > widest ? c->proxy_widths[i] : widest;
    if (c->has_target && c->target.width < widest)
        mup_log(MUP_LOG_WARN, "target.width %d is narrower than the widest proxy (%d): µTransfer carries a setting "
                "from narrow models to wider ones; the target is meant to be the widest model", c->target.width,
                widest);
}

/* An exponent of 2 between -1 and 1 but not 0 barely changes the value (2^0.0001 is 1.00007): bounds
 * like 1e-4 are values meant for loguniform. */
static bool looks_like_a_value(double x) { return x != 0 && fabs(x) < 1 && x != round(x * 4) / 4; }

static mup_status check_dim(const mup_sweep_config *c, const mup_search_dim *d, const cJSON *root) {
    const mup_key *k = d->key;
    if (d->grid > 0 && c->search.sampler != MUP_SAMPLER_GRID)
        return mup_error(MUP_ERR_INVALID, "search.space.%s.grid: %d points, but search.sampler is %s: only the grid "
                         "sampler takes points (remove grid, or set the sampler to grid)", k->name, d->grid,
                         mup_sampler_name(c->search.sampler));
    if (mup_distribution(d->dist)->bounds_in_scale && (looks_like_a_value(d->low) || looks_like_a_value(d->high)))
        mup_log(MUP_LOG_WARN, "search.space.%s: log2uniform bounds are exponents of 2 (low %g, high %g search "
                "%g to %g); for values use loguniform, or give their exponents (low %.3g, high %.3g)", k->name, d->low, d->high,
                exp2(d->low), exp2(d->high), log2(fabs(d->low)), log2(fabs(d->high)));
    const cJSON *section = cJSON_GetObjectItemCaseSensitive(root, k->section), *v;
    cJSON_ArrayForEach(v, section) {
        if (!v->string || mup_spec_key_find(k->section, v->string) != k)
            continue;
        char *text = cJSON_PrintUnformatted(v);
        mup_log(MUP_LOG_WARN, "%s.%s is set (%.40s) and searched (search.space.%s): the search decides it; remove "
                "one of the two", k->section, k->name, text ? text : "", k->name);
        cJSON_free(text);
    }
    return MUP_OK;
}

mup_status mup_sweep_config_lint(const mup_sweep_config *c, const cJSON *root) {
    check_target(c);
    for (int i = 0; i < c->search.n_dims; i++) {
        mup_status s = check_dim(c, &c->search.dims[i], root);
        if (s)
            return s;
    }
    return MUP_OK;
}

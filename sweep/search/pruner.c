#include "pruner.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "alloc.h"

long mup_pruner_rung_step(const mup_pruner *p, int k) {
    long s = p->min_resource;
    for (int i = 0; i < k; i++) {
        if (s > INT_MAX / p->reduction_factor)
            return -1;
        s *= p->reduction_factor;
    }
    return s;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The run's value at its first point at or after step, NAN when it has none. */
static double value_at_or_after(const mup_curve *c, long step) {
    for (int i = 0; i < c->n; i++)
        if (c->step[i] >= step)
            return c->value[i];
    return NAN;
}

static bool median_stops(const mup_pruner *p, const mup_curve *self, const mup_curve *others, int n_others) {
    int step = self->step[self->n - 1];
    if (step < p->warmup_steps)
        return false;
    double best = NAN;
    for (int i = 0; i < self->n; i++)
        if (isfinite(self->value[i]) && !(best <= self->value[i]))
            best = self->value[i];
    if (!isfinite(best))
        return false;
    double *v = mup_tool_xmalloc(((size_t)n_others + 1) * sizeof *v);
    int n = 0;
    for (int o = 0; o < n_others; o++) {
        if (!others[o].complete)
            continue;
        for (int i = 0; i < others[o].n; i++)
            if (others[o].step[i] == step && isfinite(others[o].value[i])) {
                v[n++] = others[o].value[i];
                break;
            }
    }
    bool stop = false;
    if (n >= p->min_trials && n > 0) {
        qsort(v, (size_t)n, sizeof *v, by_value);
        double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
        stop = best > median;
    }
    free(v);
    return stop;
}

/* Whether value is among the best max(1, floor(n / eta)) of the rung's values (n of them, itself among
 * them), ties going on. */
static bool promoted(const mup_pruner *p, double value, double *rung, int n) {
    qsort(rung, (size_t)n, sizeof *rung, by_value);
    int keep = n / p->reduction_factor;
    return value <= rung[(keep > 0 ? keep : 1) - 1];
}

static bool asha_stops(const mup_pruner *p, const mup_curve *self, const mup_curve *others, int n_others, int steps) {
    int last = self->step[self->n - 1], before = self->n > 1 ? self->step[self->n - 2] : 0;
    double value = self->value[self->n - 1];
    if (!isfinite(value))
        return false;
    double *rung = mup_tool_xmalloc(((size_t)n_others + 1) * sizeof *rung);
    bool stop = false;
    /* the rungs this report is the first to reach, each decided as Optuna's pruner decides them in turn */
    for (int k = 0; !stop; k++) {
        long r = mup_pruner_rung_step(p, k);
        if (r < 0 || r > last || r >= steps)
            break;
        if (r <= before)
            continue;
        int n = 0;
        rung[n++] = value;
        for (int o = 0; o < n_others; o++) {
            double v = value_at_or_after(&others[o], r);
            if (isfinite(v))
                rung[n++] = v;
        }
        stop = !promoted(p, value, rung, n);
    }
    free(rung);
    return stop;
}

bool mup_pruner_should_stop(const mup_pruner *p, const mup_curve *self, const mup_curve *others, int n_others,
                            int steps) {
    if (p->kind == MUP_PRUNER_NONE || self->n == 0 || self->step[self->n - 1] >= steps)
        return false;
    return p->kind == MUP_PRUNER_MEDIAN ? median_stops(p, self, others, n_others)
                                        : asha_stops(p, self, others, n_others, steps);
}

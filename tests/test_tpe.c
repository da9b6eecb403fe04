/* The TPE sampler (sweep/search/tpe.h) as pure functions: it beats random search on functions with a
 * known optimum in a stated majority of seeds, it is a function of its trials and RNG state, it
 * splits and weighs as documented, and the sweep's draw keeps to each key's scale and range. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mup/rng.h"
#include "sampler.h"
#include "testing.h"
#include "tpe.h"

#define BUDGET 30     /* evaluations of a search, Branin's 50 */
#define BUDGET_MAX 50
#define STARTUP 10
#define SEEDS 20

typedef double (*objective_fn)(const double *x);

/* (x - 0.3)^2 on [0, 1] */
static double bowl(const double *x) { return (x[0] - 0.3) * (x[0] - 0.3); }
/* a bowl in log10 of a loguniform [1e-5, 1] key, seen by TPE as its natural log: optimum at 3e-3 */
static double log_bowl(const double *x) {
    double e = x[0] / log(10.0) - log10(3e-3);
    return e * e;
}
/* a 2-D bowl on [0, 1]^2 at (0.3, 0.6) */
static double bowl_2d(const double *x) { return (x[0] - 0.3) * (x[0] - 0.3) + (x[1] - 0.6) * (x[1] - 0.6); }
/* Branin on [-5, 10] x [0, 15]: minimum 0.397887 at three points */
static double branin(const double *x) {
    double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10, t = 1 / (8 * M_PI);
    double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
    return a * u * u + s * (1 - t) * cos(x[0]) + s;
}
/* an integer key (optimum 7 of 0..20) and a choice of 5 (best index 3) */
static double mixed(const double *x) { return fabs(x[0] - 7) + (x[1] == 3 ? 0 : 4); }

static double uniform_in(const mup_tpe_dim *d, mup_rng *r) {
    if (d->n_choices > 0)
        return mup_rng_below(r, (uint32_t)d->n_choices);
    if (d->integer)
        return d->low + mup_rng_below(r, (uint32_t)(d->high - d->low + 1));
    return d->low + mup_rng_uniform(r) * (d->high - d->low);
}

/* The best value found in budget evaluations: random search, or TPE after the same STARTUP random points. */
static double search(const mup_tpe_dim *dims, int K, objective_fn f, int budget, uint64_t seed, bool tpe) {
    double x[BUDGET_MAX * 2], y[BUDGET_MAX], best = INFINITY;
    mup_rng r = mup_rng_stream(seed, 0);
    mup_tpe_opts o = {.gamma = 0.1, .n_candidates = 24};
    for (int i = 0; i < budget; i++) {
        if (tpe && i >= STARTUP) {
            mup_rng t = mup_rng_stream(seed, 1000 + (uint64_t)i);
            cr_assert_eq(mup_tpe_suggest(dims, K, x, y, i, &o, &t, x + i * K), MUP_OK);
        } else {
            for (int d = 0; d < K; d++)
                x[i * K + d] = uniform_in(&dims[d], &r);
        }
        y[i] = f(x + i * K);
        best = fmin(best, y[i]);
    }
    return best;
}

/* How many of SEEDS seeds TPE finds a strictly better best than random search. */
static int tpe_wins(const mup_tpe_dim *dims, int K, objective_fn f, int budget) {
    int wins = 0;
    for (uint64_t s = 0; s < SEEDS; s++)
        wins += search(dims, K, f, budget, s, true) < search(dims, K, f, budget, s, false);
    return wins;
}

Test(tpe, beats_random_search_on_a_1d_bowl_in_most_seeds) {
    mup_tpe_dim d = {.low = 0, .high = 1};
    int wins = tpe_wins(&d, 1, bowl, BUDGET);
    cr_assert_geq(wins, 15, "TPE beat random search in %d of %d seeds", wins, SEEDS);
}

Test(tpe, beats_random_search_on_a_log_scale_bowl_in_most_seeds) {
    mup_tpe_dim d = {.low = log(1e-5), .high = log(1.0)};
    int wins = tpe_wins(&d, 1, log_bowl, BUDGET);
    cr_assert_geq(wins, 15, "TPE beat random search in %d of %d seeds", wins, SEEDS);
}

Test(tpe, beats_random_search_on_a_2d_bowl_in_most_seeds) {
    mup_tpe_dim d[2] = {{.low = 0, .high = 1}, {.low = 0, .high = 1}};
    int wins = tpe_wins(d, 2, bowl_2d, BUDGET);
    cr_assert_geq(wins, 15, "TPE beat random search in %d of %d seeds", wins, SEEDS);
}

/* Branin's three valleys are a poor fit for independent keys: 30 evaluations win only 13 of 20 */
Test(tpe, beats_random_search_on_branin_with_50_evaluations_in_most_seeds) {
    mup_tpe_dim d[2] = {{.low = -5, .high = 10}, {.low = 0, .high = 15}};
    int wins = tpe_wins(d, 2, branin, BUDGET_MAX);
    cr_assert_geq(wins, 15, "TPE beat random search in %d of %d seeds", wins, SEEDS);
}

Test(tpe, is_no_worse_than_random_search_on_an_integer_and_a_choice_in_most_seeds) {
    mup_tpe_dim d[2] = {{.low = 0, .high = 20, .integer = true}, {.n_choices = 5}};
    int wins = 0, ties = 0;
    for (uint64_t s = 0; s < SEEDS; s++) {
        double t = search(d, 2, mixed, BUDGET, s, true), r = search(d, 2, mixed, BUDGET, s, false);
        wins += t < r;
        ties += t == r;
    }
    /* on 105 points both often hit the optimum (0): measured 12 wins and 4 ties */
    cr_assert_geq(wins + ties, 15, "TPE won %d and tied %d of %d seeds", wins, ties, SEEDS);
    cr_assert_geq(wins, 10, "TPE won only %d of %d seeds", wins, SEEDS);
}

Test(tpe, the_same_trials_and_rng_state_give_the_same_point_and_another_seed_another) {
    mup_tpe_dim d[2] = {{.low = -5, .high = 10}, {.low = 0, .high = 15}};
    double x[2 * 12], y[12];
    mup_rng r = mup_rng_new(5);
    for (int i = 0; i < 12; i++) {
        x[2 * i] = uniform_in(&d[0], &r);
        x[2 * i + 1] = uniform_in(&d[1], &r);
        y[i] = branin(x + 2 * i);
    }
    mup_tpe_opts o = {.gamma = 0.25, .n_candidates = 24};
    double a[2], b[2], other[2];
    mup_rng ra = mup_rng_stream(9, 3), rb = mup_rng_stream(9, 3), rc = mup_rng_stream(9, 4);
    cr_assert_eq(mup_tpe_suggest(d, 2, x, y, 12, &o, &ra, a), MUP_OK);
    cr_assert_eq(mup_tpe_suggest(d, 2, x, y, 12, &o, &rb, b), MUP_OK);
    cr_assert_eq(mup_tpe_suggest(d, 2, x, y, 12, &o, &rc, other), MUP_OK);
    cr_assert(a[0] == b[0] && a[1] == b[1], "(%g, %g) then (%g, %g)", a[0], a[1], b[0], b[1]);
    cr_assert(a[0] != other[0] || a[1] != other[1], "another stream drew the same point");
}

Test(tpe, the_good_group_is_ceil_gamma_n_capped_at_25_and_never_a_failed_trial) {
    cr_assert_eq(mup_tpe_n_good(0.1, 1, 1), 1);
    cr_assert_eq(mup_tpe_n_good(0.1, 10, 10), 1);
    cr_assert_eq(mup_tpe_n_good(0.1, 11, 11), 2);
    cr_assert_eq(mup_tpe_n_good(0.1, 400, 400), MUP_TPE_GOOD_MAX);
    cr_assert_eq(mup_tpe_n_good(0.5, 10, 3), 3, "a failed trial joined the good group");
    cr_assert_eq(mup_tpe_n_good(0.5, 10, 0), 0);
}

Test(tpe, failed_trials_are_bad_so_draws_avoid_where_they_failed) {
    /* runs below 0.5 fail (+inf), the rest are a bowl at 0.7 */
    mup_tpe_dim d = {.low = 0, .high = 1};
    double x[40], y[40];
    for (int i = 0; i < 40; i++) {
        x[i] = (i + 0.5) / 40;
        y[i] = x[i] < 0.5 ? INFINITY : (x[i] - 0.7) * (x[i] - 0.7);
    }
    mup_tpe_opts o = {.gamma = 0.1, .n_candidates = 24};
    int above = 0;
    for (uint64_t s = 0; s < 20; s++) {
        mup_rng r = mup_rng_new(s);
        double v;
        cr_assert_eq(mup_tpe_suggest(&d, 1, x, y, 40, &o, &r, &v), MUP_OK);
        cr_assert(v >= 0 && v <= 1, "%g is out of range", v);
        above += v >= 0.5;
    }
    cr_assert_geq(above, 19, "%d of 20 draws landed where the runs succeed", above);
}

Test(tpe, with_no_finished_trial_the_draw_is_uniform) {
    mup_tpe_dim d = {.low = 2, .high = 6};
    mup_tpe_opts o = {.gamma = 0.1, .n_candidates = 24};
    int bins[4] = {0};
    for (uint64_t s = 0; s < 4000; s++) {
        mup_rng r = mup_rng_new(s);
        double v;
        cr_assert_eq(mup_tpe_suggest(&d, 1, NULL, NULL, 0, &o, &r, &v), MUP_OK);
        bins[(int)fmin(v - 2, 3)]++;
    }
    /* the prior alone is a Gaussian truncated to the range: not flat, but it covers every quarter */
    for (int b = 0; b < 4; b++)
        cr_assert_gt(bins[b], 600, "quarter %d got %d of 4000 draws", b, bins[b]);
}

Test(tpe, a_parzen_density_integrates_to_one_over_its_range) {
    mup_tpe_dim d = {.low = -1, .high = 3};
    double values[5] = {-0.9, 0.2, 0.25, 2.0, 2.99};
    for (int n = 0; n <= 5; n++) {
        double sum = 0, h = 4.0 / 20000;
        for (int i = 0; i < 20000; i++) {
            double lp;
            cr_assert_eq(mup_tpe_log_density(&d, values, n, -1 + (i + 0.5) * h, &lp), MUP_OK);
            sum += exp(lp) * h;
        }
        cr_assert(fabs(sum - 1) < 1e-3, "%d values: the density integrates to %.6f", n, sum);
    }
    mup_tpe_dim choice = {.n_choices = 3};
    double picks[4] = {0, 2, 2, 2}, sum = 0, p2;
    for (int k = 0; k < 3; k++) {
        double lp;
        cr_assert_eq(mup_tpe_log_density(&choice, picks, 4, k, &lp), MUP_OK);
        sum += exp(lp);
    }
    cr_assert(fabs(sum - 1) < 1e-12, "a choice's probabilities sum to %.15f", sum);
    cr_assert_eq(mup_tpe_log_density(&choice, picks, 4, 2, &p2), MUP_OK);
    cr_assert(fabs(exp(p2) - 4.0 / 7) < 1e-12, "p(2) = %g, not (3 + 1) / (4 + 3)", exp(p2));
}

/* ---- the sweep's draw (sampler.h) ---- */

static mup_sweep_config *config(const char *space, int startup) {
    char text[1024];
    snprintf(text, sizeof text,
             "{'search': {'sampler': 'tpe', 'trials': 40, 'seed': 3, 'tpe': {'n_startup_trials': %d},"
             " 'space': {%s}}, 'proxy_widths': [64]}", startup, space);
    char *json = test_json_quotes(text);
    mup_sweep_config *c = NULL;
    cr_assert_eq(mup_sweep_config_parse(json, "test.json", &c), MUP_OK, "%s", mup_error_message());
    free(json);
    return c;
}

Test(tpe, the_sweeps_draws_keep_each_keys_scale_and_range) {
    mup_sweep_config *c = config("'lr': {'dist': 'log2uniform', 'low': -14, 'high': -4},"
                                 " 'output_mult': {'dist': 'loguniform', 'low': 0.25, 'high': 16},"
                                 " 'depth': {'dist': 'int', 'low': 1, 'high': 4},"
                                 " 'activation': {'dist': 'choice', 'values': ['relu', 'gelu']}", 8);
    cr_assert_eq(mup_plan_fixed(c), 8);
    int K = c->search.n_dims;
    double values[40 * 4], score[40];
    for (int t = 0; t < 8; t++) {
        mup_plan_values(c, t, values + t * K);
        score[t] = t;
    }
    for (int t = 8; t < 40; t++) {
        cr_assert_eq(mup_plan_draw(c, t, values, score, t, values + t * K), MUP_OK, "%s", mup_error_message());
        for (int d = 0; d < K; d++)
            cr_assert(mup_search_dim_holds(&c->search.dims[d], values[t * K + d]), "trial %d: %s = %g", t,
                      c->search.dims[d].key->name, values[t * K + d]);
        /* the lr the model likes: near trial 0's (the best), in log2 */
        score[t] = fabs(log2(values[t * K + 3] / values[3]));
    }
    double again[4];
    cr_assert_eq(mup_plan_draw(c, 39, values, score, 39, again), MUP_OK);
    cr_assert_eq(memcmp(again, values + 39 * K, sizeof again), 0, "the same trials drew another point");
    mup_sweep_config_free(c);
}

Test(tpe, startup_trials_are_the_random_samplers) {
    mup_sweep_config *c = config("'lr': {'dist': 'log2uniform', 'low': -14, 'high': -4}", 10);
    char *text = test_json_quotes("{'search': {'sampler': 'random', 'trials': 40, 'seed': 3, 'space': {'lr':"
                                  " {'dist': 'log2uniform', 'low': -14, 'high': -4}}}, 'proxy_widths': [64]}");
    mup_sweep_config *r = NULL;
    cr_assert_eq(mup_sweep_config_parse(text, "test.json", &r), MUP_OK, "%s", mup_error_message());
    for (int t = 0; t < 10; t++) {
        double a, b;
        mup_plan_values(c, t, &a);
        mup_plan_values(r, t, &b);
        cr_assert_eq(a, b, "trial %d: tpe %g, random %g", t, a, b);
    }
    free(text);
    mup_sweep_config_free(r);
    mup_sweep_config_free(c);
}

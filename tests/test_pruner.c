/* The pruners' decisions against hand-computed fixtures: the median rule with its ties, warm-up and
 * minimum of runs; ASHA's rung promotion with eta = 3, run by run as a --jobs 1 sweep meets them; the
 * config's search.pruner and its bad keys. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pruner.h"
#include "testing.h"

#define STEPS 100

static const mup_pruner median = {.kind = MUP_PRUNER_MEDIAN, .warmup_steps = 0, .min_trials = 3};

/* A complete run with one value at step 10. */
static mup_curve at10(const double *v) {
    static const int step[] = {10};
    return (mup_curve){step, v, 1, true};
}

Test(pruner, median_even_count_is_the_mean_of_the_middle_two_and_a_tie_goes_on) {
    static const double v[4] = {1.0, 2.0, 3.0, 4.0}; /* median 2.5 */
    mup_curve others[4] = {at10(&v[0]), at10(&v[1]), at10(&v[2]), at10(&v[3])};
    const int step[] = {10};
    double tie = 2.5, worse = 2.5000001, better = 2.4;
    cr_assert_not(mup_pruner_should_stop(&median, &(mup_curve){step, &tie, 1, false}, others, 4, STEPS));
    cr_assert(mup_pruner_should_stop(&median, &(mup_curve){step, &worse, 1, false}, others, 4, STEPS));
    cr_assert_not(mup_pruner_should_stop(&median, &(mup_curve){step, &better, 1, false}, others, 4, STEPS));
}

Test(pruner, median_odd_count_with_tied_values) {
    static const double v[3] = {2.0, 1.0, 2.0}; /* median 2 */
    mup_curve others[3] = {at10(&v[0]), at10(&v[1]), at10(&v[2])};
    const int step[] = {10};
    double tie = 2.0, worse = 2.001;
    cr_assert_not(mup_pruner_should_stop(&median, &(mup_curve){step, &tie, 1, false}, others, 3, STEPS));
    cr_assert(mup_pruner_should_stop(&median, &(mup_curve){step, &worse, 1, false}, others, 3, STEPS));
}

Test(pruner, median_takes_the_best_value_so_far) {
    static const double v[3] = {1.0, 2.0, 3.0};
    mup_curve others[3] = {at10(&v[0]), at10(&v[1]), at10(&v[2])};
    const int step[] = {5, 10};
    const double early_good[] = {1.5, 9.0}, never_good[] = {2.5, 9.0};
    cr_assert_not(mup_pruner_should_stop(&median, &(mup_curve){step, early_good, 2, false}, others, 3, STEPS));
    cr_assert(mup_pruner_should_stop(&median, &(mup_curve){step, never_good, 2, false}, others, 3, STEPS));
}

Test(pruner, median_waits_for_min_trials_complete_runs_at_the_step_and_for_the_warmup) {
    static const double v[3] = {1.0, 1.0, 1.0};
    mup_curve others[3] = {at10(&v[0]), at10(&v[1]), at10(&v[2])};
    const int step[] = {10}, other_step[] = {20};
    double bad = 5.0;
    mup_curve self = {step, &bad, 1, false};
    cr_assert(mup_pruner_should_stop(&median, &self, others, 3, STEPS));
    /* two values at the step: fewer than min_trials */
    cr_assert_not(mup_pruner_should_stop(&median, &self, others, 2, STEPS));
    /* a run in flight does not count, nor a value at another step */
    others[2].complete = false;
    cr_assert_not(mup_pruner_should_stop(&median, &self, others, 3, STEPS));
    others[2] = (mup_curve){other_step, &v[2], 1, true};
    cr_assert_not(mup_pruner_should_stop(&median, &self, others, 3, STEPS));
    others[2] = at10(&v[2]);
    mup_pruner warm = median;
    warm.warmup_steps = 11;
    cr_assert_not(mup_pruner_should_stop(&warm, &self, others, 3, STEPS));
    warm.warmup_steps = 10;
    cr_assert(mup_pruner_should_stop(&warm, &self, others, 3, STEPS));
    /* nothing stops at the run's last step */
    cr_assert_not(mup_pruner_should_stop(&median, &self, others, 3, 10));
    const mup_pruner none = {.kind = MUP_PRUNER_NONE};
    cr_assert_not(mup_pruner_should_stop(&none, &self, others, 3, STEPS));
}

/* ---- ASHA ---- */

#define RUNS 7
#define POINTS 4
static const int asha_step[POINTS] = {10, 30, 90, 100};
/* values at steps 10, 30, 90 and 100 of runs A to G, in the order a --jobs 1 sweep trains them */
static const double asha_value[RUNS][POINTS] = {
    {5.0, 4.0, 3.0, 2.9}, /* A: alone at every rung: goes on, complete */
    {6.0, 9.0, 9.0, 9.0}, /* B: rung 10 {5, 6}, best 1 of 2 is 5: stops at 10 */
    {4.0, 3.5, 3.2, 3.1}, /* C: rung 10 {5, 6, 4}: best 1 is 4, goes on; rung 30 {4, 3.5}: goes on;
                           *    rung 90 {3.0, 3.2}: stops at 90 */
    {4.5, 3.0, 2.0, 1.9}, /* D: rung 10 {5, 6, 4, 4.5}, best 1 is 4: stops at 10 */
    {3.9, 3.6, 2.5, 2.4}, /* E: rung 10 {.., 3.9}, 5 runs, best 1: goes on; rung 30 {4, 3.5, 3.6}: stops at 30 */
    {4.2, 1.0, 1.0, 1.0}, /* F: rung 10, 6 runs, best 2 are 3.9 and 4.0: 4.2 stops at 10 */
    {4.0, 3.4, 2.8, 2.7}, /* G: rung 10, 7 runs, best 2 are 3.9, 4.0: the tie goes on; rung 30 {4, 3.5, 3.6,
                           *    3.4}, 4 runs, best 1: goes on; rung 90 {3.0, 3.2, 2.8}: goes on, complete */
};

Test(pruner, asha_promotes_the_top_third_at_each_rung) {
    const mup_pruner asha = {.kind = MUP_PRUNER_ASHA, .min_resource = 10, .reduction_factor = 3};
    cr_assert_eq(mup_pruner_rung_step(&asha, 0), 10);
    cr_assert_eq(mup_pruner_rung_step(&asha, 2), 90);
    const int expect_stop[RUNS] = {-1, 10, 90, 10, 30, 10, -1};
    mup_curve done[RUNS];
    for (int r = 0; r < RUNS; r++) {
        int stopped = -1, n = 0;
        while (n < POINTS && stopped < 0) {
            n++;
            mup_curve self = {asha_step, asha_value[r], n, false};
            if (mup_pruner_should_stop(&asha, &self, done, r, STEPS))
                stopped = asha_step[n - 1];
        }
        cr_assert_eq(stopped, expect_stop[r], "run %c: stopped at %d, expected %d", 'A' + r, stopped, expect_stop[r]);
        done[r] = (mup_curve){asha_step, asha_value[r], n, stopped < 0};
    }
}

Test(pruner, asha_never_stops_at_the_end_or_between_rungs) {
    const mup_pruner asha = {.kind = MUP_PRUNER_ASHA, .min_resource = 10, .reduction_factor = 3};
    static const double best[] = {1.0, 1.0};
    static const int steps2[] = {10, 20};
    mup_curve other = {steps2, best, 2, true};
    const int step[] = {10, 20};
    const double worse[] = {1.0, 5.0};
    /* step 20 reaches no new rung: the run goes on however bad it is */
    cr_assert_not(mup_pruner_should_stop(&asha, &(mup_curve){step, worse, 2, false}, &other, 1, STEPS));
    /* a rung at the run's last step is no rung */
    const double bad = 5.0;
    cr_assert_not(mup_pruner_should_stop(&asha, &(mup_curve){step, &bad, 1, false}, &other, 1, 10));
    cr_assert(mup_pruner_should_stop(&asha, &(mup_curve){step, &bad, 1, false}, &other, 1, 11));
}

/* ---- the config ---- */

static const char *BASE =
    "{'model': {'arch': 'mlp'}, 'train': {'steps': 40, 'eval_every': 5},"
    " 'search': {'trials': 4, 'space': {'lr': {'dist': 'log2uniform', 'low': -10, 'high': -4}}},"
    " 'proxy_widths': [16]}";

static mup_status parse_with(const char *pruner, mup_sweep_config **c) {
    char *text = test_json_with(BASE, "search.pruner", pruner);
    mup_status s = mup_sweep_config_parse(text, "p.json", c);
    free(text);
    return s;
}

static void assert_refused(const char *pruner, const char *needle) {
    mup_sweep_config *c;
    cr_assert_neq(parse_with(pruner, &c), MUP_OK, "%s was accepted", pruner);
    cr_assert(strstr(mup_error_message(), needle), "%s: \"%s\" not in: %s", pruner, needle, mup_error_message());
    cr_assert_null(strchr(mup_error_message(), '\n'), "more than one line: %s", mup_error_message());
}

Test(pruner_config, keys_out_of_range_or_of_the_other_type_are_refused_naming_the_key) {
    assert_refused("{'type': 'asha', 'min_resource': 5, 'reduction_factor': 1}", "search.pruner.reduction_factor");
    assert_refused("{'type': 'asha', 'min_resource': 0}", "search.pruner.min_resource");
    assert_refused("{'type': 'asha'}", "search.pruner.min_resource: missing");
    assert_refused("{'type': 'asha', 'min_resource': 40}", "search.pruner.min_resource: 40 is not below train.steps");
    assert_refused("{'type': 'asha', 'min_resource': 5, 'warmup_steps': 3}", "search.pruner.warmup_steps");
    assert_refused("{'type': 'median', 'min_trials': 0}", "search.pruner.min_trials");
    assert_refused("{'type': 'median', 'warmup_steps': -1}", "search.pruner.warmup_steps");
    assert_refused("{'type': 'median', 'reduction_factor': 3}", "search.pruner.reduction_factor");
    assert_refused("{'type': 'hyperband'}", "search.pruner.type");
    assert_refused("{'type': 'median', 'min_trails': 3}", "search.pruner.min_trails: unknown key");
    assert_refused("'asha'", "search.pruner: expected an object");
}

Test(pruner_config, a_pruner_reads_back_and_none_keeps_the_fingerprint_of_a_config_without_one) {
    mup_sweep_config *c, *none, *plain;
    cr_assert_eq(parse_with("{'type': 'asha', 'min_resource': 5}", &c), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(c->search.pruner.kind, MUP_PRUNER_ASHA);
    cr_assert_eq(c->search.pruner.min_resource, 5);
    cr_assert_eq(c->search.pruner.reduction_factor, 3);
    cr_assert_eq(parse_with("{'type': 'none'}", &none), MUP_OK, "%s", mup_error_message());
    char *text = test_json_quotes(BASE);
    cr_assert_eq(mup_sweep_config_parse(text, "p.json", &plain), MUP_OK, "%s", mup_error_message());
    free(text);
    cr_assert_str_eq(none->fingerprint, plain->fingerprint);
    cr_assert_str_neq(c->fingerprint, plain->fingerprint);
    mup_sweep_config_free(c);
    mup_sweep_config_free(none);
    mup_sweep_config_free(plain);
}

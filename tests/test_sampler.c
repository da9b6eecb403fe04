/* The trial plan: distributions stay in bounds and have the right centre, plans are reproducible
 * from the seed, Sobol points are stratified and move with the seed, the grid is the full product. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sampler.h"
#include "sobol.h"

/* A config searching one key of each distribution, with ' for ". */
static mup_sweep_config *config(const char *sampler, int trials, int seed, const char *extra_space) {
    char text[2048];
    snprintf(text, sizeof text,
             "{'search': {'sampler': '%s', 'trials': %d, 'seed': %d, 'space': {"
             "'dropout': {'dist': 'uniform', 'low': 0.1, 'high': 0.5},"
             "'output_mult': {'dist': 'loguniform', 'low': 0.25, 'high': 16},"
             "'lr': {'dist': 'log2uniform', 'low': -14, 'high': -4},"
             "'depth': {'dist': 'int', 'low': 1, 'high': 4},"
             "'activation': {'dist': 'choice', 'values': ['relu', 'gelu']}%s}},"
             " 'proxy_widths': [64, 128]}",
             sampler, trials, seed, extra_space);
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    mup_sweep_config *c = NULL;
    cr_assert_eq(mup_sweep_config_parse(text, "test.json", &c), MUP_OK, "%s", mup_error_message());
    return c;
}

/* the dims are in table order: model.depth, model.activation, model.dropout, mup.output_mult, train.lr */
enum { DEPTH, ACT, DROPOUT, OUT_MULT, LR, N_DIMS };

static void assert_dim_order(const mup_sweep_config *c) {
    const char *names[N_DIMS] = {"depth", "activation", "dropout", "output_mult", "lr"};
    cr_assert_eq(c->search.n_dims, N_DIMS);
    for (int d = 0; d < N_DIMS; d++)
        cr_assert_str_eq(c->search.dims[d].key->name, names[d]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void check_draws(const char *sampler) {
    enum { T = 32768 };
    mup_sweep_config *c = config(sampler, T, 7, "");
    assert_dim_order(c);
    cr_assert_eq(mup_plan_size(c), T);
    static double col[N_DIMS][T];
    int depth_seen[5] = {0}, act_seen[3] = {0};
    double v[N_DIMS];
    for (int t = 0; t < T; t++) {
        mup_plan_values(c, t, v);
        for (int d = 0; d < N_DIMS; d++)
            col[d][t] = v[d];
        cr_assert(v[DROPOUT] >= 0.1 && v[DROPOUT] < 0.5, "uniform %g", v[DROPOUT]);
        cr_assert(v[OUT_MULT] >= 0.25 && v[OUT_MULT] <= 16, "loguniform %g", v[OUT_MULT]);
        cr_assert(v[LR] >= 0x1p-14 && v[LR] <= 0x1p-4, "log2uniform %g", v[LR]);
        cr_assert(v[DEPTH] >= 1 && v[DEPTH] <= 4 && v[DEPTH] == floor(v[DEPTH]), "int %g", v[DEPTH]);
        cr_assert(v[ACT] == MUP_ACT_RELU || v[ACT] == MUP_ACT_GELU, "choice %g", v[ACT]);
        depth_seen[(int)v[DEPTH]]++;
        act_seen[(int)v[ACT]]++;
    }
    /* each integer and each choice about equally often */
    for (int k = 1; k <= 4; k++)
        cr_assert(fabs(depth_seen[k] - T / 4.0) < 0.05 * T / 4, "%s: depth %d drawn %d times", sampler, k, depth_seen[k]);
    cr_assert(fabs(act_seen[MUP_ACT_RELU] - T / 2.0) < 0.05 * T / 2, "%s: relu %d times", sampler, act_seen[0]);
    cr_assert_eq(act_seen[MUP_ACT_RELU] + act_seen[MUP_ACT_GELU], T);
    /* the log distributions' medians sit at the geometric mean of their ends, the uniform's at the middle */
    cr_assert(fabs(median(col[OUT_MULT], T) / 2.0 - 1) < 0.06, "%s: loguniform median %g, not 2", sampler,
              median(col[OUT_MULT], T));
    cr_assert(fabs(median(col[LR], T) / 0x1p-9 - 1) < 0.06, "%s: log2uniform median %g, not 2^-9", sampler,
              median(col[LR], T));
    cr_assert(fabs(median(col[DROPOUT], T) - 0.3) < 0.01, "%s: uniform median %g", sampler, median(col[DROPOUT], T));
    mup_sweep_config_free(c);
}

Test(sampler, random_draws_in_bounds_and_centred) { check_draws("random"); }
Test(sampler, sobol_draws_in_bounds_and_centred) { check_draws("sobol"); }

static void plan_of(const mup_sweep_config *c, int trials, double *out) {
    for (int t = 0; t < trials; t++)
        mup_plan_values(c, t, out + t * c->search.n_dims);
}

static void check_reproducible(const char *sampler) {
    enum { T = 64 };
    mup_sweep_config *a = config(sampler, T, 3, ""), *b = config(sampler, T, 3, ""), *other = config(sampler, T, 4, "");
    static double pa[T * N_DIMS], pb[T * N_DIMS], po[T * N_DIMS];
    plan_of(a, T, pa);
    plan_of(b, T, pb);
    plan_of(other, T, po);
    cr_assert_eq(memcmp(pa, pb, sizeof pa), 0, "%s: same seed, different plans", sampler);
    int differ = 0;
    for (int i = 0; i < T * N_DIMS; i++)
        differ += pa[i] != po[i];
    cr_assert_gt(differ, T * N_DIMS / 4, "%s: seeds 3 and 4 share %d of %d values", sampler, T * N_DIMS - differ,
                 T * N_DIMS);
    /* a trial computed alone equals the same trial in the sequence */
    double v[N_DIMS];
    mup_plan_values(a, 37, v);
    cr_assert_eq(memcmp(v, pa + 37 * N_DIMS, sizeof v), 0);
    mup_sweep_config_free(a);
    mup_sweep_config_free(b);
    mup_sweep_config_free(other);
}

Test(sampler, random_reproducible_from_seed) { check_reproducible("random"); }
Test(sampler, sobol_reproducible_from_seed) { check_reproducible("sobol"); }

Test(sampler, plan_ignores_the_order_keys_are_written_in) {
    const char *a = "{\"search\": {\"trials\": 8, \"space\": {\"lr\": {\"dist\": \"uniform\", \"low\": 0.1, \"high\": 0.2},"
                    " \"depth\": {\"dist\": \"int\", \"low\": 1, \"high\": 9}}}, \"proxy_widths\": [32]}";
    const char *b = "{\"search\": {\"trials\": 8, \"space\": {\"depth\": {\"dist\": \"int\", \"low\": 1, \"high\": 9},"
                    " \"lr\": {\"dist\": \"uniform\", \"low\": 0.1, \"high\": 0.2}}}, \"proxy_widths\": [32]}";
    mup_sweep_config *ca, *cb;
    cr_assert_eq(mup_sweep_config_parse(a, NULL, &ca), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_sweep_config_parse(b, NULL, &cb), MUP_OK, "%s", mup_error_message());
    double pa[16], pb[16];
    plan_of(ca, 8, pa);
    plan_of(cb, 8, pb);
    cr_assert_eq(memcmp(pa, pb, sizeof pa), 0);
    mup_sweep_config_free(ca);
    mup_sweep_config_free(cb);
}

/* ---- Sobol ---- */

Test(sobol, direction_numbers_are_valid) {
    /* point 2^k is direction number k, m_k / 2^(k+1) with m_k odd: its lowest set bit is bit k of
     * the fraction. Else the first 2^m points could not fill 2^m strata. */
    for (int d = 0; d < MUP_SOBOL_MAX_DIMS; d++)
        for (int k = 0; k < 32; k++) {
            uint32_t v = mup_sobol_bits(1u << k, d);
            cr_assert_eq(v & (~v + 1), 1u << (31 - k), "dim %d direction %d = %08x", d, k, v);
        }
}

Test(sobol, first_points_match_the_gray_code_sequence) {
    /* the unscrambled 2-D Sobol sequence in its usual Gray-code order (as scipy's Sobol(d=2,
     * scramble=False) prints it): point n is our point n ^ (n >> 1) */
    static const double want[8][2] = {{0, 0},         {0.5, 0.5},     {0.75, 0.25},   {0.25, 0.75},
                                      {0.375, 0.375}, {0.875, 0.875}, {0.625, 0.125}, {0.125, 0.625}};
    for (uint32_t n = 0; n < 8; n++)
        for (int d = 0; d < 2; d++)
            cr_assert_eq(mup_sobol_bits(n ^ (n >> 1), d) * 0x1p-32, want[n][d], "point %u dim %d", n, d);
}

/* Each of 2^m strata of [0, 1) holds exactly one of the first 2^m points of every dimension. */
static void assert_stratified(uint32_t seed_base, int m) {
    int n = 1 << m;
    int *hits = calloc((size_t)n, sizeof *hits);
    for (int d = 0; d < MUP_SOBOL_MAX_DIMS; d++) {
        memset(hits, 0, (size_t)n * sizeof *hits);
        for (int i = 0; i < n; i++) {
            double u = mup_sobol_point((uint32_t)i, d, seed_base + 977u * (uint32_t)d);
            cr_assert(u >= 0 && u < 1);
            hits[(int)(u * n)]++;
        }
        for (int s = 0; s < n; s++)
            cr_assert_eq(hits[s], 1, "dim %d, %d strata: stratum %d hit %d times", d, n, s, hits[s]);
    }
    free(hits);
}

Test(sobol, scrambled_points_fill_every_stratum) {
    assert_stratified(0, 4);
    assert_stratified(12345, 4);
    assert_stratified(0xdeadbeef, 10);
}

Test(sobol, first_two_dimensions_form_a_0_m_2_net) {
    /* every elementary box 2^-a x 2^-(m-a) holds exactly one of the first 2^m points, scrambled too */
    for (int m = 2; m <= 8; m++) {
        int n = 1 << m;
        for (int a = 0; a <= m; a++) {
            int *hits = calloc((size_t)n, sizeof *hits);
            for (int i = 0; i < n; i++) {
                int x = (int)(mup_sobol_point((uint32_t)i, 0, 77) * (1 << a));
                int y = (int)(mup_sobol_point((uint32_t)i, 1, 78) * (1 << (m - a)));
                hits[x * (1 << (m - a)) + y]++;
            }
            for (int b = 0; b < n; b++)
                cr_assert_eq(hits[b], 1, "m=%d a=%d box %d", m, a, b);
            free(hits);
        }
    }
}

Test(sobol, scrambling_moves_the_points) {
    int same = 0;
    for (uint32_t i = 0; i < 64; i++)
        for (int d = 0; d < MUP_SOBOL_MAX_DIMS; d++)
            same += mup_sobol_point(i, d, 1) == mup_sobol_point(i, d, 2);
    cr_assert_lt(same, 64, "%d of %d coordinates unchanged by another seed", same, 64 * MUP_SOBOL_MAX_DIMS);
    /* Owen scrambling is a bijection of the fractions: distinct inputs stay distinct */
    cr_assert_neq(mup_owen_scramble(0, 5), mup_owen_scramble(1u << 31, 5));
    cr_assert_neq(mup_owen_scramble(0, 5), mup_owen_scramble(0, 6));
}

Test(sampler, sobol_trials_cover_each_keys_range_evenly) {
    /* through the sampler: 16 sobol trials put one value in each sixteenth of every range */
    mup_sweep_config *c = config("sobol", 16, 11, "");
    double v[N_DIMS];
    int dropout[16] = {0}, lr[16] = {0}, depth[5] = {0};
    for (int t = 0; t < 16; t++) {
        mup_plan_values(c, t, v);
        dropout[(int)((v[DROPOUT] - 0.1) / 0.4 * 16)]++;
        lr[(int)((log2(v[LR]) + 14) / 10 * 16)]++;
        depth[(int)v[DEPTH]]++;
    }
    for (int s = 0; s < 16; s++) {
        cr_assert_eq(dropout[s], 1, "dropout stratum %d", s);
        cr_assert_eq(lr[s], 1, "lr stratum %d", s);
    }
    for (int k = 1; k <= 4; k++)
        cr_assert_eq(depth[k], 4, "depth %d", k);
    mup_sweep_config_free(c);
}

Test(sampler, sobol_refuses_too_many_keys) {
    /* 22 numeric keys of model, mup and train */
    static const char *keys[] = {"dropout", "output_mult", "input_mult", "init_std", "attn_mult", "lr", "momentum",
                                 "beta1", "beta2", "eps", "weight_decay", "clip", "min_lr_factor", "depth",
                                 "n_layer", "n_head", "block_size", "ffn_ratio", "steps", "batch_size",
                                 "eval_every", "eval_batches"};
    char text[4096];
    int used = snprintf(text, sizeof text, "{\"search\": {\"sampler\": \"sobol\", \"trials\": 8, \"space\": {");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        used += snprintf(text + used, sizeof text - used, "%s\"%s\": {\"dist\": \"%s\", \"low\": %s, \"high\": %s}",
                         i ? ", " : "", keys[i], i < 13 ? "uniform" : "int", i < 13 ? "0.1" : "2", i < 13 ? "0.2" : "3");
    snprintf(text + used, sizeof text - used, "}}, \"proxy_widths\": [32]}");
    mup_sweep_config *c;
    cr_assert_eq(mup_sweep_config_parse(text, NULL, &c), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "search.space: the sobol sampler takes at most 21 keys, got 22"), "%s",
              mup_error_message());
}

/* ---- grid ---- */

Test(sampler, grid_is_the_full_product_with_endpoints) {
    const char *text = "{\"search\": {\"sampler\": \"grid\", \"space\": {"
                       "\"lr\": {\"dist\": \"log2uniform\", \"low\": -14, \"high\": -4, \"grid\": 3},"
                       "\"output_mult\": {\"dist\": \"loguniform\", \"low\": 0.25, \"high\": 16, \"grid\": 4},"
                       "\"dropout\": {\"dist\": \"uniform\", \"low\": 0, \"high\": 0.3, \"grid\": 2},"
                       "\"depth\": {\"dist\": \"int\", \"low\": 1, \"high\": 4, \"grid\": 3},"
                       "\"activation\": {\"dist\": \"choice\", \"values\": [\"relu\", \"tanh\", \"gelu\"], \"grid\": 7}}},"
                       " \"proxy_widths\": [32]}";
    mup_sweep_config *c;
    cr_assert_eq(mup_sweep_config_parse(text, NULL, &c), MUP_OK, "%s", mup_error_message());
    assert_dim_order(c);
    int T = mup_plan_size(c);
    cr_assert_eq(T, 3 * 3 * 2 * 4 * 3); /* choice enumerates its values, ignoring grid */
    const double points[N_DIMS][4] = {
        [DEPTH] = {1, 3, 4},
        [ACT] = {MUP_ACT_RELU, MUP_ACT_TANH, MUP_ACT_GELU},
        [DROPOUT] = {0, 0.3},
        [OUT_MULT] = {0.25, 1, 4, 16},
        [LR] = {0x1p-14, 0x1p-9, 0x1p-4},
    };
    const int count[N_DIMS] = {[DEPTH] = 3, [ACT] = 3, [DROPOUT] = 2, [OUT_MULT] = 4, [LR] = 3};
    double *plan = malloc((size_t)T * N_DIMS * sizeof *plan);
    plan_of(c, T, plan);
    for (int t = 0; t < T; t++) {
        /* every coordinate is one of its points (ends exact, inner log points to rounding) */
        for (int d = 0; d < N_DIMS; d++) {
            bool found = false;
            for (int k = 0; k < count[d]; k++)
                found |= fabs(plan[t * N_DIMS + d] - points[d][k]) <= 1e-12 * fabs(points[d][k]);
            cr_assert(found, "trial %d dim %d value %.17g is not a grid point", t, d, plan[t * N_DIMS + d]);
        }
        /* and no two trials agree */
        for (int u = 0; u < t; u++)
            cr_assert_neq(memcmp(plan + t * N_DIMS, plan + u * N_DIMS, N_DIMS * sizeof *plan), 0, "trials %d, %d", u, t);
        /* the last key varies fastest */
        if (t % count[LR] != 0)
            cr_assert_eq(memcmp(plan + t * N_DIMS, plan + (t - 1) * N_DIMS, LR * sizeof *plan), 0, "trial %d", t);
    }
    /* the ends are exact */
    cr_assert_eq(plan[LR], 0x1p-14);
    cr_assert_eq(plan[(T - 1) * N_DIMS + LR], 0x1p-4);
    cr_assert_eq(plan[(T - 1) * N_DIMS + OUT_MULT], 16);
    cr_assert_eq(plan[(T - 1) * N_DIMS + DROPOUT], 0.3);
    free(plan);
    mup_sweep_config_free(c);
}

/* ---- applying and printing ---- */

Test(sampler, apply_sets_the_trials_values_on_the_base) {
    mup_sweep_config *c = config("random", 16, 5, "");
    double v[N_DIMS];
    mup_run_spec s;
    for (int t = 0; t < 16; t++) {
        cr_assert_eq(mup_plan_apply(c, t, &s), MUP_OK, "%s", mup_error_message());
        mup_plan_values(c, t, v);
        cr_assert_eq(s.train.lr, v[LR]);
        cr_assert_eq(s.mup.output_mult, v[OUT_MULT]);
        cr_assert_eq(s.model.dropout, v[DROPOUT]);
        cr_assert_eq(s.model.depth, (int)v[DEPTH]);
        cr_assert_eq((int)s.model.activation, (int)v[ACT]);
        /* everything else is the base's */
        cr_assert_eq(s.train.steps, c->base.train.steps);
        cr_assert_eq(s.mup.init_std, c->base.mup.init_std);
        cr_assert_eq(s.width, 0);
    }
    mup_sweep_config_free(c);
}

Test(sampler, dry_run_prints_one_line_per_trial) {
    mup_sweep_config *c = config("random", 12, 1, "");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mup_plan_print(c, f);
    fclose(f);
    cr_assert_eq(buf[0], '#');
    cr_assert(strstr(buf, "random sampler, 12 trials x 1 seed at proxy widths 64, 128 (24 proxy runs)"), "%s", buf);
    cr_assert(strstr(buf, c->fingerprint), "%s", buf);
    char *line = strchr(buf, '\n') + 1;
    double v[N_DIMS];
    char want[512], values[480];
    for (int t = 0; t < 12; t++) {
        mup_plan_values(c, t, v);
        mup_plan_format(c, v, values, sizeof values);
        snprintf(want, sizeof want, "%2d  %s\n", t, values);
        cr_assert_eq(strncmp(line, want, strlen(want)), 0, "line %d: %.*s, want %s", t, (int)strcspn(line, "\n"),
                     line, want);
        line += strlen(want);
    }
    cr_assert_eq(*line, '\0');
    char lr[32];
    snprintf(lr, sizeof lr, "train.lr=%g", v[LR]);
    cr_assert(strstr(values, lr), "%s", values);
    cr_assert(strstr(values, "model.activation=relu") || strstr(values, "model.activation=gelu"), "%s", values);
    free(buf);
    mup_sweep_config_free(c);
}

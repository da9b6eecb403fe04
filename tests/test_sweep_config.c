/* Sweep configs and run specs: every rejection names its key path, valid configs round-trip, the
 * fingerprint follows values and ignores layout, and the committed reference matches the tables. */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "spec.h"
#include "suggest.h"
#include "testing.h"

/* The issue's example config, written with ' for " */
static const char *BASE =
    "{'name': 'fashion-mlp', 'model': {'arch': 'mlp', 'depth': 2, 'activation': 'relu'},"
    " 'data': {'dataset': 'fashion-mnist', 'train_size': 20000, 'val_size': 5000},"
    " 'mup': {'parametrization': 'mup', 'base_width': 64, 'delta_width': 128},"
    " 'train': {'optimizer': 'adam', 'steps': 500, 'batch_size': 128, 'schedule': 'cosine', 'warmup_steps': 0},"
    " 'search': {'sampler': 'random', 'trials': 32, 'seeds': 2, 'seed': 0,"
    "   'space': {'lr': {'dist': 'log2uniform', 'low': -14, 'high': -4},"
    "             'output_mult': {'dist': 'loguniform', 'low': 0.25, 'high': 16},"
    "             'init_std': {'dist': 'loguniform', 'low': 0.25, 'high': 4}}},"
    " 'proxy_widths': [128], 'target': {'width': 1024, 'seeds': 1}, 'objective': 'val_loss'}";

static char *q(const char *s) { return test_json_quotes(s); }

static char *with(const char *path, const char *value) { return test_json_with(BASE, path, value); }

static mup_sweep_config *parse_ok(const char *text) {
    mup_sweep_config *c = NULL;
    mup_status s = mup_sweep_config_parse(text, "test.json", &c);
    cr_assert_eq(s, MUP_OK, "config rejected: %s\n%s", mup_error_message(), text);
    return c;
}

/* Parses text (freed here), which must fail with status want and a message containing needle. */
static void expect_error(char *text, mup_status want, const char *needle) {
    mup_sweep_config *c = (mup_sweep_config *)1;
    mup_status s = mup_sweep_config_parse(text, "test.json", &c);
    cr_assert_eq(s, want, "status %s (want %s) for:\n%s\nmessage: %s", mup_status_str(s), mup_status_str(want),
                 text, mup_error_message());
    cr_assert_null(c);
    const char *msg = mup_error_message();
    cr_assert(strstr(msg, needle), "message \"%s\" lacks \"%s\"", msg, needle);
    cr_assert(strncmp(msg, "test.json", 9) == 0, "message \"%s\" does not name the file", msg);
    cr_assert_null(strchr(msg, '\n'), "message spans lines: %s", msg);
    free(text);
}

static void expect_invalid(char *text, const char *needle) { expect_error(text, MUP_ERR_INVALID, needle); }

Test(sweep_config, example_parses_with_its_values) {
    char *text = q(BASE);
    mup_sweep_config *c = parse_ok(text);
    cr_assert_str_eq(c->name, "fashion-mlp");
    cr_assert_eq(c->base.train.schedule, MUP_SCHEDULE_COSINE);
    cr_assert_eq(c->base.data.train_size, 20000);
    cr_assert_eq(c->base.mup.delta_width, 128);
    cr_assert_eq(c->base.train.optimizer, MUP_OPTIM_ADAM);
    cr_assert_float_eq(c->base.train.lr, 1e-3, 1e-15); /* default kept */
    cr_assert_eq(c->search.sampler, MUP_SAMPLER_RANDOM);
    cr_assert_eq(c->search.trials, 32);
    cr_assert_eq(c->search.seeds, 2);
    cr_assert_eq(c->search.n_dims, 3);
    /* table order: mup.output_mult, mup.init_std, then train.lr */
    cr_assert_str_eq(c->search.dims[0].key->name, "output_mult");
    cr_assert_str_eq(c->search.dims[1].key->name, "init_std");
    cr_assert_str_eq(c->search.dims[2].key->name, "lr");
    cr_assert_eq(c->search.dims[2].dist, MUP_DIST_LOG2UNIFORM);
    cr_assert_eq(c->search.dims[2].low, -14);
    cr_assert_eq(c->n_proxy_widths, 1);
    cr_assert_eq(c->proxy_widths[0], 128);
    cr_assert(c->has_target);
    cr_assert_eq(c->target.width, 1024);
    cr_assert_eq(c->objective, MUP_OBJECTIVE_VAL_LOSS);
    cr_assert_eq(strlen(c->fingerprint), 16);
    mup_sweep_config_free(c);
    free(text);
}

Test(sweep_config, target_is_optional) {
    char *text = with("target", NULL);
    mup_sweep_config *c = parse_ok(text);
    cr_assert_not(c->has_target);
    mup_sweep_config_free(c);
    free(text);
}

Test(sweep_config, unknown_keys_suggest_the_nearest) {
    expect_invalid(with("train.lerning_rate", "0.01"), "train.lerning_rate: unknown key (did you mean \"lr\"?)");
    expect_invalid(with("train.learning_rate", "0.01"), "train.learning_rate: unknown key (did you mean \"lr\"?)");
    expect_invalid(with("model.actvation", "'relu'"), "model.actvation: unknown key (did you mean \"activation\"?)");
    expect_invalid(with("train.base_width", "64"), "train.base_width: unknown key (did you mean \"mup.base_width\"?)");
    expect_invalid(with("nmae", "'x'"), "nmae: unknown key (did you mean \"name\"?)");
    expect_invalid(with("lr", "0.1"), "lr: unknown key (did you mean \"train.lr\"?)");
    expect_invalid(with("proxy_width", "[64]"), "proxy_width: unknown key (did you mean \"proxy_widths\"?)");
    expect_invalid(with("search.trails", "8"), "search.trails: unknown key (did you mean \"trials\"?)");
    expect_invalid(with("search.space.lr.hgh", "1"), "search.space.lr.hgh: unknown key (did you mean \"high\"?)");
    expect_invalid(with("search.space.lerning_rate", "{'dist': 'uniform', 'low': 0.1, 'high': 0.2}"),
                   "search.space.lerning_rate: unknown key (did you mean \"lr\"?)");
    expect_invalid(with("target.widht", "64"), "target.widht: unknown key (did you mean \"width\"?)");
    /* a near key of the same object beats an exact one elsewhere; a cut-short name finds its key */
    expect_invalid(with("target.seed", "1"), "target.seed: unknown key (did you mean \"seeds\"?)");
    expect_invalid(with("trials", "8"), "trials: unknown key (did you mean \"search.trials\"?)");
    expect_invalid(with("train.warmup", "8"), "train.warmup: unknown key (did you mean \"warmup_steps\"?)");
    expect_invalid(with("data.dataset", "'fashion'"), "data.dataset: \"fashion\" is not allowed (did you mean \"fashion-mnist\"?");
    expect_invalid(with("data.qqqqqqqq", "1"), "data.qqqqqqqq: unknown key (valid keys: dataset, path,");
    expect_invalid(with("colour", "1"), "colour: unknown key (valid keys: name, objective, direction, model,");
}

Test(sweep_config, qualified_space_keys) {
    char *text = q("{'search': {'trials': 4, 'space': {'train.lr': {'dist': 'uniform', 'low': 0.1, 'high': 0.2}}},"
                   " 'proxy_widths': [32]}");
    mup_sweep_config *c = parse_ok(text);
    cr_assert_str_eq(c->search.dims[0].key->section, "train");
    mup_sweep_config_free(c);
    free(text);
    expect_invalid(q("{'search': {'trials': 4, 'space': {'train.lerning_rate': {'dist': 'uniform', 'low': 0.1,"
                     " 'high': 0.2}}}, 'proxy_widths': [32]}"),
                   "search.space.train.lerning_rate: unknown key (did you mean \"lr\"?)");
    expect_invalid(q("{'search': {'trials': 4, 'space': {'trian.lr': {'dist': 'uniform', 'low': 0.1, 'high': 0.2}}},"
                     " 'proxy_widths': [32]}"),
                   "search.space.trian.lr: unknown section \"trian\"");
    expect_invalid(q("{'search': {'trials': 4, 'space': {'lr': {'dist': 'uniform', 'low': 0.1, 'high': 0.2},"
                     " 'train.lr': {'dist': 'uniform', 'low': 0.1, 'high': 0.2}}}, 'proxy_widths': [32]}"),
                   "search.space.train.lr: train.lr is already searched");
}

Test(sweep_config, duplicate_members) {
    expect_invalid(q("{'train': {'lr': 0.1, 'lr': 0.2}, 'search': {'trials': 4, 'space': {'lr':"
                     " {'dist': 'uniform', 'low': 0.1, 'high': 0.2}}}, 'proxy_widths': [32]}"),
                   "train.lr: duplicate key");
}

Test(sweep_config, wrong_json_types) {
    expect_invalid(with("train.lr", "'fast'"), "train.lr: expected a number, got a string");
    expect_invalid(with("model.depth", "2.5"), "model.depth: expected an integer, got 2.5");
    expect_invalid(with("model.depth", "'2'"), "model.depth: expected an integer, got a string");
    expect_invalid(with("model.no_bias", "1"), "model.no_bias: expected true or false, got a number");
    expect_invalid(with("model.activation", "3"), "model.activation: expected one of relu, tanh, gelu");
    expect_invalid(with("data.path", "null"), "data.path: expected a string, got null");
    expect_invalid(with("model", "[]"), "model: expected an object, got a list");
    expect_invalid(with("search.space", "'lr'"), "search.space: expected an object");
    expect_invalid(with("search.space.lr", "0.1"), "search.space.lr: expected an object");
    expect_invalid(with("search.space.lr.low", "'-14'"), "search.space.lr.low: expected a number");
    expect_invalid(with("proxy_widths", "128"), "proxy_widths: expected a list, got a number");
    expect_invalid(with("proxy_widths", "[128, 'wide']"), "proxy_widths[1]: expected an integer, got a string");
    expect_invalid(with("target", "1024"), "target: expected an object");
    expect_invalid(q("[1, 2]"), "the config: expected an object, got a list");
}

Test(sweep_config, enum_values_not_allowed_list_the_allowed) {
    expect_invalid(with("model.activation", "'sigmoid'"),
                   "model.activation: \"sigmoid\" is not allowed (allowed: relu, tanh, gelu)");
    expect_invalid(with("model.activation", "'gelus'"), "model.activation: \"gelus\" is not allowed (did you mean \"gelu\"?");
    expect_invalid(with("train.optimizer", "'lion'"), "train.optimizer: \"lion\" is not allowed (allowed: sgd, adam, adamw)");
    expect_invalid(with("search.sampler", "'bayes'"), "search.sampler: \"bayes\" is not allowed (allowed: random, sobol, grid, tpe)");
    expect_invalid(with("objective", "'accuracy'"), "objective: \"accuracy\" is not allowed (allowed: val_loss, train_loss, val_error)");
    expect_invalid(with("search.space.lr.dist", "'normal'"),
                   "search.space.lr.dist: \"normal\" is not allowed (allowed: uniform, loguniform, log2uniform, int, choice)");
    expect_invalid(with("search.space.lr.dist", NULL), "search.space.lr.dist: missing");
}

/* BASE under the tpe sampler, with search.tpe.<key> set to value (NULL: tpe settings left out). */
static char *tpe_with(const char *key, const char *value) {
    char *tpe = with("search.sampler", "'tpe'"), path[64];
    if (!key)
        return tpe;
    snprintf(path, sizeof path, "search.tpe.%s", key);
    char *text = test_json_with(tpe, path, value);
    free(tpe);
    return text;
}

Test(sweep_config, tpe_settings_out_of_range_or_misplaced_name_their_key) {
    char *defaults = tpe_with(NULL, NULL);
    mup_sweep_config *c = parse_ok(defaults);
    free(defaults);
    cr_assert_eq(c->search.sampler, MUP_SAMPLER_TPE);
    cr_assert_eq(c->search.tpe.n_startup, 10);
    cr_assert_eq(c->search.tpe.gamma, 0.1);
    cr_assert_eq(c->search.tpe.n_candidates, 24);
    mup_sweep_config_free(c);
    expect_invalid(tpe_with("gamma", "0"), "search.tpe.gamma: 0 is out of range (allowed: (0, 1])");
    expect_invalid(tpe_with("gamma", "1.5"), "search.tpe.gamma: 1.5 is out of range (allowed: (0, 1])");
    expect_invalid(tpe_with("n_startup_trials", "0"), "search.tpe.n_startup_trials: 0 is out of range");
    expect_invalid(tpe_with("n_candidates", "0"), "search.tpe.n_candidates: 0 is out of range");
    expect_invalid(tpe_with("n_candidates", "2.5"), "search.tpe.n_candidates: ");
    expect_invalid(tpe_with("gama", "0.2"), "search.tpe.gama: unknown key (did you mean \"gamma\"?)");
    expect_invalid(with("search.tpe.gamma", "0.2"), "search.tpe: the random sampler takes no tpe settings");
    char *text = tpe_with(NULL, NULL), *list = test_json_with(text, "search.tpe", "[1]");
    expect_invalid(list, "search.tpe: expected an object, got a list");
    free(text);
}

Test(sweep_config, tpe_settings_are_in_the_canonical_json_of_a_tpe_config_only) {
    char *tpe_text = tpe_with("gamma", "0.25"), *random_text = q(BASE), *other_text = tpe_with("gamma", "0.3");
    mup_sweep_config *tpe = parse_ok(tpe_text), *random = parse_ok(random_text), *other = parse_ok(other_text);
    free(tpe_text);
    free(random_text);
    free(other_text);
    cJSON *a = mup_sweep_config_to_json(tpe), *b = mup_sweep_config_to_json(random);
    const cJSON *gamma = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "search"), "tpe"), "gamma");
    double g = 0;
    cr_assert(mup_json_get_number(gamma, &g) && g == 0.25, "search.tpe.gamma is %g in the canonical JSON", g);
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "search"), "tpe"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cr_assert_str_neq(tpe->fingerprint, other->fingerprint);
    mup_sweep_config_free(other);
    mup_sweep_config_free(tpe);
    mup_sweep_config_free(random);
}

Test(sweep_config, values_outside_their_range) {
    expect_invalid(with("train.lr", "0"), "train.lr: 0 is out of range (allowed: (0, inf))");
    expect_invalid(with("train.beta2", "1"), "train.beta2: 1 is out of range (allowed: [0, 1))");
    expect_invalid(with("model.depth", "0"), "model.depth: 0 is out of range (allowed: [1, 2147483647])");
    expect_invalid(with("model.depth", "1e10"), "model.depth: 10000000000 is out of range");
    expect_invalid(with("train.min_lr_factor", "1.5"), "train.min_lr_factor: 1.5 is out of range (allowed: [0, 1])");
    expect_invalid(with("search.trials", "0"), "search.trials: 0 is out of range");
    expect_invalid(with("search.trials", "1000001"), "search.trials: 1000001 is out of range (allowed: [1, 1000000])");
    expect_invalid(with("search.seeds", "2147483647"), "search.seeds: 2147483647 is out of range (allowed: [1, 10000000])");
    expect_invalid(with("target.seeds", "10000001"), "target.seeds: 10000001 is out of range (allowed: [1, 10000000])");
    expect_invalid(with("search.seeds", "-1"), "search.seeds: -1 is out of range");
    expect_invalid(with("data.synthetic_classes", "1"), "data.synthetic_classes: 1 is out of range");
}

Test(sweep_config, widths_must_be_positive) {
    expect_invalid(with("proxy_widths", "[0]"), "proxy_widths[0]: 0 is out of range (allowed: [1, 2147483647])");
    expect_invalid(with("proxy_widths", "[64, -128]"), "proxy_widths[1]: -128 is out of range");
    expect_invalid(with("proxy_widths", "[]"), "proxy_widths: empty");
    expect_invalid(with("proxy_widths", "[64, 64]"), "proxy_widths[1]: repeats proxy_widths[0]");
    expect_invalid(with("proxy_widths", NULL), "proxy_widths: missing");
    expect_invalid(with("target.width", "0"), "target.width: 0 is out of range (allowed: [1, 2147483647])");
    expect_invalid(with("target.width", NULL), "target.width: missing");
    expect_invalid(with("mup.base_width", "0"), "mup.base_width: 0 is out of range");
}

Test(sweep_config, empty_and_reversed_ranges) {
    expect_invalid(with("search.space.lr", "{'dist': 'log2uniform', 'low': -4, 'high': -14}"),
                   "search.space.lr: low (-4) must be below high (-14)");
    expect_invalid(with("search.space.lr", "{'dist': 'uniform', 'low': 0.01, 'high': 0.01}"),
                   "search.space.lr: low (0.01) must be below high (0.01)");
    expect_invalid(with("search.space.depth", "{'dist': 'int', 'low': 3, 'high': 3}"),
                   "search.space.depth: low (3) must be below high (3)");
    expect_invalid(with("search.space.lr.high", NULL), "search.space.lr.high: missing");
    expect_invalid(with("search.space.lr", "{'dist': 'uniform', 'high': 0.1}"), "search.space.lr.low: missing");
    expect_invalid(with("search.space.depth", "{'dist': 'int', 'low': 1.5, 'high': 3}"),
                   "search.space.depth.low: int needs an integer, got 1.5");
    expect_invalid(with("search.space.activation", "{'dist': 'choice', 'values': []}"),
                   "search.space.activation.values: empty");
    expect_invalid(with("search.space.activation", "{'dist': 'choice'}"), "search.space.activation.values: missing");
    expect_invalid(with("search.space", "{}"), "search.space: empty");
}

Test(sweep_config, loguniform_needs_positive_low) {
    expect_invalid(with("search.space.output_mult.low", "0"), "search.space.output_mult.low: loguniform needs low > 0, got 0");
    expect_invalid(with("search.space.output_mult.low", "-1"), "search.space.output_mult.low: loguniform needs low > 0");
}

Test(sweep_config, search_range_inside_the_keys_range) {
    expect_invalid(with("search.space.lr", "{'dist': 'uniform', 'low': 0, 'high': 0.1}"),
                   "search.space.lr.low: 0 is outside train.lr's allowed range (0, inf)");
    expect_invalid(with("search.space.dropout", "{'dist': 'uniform', 'low': 0.5, 'high': 1}"),
                   "search.space.dropout.high: 1 is outside model.dropout's allowed range [0, 1)");
    expect_invalid(with("search.space.lr", "{'dist': 'log2uniform', 'low': -14, 'high': 2000}"),
                   "search.space.lr.high: 2^2000 = inf is outside train.lr's allowed range");
    expect_invalid(with("search.space.depth", "{'dist': 'int', 'low': 0, 'high': 3}"),
                   "search.space.depth.low: 0 is outside model.depth's allowed range [1, 2147483647]");
    expect_invalid(with("search.space.depth", "{'dist': 'choice', 'values': [1, 2, 0]}"),
                   "search.space.depth.values[2]: 0 is out of range");
}

Test(sweep_config, distribution_must_fit_the_key) {
    expect_invalid(with("search.space.activation", "{'dist': 'int', 'low': 0, 'high': 2}"),
                   "search.space.activation: int draws numbers, but model.activation takes named values (use choice)");
    expect_invalid(with("search.space.no_bias", "{'dist': 'uniform', 'low': 0, 'high': 1}"),
                   "search.space.no_bias: uniform draws numbers, but model.no_bias takes true/false (use choice)");
    expect_invalid(with("search.space.depth", "{'dist': 'loguniform', 'low': 1, 'high': 4}"),
                   "search.space.depth: loguniform draws fractions, but model.depth is an integer (use int or choice)");
    expect_invalid(with("search.space.activation", "{'dist': 'choice', 'values': ['relu', 2]}"),
                   "search.space.activation.values[1]: expected one of relu, tanh, gelu (a string), got a number");
    expect_invalid(with("search.space.activation", "{'dist': 'choice', 'values': ['relu', 'swish']}"),
                   "search.space.activation.values[1]: \"swish\" is not allowed");
    expect_invalid(with("search.space.tied", "{'dist': 'choice', 'values': [true, 'no']}"),
                   "search.space.tied.values[1]: expected true or false, got a string");
    expect_invalid(with("search.space.depth", "{'dist': 'choice', 'values': [1, 2.5]}"),
                   "search.space.depth.values[1]: expected an integer, got 2.5");
    expect_invalid(with("search.space.activation", "{'dist': 'choice', 'values': ['relu', 'relu']}"),
                   "search.space.activation.values[1]: repeats search.space.activation.values[0]");
    expect_invalid(with("search.space.lr.values", "[0.1]"), "search.space.lr.values: only choice takes values");
    expect_invalid(with("search.space.activation", "{'dist': 'choice', 'values': ['relu'], 'low': 0}"),
                   "search.space.activation.low: choice takes values, not low and high");
    expect_invalid(with("search.space.train_size", "{'dist': 'int', 'low': 100, 'high': 1000}"),
                   "search.space.train_size: data keys cannot be searched");
    expect_invalid(with("search.space.width", "{'dist': 'int', 'low': 64, 'high': 128}"),
                   "search.space.width: the width of a run is not searched");
}

Test(sweep_config, grid_needs_points) {
    expect_invalid(with("search.sampler", "'grid'"), "search.space.lr.grid: missing");
    char *text = q("{'search': {'sampler': 'grid', 'trials': 5, 'space': {"
                   "'lr': {'dist': 'log2uniform', 'low': -14, 'high': -4, 'grid': 3},"
                   "'activation': {'dist': 'choice', 'values': ['relu', 'gelu']}}}, 'proxy_widths': [32]}");
    expect_invalid(text, "search.trials: 5 does not match the grid's 6 points");
    expect_invalid(q("{'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'uniform', 'low': 0.1, 'high': 0.2,"
                     " 'grid': 1}}}, 'proxy_widths': [32]}"),
                   "search.space.lr.grid: 1 is out of range (allowed: [2, 2147483647])");
    expect_invalid(q("{'search': {'sampler': 'grid', 'space': {'depth': {'dist': 'int', 'low': 1, 'high': 3,"
                     " 'grid': 4}}}, 'proxy_widths': [32]}"),
                   "search.space.depth.grid: 4 distinct points do not fit in the 3 integers from 1 to 3");
    expect_invalid(q("{'search': {'sampler': 'grid', 'space': {"
                     "'lr': {'dist': 'uniform', 'low': 0.1, 'high': 0.2, 'grid': 1000},"
                     "'dropout': {'dist': 'uniform', 'low': 0.1, 'high': 0.2, 'grid': 1001}}}, 'proxy_widths': [32]}"),
                   "search.space: the grid has more than 1000000 points");
}

/* ---- legal configs that are likely mistakes ---- */

static char warnings[4096];

static void keep_warning(mup_log_level level, const char *message, void *ctx) {
    (void)ctx;
    if (level >= MUP_LOG_WARN)
        snprintf(warnings + strlen(warnings), sizeof warnings - strlen(warnings), "%s\n", message);
}

/* Parses text (freed here), which must load, with warnings that contain needle (NULL: no warning). */
static void expect_warning(char *text, const char *needle) {
    warnings[0] = '\0';
    mup_set_log_fn(keep_warning, NULL);
    mup_sweep_config *c = parse_ok(text);
    mup_set_log_fn(NULL, NULL);
    if (needle)
        cr_assert(strstr(warnings, needle), "warnings \"%s\" lack \"%s\"", warnings, needle);
    else
        cr_assert_str_eq(warnings, "");
    mup_sweep_config_free(c);
    free(text);
}

Test(sweep_config, likely_mistakes_are_warned_or_refused) {
    expect_warning(q(BASE), NULL);
    expect_warning(with("target.width", "64"),
                   "target.width 64 is narrower than the widest proxy (128): µTransfer carries a setting");
    expect_warning(with("search.space.lr", "{'dist': 'log2uniform', 'low': 0.0001, 'high': 0.01}"),
                   "search.space.lr: log2uniform bounds are exponents of 2 (low 0.0001, high 0.01 search 1.00007 to "
                   "1.00696); for values use loguniform, or give their exponents (low -13.3, high -6.64)");
    expect_warning(with("search.space.lr", "{'dist': 'log2uniform', 'low': -14, 'high': -0.5}"), NULL);
    expect_warning(with("train.lr", "0.01"),
                   "train.lr is set (0.01) and searched (search.space.lr): the search decides it");
    expect_warning(with("mup.output_mult", "2"), "mup.output_mult is set (2) and searched");
    expect_invalid(with("search.space.lr.grid", "4"),
                   "search.space.lr.grid: 4 points, but search.sampler is random: only the grid sampler takes points");
}

Test(sweep_config, missing_sections_and_trials) {
    expect_invalid(with("search", NULL), "search: missing");
    expect_invalid(with("search.space", NULL), "search.space: missing");
    expect_invalid(with("search.trials", NULL), "search.trials: missing (the random sampler needs a number of trials)");
}

Test(sweep_config, json_syntax_errors_give_line_and_column) {
    expect_error(strdup("{\n  \"name\": \"x\",\n  \"model\": {,}\n}\n"), MUP_ERR_PARSE, "test.json:3:14: invalid JSON near \"}\"");
    expect_error(strdup("{\"name\": \"x\",\n \"train\": {\"lr\": 0.1"), MUP_ERR_PARSE, "test.json:2:21: invalid JSON: the text ends too early");
    expect_error(strdup("{\"name\": \"x\"} trailing"), MUP_ERR_PARSE, "test.json:1:15: invalid JSON near \"trailing\"");
    expect_error(strdup(""), MUP_ERR_PARSE, "test.json:1:1:");
}

Test(sweep_config, load_reads_files_and_names_missing_ones) {
    const char *path = test_path("sweep.json");
    char *text = q(BASE);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    mup_sweep_config *from_file = NULL, *from_text = parse_ok(text);
    cr_assert_eq(mup_sweep_config_load(path, &from_file), MUP_OK, "%s", mup_error_message());
    cr_assert_str_eq(from_file->fingerprint, from_text->fingerprint);
    mup_sweep_config_free(from_file);
    mup_sweep_config_free(from_text);
    free(text);

    const char *missing = test_path("nope.json");
    cr_assert_eq(mup_sweep_config_load(missing, &from_file), MUP_ERR_IO);
    cr_assert_null(from_file);
    cr_assert(strstr(mup_error_message(), missing), "%s", mup_error_message());

    f = fopen(path, "w");
    fputs("{\"name\": \"x\",\n\"train\": {\"lr\": }}", f);
    fclose(f);
    cr_assert_eq(mup_sweep_config_load(path, &from_file), MUP_ERR_PARSE);
    char want[600];
    snprintf(want, sizeof want, "%s:2:17:", path);
    cr_assert(strstr(mup_error_message(), want), "%s", mup_error_message());
}

Test(sweep_config, runs_are_checked_against_every_width) {
    /* GPT heads must divide each width a model is built at */
    const char *gpt = "{'model': {'arch': 'gpt', 'n_head': 3}, 'data': {'dataset': 'text'}, 'mup': {'base_width': 48},"
                      " 'search': {'trials': 4, 'space': {'lr': {'dist': 'uniform', 'low': 0.1, 'high': 0.2}}},"
                      " 'proxy_widths': [96, 100]}";
    expect_invalid(q(gpt), "model.n_head: 3 does not divide width 100");
    expect_invalid(with("data.dataset", "'text'"), "data.dataset: text needs model.arch \"gpt\"");
    expect_invalid(with("train.warmup_steps", "600"), "train.warmup_steps: 600 is more than train.steps (500)");
    expect_invalid(with("mup.delta_width", "64"), "mup.delta_width: must differ from mup.base_width (64)");
    /* a failure the search causes names the trial and its values */
    expect_invalid(q("{'model': {'arch': 'gpt'}, 'data': {'dataset': 'text'}, 'search': {'sampler': 'grid', 'space':"
                     " {'n_head': {'dist': 'choice', 'values': [4, 5]}}}, 'proxy_widths': [64]}"),
                   "search: trial 1 (model.n_head=5): model.n_head: 5 does not divide mup.base_width 64");
}

/* ---- run specs ---- */

static void assert_specs_equal(const mup_run_spec *a, const mup_run_spec *b) {
    int n;
    const mup_key *keys = mup_spec_keys(&n);
    char va[MUP_SPEC_PATH_MAX + 8], vb[MUP_SPEC_PATH_MAX + 8];
    for (int i = 0; i < n; i++) {
        if (keys[i].type == MUP_KEY_STRING) {
            mup_key_format_field(&keys[i], a, va, sizeof va);
            mup_key_format_field(&keys[i], b, vb, sizeof vb);
            cr_assert_str_eq(va, vb, "%s.%s", keys[i].section, keys[i].name);
        } else {
            /* exact: floats must survive JSON bit for bit (null, NaN, as null) */
            double x = mup_run_spec_get(a, &keys[i]), y = mup_run_spec_get(b, &keys[i]);
            cr_assert(x == y || (isnan(x) && isnan(y)), "%s.%s: %.17g vs %.17g", keys[i].section, keys[i].name, x, y);
        }
    }
    cr_assert_eq(a->width, b->width);
    cr_assert_eq(a->seed, b->seed);
}

Test(run_spec, round_trips_through_json) {
    char *text = q(BASE);
    mup_sweep_config *c = parse_ok(text);
    free(text);
    mup_run_spec s = c->base, back;
    s.train.lr = 0.1 + 0.2; /* not a short decimal */
    s.mup.output_mult = 1.0 / 3.0;
    s.model.activation = MUP_ACT_GELU;
    s.model.tied = true;
    snprintf(s.data.path, sizeof s.data.path, "/data/fashion \"mnist\"");
    s.width = 1024;
    s.seed = (1ULL << 53) - 1;
    cJSON *j = mup_run_spec_to_json(&s);
    char *printed = cJSON_Print(j);
    cJSON *reparsed = cJSON_Parse(printed);
    cr_assert_eq(mup_run_spec_from_json(&back, reparsed), MUP_OK, "%s", mup_error_message());
    assert_specs_equal(&s, &back);
    cr_assert_float_neq(back.train.lr, 0.3, 0.0);
    cJSON_Delete(j);
    cJSON_Delete(reparsed);
    cJSON_free(printed);
    mup_sweep_config_free(c);
}

Test(run_spec, from_json_rejects_unknown_members) {
    mup_run_spec s;
    cJSON *j = cJSON_Parse("{\"train\": {\"lr\": 0.1}, \"widht\": 3}");
    cr_assert_eq(mup_run_spec_from_json(&s, j), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "widht: unknown key (did you mean \"width\"?)"), "%s", mup_error_message());
    cJSON_Delete(j);
    j = cJSON_Parse("{\"seed\": -1}");
    cr_assert_eq(mup_run_spec_from_json(&s, j), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "seed:"), "%s", mup_error_message());
    cJSON_Delete(j);
}

Test(run_spec, defaults_are_allowed_and_names_unique) {
    int n;
    const mup_key *keys = mup_spec_keys(&n);
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    cr_assert_eq(mup_run_spec_check(&s), MUP_OK, "%s", mup_error_message());
    for (int i = 0; i < n; i++) {
        cr_assert(mup_key_has_default(&keys[i]), "%s.%s", keys[i].section, keys[i].name);
        if (keys[i].type != MUP_KEY_STRING)
            cr_assert_eq(mup_run_spec_set(&s, &keys[i], mup_run_spec_get(&s, &keys[i])), MUP_OK, "%s",
                         mup_error_message());
        /* a bare name finds its key unless another section shares it */
        int same = 0;
        for (int j = 0; j < n; j++)
            same += strcmp(keys[i].name, keys[j].name) == 0;
        const mup_key *k = NULL;
        mup_status st = mup_spec_key_lookup(keys[i].name, "search.space", &k);
        cr_assert_eq(st, same == 1 ? MUP_OK : MUP_ERR_INVALID, "%s", keys[i].name);
        if (same == 1)
            cr_assert_eq(k, &keys[i]);
        char qualified[128];
        snprintf(qualified, sizeof qualified, "%s.%s", keys[i].section, keys[i].name);
        cr_assert_eq(mup_spec_key_lookup(qualified, "search.space", &k), MUP_OK);
        cr_assert_eq(k, &keys[i]);
    }
    cr_assert_float_eq(s.train.beta2, 0.999, 0);
    cr_assert_eq(s.model.arch, MUP_ARCH_MLP);
    cr_assert_eq(s.mup.parametrization, MUP_PARAMETRIZATION_MUP);
    cr_assert_eq(s.data.dataset, MUP_DATASET_FASHION_MNIST);
    cr_assert_eq(mup_run_spec_delta_width(&s), 128);
}

Test(run_spec, set_by_key_checks_the_value) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    const mup_key *lr = mup_spec_key_find("train", "lr"), *depth = mup_spec_key_find("model", "depth");
    const mup_key *act = mup_spec_key_find("model", "activation"), *bias = mup_spec_key_find("model", "no_bias");
    cr_assert_eq(mup_run_spec_set(&s, lr, 0.02), MUP_OK);
    cr_assert_eq(s.train.lr, 0.02);
    cr_assert_eq(mup_run_spec_set(&s, lr, -1), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "train.lr"), "%s", mup_error_message());
    cr_assert_eq(mup_run_spec_set(&s, lr, NAN), MUP_ERR_INVALID);
    cr_assert_eq(mup_run_spec_set(&s, depth, 2.5), MUP_ERR_INVALID);
    cr_assert_eq(mup_run_spec_set(&s, depth, 5), MUP_OK);
    cr_assert_eq(s.model.depth, 5);
    cr_assert_eq(mup_run_spec_set(&s, act, 2), MUP_OK);
    cr_assert_eq(s.model.activation, MUP_ACT_GELU);
    cr_assert_eq(mup_run_spec_set(&s, act, 3), MUP_ERR_INVALID);
    cr_assert_eq(mup_run_spec_set(&s, bias, 1), MUP_OK);
    cr_assert(s.model.no_bias);
    cr_assert_eq(mup_run_spec_set(&s, bias, 0.5), MUP_ERR_INVALID);
    cr_assert_eq(s.train.lr, 0.02, "a failed set must leave the value");
}

Test(run_spec, check_gpt_heads) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    s.model.arch = MUP_ARCH_GPT;
    s.data.dataset = MUP_DATASET_TEXT;
    s.width = 96;
    cr_assert_eq(mup_run_spec_check(&s), MUP_OK, "%s", mup_error_message());
    s.model.head_dim = 24; /* 64 is not a multiple of 24 */
    cr_assert_eq(mup_run_spec_check(&s), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "model.head_dim: 24 does not divide mup.base_width 64"), "%s",
              mup_error_message());
    s.model.head_dim = 16;
    s.width = 72;
    cr_assert_eq(mup_run_spec_check(&s), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "width 72"), "%s", mup_error_message());
    s.mup.parametrization = MUP_PARAMETRIZATION_SP; /* SP has no delta model: delta = base is allowed */
    s.mup.delta_width = 64;
    cr_assert_eq(mup_run_spec_check(&s), MUP_ERR_INVALID);
    s.width = 80;
    cr_assert_eq(mup_run_spec_check(&s), MUP_OK, "%s", mup_error_message());
}

/* A spec refused with a message naming key and containing needle (the real limit); one line. */
static void expect_spec_error(const mup_run_spec *s, const char *key, const char *needle) {
    cr_assert_eq(mup_run_spec_check(s), MUP_ERR_INVALID, "accepted; expected an error on %s", key);
    const char *msg = mup_error_message();
    cr_assert(strncmp(msg, key, strlen(key)) == 0, "message \"%s\" does not start with %s", msg, key);
    cr_assert(strstr(msg, needle), "message \"%s\" lacks \"%s\"", msg, needle);
    cr_assert_null(strchr(msg, '\n'), "message spans lines: %s", msg);
    cr_assert_null(strstr(msg, "-2"), "a negative size in \"%s\"", msg);
}

/* Sizes that pass each key's range but not what the library computes with them (64-bit products
 * against INT_MAX and the data cap), each refused before anything is allocated. */
Test(run_spec, sizes_within_what_the_library_computes) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    s.data.dataset = MUP_DATASET_SYNTHETIC;
    s.width = 128;
    cr_assert_eq(mup_run_spec_check(&s), MUP_OK, "%s", mup_error_message());

    mup_run_spec t = s; /* train_size + val_size overflowed an int, and the error printed a negative n */
    t.data.train_size = INT_MAX;
    expect_spec_error(&t, "data.train_size", "2147488647 examples");
    cr_assert(strstr(mup_error_message(), "at most 4194304 examples"), "%s", mup_error_message());
    t = s;
    t.data.synthetic_dim = 1 << 20; /* 15000 default examples of 2^20 features: 60 GB */
    expect_spec_error(&t, "data.synthetic_dim", "at most 256 examples");
    t = s; /* 10^8 classes: a 25.6 GB teacher */
    t.data.synthetic_classes = 100000000;
    expect_spec_error(&t, "data.synthetic_classes", "classes + features at most 4194304");
    t = s; /* 2 x base_width overflowed when no delta was given */
    t.mup.base_width = 1 << 30;
    expect_spec_error(&t, "mup.base_width", "at most 1073741823");
    t.mup.delta_width = 64; /* with a delta the base may be that wide: its build holds only shapes */
    cr_assert_eq(mup_run_spec_check(&t), MUP_OK, "%s", mup_error_message());

    mup_run_spec g = s;
    g.model.arch = MUP_ARCH_GPT;
    g.data.synthetic_classes = 64;
    cr_assert_eq(mup_run_spec_check(&g), MUP_OK, "%s", mup_error_message());
    t = g;
    t.data.synthetic_classes = 300;
    expect_spec_error(&t, "data.synthetic_classes", "256 symbols");
    t = g;
    t.model.ffn_ratio = 2;
    t.width = 1 << 30; /* qkv: 3 x width, wider than fc at ffn_ratio 2 */
    expect_spec_error(&t, "width", "at most 715827882");
    t = g;
    t.model.ffn_ratio = 1 << 25; /* fc: ffn_ratio x width, at the base width already */
    expect_spec_error(&t, "mup.base_width", "model.ffn_ratio");
    t = g;
    t.train.batch_size = 1 << 26; /* 2^26 sequences of 64 tokens */
    expect_spec_error(&t, "train.batch_size", "at most 33554431");
    t = g;
    t.model.block_size = 1;
    t.model.head_dim = 1;
    t.train.batch_size = 1 << 26; /* 2^26 sequences x 256 heads at the delta width */
    expect_spec_error(&t, "train.batch_size", "(batch, head) pairs");
    t = g;
    t.data.train_size = 1 << 30; /* tokens: 4 bytes each */
    expect_spec_error(&t, "data.train_size", "at most 268435456 tokens");

    mup_run_spec f = s;
    f.data.dataset = MUP_DATASET_FASHION_MNIST;
    f.data.val_size = 60000;
    expect_spec_error(&f, "data.val_size", "at most 59999");
    f.data.val_size = 0;
    f.data.train_size = 58000;
    expect_spec_error(&f, "data.train_size", "55000 examples");
}

/* An int key's range shows the int's own limit, and a value past it is refused with that limit. */
Test(run_spec, int_keys_state_their_real_limit) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    const mup_key *steps;
    cr_assert_eq(mup_spec_key_lookup("steps", "", &steps), MUP_OK);
    cr_assert_eq(mup_run_spec_set(&s, steps, 1e12), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "train.steps: 1000000000000 is out of range (allowed: [1, 2147483647])"), "%s",
              mup_error_message());
}

Test(run_spec, print_lists_every_key) {
    mup_run_spec s;
    mup_run_spec_defaults(&s);
    s.width = 256;
    s.train.lr = 3e-4;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mup_run_spec_print(&s, f);
    fclose(f);
    int n, lines = 0;
    mup_spec_keys(&n);
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, n + 2);
    const char *want[][2] = {{"train.lr", "0.0003"}, {"model.activation", "relu"}, {"data.path", "\"\""},
                             {"width", "256"}, {"mup.readout_zero_init", "false"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "%-24s = %s\n", want[i][0], want[i][1]);
        cr_assert(strstr(buf, line), "no line \"%s\" in\n%s", line, buf);
    }
    free(buf);
}

/* ---- depth ---- */

/* parse_ok for text that is freed here. */
static mup_sweep_config *parse_owned(char *text) {
    mup_sweep_config *c = parse_ok(text);
    free(text);
    return c;
}

/* BASE as a residual MLP (depth 4: three blocks), with extra edits of mup. */
static char *residual_with(const char *path, const char *value) {
    char *a = with("model.residual", "true"), *b = test_json_with(a, "model.depth", "4");
    char *c = test_json_with(b, path, value);
    free(a);
    free(b);
    return c;
}

Test(sweep_config, depth_keys_default_off_and_read) {
    char *text = q(BASE);
    mup_sweep_config *c = parse_ok(text);
    free(text);
    cr_assert(isnan(c->base.mup.depth_alpha));
    mup_depth_opts d = mup_run_spec_depth_opts(&c->base);
    cr_assert_not(d.on);
    cr_assert_not(d.eps_scaling);
    cr_assert_eq(c->base.mup.base_depth, 2);
    cr_assert_eq(c->n_proxy_depths, 0);
    cr_assert_eq(c->target.depth, 0);
    mup_sweep_config_free(c);

    c = parse_owned(residual_with("mup", "{'depth_alpha': 1, 'base_depth': 3, 'eps_scaling': true}"));
    d = mup_run_spec_depth_opts(&c->base);
    cr_assert(d.on);
    cr_assert_eq(d.alpha, 1.0);
    cr_assert_eq(d.base_depth, 3);
    cr_assert(d.eps_scaling);
    cr_assert_eq(mup_run_spec_blocks(&c->base), 3);
    mup_sweep_config_free(c);
    /* null is off, as absent is */
    c = parse_owned(residual_with("mup.depth_alpha", "null"));
    cr_assert_not(mup_run_spec_depth_opts(&c->base).on);
    mup_sweep_config_free(c);
    /* eps scaling alone scales with width only: allowed without depth scaling or blocks */
    c = parse_owned(with("mup.eps_scaling", "true"));
    cr_assert(mup_run_spec_depth_opts(&c->base).eps_scaling);
    mup_sweep_config_free(c);
}

Test(sweep_config, depth_keys_bad_input_names_the_key) {
    expect_invalid(residual_with("mup.depth_alpha", "1.5"), "mup.depth_alpha: 1.5 is out of range (allowed: [0, 1] or null)");
    expect_invalid(residual_with("mup.depth_alpha", "-0.5"), "mup.depth_alpha: -0.5 is out of range");
    expect_invalid(residual_with("mup.depth_alpha", "'yes'"), "mup.depth_alpha: expected a number or null, got a string");
    expect_invalid(residual_with("mup.base_depth", "0"), "mup.base_depth: 0 is out of range (allowed: [1, 2147483647])");
    char *sgd = residual_with("mup.depth_alpha", "0.5");
    expect_invalid(test_json_with(sgd, "train.optimizer", "'sgd'"),
                   "mup.depth_alpha: depth scaling is defined for Adam and AdamW only (train.optimizer is sgd)");
    free(sgd);
    expect_invalid(with("mup.depth_alpha", "1"), "mup.depth_alpha: the MLP has no residual blocks to scale (set model.residual)");
    char *one = residual_with("model.depth", "1");
    expect_invalid(test_json_with(one, "mup.depth_alpha", "1"), "mup.depth_alpha: a residual MLP of model.depth 1 has no residual block");
    free(one);
    expect_invalid(with("proxy_depths", "[0]"), "proxy_depths[0]: 0 is out of range (allowed: [1, 2147483647])");
    expect_invalid(with("proxy_depths", "[2, 2]"), "proxy_depths[1]: repeats proxy_depths[0]");
    expect_invalid(with("proxy_depths", "[]"), "proxy_depths: empty");
    expect_invalid(with("target.depth", "0"), "target.depth: 0 is out of range");
    char *searched = with("search.space.depth", "{'dist': 'int', 'low': 1, 'high': 3}");
    expect_invalid(test_json_with(searched, "proxy_depths", "[2, 4]"), "proxy_depths: model.depth is searched (search.space), and the sweep sets it");
    expect_invalid(test_json_with(searched, "target.depth", "4"), "target.depth: model.depth is searched");
    free(searched);
    /* a proxy depth is checked as every run is: depth scaling on a residual MLP of depth 1 */
    char *alpha = residual_with("mup.depth_alpha", "1");
    expect_invalid(test_json_with(alpha, "proxy_depths", "[1, 4]"), "mup.depth_alpha: a residual MLP of model.depth 1");
    free(alpha);
}

Test(sweep_config, proxy_depths_make_width_by_depth_proxies) {
    char *a = with("proxy_widths", "[64, 128]"), *b = test_json_with(a, "proxy_depths", "[2, 4, 8]");
    mup_sweep_config *c = parse_owned(test_json_with(b, "target.depth", "16"));
    free(a);
    free(b);
    cr_assert_eq(mup_proxy_count(c), 6);
    cr_assert_eq(mup_proxy_at(c, 0).width, 64);
    cr_assert_eq(mup_proxy_at(c, 0).depth, 2);
    cr_assert_eq(mup_proxy_at(c, 5).width, 128);
    cr_assert_eq(mup_proxy_at(c, 5).depth, 8);
    cr_assert_eq(mup_proxy_select(c), 5, "the widest, then the deepest proxy picks");
    char label[MUP_PROXY_LABEL_MAX];
    cr_assert_str_eq(mup_proxy_label(c, 1, label, sizeof label), "64, depth 4");
    cr_assert_str_eq(mup_target_label(c, label, sizeof label), "1024, depth 16");
    mup_sweep_config_free(c);
}

/* ---- fingerprints ---- */

static void fingerprint_of(char *text, char out[17]) {
    mup_sweep_config *c = parse_ok(text);
    memcpy(out, c->fingerprint, 17);
    mup_sweep_config_free(c);
    free(text);
}

Test(fingerprint, ignores_order_layout_and_explicit_defaults) {
    char a[17], b[17], d[17];
    fingerprint_of(q(BASE), a);
    /* keys reordered at every level, space included, and laid out differently */
    fingerprint_of(q("{ 'objective':'val_loss','target':{'seeds':1,'width':1024},'proxy_widths':[128],\n"
                     "  'search':{'space':{'init_std':{'high':4,'low':0.25,'dist':'loguniform'},\n"
                     "     'lr':{'low':-14,'dist':'log2uniform','high':-4},\n"
                     "     'output_mult':{'high':16,'dist':'loguniform','low':0.25}},'seed':0,'seeds':2,\n"
                     "     'trials':32,'sampler':'random'},\n"
                     "  'train':{'warmup_steps':0,'schedule':'cosine','batch_size':128,'steps':500,'optimizer':'adam'},\n"
                     "\t'mup':{'delta_width':128,'base_width':64,'parametrization':'mup'},\n"
                     "  'data':{'val_size':5000,'train_size':20000,'dataset':'fashion-mnist'},\n"
                     "  'model':{'activation':'relu','depth':2,'arch':'mlp'},'name':'fashion-mlp'}"),
                   b);
    cr_assert_str_eq(a, b);
    fingerprint_of(with("train.eps", "1e-8"), d);
    cr_assert_str_eq(a, d);
    /* the canonical JSON parses back to the same config */
    char *text = q(BASE);
    mup_sweep_config *c = parse_ok(text);
    cJSON *canon = mup_sweep_config_to_json(c);
    char *canon_text = cJSON_Print(canon);
    mup_sweep_config *back = parse_ok(canon_text);
    cr_assert_str_eq(back->fingerprint, c->fingerprint);
    assert_specs_equal(&back->base, &c->base);
    cJSON_Delete(canon);
    cJSON_free(canon_text);
    mup_sweep_config_free(back);
    mup_sweep_config_free(c);
    free(text);
}

/* A different valid value of key k, as JSON. */
static void other_value(const mup_key *k, double v, char *buf, size_t n) {
    switch (k->type) {
    case MUP_KEY_INT: snprintf(buf, n, "%d", (int)v + 1); return;
    case MUP_KEY_FLOAT: snprintf(buf, n, "%.17g", v > 0 && v < 1 ? v / 2 : v > 0 ? v * 2 : 0.5); return;
    case MUP_KEY_BOOL: snprintf(buf, n, "%s", v != 0 ? "false" : "true"); return;
    case MUP_KEY_ENUM: {
        int count = 0;
        while (k->values[count])
            count++;
        snprintf(buf, n, "'%s'", k->values[((int)v + 1) % count]);
        return;
    }
    case MUP_KEY_STRING: snprintf(buf, n, "'elsewhere'"); return;
    }
}

/* BASE under the grid sampler: lr_points along lr, 2 along the other two keys. */
static char *grid_config(const char *lr_points) {
    char *a = with("search.sampler", "'grid'"), *b = test_json_with(a, "search.trials", NULL);
    char *c = test_json_with(b, "search.space.lr.grid", lr_points), *d = test_json_with(c, "search.space.output_mult.grid", "2");
    char *e = test_json_with(d, "search.space.init_std.grid", "2");
    free(a);
    free(b);
    free(c);
    free(d);
    return e;
}

Test(fingerprint, changes_with_the_grid_points) {
    char two[17], three[17];
    fingerprint_of(grid_config("2"), two);
    fingerprint_of(grid_config("3"), three);
    cr_assert_str_neq(two, three);
}

Test(fingerprint, changes_with_every_value) {
    char base[17], changed[17], path[128], value[64];
    fingerprint_of(q(BASE), base);
    int n;
    const mup_key *keys = mup_spec_keys(&n);
    char *text = q(BASE);
    mup_sweep_config *c = parse_ok(text);
    free(text);
    int tested = 0;
    for (int i = 0; i < n; i++) {
        const mup_key *k = &keys[i];
        /* the architecture and the dataset only change together; depth scaling needs a residual MLP (below) */
        if (strcmp(k->name, "arch") == 0 || strcmp(k->name, "dataset") == 0 || strcmp(k->name, "depth_alpha") == 0)
            continue;
        snprintf(path, sizeof path, "%s.%s", k->section, k->name);
        other_value(k, k->type == MUP_KEY_STRING ? 0 : mup_run_spec_get(&c->base, k), value, sizeof value);
        fingerprint_of(with(path, value), changed);
        cr_assert_str_neq(base, changed, "%s = %s", path, value);
        tested++;
    }
    cr_assert_eq(tested, n - 3);
    mup_sweep_config_free(c);
    char residual[17];
    fingerprint_of(with("model.residual", "true"), residual);
    char *res = with("model.residual", "true");
    fingerprint_of(test_json_with(res, "mup.depth_alpha", "0.5"), changed);
    free(res);
    cr_assert_str_neq(residual, changed, "mup.depth_alpha");
    const char *edits[][2] = {
        {"name", "'fashion-mlp2'"},
        {"objective", "'val_error'"},
        {"search.trials", "33"},
        {"search.seeds", "3"},
        {"search.seed", "1"},
        {"search.sampler", "'sobol'"},
        {"search.space.lr.low", "-13"},
        {"search.space.lr.high", "-3.5"},
        {"search.space.init_std.dist", "'uniform'"},
        {"search.space.depth", "{'dist': 'int', 'low': 1, 'high': 3}"},
        {"proxy_widths", "[128, 256]"},
        {"proxy_widths", "[256]"},
        {"target.width", "2048"},
        {"target.seeds", "2"},
        {"target", NULL},
        {"target.depth", "4"},
        {"proxy_depths", "[2]"},
        {"model", "{'arch': 'gpt', 'n_head': 2}"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *text = strcmp(edits[i][0], "model") == 0 ? NULL : with(edits[i][0], edits[i][1]);
        if (!text) {
            char *gpt = with("model", edits[i][1]);
            cJSON *j = cJSON_Parse(gpt);
            cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j, "data"), "dataset", cJSON_CreateString("text"));
            text = cJSON_Print(j);
            cJSON_Delete(j);
            free(gpt);
        }
        fingerprint_of(text, changed);
        cr_assert_str_neq(base, changed, "%s", edits[i][0]);
    }
}

/* ---- the reference and the suggestions ---- */

Test(sweep_docs, committed_reference_matches_the_tables) {
    const char *root = getenv("MUP_SOURCE_DIR");
    cr_assert(root, "MUP_SOURCE_DIR is not set");
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/sweep-config.md", root);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot open %s", path);
    char *committed = NULL, *generated = NULL;
    size_t n_committed = 0, n_generated = 0;
    FILE *mc = open_memstream(&committed, &n_committed);
    int ch;
    while ((ch = fgetc(f)) != EOF)
        fputc(ch, mc);
    fclose(f);
    fclose(mc);
    FILE *mg = open_memstream(&generated, &n_generated);
    mup_sweep_config_write_markdown(mg);
    fclose(mg);
    cr_assert_str_eq(committed, generated, "docs/sweep-config.md is stale: run `ninja -C build sweep-config-docs`");
    /* every key has a row */
    int n;
    const mup_key *keys = mup_spec_keys(&n);
    for (int i = 0; i < n; i++) {
        char row[128];
        snprintf(row, sizeof row, "| `%s` |", keys[i].name);
        cr_assert(strstr(generated, row), "no row for %s", keys[i].name);
    }
    free(committed);
    free(generated);
}

Test(suggest, edit_distance) {
    cr_assert_eq(mup_edit_distance("kitten", "sitting"), 3);
    cr_assert_eq(mup_edit_distance("", "abc"), 3);
    cr_assert_eq(mup_edit_distance("abc", "abc"), 0);
    cr_assert_eq(mup_edit_distance("LR", "lr"), 0);
    cr_assert_eq(mup_edit_distance("trials", "trails"), 1); /* a swap is one edit */
    cr_assert_eq(mup_edit_distance("ca", "abc"), 3);        /* OSA: no edits inside a swapped pair */
    cr_assert_eq(mup_suggest_distance("lerning_rate", "learning_rate"), 1);
    cr_assert_eq(mup_suggest_distance("xy", "lr"), -1);
    cr_assert_eq(mup_suggest_distance("l", "lr"), 1);
    cr_assert_eq(mup_suggest_distance("eval", "eval_batches"), 1); /* a prefix */
    cr_assert_eq(mup_suggest_distance("ev", "eval_batches"), -1);
}

/* ---- the tools' command line (sweep/common/cli.c) ---- */

static const mup_cli_option cli_options[] = {
    {"out", 0, true, NULL}, {"jobs", 'j', true, NULL}, {"resume", 0, false, NULL}};

/* The arguments of argv (NULL-terminated) as "name=value" or "=value" for a plain one, joined by
 * spaces, or "error: message" at the first error. */
static void cli_parse(const char *const *argv, char *out, size_t n) {
    int argc = 0;
    while (argv[argc])
        argc++;
    mup_cli p = mup_cli_start(cli_options, 3, argc, (char **)argv);
    out[0] = '\0';
    for (;;) {
        int opt;
        const char *v;
        if (mup_cli_next(&p, &opt, &v) != MUP_OK) {
            snprintf(out, n, "error: %s", mup_error_message());
            return;
        }
        if (opt < 0 && !v)
            return;
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%s=%s", used ? " " : "", opt < 0 ? "" : cli_options[opt].name,
                 v ? v : "(none)");
    }
}

#define EXPECT_CLI(want, ...)                                                             \
    do {                                                                                  \
        char got_[512];                                                                   \
        cli_parse((const char *[]){"tool", __VA_ARGS__, NULL}, got_, sizeof got_);        \
        cr_assert_str_eq(got_, want);                                                     \
    } while (0)

Test(cli, both_forms_switches_short_forms_and_plain_arguments) {
    EXPECT_CLI("=c.json out=d jobs=4 resume=(none)", "c.json", "--out", "d", "--jobs=4", "--resume");
    EXPECT_CLI("out=a=b jobs=2", "--out=a=b", "-j", "2");
    EXPECT_CLI("jobs=-1 =--out", "--jobs", "-1", "--", "--out"); /* after --, plain; a negative value */
    EXPECT_CLI("=-", "-");
}

Test(cli, errors_name_the_argument_and_suggest_the_nearest_option) {
    EXPECT_CLI("error: --jbos: unknown option (did you mean --jobs?)", "--jbos", "2");
    EXPECT_CLI("error: --jbos: unknown option (did you mean --jobs?)", "--jbos=2");
    EXPECT_CLI("error: -out: unknown option (did you mean --out?)", "-out", "d");
    EXPECT_CLI("error: --zzzzzz: unknown option (see --help)", "--zzzzzz");
    EXPECT_CLI("error: --out: missing its value", "--out");
    EXPECT_CLI("error: --out: missing its value", "--out", "--resume");
    EXPECT_CLI("error: --out: missing its value", "--out=");
    EXPECT_CLI("error: --resume takes no value (got --resume=yes)", "--resume=yes");
}

Test(cli, exit_codes_by_kind_of_error) {
    cr_assert_eq(mup_cli_exit_code(MUP_OK), 0);
    cr_assert_eq(mup_cli_exit_code(MUP_ERR_INVALID), MUP_EXIT_USAGE);
    cr_assert_eq(mup_cli_exit_code(MUP_ERR_PARSE), MUP_EXIT_USAGE);
    cr_assert_eq(mup_cli_exit_code(MUP_ERR_IO), MUP_EXIT_ENVIRONMENT);
    cr_assert_eq(mup_cli_exit_code(MUP_ERR_NOMEM), MUP_EXIT_ENVIRONMENT);
    cr_assert_eq(mup_cli_exit_code(MUP_ERR_DIVERGED), MUP_EXIT_FAILED);
}

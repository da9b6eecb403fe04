#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "lint.h"
#include "program.h"
#include "protocol.h"
#include "runs.h"
#include "sampler.h"
#include "sobol.h"

static const char *const sampler_names[] = {"random", "sobol", "grid", "tpe", NULL};
static const char *const objective_names[] = {"val_loss", "train_loss", "val_error", NULL};
static const char *const direction_names[] = {"minimize", "maximize", NULL};
static const char *const pruner_names[] = {"none", "median", "asha", NULL};

const char *mup_sampler_name(mup_sampler_kind s) { return sampler_names[s]; }
const char *mup_objective_name(mup_objective o) { return objective_names[o]; }
const char *mup_pruner_name(mup_pruner_kind k) { return pruner_names[k]; }
const char *mup_sweep_objective(const mup_sweep_config *c) {
    return c->kind == MUP_RUN_PROGRAM ? c->objective_label : objective_names[c->objective];
}

/* The grid's trials are computed, and a config may not ask for more trials than this; the runs they
 * make (trials x proxy widths x seeds + target seeds) are bounded by MUP_RUNS_MAX (runs.c). */
#define MAX_TRIALS 1000000

#define C mup_sweep_config
static const mup_key config_keys[] = {
    MUP_KEY_STRING("", "name", C, name, "sweep", "title id", "names the sweep in its reports"),
    MUP_KEY_ENUM("", "objective", C, objective, MUP_OBJECTIVE_VAL_LOSS, objective_names,
                 "metric loss target_metric",
                 "what ranks the trials: the final validation loss, the final training loss or the validation "
                 "error rate; for a program run, any metric its final report holds"),
    MUP_KEY_ENUM("", "direction", C, maximize, 0, direction_names, "goal mode",
                 "program runs: whether the objective is minimised (a loss) or maximised (an accuracy); built-in "
                 "objectives are minimised"),
    MUP_KEY_ENUM("search", "sampler", C, search.sampler, MUP_SAMPLER_RANDOM, sampler_names,
                 "method strategy algorithm",
                 "independent random draws, a scrambled Sobol sequence (better spread), the full grid, or the "
                 "Tree-structured Parzen Estimator (each trial drawn from the finished ones' results)"),
    MUP_KEY_INT("search", "trials", C, search.trials, 0, ((mup_key_range){1, MAX_TRIALS, false, false}),
                "n_trials num_trials samples",
                "settings to try; needed by random and sobol (a power of two suits sobol); grid computes it "
                "as the product of the keys' points, so leave it out or give that number"),
    MUP_KEY_INT("search", "seeds", C, search.seeds, 1, ((mup_key_range){1, MUP_RUNS_MAX, false, false}),
                "n_seeds repeats",
                "runs of each setting at each proxy width, each with its own seed"),
    MUP_KEY_INT("search", "seed", C, search.seed, 0, MUP_RANGE_NONNEG, "random_seed sampler_seed",
                "seed of the sampler: the same seed gives the same trials"),
    MUP_KEY_ENUM("search.pruner", "type", C, search.pruner.kind, MUP_PRUNER_NONE, pruner_names, "pruner kind name",
                 "stop unpromising proxy runs early: never, by the median rule, or by asynchronous successive "
                 "halving"),
    MUP_KEY_INT("search.pruner", "warmup_steps", C, search.pruner.warmup_steps, 0, MUP_RANGE_NONNEG,
                "n_warmup_steps warmup",
                "median: no run stops at a step below this (Optuna's n_warmup_steps)"),
    MUP_KEY_INT("search.pruner", "min_trials", C, search.pruner.min_trials, 5, MUP_RANGE_FROM(1),
                "n_startup_trials n_min_trials",
                "median: complete runs of the width with a value at the step before any run stops there "
                "(Optuna's n_startup_trials and n_min_trials, both)"),
    MUP_KEY_INT("search.pruner", "min_resource", C, search.pruner.min_resource, 0, MUP_RANGE_FROM(1),
                "min_steps r_min grace_period",
                "asha: the step of the first rung; rungs at min_resource x reduction_factor^k"),
    MUP_KEY_INT("search.pruner", "reduction_factor", C, search.pruner.reduction_factor, 3,
                ((mup_key_range){2, 1000, false, false}), "eta",
                "asha: eta; the top 1/eta of the runs at a rung go on"),
    MUP_KEY_INT("search.tpe", "n_startup_trials", C, search.tpe.n_startup, 10,
                ((mup_key_range){1, MAX_TRIALS, false, false}), "n_startup startup_trials n_initial",
                "trials drawn at random (as the random sampler draws them) before TPE models the results"),
    MUP_KEY_FLOAT("search.tpe", "gamma", C, search.tpe.gamma, 0.1, ((mup_key_range){0, 1, true, false}),
                  "quantile good_fraction",
                  "the good group: the best ceil(gamma x finished trials), at most 25 (Optuna's default rule)"),
    MUP_KEY_INT("search.tpe", "n_candidates", C, search.tpe.n_candidates, 24,
                ((mup_key_range){1, 100000, false, false}), "n_ei_candidates candidates",
                "values drawn from the good trials' density per key; the one most likelier under it than under "
                "the bad trials' wins"),
    MUP_KEY_INT("target", "width", C, target.width, 0, MUP_RANGE_FROM(1), "d_model size",
                "width of the target model that is trained with the best setting"),
    MUP_KEY_INT("target", "seeds", C, target.seeds, 1, ((mup_key_range){1, MUP_RUNS_MAX, false, false}),
                "n_seeds repeats",
                "target runs, each with its own seed"),
    MUP_KEY_INT_OMIT("target", "depth", C, target.depth, 0, MUP_RANGE_FROM(1), "n_layer blocks",
                     "residual blocks of the target (model.n_layer of the GPT, model.depth of the MLP); by "
                     "default the model section's"),
    MUP_KEY_STRING("program", "cwd", C, program.cwd, "", "dir workdir directory",
                   "working directory of the program (and of a relative command); \"\": the sweep's"),
    MUP_KEY_FLOAT("program", "timeout", C, program.timeout, 0, MUP_RANGE_NONNEG, "time_limit seconds",
                  "seconds a run may take before its process group is killed and the run fails; 0: no limit"),
    MUP_KEY_BOOL_OMIT("program", "mpi", C, program.mpi, 0, "use_mpi data_parallel",
                      "the program can train across MPI ranks: under mpirun, each target run is started once "
                      "through `launcher` to train on all the sweep's ranks (trial-protocol.md)"),
};
#undef C
#define N_CONFIG_KEYS ((int)(sizeof config_keys / sizeof config_keys[0]))

const mup_key *mup_sweep_config_keys(int *n) {
    *n = N_CONFIG_KEYS;
    return config_keys;
}

static const char *const top_extra[] = {"model", "mup", "train", "data", "search", "proxy_widths", "proxy_depths",
                                        "target", "program", NULL};
/* a program's objective is any metric name, read by read_program */
static const char *const program_top_extra[] = {"model", "mup", "train", "data", "search", "proxy_widths",
                                                "proxy_depths", "target", "program", "objective", NULL};
static const char *const search_extra[] = {"space", "pruner", "tpe", NULL};
static const char *const program_extra[] = {"command", "env", "launcher", NULL};

/* A list of distinct positive integers (proxy_widths, proxy_depths), each read as target.width is. */
static mup_status read_sizes(const cJSON *v, const char *path, int **out, int *n_out) {
    static const mup_key size_key = MUP_KEY_INT("", "width", mup_sweep_config, target.width, 1,
                                                MUP_RANGE_FROM(1), NULL, "");
    double *sizes;
    int n;
    mup_status s = mup_key_read_list(&size_key, v, path, &sizes, &n);
    if (!s) {
        *out = mup_tool_xcalloc((size_t)n, sizeof **out);
        for (int i = 0; i < n; i++)
            (*out)[i] = (int)sizes[i];
        *n_out = n;
    }
    free(sizes);
    return s;
}

/* The pruner a search.pruner key belongs to (none: type, which every pruner has). */
static mup_pruner_kind pruner_key_owner(const char *name) {
    if (strcmp(name, "min_resource") == 0 || strcmp(name, "reduction_factor") == 0)
        return MUP_PRUNER_ASHA;
    if (strcmp(name, "warmup_steps") == 0 || strcmp(name, "min_trials") == 0)
        return MUP_PRUNER_MEDIAN;
    return MUP_PRUNER_NONE;
}

/* search.pruner: its type's keys only, each in range; asha needs its first rung before the last step. */
static mup_status read_pruner(mup_sweep_config *c, const cJSON *obj) {
    if (!obj)
        return MUP_OK;
    if (!cJSON_IsObject(obj))
        return mup_error(MUP_ERR_INVALID, "search.pruner: expected an object ({\"type\": \"median\"} or "
                         "{\"type\": \"asha\", \"min_resource\": STEPS}), got %s", mup_json_type_name(obj));
    mup_key_scope scope = {config_keys, N_CONFIG_KEYS, "search.pruner", NULL, {{config_keys, N_CONFIG_KEYS}}};
    mup_status s = mup_keys_read(&scope, c, obj, "search.pruner");
    if (s)
        return s;
    mup_pruner_kind kind = c->search.pruner.kind;
    for (const cJSON *m = obj->child; m; m = m->next) {
        mup_pruner_kind owner = pruner_key_owner(m->string);
        if (owner != MUP_PRUNER_NONE && owner != kind)
            return mup_error(MUP_ERR_INVALID, "search.pruner.%s: a key of the %s pruner, not of %s", m->string,
                             pruner_names[owner], pruner_names[kind]);
    }
    if (kind != MUP_PRUNER_ASHA)
        return MUP_OK;
    if (!cJSON_GetObjectItemCaseSensitive(obj, "min_resource"))
        return mup_error(MUP_ERR_INVALID, "search.pruner.min_resource: missing (the step of asha's first rung)");
    if (c->kind == MUP_RUN_BUILTIN && c->search.pruner.min_resource >= c->base.train.steps)
        return mup_error(MUP_ERR_INVALID, "search.pruner.min_resource: %d is not below train.steps (%d): no rung "
                         "before the end of a run", c->search.pruner.min_resource, c->base.train.steps);
    return MUP_OK;
}

static mup_status read_proxies(mup_sweep_config *c, const cJSON *root) {
    const cJSON *widths = cJSON_GetObjectItemCaseSensitive(root, "proxy_widths");
    const cJSON *depths = cJSON_GetObjectItemCaseSensitive(root, "proxy_depths");
    if (!widths)
        return mup_error(MUP_ERR_INVALID, "proxy_widths: missing (the widths of the narrow models searched)");
    mup_status s = read_sizes(widths, "proxy_widths", &c->proxy_widths, &c->n_proxy_widths);
    if (s || !depths)
        return s;
    if (c->kind == MUP_RUN_PROGRAM)
        return mup_error(MUP_ERR_INVALID, "proxy_depths: a program run has no built-in depth (search it as a key)");
    return read_sizes(depths, "proxy_depths", &c->proxy_depths, &c->n_proxy_depths);
}

/* proxy_depths and target.depth set the depth key of each run: a search over that key would be overwritten. */
static mup_status check_depth_not_searched(const mup_sweep_config *c) {
    const mup_key *k = mup_spec_depth_key(&c->base);
    for (int d = 0; d < c->search.n_dims; d++)
        if (c->search.dims[d].key == k && (c->n_proxy_depths > 0 || c->target.depth > 0))
            return mup_error(MUP_ERR_INVALID, "%s: %s.%s is searched (search.space), and the sweep sets it: remove one "
                             "of the two", c->n_proxy_depths > 0 ? "proxy_depths" : "target.depth", k->section, k->name);
    return MUP_OK;
}

int mup_proxy_count(const mup_sweep_config *c) {
    return c->n_proxy_widths * (c->n_proxy_depths > 0 ? c->n_proxy_depths : 1);
}

mup_proxy mup_proxy_at(const mup_sweep_config *c, int p) {
    int D = c->n_proxy_depths > 0 ? c->n_proxy_depths : 1;
    MUP_ASSERT(p >= 0 && p < mup_proxy_count(c), "proxy %d of %d", p, mup_proxy_count(c));
    return (mup_proxy){c->proxy_widths[p / D], c->n_proxy_depths > 0 ? c->proxy_depths[p % D] : 0};
}

int mup_proxy_select(const mup_sweep_config *c) {
    int best = 0;
    for (int p = 1; p < mup_proxy_count(c); p++) {
        mup_proxy x = mup_proxy_at(c, p), b = mup_proxy_at(c, best);
        if (x.width > b.width || (x.width == b.width && x.depth > b.depth))
            best = p;
    }
    return best;
}

static const char *size_label(int width, int depth, char *buf, size_t n) {
    if (depth > 0)
        snprintf(buf, n, "%d, depth %d", width, depth);
    else
        snprintf(buf, n, "%d", width);
    return buf;
}

const char *mup_proxy_label(const mup_sweep_config *c, int p, char *buf, size_t n) {
    mup_proxy x = mup_proxy_at(c, p);
    return size_label(x.width, x.depth, buf, n);
}

const char *mup_target_label(const mup_sweep_config *c, char *buf, size_t n) {
    return size_label(c->target.width, c->target.depth, buf, n);
}

static mup_status read_search(mup_sweep_config *c, const cJSON *search) {
    if (!search)
        return mup_error(MUP_ERR_INVALID, "search: missing (the sampler, trials and space of the search)");
    mup_key_scope scope = {config_keys, N_CONFIG_KEYS, "search", search_extra, {{config_keys, N_CONFIG_KEYS}}};
    mup_status s = mup_keys_read(&scope, c, search, "search");
    if (s)
        return s;
    const cJSON *tpe = cJSON_GetObjectItemCaseSensitive(search, "tpe");
    if (tpe && c->search.sampler != MUP_SAMPLER_TPE)
        return mup_error(MUP_ERR_INVALID, "search.tpe: the %s sampler takes no tpe settings (set search.sampler to "
                         "tpe, or remove search.tpe)", sampler_names[c->search.sampler]);
    mup_key_scope tpe_scope = {config_keys, N_CONFIG_KEYS, "search.tpe", NULL, {{config_keys, N_CONFIG_KEYS}}};
    s = tpe ? mup_keys_read(&tpe_scope, c, tpe, "search.tpe") : MUP_OK;
    if (s)
        return s;
    const cJSON *space = cJSON_GetObjectItemCaseSensitive(search, "space");
    if (!space)
        return mup_error(MUP_ERR_INVALID, "search.space: missing (the keys to search and their distributions)");
    s = mup_search_space_read(c, space);
    if (!s)
        s = read_pruner(c, cJSON_GetObjectItemCaseSensitive(search, "pruner"));
    if (s)
        return s;
    bool given = cJSON_GetObjectItemCaseSensitive(search, "trials") != NULL;
    if (c->search.sampler != MUP_SAMPLER_GRID) {
        if (!given)
            return mup_error(MUP_ERR_INVALID, "search.trials: missing (the %s sampler needs a number of trials)",
                             sampler_names[c->search.sampler]);
        if (c->search.sampler == MUP_SAMPLER_SOBOL && c->search.n_dims > MUP_SOBOL_MAX_DIMS)
            return mup_error(MUP_ERR_INVALID, "search.space: the sobol sampler takes at most %d keys, got %d",
                             MUP_SOBOL_MAX_DIMS, c->search.n_dims);
        if (c->search.sampler == MUP_SAMPLER_TPE && c->search.tpe.n_startup >= c->search.trials)
            mup_log(MUP_LOG_WARN, "search.tpe.n_startup_trials: %d of the %d trials are random: TPE draws none",
                    c->search.tpe.n_startup, c->search.trials);
        if (c->search.sampler == MUP_SAMPLER_SOBOL && (c->search.trials & (c->search.trials - 1)))
            mup_log(MUP_LOG_WARN, "search.trials: %d is not a power of two, where Sobol points are balanced",
                    c->search.trials);
        return MUP_OK;
    }
    long points = 1;
    for (int d = 0; d < c->search.n_dims; d++) {
        points *= mup_search_dim_points(&c->search.dims[d]);
        if (points > MAX_TRIALS)
            return mup_error(MUP_ERR_INVALID, "search.space: the grid has more than %d points", MAX_TRIALS);
    }
    if (given && c->search.trials != points)
        return mup_error(MUP_ERR_INVALID, "search.trials: %d does not match the grid's %ld points (leave it out)",
                         c->search.trials, points);
    c->search.trials = (int)points;
    return MUP_OK;
}

static mup_status read_target(mup_sweep_config *c, const cJSON *target) {
    if (!target)
        return MUP_OK;
    mup_key_scope scope = {config_keys, N_CONFIG_KEYS, "target", NULL, {{config_keys, N_CONFIG_KEYS}}};
    mup_status s = mup_keys_read(&scope, c, target, "target");
    if (s)
        return s;
    if (!cJSON_GetObjectItemCaseSensitive(target, "width"))
        return mup_error(MUP_ERR_INVALID, "target.width: missing (the width to transfer the best setting to)");
    if (c->target.depth > 0 && c->kind == MUP_RUN_PROGRAM)
        return mup_error(MUP_ERR_INVALID, "target.depth: a program run has no built-in depth (search it as a key)");
    c->has_target = true;
    return MUP_OK;
}

/* A spec failing at some width and depth: the failure is the search's when the base spec passes there,
 * or fails with another message. */
static mup_status check_trial(const mup_sweep_config *c, int trial, int width, int depth) {
    mup_run_spec spec;
    mup_status s = mup_plan_apply(c, trial, &spec);
    spec.width = width;
    mup_run_spec_set_depth(&spec, depth);
    if (!s)
        s = mup_run_spec_check(&spec);
    if (!s)
        return MUP_OK;
    char failed[1024];
    snprintf(failed, sizeof failed, "%s", mup_error_message());
    mup_run_spec base = c->base;
    base.width = width;
    mup_run_spec_set_depth(&base, depth);
    if (mup_run_spec_check(&base) && strcmp(mup_error_message(), failed) == 0)
        return s;
    double *values = mup_tool_xmalloc((size_t)c->search.n_dims * sizeof *values);
    char assigned[512];
    mup_plan_values(c, trial, values);
    mup_plan_format(c, values, assigned, sizeof assigned);
    free(values);
    mup_error(s, "%s", failed);
    return mup_error_context(s, "search: trial %d (%s): ", trial, assigned);
}

/* Every run the sweep will make must be one the trainer accepts (TPE's draws: when drawn). */
static mup_status check_runs(const mup_sweep_config *c) {
    for (int t = 0; t < mup_plan_fixed(c); t++) {
        for (int p = 0; p < mup_proxy_count(c); p++) {
            mup_status s = check_trial(c, t, mup_proxy_at(c, p).width, mup_proxy_at(c, p).depth);
            if (s)
                return s;
        }
        if (c->has_target) {
            mup_status s = check_trial(c, t, c->target.width, c->target.depth);
            if (s)
                return s;
        }
    }
    return MUP_OK;
}

static mup_status read_strings(const cJSON *list, const char *path, char ***out, int *n) {
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return mup_error(MUP_ERR_INVALID, "%s: expected a non-empty list of strings, got %s", path,
                         mup_json_type_name(list));
    *n = cJSON_GetArraySize(list);
    *out = mup_tool_xcalloc((size_t)*n + 1, sizeof **out);
    int i = 0;
    for (const cJSON *v = list->child; v; v = v->next, i++) {
        if (!cJSON_IsString(v) || strlen(v->valuestring) >= MUP_SPEC_PATH_MAX)
            return mup_error(MUP_ERR_INVALID, "%s[%d]: expected a string of under %d characters, got %s", path, i,
                             MUP_SPEC_PATH_MAX, mup_json_type_name(v));
        (*out)[i] = mup_tool_xstrdup(v->valuestring);
    }
    return MUP_OK;
}

static bool env_name(const char *s) {
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static mup_status read_env(mup_program_config *p, const cJSON *env) {
    if (!env)
        return MUP_OK;
    if (!cJSON_IsObject(env))
        return mup_error(MUP_ERR_INVALID, "program.env: expected an object of names and strings, got %s",
                         mup_json_type_name(env));
    p->env = mup_tool_xcalloc((size_t)cJSON_GetArraySize(env) + 1, sizeof *p->env);
    for (const cJSON *v = env->child; v; v = v->next) {
        if (!env_name(v->string) || strlen(v->string) > 128)
            return mup_error(MUP_ERR_INVALID, "program.env: \"%.40s\" is not a variable name (A-Z, a-z, 0-9, _)",
                             v->string);
        if (strncmp(v->string, "MUP_TRIAL", 9) == 0)
            return mup_error(MUP_ERR_INVALID, "program.env.%s: set by the sweep for each run", v->string);
        if (!cJSON_IsString(v) || strlen(v->valuestring) >= MUP_SPEC_PATH_MAX)
            return mup_error(MUP_ERR_INVALID, "program.env.%s: expected a string of under %d characters", v->string,
                             MUP_SPEC_PATH_MAX);
        for (int i = 0; i < p->n_env; i++)
            if (strncmp(p->env[i], v->string, strlen(v->string)) == 0 && p->env[i][strlen(v->string)] == '=')
                return mup_error(MUP_ERR_INVALID, "program.env.%s: duplicate key", v->string);
        size_t n = strlen(v->string) + strlen(v->valuestring) + 2;
        p->env[p->n_env] = mup_tool_xmalloc(n);
        snprintf(p->env[p->n_env++], n, "%s=%s", v->string, v->valuestring);
    }
    return MUP_OK;
}

/* program.launcher: given only with program.mpi; by default Open MPI's mpirun on the sweep's own ranks
 * and hosts (MUP_DEFAULT_LAUNCHER). */
static mup_status read_launcher(mup_program_config *p, const cJSON *launcher) {
    if (launcher && !p->mpi)
        return mup_error(MUP_ERR_INVALID, "program.launcher: given without \"mpi\": true (a launcher starts a "
                         "program that trains across MPI ranks)");
    if (launcher)
        return read_strings(launcher, "program.launcher", &p->launcher, &p->launcher_argc);
    if (!p->mpi)
        return MUP_OK;
    static const char *const fallback[] = {MUP_DEFAULT_LAUNCHER};
    p->launcher_argc = (int)(sizeof fallback / sizeof fallback[0]);
    p->launcher = mup_tool_xcalloc((size_t)p->launcher_argc + 1, sizeof *p->launcher);
    for (int i = 0; i < p->launcher_argc; i++)
        p->launcher[i] = mup_tool_xstrdup(fallback[i]);
    return MUP_OK;
}

/* The program section, the objective as a metric name, and no built-in settings: a program run's
 * settings are its search keys and its own. */
static mup_status read_program(mup_sweep_config *c, const cJSON *root) {
    static const char *const builtin[] = {"model", "train", "data"};
    for (int i = 0; i < 3; i++)
        if (cJSON_GetObjectItemCaseSensitive(root, builtin[i]))
            return mup_error(MUP_ERR_INVALID, "%s: a program run has no %s section (search its settings as keys, or "
                             "leave them to the program)", builtin[i], builtin[i]);
    const cJSON *mup = cJSON_GetObjectItemCaseSensitive(root, "mup");
    for (const cJSON *m = cJSON_IsObject(mup) ? mup->child : NULL; m; m = m->next)
        if (strcmp(m->string, "base_width") != 0 && strcmp(m->string, "delta_width") != 0)
            return mup_error(MUP_ERR_INVALID, "mup.%s: a program run takes only mup.base_width and mup.delta_width "
                             "(the program applies the others: search them as keys)", m->string);
    const cJSON *prog = cJSON_GetObjectItemCaseSensitive(root, "program");
    mup_key_scope scope = {config_keys, N_CONFIG_KEYS, "program", program_extra, {{config_keys, N_CONFIG_KEYS}}};
    mup_status s = mup_keys_read(&scope, c, prog, "program");
    if (!s) {
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(prog, "command");
        s = cmd ? read_strings(cmd, "program.command", &c->program.argv, &c->program.argc)
                : mup_error(MUP_ERR_INVALID, "program.command: missing (the program and its arguments, as a list)");
    }
    if (!s)
        s = read_env(&c->program, cJSON_GetObjectItemCaseSensitive(prog, "env"));
    if (!s)
        s = read_launcher(&c->program, cJSON_GetObjectItemCaseSensitive(prog, "launcher"));
    if (s)
        return s;
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "objective");
    if (!obj)
        return mup_error(MUP_ERR_INVALID, "objective: missing (the metric of the program's final report to rank by)");
    if (!cJSON_IsString(obj) || !mup_safe_name(obj->valuestring))
        return mup_error(MUP_ERR_INVALID, "objective: expected a metric name of 1 to %d characters of A-Z a-z 0-9 _ . -",
                         MUP_SAFE_NAME_MAX);
    snprintf(c->metric, sizeof c->metric, "%s", obj->valuestring);
    snprintf(c->objective_label, sizeof c->objective_label, "%s%s", c->maximize ? "-" : "", c->metric);
    return MUP_OK;
}

/* A program config's command, and its widths as a built-in run would have them checked (two widths). */
static mup_status program_check(const mup_sweep_config *c) {
    mup_run_spec spec = c->base;
    spec.width = spec.mup.base_width;
    mup_status s = mup_run_spec_check(&spec);
    return s ? s : mup_program_check_args(c);
}

static mup_status read_config(mup_sweep_config *c, const cJSON *root) {
    mup_keys_set_defaults(config_keys, N_CONFIG_KEYS, c);
    mup_run_spec_defaults(&c->base);
    int n_spec;
    const mup_key *spec_keys = mup_spec_keys(&n_spec);
    c->kind = cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "program") ? MUP_RUN_PROGRAM
                                                                                         : MUP_RUN_BUILTIN;
    mup_key_scope top = {config_keys, N_CONFIG_KEYS, "", c->kind == MUP_RUN_PROGRAM ? program_top_extra : top_extra,
                         {{spec_keys, n_spec}, {config_keys, N_CONFIG_KEYS}}};
    mup_status s = mup_keys_read(&top, c, root, "");
    if (!s && c->kind == MUP_RUN_PROGRAM)
        s = read_program(c, root);
    else if (!s && c->maximize)
        s = mup_error(MUP_ERR_INVALID, "direction: %s is a loss, always minimised", objective_names[c->objective]);
    if (!s)
        s = mup_run_spec_read_sections(&c->base, root);
    if (!s)
        s = read_search(c, cJSON_GetObjectItemCaseSensitive(root, "search"));
    if (!s)
        s = read_proxies(c, root);
    if (!s)
        s = read_target(c, cJSON_GetObjectItemCaseSensitive(root, "target"));
    if (!s && c->kind == MUP_RUN_BUILTIN)
        s = check_depth_not_searched(c);
    if (!s && c->kind == MUP_RUN_PROGRAM)
        s = program_check(c);
    else if (!s)
        s = check_runs(c);
    return s;
}

/* FNV-1a: a fixed, portable hash of the canonical text. */
static uint64_t fnv1a64(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* The config from parsed JSON (deleted here); source names it in the errors. */
static mup_status from_root(cJSON *root, const char *source, mup_sweep_config **out) {
    mup_sweep_config *c = mup_tool_xcalloc(1, sizeof *c);
    mup_status s = read_config(c, root);
    if (!s)
        s = mup_sweep_config_lint(c, root);
    cJSON_Delete(root);
    if (s) {
        mup_sweep_config_free(c);
        return source ? mup_error_context(s, "%s: ", source) : s;
    }
    cJSON *canon = mup_sweep_config_to_json(c);
    char *canon_text = cJSON_PrintUnformatted(canon);
    snprintf(c->fingerprint, sizeof c->fingerprint, "%016" PRIx64, fnv1a64(canon_text));
    cJSON_free(canon_text);
    cJSON_Delete(canon);
    *out = c;
    return MUP_OK;
}

mup_status mup_sweep_config_parse(const char *text, const char *source, mup_sweep_config **out) {
    MUP_ASSERT(text, "mup_sweep_config_parse: no text");
    *out = NULL;
    cJSON *root;
    mup_status s = mup_json_parse(text, source ? source : "config", &root);
    return s ? s : from_root(root, source, out);
}

mup_status mup_sweep_config_load(const char *path, mup_sweep_config **out) {
    *out = NULL;
    cJSON *root;
    mup_status s = mup_json_load(path, &root);
    return s ? s : from_root(root, path, out);
}

void mup_sweep_config_free(mup_sweep_config *c) {
    if (!c)
        return;
    for (int d = 0; d < c->search.n_dims; d++)
        free(c->search.dims[d].values);
    free(c->search.dims);
    free(c->proxy_widths);
    free(c->proxy_depths);
    for (int i = 0; i < c->program.argc; i++)
        free(c->program.argv[i]);
    free(c->program.argv);
    for (int i = 0; i < c->program.launcher_argc; i++)
        free(c->program.launcher[i]);
    free(c->program.launcher);
    for (int i = 0; i < c->program.n_env; i++)
        free(c->program.env[i]);
    free(c->program.env);
    mup_program_keys_free(c);
    free(c);
}

/* A built-in config's canonical JSON has no direction, so that its fingerprint is what it was before
 * program runs existed; a program's objective is its metric. */
static void add_keys(cJSON *obj, const mup_sweep_config *c, const char *section) {
    bool program = c->kind == MUP_RUN_PROGRAM;
    for (int i = 0; i < N_CONFIG_KEYS; i++) {
        const mup_key *k = &config_keys[i];
        if (strcmp(k->section, section) != 0 || (!program && strcmp(k->name, "direction") == 0) ||
            !mup_key_written(k, c))
            continue;
        if (program && !*section && strcmp(k->name, "objective") == 0)
            cJSON_AddStringToObject(obj, k->name, c->metric);
        else
            cJSON_AddItemToObject(obj, k->name, mup_key_to_json(k, c));
    }
}

static cJSON *pruner_to_json(const mup_sweep_config *c) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < N_CONFIG_KEYS; i++) {
        const mup_key *k = &config_keys[i];
        mup_pruner_kind owner = pruner_key_owner(k->name);
        if (strcmp(k->section, "search.pruner") == 0 && (owner == MUP_PRUNER_NONE || owner == c->search.pruner.kind))
            cJSON_AddItemToObject(o, k->name, mup_key_to_json(k, c));
    }
    return o;
}

static cJSON *program_to_json(const mup_sweep_config *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "command", cJSON_CreateStringArray((const char *const *)c->program.argv, c->program.argc));
    cJSON *env = cJSON_AddObjectToObject(o, "env");
    for (int i = 0; i < c->program.n_env; i++) {
        char name[160];
        size_t n = strcspn(c->program.env[i], "=");
        snprintf(name, sizeof name, "%.*s", (int)n, c->program.env[i]);
        cJSON_AddStringToObject(env, name, c->program.env[i] + n + 1);
    }
    if (c->program.mpi) /* absent otherwise: the fingerprints of configs from before it stay as they were */
        cJSON_AddItemToObject(o, "launcher", cJSON_CreateStringArray((const char *const *)c->program.launcher,
                                                                     c->program.launcher_argc));
    add_keys(o, c, "program");
    return o;
}

cJSON *mup_sweep_config_to_json(const mup_sweep_config *c) {
    cJSON *root = cJSON_CreateObject();
    add_keys(root, c, "");
    cJSON *spec = mup_run_spec_to_json(&c->base);
    if (c->kind == MUP_RUN_PROGRAM) {
        cJSON *mup = cJSON_AddObjectToObject(root, "mup");
        cJSON_AddNumberToObject(mup, "base_width", c->base.mup.base_width);
        cJSON_AddNumberToObject(mup, "delta_width", c->base.mup.delta_width);
        cJSON_AddItemToObject(root, "program", program_to_json(c));
    }
    for (int i = 0; mup_spec_sections[i] && c->kind == MUP_RUN_BUILTIN; i++)
        cJSON_AddItemToObject(root, mup_spec_sections[i], cJSON_DetachItemFromObjectCaseSensitive(spec, mup_spec_sections[i]));
    cJSON_Delete(spec);
    cJSON *search = cJSON_AddObjectToObject(root, "search");
    add_keys(search, c, "search");
    if (c->search.sampler == MUP_SAMPLER_TPE) /* absent otherwise: other samplers' fingerprints stay as they were */
        add_keys(cJSON_AddObjectToObject(search, "tpe"), c, "search.tpe");
    cJSON_AddItemToObject(search, "space", mup_search_space_to_json(c));
    /* without a pruner the canonical text, hence the fingerprint, is what it was before pruners */
    if (c->search.pruner.kind != MUP_PRUNER_NONE)
        cJSON_AddItemToObject(search, "pruner", pruner_to_json(c));
    cJSON_AddItemToObject(root, "proxy_widths", cJSON_CreateIntArray(c->proxy_widths, c->n_proxy_widths));
    if (c->n_proxy_depths > 0) /* absent before depths were proxies: old configs keep their fingerprint */
        cJSON_AddItemToObject(root, "proxy_depths", cJSON_CreateIntArray(c->proxy_depths, c->n_proxy_depths));
    if (c->has_target)
        add_keys(cJSON_AddObjectToObject(root, "target"), c, "target");
    return root;
}

#include "coord_config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "json.h"
#include "mup/coord.h"

static const char *const param_names[] = {"mup", "sp", "both", NULL};

#define C mup_coord_config
static const mup_key coord_keys[] = {
    MUP_KEY_INT("coord", "steps", C, coord.steps, 3, MUP_RANGE_FROM(1), "n_steps iters",
                "steps recorded: t = 1 (before the first update) to steps"),
    MUP_KEY_INT("coord", "seeds", C, coord.seeds, 3, MUP_RANGE_FROM(1), "n_seeds repeats",
                "models per width, each initialised from its own seed"),
    MUP_KEY_INT("coord", "seed", C, coord.seed, 0, MUP_RANGE_NONNEG, "first_seed random_seed",
                "the first seed; the others follow it"),
    MUP_KEY_ENUM("coord", "param", C, coord.param, MUP_COORD_PARAM_BOTH, param_names, "parametrization",
                 "which parametrizations to check; the exit status follows µP when both run"),
    MUP_KEY_INT("coord", "batch", C, coord.batch, 128, MUP_RANGE_FROM(1), "batch_size bs",
                "examples (GPT: sequences) in the fixed batch; the GPT's default is 8"),
    MUP_KEY_FLOAT("coord", "factor", C, coord.factor, MUP_COORD_DEFAULT_FACTOR,
                  ((mup_key_range){1, INFINITY, true, true}), "tolerance",
                  "a layer passes when its l1 changes by less than this per 4x of width (of depth, with depths)"),
    MUP_KEY_INT("coord", "width", C, coord.width, 0, MUP_RANGE_NONNEG, "d_model",
                "the width of a check across depth (coord.depths); 0: 2 × mup.base_width"),
};
#undef C
#define N_COORD_KEYS ((int)(sizeof coord_keys / sizeof coord_keys[0]))

/* The options; those with a key set it: --lr 0.01 is train.lr. */
static const mup_cli_option options[] = {
    {"model", 0, true, "model.arch"},     {"data", 0, true, "data.dataset"},   {"optimizer", 0, true, "train.optimizer"},
    {"lr", 0, true, "train.lr"},          {"steps", 0, true, "coord.steps"},   {"seeds", 0, true, "coord.seeds"},
    {"seed", 0, true, "coord.seed"},      {"param", 0, true, "coord.param"},   {"batch", 0, true, "coord.batch"},
    {"factor", 0, true, "coord.factor"},  {"base-width", 0, true, "mup.base_width"},
    {"widths", 0, true, NULL},            {"out", 0, true, NULL},              {"set", 0, true, NULL},
    {"depths", 0, true, NULL},            {"width", 0, true, "coord.width"},   {"depth-alpha", 0, true, "mup.depth_alpha"},
    {"base-depth", 0, true, "mup.base_depth"},
    {"config", 0, true, NULL},            {"check-finite", 0, false, NULL},    {"help", 'h', false, NULL},
    {"version", 0, false, NULL},
};
#define N_OPTIONS ((int)(sizeof options / sizeof options[0]))

/* What mup-coord changes from the run spec's defaults, by model family and optimizer (docs/coord-check.md
 * explains the choices). */
static const int mlp_widths[] = {64, 128, 256, 512, 1024, 2048};
static const int gpt_widths[] = {64, 128, 256, 512};
#define GPT_BATCH 8
#define GPT_HEAD_DIM 16
#define ADAM_LR 1e-2
#define SGD_LR 0.5

void mup_coord_config_usage(FILE *f) {
    fprintf(f, "%s", "usage: mup-coord [CONFIG.json] [flags]\n\n"
        "Coordinate check: trains the model at several widths for a few steps on one fixed batch and\n"
        "checks that every layer's mean |activation| stays the same size as the width grows (µP), or\n"
        "shows it growing (SP). Writes coord.h5, coord.csv, coord.json and coord.png (with coord.gp and\n"
        "coord.dat) and verdict.json into the output directory and prints the verdict. The exit status\n"
        "follows µP's verdict when both run; 4: inconclusive (more seeds or widths can decide).\n\n"
        "  --model mlp|gpt          model family (default mlp)\n"
        "  --widths 64,256,1024     widths to build (default 64..2048 by 2x for mlp, 64..512 for gpt)\n"
        "  --depths 2,4,8           check across depth instead, at one width (--width W, default twice\n"
        "                           the base width): the gpt's blocks, the mlp's (needs model.residual)\n"
        "  --depth-alpha A          depth scaling: 0.5 Depth-µP, 1 CompleteP (default off);\n"
        "                           --base-depth L0: the blocks it keeps the hyperparameters of (default 2)\n"
        "  --steps T                steps recorded, t = 1 before the first update (default 3)\n"
        "  --seeds N                models per width (default 3); --seed S: the first seed (default 0)\n"
        "  --optimizer sgd|adam|adamw  (default adam)\n"
        "  --lr X                   learning rate (default 0.01 for adam(w), 0.5 for sgd)\n"
        "  --param mup|sp|both      parametrizations to check (default both)\n"
        "  --data synthetic|fashion-mnist|text  where the fixed batch comes from (default synthetic;\n"
        "                           fashion-mnist needs --model mlp, text --model gpt)\n"
        "  --batch N                examples in the fixed batch (default 128; gpt: 8 sequences)\n"
        "  --factor F               allowed change of l1 per 4x of width (default 1.2)\n"
        "  --base-width W           µP base width (default 64)\n"
        "  --set KEY=VALUE          any run-spec key: model.depth=3, train.beta2=0.95, mup.zero_query=true\n"
        "                           (the gpt defaults to model.head_dim=16, mup.readout_zero_init=true)\n"
        "  --config FILE            JSON config: sections model, mup, train, data (as mup-sweep's) and\n"
        "                           coord {widths, depths, width, steps, seeds, seed, param, batch, factor}\n"
        "  --out DIR                output directory (default coord; created if missing)\n"
        "  --check-finite           debug: stop at the first NaN or inf, naming its op and layer\n"
        "  --version                the version of libmup\n"
        "  --help                   this text\n\n"
        "An option's value goes after it or after '=': --lr 0.01 or --lr=0.01.\n"
        "docs/coord-check.md (installed as " MUP_DOCDIR "/coord-check.md) explains the plot, the verdict\n"
        "and the files.\n\n");
    mup_cli_print_exit_codes(f, "the check ran and failed");
}

static void set_defaults(mup_coord_config *c, mup_arch arch, mup_optim_kind optimizer) {
    memset(c, 0, sizeof *c);
    mup_run_spec_defaults(&c->spec);
    mup_keys_set_defaults(coord_keys, N_COORD_KEYS, c);
    c->spec.model.arch = arch;
    c->spec.train.optimizer = optimizer;
    c->spec.data.dataset = MUP_DATASET_SYNTHETIC;
    c->spec.train.lr = optimizer == MUP_OPTIM_SGD ? SGD_LR : ADAM_LR;
    bool gpt = arch == MUP_ARCH_GPT;
    const int *w = gpt ? gpt_widths : mlp_widths;
    c->coord.n_widths = gpt ? (int)(sizeof gpt_widths / sizeof *w) : (int)(sizeof mlp_widths / sizeof *w);
    memcpy(c->coord.widths, w, (size_t)c->coord.n_widths * sizeof *w);
    if (gpt) {
        c->coord.batch = GPT_BATCH;
        c->spec.model.head_dim = GPT_HEAD_DIM;
        c->spec.mup.readout_zero_init = true;
    }
    snprintf(c->out, sizeof c->out, "coord");
}

/* "coord.steps" from the coord table (base c), anything else from the spec's (base &c->spec). */
static mup_status find_key(mup_coord_config *c, const char *name, const char *parent, const mup_key **k,
                           void **base) {
    if (strncmp(name, "coord.", 6) == 0) {
        for (int i = 0; i < N_COORD_KEYS; i++)
            if (strcmp(coord_keys[i].name, name + 6) == 0) {
                *k = &coord_keys[i];
                *base = c;
                return MUP_OK;
            }
        mup_key_scope sc = {coord_keys, N_COORD_KEYS, "coord", NULL, {{NULL, 0}, {NULL, 0}}};
        return mup_error_unknown_key(&sc, parent, name);
    }
    *base = &c->spec;
    return mup_spec_key_lookup(name, parent, k);
}

/* A list of widths or depths as JSON ([64, 256]), checked as distinct positive integers. */
static mup_status read_sizes(int *out, int *n_out, const cJSON *v, const char *path, const char *what) {
    static const mup_key width_key = MUP_KEY_INT("", "width", mup_run_spec, width, 1, MUP_RANGE_FROM(1), NULL, "");
    double *w;
    int n;
    mup_status s = mup_key_read_list(&width_key, v, path, &w, &n);
    if (!s && n < 2)
        s = mup_error(MUP_ERR_INVALID, "%s: give at least two %s to compare", path, what);
    if (!s && n > MUP_COORD_MAX_WIDTHS)
        s = mup_error(MUP_ERR_INVALID, "%s: %d %s, at most %d", path, n, what, MUP_COORD_MAX_WIDTHS);
    for (int i = 0; !s && i < n; i++)
        out[i] = (int)w[i];
    if (!s)
        *n_out = n;
    free(w);
    return s;
}

static mup_status read_widths(mup_coord_config *c, const cJSON *v, const char *path) {
    return read_sizes(c->coord.widths, &c->coord.n_widths, v, path, "widths");
}

static mup_status read_depths(mup_coord_config *c, const cJSON *v, const char *path) {
    return read_sizes(c->coord.depths, &c->coord.n_depths, v, path, "depths");
}

static mup_status read_file(mup_coord_config *c, const char *path) {
    cJSON *root;
    mup_status s = mup_json_load(path, &root);
    if (s)
        return s;
    static const char *const top[] = {"model", "mup", "train", "data", "coord", NULL};
    static const char *const coord_extra[] = {"widths", "depths", NULL};
    mup_key_scope top_scope = {coord_keys, 0, "", top, {{coord_keys, N_COORD_KEYS}, {NULL, 0}}};
    s = mup_keys_read(&top_scope, c, root, "");
    if (!s)
        s = mup_run_spec_read_sections(&c->spec, root);
    const cJSON *coord = cJSON_GetObjectItemCaseSensitive(root, "coord");
    if (!s && coord) {
        mup_key_scope sc = {coord_keys, N_COORD_KEYS, "coord", coord_extra, {{NULL, 0}, {NULL, 0}}};
        s = mup_keys_read(&sc, c, coord, "coord");
        const cJSON *widths = cJSON_GetObjectItemCaseSensitive(coord, "widths");
        if (!s && widths)
            s = read_widths(c, widths, "coord.widths");
        const cJSON *depths = cJSON_GetObjectItemCaseSensitive(coord, "depths");
        if (!s && depths)
            s = read_depths(c, depths, "coord.depths");
    }
    cJSON_Delete(root);
    return s ? mup_error_context(s, "%s: ", path) : MUP_OK;
}

/* --widths 64,256 or --depths 2,4,8. */
static mup_status sizes_flag(mup_coord_config *c, const char *flag, const char *text) {
    size_t len = strlen(text) + 3;
    char *json = mup_tool_xmalloc(len);
    snprintf(json, len, "[%s]", text);
    cJSON *v = cJSON_Parse(json);
    free(json);
    bool depths = strcmp(flag, "--depths") == 0;
    mup_status s = !v       ? mup_error(MUP_ERR_INVALID, "%s: expected %s separated by commas (%s), got \"%s\"", flag,
                                        depths ? "depths" : "widths", depths ? "2,4,8" : "64,256,1024", text)
                 : depths ? read_depths(c, v, flag)
                          : read_widths(c, v, flag);
    cJSON_Delete(v);
    return s;
}

static mup_status set_option(mup_coord_config *c, const mup_cli_option *o, const char *value) {
    char path[80];
    snprintf(path, sizeof path, "--%s", o->name);
    if (o->key) {
        const mup_key *k;
        void *base;
        mup_status s = find_key(c, o->key, "", &k, &base);
        MUP_ASSERT(s == MUP_OK, "mup-coord: option --%s names no key %s", o->name, o->key);
        return mup_key_from_text(k, base, value, path);
    }
    if (strcmp(o->name, "widths") == 0 || strcmp(o->name, "depths") == 0)
        return sizes_flag(c, path, value);
    if (strcmp(o->name, "out") == 0) {
        if (!*value || strlen(value) >= sizeof c->out)
            return mup_error(MUP_ERR_INVALID, "--out: an empty or too long path");
        snprintf(c->out, sizeof c->out, "%s", value);
        return MUP_OK;
    }
    if (strcmp(o->name, "set") == 0) {
        const char *eq = strchr(value, '=');
        if (!eq)
            return mup_error(MUP_ERR_INVALID, "--set: expected KEY=VALUE, got \"%s\"", value);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - value), value);
        const mup_key *k;
        void *base;
        mup_status s = find_key(c, name, "", &k, &base);
        snprintf(path, sizeof path, "--set %.40s", name);
        return s ? mup_error_context(s, "--set: ") : mup_key_from_text(k, base, eq + 1, path);
    }
    if (strcmp(o->name, "check-finite") == 0)
        c->check_finite = true;
    else if (strcmp(o->name, "help") == 0)
        c->help = true;
    else if (strcmp(o->name, "version") == 0)
        c->version = true;
    return MUP_OK; /* --config: read already */
}

/* --config FILE or a plain argument; NULL when none. */
static mup_status find_config(int argc, char **argv, const char **path) {
    *path = NULL;
    mup_cli p = mup_cli_start(options, N_OPTIONS, argc, argv);
    for (;;) {
        int opt;
        const char *v;
        mup_status s = mup_cli_next(&p, &opt, &v);
        if (s || (opt < 0 && !v))
            return s;
        bool file = opt < 0 || strcmp(options[opt].name, "config") == 0;
        if (file && *path)
            return mup_error(MUP_ERR_INVALID, "%s: unexpected argument (one config file at most, %s is given)", v,
                             *path);
        if (file)
            *path = v;
    }
}

static mup_status read_flags(mup_coord_config *c, int argc, char **argv) {
    mup_cli p = mup_cli_start(options, N_OPTIONS, argc, argv);
    for (;;) {
        int opt;
        const char *v;
        mup_status s = mup_cli_next(&p, &opt, &v);
        if (s || opt < 0) {
            if (s || !v)
                return s;
            continue; /* the config file, read already */
        }
        s = set_option(c, &options[opt], v);
        if (s || c->help || c->version)
            return s;
    }
}

static int by_value(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* The config file, then the flags, over the defaults already in c. */
static mup_status read_all(mup_coord_config *c, int argc, char **argv) {
    const char *path;
    mup_status s = find_config(argc, argv, &path);
    if (!s && path)
        s = read_file(c, path);
    return s ? s : read_flags(c, argc, argv);
}

mup_status mup_coord_config_parse(int argc, char **argv, mup_coord_config *c) {
    /* the defaults depend on the model family and optimizer the settings choose: read once to learn
     * them, then again over the right defaults */
    set_defaults(c, MUP_ARCH_MLP, MUP_OPTIM_ADAM);
    mup_status s = read_all(c, argc, argv);
    if (s || c->help || c->version)
        return s;
    set_defaults(c, c->spec.model.arch, c->spec.train.optimizer);
    s = read_all(c, argc, argv);
    qsort(c->coord.widths, (size_t)c->coord.n_widths, sizeof *c->coord.widths, by_value);
    qsort(c->coord.depths, (size_t)c->coord.n_depths, sizeof *c->coord.depths, by_value);
    for (int i = 0; i < c->coord.n_widths && !s && c->coord.n_depths == 0; i++) {
        c->spec.width = c->coord.widths[i];
        s = mup_run_spec_check(&c->spec);
    }
    mup_run_spec at = c->spec;
    at.width = mup_coord_depth_width(c);
    for (int i = 0; i < c->coord.n_depths && !s; i++) {
        mup_run_spec_set_depth(&at, c->coord.depths[i]);
        s = mup_run_spec_check(&at);
        if (s)
            s = mup_error_context(s, "--depths: at depth %d: ", c->coord.depths[i]);
    }
    c->spec.width = 0;
    return s;
}

int mup_coord_depth_width(const mup_coord_config *c) {
    if (c->coord.width > 0)
        return c->coord.width;
    return c->spec.mup.base_width <= INT_MAX / 2 ? 2 * c->spec.mup.base_width : c->spec.mup.base_width;
}

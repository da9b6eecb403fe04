/* mup-coord: the coordinate check of a model family from the command line (docs/coord-check.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "cli.h"
#include "clock.h"
#include "coord_config.h"
#include "coord_plot.h"
#include "coord_verdict.h"
#include "recipe.h"


/* What every model of one check shares: the spec (with its parametrization) and the fixed batch. */
typedef struct {
    mup_run_spec spec;
    bool across_depth;       /* the check's "widths" are depths, at spec.width */
    const mup_run_data *data;
    int batch, T;            /* T: the GPT's sequence length */
    float *x;                /* MLP inputs (batch, dim) */
    int32_t *ids, *y;        /* GPT ids (batch, T); targets (batch) for the MLP, (batch, T) for the GPT */
} builder;

typedef struct {
    mup_run_model rm;
    const builder *b;
} built_net;

static mup_tensor *mlp_loss(mup_coord_model *m, mup_graph *g) {
    const built_net *n = m->net;
    const builder *b = n->b;
    mup_tensor *x = mup_graph_wrap(g, b->x, 2, (int[]){b->batch, b->data->train.dim});
    return mup_cross_entropy(g, mup_mlp_forward(g, n->rm.mlp, x), b->y);
}

static mup_tensor *gpt_loss(mup_coord_model *m, mup_graph *g) {
    const built_net *n = m->net;
    const builder *b = n->b;
    return mup_cross_entropy(g, mup_gpt_forward(g, n->rm.gpt, b->ids, b->batch, b->T), b->y);
}

/* Across depth the models tap different blocks; the check compares the layers every depth has: the first
 * and the last block's (renamed "blocks.first.<layer>", "blocks.last.<layer>"), and those outside blocks. */
typedef struct {
    mup_tap_fn tap;
    void *ctx;
    mup_arch arch;
    int blocks;
} renamer;

/* The block of a GPT layer "blocks.N<rest>", or of an MLP's hidden layer "fcK<rest>" after fc1 (the
 * residual MLP's blocks), and rest ("", ".act", ".attn.logits"); false outside blocks. */
static bool block_of(const renamer *r, const char *layer, int *block, const char **rest) {
    int k, n = -1;
    bool gpt = r->arch == MUP_ARCH_GPT;
    if (sscanf(layer, gpt ? "blocks.%d%n" : "fc%d%n", &k, &n) != 1 || n <= 0 || (layer[n] && layer[n] != '.') ||
        (!gpt && k < 2))
        return false;
    *block = gpt ? k : k - 2;
    *rest = layer + n;
    return true;
}

static void rename_tap(const char *layer, const mup_tensor *t, void *ctx) {
    const renamer *r = ctx;
    int block;
    const char *rest;
    if (!block_of(r, layer, &block, &rest)) {
        r->tap(layer, t, r->ctx);
        return;
    }
    char name[MUP_NAME_MAX];
    if (block == 0) {
        snprintf(name, sizeof name, "blocks.first%s", rest);
        r->tap(name, t, r->ctx);
    }
    if (block == r->blocks - 1) {
        snprintf(name, sizeof name, "blocks.last%s", rest);
        r->tap(name, t, r->ctx);
    }
}

static mup_tensor *depth_loss(mup_coord_model *m, mup_graph *g) {
    const built_net *n = m->net;
    const mup_run_spec *s = &n->b->spec;
    renamer r = {.arch = s->model.arch, .blocks = s->model.arch == MUP_ARCH_GPT ? s->model.n_layer : s->model.depth - 1};
    r.tap = mup_graph_get_tap(g, &r.ctx);
    if (r.tap)
        mup_graph_set_tap(g, rename_tap, &r);
    mup_tensor *loss = s->model.arch == MUP_ARCH_GPT ? gpt_loss(m, g) : mlp_loss(m, g);
    mup_graph_set_tap(g, r.tap, r.ctx);
    return loss;
}

static void release(mup_coord_model *m) {
    built_net *n = m->net;
    mup_run_model_free(&n->rm);
    free(n);
}

/* size: the width, or across depth the depth (at the spec's width). */
static mup_status build(void *ctx, int size, uint64_t seed, mup_coord_model *out) {
    builder *b = ctx;
    if (b->across_depth)
        mup_run_spec_set_depth(&b->spec, size);
    else
        b->spec.width = size;
    b->spec.seed = seed;
    built_net *n = mup_tool_xcalloc(1, sizeof *n);
    n->b = b;
    mup_status s = mup_run_model_build(&n->rm, &b->spec, b->data);
    if (s != MUP_OK) {
        free(n);
        return s;
    }
    *out = (mup_coord_model){.model = n->rm.M, .net = n, .release = release,
                             .loss = b->across_depth                    ? depth_loss
                                   : b->spec.model.arch == MUP_ARCH_GPT ? gpt_loss
                                                                        : mlp_loss};
    return MUP_OK;
}

/* The first `batch` examples (GPT: windows) of the training split: the one batch every step sees. */
static void fixed_batch(builder *b, const mup_run_data *d, int batch) {
    b->data = d;
    b->batch = batch;
    if (b->spec.model.arch == MUP_ARCH_GPT) {
        b->T = b->spec.model.block_size;
        b->ids = mup_tool_xcalloc((size_t)batch * b->T, sizeof *b->ids);
        b->y = mup_tool_xcalloc((size_t)batch * b->T, sizeof *b->y);
        mup_text_batch_at(&d->text_train, 0, batch, b->T, b->ids, b->y);
    } else {
        b->x = mup_tool_xcalloc((size_t)batch * d->train.dim, sizeof *b->x);
        b->y = mup_tool_xcalloc((size_t)batch, sizeof *b->y);
        mup_classif_batch_at(&d->train, 0, batch, b->x, b->y);
    }
}

static mup_status run_check(const mup_coord_config *c, const mup_run_data *d, mup_parametrization p,
                            mup_coord_result *r) {
    bool depth = c->coord.n_depths > 0;
    builder b = {.spec = c->spec, .across_depth = depth};
    b.spec.mup.parametrization = p;
    b.spec.train.batch_size = c->coord.batch; /* what the memory check counts */
    if (depth)
        b.spec.width = mup_coord_depth_width(c);
    fixed_batch(&b, d, c->coord.batch);
    mup_coord_opts o = {.widths = depth ? c->coord.depths : c->coord.widths,
                        .n_widths = depth ? c->coord.n_depths : c->coord.n_widths, .steps = c->coord.steps,
                        .seeds = c->coord.seeds, .first_seed = (uint64_t)c->coord.seed,
                        .optim = mup_run_optim_opts(&c->spec), .factor = c->coord.factor,
                        .check_finite = c->check_finite, .axis = depth ? "depth" : NULL};
    o.optim.schedule = (mup_schedule){0}; /* a constant rate: the check is about the first steps */
    double t0 = mup_tool_now();
    mup_status s = mup_coord_run(build, &b, &o, r);
    double seconds = mup_tool_now() - t0;
    if (s == MUP_OK) /* a check that stops says one line: its error */
        fprintf(stderr, "mup-coord: %s: %d %ss x %d seed%s x %d steps in %.1f s\n",
                p == MUP_PARAMETRIZATION_MUP ? "µP" : "SP", o.n_widths, depth ? "depth" : "width", o.seeds,
                o.seeds == 1 ? "" : "s", o.steps, seconds);
    free(b.x);
    free(b.ids);
    free(b.y);
    return s;
}

/* The settings as a config mup-coord reads back (DIR/coord.json reruns the check). */
static mup_status save_config(const mup_coord_config *c, const char *path) {
    cJSON *root = mup_run_spec_to_json(&c->spec);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "width");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "seed");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "mup"), "parametrization");
    static const char *const params[] = {"mup", "sp", "both"};
    cJSON *coord = cJSON_AddObjectToObject(root, "coord");
    cJSON_AddItemToObject(coord, "widths", cJSON_CreateIntArray(c->coord.widths, c->coord.n_widths));
    if (c->coord.n_depths > 0) {
        cJSON_AddItemToObject(coord, "depths", cJSON_CreateIntArray(c->coord.depths, c->coord.n_depths));
        cJSON_AddNumberToObject(coord, "width", mup_coord_depth_width(c));
    }
    cJSON_AddNumberToObject(coord, "steps", c->coord.steps);
    cJSON_AddNumberToObject(coord, "seeds", c->coord.seeds);
    cJSON_AddNumberToObject(coord, "seed", c->coord.seed);
    cJSON_AddStringToObject(coord, "param", params[c->coord.param]);
    cJSON_AddNumberToObject(coord, "batch", c->coord.batch);
    cJSON_AddItemToObject(coord, "factor", mup_json_number(c->coord.factor));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = fopen(path, "w");
    bool ok = f && fprintf(f, "%s\n", text) > 0;
    ok = (f && fclose(f) == 0) && ok;
    cJSON_free(text);
    return ok ? MUP_OK : mup_error(MUP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
}

static void describe(const mup_coord_config *c, char *buf, size_t n) {
    static const char *const optim[] = {"sgd", "adam", "adamw"};
    static const char *const data[] = {"fashion-mnist", "text", "synthetic"};
    const mup_run_spec *s = &c->spec;
    char sizes[96], scaling[64] = "";
    if (c->coord.n_depths > 0)
        snprintf(sizes, sizeof sizes, "depths %d..%d at width %d", c->coord.depths[0],
                 c->coord.depths[c->coord.n_depths - 1], mup_coord_depth_width(c));
    else
        snprintf(sizes, sizeof sizes, "widths %d..%d", c->coord.widths[0], c->coord.widths[c->coord.n_widths - 1]);
    if (mup_run_spec_depth_opts(s).on)
        snprintf(scaling, sizeof scaling, ", depth alpha %g base %d", s->mup.depth_alpha, s->mup.base_depth);
    snprintf(buf, n, "%s on %s, %s lr %g, batch %d, %s%s, %d steps, %d seed%s",
             s->model.arch == MUP_ARCH_GPT ? "gpt" : "mlp", data[s->data.dataset], optim[s->train.optimizer],
             s->train.lr, c->coord.batch, sizes, scaling, c->coord.steps, c->coord.seeds, c->coord.seeds == 1 ? "" : "s");
}

static mup_status write_outputs(const mup_coord_config *c, const mup_coord_result *const *runs, int n) {
    char path[MUP_SPEC_PATH_MAX + 32], title[256];
    if (mkdir(c->out, 0777) != 0 && errno != EEXIST)
        return mup_error(MUP_ERR_IO, "--out: cannot create %s: %s", c->out, strerror(errno));
    snprintf(path, sizeof path, "%s/coord.h5", c->out);
    mup_status s = mup_coord_save_h5(path, runs, n);
    snprintf(path, sizeof path, "%s/coord.csv", c->out);
    s = s ? s : mup_coord_save_csv(path, runs, n);
    snprintf(path, sizeof path, "%s/coord.json", c->out);
    s = s ? s : save_config(c, path);
    s = s ? s : mup_coord_write_verdict(c->out, runs, n);
    if (s)
        return s;
    describe(c, title, sizeof title);
    if (mup_coord_plot(c->out, runs, n, title) != MUP_OK) /* the data are written: a plot is not vital */
        fprintf(stderr, "mup-coord: warning: %s\n", mup_error_message());
    return MUP_OK;
}

static int fail(mup_status s) {
    fprintf(stderr, "mup-coord: %s\n", mup_error_message());
    return mup_cli_exit_code(s);
}

int main(int argc, char **argv) {
    mup_coord_config c;
    mup_status s = mup_coord_config_parse(argc, argv, &c);
    if (s != MUP_OK)
        return fail(s);
    if (c.help) {
        mup_coord_config_usage(stdout);
        return MUP_EXIT_OK;
    }
    if (c.version) {
        mup_cli_print_version("mup-coord");
        return MUP_EXIT_OK;
    }
    /* a write past `ulimit -f` is then an error (EFBIG) naming the file, not a silent death */
    signal(SIGXFSZ, SIG_IGN);
    mup_run_data d = {0};
    s = mup_run_data_load(&d, &c.spec);
    if (s != MUP_OK)
        return fail(s);
    /* the widest model first: one that cannot fit is refused before anything trains */
    mup_run_spec widest = c.spec;
    widest.width = c.coord.widths[c.coord.n_widths - 1];
    if (c.coord.n_depths > 0) { /* the deepest */
        widest.width = mup_coord_depth_width(&c);
        mup_run_spec_set_depth(&widest, c.coord.depths[c.coord.n_depths - 1]);
    }
    widest.train.batch_size = c.coord.batch;
    s = mup_run_memory_check(&widest, &d);
    if (s != MUP_OK) {
        mup_run_data_free(&d);
        return fail(s);
    }
    mup_parametrization which[2];
    int n = 0;
    if (c.coord.param != MUP_COORD_PARAM_SP)
        which[n++] = MUP_PARAMETRIZATION_MUP;
    if (c.coord.param != MUP_COORD_PARAM_MUP)
        which[n++] = MUP_PARAMETRIZATION_SP;
    mup_coord_result results[2] = {{0}};
    const mup_coord_result *runs[2] = {&results[0], &results[1]};
    for (int i = 0; i < n && s == MUP_OK; i++)
        s = run_check(&c, &d, which[i], &results[i]);
    mup_run_data_free(&d);
    s = s ? s : write_outputs(&c, runs, n);
    int code = s ? fail(s) : MUP_EXIT_OK;
    if (s == MUP_OK) {
        char line[256];
        describe(&c, line, sizeof line);
        printf("mup-coord: %s\n\n", line);
        for (int i = 0; i < n; i++) {
            mup_coord_print_verdict(runs[i], stdout);
            printf("\n");
        }
        code = mup_coord_exit_status(results[0].status);
        printf("mup-coord: %s: %s (written to %s/coord.{h5,csv,png} and verdict.json)\n",
               which[0] == MUP_PARAMETRIZATION_MUP ? "µP" : "SP", mup_coord_status_name(results[0].status), c.out);
    }
    for (int i = 0; i < n; i++)
        mup_coord_result_free(&results[i]);
    return code;
}

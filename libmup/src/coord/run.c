/* mup_coord_run: builds the models, trains each a few steps on its fixed batch, and records every
 * tapped layer through a tap callback. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/coord.h"

/* One layer's running sums over the taps of one step: count, sum |x|, sum x^2, and the mean and
 * sum of squared deviations combined across taps (Chan et al.) so the std needs no cancellation. */
typedef struct {
    double n, sum_abs, sum_sq, mean, m2;
    int taps;
} layer_acc;

typedef struct {
    mup_coord_result *r;
    layer_acc *acc;            /* per layer, this step */
    int cap;                   /* of r->layers and acc */
    bool discovering;          /* the first step of the first model: new layers are added */
    int cursor;                /* the layer expected next: taps come in the same order every step */
    const mup_model *model;    /* the model being run, to tell which layers are readouts */
    char unknown[MUP_NAME_MAX]; /* a layer tapped now that the first model did not tap */
} recorder;

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool has_param(const mup_model *M, const char *layer, const char *suffix, mup_param_kind kind) {
    char name[2 * MUP_NAME_MAX];
    snprintf(name, sizeof name, "%s%s", layer, suffix);
    const mup_param *p = mup_model_find_param(M, name);
    return p && p->kind == kind;
}

static bool init_shrink(const mup_model *M, const char *layer) {
    return ends_with(layer, ".logits") || has_param(M, layer, ".weight", MUP_KIND_READOUT_WEIGHT) ||
           has_param(M, layer, ".bias", MUP_KIND_READOUT_BIAS);
}

static int add_layer(recorder *rec, const char *name) {
    mup_coord_result *r = rec->r;
    MUP_ASSERT(strlen(name) < MUP_NAME_MAX, "coord: layer name \"%s\" is longer than %d characters", name,
               MUP_NAME_MAX - 1);
    if (r->n_layers == rec->cap) {
        rec->cap = rec->cap ? 2 * rec->cap : 32;
        r->layers = mup_xrealloc(r->layers, (size_t)rec->cap * sizeof *r->layers);
        rec->acc = mup_xrealloc(rec->acc, (size_t)rec->cap * sizeof *rec->acc);
    }
    mup_coord_layer *l = &r->layers[r->n_layers];
    snprintf(l->name, sizeof l->name, "%s", name);
    l->init_shrink = init_shrink(rec->model, name);
    rec->acc[r->n_layers] = (layer_acc){0};
    return r->n_layers++;
}

static int find_layer(recorder *rec, const char *name) {
    const mup_coord_result *r = rec->r;
    if (rec->cursor < r->n_layers && strcmp(r->layers[rec->cursor].name, name) == 0)
        return rec->cursor;
    return mup_coord_find_layer(r, name);
}

static void accumulate(layer_acc *a, const float *x, long n) {
    double sum = 0.0, sum_abs = 0.0, sum_sq = 0.0, m2 = 0.0;
    for (long i = 0; i < n; i++) {
        sum += x[i];
        sum_abs += fabs((double)x[i]);
        sum_sq += (double)x[i] * x[i];
    }
    double mean = sum / (double)n;
    for (long i = 0; i < n; i++)
        m2 += ((double)x[i] - mean) * ((double)x[i] - mean);
    double total = a->n + (double)n, delta = mean - a->mean;
    a->m2 += m2 + delta * delta * a->n * (double)n / total;
    a->mean += delta * (double)n / total;
    a->n = total;
    a->sum_abs += sum_abs;
    a->sum_sq += sum_sq;
    a->taps++;
}

static void on_tap(const char *layer, const mup_tensor *t, void *ctx) {
    recorder *rec = ctx;
    int i = find_layer(rec, layer);
    if (i < 0 && !rec->discovering) {
        if (!rec->unknown[0])
            snprintf(rec->unknown, sizeof rec->unknown, "%s", layer);
        return;
    }
    if (i < 0)
        i = add_layer(rec, layer);
    rec->cursor = i + 1;
    accumulate(&rec->acc[i], t->data, t->size);
}

static size_t stat_index(const mup_coord_result *r, int w, int s, int t, int l) {
    return (((size_t)w * r->n_seeds + s) * r->steps + t) * r->n_layers + l;
}

const mup_coord_stat *mup_coord_stat_at(const mup_coord_result *r, int w, int s, int t, int l) {
    MUP_ASSERT(w >= 0 && w < r->n_widths && s >= 0 && s < r->n_seeds && t >= 0 && t < r->steps && l >= 0 &&
                   l < r->n_layers,
               "coord: stat (%d, %d, %d, %d) outside (%d widths, %d seeds, %d steps, %d layers)", w, s, t, l,
               r->n_widths, r->n_seeds, r->steps, r->n_layers);
    return &r->stats[stat_index(r, w, s, t, l)];
}

int mup_coord_find_layer(const mup_coord_result *r, const char *name) {
    for (int i = 0; i < r->n_layers; i++)
        if (strcmp(r->layers[i].name, name) == 0)
            return i;
    return -1;
}

/* Turns this step's sums into stats and clears them. */
static mup_status finish_step(recorder *rec, int w, int s, int t) {
    mup_coord_result *r = rec->r;
    if (rec->unknown[0])
        return mup_error(MUP_ERR_SHAPE, "layer \"%s\" is tapped at step %d of width %d but was not at step 1 "
                         "of width %d", rec->unknown, t + 1, r->widths[w], r->widths[0]);
    if (r->n_layers == 0)
        return mup_error(MUP_ERR_INVALID, "the model taps no layer (modules offer their outputs with "
                         "mup_graph_tap)");
    if (!r->stats)
        r->stats = mup_xcalloc((size_t)r->n_widths * r->n_seeds * r->steps * r->n_layers, sizeof *r->stats);
    for (int l = 0; l < r->n_layers; l++) {
        layer_acc *a = &rec->acc[l];
        if (a->taps == 0)
            return mup_error(MUP_ERR_SHAPE, "layer \"%s\" is not tapped at step %d of width %d (it was at "
                             "step 1 of width %d)", r->layers[l].name, t + 1, r->widths[w], r->widths[0]);
        r->stats[stat_index(r, w, s, t, l)] = (mup_coord_stat){
            .l1 = a->sum_abs / a->n, .rms = sqrt(a->sum_sq / a->n), .std = sqrt(fmax(a->m2, 0.0) / a->n)};
        *a = (layer_acc){0};
    }
    rec->discovering = false;
    rec->cursor = 0;
    return MUP_OK;
}

static mup_status check_opts(const mup_coord_opts *o) {
    if (o->n_widths < 2 || !o->widths)
        return mup_error(MUP_ERR_INVALID, "coord: widths: need at least two, got %d", o->n_widths);
    for (int i = 0; i < o->n_widths; i++) {
        if (o->widths[i] < 1)
            return mup_error(MUP_ERR_INVALID, "coord: widths[%d]: %d is not positive", i, o->widths[i]);
        for (int j = 0; j < i; j++)
            if (o->widths[j] == o->widths[i])
                return mup_error(MUP_ERR_INVALID, "coord: widths[%d]: repeats width %d", i, o->widths[i]);
    }
    if (o->steps < 1)
        return mup_error(MUP_ERR_INVALID, "coord: steps: %d, need at least 1", o->steps);
    if (o->seeds < 0)
        return mup_error(MUP_ERR_INVALID, "coord: seeds: %d is negative", o->seeds);
    if (!(o->factor == 0.0 || (isfinite(o->factor) && o->factor > 1.0)))
        return mup_error(MUP_ERR_INVALID, "coord: factor: %g, need a number above 1", o->factor);
    if (!(o->alpha == 0.0 || (o->alpha > 0.0 && o->alpha < 0.5)))
        return mup_error(MUP_ERR_INVALID, "coord: alpha: %g, need a number in (0, 0.5)", o->alpha);
    return mup_optim_opts_check(&o->optim);
}

/* One model: T forward passes on the fixed batch, with an update between each two. */
static mup_status run_model(recorder *rec, mup_coord_model *m, const mup_coord_opts *o, int w, int s) {
    mup_optim *opt = mup_optim_new(m->model, o->optim);
    mup_graph *g = mup_model_graph(m->model);
    mup_graph_seed(g, rec->r->seeds[s]);
    mup_graph_set_tap(g, on_tap, rec);
    mup_graph_check_finite(g, o->check_finite);
    rec->model = m->model;
    mup_status st = MUP_OK;
    for (int t = 0; t < o->steps && st == MUP_OK; t++) {
        g = mup_graph_begin(m->model);
        mup_tensor *loss = m->loss(m, g);
        if (t + 1 < o->steps)
            mup_backward(g, loss);
        const char *bad = mup_graph_nonfinite(g);
        if (bad)
            st = mup_error(MUP_ERR_DIVERGED, "step %d: %s", t + 1, bad); /* run_one names the width and seed */
        else if (t + 1 < o->steps)
            mup_optim_step(opt);
        mup_graph_end(g);
        st = st ? st : finish_step(rec, w, s, t);
    }
    mup_graph_set_tap(g, NULL, NULL);
    mup_optim_free(opt);
    return st;
}

/* Builds, runs and releases the model at width index w and seed index s. */
static mup_status run_one(recorder *rec, mup_coord_build_fn build, void *ctx, const mup_coord_opts *o, int w,
                          int s) {
    mup_coord_result *r = rec->r;
    mup_coord_model m = {0};
    mup_status st = build(ctx, r->widths[w], r->seeds[s], &m);
    if (st != MUP_OK)
        return st;
    MUP_ASSERT(m.model && m.loss && m.release, "coord: the builder returned no model, loss or release (width %d)",
               r->widths[w]);
    if (w == 0 && s == 0)
        r->parametrization = mup_model_parametrization(m.model);
    st = run_model(rec, &m, o, w, s);
    m.release(&m);
    return st;
}

mup_status mup_coord_run(mup_coord_build_fn build, void *ctx, const mup_coord_opts *o, mup_coord_result *out) {
    *out = (mup_coord_result){0};
    mup_status st = check_opts(o);
    if (st != MUP_OK)
        return st;
    mup_coord_result *r = out;
    r->n_widths = o->n_widths;
    r->n_seeds = o->seeds > 0 ? o->seeds : 1;
    r->steps = o->steps;
    snprintf(r->axis, sizeof r->axis, "%s", o->axis ? o->axis : "width");
    r->widths = mup_xcalloc((size_t)r->n_widths, sizeof *r->widths);
    memcpy(r->widths, o->widths, (size_t)r->n_widths * sizeof *r->widths);
    r->seeds = mup_xcalloc((size_t)r->n_seeds, sizeof *r->seeds);
    for (int s = 0; s < r->n_seeds; s++)
        r->seeds[s] = o->first_seed + (uint64_t)s;
    recorder rec = {.r = r, .discovering = true};
    for (int w = 0; w < r->n_widths && st == MUP_OK; w++)
        for (int s = 0; s < r->n_seeds && st == MUP_OK; s++)
            if ((st = run_one(&rec, build, ctx, o, w, s)) != MUP_OK)
                st = mup_error_context(st, "coord: %s %d, seed %" PRIu64 ": ", r->axis, r->widths[w], r->seeds[s]);
    free(rec.acc);
    if (st == MUP_OK)
        mup_coord_judge(r, o->factor, o->alpha);
    return st;
}

void mup_coord_result_free(mup_coord_result *r) {
    free(r->widths);
    free(r->seeds);
    free(r->layers);
    free(r->stats);
    free(r->verdict);
    *r = (mup_coord_result){0};
}

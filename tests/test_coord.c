/* The coordinate check (mup_coord_run) on models the tests build themselves, as a user builds their
 * own: µP passes, SP fails, and two classic µP mistakes fail naming the layer that is wrong. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

/* How to build the model at a width, and the one batch it trains on. */
typedef struct {
    bool gpt;
    mup_mlp_config mlp;        /* width set per build */
    mup_gpt_config gpt_cfg;
    mup_parametrization param;
    int base_width;
    const char *unscaled;      /* a hidden weight whose Adam lr multiplier is put back to 1 */
    bool attn_sqrt_dhead;      /* attention scaled by 1/sqrt(d_head): attn_mult = sqrt(d_head) */
    mup_classif_data data;     /* MLP batch */
    int32_t ids[64], tg[64];   /* GPT batch (B, T) */
    int B, T;
} recipe;

typedef struct {
    const recipe *r;
    mup_mlp *mlp;
    mup_gpt *gpt;
} net;

/* A mup_build_fn: the target's modules are kept in the net (whose recipe says what to build), the
 * base's and delta's freed. */
static mup_status add_net(mup_model *M, int width, void *ctx) {
    net *n = ctx, *keep = mup_model_is_shapes_only(M) ? NULL : n;
    const recipe *r = n->r;
    if (r->gpt) {
        mup_gpt_config c = r->gpt_cfg;
        c.width = width;
        if (r->attn_sqrt_dhead)
            c.attn_mult = sqrtf((float)(width / c.n_head));
        mup_gpt *g = mup_gpt_new(M, &c);
        if (keep)
            keep->gpt = g;
        else
            mup_gpt_free(g);
    } else {
        mup_mlp_config c = r->mlp;
        c.width = width;
        mup_mlp *m = mup_mlp_new(M, &c);
        if (keep)
            keep->mlp = m;
        else
            mup_mlp_free(m);
    }
    return MUP_OK;
}

static mup_tensor *loss_of(mup_coord_model *m, mup_graph *g) {
    net *n = m->net;
    const recipe *r = n->r;
    if (r->gpt)
        return mup_cross_entropy(g, mup_gpt_forward(g, n->gpt, r->ids, r->B, r->T), r->tg);
    mup_tensor *x = mup_graph_wrap(g, r->data.x, 2, (int[]){r->data.n, r->data.dim});
    return mup_cross_entropy(g, mup_mlp_forward(g, n->mlp, x), r->data.y);
}

static void release(mup_coord_model *m) {
    net *n = m->net;
    mup_mlp_free(n->mlp);
    mup_gpt_free(n->gpt);
    mup_model_free(m->model);
    free(n);
}

static mup_status build(void *ctx, int width, uint64_t seed, mup_coord_model *out) {
    const recipe *r = ctx;
    net *n = calloc(1, sizeof *n);
    n->r = r;
    mup_model *M = mup_model_new();
    mup_model_set_parametrization(M, r->param);
    cr_assert_eq(mup_build_with_base_shapes(M, add_net, n, width, r->base_width, 2 * r->base_width), MUP_OK, "%s",
                 mup_error_message());
    if (r->unscaled) {
        mup_param *p = mup_model_find_param(M, r->unscaled);
        cr_assert(p, "no parameter %s", r->unscaled);
        p->adam_lr_mult = 1.0;
    }
    mup_model_init(M, seed);
    *out = (mup_coord_model){.model = M, .net = n, .loss = loss_of, .release = release};
    return MUP_OK;
}

static recipe *mlp_recipe(mup_parametrization p) {
    recipe *r = calloc(1, sizeof *r);
    r->mlp = (mup_mlp_config){.d_in = 16, .n_out = 5, .depth = 2, .act = MUP_ACT_RELU};
    r->param = p;
    r->base_width = 32;
    cr_assert_eq(mup_synthetic_classif(32, 16, 5, 7, &r->data), MUP_OK);
    return r;
}

/* B windows of T characters of a synthetic text. */
static void text_batch(recipe *r, int B, int T) {
    cr_assert_leq(B * T, 64);
    r->B = B;
    r->T = T;
    mup_text_data text;
    cr_assert_eq(mup_synthetic_text(400, 12, 5, &text), MUP_OK);
    mup_text_batch_at(&text, 0, B, T, r->ids, r->tg);
    mup_text_data_free(&text);
}

/* Fixed head size (heads grow with width) and µP's zero readout: see docs/coord-check.md. */
static recipe *gpt_recipe(mup_parametrization p) {
    recipe *r = calloc(1, sizeof *r);
    r->gpt = true;
    r->gpt_cfg = (mup_gpt_config){.vocab = 12, .block_size = 8, .head_dim = 8, .n_layer = 2,
                                  .readout_zero_init = true};
    r->param = p;
    r->base_width = 32;
    text_batch(r, 4, 8);
    return r;
}

static void recipe_free(recipe *r) {
    mup_classif_data_free(&r->data);
    free(r);
}

static const int widths[] = {32, 64, 128, 256};

static mup_coord_opts opts(mup_optim_kind kind, int steps) {
    return (mup_coord_opts){.widths = widths, .n_widths = 4, .steps = steps, .seeds = 2, .first_seed = 1,
                            .optim = {.kind = kind, .lr = kind == MUP_OPTIM_SGD ? 0.5f : 0.01f, MUP_ADAM_DEFAULTS}};
}

static mup_coord_result run(recipe *r, mup_coord_opts o) {
    mup_coord_result res;
    cr_assert_eq(mup_coord_run(build, r, &o, &res), MUP_OK, "%s", mup_error_message());
    return res;
}

/* The verdict of a layer at step t (1-based). */
static const mup_coord_verdict *verdict(const mup_coord_result *r, const char *layer, int t) {
    int l = mup_coord_find_layer(r, layer);
    cr_assert(l >= 0, "no layer %s", layer);
    return mup_coord_verdict_at(r, t - 1, l);
}

static void print_on_failure(const mup_coord_result *r, bool expect_pass) {
    if (r->pass != expect_pass)
        mup_coord_print_verdict(r, stderr);
}

/* ---- µP passes, SP fails ---- */

static void check_passes(recipe *r, mup_optim_kind kind) {
    mup_coord_result res = run(r, opts(kind, 3));
    print_on_failure(&res, true);
    cr_assert(res.pass, "µP fails the coordinate check: %d layer-steps", res.n_failed);
    cr_assert_eq(res.parametrization, MUP_PARAMETRIZATION_MUP);
    mup_coord_result_free(&res);
    recipe_free(r);
}

Test(coord, mup_mlp_passes_with_adam) { check_passes(mlp_recipe(MUP_PARAMETRIZATION_MUP), MUP_OPTIM_ADAM); }
Test(coord, mup_mlp_passes_with_sgd) { check_passes(mlp_recipe(MUP_PARAMETRIZATION_MUP), MUP_OPTIM_SGD); }
Test(coord, mup_gpt_passes_with_adam) { check_passes(gpt_recipe(MUP_PARAMETRIZATION_MUP), MUP_OPTIM_ADAM); }
Test(coord, mup_gpt_passes_with_sgd) { check_passes(gpt_recipe(MUP_PARAMETRIZATION_MUP), MUP_OPTIM_SGD); }

Test(coord, sp_mlp_with_adam_fails_as_hidden_and_output_grow) {
    recipe *r = mlp_recipe(MUP_PARAMETRIZATION_SP);
    mup_coord_result res = run(r, opts(MUP_OPTIM_ADAM, 3));
    print_on_failure(&res, false);
    cr_assert(!res.pass);
    cr_assert_eq(res.parametrization, MUP_PARAMETRIZATION_SP);
    double tol = log(1.2) / log(4.0);
    for (int t = 2; t <= 3; t++)
        for (int i = 0; i < 3; i++) {
            const char *grows[] = {"fc2", "fc2.act", "readout"};
            const mup_coord_verdict *v = verdict(&res, grows[i], t);
            cr_assert(!v->pass && v->slope > tol, "SP %s at t = %d: slope %g", grows[i], t, v->slope);
            cr_assert_float_eq(v->ratio, pow(4.0, v->slope), 1e-12);
        }
    /* the input layer's fan-in is finite: its Adam update is the same size at every width */
    for (int t = 1; t <= 3; t++)
        cr_assert(verdict(&res, "fc1", t)->pass, "SP fc1 at t = %d", t);
    mup_coord_result_free(&res);
    recipe_free(r);
}

/* ---- broken µP fails and names the layer ---- */

Test(coord, an_unscaled_hidden_learning_rate_fails_at_that_layer) {
    recipe *r = mlp_recipe(MUP_PARAMETRIZATION_MUP);
    r->unscaled = "fc2.weight";
    mup_coord_result res = run(r, opts(MUP_OPTIM_ADAM, 3));
    print_on_failure(&res, false);
    cr_assert(!res.pass);
    for (int t = 1; t <= 3; t++)
        cr_assert(verdict(&res, "fc1", t)->pass && verdict(&res, "fc1.act", t)->pass, "fc1 at t = %d", t);
    cr_assert(verdict(&res, "fc2", 1)->pass, "before any update fc2 is right");
    for (int t = 2; t <= 3; t++) {
        const mup_coord_verdict *v = verdict(&res, "fc2", t);
        cr_assert(!v->pass && v->slope > log(1.2) / log(4.0), "fc2 at t = %d: slope %g", t, v->slope);
    }
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    mup_coord_print_verdict(&res, f);
    fclose(f);
    cr_assert(strstr(text, "µP: FAIL") && strstr(text, "failing: fc2"), "%s", text);
    free(text);
    mup_coord_result_free(&res);
    recipe_free(r);
}

/* Attention scaled by 1/sqrt(d_head) while d_head grows: the logits grow once q and k correlate.
 * One head, so that d_head is the width, and µP's zero query and readout so that the logits hold only
 * what training put there (see docs/coord-check.md). */
static recipe *attention_recipe(bool sqrt_dhead) {
    recipe *r = gpt_recipe(MUP_PARAMETRIZATION_MUP);
    r->gpt_cfg.head_dim = 0;
    r->gpt_cfg.n_head = 1;
    r->gpt_cfg.n_layer = 1;
    r->gpt_cfg.zero_query = true;
    r->attn_sqrt_dhead = sqrt_dhead;
    /* windows of two: the tapped logits include the masked (never trained) products above the
     * diagonal, which keep shrinking like 1/sqrt(d_head) */
    text_batch(r, 16, 2);
    return r;
}

Test(coord, attention_over_sqrt_dhead_fails_at_the_logits) {
    recipe *good = attention_recipe(false), *bad = attention_recipe(true);
    mup_coord_result ok = run(good, opts(MUP_OPTIM_ADAM, 4)), res = run(bad, opts(MUP_OPTIM_ADAM, 4));
    print_on_failure(&ok, true);
    print_on_failure(&res, false);
    cr_assert(ok.pass, "1/d_head attention fails");
    cr_assert(!res.pass);
    for (int t = 3; t <= 4; t++) {
        const mup_coord_verdict *v = verdict(&res, "blocks.0.attn.logits", t);
        cr_assert(!v->pass && v->slope > 0.2, "logits at t = %d: slope %g", t, v->slope);
    }
    /* with a zero query the logits start at 0 at every width */
    cr_assert(verdict(&res, "blocks.0.attn.logits", 1)->zero);
    cr_assert(verdict(&res, "blocks.0.qkv", 1)->pass && verdict(&res, "wte", 4)->pass);
    mup_coord_result_free(&ok);
    mup_coord_result_free(&res);
    recipe_free(good);
    recipe_free(bad);
}

/* ---- what is recorded ---- */

Test(coord, a_zero_readout_is_zero_at_init_and_passes) {
    recipe *r = mlp_recipe(MUP_PARAMETRIZATION_MUP);
    r->mlp.readout_zero_init = true;
    mup_coord_result res = run(r, opts(MUP_OPTIM_ADAM, 2));
    int l = mup_coord_find_layer(&res, "readout");
    for (int w = 0; w < res.n_widths; w++)
        for (int s = 0; s < res.n_seeds; s++) {
            const mup_coord_stat *st = mup_coord_stat_at(&res, w, s, 0, l);
            cr_assert(st->l1 == 0.0 && st->rms == 0.0 && st->std == 0.0, "width %d: readout l1 %g at t = 1",
                      res.widths[w], st->l1);
            cr_assert_gt(mup_coord_stat_at(&res, w, s, 1, l)->l1, 0.0);
        }
    const mup_coord_verdict *v = verdict(&res, "readout", 1);
    cr_assert(v->zero && v->pass && v->slope == 0.0);
    cr_assert(!verdict(&res, "readout", 2)->zero);
    mup_coord_result_free(&res);
    recipe_free(r);
}

Test(coord, layers_in_tap_order_with_readout_and_logits_marked) {
    recipe *r = gpt_recipe(MUP_PARAMETRIZATION_MUP);
    r->gpt_cfg.n_layer = 1;
    mup_coord_opts o = opts(MUP_OPTIM_ADAM, 1);
    o.n_widths = 2;
    mup_coord_result res = run(r, o);
    const char *expect[] = {"wte", "blocks.0.ln1", "blocks.0.qkv", "blocks.0.attn.logits", "blocks.0.attn",
                            "blocks.0.proj", "blocks.0.ln2", "blocks.0.fc", "blocks.0.fc.act", "blocks.0.fc_out",
                            "blocks.0.res", "lnf", "readout"};
    cr_assert_eq(res.n_layers, 13);
    for (int l = 0; l < 13; l++) {
        cr_assert_str_eq(res.layers[l].name, expect[l]);
        bool shrink = strcmp(expect[l], "readout") == 0 || strcmp(expect[l], "blocks.0.attn.logits") == 0;
        cr_assert_eq(res.layers[l].init_shrink, shrink, "%s", expect[l]);
    }
    mup_coord_result_free(&res);
    recipe_free(r);
}

/* A model whose loss taps tensors of known values: the statistics and slopes can be written down. */
typedef struct {
    mup_linear lin;
    int width, calls;
    float x[4];
} probe_net;

static mup_tensor *probe_loss(mup_coord_model *m, mup_graph *g) {
    probe_net *n = m->net;
    int t = n->calls++ % 2; /* 0 at step 1, 1 at step 2 (each model runs two steps) */
    /* "probe": 3 w^0.5 (1, -2); "probe.logits": w^-0.5 at every step; "zero": zeros; "twice": two taps */
    double w = n->width;
    mup_tensor *a = mup_graph_tensor(g, 1, (int[]){2});
    a->data[0] = (float)(3.0 * sqrt(w));
    a->data[1] = (float)(-6.0 * sqrt(w));
    mup_graph_tap(g, "probe", a);
    mup_tensor *b = mup_graph_tensor(g, 2, (int[]){1, 1});
    b->data[0] = (float)(1.0 / sqrt(w));
    mup_graph_tap(g, "probe.logits", b);
    mup_graph_tap(g, "zero", mup_graph_zeros(g, 1, (int[]){3}));
    mup_tensor *c = mup_graph_tensor(g, 1, (int[]){2}), *d = mup_graph_tensor(g, 1, (int[]){3});
    memcpy(c->data, (float[]){1, 2}, sizeof(float[2]));
    memcpy(d->data, (float[]){3, -4, (float)(5 + t)}, sizeof(float[3]));
    mup_graph_tap(g, "twice", c);
    mup_graph_tap(g, "twice", d);
    mup_tensor *x = mup_graph_wrap(g, n->x, 2, (int[]){1, 4});
    return mup_sum(g, mup_linear_forward(g, &n->lin, x));
}

static void probe_release(mup_coord_model *m) {
    free(m->net);
    mup_model_free(m->model);
}

static mup_status probe_build(void *ctx, int width, uint64_t seed, mup_coord_model *out) {
    (void)ctx;
    probe_net *n = calloc(1, sizeof *n);
    n->width = width;
    mup_model *M = mup_model_new();
    mup_linear_init(&n->lin, M, "lin", 4, width, MUP_BIAS);
    cr_assert_eq(mup_set_base_shapes(M, NULL, NULL), MUP_OK);
    mup_model_init(M, seed);
    *out = (mup_coord_model){.model = M, .net = n, .loss = probe_loss, .release = probe_release};
    return MUP_OK;
}

Test(coord, statistics_and_slopes_of_known_taps) {
    const int w4[] = {16, 64, 256};
    mup_coord_opts o = {.widths = w4, .n_widths = 3, .steps = 2, .seeds = 2, .optim = {.kind = MUP_OPTIM_SGD, .lr = 0.1f}};
    mup_coord_result r;
    cr_assert_eq(mup_coord_run(probe_build, NULL, &o, &r), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(r.n_layers, 5); /* probe, probe.logits, zero, twice, lin */
    int probe = mup_coord_find_layer(&r, "probe"), twice = mup_coord_find_layer(&r, "twice");
    for (int w = 0; w < 3; w++) {
        const mup_coord_stat *s = mup_coord_stat_at(&r, w, 1, 0, probe);
        double k = sqrt((double)w4[w]);
        cr_assert_float_eq(s->l1, 4.5 * k, 1e-5 * k);
        cr_assert_float_eq(s->rms, sqrt(22.5) * k, 1e-5 * k);
        cr_assert_float_eq(s->std, 4.5 * k, 1e-5 * k);
        /* two taps of one layer in a step are pooled: (1, 2, 3, -4, 5) at step 1, (1, 2, 3, -4, 6) at 2 */
        s = mup_coord_stat_at(&r, w, 0, 0, twice);
        cr_assert_float_eq(s->l1, 3.0, 1e-12);
        cr_assert_float_eq(s->rms, sqrt(11.0), 1e-12);
        cr_assert_float_eq(s->std, sqrt(11.0 - 1.4 * 1.4), 1e-12);
        s = mup_coord_stat_at(&r, w, 0, 1, twice);
        cr_assert_float_eq(s->l1, 16.0 / 5, 1e-12);
        cr_assert_float_eq(s->std, sqrt(66.0 / 5 - 1.6 * 1.6), 1e-12);
    }
    const mup_coord_verdict *v = mup_coord_verdict_at(&r, 0, probe);
    cr_assert_float_eq(v->slope, 0.5, 1e-6);
    cr_assert_float_eq(v->ratio, 2.0, 1e-5);
    cr_assert(!v->pass);
    /* shrinking like 1/sqrt(width) is allowed for logits at init only */
    int logits = mup_coord_find_layer(&r, "probe.logits");
    cr_assert(r.layers[logits].init_shrink);
    v = mup_coord_verdict_at(&r, 0, logits);
    cr_assert(v->pass && fabs(v->slope + 0.5) < 1e-6, "t = 1: slope %g", v->slope);
    cr_assert(!mup_coord_verdict_at(&r, 1, logits)->pass);
    cr_assert(mup_coord_verdict_at(&r, 1, mup_coord_find_layer(&r, "zero"))->zero);
    cr_assert(mup_coord_verdict_at(&r, 1, twice)->pass);
    cr_assert_eq(r.n_failed, 3); /* probe at both steps, the logits at step 2 */
    cr_assert(!r.pass);
    /* a looser factor passes what grows by 2x per 4x */
    mup_coord_judge(&r, 2.01);
    cr_assert(mup_coord_verdict_at(&r, 0, probe)->pass);
    cr_assert_eq(r.n_failed, 0);
    mup_coord_result_free(&r);
}

/* ---- errors ---- */

static mup_status failing_build(void *ctx, int width, uint64_t seed, mup_coord_model *out) {
    (void)ctx;
    (void)seed;
    (void)out;
    return mup_error(MUP_ERR_IO, "data: cannot open batch for width %d", width);
}

Test(coord, bad_options_and_builder_errors_are_reported) {
    mup_coord_result r;
    const int one[] = {64}, twice[] = {64, 64};
    mup_coord_opts o = {.widths = one, .n_widths = 1, .steps = 2, .optim = {.lr = 0.1f}};
    cr_assert_eq(mup_coord_run(probe_build, NULL, &o, &r), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "widths"), "%s", mup_error_message());
    o = (mup_coord_opts){.widths = twice, .n_widths = 2, .steps = 2, .optim = {.lr = 0.1f}};
    cr_assert_eq(mup_coord_run(probe_build, NULL, &o, &r), MUP_ERR_INVALID);
    o.widths = widths;
    o.steps = 0;
    cr_assert_eq(mup_coord_run(probe_build, NULL, &o, &r), MUP_ERR_INVALID);
    o.steps = 2;
    o.factor = 0.9;
    cr_assert_eq(mup_coord_run(probe_build, NULL, &o, &r), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "factor"), "%s", mup_error_message());
    o.factor = 0;
    o.optim.lr = -1;
    cr_assert_eq(mup_coord_run(probe_build, NULL, &o, &r), MUP_ERR_INVALID);
    o.optim.lr = 0.1f;
    cr_assert_eq(mup_coord_run(failing_build, NULL, &o, &r), MUP_ERR_IO);
    cr_assert_str_eq(mup_error_message(), "coord: width 32, seed 0: data: cannot open batch for width 32");
    mup_coord_result_free(&r);
}

/* A model that taps "extra" only when it is wider than 64. */
static mup_tensor *uneven_loss(mup_coord_model *m, mup_graph *g) {
    probe_net *n = m->net;
    if (n->width > 64)
        mup_graph_tap(g, "extra", mup_graph_zeros(g, 1, (int[]){1}));
    mup_tensor *x = mup_graph_wrap(g, n->x, 2, (int[]){1, 4});
    return mup_sum(g, mup_linear_forward(g, &n->lin, x));
}

static mup_status uneven_build(void *ctx, int width, uint64_t seed, mup_coord_model *out) {
    mup_status s = probe_build(ctx, width, seed, out);
    out->loss = uneven_loss;
    return s;
}

Test(coord, models_that_tap_different_layers_are_refused) {
    mup_coord_opts o = opts(MUP_OPTIM_SGD, 2);
    mup_coord_result r;
    cr_assert_eq(mup_coord_run(uneven_build, NULL, &o, &r), MUP_ERR_SHAPE);
    cr_assert_str_eq(mup_error_message(), "coord: width 128, seed 1: layer \"extra\" is tapped at step 1 of "
                     "width 128 but was not at step 1 of width 32");
    mup_coord_result_free(&r);
}

/* A model that taps "late" from its second step on, and one that taps nothing. */
static mup_tensor *late_loss(mup_coord_model *m, mup_graph *g) {
    probe_net *n = m->net;
    if (n->calls++ > 0)
        mup_graph_tap(g, "late", mup_graph_zeros(g, 1, (int[]){1}));
    mup_tensor *x = mup_graph_wrap(g, n->x, 2, (int[]){1, 4});
    return mup_sum(g, mup_linear_forward(g, &n->lin, x));
}

static mup_tensor *untapped_loss(mup_coord_model *m, mup_graph *g) {
    probe_net *n = m->net;
    mup_tensor *x = mup_graph_wrap(g, n->x, 2, (int[]){1, 4});
    return mup_sum(g, mup_affine(g, x, &n->lin.weight->t, NULL, 1.0f));
}

static mup_status late_build(void *ctx, int width, uint64_t seed, mup_coord_model *out) {
    mup_status s = probe_build(ctx, width, seed, out);
    out->loss = ctx ? untapped_loss : late_loss;
    return s;
}

Test(coord, a_layer_tapped_late_or_no_layer_at_all_is_refused) {
    mup_coord_opts o = opts(MUP_OPTIM_SGD, 2);
    mup_coord_result r;
    cr_assert_eq(mup_coord_run(late_build, NULL, &o, &r), MUP_ERR_SHAPE);
    cr_assert_str_eq(mup_error_message(), "coord: width 32, seed 1: layer \"late\" is tapped at step 2 of width 32 "
                     "but was not at step 1 of width 32");
    mup_coord_result_free(&r);
    cr_assert_eq(mup_coord_run(late_build, "untapped", &o, &r), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "taps no layer"), "%s", mup_error_message());
    mup_coord_result_free(&r);
}

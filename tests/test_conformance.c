/* Conformance with the reference PyTorch `mup` package, and with the depth rules: rebuild every model
 * recorded in $MUP_CONFORMANCE_DIR/{shapes.json, steps.h5, depth.json, depth.h5} from the sizes in
 * the files (never from constants here) and compare shapes, multipliers, logits, gradients, losses
 * and final parameters within the tolerances of the conformance README. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/h5util.h"
#include "testing.h"

#define MAX_NAMES 256

static const char *conf_dir(void) {
    const char *d = getenv("MUP_CONFORMANCE_DIR");
    return d && *d ? d : MUP_DEFAULT_CONFORMANCE_DIR; /* tests/conformance in the source tree */
}

static const char *conf_file(const char *name) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", conf_dir(), name);
    return buf;
}

/* ---- architectures, as recorded ---- */

typedef struct {
    char arch[16];
    int d_in, n_out, depth;
    int vocab, block, nhead, nlayer;
    double attn_mult, output_mult, ln_eps;
    bool tied;
} arch_spec;

typedef struct {
    mup_mlp *mlp;
    mup_gpt *gpt;
} net;

static net net_build(mup_model *M, const arch_spec *a, int width) {
    net n = {0};
    if (strcmp(a->arch, "mlp") == 0) {
        mup_mlp_config c = {.d_in = a->d_in, .width = width, .n_out = a->n_out, .depth = a->depth,
                            .act = MUP_ACT_RELU, .output_mult = (float)a->output_mult};
        n.mlp = mup_mlp_new(M, &c);
    } else {
        cr_assert_str_eq(a->arch, "gpt", "unknown architecture '%s' in the conformance files", a->arch);
        mup_gpt_config c = {.vocab = a->vocab, .block_size = a->block, .width = width, .n_head = a->nhead,
                            .n_layer = a->nlayer, .attn_mult = (float)a->attn_mult,
                            .output_mult = (float)a->output_mult, .ln_eps = (float)a->ln_eps, .tied = a->tied};
        n.gpt = mup_gpt_new(M, &c);
    }
    return n;
}

static void net_free(net n) {
    mup_mlp_free(n.mlp);
    mup_gpt_free(n.gpt);
}

/* ---- HDF5 listing ---- */

typedef struct {
    char names[MAX_NAMES][MUP_NAME_MAX];
    int n;
} name_list;

static herr_t collect(hid_t loc, const char *name, const H5L_info_t *info, void *data) {
    (void)loc;
    (void)info;
    name_list *l = data;
    if (l->n < MAX_NAMES)
        snprintf(l->names[l->n++], MUP_NAME_MAX, "%s", name);
    return 0;
}

static name_list list_names(hid_t loc) {
    name_list l = {.n = 0};
    hsize_t idx = 0;
    H5Literate(loc, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &l);
    return l;
}

static int count_fc(const name_list *l) {
    int depth = 0;
    for (int i = 0; i < l->n; i++) {
        int k;
        char rest[MUP_NAME_MAX];
        if (sscanf(l->names[i], "fc%d.%s", &k, rest) == 2 && strcmp(rest, "weight") == 0 && k > depth)
            depth = k;
    }
    return depth;
}

#define H5_OK(expr) do { mup_status s_ = (expr); cr_assert_eq(s_, MUP_OK, "%s", mup_error_message()); } while (0)

static double attr_f(hid_t g, const char *name) {
    double v;
    H5_OK(mup_h5_attr_read_f64(g, name, &v));
    return v;
}

/* An attribute that only some files' groups carry (depth.h5's runs have no momentum). */
static double attr_or(hid_t g, const char *name, double dflt) {
    return H5Aexists(g, name) > 0 ? attr_f(g, name) : dflt;
}

/* The recorded sizes, from an HDF5 group's attributes or a JSON object: num(src, key) reads one. */
typedef double (*num_reader)(const void *src, const char *key);

static arch_spec arch_read(const char *arch, num_reader num, const void *src, const name_list *params) {
    arch_spec a = {0};
    snprintf(a.arch, sizeof a.arch, "%s", arch);
    a.output_mult = num(src, "output_mult");
    if (strcmp(a.arch, "mlp") == 0) {
        a.d_in = (int)num(src, "d_in");
        a.n_out = (int)num(src, "n_out");
        a.depth = count_fc(params);
    } else {
        a.vocab = (int)num(src, "vocab");
        a.block = (int)num(src, "block");
        a.nhead = (int)num(src, "nhead");
        a.nlayer = (int)num(src, "nlayer");
        a.attn_mult = num(src, "attn_mult");
        a.ln_eps = num(src, "ln_eps");
        a.tied = true;
        for (int i = 0; i < params->n; i++)
            a.tied &= strcmp(params->names[i], "readout.weight") != 0;
    }
    return a;
}

static double attr_num(const void *src, const char *key) { return attr_f(*(const hid_t *)src, key); }

static arch_spec arch_from_group(hid_t g, const name_list *params) {
    char arch[16];
    H5_OK(mup_h5_attr_read_str(g, "arch", arch, sizeof arch));
    return arch_read(arch, attr_num, &g, params);
}

/* ---- comparisons ---- */

static void expect_close(const char *what, const float *got, const double *want, long n, double atol, double rtol) {
    for (long i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        cr_assert(err <= atol + rtol * fabs(want[i]), "%s[%ld]: libmup %.8g, reference %.8g (|diff| %.3g)",
                  what, i, got[i], want[i], err);
    }
}

/* The README's tolerances: logits and losses relative 1e-4 (with a 1e-6 floor for values near 0),
 * gradients and parameters absolute 1e-4 plus relative 1e-3. */
#define REL_ATOL 1e-6
#define REL_RTOL 1e-4
#define PAR_ATOL 1e-4
#define PAR_RTOL 1e-3

static double *read_f64(hid_t loc, const char *name, long n) {
    double *v = malloc((size_t)n * sizeof *v);
    H5_OK(mup_h5_read_f64(loc, name, v, n));
    return v;
}

static void load_params(mup_model *M, hid_t grp) {
    mup_model_values(M); /* allocates the slabs on first use */
    for (int i = 0; i < mup_model_num_params(M); i++) {
        mup_param *p = mup_model_param(M, i);
        H5_OK(mup_h5_read_f32(grp, p->name, p->t.data, p->t.size));
    }
    mup_model_mark_loaded(M);
}

/* One batch as recorded: MLP x float (N, d_in) and y (N); GPT x, y int (B, T). */
typedef struct {
    float *xf;
    int32_t *xi, *y;
    int rows, B, T;
} batch;

static batch read_batch(hid_t g, const arch_spec *a) {
    batch b = {0};
    int nd;
    int64_t dims[4];
    H5_OK(mup_h5_shape(g, "x", 4, &nd, dims));
    if (strcmp(a->arch, "mlp") == 0) {
        b.rows = (int)dims[0];
        b.xf = malloc((size_t)(dims[0] * dims[1]) * sizeof(float));
        H5_OK(mup_h5_read_f32(g, "x", b.xf, dims[0] * dims[1]));
    } else {
        b.B = (int)dims[0];
        b.T = (int)dims[1];
        b.rows = b.B * b.T;
        b.xi = malloc((size_t)b.rows * sizeof(int32_t));
        H5_OK(mup_h5_read_i32(g, "x", b.xi, b.rows));
    }
    b.y = malloc((size_t)b.rows * sizeof(int32_t));
    H5_OK(mup_h5_read_i32(g, "y", b.y, b.rows));
    return b;
}

static void batch_free(batch b) {
    free(b.xf);
    free(b.xi);
    free(b.y);
}

static mup_tensor *forward(mup_graph *g, net n, const arch_spec *a, const batch *b) {
    if (n.mlp)
        return mup_mlp_forward(g, n.mlp, mup_graph_wrap(g, b->xf, 2, (int[]){b->rows, a->d_in}));
    return mup_gpt_forward(g, n.gpt, b->xi, b->B, b->T);
}

static mup_tensor *step_loss(mup_model *M, net n, const arch_spec *a, const batch *b, bool grad) {
    mup_graph *g = grad ? mup_graph_begin(M) : mup_graph_begin_eval(M);
    return mup_cross_entropy(g, forward(g, n, a, b), b->y);
}

/* steps.h5 names the µ-optimizers musgd, muadam, muadamw; depth.h5 adam and adamw (with the µ
 * multipliers too). */
static mup_optim *optim_from_run(mup_model *M, hid_t run, int *steps) {
    char kind[32];
    H5_OK(mup_h5_attr_read_str(run, "optimizer", kind, sizeof kind));
    const char *k = strncmp(kind, "mu", 2) == 0 ? kind + 2 : kind;
    mup_optim_opts o = {.lr = (float)attr_f(run, "lr"), .momentum = (float)attr_or(run, "momentum", 0.0),
                        .weight_decay = (float)attr_f(run, "weight_decay"), .beta1 = (float)attr_f(run, "beta1"),
                        .beta2 = (float)attr_f(run, "beta2"), .eps = (float)attr_f(run, "eps")};
    *steps = (int)attr_f(run, "steps");
    if (strcmp(k, "sgd") == 0)
        return mup_sgd_new(M, o);
    if (strcmp(k, "adam") == 0)
        return mup_adam_new(M, o);
    cr_assert_str_eq(k, "adamw", "unknown optimizer '%s' in the conformance file", kind);
    return mup_adamw_new(M, o);
}

/* depth.h5 groups carry the depth settings; their runs say whether eps scales. */
static void depth_from_group(mup_model *M, hid_t g, hid_t run, const char *gname) {

    if (H5Aexists(g, "depth_alpha") <= 0)
        return;
    mup_depth_opts d = {.on = true, .alpha = attr_f(g, "depth_alpha"), .base_depth = (int)attr_f(g, "base_depth"),
                        .eps_scaling = run >= 0 && attr_or(run, "eps_scaling", 0.0) != 0.0};
    H5_OK(mup_model_set_depth(M, d));
    cr_assert_float_eq(mup_model_residual_mult(M), attr_f(g, "residual_mult"), 1e-12, "%s: residual_mult %g, file %g",
                       gname, mup_model_residual_mult(M), attr_f(g, "residual_mult"));
    cr_assert_float_eq((double)mup_model_num_blocks(M) / d.base_depth, attr_f(g, "depth_mult"), 1e-12,
                       "%s: depth_mult", gname);
}

/* depth.h5's runs list each parameter's lr and wd multipliers and effective eps. */
static void check_run_multipliers(const mup_model *M, const mup_optim *opt, hid_t run, const char *what) {
    if (!mup_h5_exists(run, "lr_mult"))
        return;
    int n = mup_model_num_params(M);
    double *lr = read_f64(run, "lr_mult", n), *wd = read_f64(run, "wd_mult", n), *eps = read_f64(run, "eps_eff", n);
    double user_lr = mup_optim_options(opt)->lr;
    for (int i = 0; i < n; i++) {
        const mup_param *p = mup_model_param(M, i);
        cr_assert_float_eq(mup_optim_param_lr(opt, i) / user_lr, lr[i], 1e-6 * lr[i], "%s: %s lr_mult %g, file %g",
                           what, p->name, mup_optim_param_lr(opt, i) / user_lr, lr[i]);
        cr_assert_float_eq(p->adam_wd_mult, wd[i], 1e-12, "%s: %s wd_mult %g, file %g", what, p->name,
                           p->adam_wd_mult, wd[i]);
        cr_assert_float_eq(mup_optim_eps(opt), eps[i], 1e-6 * eps[i], "%s: %s eps %g, file %g", what, p->name,
                           mup_optim_eps(opt), eps[i]);
    }
    free(lr);
    free(wd);
    free(eps);
}

static void check_group(hid_t file, const char *gname) {
    hid_t g;
    H5_OK(mup_h5_group(file, gname, false, &g));
    hid_t init;
    H5_OK(mup_h5_group(g, "params_init", false, &init));
    name_list params = list_names(init);
    arch_spec a = arch_from_group(g, &params);
    char par[8];
    H5_OK(mup_h5_attr_read_str(g, "parametrization", par, sizeof par));
    int widths[3] = {(int)attr_f(g, "target_width"), (int)attr_f(g, "base_width"), (int)attr_f(g, "delta_width")};

    mup_model *M = mup_model_new(), *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    net n = net_build(M, &a, widths[0]), nb = net_build(B, &a, widths[1]), nd = net_build(D, &a, widths[2]);
    cr_assert_eq(mup_model_num_params(M), params.n, "%s: the file has %d parameters, the rebuilt model %d",
                 gname, params.n, mup_model_num_params(M));
    if (strcmp(par, "sp") == 0)
        mup_model_set_parametrization(M, MUP_PARAMETRIZATION_SP);
    H5_OK(mup_set_base_shapes(M, B, D));
    depth_from_group(M, g, -1, gname);
    load_params(M, init);
    batch b = read_batch(g, &a);

    /* step 0: logits and every gradient */
    mup_backward(mup_model_graph(M), step_loss(M, n, &a, &b, true));
    mup_graph_begin_eval(M);
    mup_tensor *logits = forward(mup_model_graph(M), n, &a, &b);
    double *want = read_f64(g, "logits_step0", logits->size);
    expect_close("logits_step0", logits->data, want, logits->size, REL_ATOL, REL_RTOL);
    free(want);
    hid_t grads;
    H5_OK(mup_h5_group(g, "grads_step0", false, &grads));
    for (int i = 0; i < mup_model_num_params(M); i++) {
        mup_param *p = mup_model_param(M, i);
        want = read_f64(grads, p->name, p->t.size);
        char what[512];
        snprintf(what, sizeof what, "%s grad %s", gname, p->name);
        expect_close(what, p->t.grad, want, p->t.size, PAR_ATOL, PAR_RTOL);
        free(want);
    }
    H5Gclose(grads);

    /* every optimizer run: the loss before each step and after the last, then the parameters */
    hid_t runs;
    H5_OK(mup_h5_group(g, "runs", false, &runs));
    name_list rl = list_names(runs);
    cr_assert_gt(rl.n, 0, "%s has no runs", gname);
    for (int r = 0; r < rl.n; r++) {
        hid_t run;
        H5_OK(mup_h5_group(runs, rl.names[r], false, &run));
        load_params(M, init);
        depth_from_group(M, g, run, gname);
        int steps;
        mup_optim *opt = optim_from_run(M, run, &steps);
        char what[512];
        snprintf(what, sizeof what, "%s/%s", gname, rl.names[r]);
        check_run_multipliers(M, opt, run, what);
        float *losses = malloc((size_t)(steps + 1) * sizeof *losses);
        for (int s = 0; s < steps; s++) {
            mup_tensor *l = step_loss(M, n, &a, &b, true);
            losses[s] = l->data[0];
            mup_backward(mup_model_graph(M), l);
            mup_optim_step(opt);
        }
        losses[steps] = step_loss(M, n, &a, &b, false)->data[0];
        snprintf(what, sizeof what, "%s/%s loss", gname, rl.names[r]);
        want = read_f64(run, "loss", steps + 1);
        expect_close(what, losses, want, steps + 1, REL_ATOL, REL_RTOL);
        free(want);
        hid_t fin;
        H5_OK(mup_h5_group(run, "params_final", false, &fin));
        for (int i = 0; i < mup_model_num_params(M); i++) {
            mup_param *p = mup_model_param(M, i);
            want = read_f64(fin, p->name, p->t.size);
            snprintf(what, sizeof what, "%s/%s final %s", gname, rl.names[r], p->name);
            expect_close(what, p->t.data, want, p->t.size, PAR_ATOL, PAR_RTOL);
            free(want);
        }
        H5Gclose(fin);
        free(losses);
        mup_optim_free(opt);
        H5Gclose(run);
    }
    H5Gclose(runs);
    batch_free(b);
    net_free(n);
    net_free(nb);
    net_free(nd);
    mup_model_free(M);
    mup_model_free(B);
    mup_model_free(D);
    H5Gclose(init);
    H5Gclose(g);
}

static void check_steps_file(const char *name) {
    hid_t f;
    H5_OK(mup_h5_open(conf_file(name), false, &f));
    name_list groups = list_names(f);
    cr_assert_gt(groups.n, 0, "%s has no groups", name);
    for (int i = 0; i < groups.n; i++)
        check_group(f, groups.names[i]);
    H5Fclose(f);
}

Test(conformance, steps_logits_gradients_losses_and_parameters) { check_steps_file("steps.h5"); }

/* Depth-µP and CompleteP: the branch multiplier in the forward pass, the depth factor on the learning
 * rates and the eps scaling, through two Adam(W) steps. */
Test(conformance, depth_steps_logits_gradients_losses_and_parameters) { check_steps_file("depth.h5"); }

/* ---- shapes.json ---- */

static double jnum(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(v), "shapes.json: '%s' missing or not a number", key);
    return v->valuedouble;
}

static double json_num(const void *src, const char *key) { return jnum(src, key); }

static void check_arch_shapes(const char *arch_name, const cJSON *entry) {
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(entry, "config");
    const cJSON *plist = cJSON_GetObjectItemCaseSensitive(entry, "params");
    cr_assert(cJSON_IsObject(cfg) && cJSON_IsArray(plist), "shapes.json: %s lacks config or params", arch_name);
    name_list names = {.n = 0};
    const cJSON *it;
    cJSON_ArrayForEach(it, plist) {
        snprintf(names.names[names.n++], MUP_NAME_MAX, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name")));
    }
    arch_spec a = arch_read(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "arch")), json_num, cfg, &names);
    mup_model *M = mup_model_new_shapes_only(), *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    net n = net_build(M, &a, (int)jnum(entry, "target_width"));
    net nb = net_build(B, &a, (int)jnum(entry, "base_width"));
    net nd = net_build(D, &a, (int)jnum(entry, "delta_width"));
    cr_assert_eq(mup_set_base_shapes(M, B, D), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_model_num_params(M), names.n, "%s: %d parameters in the file, %d rebuilt", arch_name,
                 names.n, mup_model_num_params(M));
    static const char *classes[] = {"scalar", "vector", "matrix"};
    cJSON_ArrayForEach(it, plist) {
        const char *pname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
        const mup_param *p = mup_model_find_param(M, pname);
        cr_assert(p, "%s: parameter %s of the reference is not in the rebuilt model", arch_name, pname);
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *base = cJSON_GetObjectItemCaseSensitive(it, "base_shape");
        cr_assert_eq(cJSON_GetArraySize(shape), p->t.ndim, "%s: rank", pname);
        for (int d = 0; d < p->t.ndim; d++) {
            cr_assert_eq((int)cJSON_GetArrayItem(shape, d)->valuedouble, p->t.shape[d], "%s: shape[%d]", pname, d);
            const cJSON *bd = cJSON_GetArrayItem(base, d);
            if (cJSON_IsNull(bd))
                cr_assert(!p->width_dim[d], "%s: dimension %d should be finite", pname, d);
            else
                cr_assert(p->width_dim[d] && p->base_shape[d] == (int)bd->valuedouble,
                          "%s: base dimension %d should be %g, got %d%s", pname, d, bd->valuedouble,
                          p->base_shape[d], p->width_dim[d] ? "" : " (finite)");
        }
        cr_assert_eq(p->ninf, (int)jnum(it, "ninf"), "%s: ninf", pname);
        cr_assert_str_eq(classes[p->cls], cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "class")),
                         "%s: class", pname);
        const struct { const char *key; double got; } mults[] = {
            {"width_mult", p->width_mult},         {"sgd_lr_mult", p->sgd_lr_mult},
            {"sgd_coupled_wd_mult", p->sgd_wd_mult}, {"adam_lr_mult", p->adam_lr_mult},
            {"adam_coupled_wd_mult", p->adam_wd_mult},
            {"adam_decoupled_wd_mult", 1.0}, /* independent_wd decay is never scaled (optim.h) */
        };
        for (size_t k = 0; k < sizeof mults / sizeof mults[0]; k++)
            cr_assert_float_eq(mults[k].got, jnum(it, mults[k].key), 1e-12, "%s: %s is %g, reference %g", pname,
                               mults[k].key, mults[k].got, jnum(it, mults[k].key));
    }
    net_free(n);
    net_free(nb);
    net_free(nd);
    mup_model_free(M);
    mup_model_free(B);
    mup_model_free(D);
}

static char *read_text(const char *path) {
    cr_assert(access(path, R_OK) == 0, "cannot open %s (set MUP_CONFORMANCE_DIR)", path);
    return test_read_file(path, NULL);
}

Test(conformance, shapes_classes_and_multipliers) {
    char *text = read_text(conf_file("shapes.json"));
    cJSON *root = cJSON_Parse(text);
    cr_assert(root, "shapes.json does not parse");
    const cJSON *entry;
    int n = 0;
    cJSON_ArrayForEach(entry, root) {
        check_arch_shapes(entry->string, entry);
        n++;
    }
    cr_assert_gt(n, 0);
    cJSON_Delete(root);
    free(text);
}

/* ---- depth.json ---- */

static int param_dim(const cJSON *plist, const char *name, int d) {
    const cJSON *it;
    cJSON_ArrayForEach(it, plist) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name")), name) == 0)
            return (int)cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(it, "shape"), d)->valuedouble;
    }
    return -1;
}

/* The GPT of a depth.json case, its sizes read from the parameters' shapes (the case lists no config). */
static mup_gpt *depth_case_gpt(mup_model *M, const cJSON *c, int width) {
    const cJSON *plist = cJSON_GetObjectItemCaseSensitive(c, "params");
    int target = (int)jnum(c, "target_width");
    mup_gpt_config g = {.vocab = param_dim(plist, "wte.weight", 0), .block_size = param_dim(plist, "wpe.weight", 0),
                        .width = width, .n_head = 1, .n_layer = (int)jnum(c, "depth"),
                        .ffn_ratio = param_dim(plist, "blocks.0.fc.weight", 0) / target,
                        .tied = param_dim(plist, "readout.weight", 0) < 0};
    cr_assert(g.vocab > 0 && g.block_size > 0 && g.ffn_ratio > 0, "depth.json: wte, wpe or blocks.0.fc missing");
    return mup_gpt_new(M, &g);
}

static void check_depth_case(const char *name, const cJSON *c) {
    mup_model *M = mup_model_new(), *B = mup_model_new_shapes_only(), *D = mup_model_new_shapes_only();
    mup_gpt *gm = depth_case_gpt(M, c, (int)jnum(c, "target_width"));
    mup_gpt *gb = depth_case_gpt(B, c, (int)jnum(c, "base_width"));
    mup_gpt *gd = depth_case_gpt(D, c, (int)jnum(c, "delta_width"));
    H5_OK(mup_set_base_shapes(M, B, D));
    const cJSON *eps_scaling = cJSON_GetObjectItemCaseSensitive(c, "eps_scaling");
    H5_OK(mup_model_set_depth(M, (mup_depth_opts){.on = true, .alpha = jnum(c, "alpha"),
                                                  .base_depth = (int)jnum(c, "base_depth"),
                                                  .eps_scaling = cJSON_IsTrue(eps_scaling)}));
    cr_assert_float_eq(mup_model_residual_mult(M), jnum(c, "residual_mult"), 1e-12, "%s: residual_mult %g, file %g",
                       name, mup_model_residual_mult(M), jnum(c, "residual_mult"));
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "optimizer"));
    mup_optim_opts o = {.lr = 1.0f, MUP_ADAM_DEFAULTS,
                        .kind = kind && strstr(kind, "adamw") ? MUP_OPTIM_ADAMW : MUP_OPTIM_ADAM};
    cr_assert(mup_optim_check(M, &o) == MUP_OK, "%s: %s", name, mup_error_message());
    mup_optim *opt = mup_optim_new(M, o);
    const cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c, "params")) {
        const char *pname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
        int i = 0;
        while (i < mup_model_num_params(M) && strcmp(mup_model_param(M, i)->name, pname) != 0)
            i++;
        cr_assert_lt(i, mup_model_num_params(M), "%s: parameter %s is not in the rebuilt model", name, pname);
        const mup_param *p = mup_model_param(M, i);
        cr_assert_float_eq(mup_optim_param_lr(opt, i), jnum(it, "lr_mult"), 1e-9, "%s: %s lr_mult %g, file %g", name,
                           pname, mup_optim_param_lr(opt, i), jnum(it, "lr_mult"));
        cr_assert_float_eq(p->adam_wd_mult, jnum(it, "wd_mult"), 1e-12, "%s: %s wd_mult", name, pname);
        cr_assert_float_eq(mup_optim_eps(opt) / 1e-8, jnum(it, "eps_mult"), 1e-6, "%s: %s eps_mult %g, file %g", name,
                           pname, mup_optim_eps(opt) / 1e-8, jnum(it, "eps_mult"));
        n++;
    }
    cr_assert_eq(n, mup_model_num_params(M), "%s: %d parameters in the file, %d rebuilt", name, n,
                 mup_model_num_params(M));
    mup_optim_free(opt);
    mup_gpt_free(gm);
    mup_gpt_free(gb);
    mup_gpt_free(gd);
    mup_model_free(M);
    mup_model_free(B);
    mup_model_free(D);
}

Test(conformance, depth_multipliers) {
    char *text = read_text(conf_file("depth.json"));
    cJSON *root = cJSON_Parse(text);
    cr_assert(root, "depth.json does not parse");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, root) {
        check_depth_case(c->string, c);
        n++;
    }
    cr_assert_gt(n, 0);
    cJSON_Delete(root);
    free(text);
}

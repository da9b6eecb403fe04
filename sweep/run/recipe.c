#include "recipe.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYNTHETIC_SEED 12345  /* the data never changes with the run's seed */

static void data_key(const mup_run_spec *s, char *buf, size_t len) {
    snprintf(buf, len, "%d|%d|%s|%d|%d|%d|%d", (int)s->model.arch, (int)s->data.dataset, s->data.path,
             s->data.train_size, s->data.val_size, s->data.synthetic_classes, s->data.synthetic_dim);
}

static mup_status load_classif(mup_run_data *d, const mup_run_spec *s) {
    mup_classif_data all;
    int val = s->data.val_size > 0 ? s->data.val_size : MUP_SPEC_DEFAULT_VAL;
    mup_status st;
    if (s->data.dataset == MUP_DATASET_FASHION_MNIST) {
        st = mup_fashion_mnist_load(s->data.path[0] ? s->data.path : NULL, true, 0, &all);
    } else {
        int64_t n = mup_run_spec_synthetic_size(s); /* within the data cap: mup_run_spec_check */
        MUP_ASSERT(n <= INT_MAX, "synthetic data of %lld examples: the spec was not checked", (long long)n);
        st = mup_synthetic_classif((int)n, s->data.synthetic_dim, s->data.synthetic_classes, SYNTHETIC_SEED, &all);
    }
    if (st != MUP_OK)
        return st;
    if (val >= all.n) {
        int n = all.n;
        mup_classif_data_free(&all);
        return mup_error(MUP_ERR_INVALID, "data.val_size %d leaves no training examples (the set has %d)", val, n);
    }
    mup_classif_data rest;
    st = mup_classif_split(&all, val, &rest, &d->val); /* validation: the last val_size examples */
    mup_classif_data_free(&all);
    if (st != MUP_OK)
        return st;
    int keep = s->data.train_size > 0 && s->data.train_size < rest.n ? s->data.train_size : rest.n;
    if (keep == rest.n) {
        d->train = rest;
        return MUP_OK;
    }
    mup_classif_data unused;
    st = mup_classif_split(&rest, rest.n - keep, &d->train, &unused);
    mup_classif_data_free(&rest);
    mup_classif_data_free(&unused);
    return st;
}

static mup_status load_text(mup_run_data *d, const mup_run_spec *s) {
    mup_text_data all;
    const char *path = s->data.path[0] ? s->data.path : NULL;
    struct stat st_buf;
    mup_status st;
    if (s->data.dataset == MUP_DATASET_SYNTHETIC)
        st = mup_synthetic_text((long)mup_run_spec_synthetic_size(s), s->data.synthetic_classes, SYNTHETIC_SEED, &all);
    else if (path && stat(path, &st_buf) == 0 && S_ISREG(st_buf.st_mode))
        st = mup_text_load_files(&path, 1, &all);
    else
        st = mup_text_load_dir(path, &all);
    if (st != MUP_OK)
        return st;
    /* train_size keeps a prefix of the corpus: that many training characters plus the validation */
    long want = (long)s->data.train_size + (s->data.val_size > 0 ? s->data.val_size : s->data.train_size / 9);
    if (s->data.train_size > 0 && want < all.n)
        all.n = want;
    double frac = s->data.val_size > 0 ? (double)s->data.val_size / (double)all.n : 0.1;
    if (frac >= 1.0) {
        long n = all.n;
        mup_text_data_free(&all);
        return mup_error(MUP_ERR_INVALID, "data.val_size %d is not smaller than the corpus (%ld characters)",
                         s->data.val_size, n);
    }
    st = mup_text_split(&all, frac, &d->text_train, &d->text_val);
    mup_text_data_free(&all);
    return st;
}

mup_status mup_run_data_load(mup_run_data *d, const mup_run_spec *s) {
    char key[sizeof d->key];
    data_key(s, key, sizeof key);
    if (d->loaded && strcmp(d->key, key) == 0)
        return MUP_OK;
    mup_run_data_free(d);
    mup_status st = s->model.arch == MUP_ARCH_GPT ? load_text(d, s) : load_classif(d, s);
    if (st != MUP_OK) {
        mup_run_data_free(d);
        return st;
    }
    d->loaded = true;
    d->kind = s->data.dataset;
    snprintf(d->key, sizeof d->key, "%s", key);
    return MUP_OK;
}

void mup_run_data_free(mup_run_data *d) {
    mup_classif_data_free(&d->train);
    mup_classif_data_free(&d->val);
    mup_text_data_free(&d->text_train);
    mup_text_data_free(&d->text_val);
    *d = (mup_run_data){0};
}

/* ---- models ---- */

/* The sizes of the data a run trains on: what the model builders and the estimates need. */
typedef struct {
    int dim, n_classes;         /* classification */
    int vocab;                  /* text */
    double n_train, n_val;      /* examples or tokens kept for training and validation */
    double generated;           /* examples or tokens loading makes before it splits them */
    double raw_bytes;           /* file bytes read while loading */
    double teacher_bytes;       /* the synthetic teacher, while generating */
} data_dims;

/* From d when it holds s's data, else from the spec alone: exact for synthetic data and Fashion-MNIST;
 * for a text corpus not loaded yet, a full vocabulary and no data (the corpus is counted once loaded). */
static data_dims dims_of(const mup_run_spec *s, const mup_run_data *d) {
    char key[sizeof d->key];
    data_key(s, key, sizeof key);
    data_dims dm = {0};
    bool gpt = s->model.arch == MUP_ARCH_GPT;
    if (d && d->loaded && strcmp(d->key, key) == 0) {
        dm = (data_dims){.dim = d->train.dim, .n_classes = d->train.n_classes, .vocab = d->text_train.vocab,
                         .n_train = gpt ? (double)d->text_train.n : d->train.n,
                         .n_val = gpt ? (double)d->text_val.n : d->val.n};
    } else if (s->data.dataset == MUP_DATASET_FASHION_MNIST) {
        int val = s->data.val_size > 0 ? s->data.val_size : MUP_SPEC_DEFAULT_VAL;
        dm = (data_dims){.dim = MUP_SPEC_FASHION_DIM, .n_classes = MUP_SPEC_FASHION_CLASSES, .n_val = val,
                         .n_train = s->data.train_size > 0 ? s->data.train_size : MUP_SPEC_FASHION_TRAIN - val};
    } else if (s->data.dataset == MUP_DATASET_SYNTHETIC && !gpt) {
        dm = (data_dims){.dim = s->data.synthetic_dim, .n_classes = s->data.synthetic_classes,
                         .n_val = s->data.val_size > 0 ? s->data.val_size : MUP_SPEC_DEFAULT_VAL,
                         .n_train = s->data.train_size > 0 ? s->data.train_size : MUP_SPEC_SYNTHETIC_TRAIN};
    } else if (s->data.dataset == MUP_DATASET_SYNTHETIC) {
        double n = (double)mup_run_spec_synthetic_size(s), train = s->data.train_size;
        if (train > 0)
            n = fmin(n, train + (s->data.val_size > 0 ? s->data.val_size : s->data.train_size / 9));
        double val = floor(n * (s->data.val_size > 0 ? s->data.val_size / n : 0.1));
        dm = (data_dims){.vocab = s->data.synthetic_classes, .n_train = n - val, .n_val = val};
    } else {
        dm.vocab = MUP_SPEC_TEXT_VOCAB_MAX;
    }
    /* what loading holds at its peak beside the split's copy (load_classif, load_text) */
    if (s->data.dataset == MUP_DATASET_FASHION_MNIST) {
        dm.generated = MUP_SPEC_FASHION_TRAIN;
        dm.raw_bytes = (double)MUP_SPEC_FASHION_TRAIN * (MUP_SPEC_FASHION_DIM + 1);
    } else if (s->data.dataset == MUP_DATASET_SYNTHETIC) {
        dm.generated = (double)mup_run_spec_synthetic_size(s);
        dm.teacher_bytes = gpt ? (double)dm.vocab * dm.vocab * 3
                               : ((double)dm.n_classes + dm.dim) * MUP_SPEC_TEACHER_HIDDEN * sizeof(double);
    } else {
        dm.generated = dm.n_train + dm.n_val;
        dm.raw_bytes = dm.generated;
    }
    return dm;
}

static void build_one(mup_run_model *m, mup_model *M, const mup_run_spec *s, const data_dims *dm, int width,
                      int depth, bool keep) {
    if (s->model.arch == MUP_ARCH_MLP) {
        mup_mlp_config c = {.d_in = dm->dim, .width = width, .n_out = dm->n_classes,
                            .depth = depth, .act = s->model.activation, .no_bias = s->model.no_bias,
                            .residual = s->model.residual,
                            .input_mult = (float)s->mup.input_mult, .output_mult = (float)s->mup.output_mult,
                            .init_std = (float)s->mup.init_std, .readout_zero_init = s->mup.readout_zero_init};
        mup_mlp *net = mup_mlp_new(M, &c);
        if (keep)
            m->mlp = net;
        else
            mup_mlp_free(net);
    } else {
        mup_gpt_config c = {.vocab = dm->vocab, .block_size = s->model.block_size, .width = width,
                            .n_head = s->model.n_head, .head_dim = s->model.head_dim, .n_layer = depth,
                            .ffn_ratio = s->model.ffn_ratio, .attn_mult = (float)s->mup.attn_mult,
                            .output_mult = (float)s->mup.output_mult, .input_mult = (float)s->mup.input_mult,
                            .init_std = (float)s->mup.init_std, .dropout = (float)s->model.dropout,
                            .tied = s->model.tied, .readout_zero_init = s->mup.readout_zero_init,
                            .zero_query = s->mup.zero_query};
        mup_gpt *net = mup_gpt_new(M, &c);
        if (keep)
            m->gpt = net;
        else
            mup_gpt_free(net);
    }
}

static int spec_depth(const mup_run_spec *s) {
    return s->model.arch == MUP_ARCH_MLP ? s->model.depth : s->model.n_layer;
}

/* What the model builders register for s at width: slab floats (padding included), parameter
 * tensors, and the weights every row (MLP example, GPT token) multiplies in a GEMM. */
typedef struct {
    double floats, tensors, gemm_weights;
} model_shape;

static model_shape shape_at_depth(const mup_run_spec *s, const data_dims *dm, int width, int depth) {
    mup_model *M = mup_model_new_shapes_only();
    mup_run_model unused = {0};
    build_one(&unused, M, s, dm, width, depth, false);
    model_shape sh = {(double)mup_model_num_floats(M), mup_model_num_params(M), 0};
    for (int i = 0; i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        bool tied_readout = s->model.tied && strcmp(p->name, "wte.weight") == 0;
        if (p->kind == MUP_KIND_WEIGHT || p->kind == MUP_KIND_READOUT_WEIGHT || tied_readout)
            sh.gemm_weights += (double)p->t.size;
    }
    mup_model_free(M);
    return sh;
}

/* The shapes-only build of s at width. Both models repeat one layer, so builds of one and two layers
 * give any depth exactly, without registering a billion layers to count them. */
static model_shape model_shape_of(const mup_run_spec *s, const data_dims *dm, int width) {
    int depth = spec_depth(s);
    if (depth <= 2)
        return shape_at_depth(s, dm, width, depth);
    model_shape one = shape_at_depth(s, dm, width, 1), two = shape_at_depth(s, dm, width, 2);
    double more = depth - 1.0;
    return (model_shape){one.floats + more * (two.floats - one.floats), one.tensors + more * (two.tensors - one.tensors),
                         one.gemm_weights + more * (two.gemm_weights - one.gemm_weights)};
}

/* Examples (MLP) or tokens (GPT) of a step. */
static double rows_per_step(const mup_run_spec *s) {
    return s->model.arch == MUP_ARCH_MLP ? s->train.batch_size : (double)s->train.batch_size * s->model.block_size;
}

/* The step arena's main block is regrown to 9/8 of the largest step, and a block is never smaller
 * than 1 MiB (core/arena.c). */
#define ARENA_GROWTH 1.125
#define ARENA_MIN_BLOCK (1 << 20)
/* The structures of the model, task, optimizer and loop beyond their arrays: under 100 KiB in every
 * case tests/test_memory.c measures. */
#define STRUCTURES (256 << 10)

/* Bytes the step arena takes: a training step (activations, the values ops save for backward and the
 * gradients in flight) or an evaluation batch (activations only), whichever is larger. */
static double arena_bytes(const mup_run_spec *s, const data_dims *dm) {
    double W = s->width, im = s->mup.input_mult != 1.0 ? 1 : 0;
    double train, eval;
    if (s->model.arch == MUP_ARCH_MLP) {
        double C = dm->n_classes, L = s->model.depth, B = s->train.batch_size;
        double R = B > MUP_SPEC_EVAL_ROWS ? B : MUP_SPEC_EVAL_ROWS;
        /* per layer its linear output and activation; logits, the softmax kept for backward, the row
         * losses (double); in flight the logits' gradient and two layers' */
        train = B * ((2 * L + im) * W + 2 * C + 2) + B * (C + 2 * W);
        eval = R * ((2 * L + im) * W + C + 2);
    } else {
        double T = s->model.block_size, B = s->train.batch_size, N = B * T, V = dm->vocab, L = s->model.n_layer;
        double r = s->model.ffn_ratio, H = s->model.head_dim > 0 ? W / s->model.head_dim : s->model.n_head;
        double d = W / H, threads = mup_num_threads();
        double drop = s->model.dropout > 0 ? 2 * (N * W + N / 4.0) : 0;
        /* per layer: ln1, qkv (3), attention output, proj, residual, ln2, fc and GELU (r each), fc_out,
         * residual, two layernorms' statistics, and the (B, H, T, T) probabilities attention keeps */
        double layer = (10 + 2 * r) * N * W + 4 * N + B * H * T * T + drop;
        /* attention's backward scratch per thread, not handed back: dS (T, T), dK (T, d), d means in double */
        double scratch = threads * (T * T + T * d + 4 * d);
        /* token and position embeddings, their sum, lnf and its statistics, logits, softmax, row losses;
         * in flight the logits' gradient, a block's widest and the residual stream's few */
        double ends = N * ((3 + im) * W + 2 + 2 * V + 2);
        train = L * (layer + scratch) + ends + N * (V + (7 + r) * W);
        eval = L * ((10 + 2 * r) * N * W + 4 * N + drop) + threads * T * T + N * ((3 + im) * W + 2 + V + 2);
    }
    return fmax(train, eval) * sizeof(float);
}

/* The module structs a builder allocates per layer: models/gpt.c's block, models/mlp.c's layer and
 * activation name. The target's are kept through the run; the base's and delta's are freed at once. */
static double layer_struct_bytes(const mup_run_spec *s) {
    if (s->model.arch == MUP_ARCH_MLP)
        return sizeof(mup_linear) + MUP_NAME_MAX;
    return 2.0 * sizeof(mup_layernorm_layer) + sizeof(mup_attention_layer) + 2.0 * sizeof(mup_linear) +
           2.0 * MUP_NAME_MAX;
}

static double memory_of(const mup_run_spec *s, const data_dims *dm, mup_run_memory *m) {
    model_shape sh = model_shape_of(s, dm, s->width), base = model_shape_of(s, dm, s->mup.base_width),
                delta = model_shape_of(s, dm, mup_run_spec_delta_width(s));
    double states = s->train.optimizer != MUP_OPTIM_SGD ? 2 : s->train.momentum != 0 ? 1 : 0;
    bool gpt = s->model.arch == MUP_ARCH_GPT;
    double row = gpt ? sizeof(int32_t) : (double)dm->dim * sizeof(float) + sizeof(int32_t);
    double all = dm->generated * row, held = (dm->n_train + dm->n_val) * row;
    double evals = (s->train.eval_every > 0 ? s->train.steps / s->train.eval_every : 0) + 2.0; /* as mup_train */
    double batch_rows = gpt ? rows_per_step(s) * 2 : fmax(s->train.batch_size, MUP_SPEC_EVAL_ROWS);
    *m = (mup_run_memory){
        .params = sh.floats * 2 * sizeof(float) +
                  (sh.tensors + base.tensors + delta.tensors) * (sizeof(mup_param) + sizeof(mup_param *)) +
                  2.0 * spec_depth(s) * layer_struct_bytes(s),
        .optimizer = states * sh.floats * sizeof(float) + sh.tensors * 2 * sizeof(double),
        .activations = fmax(ARENA_GROWTH * arena_bytes(s, dm), ARENA_MIN_BLOCK),
        .batches = batch_rows * row,
        .curve = s->train.steps * (double)sizeof(float) + evals * (sizeof(int) + 2 * sizeof(double)),
        .data = held,
        .data_loading = all + fmax(fmax(dm->teacher_bytes, dm->raw_bytes), all),
    };
    double run = m->params + m->optimizer + m->activations + m->batches + m->curve + STRUCTURES;
    m->total = fmax(m->data_loading, m->data + run);
    return m->total;
}

/* What needs the data's sizes: a text split whose parts hold a window of block_size + 1 characters,
 * and a model whose parameter tensors the registry can count. */
static mup_status check_dims(const mup_run_spec *s, const data_dims *dm) {
    if (s->model.arch == MUP_ARCH_GPT && dm->n_train + dm->n_val > 0) {
        double part = fmin(dm->n_train, dm->n_val);
        if (part <= s->model.block_size + 1.0)
            return mup_error(MUP_ERR_INVALID, "model.block_size: %d needs more than %d characters in each part "
                             "of the text, but it splits into %.0f for training and %.0f for validation (data.train_size "
                             "%d, data.val_size %d)", s->model.block_size, s->model.block_size + 1, dm->n_train,
                             dm->n_val, s->data.train_size, s->data.val_size);
    }
    model_shape sh = model_shape_of(s, dm, s->width);
    if (sh.tensors > INT_MAX / 2)
        return mup_error(MUP_ERR_INVALID, "%s: %d layers make %.0f parameter tensors, more than the %d a model "
                         "registers", s->model.arch == MUP_ARCH_GPT ? "model.n_layer" : "model.depth", spec_depth(s),
                         sh.tensors, INT_MAX / 2);
    return MUP_OK;
}

mup_status mup_run_memory_estimate(const mup_run_spec *s, const mup_run_data *d, mup_run_memory *m) {
    *m = (mup_run_memory){0};
    mup_status st = mup_run_spec_check(s);
    if (st)
        return st;
    if (s->width <= 0)
        return mup_error(MUP_ERR_INVALID, "width: %d; a run needs a positive width", s->width);
    data_dims dm = dims_of(s, d);
    st = check_dims(s, &dm);
    if (st)
        return st;
    memory_of(s, &dm, m);
    return MUP_OK;
}

/* The memory of this machine, or of its control group (a container, a Slurm job) when less; 0: unknown. */
static double machine_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double bytes = pages > 0 && page > 0 ? (double)pages * page : 0;
    static const char *const cgroup[] = {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(cgroup[i], "r");
        double limit;
        if (f && fscanf(f, "%lf", &limit) == 1 && limit > 0 && (bytes == 0 || limit < bytes))
            bytes = limit;
        if (f)
            fclose(f);
    }
    return bytes;
}

/* MUP_MAX_MEMORY: bytes, or a number with K, M, G or T (powers of 1024; "8G", "8GB" and "8GiB" agree).
 * Strict: nothing before the number, no hexadecimal, nothing after the unit. */
static mup_status parse_cap(const char *text, double *bytes) {
    static const char units[] = "KMGT";
    char *end = (char *)text;
    double v = 0;
    if (isdigit((unsigned char)text[0]) || (text[0] == '.' && isdigit((unsigned char)text[1])))
        v = strpbrk(text, "xX") ? 0 : strtod(text, &end);
    const char *u = end != text && *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (u) {
        v *= pow(1024, (double)(u - units + 1));
        end++;
        if (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0)
            end += strlen(end);
    }
    if (end == text || *end || !(v > 0) || !isfinite(v))
        return mup_error(MUP_ERR_INVALID, "MUP_MAX_MEMORY=\"%s\": expected a size in bytes, or with K, M, G or T "
                         "(powers of 1024), such as 8G", text);
    *bytes = v;
    return MUP_OK;
}

mup_status mup_run_memory_cap(double *bytes, char *source, size_t len) {
    const char *cap = getenv("MUP_MAX_MEMORY");
    char have[32];
    *bytes = 0;
    if (cap && *cap) {
        mup_status st = parse_cap(cap, bytes);
        if (st)
            return st;
        snprintf(source, len, "MUP_MAX_MEMORY=%s (%s)", cap, mup_format_bytes(have, sizeof have, *bytes));
    } else {
        *bytes = machine_memory();
        snprintf(source, len, "the memory of this machine (%s; set MUP_MAX_MEMORY to lower the cap)",
                 mup_format_bytes(have, sizeof have, *bytes));
    }
    return MUP_OK;
}

mup_status mup_run_memory_check(const mup_run_spec *s, const mup_run_data *d) {
    double limit;
    char source[200];
    mup_status st = mup_run_memory_cap(&limit, source, sizeof source);
    mup_run_memory m;
    if (!st)
        st = mup_run_memory_estimate(s, d, &m);
    if (st || limit <= 0 || m.total <= limit)
        return st;
    char want[32], p[32], o[32], a[32], c[32], dt[32];
    return mup_error(MUP_ERR_NOMEM, "width %d needs about %s (%.0f bytes: parameters and gradients %s, optimizer "
                     "state %s, activations of a batch of %d %s, loss curve of %d steps %s, data %s), more than %s",
                     s->width, mup_format_bytes(want, sizeof want, m.total), m.total,
                     mup_format_bytes(p, sizeof p, m.params), mup_format_bytes(o, sizeof o, m.optimizer),
                     s->train.batch_size, mup_format_bytes(a, sizeof a, m.activations), s->train.steps,
                     mup_format_bytes(c, sizeof c, m.curve),
                     mup_format_bytes(dt, sizeof dt, fmax(m.data_loading, m.data)), source);
}

mup_status mup_run_model_build(mup_run_model *m, const mup_run_spec *s, const mup_run_data *d) {
    MUP_ASSERT(d->loaded && s->width > 0, "mup_run_model_build: data not loaded or width %d", s->width);
    *m = (mup_run_model){0};
    mup_status st = mup_run_memory_check(s, d);
    if (st != MUP_OK)
        return st;
    data_dims dm = dims_of(s, d);
    int depth = spec_depth(s);
    *m = (mup_run_model){mup_model_new(), mup_model_new_shapes_only(), mup_model_new_shapes_only(), NULL, NULL};
    build_one(m, m->M, s, &dm, s->width, depth, true);
    build_one(m, m->base, s, &dm, s->mup.base_width, depth, false);
    build_one(m, m->delta, s, &dm, mup_run_spec_delta_width(s), depth, false);
    if (s->mup.parametrization == MUP_PARAMETRIZATION_SP)
        mup_model_set_parametrization(m->M, MUP_PARAMETRIZATION_SP);
    st = mup_set_base_shapes(m->M, m->base, m->delta);
    if (st == MUP_OK)
        st = mup_model_set_depth(m->M, mup_run_spec_depth_opts(s));
    if (st != MUP_OK) {
        mup_run_model_free(m);
        return st;
    }
    mup_model_init(m->M, s->seed);
    return MUP_OK;
}

void mup_run_model_free(mup_run_model *m) {
    mup_mlp_free(m->mlp);
    mup_gpt_free(m->gpt);
    mup_model_free(m->M);
    mup_model_free(m->base);
    mup_model_free(m->delta);
    *m = (mup_run_model){0};
}

mup_optim_opts mup_run_optim_opts(const mup_run_spec *s) {
    return (mup_optim_opts){
        .kind = s->train.optimizer, .lr = (float)s->train.lr, .momentum = (float)s->train.momentum,
        .beta1 = (float)s->train.beta1, .beta2 = (float)s->train.beta2, .eps = (float)s->train.eps,
        .weight_decay = (float)s->train.weight_decay, .clip_norm = (float)s->train.clip,
        .schedule = {.kind = s->train.schedule, .warmup_steps = s->train.warmup_steps, .total_steps = s->train.steps,
                     .min_factor = (float)s->train.min_lr_factor}};
}

mup_task *mup_run_task_new(const mup_run_spec *s, const mup_run_model *m, const mup_run_data *d) {
    if (s->model.arch == MUP_ARCH_MLP)
        return mup_classif_task_new(m->M, mup_mlp_forward_fn, m->mlp, &d->train, &d->val, s->train.batch_size, s->seed);
    return mup_lm_task_new(m->M, mup_gpt_forward_fn, m->gpt, &d->text_train, &d->text_val, s->train.batch_size,
                           s->model.block_size, s->train.eval_batches, s->seed);
}

/* The model and task of a run, after the checks that can refuse it. */
static mup_status set_up(const mup_run_spec *s, mup_run_data *d, const mup_optim_opts *oo, mup_run_model *m,
                         mup_task **task) {
    mup_status st = mup_run_memory_check(s, NULL);
    st = st ? st : mup_run_data_load(d, s);
    st = st ? st : mup_run_model_build(m, s, d);
    st = st ? st : mup_optim_opts_check(oo);
    if (st == MUP_OK && !(*task = mup_run_task_new(s, m, d)))
        st = MUP_ERR_INVALID; /* data that cannot fill a batch, e.g. a corpus shorter than a block */
    return st;
}

mup_status mup_run_train(const mup_run_spec *s, mup_run_data *d, const mup_train_opts *opts, mup_train_result *r) {
    *r = (mup_train_result){0};
    mup_run_model m = {0};
    mup_task *task = NULL;
    mup_optim_opts oo = mup_run_optim_opts(s);
    mup_status st = set_up(s, d, &oo, &m, &task);
    /* ranks training together agree once, so that none waits in a step for one that could not start */
    mup_dist *D = opts ? opts->dist : NULL;
    if (D && !mup_dist_all(D, st == MUP_OK) && st == MUP_OK)
        st = mup_error(MUP_ERR_MPI, "another rank could not set up this run (its message says why)");
    if (st != MUP_OK) {
        snprintf(r->message, sizeof r->message, "%s", mup_error_message());
        r->status = st;
        mup_task_free(task);
        mup_run_model_free(&m);
        return st;
    }
    /* The arena sized at the estimate before the first step: grown in the step instead, its overflow
     * blocks can reach twice or more what the step uses (332 MiB for 122 MiB at head_dim 1, block 512). */
    data_dims dm = dims_of(s, d);
    mup_graph *g = mup_graph_begin_eval(m.M);
    mup_graph_alloc(g, (size_t)arena_bytes(s, &dm));
    mup_graph_end(g);
    mup_optim *opt = mup_optim_new(m.M, oo);
    mup_graph_seed(mup_model_graph(m.M), s->seed);
    mup_train_opts o = opts ? *opts : (mup_train_opts){0};
    o.steps = s->train.steps;
    o.eval_every = s->train.eval_every;
    st = mup_train(m.M, opt, task, &o, r);
    mup_task_free(task);
    mup_optim_free(opt);
    mup_run_model_free(&m);
    return st;
}

double mup_run_objective(const mup_train_result *r, mup_objective o) {
    if (r->status != MUP_OK)
        return INFINITY;
    double v = o == MUP_OBJECTIVE_TRAIN_LOSS ? r->final_train_loss
             : o == MUP_OBJECTIVE_VAL_ERROR  ? 1.0 - r->final_val_acc
                                             : r->final_val_loss;
    return isfinite(v) ? v : INFINITY;
}

double mup_run_step_flops(const mup_run_spec *s, const mup_run_data *d) {
    if (s->width <= 0 || mup_run_spec_check(s) != MUP_OK) /* a journal's spec that no run could have had */
        return 0;
    data_dims dm = dims_of(s, d);
    double attention = s->model.arch == MUP_ARCH_MLP ? 0 : s->model.n_layer * 2.0 * s->model.block_size * s->width;
    /* forward, and two backward GEMMs: dx and dW */
    return 3.0 * 2.0 * rows_per_step(s) * (model_shape_of(s, &dm, s->width).gemm_weights + attention);
}

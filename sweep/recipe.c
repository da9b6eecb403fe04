#include "recipe.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYNTHETIC_TRAIN 10000
#define SYNTHETIC_SEED 12345  /* the data never changes with the run's seed */
#define DEFAULT_VAL 5000
#define SYNTHETIC_TEXT 200000

static void data_key(const mup_run_spec *s, char *buf, size_t len) {
    snprintf(buf, len, "%d|%d|%s|%d|%d|%d|%d", (int)s->model.arch, (int)s->data.dataset, s->data.path,
             s->data.train_size, s->data.val_size, s->data.synthetic_classes, s->data.synthetic_dim);
}

static mup_status load_classif(mup_run_data *d, const mup_run_spec *s) {
    mup_classif_data all;
    int val = s->data.val_size > 0 ? s->data.val_size : DEFAULT_VAL;
    mup_status st;
    if (s->data.dataset == MUP_DATASET_FASHION_MNIST) {
        st = mup_fashion_mnist_load(s->data.path[0] ? s->data.path : NULL, true, 0, &all);
    } else {
        int n = (s->data.train_size > 0 ? s->data.train_size : SYNTHETIC_TRAIN) + val;
        st = mup_synthetic_classif(n, s->data.synthetic_dim, s->data.synthetic_classes, SYNTHETIC_SEED, &all);
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
        st = mup_synthetic_text(s->data.train_size > 0 ? s->data.train_size + s->data.train_size / 9 : SYNTHETIC_TEXT,
                                s->data.synthetic_classes, SYNTHETIC_SEED, &all);
    else if (path && stat(path, &st_buf) == 0 && S_ISREG(st_buf.st_mode))
        st = mup_text_load_files(&path, 1, &all);
    else
        st = mup_text_load_dir(path, &all);
    if (st != MUP_OK)
        return st;
    /* train_size keeps a prefix of the corpus: that many training characters plus the validation */
    long want = s->data.train_size + (s->data.val_size > 0 ? s->data.val_size : s->data.train_size / 9);
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

static void build_one(mup_run_model *m, mup_model *M, const mup_run_spec *s, const mup_run_data *d, int width,
                      bool keep) {
    if (s->model.arch == MUP_ARCH_MLP) {
        mup_mlp_config c = {.d_in = d->train.dim, .width = width, .n_out = d->train.n_classes,
                            .depth = s->model.depth, .act = s->model.activation, .no_bias = s->model.no_bias,
                            .input_mult = (float)s->mup.input_mult, .output_mult = (float)s->mup.output_mult,
                            .init_std = (float)s->mup.init_std, .readout_zero_init = s->mup.readout_zero_init};
        mup_mlp *net = mup_mlp_new(M, &c);
        if (keep)
            m->mlp = net;
        else
            mup_mlp_free(net);
    } else {
        mup_gpt_config c = {.vocab = d->text_train.vocab, .block_size = s->model.block_size, .width = width,
                            .n_head = s->model.n_head, .head_dim = s->model.head_dim, .n_layer = s->model.n_layer,
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

/* The weights that multiply every example (MLP) or token (GPT), from the spec alone: what the FLOPs
 * and the memory estimate both count. */
static double matmul_weights(const mup_run_spec *s, const mup_run_data *d) {
    double w = s->width;
    if (s->model.arch == MUP_ARCH_MLP)
        return d->train.dim * w + (s->model.depth - 1) * w * w + w * d->train.n_classes;
    double ffn = s->model.ffn_ratio > 0 ? s->model.ffn_ratio : 4;
    return s->model.n_layer * (4.0 + 2.0 * ffn) * w * w + w * d->text_train.vocab;
}

/* Examples (MLP) or tokens (GPT) of a step. */
static double rows_per_step(const mup_run_spec *s) {
    return s->model.arch == MUP_ARCH_MLP ? s->train.batch_size : (double)s->train.batch_size * s->model.block_size;
}

double mup_run_memory_estimate(const mup_run_spec *s, const mup_run_data *d) {
    double w = s->width, params = matmul_weights(s, d);
    params += s->model.arch == MUP_ARCH_MLP ? s->model.depth * w + d->train.n_classes  /* biases */
                                            : (s->model.block_size + 12.0 * s->model.n_layer) * w;  /* wpe, norms */
    double states = s->train.optimizer == MUP_OPTIM_SGD ? 1 : 2;
    double per_row = s->model.arch == MUP_ARCH_MLP ? 6.0 * s->model.depth * w
                                                   : s->model.n_layer * (30.0 * w + 3.0 * s->model.block_size);
    return (params * (2 + states) + rows_per_step(s) * per_row * 2) * sizeof(float);
}

/* "1.5 GiB" */
static void format_bytes(char *buf, size_t len, double bytes) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (bytes >= 1024 && u < 6)
        bytes /= 1024, u++;
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
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

/* MUP_MAX_MEMORY: bytes, or a number with K, M, G or T (powers of 1024; "8G", "8GB" and "8GiB" agree). */
static mup_status memory_cap(const char *text, double *bytes) {
    static const char units[] = "KMGT";
    char *end;
    double v = strtod(text, &end);
    const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (u) {
        v *= pow(1024, (double)(u - units + 1));
        end++;
        if (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0)
            end += strlen(end);
    }
    if (end == text || *end || !(v > 0) || !isfinite(v))
        return mup_error(MUP_ERR_INVALID, "MUP_MAX_MEMORY=%s: expected a size in bytes, or with K, M, G or T "
                         "(powers of 1024), such as 8G", text);
    *bytes = v;
    return MUP_OK;
}

mup_status mup_run_memory_check(const mup_run_spec *s, const mup_run_data *d) {
    const char *cap = getenv("MUP_MAX_MEMORY");
    double limit = 0, need = mup_run_memory_estimate(s, d);
    char source[160], have[32], want[32];
    if (cap && *cap) {
        mup_status st = memory_cap(cap, &limit);
        if (st)
            return st;
        format_bytes(have, sizeof have, limit);
        snprintf(source, sizeof source, "MUP_MAX_MEMORY=%s (%s)", cap, have);
    } else {
        limit = machine_memory();
        format_bytes(have, sizeof have, limit);
        snprintf(source, sizeof source, "the memory of this machine (%s; set MUP_MAX_MEMORY to lower the cap)", have);
    }
    if (limit <= 0 || need <= limit)
        return MUP_OK;
    format_bytes(want, sizeof want, need);
    return mup_error(MUP_ERR_NOMEM, "width %d needs about %s (%.0f bytes: parameters, gradients, optimizer state and "
                     "the activations of a batch of %d), more than %s", s->width, want, need, s->train.batch_size,
                     source);
}

mup_status mup_run_model_build(mup_run_model *m, const mup_run_spec *s, const mup_run_data *d) {
    MUP_ASSERT(d->loaded && s->width > 0, "mup_run_model_build: data not loaded or width %d", s->width);
    *m = (mup_run_model){0};
    mup_status st = mup_run_memory_check(s, d);
    if (st != MUP_OK)
        return st;
    *m = (mup_run_model){mup_model_new(), mup_model_new_shapes_only(), mup_model_new_shapes_only(), NULL, NULL};
    build_one(m, m->M, s, d, s->width, true);
    build_one(m, m->base, s, d, s->mup.base_width, false);
    build_one(m, m->delta, s, d, mup_run_spec_delta_width(s), false);
    if (s->mup.parametrization == MUP_PARAMETRIZATION_SP)
        mup_model_set_parametrization(m->M, MUP_PARAMETRIZATION_SP);
    st = mup_set_base_shapes(m->M, m->base, m->delta);
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

mup_status mup_run_train(const mup_run_spec *s, mup_run_data *d, const mup_train_opts *opts, mup_train_result *r) {
    *r = (mup_train_result){0};
    mup_status st = mup_run_data_load(d, s);
    mup_run_model m = {0};
    st = st ? st : mup_run_model_build(&m, s, d);
    if (st != MUP_OK) {
        snprintf(r->message, sizeof r->message, "%s", mup_error_message());
        r->status = st;
        return st;
    }
    mup_optim_opts oo = mup_run_optim_opts(s);
    st = mup_optim_opts_check(&oo);
    if (st != MUP_OK) {
        mup_run_model_free(&m);
        r->status = st;
        return st;
    }
    mup_task *task = mup_run_task_new(s, &m, d);
    if (!task) { /* data that cannot fill a batch, e.g. a corpus shorter than a block */
        snprintf(r->message, sizeof r->message, "%s", mup_error_message());
        r->status = MUP_ERR_INVALID; /* what the task constructors return NULL for */
        mup_run_model_free(&m);
        return r->status;
    }
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
    double rows = rows_per_step(s), attention = s->model.arch == MUP_ARCH_MLP ? 0 : s->model.n_layer * 2.0 * s->model.block_size * s->width;
    return 3.0 * 2.0 * rows * (matmul_weights(s, d) + attention); /* forward + two backward GEMMs */
}

#include "spec.h"

#include <limits.h>
#include <string.h>

#include "mup/data.h"

/* Enum keys store the library's own enums through an int: the names below are indexed by value. */
_Static_assert(sizeof(mup_arch) == sizeof(int) && sizeof(mup_activation) == sizeof(int) &&
                   sizeof(mup_parametrization) == sizeof(int) && sizeof(mup_optim_kind) == sizeof(int) &&
                   sizeof(mup_schedule_kind) == sizeof(int) && sizeof(mup_dataset_kind) == sizeof(int),
               "enum keys are read and written as int");
_Static_assert(MUP_ACT_RELU == 0 && MUP_ACT_TANH == 1 && MUP_ACT_GELU == 2, "activation names");
_Static_assert(MUP_PARAMETRIZATION_MUP == 0 && MUP_PARAMETRIZATION_SP == 1, "parametrization names");
_Static_assert(MUP_OPTIM_SGD == 0 && MUP_OPTIM_ADAM == 1 && MUP_OPTIM_ADAMW == 2, "optimizer names");
_Static_assert(MUP_SCHEDULE_CONSTANT == 0 && MUP_SCHEDULE_COSINE == 1 && MUP_SCHEDULE_LINEAR == 2,
               "schedule names");

static const char *const arch_names[] = {"mlp", "gpt", NULL};
static const char *const activation_names[] = {"relu", "tanh", "gelu", NULL};
static const char *const parametrization_names[] = {"mup", "sp", NULL};
static const char *const optimizer_names[] = {"sgd", "adam", "adamw", NULL};
static const char *const schedule_names[] = {"constant", "cosine", "linear", NULL};
static const char *const dataset_names[] = {"fashion-mnist", "text", "synthetic", NULL};

const char *const mup_spec_sections[] = {"model", "mup", "train", "data", NULL};

#define S mup_run_spec
static const mup_key spec_keys[] = {
    MUP_KEY_ENUM("model", "arch", S, model.arch, MUP_ARCH_MLP, arch_names, "architecture model_type",
                 "model family: an MLP on feature vectors, or a GPT on characters"),
    MUP_KEY_INT("model", "depth", S, model.depth, 2, MUP_RANGE_FROM(1), "n_hidden hidden_layers",
                "MLP: hidden layers (fc1 to fcN for N = depth)"),
    MUP_KEY_ENUM("model", "activation", S, model.activation, MUP_ACT_RELU, activation_names,
                 "act nonlinearity", "MLP: activation between layers"),
    MUP_KEY_BOOL("model", "no_bias", S, model.no_bias, false, "bias", "MLP: linear layers without biases"),
    MUP_KEY_BOOL_OMIT("model", "residual", S, model.residual, false, "residual_blocks skip",
                      "MLP: fc2 .. fc<depth> are residual blocks, h + act(fc(h)) (depth - 1 blocks); needed "
                      "for depth scaling"),
    MUP_KEY_INT("model", "n_layer", S, model.n_layer, 2, MUP_RANGE_FROM(1), "n_layers num_layers layers",
                "GPT: transformer blocks"),
    MUP_KEY_INT("model", "n_head", S, model.n_head, 4, MUP_RANGE_FROM(1), "n_heads num_heads heads",
                "GPT: attention heads when head_dim is 0 (the head size then grows with the width)"),
    MUP_KEY_INT("model", "head_dim", S, model.head_dim, 0, MUP_RANGE_NONNEG, "head_size d_head",
                "GPT: fixed head size, heads = width / head_dim; 0: use n_head"),
    MUP_KEY_INT("model", "block_size", S, model.block_size, 64, MUP_RANGE_FROM(1),
                "context seq_len context_length", "GPT: context length in characters"),
    MUP_KEY_INT("model", "ffn_ratio", S, model.ffn_ratio, 4, MUP_RANGE_FROM(1), "mlp_ratio ffn_mult",
                "GPT: hidden size of each block's MLP, in multiples of the width"),
    MUP_KEY_BOOL("model", "tied", S, model.tied, false, "tie_weights weight_tying",
                 "GPT: the readout shares the token embedding"),
    MUP_KEY_FLOAT("model", "dropout", S, model.dropout, 0, MUP_RANGE_FRACTION, "dropout_rate p_drop",
                  "GPT: dropout rate after the attention and MLP branches"),

    MUP_KEY_ENUM("mup", "parametrization", S, mup.parametrization, MUP_PARAMETRIZATION_MUP,
                 parametrization_names, "param parameterization",
                 "mup: µP relative to the base and delta widths; sp: standard parametrization"),
    MUP_KEY_INT("mup", "base_width", S, mup.base_width, 64, MUP_RANGE_FROM(1), "base",
                "width of the base model whose hyperparameters µP keeps"),
    MUP_KEY_INT("mup", "delta_width", S, mup.delta_width, 0, MUP_RANGE_NONNEG, "delta",
                "width of the delta model that shows µP which dimensions grow; 0: 2 × base_width"),
    MUP_KEY_FLOAT("mup", "output_mult", S, mup.output_mult, 1, MUP_RANGE_POSITIVE,
                  "readout_mult output_multiplier", "multiplier of the readout's logits"),
    MUP_KEY_FLOAT("mup", "input_mult", S, mup.input_mult, 1, MUP_RANGE_POSITIVE,
                  "input_multiplier embedding_mult",
                  "multiplier of the input layer's output (MLP fc1, GPT embeddings)"),
    MUP_KEY_FLOAT("mup", "init_std", S, mup.init_std, 1, MUP_RANGE_POSITIVE, "init_scale sigma",
                  "multiplier of every weight's default initial standard deviation"),
    MUP_KEY_FLOAT("mup", "attn_mult", S, mup.attn_mult, 1, MUP_RANGE_POSITIVE,
                  "attn_multiplier attn_scale", "GPT: multiplier of the attention logits"),
    MUP_KEY_BOOL("mup", "readout_zero_init", S, mup.readout_zero_init, false, "zero_readout",
                 "initialise the readout to zero"),
    MUP_KEY_BOOL("mup", "zero_query", S, mup.zero_query, false, "query_zero_init",
                 "GPT: initialise the query projection to zero"),
    MUP_KEY_FLOAT_NULL("mup", "depth_alpha", S, mup.depth_alpha, ((mup_key_range){0, 1, false, false}),
                       "alpha depth_exponent completep",
                       "depth scaling (docs/mup.md): residual branches × l^-alpha, Adam's lr in blocks × "
                       "l^(alpha-1), l = blocks / base_depth; 0.5 Depth-µP, 1 CompleteP; null: off (plain µP)"),
    MUP_KEY_INT_OMIT("mup", "base_depth", S, mup.base_depth, 2, MUP_RANGE_FROM(1), "depth_base L0",
                     "residual blocks of the base model whose hyperparameters depth scaling keeps"),
    MUP_KEY_BOOL_OMIT("mup", "eps_scaling", S, mup.eps_scaling, false, "scale_eps",
                      "Adam's eps × m^-1 × l^-alpha (m the width multiplier; l^-alpha is 1 with depth scaling off)"),

    MUP_KEY_ENUM("train", "optimizer", S, train.optimizer, MUP_OPTIM_ADAM, optimizer_names,
                 "optim optimiser", "µSGD, µAdam or µAdamW"),
    MUP_KEY_FLOAT("train", "lr", S, train.lr, 1e-3, MUP_RANGE_POSITIVE, "learning_rate lr_max",
                  "learning rate; each parameter's µP multiplier and the schedule scale it"),
    MUP_KEY_FLOAT("train", "momentum", S, train.momentum, 0, MUP_RANGE_FRACTION, NULL, "SGD momentum"),
    MUP_KEY_FLOAT("train", "beta1", S, train.beta1, 0.9, MUP_RANGE_FRACTION, "b1",
                  "Adam(W) decay of the first moment"),
    MUP_KEY_FLOAT("train", "beta2", S, train.beta2, 0.999, MUP_RANGE_FRACTION, "b2",
                  "Adam(W) decay of the second moment"),
    MUP_KEY_FLOAT("train", "eps", S, train.eps, 1e-8, MUP_RANGE_POSITIVE, "epsilon adam_eps",
                  "Adam(W) denominator guard"),
    MUP_KEY_FLOAT("train", "weight_decay", S, train.weight_decay, 0, MUP_RANGE_NONNEG, "wd decay",
                  "weight decay (coupled for SGD and Adam, decoupled for AdamW)"),
    MUP_KEY_FLOAT("train", "clip", S, train.clip, 0, MUP_RANGE_NONNEG, "clip_norm grad_clip max_grad_norm",
                  "clip the global gradient norm to this; 0: off"),
    MUP_KEY_INT("train", "steps", S, train.steps, 500, MUP_RANGE_FROM(1), "iters iterations max_steps",
                "optimizer steps"),
    MUP_KEY_INT("train", "batch_size", S, train.batch_size, 128, MUP_RANGE_FROM(1), "bs batch",
                "examples (GPT: sequences) per step"),
    MUP_KEY_ENUM("train", "schedule", S, train.schedule, MUP_SCHEDULE_CONSTANT, schedule_names,
                 "lr_schedule scheduler", "learning-rate factor after warmup: 1, a half cosine or a "
                 "straight line down to min_lr_factor at the last step"),
    MUP_KEY_INT("train", "warmup_steps", S, train.warmup_steps, 0, MUP_RANGE_NONNEG, "warmup",
                "linear warmup from 1/warmup_steps of the rate over the first steps"),
    MUP_KEY_FLOAT("train", "min_lr_factor", S, train.min_lr_factor, 0, ((mup_key_range){0, 1, false, false}),
                  "min_lr final_lr_factor", "final factor of the cosine and linear schedules"),
    MUP_KEY_INT("train", "eval_every", S, train.eval_every, 100, MUP_RANGE_FROM(1), "eval_interval",
                "steps between evaluations on the validation set (and one at the end)"),
    MUP_KEY_INT("train", "eval_batches", S, train.eval_batches, 20, MUP_RANGE_FROM(1), "eval_iters",
                "validation batches per evaluation"),

    MUP_KEY_ENUM("data", "dataset", S, data.dataset, MUP_DATASET_FASHION_MNIST, dataset_names,
                 "data dataset_name", "Fashion-MNIST (MLP), a text corpus by character (GPT), or "
                 "synthetic data (classification for the MLP, a Markov-chain text for the GPT)"),
    MUP_KEY_STRING("data", "path", S, data.path, "", "data_dir dir file",
                   "Fashion-MNIST's IDX folder, or a text file or folder; \"\": the default location"),
    MUP_KEY_INT("data", "train_size", S, data.train_size, 0, MUP_RANGE_NONNEG, "n_train",
                "training examples (text: characters) to use; 0: all"),
    MUP_KEY_INT("data", "val_size", S, data.val_size, 0, MUP_RANGE_NONNEG, "n_val",
                "validation examples (text: characters); 0: the dataset's default, 5000 examples for "
                "fashion-mnist and synthetic, 10% of the characters for text"),
    MUP_KEY_INT("data", "synthetic_classes", S, data.synthetic_classes, 10, MUP_RANGE_FROM(2),
                "n_classes classes", "synthetic: number of classes (the GPT: vocabulary size)"),
    MUP_KEY_INT("data", "synthetic_dim", S, data.synthetic_dim, 64, MUP_RANGE_FROM(1), "dim input_dim",
                "synthetic: input features"),
};
#undef S

#define N_SPEC_KEYS ((int)(sizeof spec_keys / sizeof spec_keys[0]))

const mup_key *mup_spec_keys(int *n) {
    *n = N_SPEC_KEYS;
    return spec_keys;
}

const mup_key *mup_spec_key_find(const char *section, const char *name) {
    for (int i = 0; i < N_SPEC_KEYS; i++)
        if (strcmp(spec_keys[i].section, section) == 0 && strcmp(spec_keys[i].name, name) == 0)
            return &spec_keys[i];
    return NULL;
}

static mup_key_scope section_scope(const char *section) {
    return (mup_key_scope){spec_keys, N_SPEC_KEYS, section, NULL, {{spec_keys, N_SPEC_KEYS}}};
}

static bool is_section(const char *s) {
    for (int i = 0; mup_spec_sections[i]; i++)
        if (strcmp(mup_spec_sections[i], s) == 0)
            return true;
    return false;
}

mup_status mup_spec_key_lookup(const char *name, const char *parent, const mup_key **out) {
    char path[256];
    mup_key_path(path, sizeof path, parent, name);
    const char *dot = strchr(name, '.');
    if (dot) {
        char section[64];
        snprintf(section, sizeof section, "%.*s", (int)(dot - name), name);
        if (!is_section(section))
            return mup_error(MUP_ERR_INVALID, "%s: unknown section \"%s\" (sections: model, mup, train, data)",
                             path, section);
        *out = mup_spec_key_find(section, dot + 1);
        if (*out)
            return MUP_OK;
        mup_key_scope sc = section_scope(section);
        return mup_error_unknown_key(&sc, mup_key_path(path, sizeof path, parent, section), dot + 1);
    }
    *out = NULL;
    for (int i = 0; i < N_SPEC_KEYS; i++) {
        if (strcmp(spec_keys[i].name, name) != 0)
            continue;
        if (*out)
            return mup_error(MUP_ERR_INVALID, "%s: ambiguous, name it %s.%s or %s.%s", path,
                             (*out)->section, name, spec_keys[i].section, name);
        *out = &spec_keys[i];
    }
    if (*out)
        return MUP_OK;
    mup_key_scope all = section_scope(NULL);
    return mup_error_unknown_key(&all, parent, name);
}

void mup_run_spec_defaults(mup_run_spec *s) {
    memset(s, 0, sizeof *s);
    mup_keys_set_defaults(spec_keys, N_SPEC_KEYS, s);
}

mup_status mup_run_spec_read_sections(mup_run_spec *s, const cJSON *obj) {
    for (int i = 0; mup_spec_sections[i]; i++) {
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(obj, mup_spec_sections[i]);
        if (!sec)
            continue;
        mup_key_scope sc = section_scope(mup_spec_sections[i]);
        mup_status st = mup_keys_read(&sc, s, sec, mup_spec_sections[i]);
        if (st)
            return st;
    }
    return MUP_OK;
}

mup_status mup_run_spec_set(mup_run_spec *s, const mup_key *k, double v) {
    char path[128];
    return mup_key_set(k, s, v, mup_key_path(path, sizeof path, k->section, k->name));
}

double mup_run_spec_get(const mup_run_spec *s, const mup_key *k) { return mup_key_get(k, s); }

mup_depth_opts mup_run_spec_depth_opts(const mup_run_spec *s) {
    bool on = !isnan(s->mup.depth_alpha);
    return (mup_depth_opts){.on = on, .alpha = on ? s->mup.depth_alpha : 0, .base_depth = s->mup.base_depth,
                            .eps_scaling = s->mup.eps_scaling};
}

const mup_key *mup_spec_depth_key(const mup_run_spec *s) {
    return mup_spec_key_find("model", s->model.arch == MUP_ARCH_GPT ? "n_layer" : "depth");
}

void mup_run_spec_set_depth(mup_run_spec *s, int depth) {
    if (depth > 0)
        MUP_CHECK(mup_run_spec_set(s, mup_spec_depth_key(s), depth));
}

int mup_run_spec_blocks(const mup_run_spec *s) {
    if (s->model.arch == MUP_ARCH_GPT)
        return s->model.n_layer;
    return s->model.residual ? s->model.depth - 1 : 0;
}

/* Depth scaling is Adam's (DEPTH_RULES.md) and needs blocks to scale. */
static mup_status check_depth(const mup_run_spec *s) {
    if (isnan(s->mup.depth_alpha))
        return MUP_OK;
    if (s->train.optimizer == MUP_OPTIM_SGD)
        return mup_error(MUP_ERR_INVALID, "mup.depth_alpha: depth scaling is defined for Adam and AdamW only "
                         "(train.optimizer is sgd)");
    if (s->model.arch == MUP_ARCH_MLP && !s->model.residual)
        return mup_error(MUP_ERR_INVALID, "mup.depth_alpha: the MLP has no residual blocks to scale (set "
                         "model.residual)");
    if (mup_run_spec_blocks(s) < 1)
        return mup_error(MUP_ERR_INVALID, "mup.depth_alpha: a residual MLP of model.depth 1 has no residual block "
                         "(its blocks are fc2 .. fc<depth>)");
    return MUP_OK;
}

/* delta_width or 2 × base_width, in 64 bits: what the check compares with INT_MAX. */
static int64_t delta_width64(const mup_run_spec *s) {
    return s->mup.delta_width > 0 ? s->mup.delta_width : 2 * (int64_t)s->mup.base_width;
}

int mup_run_spec_delta_width(const mup_run_spec *s) {
    int64_t d = delta_width64(s);
    MUP_ASSERT(d <= INT_MAX, "delta width %lld: the spec was not checked (mup_run_spec_check)", (long long)d);
    return (int)d;
}

int64_t mup_run_spec_synthetic_size(const mup_run_spec *s) {
    int64_t train = s->data.train_size;
    if (s->model.arch == MUP_ARCH_GPT) /* the training characters and a ninth more for validation */
        return train > 0 ? train + train / 9 : MUP_SPEC_SYNTHETIC_TEXT;
    return (train > 0 ? train : MUP_SPEC_SYNTHETIC_TRAIN) +
           (s->data.val_size > 0 ? s->data.val_size : MUP_SPEC_DEFAULT_VAL);
}

/* Every width a GPT is built at must split into whole heads. */
static mup_status check_heads(const mup_run_spec *s, const char *what, int64_t width) {
    if (s->model.head_dim > 0 && width % s->model.head_dim != 0)
        return mup_error(MUP_ERR_INVALID, "model.head_dim: %d does not divide %s %lld", s->model.head_dim,
                         what, (long long)width);
    if (s->model.head_dim == 0 && width % s->model.n_head != 0)
        return mup_error(MUP_ERR_INVALID, "model.n_head: %d does not divide %s %lld", s->model.n_head, what,
                         (long long)width);
    return MUP_OK;
}

/* The GPT at one width: qkv is 3 × width wide and fc ffn_ratio × width, and attention runs
 * batch_size × heads (batch, head) pairs, each an int in the library. */
static mup_status check_gpt_width(const mup_run_spec *s, const char *key, int64_t width) {
    int64_t factor = s->model.ffn_ratio > 3 ? s->model.ffn_ratio : 3;
    if (width * factor > INT_MAX)
        return mup_error(MUP_ERR_INVALID, "%s: %lld makes a GPT layer %lld wide (%s × width), more than %d: "
                         "at most %lld", key, (long long)width, (long long)(width * factor),
                         factor == 3 ? "3 for qkv" : "model.ffn_ratio", INT_MAX, (long long)(INT_MAX / factor));
    int64_t heads = s->model.head_dim > 0 ? width / s->model.head_dim : s->model.n_head;
    if (heads * s->train.batch_size > INT_MAX)
        return mup_error(MUP_ERR_INVALID, "train.batch_size: %d sequences of %lld heads at %s %lld are more than "
                         "%d (batch, head) pairs: at most %lld", s->train.batch_size, (long long)heads, key,
                         (long long)width, INT_MAX, (long long)(INT_MAX / heads));
    return check_heads(s, key, width);
}

/* The widths every run is built at: base and delta (shapes only) and the run's own. */
static mup_status check_widths(const mup_run_spec *s) {
    int64_t delta = delta_width64(s);
    if (delta > INT_MAX)
        return mup_error(MUP_ERR_INVALID, "mup.base_width: %d makes the delta width 2 × base_width = %lld, more "
                         "than %d (give mup.delta_width, or at most %d)", s->mup.base_width, (long long)delta,
                         INT_MAX, INT_MAX / 2);
    if (s->model.arch != MUP_ARCH_GPT)
        return MUP_OK;
    if ((int64_t)s->train.batch_size * s->model.block_size > INT_MAX)
        return mup_error(MUP_ERR_INVALID, "train.batch_size: %d sequences of model.block_size %d are %lld tokens "
                         "a step, more than %d: at most %d", s->train.batch_size, s->model.block_size,
                         (long long)s->train.batch_size * s->model.block_size, INT_MAX,
                         INT_MAX / s->model.block_size);
    mup_status st = check_gpt_width(s, "mup.base_width", s->mup.base_width);
    if (!st)
        st = check_gpt_width(s, s->mup.delta_width > 0 ? "mup.delta_width" : "the delta width", delta);
    if (!st && s->width > 0)
        st = check_gpt_width(s, "width", s->width);
    return st;
}

const char *mup_format_bytes(char *buf, size_t len, double bytes) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (bytes >= 1024 && u < 6)
        bytes /= 1024, u++;
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

/* Each array that loading generates or keeps stays within MUP_DATA_MAX_BYTES, the library's cap. */
static mup_status check_data(const mup_run_spec *s) {
    char have[32], cap[32];
    mup_format_bytes(cap, sizeof cap, (double)MUP_DATA_MAX_BYTES);
    bool gpt = s->model.arch == MUP_ARCH_GPT;
    if (s->data.dataset == MUP_DATASET_FASHION_MNIST) {
        if (s->data.val_size >= MUP_SPEC_FASHION_TRAIN)
            return mup_error(MUP_ERR_INVALID, "data.val_size: %d leaves no training examples (Fashion-MNIST's "
                             "training file has %d): at most %d", s->data.val_size, MUP_SPEC_FASHION_TRAIN,
                             MUP_SPEC_FASHION_TRAIN - 1);
        int val = s->data.val_size > 0 ? s->data.val_size : MUP_SPEC_DEFAULT_VAL;
        if (s->data.train_size > MUP_SPEC_FASHION_TRAIN - val)
            return mup_error(MUP_ERR_INVALID, "data.train_size: %d is more than the %d examples Fashion-MNIST's "
                             "training file keeps beside %d for validation", s->data.train_size,
                             MUP_SPEC_FASHION_TRAIN - val, val);
        return MUP_OK;
    }
    if (gpt && s->data.dataset == MUP_DATASET_SYNTHETIC && s->data.synthetic_classes > MUP_SPEC_TEXT_VOCAB_MAX)
        return mup_error(MUP_ERR_INVALID, "data.synthetic_classes: %d is more than the %d symbols of a character "
                         "vocabulary", s->data.synthetic_classes, MUP_SPEC_TEXT_VOCAB_MAX);
    int64_t n = s->data.dataset == MUP_DATASET_SYNTHETIC ? mup_run_spec_synthetic_size(s)
                                                         : (int64_t)s->data.train_size + s->data.val_size;
    int64_t row = gpt ? (int64_t)sizeof(int32_t) : (int64_t)s->data.synthetic_dim * (int64_t)sizeof(float);
    if (n * row > MUP_DATA_MAX_BYTES) {
        const char *key = s->data.train_size >= s->data.val_size ? "data.train_size" : "data.val_size";
        if (!gpt && s->data.train_size == 0 && s->data.val_size == 0)
            key = "data.synthetic_dim";
        return mup_error(MUP_ERR_INVALID, "%s: %lld %s (data.train_size %d, data.val_size %d%s) take %s, more than "
                         "the library's data cap of %s: at most %lld %s", key, (long long)n,
                         gpt ? "tokens" : "examples", s->data.train_size, s->data.val_size,
                         gpt ? "" : ", of data.synthetic_dim features",
                         mup_format_bytes(have, sizeof have, (double)n * (double)row), cap,
                         (long long)(MUP_DATA_MAX_BYTES / row), gpt ? "tokens" : "examples");
    }
    if (gpt || s->data.dataset != MUP_DATASET_SYNTHETIC)
        return MUP_OK;
    /* the teacher: W1 (hidden, dim) and W2 (classes, hidden) in double */
    int64_t per = MUP_SPEC_TEACHER_HIDDEN * (int64_t)sizeof(double);
    int64_t teacher = ((int64_t)s->data.synthetic_classes + s->data.synthetic_dim) * per;
    if (teacher > MUP_DATA_MAX_BYTES)
        return mup_error(MUP_ERR_INVALID, "data.synthetic_classes: %d classes over data.synthetic_dim %d features "
                         "need a %s teacher, more than the library's data cap of %s: classes + features at "
                         "most %lld", s->data.synthetic_classes, s->data.synthetic_dim,
                         mup_format_bytes(have, sizeof have, (double)teacher), cap, (long long)(MUP_DATA_MAX_BYTES / per));
    return MUP_OK;
}

mup_status mup_run_spec_check(const mup_run_spec *s) {
    bool text = s->data.dataset == MUP_DATASET_TEXT;
    if (s->data.dataset != MUP_DATASET_SYNTHETIC && text != (s->model.arch == MUP_ARCH_GPT))
        return mup_error(MUP_ERR_INVALID, "data.dataset: %s needs model.arch \"%s\"",
                         dataset_names[s->data.dataset], text ? "gpt" : "mlp");
    if (s->train.warmup_steps > s->train.steps)
        return mup_error(MUP_ERR_INVALID, "train.warmup_steps: %d is more than train.steps (%d)",
                         s->train.warmup_steps, s->train.steps);
    if (s->mup.parametrization == MUP_PARAMETRIZATION_MUP && s->mup.delta_width == s->mup.base_width)
        return mup_error(MUP_ERR_INVALID,
                         "mup.delta_width: must differ from mup.base_width (%d) for µP to tell which "
                         "dimensions grow", s->mup.base_width);
    mup_status st = check_depth(s);
    st = st ? st : check_widths(s);
    return st ? st : check_data(s);
}

cJSON *mup_run_spec_to_json(const mup_run_spec *s) {
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; mup_spec_sections[i]; i++) {
        cJSON *sec = cJSON_AddObjectToObject(root, mup_spec_sections[i]);
        for (int j = 0; j < N_SPEC_KEYS; j++)
            if (strcmp(spec_keys[j].section, mup_spec_sections[i]) == 0 && mup_key_written(&spec_keys[j], s))
                cJSON_AddItemToObject(sec, spec_keys[j].name, mup_key_to_json(&spec_keys[j], s));
    }
    MUP_ASSERT(s->seed <= (1ULL << 53), "run seed %llu does not fit a JSON number exactly",
               (unsigned long long)s->seed);
    cJSON_AddNumberToObject(root, "width", s->width);
    cJSON_AddItemToObject(root, "seed", mup_json_number((double)s->seed));
    return root;
}

mup_status mup_run_spec_from_json(mup_run_spec *s, const cJSON *obj) {
    static const char *const members[] = {"model", "mup", "train", "data", "width", "seed", NULL};
    mup_run_spec_defaults(s);
    mup_key_scope top = {spec_keys, 0, "", members, {{spec_keys, N_SPEC_KEYS}}};
    mup_status st = mup_keys_read(&top, s, obj, "");
    if (!st)
        st = mup_run_spec_read_sections(s, obj);
    if (st)
        return st;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(obj, "width");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(obj, "seed");
    double x;
    if (w && !(mup_json_get_number(w, &x) && x >= 0 && x <= INT_MAX && x == floor(x)))
        return mup_error(MUP_ERR_INVALID, "width: expected a non-negative integer, got %s", mup_json_type_name(w));
    if (w)
        s->width = (int)x;
    /* seeds travel as JSON numbers: exact up to 2^53 */
    if (seed && !(mup_json_get_number(seed, &x) && x >= 0 && x <= 0x1p53 && x == floor(x)))
        return mup_error(MUP_ERR_INVALID, "seed: expected an integer in [0, 2^53], got %s",
                         mup_json_type_name(seed));
    if (seed)
        s->seed = (uint64_t)x;
    return MUP_OK;
}

void mup_run_spec_print(const mup_run_spec *s, FILE *f) {
    char path[128], value[MUP_SPEC_PATH_MAX + 8];
    for (int i = 0; i < N_SPEC_KEYS; i++) {
        mup_key_format_field(&spec_keys[i], s, value, sizeof value);
        fprintf(f, "%-24s = %s\n", mup_key_path(path, sizeof path, spec_keys[i].section, spec_keys[i].name),
                value);
    }
    fprintf(f, "%-24s = %d\n%-24s = %llu\n", "width", s->width, "seed", (unsigned long long)s->seed);
}

void mup_spec_write_markdown(FILE *f) {
    for (int i = 0; mup_spec_sections[i]; i++) {
        fprintf(f, "\n### `%s`\n\n", mup_spec_sections[i]);
        mup_keys_write_markdown(spec_keys, N_SPEC_KEYS, mup_spec_sections[i], f);
    }
}

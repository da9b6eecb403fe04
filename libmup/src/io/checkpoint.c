/* Checkpoint layout (version 2; docs/file-formats.md):
 *   /                attributes format="libmup-checkpoint", version, step, first_loss, parametrization,
 *                    optimizer ("sgd", "adam", "adamw" or "none"), config (JSON text), and with depth
 *                    scaling on depth_alpha, base_depth, eps_scaling (absent: off)
 *   /params/<name>   float32, the parameter's shape
 *   /base_shapes/<name>  int32 (ndim): base dimension, 0 where finite
 *   /optim/<state>/<name> float32, the parameter's shape ("momentum"; "exp_avg", "exp_avg_sq")
 *   /state           uint64: data order and dropout streams
 *   /train_loss      float32 (step): the loss curve so far
 * Every dataset's data carries a Fletcher32 checksum (h5util writes chunked datasets with the filter),
 * which version 1 lacked: a version 2 file without it is refused, a version 1 file is read with a
 * warning. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5util.h"
#include "internal.h"
#include "mup/checkpoint.h"

#define FORMAT "libmup-checkpoint"
#define VERSION 2
#define VERSION_UNCHECKSUMMED 1

static const char *optim_name(const mup_optim *opt) {
    static const char *names[] = {"sgd", "adam", "adamw"};
    return opt ? names[mup_optim_options(opt)->kind] : "none";
}

static void dims_of(const mup_param *p, int64_t *dims) {
    for (int d = 0; d < p->t.ndim; d++)
        dims[d] = p->t.shape[d];
}

static mup_status write_all(hid_t f, mup_model *M, mup_optim *opt, const mup_checkpoint_meta *meta) {
    mup_status s = MUP_OK;
    s = s ? s : mup_h5_attr_write_str(f, "format", FORMAT);
    s = s ? s : mup_h5_attr_write_i64(f, "version", VERSION);
    s = s ? s : mup_h5_attr_write_str(f, "parametrization",
                                      mup_model_parametrization(M) == MUP_PARAMETRIZATION_MUP ? "mup" : "sp");
    s = s ? s : mup_h5_attr_write_str(f, "optimizer", optim_name(opt));
    s = s ? s : mup_h5_attr_write_i64(f, "step", meta ? meta->step : (opt ? mup_optim_step_count(opt) : 0));
    s = s ? s : mup_h5_attr_write_f64(f, "first_loss", meta ? meta->first_loss : 0.0);
    s = s ? s : mup_h5_attr_write_str(f, "config", meta && meta->config_json ? meta->config_json : "{}");
    mup_depth_opts depth = mup_model_depth(M);
    if (depth.on) {
        s = s ? s : mup_h5_attr_write_f64(f, "depth_alpha", depth.alpha);
        s = s ? s : mup_h5_attr_write_i64(f, "base_depth", depth.base_depth);
        s = s ? s : mup_h5_attr_write_i64(f, "eps_scaling", depth.eps_scaling);
    }
    hid_t params = -1, bases = -1;
    s = s ? s : mup_h5_group(f, "params", true, &params);
    s = s ? s : mup_h5_group(f, "base_shapes", true, &bases);
    for (int i = 0; s == MUP_OK && i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        int64_t dims[MUP_MAX_DIMS], nd = p->t.ndim;
        int32_t base[MUP_MAX_DIMS];
        dims_of(p, dims);
        for (int d = 0; d < p->t.ndim; d++)
            base[d] = p->width_dim[d] ? p->base_shape[d] : 0;
        s = mup_h5_write_f32(params, p->name, p->t.data, p->t.ndim, dims);
        s = s ? s : mup_h5_write_i32(bases, p->name, base, 1, &nd);
    }
    if (params >= 0)
        H5Gclose(params);
    if (bases >= 0)
        H5Gclose(bases);
    hid_t og = -1;
    if (s == MUP_OK && opt)
        s = mup_h5_group(f, "optim", true, &og);
    for (int k = 0; s == MUP_OK && opt && k < mup_optim_num_state(opt); k++) {
        hid_t sg;
        s = mup_h5_group(og, mup_optim_state_name(opt, k), true, &sg);
        const float *slab = mup_optim_state(opt, k);
        for (int i = 0; s == MUP_OK && i < mup_model_num_params(M); i++) {
            const mup_param *p = mup_model_param(M, i);
            int64_t dims[MUP_MAX_DIMS];
            dims_of(p, dims);
            s = mup_h5_write_f32(sg, p->name, slab + p->offset, p->t.ndim, dims);
        }
        if (sg >= 0)
            H5Gclose(sg);
    }
    if (og >= 0)
        H5Gclose(og);
    if (s == MUP_OK && meta && meta->n_state > 0)
        s = mup_h5_write_u64(f, "state", meta->state, meta->n_state);
    if (s == MUP_OK && meta && meta->train_loss && meta->step > 0)
        s = mup_h5_write_f32(f, "train_loss", meta->train_loss, 1, (int64_t[]){meta->step});
    return s;
}

/* More than the file will take: every float of the parameters and of each optimizer state, the base
 * shapes, state and losses, and room for the metadata (object headers, chunk indexes, checksums). */
static int64_t checkpoint_bytes(const mup_model *M, const mup_optim *opt, const mup_checkpoint_meta *meta) {
    int64_t floats = mup_model_num_floats(M) * (int64_t)(1 + (opt ? mup_optim_num_state(opt) : 0));
    int64_t datasets = (int64_t)mup_model_num_params(M) * (2 + (opt ? mup_optim_num_state(opt) : 0)) + 2;
    int64_t extra = meta ? (int64_t)meta->n_state * 8 + (int64_t)meta->step * 4 : 0;
    return 4 * floats + extra + datasets * 4096 + 65536;
}

mup_status mup_checkpoint_save(const char *path, mup_model *M, mup_optim *opt, const mup_checkpoint_meta *meta) {
    MUP_ASSERT(!mup_model_is_shapes_only(M), "checkpoint: a shapes-only model has no parameters to save");
    if (opt && !mup_optim_state_covers(opt, 0, mup_model_num_floats(M)))
        return mup_error(MUP_ERR_STATE, "checkpoint %s: the optimizer's state is sharded over ranks "
                         "(mup_dist_optim_step): gather it with mup_dist_gather_state on every rank first", path);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return mup_error(MUP_ERR_INVALID, "checkpoint: path too long: %s", path);
    hid_t f;
    mup_status s = mup_h5_create(tmp, &f);
    if (s != MUP_OK)
        return mup_error_context(s, "checkpoint: ");
    s = mup_h5_reserve(f, tmp, checkpoint_bytes(M, opt, meta));
    s = s ? s : write_all(f, M, opt, meta);
    mup_status closed = mup_h5_close_written(f, tmp);
    s = s ? s : closed;
    if (s == MUP_OK && rename(tmp, path) != 0)
        s = mup_error(MUP_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (s != MUP_OK) {
        unlink(tmp);
        return mup_error_context(s, "checkpoint %s: ", path);
    }
    return MUP_OK;
}

/* A parameter of the file that the model lacks: the file is of another architecture (a deeper
 * model's checkpoint holds every parameter of a shallower one, with the same shapes). */
static mup_status check_no_extra(hid_t f, const mup_model *M) {
    hid_t g;
    mup_status s = mup_h5_group(f, "params", false, &g);
    if (s != MUP_OK)
        return s;
    H5G_info_t info;
    if (H5Gget_info(g, &info) < 0)
        s = mup_error(MUP_ERR_FORMAT, "cannot list the group 'params'");
    /* every parameter of the model is there already, so more entries means one of another model */
    for (hsize_t i = 0; s == MUP_OK && info.nlinks > (hsize_t)mup_model_num_params(M) && i < info.nlinks; i++) {
        char name[MUP_NAME_MAX + 4];
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
        if (len < 0)
            s = mup_error(MUP_ERR_FORMAT, "cannot list the group 'params'");
        else if (len >= (ssize_t)sizeof name || !mup_model_find_param(M, name))
            s = mup_error(MUP_ERR_SHAPE, "the file has a parameter %s%s that the model lacks", name,
                          len >= (ssize_t)sizeof name ? "..." : "");
    }
    H5Gclose(g);
    return s;
}

/* The depth settings change every update, so a resume must run under the ones saved. */
static mup_status check_depth(hid_t f, const mup_model *M) {
    mup_depth_opts have = mup_model_depth(M), saved = {.on = H5Aexists(f, "depth_alpha") > 0};
    int64_t base = 0, eps = 0;
    mup_status s = MUP_OK;
    if (saved.on) {
        s = mup_h5_attr_read_f64(f, "depth_alpha", &saved.alpha);
        s = s ? s : mup_h5_attr_read_i64(f, "base_depth", &base);
        s = s ? s : mup_h5_attr_read_i64(f, "eps_scaling", &eps);
        if (s)
            return s;
    }
    saved.base_depth = (int)base;
    saved.eps_scaling = eps != 0;
    if (saved.on != have.on || (have.on && (saved.alpha != have.alpha || saved.base_depth != have.base_depth ||
                                            saved.eps_scaling != have.eps_scaling)))
        return mup_error(MUP_ERR_STATE, "saved with depth scaling %s (alpha %g, base_depth %d, eps_scaling %d) but "
                         "resumed with %s (alpha %g, base_depth %d, eps_scaling %d)", saved.on ? "on" : "off",
                         saved.alpha, saved.base_depth, saved.eps_scaling, have.on ? "on" : "off", have.alpha,
                         have.base_depth, have.eps_scaling);
    return MUP_OK;
}

/* Read after the data itself: the read verified a checksum if the dataset has one. */
static mup_status checksummed(hid_t f, const char *name, int64_t version) {
    return version == VERSION_UNCHECKSUMMED ? MUP_OK : mup_h5_checksummed(f, name);
}

static mup_status read_f32(hid_t f, const char *name, float *out, int64_t n, int64_t version) {
    mup_status s = mup_h5_read_f32(f, name, out, n);
    return s ? s : checksummed(f, name, version);
}

/* Every check before anything is copied, so a failed load changes nothing. */
static mup_status check_file(hid_t f, mup_model *M, mup_optim *opt, int64_t *version) {
    char fmt[64], par[8], optname[16];
    if (mup_h5_attr_read_fixed_str(f, "format", fmt, sizeof fmt) != MUP_OK || strcmp(fmt, FORMAT) != 0)
        return mup_error(MUP_ERR_FORMAT, "not a libmup checkpoint (no format=\"%s\" attribute)", FORMAT);
    mup_status s = mup_h5_attr_read_i64(f, "version", version);
    if (s == MUP_OK && *version != VERSION && *version != VERSION_UNCHECKSUMMED)
        return mup_error(MUP_ERR_FORMAT, "checkpoint version %lld; this libmup reads versions %d and %d",
                         (long long)*version, VERSION_UNCHECKSUMMED, VERSION);
    s = s ? s : mup_h5_attr_read_fixed_str(f, "parametrization", par, sizeof par);
    const char *want = mup_model_parametrization(M) == MUP_PARAMETRIZATION_MUP ? "mup" : "sp";
    if (s == MUP_OK && strcmp(par, want) != 0)
        return mup_error(MUP_ERR_SHAPE, "saved under %s but the model is %s", par, want);
    s = s ? s : check_depth(f, M);
    s = s ? s : mup_h5_attr_read_fixed_str(f, "optimizer", optname, sizeof optname);
    if (s == MUP_OK && opt && strcmp(optname, optim_name(opt)) != 0)
        return mup_error(MUP_ERR_STATE, "saved with optimizer %s but resumed with %s", optname, optim_name(opt));
    for (int i = 0; s == MUP_OK && i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        char name[MUP_NAME_MAX + 16];
        int nd;
        int64_t dims[MUP_MAX_DIMS];
        snprintf(name, sizeof name, "params/%s", p->name);
        s = mup_h5_shape(f, name, MUP_MAX_DIMS, &nd, dims);
        bool same = s == MUP_OK && nd == p->t.ndim;
        for (int d = 0; same && d < nd; d++)
            same = dims[d] == p->t.shape[d];
        if (s == MUP_OK && !same)
            s = mup_error(MUP_ERR_SHAPE, "parameter %s has another shape in the file than in the model", p->name);
        int32_t base[MUP_MAX_DIMS];
        snprintf(name, sizeof name, "base_shapes/%s", p->name);
        s = s ? s : mup_h5_read_i32(f, name, base, p->t.ndim);
        s = s ? s : checksummed(f, name, *version);
        for (int d = 0; s == MUP_OK && d < p->t.ndim; d++)
            if (base[d] != (p->width_dim[d] ? p->base_shape[d] : 0))
                s = mup_error(MUP_ERR_SHAPE, "parameter %s: base dimension %d is %d in the file, %d in the model",
                              p->name, d, base[d], p->width_dim[d] ? p->base_shape[d] : 0);
    }
    return s ? s : check_no_extra(f, M);
}

static mup_status read_all(hid_t f, mup_model *M, mup_optim *opt, mup_checkpoint_meta *meta, int64_t version) {
    /* every rank loading writes its own values: not the copy sharded steps share (they share it again) */
    mup_status s = mup_model_own_values(M);
    if (s != MUP_OK)
        return s;
    float *values = mup_model_values(M);
    long nf = mup_model_num_floats(M);
    float *staged = mup_xaligned((size_t)nf * sizeof(float) * (size_t)(1 + (opt ? mup_optim_num_state(opt) : 0)));
    /* start from the current slabs, so the padding between parameters keeps its zeros */
    memcpy(staged, values, (size_t)nf * sizeof(float));
    for (int k = 0; opt && k < mup_optim_num_state(opt); k++)
        memcpy(staged + (long)(k + 1) * nf, mup_optim_state(opt, k), (size_t)nf * sizeof(float));
    for (int i = 0; s == MUP_OK && i < mup_model_num_params(M); i++) {
        const mup_param *p = mup_model_param(M, i);
        char name[MUP_NAME_MAX + 64];
        snprintf(name, sizeof name, "params/%s", p->name);
        s = read_f32(f, name, staged + p->offset, p->t.size, version);
        for (int k = 0; s == MUP_OK && opt && k < mup_optim_num_state(opt); k++) {
            snprintf(name, sizeof name, "optim/%s/%s", mup_optim_state_name(opt, k), p->name);
            s = read_f32(f, name, staged + (long)(k + 1) * nf + p->offset, p->t.size, version);
        }
    }
    int64_t step = 0;
    double first_loss = 0.0;
    s = s ? s : mup_h5_attr_read_i64(f, "step", &step);
    s = s ? s : mup_h5_attr_read_f64(f, "first_loss", &first_loss);
    if (s == MUP_OK && (step < 0 || step > 1000000000))
        s = mup_error(MUP_ERR_FORMAT, "step %lld is out of range", (long long)step);
    mup_checkpoint_meta m = {.step = (int)step, .first_loss = first_loss};
    if (s == MUP_OK && mup_h5_exists(f, "state")) {
        int nd;
        int64_t n;
        s = mup_h5_shape(f, "state", 1, &nd, &n);
        if (s == MUP_OK && (n < 0 || n > MUP_CHECKPOINT_STATE_WORDS))
            s = mup_error(MUP_ERR_FORMAT, "state has %lld words (at most %d)", (long long)n, MUP_CHECKPOINT_STATE_WORDS);
        s = s ? s : mup_h5_read_u64(f, "state", m.state, n);
        s = s ? s : checksummed(f, "state", version);
        m.n_state = (int)n;
    }
    if (s == MUP_OK && meta && step > 0 && mup_h5_exists(f, "train_loss")) {
        /* the shape check first, so the allocation is bounded by data the file holds, not by step */
        int nd;
        int64_t n;
        s = mup_h5_shape(f, "train_loss", 1, &nd, &n);
        if (s == MUP_OK && n != step)
            s = mup_error(MUP_ERR_FORMAT, "train_loss has %lld entries for step %lld", (long long)n, (long long)step);
        m.train_loss = s ? NULL : mup_xmalloc((size_t)step * sizeof(float));
        s = s ? s : read_f32(f, "train_loss", m.train_loss, step, version);
    }
    if (s == MUP_OK && meta) {
        char *cfg = mup_xmalloc(1 << 20);
        s = mup_h5_attr_read_fixed_str(f, "config", cfg, 1 << 20);
        m.owned_config = cfg;
        m.config_json = cfg;
    }
    if (s == MUP_OK) {
        memcpy(values, staged, (size_t)nf * sizeof(float));
        for (int k = 0; opt && k < mup_optim_num_state(opt); k++)
            memcpy(mup_optim_state(opt, k), staged + (long)(k + 1) * nf, (size_t)nf * sizeof(float));
        if (opt) {
            mup_optim_set_step_count(opt, (int)step);
            mup_optim_state_whole(opt);
        }
        mup_model_mark_loaded(M);
        if (meta)
            *meta = m;
    } else {
        mup_checkpoint_meta_free(&m);
    }
    free(staged);
    return s;
}

mup_status mup_checkpoint_load(const char *path, mup_model *M, mup_optim *opt, mup_checkpoint_meta *meta) {
    MUP_ASSERT(mup_model_has_base_shapes(M), "checkpoint: call mup_set_base_shapes before loading %s", path);
    hid_t f;
    mup_status s = mup_h5_open_checked(path, &f);
    if (s != MUP_OK)
        return mup_error_context(s, "checkpoint: ");
    int64_t version = 0;
    s = check_file(f, M, opt, &version);
    s = s ? s : read_all(f, M, opt, meta, version);
    if (s == MUP_OK && version == VERSION_UNCHECKSUMMED)
        mup_log(MUP_LOG_WARN, "checkpoint %s: written before checkpoints carried checksums (version %d): a damaged "
                "byte in its data cannot be detected", path, VERSION_UNCHECKSUMMED);
    H5Fclose(f);
    return s == MUP_OK ? MUP_OK : mup_error_context(s, "checkpoint %s: ", path);
}

void mup_checkpoint_meta_free(mup_checkpoint_meta *meta) {
    if (!meta)
        return;
    free(meta->train_loss);
    free(meta->owned_config);
    meta->train_loss = NULL;
    meta->owned_config = NULL;
    meta->config_json = NULL;
}

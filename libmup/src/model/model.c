#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "model_impl.h"

#define SLAB_ALIGN_FLOATS 16 /* 64 bytes: every parameter starts on a cache line */

static mup_model *model_new(bool shapes_only) {
    mup_model *M = mup_xcalloc(1, sizeof *M);
    M->shapes_only = shapes_only;
    M->parametrization = MUP_PARAMETRIZATION_MUP;
    return M;
}

mup_model *mup_model_new(void) { return model_new(false); }
mup_model *mup_model_new_shapes_only(void) { return model_new(true); }

bool mup_model_is_shapes_only(const mup_model *M) { return M->shapes_only; }

void mup_model_push_scope(mup_model *M, const char *fmt, ...) {
    MUP_ASSERT(M->depth < MUP_SCOPE_DEPTH, "name scopes nested deeper than %d", MUP_SCOPE_DEPTH);
    size_t len = strlen(M->scope);
    M->scope_len[M->depth++] = (int)len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(M->scope + len, sizeof M->scope - len - 1, fmt, ap);
    va_end(ap);
    MUP_ASSERT(n >= 0 && len + (size_t)n + 1 < sizeof M->scope, "name scope too long: %s", M->scope);
    strcat(M->scope, ".");
}

void mup_model_pop_scope(mup_model *M) {
    MUP_ASSERT(M->depth > 0, "mup_model_pop_scope without a matching push");
    M->scope[M->scope_len[--M->depth]] = '\0';
}

const char *mup_model_scoped_name(const mup_model *M, const char *name, char *buf, size_t len) {
    int n = snprintf(buf, len, "%s%s", M->scope, name);
    MUP_ASSERT(n >= 0 && (size_t)n < len, "name too long: %s%s", M->scope, name);
    return buf;
}

mup_param *mup_model_add_param(mup_model *M, const char *name, mup_param_kind kind,
                               int ndim, const int *shape) {
    MUP_ASSERT(!M->values, "parameter %s added after the model's memory was allocated", name);
    MUP_ASSERT(!M->shapes_set, "parameter %s added after mup_set_base_shapes", name);
    MUP_ASSERT(ndim >= 1 && ndim <= MUP_MAX_DIMS,
               "parameter %s has %d dimensions; parameters have 1 to %d (register a 0-d one as shape (1))",
               name, ndim, MUP_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        MUP_ASSERT(shape[i] >= 1, "dimension %d of parameter %s is %d; zero-sized parameters are not supported",
                   i, name, shape[i]);
    mup_param *p = mup_xcalloc(1, sizeof *p);
    mup_model_scoped_name(M, name, p->name, sizeof p->name);
    MUP_ASSERT(!mup_model_find_param(M, p->name), "parameter %s registered twice", p->name);
    mup_tensor_set_shape(&p->t, ndim, shape);
    p->t.requires_grad = true;
    p->t.name = p->name;
    p->kind = kind;
    p->offset = M->n_floats;
    p->ninf = 0;
    p->width_mult = p->fanin_mult = p->fanout_mult = 1.0;
    p->init_rescale = 1.0;
    p->sgd_lr_mult = p->sgd_wd_mult = p->adam_lr_mult = p->adam_wd_mult = 1.0;
    p->block = M->in_block ? M->n_blocks - 1 : -1;
    p->cls = MUP_CLASS_SCALAR;
    p->role = kind == MUP_KIND_READOUT_WEIGHT || kind == MUP_KIND_READOUT_BIAS ? MUP_ROLE_OUTPUT
                                                                               : MUP_ROLE_FIXED;
    for (int i = 0; i < ndim; i++)
        p->base_shape[i] = shape[i];
    M->n_floats += (p->t.size + SLAB_ALIGN_FLOATS - 1) / SLAB_ALIGN_FLOATS * SLAB_ALIGN_FLOATS;
    M->n_elements += p->t.size;
    if (M->n_params == M->cap_params) {
        M->cap_params = M->cap_params ? 2 * M->cap_params : 32;
        M->params = mup_xrealloc(M->params, (size_t)M->cap_params * sizeof *M->params);
    }
    M->params[M->n_params++] = p;
    return p;
}

int mup_model_num_params(const mup_model *M) { return M->n_params; }

mup_param *mup_model_param(const mup_model *M, int i) {
    MUP_ASSERT(i >= 0 && i < M->n_params, "parameter index %d out of range (model has %d)", i, M->n_params);
    return M->params[i];
}

mup_param *mup_model_find_param(const mup_model *M, const char *name) {
    for (int i = 0; i < M->n_params; i++)
        if (strcmp(M->params[i]->name, name) == 0)
            return M->params[i];
    return NULL;
}

long mup_model_num_floats(const mup_model *M) { return M->n_floats; }
long mup_model_num_elements(const mup_model *M) { return M->n_elements; }

/* Rounded to whole cache lines, as aligned_alloc wants; NULL when the system refuses. */
static float *slab_alloc(size_t bytes) { return aligned_alloc(64, (bytes + 63) & ~(size_t)63); }

/* A slab's bytes: one float at least, so that a model without parameters has slabs too. */
static size_t slab_bytes(const mup_model *M) { return (size_t)(M->n_floats ? M->n_floats : 1) * sizeof(float); }

static void point_params(mup_model *M) {
    for (int i = 0; i < M->n_params; i++) {
        mup_param *p = M->params[i];
        p->t.data = M->values + p->offset;
        p->t.grad = M->grads + p->offset;
    }
}

/* Whether a slab lies in the node's mapping (else the model allocated it). */
static bool in_map(const mup_model *M, const float *slab) {
    uintptr_t at = (uintptr_t)slab, base = (uintptr_t)M->node_map;
    return M->node_map && base <= at && at < base + M->node_map_bytes;
}

/* The slabs become values and grads, within map (NULL: none): the model's own slabs that are given up
 * are freed, and a mapping given up is unmapped. NULLs throughout: everything given up. */
static void place(mup_model *M, void *map, size_t bytes, unsigned long key, float *values, float *grads) {
    if (M->values != values && !in_map(M, M->values))
        free(M->values);
    if (M->grads != grads && !in_map(M, M->grads))
        free(M->grads);
    if (M->node_map && M->node_map != map)
        munmap(M->node_map, M->node_map_bytes);
    M->node_map = map;
    M->node_map_bytes = bytes;
    M->node_key = key;
    M->values = values;
    M->grads = grads;
}

void mup_model_free(mup_model *M) {
    if (!M)
        return;
    for (int i = 0; i < M->n_params; i++)
        free(M->params[i]);
    free(M->params);
    place(M, NULL, 0, 0, NULL, NULL);
    mup_graph_free(M->graph);
    free(M);
}

mup_status mup_model_alloc(mup_model *M) {
    if (M->values)
        return MUP_OK;
    MUP_ASSERT(!M->shapes_only, "a shapes-only model has no parameter memory");
    size_t bytes = slab_bytes(M);
    M->values = slab_alloc(bytes);
    M->grads = M->values ? slab_alloc(bytes) : NULL;
    if (!M->grads) {
        free(M->values);
        M->values = NULL;
        return mup_error(MUP_ERR_NOMEM,
                         "model: cannot allocate 2 x %zu bytes (values and gradients of %ld parameter elements)",
                         bytes, M->n_elements);
    }
    memset(M->values, 0, bytes);
    memset(M->grads, 0, bytes);
    point_params(M);
    return MUP_OK;
}

void mup_model_place_slabs(mup_model *M, void *map, size_t bytes, unsigned long key, float *values, float *grads) {
    MUP_ASSERT(M->values, "mup_model_place_slabs: the model's slabs are not allocated");
    place(M, map, bytes, key, values, grads);
    point_params(M);
}

void *mup_model_slab_map(const mup_model *M, unsigned long *key) {
    *key = M->node_key;
    return M->node_map;
}

mup_status mup_model_own_values(mup_model *M) {
    if (!M->values || !in_map(M, M->values))
        return MUP_OK;
    size_t bytes = slab_bytes(M);
    float *own = slab_alloc(bytes);
    if (!own)
        return mup_error(MUP_ERR_NOMEM, "model: cannot allocate %zu bytes for its own copy of the values shared "
                         "by the node's ranks", bytes);
    memcpy(own, M->values, bytes);
    M->values = own;
    point_params(M);
    return MUP_OK;
}

/* For the accessors, which cannot return a status. */
static void alloc_or_abort(mup_model *M) {
    MUP_ASSERT(mup_model_alloc(M) == MUP_OK, "%s", mup_error_message());
}

float *mup_model_values(mup_model *M) {
    alloc_or_abort(M);
    return M->values;
}

float *mup_model_grads(mup_model *M) {
    alloc_or_abort(M);
    return M->grads;
}

bool mup_model_has_base_shapes(const mup_model *M) { return M->shapes_set; }
mup_parametrization mup_model_parametrization(const mup_model *M) { return M->parametrization; }
bool mup_model_is_initialized(const mup_model *M) { return M->initialized; }

static uint64_t name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

mup_status mup_model_init(mup_model *M, uint64_t seed) {
    mup_status s = mup_model_alloc(M);
    s = s ? s : mup_model_own_values(M); /* every rank draws into its own values */
    if (s != MUP_OK)
        return s;
    bool rescale = M->shapes_set && M->parametrization == MUP_PARAMETRIZATION_MUP;
    for (int i = 0; i < M->n_params; i++) {
        mup_rng r = mup_rng_stream(seed, name_hash(M->params[i]->name));
        mup_param_draw(M->params[i], &r, rescale);
    }
    M->initialized = true;
    M->rescaled = rescale;
    return MUP_OK;
}

void mup_model_mark_loaded(mup_model *M) {
    alloc_or_abort(M);
    M->initialized = true;
    M->rescaled = true;
}

mup_graph *mup_model_graph(mup_model *M) {
    if (!M->graph) {
        alloc_or_abort(M);
        M->graph = mup_graph_new();
        M->graph->model = M;
    }
    return M->graph;
}

const char *mup_class_name(mup_class c) {
    static const char *names[] = {"scalar", "vector", "matrix"};
    return (unsigned)c < 3 ? names[c] : "?";
}

const char *mup_role_name(mup_role r) {
    static const char *names[] = {"input", "hidden", "output", "vector", "fixed"};
    return (unsigned)r < 5 ? names[r] : "?";
}

const char *mup_parametrization_name(mup_parametrization p) {
    return p == MUP_PARAMETRIZATION_MUP ? "mup" : p == MUP_PARAMETRIZATION_SP ? "sp" : "?";
}

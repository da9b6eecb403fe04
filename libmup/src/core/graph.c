#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/error.h"
#include "mup/model.h"
#include "mup/threads.h"

mup_graph *mup_graph_new(void) {
    mup_threads_init();
    mup_graph *g = mup_xcalloc(1, sizeof *g);
    g->grad = true;
    g->training = true;
    g->rng = mup_rng_new(0);
    return g;
}

void mup_graph_free(mup_graph *g) {
    if (!g)
        return;
    mup_arena_release(&g->arena);
    free(g);
}

void mup_graph_reset(mup_graph *g, bool grad) {
    mup_arena_rewind(&g->arena);
    g->layer = NULL;
    g->nonfinite[0] = '\0';
    g->tail = NULL;
    g->n_nodes = 0;
    g->grad = grad;
    g->training = grad;
}

mup_graph *mup_graph_begin(mup_model *M) {
    mup_graph *g = mup_model_graph(M);
    mup_graph_reset(g, true);
    memset(mup_model_grads(M), 0, (size_t)mup_model_num_floats(M) * sizeof(float));
    return g;
}

mup_graph *mup_graph_begin_eval(mup_model *M) {
    mup_graph *g = mup_model_graph(M);
    mup_graph_reset(g, false);
    return g;
}

void mup_graph_end(mup_graph *g) {
    g->tail = NULL;
    g->n_nodes = 0;
}

bool mup_graph_grad_enabled(const mup_graph *g) { return g->grad; }
bool mup_graph_training(const mup_graph *g) { return g->training; }
void mup_graph_set_training(mup_graph *g, bool training) { g->training = training; }
void mup_graph_seed(mup_graph *g, uint64_t seed) { g->rng = mup_rng_stream(seed, 0x64726f70u); }

mup_rng mup_graph_rng(const mup_graph *g) { return g->rng; }
void mup_graph_set_rng(mup_graph *g, mup_rng r) { g->rng = r; }

void *mup_graph_alloc(mup_graph *g, size_t bytes) { return mup_arena_alloc(&g->arena, bytes); }

size_t mup_graph_bytes_used(const mup_graph *g) { return g->arena.used + g->arena.extra_used; }

size_t mup_graph_bytes_reserved(const mup_graph *g) {
    size_t now = mup_graph_bytes_used(g);
    return now > g->arena.high_water ? now : g->arena.high_water;
}

mup_tensor *mup_graph_tensor(mup_graph *g, int ndim, const int *shape) {
    mup_tensor *t = mup_arena_alloc(&g->arena, sizeof *t);
    *t = (mup_tensor){0};
    mup_tensor_set_shape(t, ndim, shape);
    t->data = mup_arena_alloc(&g->arena, (size_t)t->size * sizeof(float));
    return t;
}

mup_tensor *mup_graph_zeros(mup_graph *g, int ndim, const int *shape) {
    mup_tensor *t = mup_graph_tensor(g, ndim, shape);
    memset(t->data, 0, (size_t)t->size * sizeof(float));
    return t;
}

mup_tensor *mup_graph_like(mup_graph *g, const mup_tensor *t) {
    return mup_graph_tensor(g, t->ndim, t->shape);
}

mup_tensor *mup_graph_wrap(mup_graph *g, float *data, int ndim, const int *shape) {
    MUP_ASSERT(data, "mup_graph_wrap: data is NULL");
    mup_tensor *t = mup_arena_alloc(&g->arena, sizeof *t);
    *t = (mup_tensor){0};
    mup_tensor_set_shape(t, ndim, shape);
    t->data = data;
    return t;
}

void mup_graph_check_finite(mup_graph *g, bool on) { g->check_finite = on; }

const char *mup_graph_nonfinite(const mup_graph *g) { return g->nonfinite[0] ? g->nonfinite : NULL; }

static void check_values(mup_graph *g, const float *x, long n, const char *pass, const char *op) {
    if (g->nonfinite[0] || !x)
        return;
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            snprintf(g->nonfinite, sizeof g->nonfinite, "%s of op %s after layer %s: element %ld is %g", pass, op,
                     g->layer ? g->layer : "(none: the first layer)", i, (double)x[i]);
            return;
        }
}

mup_node *mup_graph_record(mup_graph *g, const mup_op *op, mup_tensor *out,
                           mup_tensor *a, mup_tensor *b, mup_tensor *c) {
    if (g->check_finite)
        check_values(g, out->data, out->size, "forward", op->name);
    mup_tensor *in[MUP_NODE_INPUTS] = {a, b, c};
    bool needed = false;
    for (int k = 0; k < MUP_NODE_INPUTS && in[k]; k++)
        needed |= in[k]->requires_grad;
    if (!g->grad || !needed)
        return NULL;
    out->requires_grad = true;
    mup_node *n = mup_arena_alloc(&g->arena, sizeof *n);
    *n = (mup_node){.op = op, .out = out, .prev = g->tail};
    for (int k = 0; k < MUP_NODE_INPUTS && in[k]; k++)
        n->in[k] = in[k];
    g->tail = n;
    g->n_nodes++;
    return n;
}

float *mup_grad(mup_graph *g, mup_tensor *t) {
    if (!t->grad) {
        t->grad = mup_arena_reuse(&g->arena, (size_t)t->size * sizeof(float));
        memset(t->grad, 0, (size_t)t->size * sizeof(float));
    }
    return t->grad;
}

/* Every consumer of a node's output comes later on the tape, so once the node's own backward has
 * run, nothing reads the output's gradient again: it goes back to the arena for the gradients of
 * earlier activations. A step then holds its activations once and only the gradients in flight,
 * not a second copy of every activation. Leaves (parameters, inputs) keep their gradients. */
static void release_grad(mup_graph *g, mup_tensor *t) {
    mup_arena_give_back(&g->arena, t->grad, (size_t)t->size * sizeof(float));
    t->grad = NULL;
}

static void walk(mup_graph *g) {
    for (mup_node *n = g->tail; n; n = n->prev) {
        if (!n->out->grad)
            continue;
        n->op->backward(g, n);
        for (int k = 0; g->check_finite && k < MUP_NODE_INPUTS && n->in[k]; k++)
            if (n->in[k]->requires_grad)
                check_values(g, n->in[k]->grad, n->in[k]->size, "backward", n->op->name);
        release_grad(g, n->out);
    }
}

void mup_backward(mup_graph *g, mup_tensor *loss) {
    MUP_ASSERT(loss->size == 1, "mup_backward: the loss must have one element, it has %ld", loss->size);
    MUP_ASSERT(g->grad, "mup_backward: this graph records no tape (it was begun for evaluation)");
    if (!loss->requires_grad)
        return;
    mup_grad(g, loss)[0] += 1.0f;
    walk(g);
}

void mup_backward_seed(mup_graph *g, mup_tensor *out, const float *dout) {
    MUP_ASSERT(g->grad, "mup_backward_seed: this graph records no tape (it was begun for evaluation)");
    if (!out->requires_grad)
        return;
    float *gr = mup_grad(g, out);
    for (long i = 0; i < out->size; i++)
        gr[i] += dout[i];
    walk(g);
}

void mup_graph_set_tap(mup_graph *g, mup_tap_fn fn, void *ctx) {
    g->tap = fn;
    g->tap_ctx = ctx;
}

mup_tap_fn mup_graph_get_tap(const mup_graph *g, void **ctx) {
    *ctx = g->tap_ctx;
    return g->tap;
}

void mup_graph_tap(mup_graph *g, const char *layer, const mup_tensor *t) {
    g->layer = layer;
    if (g->tap)
        g->tap(layer, t, g->tap_ctx);
}

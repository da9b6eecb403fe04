/* Data-parallel training over MPI ranks (mup/dist.h). Built without MPI (no MUP_HAVE_MPI), a handle is
 * one rank and every collective returns at once.
 *
 * The sharded step (mup_dist_optim_step), when every rank shares one node's memory: rank r owns the
 * block r of the slab (whole chunks of MUP_NORM_CHUNK floats, so that the norm's partials are one
 * process's), and an MPI-3 shared window holds each rank's gradients and one copy of the values. Each
 * rank writes its gradients outside its block to its slab of the window; after a barrier it adds the
 * other ranks' gradients of its block to its own (in rank order, fused with the sum of squares of the
 * result), the ranks sum those squares (one double), it updates its block and writes the values there to
 * the window; after a second barrier it reads the other blocks' values back. Against an MPI_Allreduce of
 * the slab and the whole update on every rank, this moves the gradients once, through memory, and each
 * rank updates 1/size of the slab (docs/performance.md, "Data-parallel targets"). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/dist.h"

#ifdef MUP_HAVE_MPI
#include <mpi.h>
#endif

struct mup_dist {
    int rank, size;
#ifdef MUP_HAVE_MPI
    MPI_Comm comm;    /* our own duplicate: no message of ours can meet one of the caller's */
    bool one_node;    /* every rank can map this node's memory: the sharded step goes through it */
    MPI_Win win;      /* the sharded step's window, made at its first step; MPI_WIN_NULL before */
    long win_floats;  /* the slab length it was made for */
    float *shared;    /* size + 1 slabs of win_floats: each rank's gradients, then the values */
#endif
};

bool mup_dist_built_with_mpi(void) {
#ifdef MUP_HAVE_MPI
    return true;
#else
    return false;
#endif
}

#ifdef MUP_HAVE_MPI
static mup_status mpi_failed(int rc, const char *call) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return mup_error(MUP_ERR_MPI, "%s failed: %.*s", call, len, text);
}

static void free_window(mup_dist *d) {
    if (d->win == MPI_WIN_NULL)
        return;
    MPI_Win_unlock_all(d->win);
    MPI_Win_free(&d->win);
    d->shared = NULL;
}

/* The window for a slab of nf floats, made at the first sharded step (or for another model's slab):
 * allocated by the first rank in one piece, so every rank reaches every slab from one base. */
static mup_status window(mup_dist *d, long nf) {
    if (d->win != MPI_WIN_NULL && d->win_floats == nf)
        return MUP_OK;
    free_window(d);
    MPI_Aint bytes = d->rank == 0 ? (MPI_Aint)(d->size + 1) * nf * (MPI_Aint)sizeof(float) : 0;
    void *base;
    int rc = MPI_Win_allocate_shared(bytes, sizeof(float), MPI_INFO_NULL, d->comm, &base, &d->win);
    if (rc != MPI_SUCCESS) {
        d->win = MPI_WIN_NULL;
        return mpi_failed(rc, "MPI_Win_allocate_shared of the sharded step's slabs");
    }
    int unit;
    MPI_Win_shared_query(d->win, 0, &bytes, &unit, &base);
    /* one passive epoch for the window's life: the barriers with MPI_Win_sync order the loads and stores */
    MPI_Win_lock_all(MPI_MODE_NOCHECK, d->win);
    d->shared = base;
    d->win_floats = nf;
    return MUP_OK;
}

/* Every rank's stores to the window before it are seen by every rank's loads after it. */
static mup_status fence(mup_dist *d) {
    MPI_Win_sync(d->win);
    int rc = MPI_Barrier(d->comm);
    MPI_Win_sync(d->win);
    return rc == MPI_SUCCESS ? MUP_OK : mpi_failed(rc, "MPI_Barrier of the sharded step");
}
#endif

mup_status mup_dist_new(const void *comm, mup_dist **out) {
    *out = NULL;
#ifdef MUP_HAVE_MPI
    int up = 0;
    MPI_Initialized(&up);
    if (!up)
        return mup_error(MUP_ERR_STATE, "mup_dist_new: MPI is not initialised (call MPI_Init first)");
    mup_dist *d = mup_xcalloc(1, sizeof *d);
    int rc = MPI_Comm_dup(comm ? *(const MPI_Comm *)comm : MPI_COMM_WORLD, &d->comm);
    if (rc != MPI_SUCCESS) {
        free(d);
        return mpi_failed(rc, "MPI_Comm_dup");
    }
    MPI_Comm_rank(d->comm, &d->rank);
    MPI_Comm_size(d->comm, &d->size);
    MPI_Comm node;
    rc = MPI_Comm_split_type(d->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) {
        MPI_Comm_free(&d->comm);
        free(d);
        return mpi_failed(rc, "MPI_Comm_split_type");
    }
    int on_node;
    MPI_Comm_size(node, &on_node);
    MPI_Comm_free(&node);
    d->one_node = on_node == d->size;
    d->win = MPI_WIN_NULL;
#else
    if (comm)
        return mup_error(MUP_ERR_MPI, "mup_dist_new: this libmup was built without MPI, so it cannot use the "
                         "communicator given (rebuild with meson -Dmpi=enabled, or pass NULL for one rank)");
    mup_dist *d = mup_xcalloc(1, sizeof *d);
    d->size = 1;
#endif
    *out = d;
    return MUP_OK;
}

void mup_dist_free(mup_dist *d) {
    if (!d)
        return;
#ifdef MUP_HAVE_MPI
    free_window(d);
    MPI_Comm_free(&d->comm);
#endif
    free(d);
}

int mup_dist_rank(const mup_dist *d) { return d->rank; }
int mup_dist_size(const mup_dist *d) { return d->size; }

void mup_dist_share(const mup_dist *d, int global, int *lo, int *hi) {
    MUP_ASSERT(global > 0, "mup_dist_share: a global batch of %d rows", global);
    int base = global / d->size, extra = global % d->size;
    *lo = d->rank * base + (d->rank < extra ? d->rank : extra);
    *hi = *lo + base + (d->rank < extra);
}

double mup_dist_weight(const mup_dist *d, int global) {
    int lo, hi;
    mup_dist_share(d, global, &lo, &hi);
    return (double)(hi - lo) / global;
}

mup_status mup_dist_sum_grads(mup_dist *d, mup_model *M) {
#ifdef MUP_HAVE_MPI
    if (d->size == 1)
        return MUP_OK;
    float *grads = mup_model_grads(M);
    /* MPI counts are ints: a slab of more than 2^30 floats goes in pieces */
    for (long at = 0, n = mup_model_num_floats(M); at < n;) {
        int count = n - at > (1L << 30) ? 1 << 30 : (int)(n - at);
        int rc = MPI_Allreduce(MPI_IN_PLACE, grads + at, count, MPI_FLOAT, MPI_SUM, d->comm);
        if (rc != MPI_SUCCESS)
            return mpi_failed(rc, "MPI_Allreduce of the gradients");
        at += count;
    }
#else
    (void)d;
    (void)M;
#endif
    return MUP_OK;
}

mup_status mup_dist_backward(mup_dist *d, mup_model *M, mup_tensor *loss, int global) {
    /* one rank seeds with 1, exactly what mup_backward does: its gradients are a single process's bits */
    float w = (float)mup_dist_weight(d, global);
    if (loss)
        mup_backward_seed(mup_model_graph(M), loss, &w);
    return mup_dist_sum_grads(d, M);
}

#ifdef MUP_HAVE_MPI
/* Rank r's block of a slab of nf floats: [lo, hi), whole chunks but for the slab's last. */
static void block(const mup_dist *d, long nf, int r, long *lo, long *hi) {
    long chunks = (nf + MUP_NORM_CHUNK - 1) / MUP_NORM_CHUNK;
    *lo = chunks * r / d->size * MUP_NORM_CHUNK;
    *hi = chunks * (r + 1) / d->size * MUP_NORM_CHUNK;
    *lo = *lo < nf ? *lo : nf;
    *hi = *hi < nf ? *hi : nf;
}

static void copy(float *restrict to, const float *restrict from, long n) {
    MUP_PARALLEL_FOR(n, i, n, {
        to[i] = from[i];
    });
}

/* The slab's floats outside [lo, hi), from one slab to another. */
static void copy_outside(float *to, const float *from, long lo, long hi, long nf) {
    copy(to, from, lo);
    copy(to + hi, from + hi, nf - hi);
}

typedef struct {
    const mup_dist *d;
    float *mine;      /* this rank's gradients of its block */
    long lo;          /* where the block starts in the slab */
} sum_block;

/* mup_chunk_fill: the other ranks' gradients of a chunk of the block, added to this rank's in rank order. */
static void add_others(void *ctx, long start, long len) {
    const sum_block *c = ctx;
    const mup_dist *d = c->d;
    float *restrict out = c->mine + start;
    for (int r = 0; r < d->size; r++) {
        const float *restrict in = d->shared + r * d->win_floats + c->lo + start;
        if (r != d->rank)
            for (long i = 0; i < len; i++)
                out[i] += in[i];
    }
}

static mup_status sharded_step(mup_dist *d, mup_optim *opt) {
    mup_model *M = mup_optim_model(opt);
    long nf = mup_model_num_floats(M), lo, hi;
    mup_status s = window(d, nf);
    if (s != MUP_OK)
        return s;
    block(d, nf, d->rank, &lo, &hi);
    float *grads = mup_model_grads(M), *values = mup_model_values(M), *shared_values = d->shared + d->size * nf;
    copy_outside(d->shared + d->rank * nf, grads, lo, hi, nf);
    if ((s = fence(d)) != MUP_OK)
        return s;
    double squares = mup_sum_squares(grads + lo, hi - lo, add_others, &(sum_block){.d = d, .mine = grads + lo,
                                                                                    .lo = lo});
    int rc = MPI_Allreduce(MPI_IN_PLACE, &squares, 1, MPI_DOUBLE, MPI_SUM, d->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Allreduce of the gradient norm");
    mup_optim_step_span(opt, lo, hi, sqrt(squares));
    copy(shared_values + lo, values + lo, hi - lo);
    if ((s = fence(d)) != MUP_OK)
        return s;
    copy_outside(values, shared_values, lo, hi, nf);
    return MUP_OK;
}
#endif

mup_status mup_dist_optim_step(mup_dist *d, mup_optim *opt) {
#ifdef MUP_HAVE_MPI
    if (d->size > 1 && d->one_node)
        return sharded_step(d, opt);
    /* ranks on several nodes share no memory: the plain sum, then the whole update on every rank */
    mup_status s = mup_dist_sum_grads(d, mup_optim_model(opt));
    if (s != MUP_OK)
        return s;
#else
    (void)d;
#endif
    mup_optim_step(opt);
    return MUP_OK;
}

mup_status mup_dist_step(mup_dist *d, mup_optim *opt, mup_tensor *loss, int global) {
    float w = (float)mup_dist_weight(d, global);
    if (loss)
        mup_backward_seed(mup_model_graph(mup_optim_model(opt)), loss, &w);
    return mup_dist_optim_step(d, opt);
}

mup_status mup_dist_gather_state(mup_dist *d, mup_optim *opt) {
#ifdef MUP_HAVE_MPI
    if (d->size == 1)
        return MUP_OK;
    long nf = mup_model_num_floats(mup_optim_model(opt));
    for (int k = 0; k < mup_optim_num_state(opt); k++)
        for (int r = 0; r < d->size; r++) {
            long lo, hi;
            block(d, nf, r, &lo, &hi);
            MUP_ASSERT(r != d->rank || mup_optim_state_covers(opt, lo, hi), "mup_dist_gather_state: rank %d's "
                       "optimizer state is not current on its block [%ld, %ld): it was stepped on other ranks",
                       r, lo, hi);
            /* MPI counts are ints: a block of more than 2^30 floats goes in pieces */
            for (long at = lo; at < hi;) {
                int count = hi - at > (1L << 30) ? 1 << 30 : (int)(hi - at);
                int rc = MPI_Bcast(mup_optim_state(opt, k) + at, count, MPI_FLOAT, r, d->comm);
                if (rc != MPI_SUCCESS)
                    return mpi_failed(rc, "MPI_Bcast of the optimizer state");
                at += count;
            }
        }
    mup_optim_state_whole(opt);
#else
    (void)d;
    (void)opt;
#endif
    return MUP_OK;
}

double mup_dist_mean(mup_dist *d, double local, int global) {
    double v = mup_dist_weight(d, global) * local;
#ifdef MUP_HAVE_MPI
    if (d->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_SUM, d->comm);
#endif
    return v;
}

bool mup_dist_all(mup_dist *d, bool ok) {
    int v = ok;
#ifdef MUP_HAVE_MPI
    if (d->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MIN, d->comm);
#else
    (void)d;
#endif
    return v != 0;
}

void mup_dist_broadcast(mup_dist *d, double *v, int n) {
#ifdef MUP_HAVE_MPI
    if (d->size > 1)
        MPI_Bcast(v, n, MPI_DOUBLE, 0, d->comm);
#else
    (void)d;
    (void)v;
    (void)n;
#endif
}

mup_status mup_dist_same(mup_dist *d, const char *what, const char *text) {
    MUP_ASSERT(strlen(text) <= MUP_DIST_TEXT_MAX, "mup_dist_same: the %s text is %zu characters, more than %d",
               what, strlen(text), MUP_DIST_TEXT_MAX);
    if (d->size == 1)
        return MUP_OK;
    mup_status s = MUP_OK;
#ifdef MUP_HAVE_MPI
    enum { W = MUP_DIST_TEXT_MAX + 1 };
    char mine[W] = {0};
    memcpy(mine, text, strlen(text));
    char *all = mup_xmalloc((size_t)d->size * W);
    int rc = MPI_Allgather(mine, W, MPI_CHAR, all, W, MPI_CHAR, d->comm);
    if (rc != MPI_SUCCESS) {
        free(all);
        return mpi_failed(rc, "MPI_Allgather");
    }
    for (int r = 1; r < d->size && s == MUP_OK; r++)
        if (memcmp(all, all + (size_t)r * W, W) != 0)
            s = mup_error(MUP_ERR_INVALID, "rank %d's %s (%s) differs from rank 0's (%s): every rank must run the "
                          "same", r, what, all + (size_t)r * W, all);
    free(all);
#endif
    return s;
}

/* Data-parallel training over MPI ranks (mup/dist.h). Built without MPI (no MUP_HAVE_MPI), a handle is
 * one rank and every collective returns at once. */
#include <limits.h>
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

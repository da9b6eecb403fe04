/* Data-parallel training over MPI ranks (mup/dist.h). Built without MPI (no MUP_HAVE_MPI), a handle is
 * one rank and every collective returns at once.
 *
 * The sharded step (mup_dist_optim_step), when every rank shares one node's memory: rank r owns the
 * block r of the slab (whole chunks of MUP_NORM_CHUNK floats, so that the norm's partials are one
 * process's), and the model's slabs live in a mapping of the node's shared memory: each rank's gradient
 * slab, which the other ranks read, and one copy of the values for all. Backward writes each rank's
 * gradients where the others read them; after a barrier each rank adds the other ranks' gradients of its
 * block to its own (in rank order, fused with the sum of squares of the result), the ranks sum those
 * squares (one double), and it updates its block of the values in place; after a second barrier every
 * rank reads every block's new values. Against an MPI_Allreduce of the slab and the whole update on
 * every rank, this moves the gradients once, through memory, no value is copied, and each rank updates
 * 1/size of the slab (docs/performance.md, "Data-parallel targets"). The model owns the mapping (it
 * unmaps it when freed), so a model and a mup_dist can be freed in either order, without a collective. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "mup/dist.h"

#ifdef MUP_HAVE_MPI
#include <mpi.h>
#endif

struct mup_dist {
    int rank, size;
#ifdef MUP_HAVE_MPI
    MPI_Comm comm;      /* our own duplicate: no message of ours can meet one of the caller's */
    bool one_node;      /* every rank can map this node's memory: the sharded step goes through it */
    unsigned long key;  /* names the node mappings this handle made, in the models that own them */
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

/* Numbers this process's handles and node mappings: a model placed by a handle since freed is placed
 * again, never mistaken for a newer handle's. */
static atomic_ulong serial;

/* A barrier that orders memory: every rank's stores to the node's mapping before it are seen by every
 * rank's loads after it. The mapping is no MPI window, so MPI promises nothing about it: the fences keep
 * the compiler and the processor from moving our loads and stores across the collective. With least
 * non-NULL, it also hands back the least of the ranks' mine (an MPI_Allreduce costs what a barrier does). */
static mup_status fence(mup_dist *d, int mine, int *least) {
    atomic_thread_fence(memory_order_seq_cst);
    int rc = least ? MPI_Allreduce(&mine, least, 1, MPI_INT, MPI_MIN, d->comm) : MPI_Barrier(d->comm);
    atomic_thread_fence(memory_order_seq_cst);
    return rc == MPI_SUCCESS ? MUP_OK : mpi_failed(rc, "the sharded step's barrier");
}

/* bytes of the node's shared memory, mapped by every rank: the first makes it under a name that lives
 * until every rank has opened it, so that no way of ending (a rank killed included) leaves it behind
 * once the step runs. */
static mup_status node_map(mup_dist *d, size_t bytes, void **out) {
    struct {
        int err;
        char name[64];
    } made = {0};
    void *map = MAP_FAILED;
    if (d->rank == 0) {
        snprintf(made.name, sizeof made.name, "/libmup-%ld-%lu", (long)getpid(), atomic_fetch_add(&serial, 1) + 1);
        int fd = shm_open(made.name, O_RDWR | O_CREAT | O_EXCL, 0600);
        /* the pages reserved now: a full /dev/shm is an error here rather than a SIGBUS at the first touch */
        made.err = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)bytes);
        if (!made.err && (map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
            made.err = errno;
        if (fd >= 0)
            close(fd);
        if (fd >= 0 && made.err)
            shm_unlink(made.name);
    }
    int rc = MPI_Bcast(&made, sizeof made, MPI_BYTE, 0, d->comm);
    if (rc != MPI_SUCCESS)
        made.err = EIO;
    int err = made.err;
    if (d->rank != 0 && !err) {
        int fd = shm_open(made.name, O_RDWR, 0);
        if (fd < 0 || (map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
            err = errno;
        if (fd >= 0)
            close(fd);
    }
    int failed = err != 0, any = 1;
    rc = MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, d->comm);
    if (d->rank == 0 && !made.err)
        shm_unlink(made.name);
    if (rc == MPI_SUCCESS && !any) {
        *out = map;
        return MUP_OK;
    }
    if (map != MAP_FAILED)
        munmap(map, bytes);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Allreduce after mapping the sharded step's slabs");
    return mup_error(MUP_ERR_NOMEM, "the sharded step cannot share %zu bytes of the node's memory (%s, %s): %s",
                     bytes, made.name, d->rank == 0 || made.err ? "made by rank 0" : "opened by this rank",
                     err ? strerror(err) : "another rank could not map it (its message says why)");
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
    d->key = atomic_fetch_add(&serial, 1) + 1;
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

#ifdef MUP_HAVE_MPI
/* MPI counts are ints: a slab of more than 2^30 floats goes in pieces of this many of the left floats. */
static int piece(long left) { return left > (1L << 30) ? 1 << 30 : (int)left; }
#endif

mup_status mup_dist_sum_grads(mup_dist *d, mup_model *M) {
#ifdef MUP_HAVE_MPI
    if (d->size == 1)
        return MUP_OK;
    float *grads = mup_model_grads(M);
    for (long at = 0, n = mup_model_num_floats(M); at < n;) {
        int count = piece(n - at);
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

/* Backward of this rank's mean loss weighted by its share (no loss: a rank without rows adds nothing).
 * One rank seeds with 1, exactly what mup_backward does: its gradients are a single process's bits. */
static void backward_share(mup_dist *d, mup_model *M, mup_tensor *loss, int global) {
    float w = (float)mup_dist_weight(d, global);
    if (loss)
        mup_backward_seed(mup_model_graph(M), loss, &w);
}

mup_status mup_dist_backward(mup_dist *d, mup_model *M, mup_tensor *loss, int global) {
    backward_share(d, M, loss, global);
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

typedef struct {
    const mup_dist *d;
    const float *node;  /* the node's mapping: rank r's gradient slab at r * nf */
    long nf;
    float *mine;        /* this rank's gradients of its block */
    long lo;            /* where the block starts in the slab */
} sum_block;

/* mup_chunk_fill: the other ranks' gradients of a chunk of the block, added to this rank's in rank order. */
static void add_others(void *ctx, long start, long len) {
    const sum_block *c = ctx;
    const mup_dist *d = c->d;
    float *restrict out = c->mine + start;
    for (int r = 0; r < d->size; r++) {
        const float *restrict in = c->node + r * c->nf + c->lo + start;
        if (r != d->rank)
            for (long i = 0; i < len; i++)
                out[i] += in[i];
    }
}

/* Where a rank's slabs are, least placed first: the model's own (or in another handle's mapping), its
 * gradients in this handle's mapping but its own values (loaded, drawn, or stepped whole since), both. */
enum { SLABS_OWN, SLABS_GRADS, SLABS_PLACED };

/* Places M's slabs in the node's memory from where the least placed rank's are (least): a new mapping
 * when some rank's gradients are not in this handle's, each rank's gradients copied to its slab there;
 * then rank 0's values, which the ranks then share. The mapping's layout: the ranks' gradient slabs in
 * rank order, then the values'. */
static mup_status place(mup_dist *d, mup_model *M, int least, float *node) {
    long nf = mup_model_num_floats(M);
    size_t bytes = (size_t)(d->size + 1) * (size_t)(nf ? nf : 1) * sizeof(float);
    mup_status s;
    if (least == SLABS_OWN) {
        if ((s = node_map(d, bytes, (void **)&node)) != MUP_OK)
            return s;
        memcpy(node + d->rank * nf, mup_model_grads(M), (size_t)nf * sizeof(float));
    }
    float *values = node + d->size * nf;
    if (d->rank == 0 && mup_model_values(M) != values)
        memcpy(values, mup_model_values(M), (size_t)nf * sizeof(float));
    if ((s = fence(d, 0, NULL)) != MUP_OK) {
        if (least == SLABS_OWN)
            munmap(node, bytes);
        return s;
    }
    mup_model_place_slabs(M, node, bytes, d->key, values, node + d->rank * nf);
    return MUP_OK;
}

static mup_status sharded_step(mup_dist *d, mup_optim *opt) {
    mup_model *M = mup_optim_model(opt);
    long nf = mup_model_num_floats(M), lo, hi;
    block(d, nf, d->rank, &lo, &hi);
    unsigned long key;
    float *node = mup_model_slab_map(M, &key);
    int mine = !node || key != d->key ? SLABS_OWN
             : mup_model_values(M) != node + d->size * nf ? SLABS_GRADS : SLABS_PLACED, least;
    /* every rank's gradients are written */
    mup_status s = fence(d, mine, &least);
    if (s == MUP_OK && least != SLABS_PLACED && (s = place(d, M, least, node)) == MUP_OK)
        node = mup_model_slab_map(M, &key);
    if (s == MUP_ERR_NOMEM && least == SLABS_OWN) {
        /* every rank got the same answer from node_map, and the slabs are where they were: too small a
         * /dev/shm (a container's 64 MB) slows the step down, it does not stop the training */
        mup_log(MUP_LOG_WARN, "%s; the ranks sum their gradients with MPI_Allreduce instead", mup_error_message());
        d->one_node = false;
        return mup_dist_optim_step(d, opt);
    }
    if (s != MUP_OK)
        return s;
    float *grads = mup_model_grads(M);
    double squares = mup_sum_squares(grads + lo, hi - lo, add_others,
                                     &(sum_block){.d = d, .node = node, .nf = nf, .mine = grads + lo, .lo = lo});
    int rc = MPI_Allreduce(MPI_IN_PLACE, &squares, 1, MPI_DOUBLE, MPI_SUM, d->comm);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Allreduce of the gradient norm");
    mup_optim_step_span(opt, lo, hi, sqrt(squares));
    /* every block's new values are written, where every rank reads them */
    return fence(d, 0, NULL);
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
    backward_share(d, mup_optim_model(opt), loss, global);
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
            for (long at = lo; at < hi;) {
                int count = piece(hi - at);
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

#include "ranks.h"

#include <stdlib.h>

#include "mup/error.h"

#ifdef MUP_HAVE_MPI
#include <mpi.h>

/* Variables that MPI launchers (Open MPI's mpirun, MPICH's hydra, Slurm's srun with PMI or PMIx) set. */
static bool launched(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return true;
    return false;
}
#endif

bool mup_ranks_built_with_mpi(void) {
#ifdef MUP_HAVE_MPI
    return true;
#else
    return false;
#endif
}

void mup_ranks_start(mup_ranks *r, int *argc, char ***argv) {
    *r = (mup_ranks){.on = false, .rank = 0, .size = 1, .local_size = 1};
#ifdef MUP_HAVE_MPI
    if (!launched())
        return;
    MPI_Init(argc, argv);
    r->on = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &r->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &r->size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, r->rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &r->local_size);
    MPI_Comm_free(&node);
    /* it fails only where MPI itself does (its default handler then aborts every rank) */
    if (r->size > 1 && mup_dist_new(NULL, &r->dist) != MUP_OK)
        r->dist = NULL;
#else
    (void)argc;
    (void)argv;
#endif
}

bool mup_ranks_agree(const mup_ranks *r, bool ok) {
#ifdef MUP_HAVE_MPI
    if (r->on) {
        int mine = ok, all = 0;
        MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        return all != 0;
    }
#endif
    (void)r;
    return ok;
}

mup_status mup_ranks_same(const mup_ranks *r, bool ok, const char *fingerprint) {
    if (!r->dist)
        return MUP_OK;
    if (!mup_dist_all(r->dist, ok))
        return mup_error(MUP_ERR_INVALID, "a rank stopped before the sweep began (its message says why)");
    mup_status s = mup_dist_same(r->dist, "libmup version", MUP_VERSION);
    return s ? s : mup_dist_same(r->dist, "config (the fingerprint of its canonical JSON)", fingerprint);
}

void mup_ranks_finish(mup_ranks *r) {
    mup_dist_free(r->dist);
    r->dist = NULL;
#ifdef MUP_HAVE_MPI
    if (r->on)
        MPI_Finalize();
#endif
    r->on = false;
}

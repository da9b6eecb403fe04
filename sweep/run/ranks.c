#include "ranks.h"

#include <stdlib.h>

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

void mup_ranks_finish(mup_ranks *r) {
#ifdef MUP_HAVE_MPI
    if (r->on)
        MPI_Finalize();
#endif
    r->on = false;
}

#include "ranks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
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

/* "node1:2,node2:2": each node once, in the order of its first rank, with its number of ranks. */
static char *gather_hosts(int size) {
    char mine[MPI_MAX_PROCESSOR_NAME] = "";
    int len = 0;
    MPI_Get_processor_name(mine, &len);
    char *all = mup_tool_xcalloc((size_t)size, MPI_MAX_PROCESSOR_NAME);
    MPI_Allgather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD);
    size_t cap = (size_t)size * (MPI_MAX_PROCESSOR_NAME + 12) + 1, used = 0;
    char *hosts = mup_tool_xcalloc(cap, 1);
    for (int r = 0; r < size; r++) {
        const char *name = all + (size_t)r * MPI_MAX_PROCESSOR_NAME;
        int count = 0, first = r;
        for (int q = 0; q < size; q++)
            if (strncmp(name, all + (size_t)q * MPI_MAX_PROCESSOR_NAME, MPI_MAX_PROCESSOR_NAME) == 0) {
                count++;
                first = q < first ? q : first;
            }
        if (first == r)
            used += (size_t)snprintf(hosts + used, cap - used, "%s%.*s:%d", used ? "," : "", MPI_MAX_PROCESSOR_NAME,
                                     name, count);
    }
    free(all);
    return hosts;
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
    if (r->size > 1)
        r->hosts = gather_hosts(r->size);
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
        /* ranks wait here for one that trains on (a long proxy run, a launched target): asleep, not spinning in
         * MPI, so that the cores are the runs' */
        int mine = ok, all = 0, done = 0;
        MPI_Request req;
        MPI_Iallreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req);
        while (MPI_Test(&req, &done, MPI_STATUS_IGNORE), !done)
            nanosleep(&(struct timespec){0, 10000000L}, NULL);
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
    free(r->hosts);
    r->hosts = NULL;
#ifdef MUP_HAVE_MPI
    if (r->on)
        MPI_Finalize();
#endif
    r->on = false;
}

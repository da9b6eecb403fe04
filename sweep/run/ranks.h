/* MPI ranks, when mup-sweep is built with MPI and started by mpirun (or srun): every rank is one
 * worker on the same sweep directory, claiming proxy runs through the journal's locks like any other
 * worker; then all ranks train each target run together, data-parallel (mup/dist.h); rank 0 writes the
 * report once all ranks are done. Ranks that loaded different configs or libmup versions are refused
 * at start. A rank never aborts the others: a failed run
 * is a record, and a rank that cannot start says so and all ranks stop together at the next
 * agreement. Without MPI (or without a launcher) there is one rank and these calls do nothing. */
#ifndef MUP_SWEEP_RANKS_H
#define MUP_SWEEP_RANKS_H

#include <stdbool.h>

#include "mup/dist.h"

typedef struct {
    bool on;          /* MPI_Init was called */
    int rank, size;
    int local_size;   /* ranks on this node, which share its cores */
    mup_dist *dist;   /* all ranks, for the target's data-parallel training; NULL with one rank */
    char *hosts;      /* "node1:2,node2:2", the ranks' nodes (a launched program's {hosts}); NULL with one rank */
} mup_ranks;

/* Starts MPI when built with it and the environment shows a launcher; otherwise one rank. */
void mup_ranks_start(mup_ranks *r, int *argc, char ***argv);
/* Whether every rank passes ok (a collective call; waits for all ranks, asleep). */
bool mup_ranks_agree(const mup_ranks *r, bool ok);
/* Whether every rank started alike: each passes whether it got as far as a loaded config (ok) and the
 * config's fingerprint. MUP_ERR_INVALID when a rank stopped before (its own message says why) or when a
 * rank's libmup version or config differs from rank 0's, naming the rank and both values. Collective. */
mup_status mup_ranks_same(const mup_ranks *r, bool ok, const char *fingerprint);
void mup_ranks_finish(mup_ranks *r);
/* Whether this binary was built with MPI. */
bool mup_ranks_built_with_mpi(void);

#endif

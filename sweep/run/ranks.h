/* MPI ranks, when mup-sweep is built with MPI and started by mpirun (or srun): every rank is one
 * worker on the same sweep directory, claiming runs through the journal's locks like any other worker,
 * and rank 0 writes the report once all ranks are done. A rank never aborts the others: a failed run
 * is a record, and a rank that cannot start says so and all ranks stop together at the next
 * agreement. Without MPI (or without a launcher) there is one rank and these calls do nothing. */
#ifndef MUP_SWEEP_RANKS_H
#define MUP_SWEEP_RANKS_H

#include <stdbool.h>

typedef struct {
    bool on;          /* MPI_Init was called */
    int rank, size;
    int local_size;   /* ranks on this node, which share its cores */
} mup_ranks;

/* Starts MPI when built with it and the environment shows a launcher; otherwise one rank. */
void mup_ranks_start(mup_ranks *r, int *argc, char ***argv);
/* Whether every rank passes ok (a collective call; waits for all ranks). */
bool mup_ranks_agree(const mup_ranks *r, bool ok);
void mup_ranks_finish(mup_ranks *r);
/* Whether this binary was built with MPI. */
bool mup_ranks_built_with_mpi(void);

#endif

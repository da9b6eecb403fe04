/* A program that trains across MPI ranks (program.mpi): under mpirun, the sweep starts each target run
 * once through program.launcher (mpirun, srun, mpiexec) on all its ranks, and the launcher starts the
 * program's own job. The launcher must not take the sweep's place in the sweep's job, so the
 * variables by which the sweep's launcher told the sweep its place are not passed on. */
#ifndef MUP_SWEEP_LAUNCH_H
#define MUP_SWEEP_LAUNCH_H

#include <stdbool.h>

/* Whether an environment entry ("NAME=value") is one of those variables: Open MPI's (OMPI_COMM_WORLD_*,
 * its runtime's OMPI_MCA_orte_*, ess and pmix settings, and its job's OMPI_* facts), PMIx's (PMIX_*),
 * PMI's (PMI_*, as MPICH's hydra and Slurm's srun set them) and hydra's own. MCA parameters a user set
 * (OMPI_MCA_btl, ...) and Slurm's SLURM_* (which srun needs to find the allocation) pass. */
bool mup_launch_job_variable(const char *entry);

#endif

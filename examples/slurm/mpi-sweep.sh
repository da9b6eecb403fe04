#!/bin/sh
# sbatch mpi-sweep.sh CONFIG DIR: the whole sweep as one job of MPI tasks. Every task is a worker on the
# proxy runs; all of them train each target run together, data-parallel (a program's target through
# its launcher: "mpi": true, "launcher": ["srun", "--overlap", "--mpi=pmix", "-n", "{ranks}"]).
#SBATCH --job-name=mup-sweep-mpi --ntasks=8 --cpus-per-task=4 --time=04:00:00
exec srun --mpi=pmix "${MUP_SWEEP:-build/sweep/mup-sweep}" "$1" --out "$2" --threads "$SLURM_CPUS_PER_TASK"

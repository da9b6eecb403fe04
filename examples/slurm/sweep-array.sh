#!/bin/sh
# sbatch sweep-array.sh CONFIG DIR: each task of the array is a --worker on the sweep directory DIR,
# training proxy runs until none is left to claim. MUP_SWEEP: the mup-sweep to run.
#SBATCH --job-name=mup-sweep --array=0-15 --cpus-per-task=4 --time=02:00:00
exec "${MUP_SWEEP:-build/sweep/mup-sweep}" "$1" --out "$2" --worker --threads "$SLURM_CPUS_PER_TASK"

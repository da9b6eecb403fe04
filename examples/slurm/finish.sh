#!/bin/sh
# sbatch finish.sh CONFIG DIR: after the array, trains what is left (runs of tasks that were killed or
# timed out) and the target, and writes the report.
#SBATCH --job-name=mup-sweep-finish --cpus-per-task=16 --time=02:00:00
exec "${MUP_SWEEP:-build/sweep/mup-sweep}" "$1" --out "$2" --threads "$SLURM_CPUS_PER_TASK"

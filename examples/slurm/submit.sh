#!/bin/sh
# examples/slurm/submit.sh CONFIG DIR [SBATCH OPTION...]: checks the config, then submits the array of
# workers and the job that finishes the sweep once the array is over, however its tasks ended. The
# options go to both sbatch calls (--partition, --account, --cpus-per-task=...).
set -eu
[ $# -ge 2 ] || { echo "usage: submit.sh CONFIG DIR [SBATCH OPTION...]" >&2; exit 2; }
config=$1 dir=$2
shift 2
here=$(dirname "$0")
"${MUP_SWEEP:-build/sweep/mup-sweep}" "$config" --out "$dir" --dry-run >/dev/null
array=$(sbatch --parsable "$@" "$here/sweep-array.sh" "$config" "$dir")
finish=$(sbatch --parsable "$@" --dependency=afterany:"$array" "$here/finish.sh" "$config" "$dir")
echo "submit.sh: array job $array, then job $finish finishes the sweep in $dir"

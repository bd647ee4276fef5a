#!/bin/sh
# Fingerprint a model on a Slurm cluster: plan, one array task per unit,
# then the merge with afterok (kaieval-fingerprint(1)).
#   submit.sh MODEL_DIR PLAN OUT UNITS
# MODEL_DIR, PLAN and OUT must be on a file system every node sees.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 MODEL_DIR PLAN OUT UNITS" >&2; exit 2; }
model=$1 plan=$2 out=$3 units=$4
here=$(cd "$(dirname "$0")" && pwd)
"${KAIEVAL:-kaieval}" fingerprint plan "$model" -o "$plan" --units "$units"
array=$(sbatch --parsable --array=0-$((units - 1)) --export=ALL,PLAN="$plan" "$here/fingerprint-units.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" --export=ALL,PLAN="$plan",OUT="$out" \
	"$here/fingerprint-merge.sbatch")
echo "units: job $array (array 0-$((units - 1))); merge: job ${merge%%;*} after it"

#!/bin/sh
# Time `kaieval robustness` on the stage-1 round: the round evaluated once,
# then 10,000 joint replicates (experts, raters and benchmark runs
# resampled), 10,000 per source and 10,000 weight draws.  Run from a build tree:
#   sh bench/robustness/run.sh [REPLICATES]
# It prints the wall time of the whole command and of the round alone.
set -e
n=${1:-10000}
here=$(cd "$(dirname "$0")/../.." && pwd)
KAIEVAL_PLUGIN_PATH=${KAIEVAL_PLUGIN_PATH:-$here/.libs}
export KAIEVAL_PLUGIN_PATH
cfg=$here/conf/rounds/2026-01-stage1.cfg
now() { date +%s.%N; }
t0=$(now)
"$here/kaieval" run "$cfg" >/dev/null
t1=$(now)
"$here/kaieval" robustness "$cfg" --replicates "$n" >/dev/null
t2=$(now)
echo "round alone:          $(echo "$t1 - $t0" | bc) s"
echo "robustness, $n replicates: $(echo "$t2 - $t1" | bc) s"

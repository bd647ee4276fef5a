#!/bin/bash
# `kaieval fingerprint` against `cat` and a numpy scan of the same files, in
# one run, from the page cache (run by hand; not part of make check):
#   bench/forensics/compare.sh KAIEVAL MODEL_DIR [ROUNDS]
# KAIEVAL is the kaieval program of a build; MODEL_DIR a folder of
# .safetensors files (bench/forensics/gen_model makes one under /tmp).
# Prints, best of ROUNDS (default 5), seconds, GB/s and the ratio to `cat`
# for: cat, the fingerprint with one thread per CPU and with one thread, and
# the cluster run (plan into 4 units, the units one after another, merge;
# the merge is checked equal to the one-machine fingerprint); then the numpy
# scan (bench/forensics/numpy_scan.py, one round: it is slow; PYTHON names
# the interpreter, default /usr/bin/python3 with python3-numpy).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 KAIEVAL MODEL_DIR [ROUNDS]" >&2; exit 2; }
kaieval=$1 model=$2 rounds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d /tmp/fp-compare.XXXXXX)
trap 'rm -rf "$out"' EXIT
shards=("$model"/*.safetensors)
bytes=$(cat "${shards[@]}" | wc -c)

# "WALL CPU": the seconds of the fastest of rounds runs of "$@", and the CPU
# seconds (user + system) of that run: on a shared machine the wall clock
# suffers from other work, the CPU time much less.
best() {
	local b="" cpu="" w u s
	for _ in $(seq "$rounds"); do
		/usr/bin/time -f '%e %U %S' -o "$out/time" "$@" >/dev/null
		read -r w u s <"$out/time"
		if [ -z "$b" ] || [ "$(echo "$w < $b" | bc -l)" = 1 ]; then b=$w cpu=$(echo "$u + $s" | bc -l); fi
	done
	echo "$b $cpu"
}

cluster() {
	rm -rf "$out/c.plan" "$out/c.plan.parts"
	"$kaieval" fingerprint plan "$model" -o "$out/c.plan" --units 4
	for i in 0 1 2 3; do "$kaieval" fingerprint run "$out/c.plan" --unit "$i"; done
	"$kaieval" fingerprint merge "$out/c.plan" -o "$out/c.json"
}

# row LABEL "WALL CPU"
row() {
	local w=${2% *} c=${2#* }
	printf '%-34s %6.2f s %6.2f GB/s %5.2fx cat | %6.2f CPU-s %6.2f GB/CPU-s %5.2fx cat\n' "$1" "$w" \
		"$(echo "$bytes / $w / 10^9" | bc -l)" "$(echo "$w / ${cat_t% *}" | bc -l)" "$c" \
		"$(echo "$bytes / ($c + 0.001) / 10^9" | bc -l)" "$(echo "($c + 0.001) / (${cat_t#* } + 0.001)" | bc -l)"
}

cat "${shards[@]}" >/dev/null    # into the page cache
echo "$(echo "$bytes / 10^9" | bc -l | cut -c1-5) GB in ${#shards[@]} files, $(nproc) CPUs, best of $rounds"
cat_t=$(best cat "${shards[@]}")
row "cat" "$cat_t"
row "kaieval fingerprint (all CPUs)" "$(best "$kaieval" fingerprint "$model" -o "$out/one.json")"
row "kaieval fingerprint -j 1" "$(best "$kaieval" fingerprint "$model" -o "$out/one.json" -j 1)"
export -f cluster
export kaieval model out
row "plan + 4 units + merge (all CPUs)" "$(best bash -c cluster)"
cmp "$out/one.json" "$out/c.json" && echo "the cluster run's merge equals the one-machine fingerprint"
"${PYTHON:-/usr/bin/python3}" "$here/numpy_scan.py" "$model" 1

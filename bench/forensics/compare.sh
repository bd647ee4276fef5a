#!/bin/bash
# `kaieval fingerprint` against `cat` and a numpy scan of the same files, in
# one run, from the page cache (run by hand; not part of make check):
#   bench/forensics/compare.sh KAIEVAL MODEL_DIR [ROUNDS]
# KAIEVAL is the kaieval program of a build; MODEL_DIR a folder of
# .safetensors files (bench/forensics/gen_model makes one under /tmp).
# Prints, best of ROUNDS (default 5), seconds, GB/s and the ratio to `cat`
# for: cat, the fingerprint with one thread per CPU and with one thread, and
# the cluster run (plan into 4 units, the units one after another, merge;
# the merge is checked equal to the one-machine fingerprint), with the
# median beside the best; the opt-in --invariants pass (best of INV_ROUNDS,
# default 1: it is slow) and its cost per 10^9 parameters; then the numpy
# scan (bench/forensics/numpy_scan.py, one round: it is slow; PYTHON names
# the interpreter, default /usr/bin/python3 with python3-numpy).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 KAIEVAL MODEL_DIR [ROUNDS]" >&2; exit 2; }
kaieval=$1 model=$2 rounds=${3:-5} inv_rounds=${INV_ROUNDS:-1}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d /tmp/fp-compare.XXXXXX)
trap 'rm -rf "$out"' EXIT
shards=("$model"/*.safetensors)
bytes=$(cat "${shards[@]}" | wc -c)

# "WALL CPU MEDIAN": the seconds of the fastest of rounds runs of "$@", the
# CPU seconds (user + system) of that run, and the median wall seconds: on a
# shared machine the wall clock suffers from other work, the CPU time much
# less.
best() {
	local b="" cpu="" w u s all=()
	for _ in $(seq "$rounds"); do
		/usr/bin/time -f '%e %U %S' -o "$out/time" "$@" >/dev/null
		read -r w u s <"$out/time"
		all+=("$w")
		if [ -z "$b" ] || [ "$(echo "$w < $b" | bc -l)" = 1 ]; then b=$w cpu=$(echo "$u + $s" | bc -l); fi
	done
	echo "$b $cpu $(printf '%s\n' "${all[@]}" | sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
}

cluster() {
	rm -rf "$out/c.plan" "$out/c.plan.parts"
	"$kaieval" fingerprint plan "$model" -o "$out/c.plan" --units 4
	for i in 0 1 2 3; do "$kaieval" fingerprint run "$out/c.plan" --unit "$i"; done
	"$kaieval" fingerprint merge "$out/c.plan" -o "$out/c.json"
}

# row LABEL "WALL CPU MEDIAN"
row() {
	local w c m
	read -r w c m <<<"$2"
	printf '%-34s %6.2f s (median %6.2f) %6.2f GB/s %5.2fx cat | %6.2f CPU-s %6.2f GB/CPU-s %5.2fx cat\n' \
		"$1" "$w" "$m" "$(echo "$bytes / $w / 10^9" | bc -l)" "$(echo "$w / ${cat_t%% *}" | bc -l)" "$c" \
		"$(echo "$bytes / ($c + 0.001) / 10^9" | bc -l)" "$(echo "($c + 0.001) / ($(echo "$cat_t" | cut -d' ' -f2) + 0.001)" | bc -l)"
}

cat "${shards[@]}" >/dev/null    # into the page cache
echo "$(echo "$bytes / 10^9" | bc -l | cut -c1-5) GB in ${#shards[@]} files, $(nproc) CPUs, best of $rounds; load: $(uptime)"
cat_t=$(best cat "${shards[@]}")
row "cat" "$cat_t"
row "kaieval fingerprint (all CPUs)" "$(best "$kaieval" fingerprint "$model" -o "$out/one.json")"
row "kaieval fingerprint -j 1" "$(best "$kaieval" fingerprint "$model" -o "$out/one.json" -j 1)"
export -f cluster
export kaieval model out
row "plan + 4 units + merge (all CPUs)" "$(best bash -c cluster)"
cmp "$out/one.json" "$out/c.json" && echo "the cluster run's merge equals the one-machine fingerprint"
# The opt-in invariants pass (kaieval-fingerprint(1), INVARIANTS): the scan,
# then about 32 multiply-adds per parameter of the layers' matrices, on all
# CPUs; its CPU seconds per 10^9 parameters (BF16: bytes / 2).
inv=$(rounds=$inv_rounds best "$kaieval" fingerprint "$model" -o "$out/inv.json" --invariants)
row "fingerprint --invariants (opt-in)" "$inv"
echo "$inv" | awk -v p="$bytes" '{printf "  --invariants: %.1f s wall, %.1f CPU-s per 10^9 parameters (%.2f G parameters)\n", $1 / (p / 2e9), $2 / (p / 2e9), p / 2e9}'
"${PYTHON:-/usr/bin/python3}" "$here/numpy_scan.py" "$model" 1

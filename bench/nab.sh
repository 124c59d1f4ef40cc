#!/bin/sh
# Anomaly detection on the Numenta Anomaly Benchmark development set: runs
# `ksight detect` at its default threshold on every series under
# $NAB_DIR/data (default bench/nab, a copy of NAB's files, MIT licence in
# bench/nab/LICENSE.txt), scores the output with NAB's standard profile
# (bench/nab/score.py, plain python3), and prints the score beside the
# published detectors listed in $NAB_DIR/README.md, then the CPU cost per
# sample: the detector alone in process (.output/bench/nab, best of 5
# passes) beside a plain rolling z-score, and `ksight detect` end to end
# (user+sys of all the runs, CSV parsing and printing included).
#
#   sh bench/nab.sh                      (or: make bench BENCH=nab)
#   NAB_DIR=/path/to/NAB sh bench/nab.sh  any tree with data/, windows.json,
#                                         score.py and README.md
#   THRESHOLD=0.4 sh bench/nab.sh         ksight detect --threshold 0.4
set -eu
cd "$(dirname "$0")/.."
NAB_DIR=${NAB_DIR:-bench/nab}
THRESHOLD=${THRESHOLD:-0.5}
KSIGHT=${KSIGHT:-$PWD/ksight}
BENCH_BIN=${BENCH_BIN:-$PWD/.output/bench}
OUT=$(mktemp -d /tmp/ksight-nab.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

for f in "$KSIGHT" "$BENCH_BIN/nab"; do
	[ -x "$f" ] || { echo "bench/nab.sh: $f is missing; run 'make ksight .output/bench/nab'" >&2; exit 1; }
done
[ -d "$NAB_DIR/data" ] || { echo "bench/nab.sh: no $NAB_DIR/data (set NAB_DIR)" >&2; exit 1; }

# Seconds of user+sys CPU used by the finished children of this shell, from
# the second line of POSIX `times` ("0m1.230000s 0m0.040000s"), which must
# run in this shell: not in $(...), a subshell with no children yet.
child_cpu() {
	sed -n 2p "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%.6f\n", t }'
}

files=$(cd "$NAB_DIR/data" && find . -name '*.csv' | sed 's|^\./||' | sort)
times > "$OUT/times.before"
for rel in $files; do
	mkdir -p "$OUT/$(dirname "$rel")"
	"$KSIGHT" detect --threshold "$THRESHOLD" "$NAB_DIR/data/$rel" > "$OUT/$rel"
done
times > "$OUT/times.after"
before=$(child_cpu "$OUT/times.before")
after=$(child_cpu "$OUT/times.after")

python3 "$NAB_DIR/score.py" "$NAB_DIR/windows.json" "$OUT" > "$OUT/score.txt"
score=$(sed -n 's/^NAB standard score //p' "$OUT/score.txt")
detections=$(awk '$4 == "windows" { w += $5; d += $7 } END { print d " detections, " w " labelled windows" }' "$OUT/score.txt")
set -- $("$BENCH_BIN/nab" $(for rel in $files; do echo "$NAB_DIR/data/$rel"; done) 2>/dev/null)
samples=$1 det_ns=$2 z_ns=$3
e2e_ns=$(awk -v a="$before" -v b="$after" -v n="$samples" 'BEGIN { printf "%.0f", (b - a) * 1e9 / n }')
nfiles=$(echo "$files" | wc -l)

echo "## Anomaly detection: NAB"
echo
echo "$nfiles series, $samples samples from $NAB_DIR; ksight detect --threshold $THRESHOLD (0.5 is the default): $detections."
echo "Standard profile (NAB's scorer: null detector 0, perfect 100)."
echo
echo "| detector | NAB score |"
echo "|---|---|"
{
	echo "$score|**KernelSight \`ksight detect\`**|**$score**"
	awk -F'|' '/^\| detector \| score \|/ { on = 1; next } on && /^\|[^-]/ { gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3); print $3 "|" $2 "|" $3; next } on && !/^\|/ { on = 0 }' "$NAB_DIR/README.md"
} | sort -t'|' -k1,1 -g -r | awk -F'|' '{ print "| " $2 " | " $3 " |" }'
echo
echo "| CPU per sample | ns |"
echo "|---|---|"
echo "| detector (anomaly__update, in process, best of 5) | $det_ns |"
echo "| rolling z-score over the same samples (the floor) | $z_ns |"
echo "| \`ksight detect\` end to end (user+sys, parse + score + print) | $e2e_ns |"

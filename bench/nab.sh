#!/bin/sh
# Anomaly detection on the Numenta Anomaly Benchmark development set (the 51
# series of $NAB_DIR, default bench/nab: a copy of shared/nab, MIT licence in
# bench/nab/LICENSE.txt; the benchmark never reads any other NAB series).
#
#   1. `ksight detect` at its defaults on every series, scored with NAB's
#      standard profile by $NAB_DIR/score.py (plain python3): all 51, the
#      28 the detector was first tuned on (artificial + AWS) and the 23 it
#      had never seen, beside the published detectors of $NAB_DIR/README.md.
#   2. .output/bench/nab: the leave-one-group-out estimate (every constant
#      chosen on four groups by a grid search that runs here, the fifth
#      scored, for each of the five), the scores of both operating points
#      by group, and the cost per sample and per metric.  Its scorer is a C
#      copy of score.py; the two must agree on the defaults' all-51 score,
#      and the bench says so.
#   3. `ksight detect` end to end: user+sys CPU per sample of all the runs
#      (CSV parsing and printing included).
#
#   sh bench/nab.sh                      (or: make bench BENCH=nab; ~2 min on 2 cores)
#   NAB_DIR=../shared/nab sh bench/nab.sh  any tree with data/, windows.json,
#                                          score.py and README.md
#   THRESHOLD=0.4 sh bench/nab.sh         part 1 with ksight detect --threshold 0.4
set -eu
cd "$(dirname "$0")/.."
NAB_DIR=${NAB_DIR:-bench/nab}
THRESHOLD=${THRESHOLD:-}
KSIGHT=${KSIGHT:-$PWD/ksight}
BENCH_BIN=${BENCH_BIN:-$PWD/.output/bench}
OUT=$(mktemp -d /tmp/ksight-nab.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

for f in "$KSIGHT" "$BENCH_BIN/nab"; do
	[ -x "$f" ] || { echo "bench/nab.sh: $f is missing; run 'make ksight .output/bench/nab'" >&2; exit 1; }
done
for f in data windows.json score.py README.md; do
	[ -e "$NAB_DIR/$f" ] || { echo "bench/nab.sh: no $NAB_DIR/$f; set NAB_DIR to a copy of shared/nab (e.g. NAB_DIR=../shared/nab)" >&2; exit 1; }
done

# Seconds of user+sys CPU used by the finished children of this shell, from
# the second line of POSIX `times` ("0m1.230000s 0m0.040000s"), which must
# run in this shell: not in $(...), a subshell with no children yet.
child_cpu() {
	sed -n 2p "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%.6f\n", t }'
}

# windows.json restricted to the files whose path matches a regex.
windows_of() {
	python3 -c 'import json, re, sys
w = json.load(open(sys.argv[1]))
print(json.dumps({k: v for k, v in w.items() if re.match(sys.argv[2], k)}))' "$NAB_DIR/windows.json" "$1"
}

score_of() {
	python3 "$NAB_DIR/score.py" "$1" "$OUT/detect" | sed -n 's/^NAB standard score //p'
}

files=$(cd "$NAB_DIR/data" && find . -name '*.csv' | sed 's|^\./||' | sort)
times > "$OUT/times.before"
for rel in $files; do
	mkdir -p "$OUT/detect/$(dirname "$rel")"
	"$KSIGHT" detect ${THRESHOLD:+--threshold "$THRESHOLD"} "$NAB_DIR/data/$rel" > "$OUT/detect/$rel"
done
times > "$OUT/times.after"
before=$(child_cpu "$OUT/times.before")
after=$(child_cpu "$OUT/times.after")
samples=$(cd "$NAB_DIR/data" && awk 'FNR > 1 { n++ } END { print n }' $files)
nfiles=$(echo "$files" | wc -l)

windows_of '.' > "$OUT/all.json"
windows_of '(artificial|realAWSCloudwatch)' > "$OUT/first.json"
windows_of '(realAdExchange|realTraffic|realTweets)' > "$OUT/last.json"
python3 "$NAB_DIR/score.py" "$OUT/all.json" "$OUT/detect" > "$OUT/score.txt"
all=$(sed -n 's/^NAB standard score //p' "$OUT/score.txt")
first=$(score_of "$OUT/first.json")
last=$(score_of "$OUT/last.json")
detections=$(awk '$4 == "windows" { w += $5; d += $7 } END { print d " detections, " w " labelled windows" }' "$OUT/score.txt")
e2e_ns=$(awk -v a="$before" -v b="$after" -v n="$samples" 'BEGIN { printf "%.0f", (b - a) * 1e9 / n }')

echo "## Anomaly detection: NAB"
echo
echo "$nfiles series, $samples samples from $NAB_DIR; \`ksight detect\`${THRESHOLD:+ --threshold $THRESHOLD} at its defaults: $detections."
echo "NAB's standard profile, scored by score.py (no detection 0, perfect 100)."
echo
echo "| detector | all 51 | first 28 (artificial + AWS) | last 23 (AdExchange + Traffic + Tweets) |"
echo "|---|---|---|---|"
{
	echo "$all|**KernelSight \`ksight detect\`**|**$all**|$first|$last"
	awk -F'|' '/^\| detector \| all 51/ { on = 1; next }
		on && /^\|[^-]/ { for (i = 2; i <= 5; i++) gsub(/^ +| +$/, "", $i); print $3 "|" $2 "|" $3 "|" $4 "|" $5; next }
		on && !/^\|/ { on = 0 }' "$NAB_DIR/README.md"
} | sort -t'|' -k1,1 -g -r | awk -F'|' '{ print "| " $2 " | " $3 " | " $4 " | " $5 " |" }'
echo
"$BENCH_BIN/nab" "$NAB_DIR" 2>/dev/null > "$OUT/inproc.md"
cat "$OUT/inproc.md"
inproc=$(sed -n 's/^| \*\*`ksight detect` defaults\*\*.*| \*\*\([0-9.]*\)\*\* |$/\1/p' "$OUT/inproc.md")
echo "| CPU per sample, \`ksight detect\` end to end (user+sys: parse, score, print) | $e2e_ns ns | |"
echo
if [ -n "$THRESHOLD" ]; then
	:
elif [ "$inproc" = "$all" ]; then
	echo "The in-process scorer agrees with score.py on the defaults: $all on all $nfiles."
else
	echo "**The in-process scorer disagrees with score.py on the defaults: $inproc against $all.**"
fi

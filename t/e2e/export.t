#!/bin/sh
# ksight export --features end to end on a synthetic capture: CSV (header,
# one row per metric and tick, rolling features equal to what the data
# says, baselines in FILE.baselines.json), Parquet read by DuckDB (same
# rows and values, types, the baselines in the file's key/value
# metadata), JSON, and errors.
. "$(dirname "$0")/../lib/tap.sh"
plan 18

DB=$TMP/syn.db
sh "$TOP/t/lib/synthdb.sh" "$DB" 900 600
"$KSIGHT" baseline learn --db "$DB" --last 5m > /dev/null
"$KSIGHT" export --features --db "$DB" --out "$TMP/f.csv" 2> "$TMP/err"
is "$?" 0 "export --features to CSV exits 0"
is "$(head -1 "$TMP/f.csv")" "timestamp,metric,unit,value,mean_60,median_60,mad_60,p05_60,p95_60,mean_300,median_300,mad_300,p05_300,p95_300,mean_900,median_900,mad_900,p05_900,p95_900,baseline_median,baseline_mad,usual,robust_z" \
   "the CSV header"
is "$(grep -c ',load.load1,' "$TMP/f.csv")" 900 "one row per tick for load.load1"
is "$(grep -c ',cpu.busy_pct,' "$TMP/f.csv")" 899 "cpu.busy_pct starts a tick later, as cpu_metrics does"
# The 60-sample mean of load.load1 at the last tick equals the mean of its last 60 values.
want=$(grep ',load.load1,' "$TMP/f.csv" | tail -60 | awk -F, '{ s += $4 } END { printf "%.6f", s / 60 }')
got=$(grep ',load.load1,' "$TMP/f.csv" | tail -1 | awk -F, '{ printf "%.6f", $5 }')
is "$got" "$want" "mean_60 is the mean of the last 60 values"
like "$(cat "$TMP/err")" "rows of [0-9]+ metrics over 900 ticks" "it says what it wrote"
python3 -c "import json; m = json.load(open('$TMP/f.csv.baselines.json'))
b = m['baselines']['io.read_p95_us{device=vda}']
assert b['source'] == 'learn' and 295 <= b['samples'] <= 301, b
assert m['windows'] == [60, 300, 900]" 2> "$TMP/perr"
is "$?" 0 "the baselines sit beside it, the learnt ones from the last 5 minutes $(cat "$TMP/perr")"
z=$(grep ',io.read_p95_us{device=vda},' "$TMP/f.csv" | awk -F, '$1 > 0 { z = $NF } NR == 601 { print z }')
ok "during the generated incident robust_z of vda's read p95 is far out ($z)" awk "BEGIN { exit !($z > 50) }"

"$KSIGHT" export --features --db "$DB" --format parquet --out "$TMP/f.parquet" 2> /dev/null
is "$?" 0 "Parquet: exit 0"
out=$(node "$TOP/t/lib/duckdb.mjs" --csv \
	"select count(*), count(distinct metric), round(avg(value) filter (where metric = 'load.load1'), 6) from '$TMP/f.parquet'")
want=$(awk -F, 'NR > 1 { n++; m[$2] = 1 } $2 == "load.load1" { s += $4; k++ } END { printf "%d,%d,%.6f", n, length(m), s / k }' "$TMP/f.csv")
# DuckDB prints the rounded mean without trailing zeros (0.85012): compare it formatted as the CSV side is
is "$(echo "$out" | sed -n 2p | awk -F, '{ printf "%d,%d,%.6f", $1, $2, $3 }')" "$want" "DuckDB reads the same rows, metrics and values as the CSV"
types=$(node "$TOP/t/lib/duckdb.mjs" --csv "select column_name, column_type from (describe select * from '$TMP/f.parquet') where column_name in ('timestamp', 'metric', 'robust_z')" | sed 1d | tr '\n' ' ')
is "$types" "timestamp,TIMESTAMP_NS metric,VARCHAR robust_z,DOUBLE " "column types: timestamp, text, double"
node "$TOP/t/lib/duckdb.mjs" --csv "select decode(value) from parquet_kv_metadata('$TMP/f.parquet') where decode(key) = 'ksight.baselines'" > "$TMP/meta"
ok "the baselines are in the file's key/value metadata" \
   grep -q '""io.read_p95_us{device=vda}"":{""source"":""learn""' "$TMP/meta"

"$KSIGHT" export --features --db "$DB" --format json --last 2m > "$TMP/f.json"
n=$(python3 -c "import json; d = json.load(open('$TMP/f.json')); print(len([r for r in d['features'] if r['metric'] == 'load.load1']), 'baselines' in d['metadata'])")
is "$n" "121 True" "JSON: --last 2m gives 121 ticks, with the metadata"
is "$(python3 -c "import json; print(json.load(open('$TMP/f.json'))['metadata']['tier'])")" raw \
   "the metadata names the tier read: raw rows (retention has pruned none; t/unit/retention.c reads rollups)"

"$KSIGHT" export --db "$DB" 2> "$TMP/err"; is "$?" 2 "without --features: exit 2"
"$KSIGHT" export --features --db "$DB" --format parquet 2> "$TMP/err"; rc=$?
like "$rc $(cat "$TMP/err")" "^2 .*parquet needs --out" "Parquet to stdout: exit 2, says why"
"$KSIGHT" export --features --db "$DB" --format xml 2> "$TMP/err"; is "$?" 2 "an unknown format: exit 2"
"$KSIGHT" export --features --db "$DB" --out /nonexistent/dir/f.csv 2> "$TMP/err"; rc=$?
like "$rc $(cat "$TMP/err")" "^1 .*cannot write /nonexistent" "an unwritable file: exit 1"
done_testing

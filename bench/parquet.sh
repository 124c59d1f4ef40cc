#!/bin/sh
# Parquet writing: ksight's own writer (src/store/parquet.c) against DuckDB's
# COPY ... (FORMAT parquet, COMPRESSION zstd) on the same 1,000,000
# `ksight run` process rows.  Prints rows/s and file size, and the size of
# every column next to DuckDB's.  Targets (issue 4): >= 1,000,000 rows/s and
# a file within 1.5x of DuckDB's.
#
# DuckDB reads TIMESTAMP(NANOS, UTC) at microsecond precision, so it is fed
# a copy written with isAdjustedToUTC=false (same bytes, read exactly), and
# the bench checks that DuckDB's file holds exactly the same rows.
set -eu
cd "$(dirname "$0")/.."
BIN=${BENCH_BIN:-$PWD/.output/bench}/parquet
ROWS=${PARQUET_ROWS:-1000000}

if [ ! -x "$BIN" ]; then
	echo "bench/parquet: $BIN is missing: run 'make bench'" >&2
	exit 1
fi
if [ ! -d node_modules/@duckdb/node-api ]; then
	echo "bench/parquet: DuckDB (npm @duckdb/node-api) is missing: run 'make deps'" >&2
	exit 1
fi
tmp=$(mktemp -d /tmp/ksight-bench-parquet.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ours=$tmp/ksight.parquet same=$tmp/same.parquet duck=$tmp/duckdb.parquet

"$BIN" -n "$ROWS" -r 3 -l "$same" "$ours" >"$tmp/runs"

# Output, one CSV result after another: CREATE (2 lines), COPY (2), the
# row checksums of both files (2), the version (2), then per-column sizes.
node t/lib/duckdb.mjs --csv --time \
	"CREATE TABLE t AS FROM '$same'" \
	"COPY t TO '$duck' (FORMAT parquet, COMPRESSION zstd)" \
	"SELECT (SELECT sum(hash(a)::HUGEINT) FROM '$same' a) = (SELECT sum(hash(b)::HUGEINT) FROM '$duck' b)" \
	"SELECT version()" \
	"WITH k AS (SELECT column_id, path_in_schema AS col, sum(total_compressed_size) AS bytes,
			   string_agg(DISTINCT encodings, '; ') AS enc
		    FROM parquet_metadata('$ours') GROUP BY ALL),
	      d AS (SELECT path_in_schema AS col, sum(total_compressed_size) AS bytes,
			   string_agg(DISTINCT encodings, '; ') AS enc
		    FROM parquet_metadata('$duck') GROUP BY ALL)
	 SELECT '| ' || k.col || ' | ' || k.bytes || ' | ' || k.enc || ' | ' || d.bytes || ' | ' || d.enc
		|| ' | ' || printf('%.2f', k.bytes / d.bytes) || 'x |'
	 FROM k JOIN d USING (col) ORDER BY k.column_id" \
	>"$tmp/duckdb.csv" 2>"$tmp/times"
same_rows=$(sed -n 6p "$tmp/duckdb.csv")
version=$(sed -n 8p "$tmp/duckdb.csv")
duck_ms=$(sed -n 2p "$tmp/times" | awk '{ print $2 }')
duck_bytes=$(stat -c %s "$duck")

# the median of the three runs
set -- $(sed 's/[a-z_]*=//g' "$tmp/runs" | sort -k2 -n | sed -n 2p)
ours_s=$2 ours_bytes=$4

echo "## Parquet writer (bench/parquet.sh)"
echo
echo "$ROWS \`ksight run\` process rows: 15 columns (3 strings, 2 TIMESTAMP(NANOS), 10 INT64;"
echo "2 optional), zstd level 3 on both sides.  ksight: one thread, open to close with fsync,"
echo "median of 3 runs.  DuckDB $version: COPY of the same rows from an in-memory table,"
echo "$(nproc) threads.  DuckDB's file holds the same rows: $same_rows."
echo
echo "| writer | rows/s | seconds | file bytes | bytes/row | size vs DuckDB |"
echo "|---|---:|---:|---:|---:|---:|"
awk -v rows="$ROWS" -v s="$ours_s" -v b="$ours_bytes" -v d="$duck_bytes" -v ms="$duck_ms" 'BEGIN {
	printf "| ksight parquet_writer | %.0f | %.3f | %d | %.1f | %.2fx |\n", rows / s, s, b, b / rows, b / d
	printf "| DuckDB COPY | %.0f | %.3f | %d | %.1f | 1.00x |\n", rows / (ms / 1000), ms / 1000, d, d / rows
}'
echo
echo "Compressed bytes per column:"
echo
echo "| column | ksight | ksight encodings | DuckDB | DuckDB encodings | ratio |"
echo "|---|---:|---|---:|---|---:|"
sed -n '10,$p' "$tmp/duckdb.csv" | sed 's/^"//; s/"$//'

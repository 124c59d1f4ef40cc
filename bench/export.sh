#!/bin/sh
# ksight export --table: rows/s from SQLite to Hive-partitioned Parquet, and
# the files' size against DuckDB's own COPY ... TO (FORMAT parquet,
# COMPRESSION zstd) of the same rows (read back from ksight's files, so
# both write exactly the same values).  The rows: EXPORT_ROWS process
# events (exec and exit pairs with command lines, cgroups and counters)
# over 7 days, as `ksight agent` stores them.  Median of 3 runs.
. "$(dirname "$0")/lib.sh"
ROWS=${EXPORT_ROWS:-2000000}
DAY=86400000000000
DB=$BTMP/x.db

sh "$TOP/t/lib/synthdb.sh" "$DB" 60 30 > /dev/null
now=$(($(date +%s) * 1000000000))
sqlite3 "$DB" "delete from process_events;
 with recursive k(i) as (select 0 union all select i + 1 from k where i < $ROWS - 1)
 insert into process_events (timestamp, event, pid, ppid, uid, comm, filename, argv, exit_code, signal, duration_ns,
                             cpu_user_ns, cpu_system_ns, peak_rss_bytes, minor_faults, major_faults, cgroup_id, cgroup)
 select $now - 7 * $DAY + i * (7 * $DAY / $ROWS), case i % 2 when 0 then 'exec' else 'exit' end,
        10000 + i / 2, 1000 + (i / 200) % 50, (i / 1000) % 3,
        substr('cc1 as  ld  sh  make', 1 + ((i / 2) % 5) * 4, 4),
        case i % 2 when 0 then '/usr/bin/tool' || (i / 2) % 17 end,
        case i % 2 when 0 then 'tool' || (i / 2) % 17 || ' -O2 -c src/file' || (i / 2) % 997 || '.c -o out/' || (i / 2) % 997 || '.o' end,
        case i % 2 when 1 then (i / 2) % 7 = 0 end, case i % 2 when 1 then 0 end,
        case i % 2 when 1 then 1000000 + (i * 7919) % 90000000 end,
        case i % 2 when 1 then (i * 104729) % 50000000 end, case i % 2 when 1 then (i * 1299709) % 9000000 end,
        case i % 2 when 1 then 4096 * (300 + (i * 31) % 20000) end, case i % 2 when 1 then 76 + i % 400 end,
        case i % 2 when 1 then 0 end, 2000 + (i / 5000) % 40, '/system.slice/build-' || (i / 5000) % 40 || '.service'
 from k"

for r in 1 2 3; do
	rm -rf "$BTMP/lake"
	t0=$(date +%s%N)
	"$KSIGHT" -q export --db "$DB" --table process_events --out "$BTMP/lake" --host benchhost 2> /dev/null
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
done > "$BTMP/ms"
ms=$(median < "$BTMP/ms")
ours=$(du -cb "$BTMP"/lake/table=process_events/host=benchhost/*/*.parquet | tail -1 | cut -f1)
files=$(ls "$BTMP"/lake/table=process_events/host=benchhost/*/*.parquet | wc -l)
node "$TOP/t/lib/duckdb.mjs" --csv --time \
	"CREATE TABLE t AS SELECT * EXCLUDE (host, boot_id) FROM read_parquet('$BTMP/lake/table=process_events/*/*/*.parquet')" \
	"COPY t TO '$BTMP/duck.parquet' (FORMAT parquet, COMPRESSION zstd)" \
	"SELECT count(*) FROM t" > "$BTMP/duck.csv" 2> "$BTMP/duck.times"
duck_ms=$(sed -n 2p "$BTMP/duck.times" | awk '{ print $2 }')
duck=$(stat -c %s "$BTMP/duck.parquet")
n=$(sed -n 6p "$BTMP/duck.csv")
sqlite=$(stat -c %s "$DB")

echo "## Export to Parquet for a data lake (bench/export.sh)"
echo
echo "\`ksight export --table process_events\`: $n rows over 7 days into $files day files (host and boot_id columns added), median of 3 runs, next to DuckDB's COPY of the same rows (without those two columns) from an in-memory table."
echo
echo "| | rows/s | bytes | bytes/row | vs DuckDB |"
echo "|---|---|---|---|---|"
awk -v n="$n" -v ms="$ms" -v b="$ours" -v d="$duck" -v dms="$duck_ms" -v s="$sqlite" 'BEGIN {
	printf "| ksight export (SQLite read + Parquet write, fsync) | %.0f | %d | %.1f | %.2fx size |\n", n / (ms / 1000), b, b / n, b / d
	printf "| DuckDB COPY (in memory to Parquet) | %.0f | %d | %.1f | 1.00x |\n", n / (dms / 1000), d, d / n
	printf "| the SQLite database it came from | | %d | %.1f | %.2fx |\n", s, s / n, s / d
}'

# ---- sizing: one host's series and Parquet bytes per day ----
SIZING=${EXPORT_SIZING_SECONDS:-300}
port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport')
start_agent "$BTMP/sizing.log" --db "$BTMP/sizing.db" --listen "127.0.0.1:$port"
sleep "$SIZING"
series=$(curl -s "http://127.0.0.1:$port/metrics" | grep -vc '^#')
stop_agent
"$KSIGHT" query --db "$BTMP/sizing.db" --csv "select name from sqlite_master where type = 'table' and name not like 'sqlite%'" | sed 1d > "$BTMP/tables"
total_rows=0 total_bytes=0
echo
echo "### Sizing: one host (this VM, default agent, ${SIZING} s scaled to a day; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| table | rows in ${SIZING} s | Parquet bytes/row | rows/day | Parquet MB/day |"
echo "|---|---|---|---|---|"
while read -r t; do
	n=$("$KSIGHT" query --db "$BTMP/sizing.db" --csv "select count(*) from \"$t\"" | sed -n 2p)
	[ "${n:-0}" -gt 0 ] || continue
	"$KSIGHT" -q export --db "$BTMP/sizing.db" --table "$t" --out "$BTMP/sizing-lake" --host h 2> /dev/null || continue
	b=$(du -cb "$BTMP/sizing-lake/table=$t"/*/*/*.parquet | tail -1 | cut -f1)
	awk -v t="$t" -v n="$n" -v b="$b" -v s="$SIZING" 'BEGIN {
		printf "| %s | %d | %.1f | %.0f | %.2f |\n", t, n, b / n, n * 86400 / s, b * 86400 / s / 1e6 }'
	total_rows=$((total_rows + n)) total_bytes=$((total_bytes + b))
done < "$BTMP/tables"
awk -v n="$total_rows" -v b="$total_bytes" -v s="$SIZING" -v series="$series" 'BEGIN {
	d = b * 86400 / s
	printf "| **all tables** | %d | %.1f | %.0f | **%.1f** |\n\n", n, b / n, n * 86400 / s, d / 1e6
	printf "Rows per day scale with what the host does (process and syscall events above all); each file'"'"'s footer (about 1 KB) is scaled too, so tables with few rows overstate.  "
	printf "Series per host on /metrics: **%d**.  For 1,000 hosts: %d series in Prometheus, %.1f GB of Parquet a day if every table is shipped, %.2f TB a year.\n", series, series * 1000, d * 1000 / 1e9, d * 1000 * 365 / 1e12
}'

#!/bin/sh
# ksight report end to end: a one-hour synthetic capture (t/lib/synthdb.sh)
# with a known disk incident renders to one self-contained file (no
# reference outside it), and in headless Chromium (Debian's chromium, from
# `make deps`) every chart is drawn with its data points, the incident is
# marked on the chart of vda's I/O latency and listed as an alert, the
# tables are there, and a screenshot is taken.  Then the anomalies table
# is used when it has rows, a 100 s read waiting for input does not lead
# the slowest calls (it waits, and is listed as waiting), and bad input is
# refused.
. "$(dirname "$0")/../lib/tap.sh"
plan 25

DB=$TMP/hour.db
sh "$TOP/t/lib/synthdb.sh" "$DB" 3600 2400
out=$("$KSIGHT" report --db "$DB" --out "$TMP/r" 2>&1)
is "$?" 0 "report on a one-hour capture exits 0"
like "$out" "wrote .*/index.html .*: (1[1-9]|[2-9][0-9]) charts" "and says what it wrote: $out"
HTML=$TMP/r/index.html
is "$(grep -Eco '(src|href)="(https?:)?//' "$HTML")" 0 "nothing is loaded from outside the file"
ok "uPlot is inlined" grep -q 'uPlot' "$HTML"

CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
	for i in $(seq 5 18); do skip "chromium is not installed (make deps installs it)"; done
else
	browse() {
		rm -rf "$TMP/profile"
		timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$TMP/profile" --virtual-time-budget=10000 "$@" 2>/dev/null
	}
	browse --dump-dom "file://$HTML" > "$TMP/dom.html"
	status=$(grep -o '<p class="meta" id="status"[^>]*>' "$TMP/dom.html")
	attr() { printf '%s' "$status" | sed -n "s/.*data-$1=\"\([0-9]*\)\".*/\1/p"; }
	charts=$(attr charts) drawn=$(attr drawn) points=$(attr points) anomalies=$(attr anomalies)
	ok "the page ran its script in Chromium ($status)" test -n "$charts"
	ok "at least the seed's 11 views are charts ($charts)" test "${charts:-0}" -ge 11
	is "$drawn" "$charts" "every chart's canvas has ink on it"
	ok "the charts hold the capture's data points ($points)" test "${points:-0}" -gt 30000
	for title in "Event counts per type" "Syscall latency" "Page faults by type" "I/O latency percentiles on vda" \
		     "Run-queue latency" "Memory usage and available" "Load averages" "Block throughput on vda" \
		     "Network throughput on eth0" "TCP connection states" "TCP retransmits" "Process activity"; do
		grep -q "<h3>$title" "$TMP/dom.html" || { diag "missing chart: $title"; missing=1; }
	done
	ok "the seed's views are all there (events, syscalls, faults, I/O latency, run queue, memory, load, block, network, TCP states and retransmits, processes)" test -z "${missing:-}"
	marks=$(grep -o '<div class="chart flagged" data-points="[0-9]*" data-marks="[0-9]*"[^>]*><h3>I/O latency percentiles on vda' "$TMP/dom.html" | sed 's/.*data-marks="\([0-9]*\)".*/\1/')
	ok "the incident is marked on vda's I/O latency chart ($marks)" test "${marks:-0}" -ge 1
	ok "it is listed as an alert with its explanation" grep -q '<tr class="alert">.*read p95 on vda is [0-9.]* ms, [0-9.]*x its usual' "$TMP/dom.html"
	ok "the page says the anomalies were found by replaying the range" grep -q '<p class="meta">[0-9]* anomalies (found by replaying this range' "$TMP/dom.html"
	ok "the top slow syscalls table is there" grep -q '<h3>Top slow syscalls</h3><table' "$TMP/dom.html"
	browse --window-size=1280,4000 --screenshot="$TMP/shot.png" "file://$HTML" > /dev/null
	size=$(stat -c %s "$TMP/shot.png" 2>/dev/null || echo 0)
	ok "a screenshot is taken ($size bytes)" test "$size" -gt 100000
	[ -n "${KEEP_SCREENSHOT:-}" ] && cp "$TMP/shot.png" "$KEEP_SCREENSHOT"

	# With rows in the anomalies table, those are used.
	sqlite3 "$DB" "insert into anomalies (timestamp, metric, value, score, confidence, severity, kind, correlated, explanation)
		       select min(timestamp) + 600e9, 'load.load1', 9, 0.9, 0.9, 'alert', 'high', 0, 'test marker row' from load_metrics"
	"$KSIGHT" report --db "$DB" --out "$TMP/r2" > /dev/null
	browse --dump-dom "file://$TMP/r2/index.html" > "$TMP/dom2.html"
	ok "the anomalies table's rows are shown when it has some" grep -q '<td>test marker row</td>' "$TMP/dom2.html"
	ok "and not replayed then" grep -q '<p class="meta">1 anomalies (from the anomalies table)' "$TMP/dom2.html"

	# A name with "<!--<script>" in it (a process can be named so) used to
	# leave the data's <script> element open: nothing rendered.
	sqlite3 "$DB" "insert into anomalies (timestamp, metric, value, score, confidence, severity, kind, correlated, explanation)
		       select min(timestamp) + 700e9, 'load.load1', 9, 0.9, 0.9, 'alert', 'high', 0, 'named <!--<script> x' from load_metrics"
	"$KSIGHT" report --db "$DB" --out "$TMP/r4" > /dev/null
	is "$(grep -c '<!--<script>' "$TMP/r4/index.html")" 0 "a '<' in the data is written as \\u003c"
	browse --dump-dom "file://$TMP/r4/index.html" > "$TMP/dom4.html"
	ok "and the report still renders, showing the name as text" \
	   grep -q '<td>named &lt;!--&lt;script&gt; x</td>' "$TMP/dom4.html"
fi

# Slowest calls rank by the time a call did not choose (on CPU + run queue
# + blocked): a read that waited 100 s for input is waiting, not slow.
cp "$DB" "$TMP/split.db"
T=$(sqlite3 "$TMP/split.db" "select min(timestamp) + 600000000000 from load_metrics")
sqlite3 "$TMP/split.db" "INSERT INTO syscall_events (timestamp, pid, tid, comm, syscall_nr, syscall_name, latency_ns, ret,
	oncpu_ns, runq_ns, blocked_ns, sleep_ns) VALUES
	($T, 4243, 4243, 'ksight-test', 0, 'ksight_wait', 100000000000, 1, 1000000, 0, 0, 99999000000),
	($T + 1, 4243, 4243, 'ksight-test', 74, 'ksight_disk', 900000000, 0, 2000000, 3000000, 895000000, 0)"
"$KSIGHT" report --db "$TMP/split.db" --out "$TMP/r3" > /dev/null
slowest=$(grep -o '"Slowest calls","columns":\[[^]]*\],"rows":\[\[[^]]*\]' "$TMP/r3/index.html")
like "$slowest" '"ksight_disk",900(\.0)?,900(\.0)?,2(\.0)?,3(\.0)?,895(\.0)?,0(\.0)?,0\]$' "the slowest call is the one blocked 895 ms on a disk, with its split"
ok "the 100 s read waiting for input is not among the slowest calls" \
   sh -c '! grep -o "\"Slowest calls\",[^}]*" "$1" | grep -q ksight_wait' _ "$TMP/r3/index.html"
like "$(grep -o '"Waiting, not slow[^}]*' "$TMP/r3/index.html")" '\["ksight_wait",1,100000(\.0)?,100(\.0)?\]' \
     "it is listed as waiting, 100 s asleep"

# A symlink planted where the old fixed temporary name was (a shared
# output directory, ksight report run as root): never written through.
mkdir "$TMP/r5"
echo "precious" >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/r5/.index.html.tmp"
"$KSIGHT" report --db "$DB" --out "$TMP/r5" >/dev/null 2>&1
is "$(cat "$TMP/victim")" "precious" "a symlink at OUT/.index.html.tmp is not followed (its target is untouched)"
is "$(ls -A "$TMP/r5" | tr '\n' ' ')" ".index.html.tmp index.html " \
   "the report is written under a random name, renamed into place, nothing left over"

"$KSIGHT" report --db "$DB" 2> "$TMP/err"; rc=$?
like "$rc $(cat "$TMP/err")" "^2 .*--out DIR is required" "no --out: exit 2"
"$KSIGHT" report --db "$TMP/none.db" --out "$TMP/x" 2> "$TMP/err"; rc=$?
like "$rc $(cat "$TMP/err")" "^1 .*no database at" "no database: exit 1"
done_testing

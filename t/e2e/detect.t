#!/bin/sh
# ksight detect end to end: output format (header, one row per input row,
# timestamp and value text kept, score in [0, 1]), detections where a NAB
# series has its obvious spike and none on a flat line, --threshold, stdin,
# timestamp formats, and one-line errors naming the line for bad input.
. "$(dirname "$0")/../lib/tap.sh"
plan 45

NAB=$TOP/bench/nab/data
SPIKY=$NAB/realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv
# run ARGS: rc and stderr (out); --help prints on stdout.
run() { out=$("$KSIGHT" detect "$@" 2>&1 >"$TMP/stdout"); rc=$?; [ "$1" = --help ] && out=$(cat "$TMP/stdout"); }
detections() { awk -F, '$3 ~ /^[0-9.]+$/ && $3 + 0 >= 0.5' "$1" | wc -l; }

run --help
is "$rc" 0 "detect --help exits 0"
like "$out" "Examples:" "and shows examples"
like "$out" "--threshold X" "and documents --threshold"

"$KSIGHT" detect "$SPIKY" > "$TMP/out.csv" 2>"$TMP/err"
is "$?" 0 "a NAB series: exit 0"
is "$(head -1 "$TMP/out.csv")" "timestamp,value,anomaly_score" "header timestamp,value,anomaly_score"
is "$(wc -l < "$TMP/out.csv")" "$(wc -l < "$SPIKY")" "one output row per input row"
is "$(cut -d, -f1,2 "$TMP/out.csv" | sed 1d | cksum)" "$(sed 1d "$SPIKY" | cut -d, -f1,2 | cksum)" \
   "timestamps and values are kept as written"
is "$(awk -F, 'NR > 1 && !($3 >= 0 && $3 <= 1 && $3 ~ /^[0-9]\.[0-9]+$/)' "$TMP/out.csv" | wc -l)" 0 \
   "every score is a number in [0, 1]"
like "$(grep '^2014-04-13 06:52:00,' "$TMP/out.csv")" ",(0\.[5-9]|1\.)[0-9]*$" \
   "the series' big spike (76.23 at 2014-04-13 06:52) is a detection"
n=$(detections "$TMP/out.csv")
within "$n" 1 6 "and there are few detections in its 4032 rows ($n)"
is "$(cat "$TMP/err")" "" "nothing on stderr"

"$KSIGHT" detect "$NAB/artificialNoAnomaly/art_flatline.csv" > "$TMP/flat.csv"
is "$(detections "$TMP/flat.csv")" 0 "a flat line: no detection"

# Over the NAB series, a lower threshold detects more, a higher fewer.
for t in 0.3 0.5 0.8; do
	for f in "$NAB"/*/*.csv; do "$KSIGHT" detect --threshold $t "$f"; done > "$TMP/all-$t.csv"
done
lo=$(detections "$TMP/all-0.3.csv") mid=$(detections "$TMP/all-0.5.csv") hi=$(detections "$TMP/all-0.8.csv")
ok "on all of NAB, --threshold 0.3 detects more than 0.5, 0.8 fewer ($lo, $mid, $hi)" test "$lo" -gt "$mid" -a "$hi" -lt "$mid"
"$KSIGHT" detect --threshold 0.8 "$SPIKY" > "$TMP/high.csv"
like "$(grep '^2014-04-13 06:52:00,' "$TMP/high.csv")" ",(0\.[5-9]|1\.)[0-9]*$" "the big spike is still one at 0.8"

"$KSIGHT" detect - < "$SPIKY" > "$TMP/stdin.csv"
is "$(cksum < "$TMP/stdin.csv")" "$(cksum < "$TMP/out.csv")" "'-' reads stdin, same output"
sed 's/$/\r/' "$SPIKY" | "$KSIGHT" detect - > "$TMP/crlf.csv"
is "$(cut -d, -f3 "$TMP/crlf.csv" | cksum)" "$(cut -d, -f3 "$TMP/out.csv" | cksum)" "CRLF line ends: same scores"

# The same series with epoch timestamps, in seconds and in ns, columns
# swapped and named, a blank line, quoted values: the same scores.
awk -F, 'NR > 1 { print 1396310400 + (NR - 2) * 300 "," $2 }' "$SPIKY" > "$TMP/rows"
{ echo "timestamp,value"; cat "$TMP/rows"; } > "$TMP/epoch_s.csv"
{ echo "value,timestamp"; awk -F, '{ print "\"" $2 "\"," $1 "000000000" } NR == 9 { print "" }' "$TMP/rows"; } > "$TMP/epoch_ns.csv"
"$KSIGHT" detect "$TMP/epoch_s.csv" > "$TMP/s.out"
is "$?" 0 "epoch seconds are read"
like "$(sed -n 2p "$TMP/s.out")" "^1396310400,[0-9.]+,0\.0+$" "and written back as given"
"$KSIGHT" detect "$TMP/epoch_ns.csv" > "$TMP/ns.out"
is "$?" 0 "epoch ns, named columns in another order, quoting, a blank line are read"
is "$(cut -d, -f3 "$TMP/ns.out" | cksum)" "$(cut -d, -f3 "$TMP/s.out" | cksum)" "and give the same scores"
like "$(sed -n 2p "$TMP/ns.out")" '^1396310400000000000,"[0-9.]+",' "with the fields written back as given"
is "$(cut -d, -f3 "$TMP/s.out" | sed 1d | cksum)" "$(cut -d, -f3 "$TMP/out.csv" | sed 1d | cksum)" \
   "the same scores as with NAB's date-times"

sed 1d "$SPIKY" | "$KSIGHT" detect - > "$TMP/noheader.csv"
is "$(cksum < "$TMP/noheader.csv")" "$(cksum < "$TMP/out.csv")" "a first line that reads as a row is a row (no header)"

# A clock that steps back (daylight saving, an NTP correction): the file is
# scored in file order, and one warning names the first line that went back.
# Here the spiky series, in epoch seconds, goes back an hour twice.
awk -F, 'NR == 1 { print; next } { n = NR - 2; t = 1396310400 + n * 300 - (n >= 999) * 3600 - (n >= 2999) * 3600; print t "," $2 }' \
	"$SPIKY" > "$TMP/back.csv"
"$KSIGHT" detect "$TMP/back.csv" > "$TMP/back.out" 2> "$TMP/back.err"
is "$?" 0 "a clock that steps back: exit 0"
is "$(wc -l < "$TMP/back.err")" 1 "one warning on stderr, for two steps back"
like "$(cat "$TMP/back.err")" "^ksight detect: warning: .*back.csv:1001: timestamp '1396606500' is earlier than a row before it" \
     "naming the first line that went back and its timestamp"
is "$(cut -d, -f1,2 "$TMP/back.out" | cksum)" "$(cut -d, -f1,2 "$TMP/back.csv" | sed '1s/.*/timestamp,value/' | cksum)" \
   "every row is written back, in file order"
is "$(grep -c '^1396310400,' "$TMP/back.out")" 1 "(the first row once)"
like "$(awk -F, '$2 == 76.23' "$TMP/back.out")" ",(0\.[5-9]|1\.)[0-9]*$" "and the big spike is still a detection"
printf 'timestamp,value\n2014-04-01 00:05:00,1\n2014-04-01 00:00:00,2\n2014-04-01 00:10:00,3\n' > "$TMP/back2.csv"
run "$TMP/back2.csv"
is "$rc" 0 "three rows, the second earlier than the first: exit 0"
like "$out" "back2.csv:3: timestamp '2014-04-01 00:00:00' is earlier than a row before it" "the warning names line 3"
is "$(wc -l < "$TMP/stdout")" 4 "and all three rows are scored"

"$KSIGHT" detect --explain "$SPIKY" > "$TMP/explain.csv"
is "$(head -1 "$TMP/explain.csv")" "timestamp,value,anomaly_score,expected,low,high,kind" "--explain adds columns"
like "$(grep '^2014-04-13 06:52:00,' "$TMP/explain.csv")" ",high$" "and calls the spike high"

# Errors: one line, naming the line of the file, exit 1; usage errors exit 2.
printf 'timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n' > "$TMP/badval.csv"
run "$TMP/badval.csv"
is "$rc" 1 "a value that is not a number: exit 1"
like "$out" "badval.csv:3: value 'abc' is not a finite number" "names the file, the line and the value"
printf 'timestamp,value\n2014-04-01 00:00:00,1\n2014-13-01 00:05:00,2\n' > "$TMP/badts.csv"
run "$TMP/badts.csv"
like "$out" "badts.csv:3: timestamp '2014-13-01 00:05:00' is not a date-time or epoch number" "a bad timestamp, named"
printf 'timestamp,value\n2014-04-01 00:00:00\n' > "$TMP/short.csv"
run "$TMP/short.csv"
like "$out" "short.csv:2: expected at least 2 columns, got 1" "a short row, named"
printf 'timestamp,value\n"2014-04-01 00:00:00,1\n' > "$TMP/quote.csv"
run "$TMP/quote.csv"
like "$out" "quote.csv:2: malformed quoted field" "an unterminated quote, named"
is "$(printf '%s\n' "$out" | wc -l)" 1 "each error is one line"
: > "$TMP/empty.csv"
run "$TMP/empty.csv"
ok "an empty file: exit 1 and says so" test "$rc" = 1 -a -n "$(printf '%s' "$out" | grep 'is empty')"
run "$TMP/nonexistent.csv"
ok "a missing file: exit 1, 'cannot open'" test "$rc" = 1 -a -n "$(printf '%s' "$out" | grep 'cannot open')"
run
is "$rc" 2 "no file: exit 2"
run --threshold 1.5 "$SPIKY"
is "$rc" 2 "--threshold 1.5: exit 2"
like "$out" "--threshold: '1.5' is not a number between 0 and 1" "naming the flag and value"
done_testing

#!/bin/sh
# Runs libFuzzer targets built by `make fuzz-build` and prints a table.
#
#   tools/fuzz.sh SECONDS JOBS TARGET...
#
# Each target runs for SECONDS at nice 19 (the machines are shared), JOBS
# targets at a time, on a working corpus in .output/fuzz/corpus/<target>/
# that starts from t/fuzz/corpus/<target>/ and keeps what it finds between
# runs.  Its dictionary is t/fuzz/corpus/<target>.dict, else that of its
# family (the name up to the first '_': scrape.dict for scrape_*), when
# there is one; t/fuzz/corpus/<target>.options holds extra libFuzzer flags
# (such as -max_len=).  Crashes, leaks and UB reports are saved as
# .output/fuzz/crash/<target>-* (add the input to t/fuzz/corpus/<target>/
# once fixed, so the replay in `make test` keeps it fixed); each target's
# log is .output/fuzz/log/<target>.log.
#
# The table gives, per target: runs, exec/s, edge coverage (libFuzzer's
# cov:), features (ft:), corpus entries, and the number of crashes.  Exits 1
# when any target crashed.
set -eu
cd "$(dirname "$0")/.."

[ $# -ge 3 ] || { echo "usage: tools/fuzz.sh SECONDS JOBS TARGET..." >&2; exit 2; }
seconds=$1
jobs=$2
shift 2
out=.output/fuzz
mkdir -p "$out/log" "$out/crash" "$out/corpus"

run_one() {
	t=$1
	corpus=$out/corpus/$t
	mkdir -p "$corpus"
	set -- -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/crash/$t-" \
		-rss_limit_mb=2048 -timeout=10
	# The target's dictionary, else its family's (scrape.dict for scrape_*).
	for dict in "t/fuzz/corpus/$t.dict" "t/fuzz/corpus/${t%%_*}.dict"; do
		if [ -f "$dict" ]; then
			set -- "$@" -dict="$dict"
			break
		fi
	done
	[ -f "t/fuzz/corpus/$t.options" ] && set -- "$@" $(cat "t/fuzz/corpus/$t.options")
	# -fork would survive crashes; one process keeps exec/s comparable.
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} nice -n 19 "$out/$t" "$@" "$corpus" "t/fuzz/corpus/$t" >"$out/log/$t.log" 2>&1 || true
}

# JOBS at a time: when all slots are busy, wait for the oldest.
pids=""
for t in "$@"; do
	if [ "$(printf '%s\n' $pids | grep -c .)" -ge "$jobs" ]; then
		oldest=${pids%% *}
		wait "$oldest" || true
		pids=${pids#"$oldest"}
		pids=${pids# }
	fi
	run_one "$t" &
	pids="${pids:+$pids }$!"
done
wait

printf '%-22s %10s %8s %6s %6s %6s %8s\n' target runs exec/s cov ft corpus crashes
fail=0
for t in "$@"; do
	log=$out/log/$t.log
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	crashes=$(ls "$out/crash" | grep -c "^$t-" || true)
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log"; then
		crashes=$((crashes > 0 ? crashes : 1))
	fi
	[ "$crashes" -gt 0 ] && fail=1
	printf '%-22s %10s %8s %6s %6s %6s %8s\n' "$t" "${runs:--}" "${rate:--}" "${cov:--}" "${ft:--}" \
		"${corp:--}" "$crashes"
done
exit $fail

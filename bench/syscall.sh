#!/bin/sh
# Syscall tracing cost on a getppid loop (ns per call, median of runs pinned
# to one CPU), side by side in one run: nothing attached; the floors (empty
# programs; the clock floor of any per-call latency tracer); the ksight
# syscall tracer alone (full per-syscall histograms + slow-call events);
# libbpf-tools syscount -L; the bpftrace histogram one-liner.
. "$(dirname "$0")/lib.sh"
N=${SYSCALL_CALLS:-2000000}
ROUNDS=${SYSCALL_ROUNDS:-3}
CPU=$(( $(nproc) - 1 ))
mount_tracefs

loop() { for i in 1 2 3; do taskset -c "$CPU" "$HELPERS/sysloop" "$N"; done | awk '{print $2}' | median; }

printf 'detect:\n  enabled: false\nhttp:\n  enabled: false\ntracers:\n  rss: {enabled: false}\n  proc: {enabled: false}\n  blockio: {enabled: false}\n  sched: {enabled: false}\n  pagefault: {enabled: false}\n  tcp: {enabled: false}\nscrapers:\n' > "$BTMP/syscall.yaml"
for s in meminfo loadavg stat diskstats net_dev net_tcp net_snmp pressure vmstat; do
	printf '  %s: {enabled: false}\n' "$s" >> "$BTMP/syscall.yaml"
done

for r in $(seq "$ROUNDS"); do
	echo "base $(loop)" >> "$BTMP/res"
	echo "floor $("$BENCH_BIN/floor" -- sh -c "for i in 1 2 3; do taskset -c $CPU $HELPERS/sysloop $N; done" | awk '{print $2}' | median)" >> "$BTMP/res"
	echo "clock $("$BENCH_BIN/floor" --clock -- sh -c "for i in 1 2 3; do taskset -c $CPU $HELPERS/sysloop $N; done" | awk '{print $2}' | median)" >> "$BTMP/res"
	start_agent "$BTMP/agent.log" --config "$BTMP/syscall.yaml" --db "$BTMP/syscall.db"
	echo "ksight $(loop)" >> "$BTMP/res"
	stop_agent
	rm -f "$BTMP/syscall.db"*
	if command -v syscount >/dev/null; then
		stdbuf -oL syscount -L > "$BTMP/syscount.log" 2>&1 &
		sp=$!
		wait_line "$BTMP/syscount.log" "Tracing" && echo "syscount $(loop)" >> "$BTMP/res"
		kill -INT $sp; wait $sp 2>/dev/null || true
	fi
	if command -v bpftrace >/dev/null; then
		bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @s[tid] = nsecs; }
			tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @h[args->id] = hist(nsecs - @s[tid]); delete(@s[tid]); }' \
			> "$BTMP/bpftrace.log" 2>&1 &
		bp=$!
		wait_line "$BTMP/bpftrace.log" "Attaching" && sleep 1 && echo "bpftrace $(loop)" >> "$BTMP/res"
		kill -INT $bp; wait $bp 2>/dev/null || true
	fi
done

val() { awk -v k="$1" '$1 == k { print $2 }' "$BTMP/res" | median; }
base=$(val base)
floor=$(val floor)
sc=$(val syscount)
bt=$(val bpftrace)
echo "## Syscall tracing overhead (getppid loop, $N calls x 3 per measurement, $ROUNDS rounds, CPU $CPU)"
echo
echo "| what is attached | ns/call | added ns | added vs empty floor | added vs syscount -L | added vs bpftrace |"
echo "|---|---|---|---|---|---|"
for k in base floor clock ksight syscount bpftrace; do
	v=$(val $k)
	[ -n "$v" ] || continue
	awk -v k="$k" -v v="$v" -v b="$base" -v f="$floor" -v s="${sc:-0}" -v t="${bt:-0}" 'BEGIN {
		name["base"] = "nothing"; name["floor"] = "empty tp_btf programs (the floor)";
		name["clock"] = "clock floor: task-storage timestamp + latency";
		name["ksight"] = "**ksight syscall tracer**"; name["syscount"] = "libbpf-tools syscount -L";
		name["bpftrace"] = "bpftrace histogram one-liner";
		a = v - b
		r1 = (f - b > 0) ? sprintf("%.2fx", a / (f - b)) : "-"
		r2 = (s - b > 0) ? sprintf("%.2fx", a / (s - b)) : "-"
		r3 = (t - b > 0) ? sprintf("%.2fx", a / (t - b)) : "-"
		printf "| %s | %.1f | %+.1f | %s | %s | %s |\n", name[k], v, a, r1, r2, r3 }'
done
echo
echo "Medians over rounds of the median of 3 runs. The clock floor shows what two bpf_ktime_get_ns() reads and a task-storage slot cost on this machine."

#!/bin/sh
# The job of t/e2e/run.t: a known process tree in which every process
# appends what it is (and what it measured of itself) to LOG, as
# "<what> <pid> <ppid> [values...]" (see runwork.c).
#
#   run_job.sh RUNWORK LOG [stage]
#
# Processes (509): this shell; nested shells sh -> sh -> runwork leaf; a
# parallel pair (2 threads burning 300 ms of CPU, 64 MiB touched); one that
# exits 3; one killed by SIGKILL; one that runs 500 children living about a
# millisecond each.  The job exits 7.
W=$1 LOG=$2
rec() { echo "$1 $$ $PPID" >> "$LOG"; }
case ${3:-root} in
root)
	rec root
	sh "$0" "$W" "$LOG" nest1
	"$W" cpu 300 "$LOG" &
	"$W" mem 64 "$LOG" &
	wait
	"$W" exit 3 "$LOG"
	echo "exit-status - - $?" >> "$LOG"
	"$W" selfkill "$LOG"
	echo "selfkill-status - - $?" >> "$LOG"
	"$W" short 500 "$LOG"
	exit 7
	;;
nest1)
	rec nest1
	sh "$0" "$W" "$LOG" nest2
	;;
nest2)
	rec nest2
	"$W" leaf "$LOG"
	;;
esac

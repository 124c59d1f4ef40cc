/* Leak suspects: when a verdict is worth a row, and how far the process is
 * from its limit.  Pure functions; time and memory figures are passed in.
 *
 * The leak detector (leak.h) gives a verdict whenever it is asked.  Its
 * caller records suspicions as rows (memory_growth_events), and this
 * decides when:
 *  - 'watching' when leak-shaped growth is first watched (it may still be a
 *    warm-up: the detector's patience), and when its pattern changes; a
 *    low-confidence row, not a suspect;
 *  - 'suspect' when a leak is first declared, or a watched process would
 *    reach its limit before its patience ends (urgency overrides
 *    patience), and when its pattern changes,
 *    its rate moves by LEAK_SUSPECT_RATE_CHANGE or its confidence by
 *    LEAK_SUSPECT_CONF_CHANGE (at most one such update per
 *    LEAK_SUSPECT_UPDATE_NS), or its rate by LEAK_SUSPECT_RATE_SETTLE after
 *    LEAK_SUSPECT_SETTLE_NS (so a first estimate does not linger);
 *  - 'resolved' when the detector ends the suspicion or watch;
 *  - 'exited', with the final estimate, when a suspect's or a watched
 *    process is gone.
 * Once a suspect, a process stays one until the detector ends it.
 * Each row carries the headroom: to the memory cgroup's limit when there
 * is one, else to MemAvailable, and the projected time to use it up.
 */
#ifndef KS_LEAK_SUSPECT_H
#define KS_LEAK_SUSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "leak.h"

#define LEAK_SUSPECT_RATE_CHANGE 0.10
#define LEAK_SUSPECT_CONF_CHANGE 0.15
#define LEAK_SUSPECT_UPDATE_NS (5 * 1000000000LL)
#define LEAK_SUSPECT_RATE_SETTLE 0.03
#define LEAK_SUSPECT_SETTLE_NS (30 * 1000000000LL)

enum leak_row {
	LEAK_ROW_NONE,           /* nothing worth a row */
	LEAK_ROW_SUSPECT,
	LEAK_ROW_RESOLVED,
	LEAK_ROW_EXITED,
	LEAK_ROW_WATCHING,
};

/* "suspect", "resolved", "exited", "watching" (the rows' status column);
 * NULL for NONE. */
const char *leak_row_status(enum leak_row row);

/* What the latest row about one process said.  Zeroed: no row yet. */
struct leak_suspect {
	bool suspect;                  /* the latest row says 'suspect' */
	bool watching;                 /* the latest row says 'watching' */
	struct leak_verdict reported;  /* what it said */
	int64_t reported_ns;           /* when (the caller's clock) */
};

/* True when judging verdict v needs the time to the limit: it is watched,
 * and not a suspect already. */
bool leak_suspect__wants_limit(const struct leak_suspect *s, const struct leak_verdict *v);

/* Judges verdict *v at now_ns (the detector's clock) against what was
 * reported: returns the row now due (LEAK_ROW_SUSPECT, LEAK_ROW_WATCHING or
 * LEAK_ROW_RESOLVED), and records it as reported, or LEAK_ROW_NONE.
 * time_to_limit_s is when the process reaches its limit at v's rate (< 0:
 * unknown or not growing; needed only when leak_suspect__wants_limit()).
 * A watched verdict that is to be reported as a suspect (urgent, or a
 * suspect already) is turned into one in *v: leak, not watching, the
 * confidence of its evidence (at least 0.5). */
enum leak_row leak_suspect__judge(struct leak_suspect *s, struct leak_verdict *v, double time_to_limit_s,
				  int64_t now_ns);

/* The process is gone (exit, exec, pid reuse).  For a suspect or a watched
 * process: turns the latest verdict *v into the final one (no longer a
 * leak nor watched; the reported pattern when the detector has none now),
 * ends the suspicion and returns LEAK_ROW_EXITED.  Otherwise LEAK_ROW_NONE,
 * *v untouched. */
enum leak_row leak_suspect__exit(struct leak_suspect *s, struct leak_verdict *v);

/* How much memory is left and when it runs out. */
struct leak_headroom {
	const char *source;            /* "cgroup", "memavailable", or NULL: unknown */
	int64_t limit_bytes;           /* the cgroup's limit, -1 when none applies */
	int64_t headroom_bytes;        /* -1 when unknown */
	double time_to_limit_s;        /* < 0: not growing or unknown (see leak_time_to_limit) */
};

/* The headroom of a process whose footprint is footprint_bytes, with
 * verdict v: to cgroup_limit (-1: no limit or unknown), counting the
 * cgroup's usage cgroup_usage (-1: unknown, use the footprint) as used;
 * without a limit, to mem_available (-1: unknown), all of it ahead.  Read
 * MemAvailable only when there is no cgroup limit: it is not used then. */
void leak_headroom(const struct leak_verdict *v, int64_t footprint_bytes, int64_t cgroup_limit,
		   int64_t cgroup_usage, int64_t mem_available, struct leak_headroom *ret);

#endif

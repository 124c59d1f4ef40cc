/* When a leak verdict is worth a row (detect/leak_suspect.h), with
 * synthetic verdicts and time passed in: the first leak, a pattern change
 * at once, a rate or confidence change only after the update interval, a
 * small rate drift only after the settle interval, the end of a suspicion
 * once, and the final 'exited' verdict; a watch: a 'watching' row, a
 * suspect at once when the projection reaches the limit before its patience
 * ends (and never demoted), resolved or exited like a suspect; and the
 * headroom to a cgroup limit or to MemAvailable. */
#include "../../src/detect/leak_suspect.h"
#include "../lib/tap.h"

#define S(x) ((int64_t)(x) * 1000000000LL)

static struct leak_verdict leak(double rate, double confidence, enum leak_pattern pattern)
{
	return (struct leak_verdict){ .leak = true, .rate = rate, .confidence = confidence, .pattern = pattern };
}

int main(void)
{
	struct leak_suspect s = { 0 };
	struct leak_verdict v = { 0 }, none = { .pattern = LEAK_NONE };
	struct leak_headroom h;

	plan(45);
	is(leak_suspect__judge(&s, &none, -1, S(1)), LEAK_ROW_NONE, "no leak, no suspicion: no row");
	v = leak(1e6, 0.6, LEAK_LINEAR);
	is(leak_suspect__judge(&s, &v, -1, S(10)), LEAK_ROW_SUSPECT, "a first leak is a 'suspect' row");
	ok(s.suspect && s.reported_ns == S(10), "and is recorded as reported");
	is(leak_suspect__judge(&s, &v, -1, S(11)), LEAK_ROW_NONE, "the same verdict again: no row");
	v = leak(1.5e6, 0.6, LEAK_LINEAR);
	is(leak_suspect__judge(&s, &v, -1, S(14)), LEAK_ROW_NONE, "a 50%% rate change before the update interval: no row");
	is(leak_suspect__judge(&s, &v, -1, S(15)), LEAK_ROW_SUSPECT, "the same change once the interval passed: a row");
	v = leak(1.5e6, 0.8, LEAK_LINEAR);
	is(leak_suspect__judge(&s, &v, -1, S(19)), LEAK_ROW_NONE, "a confidence change before the interval: no row");
	is(leak_suspect__judge(&s, &v, -1, S(20)), LEAK_ROW_SUSPECT, "and after it: a row");
	v = leak(1.5e6, 0.8, LEAK_BURST);
	is(leak_suspect__judge(&s, &v, -1, S(21)), LEAK_ROW_SUSPECT, "a pattern change is a row at once");
	v = leak(1.56e6, 0.8, LEAK_BURST);
	is(leak_suspect__judge(&s, &v, -1, S(40)), LEAK_ROW_NONE, "a 4%% drift before the settle interval: no row");
	is(leak_suspect__judge(&s, &v, -1, S(51)), LEAK_ROW_SUSPECT, "and after it: a row (the estimate settles)");
	v = leak(1.57e6, 0.8, LEAK_BURST);
	is(leak_suspect__judge(&s, &v, -1, S(90)), LEAK_ROW_NONE, "under 3%% never makes a row");

	none.pattern = LEAK_BURST;
	is(leak_suspect__judge(&s, &none, -1, S(91)), LEAK_ROW_RESOLVED, "the detector ends it: a 'resolved' row");
	ok(!s.suspect, "no longer a suspect");
	is(leak_suspect__judge(&s, &none, -1, S(92)), LEAK_ROW_NONE, "resolved once only");
	none.pattern = LEAK_NONE;
	v = none;
	is(leak_suspect__exit(&s, &v), LEAK_ROW_NONE, "a process that is not a suspect exits without a row");

	v = leak(2e6, 0.9, LEAK_ACCELERATING);
	is(leak_suspect__judge(&s, &v, -1, S(100)), LEAK_ROW_SUSPECT, "a new growth opens a new suspicion");
	v = (struct leak_verdict){ .leak = true, .rate = 2.1e6, .pattern = LEAK_NONE };
	is(leak_suspect__exit(&s, &v), LEAK_ROW_EXITED, "a suspect that exits: an 'exited' row");
	ok(!v.leak && v.pattern == LEAK_ACCELERATING && v.rate == 2.1e6,
	   "with the final estimate, no longer a leak, the reported pattern kept");
	ok(!s.suspect, "the suspicion is over");
	is_str(leak_row_status(LEAK_ROW_EXITED), "exited", "status names");
	ok(leak_row_status(LEAK_ROW_NONE) == NULL, "no status for no row");

	/* Watching: growth that may still be a warm-up. */
	{
		struct leak_suspect w = { 0 };
		struct leak_verdict watch = { .watching = true, .rate = 1e6, .confidence = 0.4, .evidence = 0.8,
					      .pattern = LEAK_LINEAR, .patience_end_ns = S(220) };

		ok(leak_suspect__wants_limit(&w, &watch), "a watched verdict wants the time to the limit");
		v = watch;
		is(leak_suspect__judge(&w, &v, 100, S(205)), LEAK_ROW_WATCHING, "watched, 100 s from its limit: a 'watching' row");
		ok(w.watching && !w.suspect && !v.leak && v.confidence < 0.5, "low confidence, not a suspect");
		is_str(leak_row_status(LEAK_ROW_WATCHING), "watching", "its status");
		v = watch;
		is(leak_suspect__judge(&w, &v, 100, S(206)), LEAK_ROW_NONE, "the same watch again: no row");
		v = watch;
		v.pattern = LEAK_OSCILLATING;
		is(leak_suspect__judge(&w, &v, 100, S(207)), LEAK_ROW_WATCHING, "its pattern changed: a row");
		v = watch;
		is(leak_suspect__judge(&w, &v, 11, S(208)), LEAK_ROW_SUSPECT,
		   "11 s from its limit with 12 s of patience left: a suspect (urgency overrides patience)");
		ok(w.suspect && v.leak && !v.watching && v.confidence == 0.8, "reported as a leak with its evidence as confidence");
		v = watch;
		ok(!leak_suspect__wants_limit(&w, &v), "a suspect wants no limit to be judged");
		is(leak_suspect__judge(&w, &v, -1, S(209)), LEAK_ROW_NONE, "once a suspect, a watched verdict is not demoted");
		ok(w.suspect && v.leak, "... it stays a suspect");
		none.pattern = LEAK_LINEAR;
		v = none;
		is(leak_suspect__judge(&w, &v, -1, S(230)), LEAK_ROW_RESOLVED, "and is resolved when the detector ends it");

		w = (struct leak_suspect){ 0 };
		v = watch;
		leak_suspect__judge(&w, &v, -1, S(300));
		v = watch;
		is(leak_suspect__exit(&w, &v), LEAK_ROW_EXITED, "a watched process that exits: an 'exited' row");
		ok(!v.watching && !v.leak && !w.watching, "with a verdict neither watched nor a leak");
		w = (struct leak_suspect){ 0 };
		v = watch;
		v.patience_end_ns = S(400);
		is(leak_suspect__judge(&w, &v, 5, S(401)), LEAK_ROW_WATCHING, "patience over and not yet a leak: still watched");
	}

	v = leak(1e6, 0.9, LEAK_LINEAR);
	leak_headroom(&v, 50000000, 100000000, 60000000, 123, &h);
	ok(h.source && !strcmp(h.source, "cgroup") && h.limit_bytes == 100000000, "a cgroup limit is the limit");
	is(h.headroom_bytes, 40000000, "headroom counts the cgroup's usage");
	ok(fabs(h.time_to_limit_s - 40.0) < 1e-9, "40 MB at 1 MB/s: 40 s");
	leak_headroom(&v, 50000000, 100000000, -1, -1, &h);
	is(h.headroom_bytes, 50000000, "without the cgroup's usage, the footprint is what is used");
	leak_headroom(&v, 50000000, -1, -1, 30000000, &h);
	ok(h.source && !strcmp(h.source, "memavailable") && h.limit_bytes == -1 && h.headroom_bytes == 30000000,
	   "no limit: MemAvailable is the headroom");
	ok(fabs(h.time_to_limit_s - 30.0) < 1e-9, "all of it ahead: 30 s");
	leak_headroom(&v, 50000000, -1, -1, -1, &h);
	ok(!h.source && h.headroom_bytes == -1 && h.time_to_limit_s < 0, "nothing known: no headroom, no projection");
	v.rate = 0;
	leak_headroom(&v, 50000000, 100000000, -1, -1, &h);
	ok(h.time_to_limit_s < 0, "not growing: no projection");
	return done_testing();
}

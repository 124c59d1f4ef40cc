/* Host-level correlation of per-metric detections: pure, time passed in.
 *
 * One metric's detector firing alone is often noise (a metric that is
 * spiky by nature, a cron job); an incident shows in several places at
 * once (a disk saturates: its latency, utilisation, CPU iowait and I/O
 * pressure all move).  So every detection is held for `window_ns`, then
 * released with the detections of the other metrics within window_ns of
 * it, before or after.  Metrics are grouped (all of one disk's metrics are
 * one group, all TCP counters another, see extract.h): only distinct
 * groups count as independent evidence.
 *
 *   confidence = (1 - prod over groups g of (1 - s_g)) * min(1, groups / min_groups)
 *
 * with s_g the highest score in group g.  A detection is an 'alert' when
 * at least min_groups groups were abnormal together and the confidence
 * reaches 0.5; otherwise a 'notice', which is stored but pages no one.
 */
#ifndef KS_CORRELATE_H
#define KS_CORRELATE_H

#include <stdbool.h>
#include <stdint.h>

#define CORRELATE_MAX 256           /* detections held at once; more are dropped and counted */
#define CORRELATE_MAX_OTHERS 32     /* other metrics reported per detection */

struct detection {
	int64_t ts;
	uint32_t metric;                /* caller's id, compared for identity */
	uint32_t group;                 /* caller's group id */
	double score;
	/* carried for the caller */
	double value, expected, low, high, usual;
	int kind;                       /* enum anomaly_kind */
	bool hourly;                    /* usual is this hour's */
};

struct correlated {
	const struct detection *self;
	const struct detection *others[CORRELATE_MAX_OTHERS];  /* other metrics, best score first */
	uint32_t nothers;               /* all of them, even past CORRELATE_MAX_OTHERS */
	uint32_t groups;                /* distinct groups, self's included */
	double confidence;
	bool alert;
};

struct correlator {
	int64_t window_ns;
	uint32_t min_groups;
	struct detection held[CORRELATE_MAX];
	bool released[CORRELATE_MAX];
	uint32_t n;
	uint64_t dropped;
};

void correlator__init(struct correlator *c, int64_t window_ns, uint32_t min_groups);

/* Holds d (copied).  Returns 0, or -ENOSPC when CORRELATE_MAX are held
 * (d is dropped and counted in c->dropped). */
int correlator__add(struct correlator *c, const struct detection *d);

/* Releases, oldest first, every held detection at least window_ns older
 * than now_ns (all of them when flush_all), calling fn for each; the
 * pointers are valid only during the call.  Keeps released detections as
 * long as a held one may still need them as evidence.  Returns how many
 * were released. */
uint32_t correlator__release(struct correlator *c, int64_t now_ns, bool flush_all,
			     void (*fn)(void *ctx, const struct correlated *r), void *ctx);

#endif

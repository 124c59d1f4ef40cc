/* Every metric's series over a stored time range, in memory.
 *
 * Replays the database (replay.h) through the extractor (extract.h), so a
 * stored capture gives exactly the samples the agent judged live, and keeps
 * them per metric in time order, for baseline learning and the feature
 * export.  About 16 bytes per sample: an hour of 100 metrics at 1 s is
 * under 6 MB.
 */
#ifndef KS_HISTORY_H
#define KS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../detect/extract.h"
#include "../lib/u64map.h"
#include "../store/rollup.h"
#include "../store/store.h"

struct series {
	char name[EXTRACT_NAME_MAX];
	char unit[8];
	char what[64];
	size_t n, cap;
	int64_t *ts;
	double *v;
};

struct history {
	struct u64map by_name;
	struct series **list;           /* sorted by name after history__load */
	size_t n, cap;
	uint64_t ticks;                 /* ticks replayed */
	bool tiered;                    /* set before loading: read rollups where raw rows are gone */
	enum tier tier;                 /* after loading: the coarsest tier read (replay__run_tiered) */
};

/* Replays [from_ns, to_ns] of s into set (initialised with {0}, and
 * .tiered = true to read rollups where raw rows were pruned).  Returns
 * 0 or a negative errno with err filled.  Free with history__free. */
int history__load(struct history *set, struct store *s, int64_t from_ns, int64_t to_ns, char *err);

/* The series called name, or NULL. */
struct series *history__find(const struct history *set, const char *name);

void history__free(struct history *set);

#endif

/* Every metric's series over a stored time range, in memory.
 *
 * Replays the database (replay.h) through the extractor (extract.h), so a
 * stored capture gives exactly the samples the agent judged live, and keeps
 * them per metric in time order, for baseline learning and the feature
 * export.  About 16 bytes per sample: an hour of 100 metrics at 1 s is
 * under 6 MB.
 */
#ifndef KS_SERIES_H
#define KS_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "../detect/extract.h"
#include "../lib/u64map.h"
#include "../store/store.h"

struct series {
	char name[EXTRACT_NAME_MAX];
	char unit[8];
	char what[64];
	size_t n, cap;
	int64_t *ts;
	double *v;
};

struct series_set {
	struct u64map by_name;
	struct series **list;           /* sorted by name after series_set__load */
	size_t n, cap;
	uint64_t ticks;                 /* ticks replayed */
};

/* Replays [from_ns, to_ns] of s into set (initialised with {0}).  Returns
 * 0 or a negative errno with err filled.  Free with series_set__free. */
int series_set__load(struct series_set *set, struct store *s, int64_t from_ns, int64_t to_ns, char *err);

/* The series called name, or NULL. */
struct series *series_set__find(const struct series_set *set, const char *name);

void series_set__free(struct series_set *set);

#endif

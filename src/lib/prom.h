/* Prometheus text exposition format (version 0.0.4) into a struct buf.
 *
 * A family is started once, with its HELP and TYPE lines, and all its
 * samples follow before the next family starts:
 *
 *   prom_family(p, "ksight_tcp_retransmits_total", PROM_COUNTER, "Segments retransmitted.");
 *   prom_sample_u64(p, "", NULL, 42);
 *
 *   prom_labels_init(&l); prom_label(&l, "device", "vda");
 *   prom_family(p, "ksight_block_io_latency_seconds", PROM_HISTOGRAM, "...");
 *   prom_histogram(p, &l, n, le, cumulative, count, sum);
 *
 * Label values are escaped as the format requires (backslash, double quote,
 * newline); names are the caller's constants and must already be valid
 * metric and label names.  Numbers are written in the shortest form that
 * reads back as the same double; counters stay exact integers.
 */
#ifndef KS_PROM_H
#define KS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROM_NAME_MAX 128
#define PROM_LABELS_MAX 512

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_SUMMARY };

struct prom {
	struct buf *out;
	char family[PROM_NAME_MAX];   /* the family samples are written for */
	size_t families;              /* families started */
	size_t samples;               /* sample lines written */
};

/* A label set, rendered as it appears between the braces. */
struct prom_labels {
	char text[PROM_LABELS_MAX];
	size_t len;
};

void prom_init(struct prom *p, struct buf *out);

/* Starts family name (HELP and TYPE lines).  Starting the family that is
 * already current adds nothing, so a table of sources can feed one family
 * from several rows in a row; starting any other family twice in one
 * exposition is a caller bug that Prometheus rejects. */
void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);

void prom_labels_init(struct prom_labels *l);
/* Appends name="value" (value escaped).  A label set that would not fit in
 * PROM_LABELS_MAX is a caller bug (asserted): labels here are short. */
void prom_label(struct prom_labels *l, const char *name, const char *value);

/* One sample line of the current family: its name plus suffix ("" or
 * "_sum", "_count" ...), labels (NULL: none) and value. */
void prom_sample(struct prom *p, const char *suffix, const struct prom_labels *l, double value);
void prom_sample_u64(struct prom *p, const char *suffix, const struct prom_labels *l, uint64_t value);

/* A histogram of the current family: n finite buckets with ascending upper
 * bounds le[] and cumulative counts cum[] (non-decreasing, at most count),
 * then the +Inf bucket (= count), _sum and _count. */
void prom_histogram(struct prom *p, const struct prom_labels *l, size_t n, const double *le,
		    const uint64_t *cum, uint64_t count, double sum);

/* Appends v in the exposition's number syntax (NaN, +Inf, -Inf, shortest
 * round-trip decimal). */
void prom_format_double(struct buf *out, double v);

#endif

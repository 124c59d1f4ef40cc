/* The store writer: a thread that commits batches so the event loop never
 * waits on the disk.
 *
 * The collector fills a batch, hands it over with writer__submit() and gets
 * an empty one back.  The writer commits each batch in one transaction, in
 * order.  When writes fail (a full disk, say) batches stay queued and are
 * retried every second, so nothing is lost while memory allows; past
 * max_queued_bytes the oldest queued batches are discarded and counted in
 * rows_dropped, never silently.  A batch the store can never take (-EINVAL)
 * is dropped and counted at once.
 *
 * With a retention attached (writer__set_retention), the same thread runs
 * its steps between batches: after each commit and whenever idle, and
 * while work is pending at least once every WRITER_RETENTION_EVERY batches,
 * so neither the ticks nor the pruning starve.  A step is short (see
 * retention.h), so a tick waits at most one step.
 */
#ifndef KS_WRITER_H
#define KS_WRITER_H

#include <stdint.h>

#include "retention.h"
#include "store.h"

#define WRITER_RETENTION_EVERY 8

struct writer;

struct writer_stats {
	uint64_t rows_written;
	uint64_t batches_written;
	uint64_t rows_dropped;      /* discarded after the queue limit while writes failed */
	uint64_t write_errors;      /* failed transactions (each retried) */
	uint64_t rows_queued;       /* submitted, not yet committed */
	double write_ms_total;      /* time inside store__write_batch */
	double write_ms_max;        /* slowest commit so far */
	int last_error;             /* negative errno of the latest failure, 0 once a write succeeds */
	char last_error_msg[STORE_ERR_MAX];
	bool retaining;             /* a retention is attached */
	bool retention_busy;        /* its last step did work: more may be waiting */
	struct retention_stats retention;   /* its figures after its latest step */
};

/* Starts the writer thread on s, which must be open read-write and is used
 * only by the writer from now on (the caller still owns it and closes it
 * after writer__stop). */
int writer__start(struct store *s, size_t max_queued_bytes, struct writer **ret);

/* Queues full (if it has rows; NULL is fine) and returns an empty batch for
 * the caller to fill.  Never blocks on the disk. */
struct batch *writer__submit(struct writer *w, struct batch *full);

/* Waits until every submitted batch is committed or timeout_ns passes.
 * Returns 0, -ETIMEDOUT, or the last write error. */
int writer__flush(struct writer *w, int64_t timeout_ns);

void writer__stats(struct writer *w, struct writer_stats *ret);

/* Waits until the queue is empty and the retention has no work pending,
 * or it ran max_steps steps since the call, or timeout_ns passed: the
 * idle time of a tick, for benchmarks and tests that compress time.
 * Returns the steps run meanwhile. */
unsigned writer__settle(struct writer *w, unsigned max_steps, int64_t timeout_ns);

/* Runs r's steps in the writer thread from now on (see above).  r must be
 * open on the writer's store; the caller still owns it and closes it after
 * writer__stop().  NULL detaches (after the step in progress). */
void writer__set_retention(struct writer *w, struct retention *r);

/* Commits what is queued (retrying failures for up to timeout_ns), stops the
 * thread and frees the writer with the batches queued or kept for reuse; a
 * batch the caller still holds (the last one writer__submit returned) is
 * the caller's to free.  Fills *ret_stats when non-NULL.  Returns NULL. */
struct writer *writer__stop(struct writer *w, int64_t timeout_ns, struct writer_stats *ret_stats);

#endif

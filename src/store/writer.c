/* Store writer thread (see writer.h). */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/clock.h"

#define FREE_MAX 4

struct writer {
	struct store *store;
	size_t max_queued_bytes;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;         /* queue grew or stop requested */
	pthread_cond_t done;         /* a batch was committed or dropped */
	/* queue of full batches, oldest first */
	struct batch **queue;
	size_t queued, queue_cap;
	size_t queued_bytes;
	bool writing;                /* queue[0] is being written, unlocked */
	struct batch *free_list[FREE_MAX];
	size_t nfree;
	bool stop;
	int64_t stop_deadline;
	struct writer_stats stats;
	/* retention (writer__set_retention) */
	struct retention *retention;
	bool retention_pending;      /* its last step did work */
	bool committed;              /* a batch was committed since its last step */
	unsigned since_step;         /* batches committed since its last step */
	int64_t retention_next;      /* CLOCK_MONOTONIC: step again when idle */
};

static struct timespec abs_after(int64_t ns)
{
	int64_t t = clock_real_ns() + ns;

	return (struct timespec){ .tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC };
}

static void recycle(struct writer *w, struct batch *b)
{
	if (w->nfree < FREE_MAX) {
		batch__clear(b);
		/* Spares that wait under this one were left by a burst (the
		 * writer lagged) and may wait for the agent's life: not with
		 * the burst's buffers. */
		for (size_t i = 0; i < w->nfree; i++)
			batch__shrink(w->free_list[i], 64 << 10);
		w->free_list[w->nfree++] = b;
	} else {
		batch__free(b);
		free(b);
	}
}

/* Removes queue[i]; caller holds the lock. */
static struct batch *take(struct writer *w, size_t i)
{
	struct batch *b = w->queue[i];

	memmove(&w->queue[i], &w->queue[i + 1], (w->queued - i - 1) * sizeof(*w->queue));
	w->queued--;
	w->queued_bytes -= batch__bytes(b);
	w->stats.rows_queued -= b->rows;
	return b;
}

/* One retention step, unlocked; caller holds the lock. */
static void retention_step(struct writer *w)
{
	struct retention *r = w->retention;
	char err[STORE_ERR_MAX];
	int64_t wait = NSEC_PER_SEC;
	int rc;

	pthread_mutex_unlock(&w->lock);
	rc = retention__step(r, &wait, err);
	pthread_mutex_lock(&w->lock);
	w->since_step = 0;
	w->committed = false;
	w->retention_pending = rc > 0;
	w->stats.retention_busy = rc > 0;
	if (rc < 0 || wait > NSEC_PER_SEC)
		wait = NSEC_PER_SEC;     /* after an error: try again in a second */
	w->retention_next = clock_mono_ns() + wait;
	retention__stats(r, &w->stats.retention);
	pthread_cond_broadcast(&w->done);
}

static bool retention_due(const struct writer *w)
{
	return w->retention && (w->retention_pending || w->committed || clock_mono_ns() >= w->retention_next);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char err[STORE_ERR_MAX];

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct batch *b;
		int64_t t0;
		double ms;
		int rc;

		while (!w->queued && !w->stop) {
			if (retention_due(w)) {
				retention_step(w);
				continue;
			}
			if (w->retention) {
				struct timespec until = abs_after(w->retention_next - clock_mono_ns());

				pthread_cond_timedwait(&w->work, &w->lock, &until);
			} else {
				pthread_cond_wait(&w->work, &w->lock);
			}
		}
		if (!w->queued)
			break;
		b = w->queue[0];
		w->writing = true;
		pthread_mutex_unlock(&w->lock);

		t0 = clock_mono_ns();
		rc = store__write_batch(w->store, b, err);
		ms = (double)(clock_mono_ns() - t0) / 1e6;

		pthread_mutex_lock(&w->lock);
		w->writing = false;
		w->stats.write_ms_total += ms;
		if (ms > w->stats.write_ms_max)
			w->stats.write_ms_max = ms;
		if (!rc) {
			w->stats.rows_written += b->rows;
			w->stats.batches_written++;
			w->stats.last_error = 0;
			recycle(w, take(w, 0));
			pthread_cond_broadcast(&w->done);
			w->committed = true;
			if (w->retention && w->retention_pending && ++w->since_step >= WRITER_RETENTION_EVERY)
				retention_step(w);
			continue;
		}
		w->stats.write_errors++;
		w->stats.last_error = rc;
		memcpy(w->stats.last_error_msg, err, sizeof(err));
		if (rc == -EINVAL) {
			/* This batch can never be stored: count it lost rather
			 * than hold up every batch behind it. */
			struct batch *lost = take(w, 0);

			w->stats.rows_dropped += lost->rows;
			recycle(w, lost);
			pthread_cond_broadcast(&w->done);
			continue;
		}
		if (w->stop && clock_mono_ns() >= w->stop_deadline) {
			/* Giving up at shutdown: count what is lost. */
			while (w->queued) {
				struct batch *lost = take(w, 0);

				w->stats.rows_dropped += lost->rows;
				recycle(w, lost);
			}
			pthread_cond_broadcast(&w->done);
			break;
		}
		struct timespec until = abs_after(w->stop ? NSEC_PER_SEC / 4 : NSEC_PER_SEC);
		pthread_cond_timedwait(&w->work, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int writer__start(struct store *s, size_t max_queued_bytes, struct writer **ret)
{
	struct writer *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	w->store = s;
	w->max_queued_bytes = max_queued_bytes;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc) {
		free(w);
		return -rc;
	}
	*ret = w;
	return 0;
}

struct batch *writer__submit(struct writer *w, struct batch *full)
{
	struct batch *fresh;

	pthread_mutex_lock(&w->lock);
	if (full && full->rows) {
		if (w->queued == w->queue_cap) {
			w->queue_cap = w->queue_cap ? w->queue_cap * 2 : 8;
			w->queue = realloc(w->queue, w->queue_cap * sizeof(*w->queue));
			if (!w->queue)
				abort();
		}
		w->queue[w->queued++] = full;
		w->queued_bytes += batch__bytes(full);
		w->stats.rows_queued += full->rows;
		/* Over the limit: drop the oldest batch not being written. */
		while (w->queued_bytes > w->max_queued_bytes && w->queued > (w->writing ? 2u : 1u)) {
			struct batch *lost = take(w, w->writing ? 1 : 0);

			w->stats.rows_dropped += lost->rows;
			recycle(w, lost);
		}
		pthread_cond_signal(&w->work);
		full = NULL;
	}
	if (full) {
		fresh = full;     /* empty: hand it straight back */
	} else if (w->nfree) {
		fresh = w->free_list[--w->nfree];
	} else {
		fresh = malloc(sizeof(*fresh));
		if (!fresh)
			abort();
		batch__init(fresh);
	}
	pthread_mutex_unlock(&w->lock);
	return fresh;
}

int writer__flush(struct writer *w, int64_t timeout_ns)
{
	struct timespec until = abs_after(timeout_ns);
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	while (w->queued && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->done, &w->lock, &until);
	rc = w->queued ? (w->stats.last_error ? w->stats.last_error : -ETIMEDOUT) : 0;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

unsigned writer__settle(struct writer *w, unsigned max_steps, int64_t timeout_ns)
{
	struct timespec until = abs_after(timeout_ns);
	uint64_t first;
	unsigned steps;
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	first = w->stats.retention.steps;
	/* A commit makes a step due: wait for that one at least. */
	while (rc != ETIMEDOUT && w->retention &&
	       (w->queued || w->committed || w->retention_pending) && w->stats.retention.steps - first < max_steps)
		rc = pthread_cond_timedwait(&w->done, &w->lock, &until);
	steps = (unsigned)(w->stats.retention.steps - first);
	pthread_mutex_unlock(&w->lock);
	return steps;
}

void writer__set_retention(struct writer *w, struct retention *r)
{
	pthread_mutex_lock(&w->lock);
	w->retention = r;
	w->stats.retaining = r != NULL;
	w->retention_next = 0;
	if (r)
		retention__stats(r, &w->stats.retention);
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

void writer__stats(struct writer *w, struct writer_stats *ret)
{
	pthread_mutex_lock(&w->lock);
	*ret = w->stats;
	pthread_mutex_unlock(&w->lock);
}

struct writer *writer__stop(struct writer *w, int64_t timeout_ns, struct writer_stats *ret_stats)
{
	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	w->stop_deadline = clock_mono_ns() + timeout_ns;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	if (ret_stats)
		*ret_stats = w->stats;
	for (size_t i = 0; i < w->nfree; i++) {
		batch__free(w->free_list[i]);
		free(w->free_list[i]);
	}
	free(w->queue);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	free(w);
	return NULL;
}

/* The sink: what a tracer's user side may use of the program running it.
 *
 * Tracers do not see the collector.  They get a struct tracer_sink
 * (t->sink) and, through it: the batch to append rows to, the clock offset
 * that turns the kernel's CLOCK_MONOTONIC stamps into ns since the epoch,
 * the cgroup paths of the ids the kernel reports, ring buffer
 * registration, and the configuration.  The collector (collect/collector.c)
 * implements it; a test can implement it with a plain batch and no loop.
 *
 * The owner keeps batch and offset_ns current and fills rows_added and
 * add_ringbuf; tracers read the fields through the sink__ helpers below
 * and never cache `batch` across sink__rows_added(), which may replace it.
 */
#ifndef KS_SINK_H
#define KS_SINK_H

#include <stddef.h>
#include <stdint.h>

struct batch;
struct cgroup_resolver;
struct config;
struct ks_task;

/* Called for each ring buffer record (libbpf's ring_buffer_sample_fn). */
typedef int (*sink_sample_fn)(void *ctx, void *data, size_t size);

struct tracer_sink {
	struct batch *batch;              /* the batch being filled */
	int64_t offset_ns;                /* CLOCK_REALTIME - CLOCK_MONOTONIC, re-checked every tick */
	struct cgroup_resolver *cgroups;  /* the mounts found at start; NULL when unknown */
	const struct config *cfg;
	/* Rows were appended outside a tick (from a ring buffer record):
	 * the owner may hand a big batch over and put a new one in `batch`. */
	void (*rows_added)(struct tracer_sink *s);
	/* Polls ring buffer map_fd in the owner's loop; fn(ctx, ...) gets each
	 * record.  Returns 0 or a negative errno. */
	int (*add_ringbuf)(struct tracer_sink *s, int map_fd, sink_sample_fn fn, void *ctx);
};

/* The batch to append to now. */
static inline struct batch *sink__batch(const struct tracer_sink *s)
{
	return s->batch;
}

/* Call after appending rows from a ring buffer record. */
static inline void sink__rows_added(struct tracer_sink *s)
{
	s->rows_added(s);
}

static inline int sink__add_ringbuf(struct tracer_sink *s, int map_fd, sink_sample_fn fn, void *ctx)
{
	return s->add_ringbuf(s, map_fd, fn, ctx);
}

static inline int64_t sink__clock_offset(const struct tracer_sink *s)
{
	return s->offset_ns;
}

/* CLOCK_MONOTONIC ns (from BPF) to ns since the epoch. */
static inline int64_t sink__to_real(const struct tracer_sink *s, uint64_t mono_ns)
{
	return (int64_t)mono_ns + s->offset_ns;
}

/* The cgroup path to show for the ids of a task (see
 * cgroup_resolver__path()), or NULL with *ret_id = v2_id when the mounts
 * are unknown. */
const char *sink__cgroup(const struct tracer_sink *s, uint64_t v2_id, uint64_t memcg_id, uint64_t *ret_id);

/* Appends the pid, tid and comm columns of k (the head of every event table). */
void sink__put_task(struct batch *b, const struct ks_task *k);

/* Appends the cgroup_id and cgroup columns of k (the tail of every event table). */
void sink__put_cgroup(const struct tracer_sink *s, struct batch *b, const struct ks_task *k);

#endif

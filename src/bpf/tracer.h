/* The tracer framework: every eBPF tracer plugs in here.
 *
 * A tracer is three files sharing a stem, src/bpf/<name>.bpf.c (kernel
 * side), <name>.h (the contract: fixed-width structs) and <name>.c (user
 * side, which defines `const struct tracer_ops <name>_tracer`), plus one
 * row in TRACERS() below.
 *
 * Lifecycle, driven by the collector for every enabled tracer:
 *   1. the hooks listed in ops->hooks, and the struct fields listed in
 *      ops->fields, are probed in the kernel's BTF; a missing one disables
 *      the tracer with a one-line reason;
 *   2. ops->open opens the skeleton and configures it (read-only data, map
 *      sizes, optional programs) and sets t->skeleton (skel->skeleton);
 *   3. the framework loads the object and attaches every program that is
 *      set to autoload (except perf_event programs, which need the events
 *      ops->start opens);
 *   4. ops->start (optional) registers ring buffers with tracer__add_ringbuf
 *      and anything else that needs loaded maps;
 *   5. every tick ops->collect (optional) turns in-kernel aggregates into rows,
 *      then ops->metrics (optional) writes the tracer's cumulative figures
 *      for Prometheus (see below);
 *   6. ops->destroy frees the skeleton and private state.
 * A failure in 2-4 disables the tracer with the reason and the agent keeps
 * running the others.  A failed collect (5) is counted and its reason kept,
 * as a scraper's failed read is (scrape/scraper.h), and the tracer keeps
 * running.
 *
 * Rows, clocks, cgroup paths and ring buffers come from the tracer's sink
 * (sink.h, t->sink), never from the collector itself.
 */
#ifndef KS_TRACER_H
#define KS_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../scrape/source.h"
#include "common.h"
#include "sink.h"

struct bpf_object;
struct bpf_object_skeleton;
struct bpf_link;
struct bpf_map;
struct batch;
struct config;
struct prom;
struct prom_labels;

/* The tracer table.  X(name) adds a tracer whose ops are <name>_tracer. */
#define TRACERS(X) \
	X(proc) \
	X(syscall) \
	X(blockio) \
	X(sched) \
	X(pagefault) \
	X(tcp) \
	X(rss)

enum tracer_id {
#define X(name) TRACER_##name,
	TRACERS(X)
#undef X
	TRACER_COUNT
};

struct tracer;

typedef int (*tracer_sample_fn)(struct tracer *t, const void *data, size_t size);

struct tracer_ops {
	const char *name;            /* config key and collector_stats name */
	const char *summary;         /* what it records, for --help and docs */
	const char *const *hooks;    /* tracepoints (tp_btf names) that must exist */
	const char *const *fields;   /* kernel struct fields ("task_struct.sched_info") that must exist */
	size_t priv_size;            /* bytes of zeroed private state in t->priv */
	int (*open)(struct tracer *t, const struct config *cfg);
	int (*start)(struct tracer *t);
	int (*collect)(struct tracer *t, struct batch *b, int64_t now_ns);
	/* Writes the tracer's metric families (src/lib/prom.h) from what its
	 * user side keeps between ticks: counters and histograms cumulative
	 * since the tracer started, so every value only grows.  Runs in the
	 * collector thread after collect, on every tick (the HTTP server
	 * serves the text rendered then).  Labels must stay bounded: no pid,
	 * no address; README.md lists every family. */
	void (*metrics)(struct tracer *t, struct prom *p);
	/* The overhead budget (collect/budget.h): measure 1 in `factor` (a
	 * power of two, 1 = full fidelity) of what the tracer samples, from
	 * now on; what the tracer counts stays exact.  Optional: a tracer
	 * without it does not shed.  Writes the skeleton's .bss, no syscall. */
	void (*shed)(struct tracer *t, uint32_t factor);
	void (*destroy)(struct tracer *t);
};

#define TRACER_REASON_MAX 200
#define TRACER_LINKS_MAX 16
#define TRACER_RINGBUFS_MAX 4

struct tracer_ringbuf {
	struct tracer *t;
	tracer_sample_fn fn;
};

struct tracer {
	const struct tracer_ops *ops;
	enum tracer_id id;
	struct tracer_sink *sink;              /* where rows go (not owned) */
	void *priv;
	struct bpf_object_skeleton *skeleton;  /* set by ops->open */
	struct bpf_object *obj;                /* the skeleton's object */
	struct bpf_link *links[TRACER_LINKS_MAX];
	size_t nlinks;
	struct tracer_ringbuf ringbufs[TRACER_RINGBUFS_MAX];
	size_t nringbufs;
	bool enabled;
	enum source_state state;               /* SOURCE_ON exactly when enabled, else the kind of reason */
	char reason[TRACER_REASON_MAX];        /* why not enabled, in words */
	char note[TRACER_REASON_MAX];          /* enabled but degraded: what is missing and why */
	char error[TRACER_REASON_MAX];         /* the last collect failed: why ("" once one succeeds) */
	/* per interval, reset every tick */
	uint64_t events;                       /* events observed (counted by the tracer) */
	uint64_t stats[KS_STAT_MAX];           /* kernel counter deltas */
	uint64_t errors;                       /* failed collects */
	/* since start */
	uint64_t events_total;
	uint64_t stats_total[KS_STAT_MAX];
	uint64_t errors_total;
	double cost_ms;                        /* collect time this interval */
	uint64_t map_bytes;                    /* kernel memory of its maps, read at start */
	uint32_t sample_factor;                /* the overhead budget's factor in force (1: full) */
	uint64_t run_ns_total;                 /* its programs' estimated run time at the last reading */
	/* CLOCK_MONOTONIC when the current collect began: what intervals are
	 * measured on, so that a step of the wall clock is not a rate. */
	int64_t mono_ns;
};

extern const struct tracer_ops *const tracer_table[TRACER_COUNT];

/* Looks a tracer up by name; -1 when unknown. */
int tracer_find(const char *name);

/* True when tracepoint `name` (e.g. "sched_process_exec") can be attached
 * as tp_btf here.  KSIGHT_HIDE_TRACEPOINTS=a,b (for tests of the disabled
 * path) makes the named ones look missing. */
bool tracer_hook_exists(const char *name);

/* Arguments the tracepoint passes to a tp_btf program (its BTF prototype
 * without the leading context pointer), or -1 when it does not exist. */
int tracer_hook_args(const char *name);

/* True when the running kernel's struct `type` has a member `member`
 * (its BTF), for what a kernel option adds to a struct (CONFIG_SCHED_INFO's
 * task_struct.sched_info).  KSIGHT_HIDE_TRACEPOINTS may name it as
 * "type.member" to test the path where it is missing. */
bool tracer_field_exists(const char *type, const char *member);

/* Sets up t for ops and runs steps 1-4 above, with the configuration
 * sink->cfg; rows go to sink, which must outlive t.  Returns 0 with
 * t->enabled, or a negative errno with t->enabled false, t->reason filled
 * and t->state saying which kind of reason (SOURCE_OFF_MISSING: a hook is
 * not in this kernel); either way t must be released with tracer__destroy(). */
int tracer__open(struct tracer *t, enum tracer_id id, struct tracer_sink *sink);

/* Registers ring buffer map rb: fn is called for each record.  The tracer
 * counts what it observed in t->events itself (a record may stand for one
 * event or, for aggregating tracers, be one of many it already counted). */
int tracer__add_ringbuf(struct tracer *t, struct bpf_map *rb, tracer_sample_fn fn);

/* Reads the kernel counters into t->stats (deltas) and calls ops->collect
 * (nothing when t is disabled).  Adds the time taken to t->cost_ms; a
 * failure (a negative errno from ops->collect) counts in t->errors with
 * its reason in t->error, which the next success clears. */
void tracer__collect(struct tracer *t, struct batch *b, int64_t now_ns);

/* Events the kernel side lost (ring buffer full, map or task storage
 * full, out of range): this interval's, or since start with total. */
uint64_t tracer__lost(const struct tracer *t, bool total);

/* What collector_stats counts as drops: the kernel side's losses plus
 * failed collects; this interval's, or since start with total. */
uint64_t tracer__drops(const struct tracer *t, bool total);

/* What to show next to the tracer (collector_stats.reason): why it is
 * disabled, or, when enabled, what it lacks (t->note) and why its last
 * collect failed (t->error), "" when nothing.  Written to buf. */
const char *tracer__reason(const struct tracer *t, char *buf, size_t size);

/* Resets the per-interval counters after they were reported. */
void tracer__end_interval(struct tracer *t);

/* Per-process figures kept per CPU in a hash keyed by tgid: `ncounters`
 * u64 counters followed by the command name (char[KS_COMM_LEN]).  Calls fn
 * once per process with the counters summed over CPUs, emptying the map
 * as it goes (lookup-and-delete batches of 256 processes; one key at a time
 * where the kernel refuses batches).  Use on the half of a double-buffered
 * pair the programs stopped writing. */
typedef void (*tracer_proc_fn)(struct tracer *t, uint32_t pid, const uint64_t *counters, const char *comm,
			       void *ctx);
int tracer__drain_procs(struct tracer *t, struct bpf_map *map, size_t ncounters, tracer_proc_fn fn, void *ctx);

/* Sets the overhead budget's sampling factor (see tracer_ops.shed); false
 * when the tracer is disabled or cannot shed. */
bool tracer__shed(struct tracer *t, uint32_t factor);

/* Has the tracer's programs time themselves on about one run in `every`
 * per CPU (0: none; ks_costs in common.bpf.h). */
void tracer__self_timing(struct tracer *t, uint32_t every);

/* Estimated run time of all the tracer's programs since self-timing began,
 * in ns: the sum of the timed runs, each counted `every` times; 0 when
 * disabled. */
uint64_t tracer__run_ns(const struct tracer *t);

/* Bytes of kernel memory held by the tracer's maps. */
uint64_t tracer__map_bytes(const struct tracer *t);

void tracer__destroy(struct tracer *t);

/* Frees the kernel BTF cached by tracer_hook_exists(). */
void tracer_hooks_release(void);

/* Bucket layouts for tracer_metrics_hist(): every finite `le` is a bucket
 * edge of hist.h, so the counts are exact, never interpolated. */
enum hist_layout {
	HIST_NATIVE,          /* all 255 finite edges: 1 ns ... 16.1 s */
	HIST_POW2_FROM_1US,   /* every power of two from 1.024 us to 8.59 s (24 edges) */
	HIST_POW4_FROM_1US,   /* every power of four from 1.024 us to 4.29 s (12 edges) */
};

/* Writes counts[HIST_BUCKETS] (cumulative per-bucket counts of ns values) as
 * one histogram of the current family, in seconds: bucket `le`=X counts the
 * values below X ns (values are whole ns, so at most 1 ns off the "<= X"
 * of the format), the last bucket (values of 16.1 s and more) only +Inf,
 * _sum is sum_ns in seconds and _count the sum of the buckets. */
void tracer_metrics_hist(struct prom *p, const struct prom_labels *l, const uint64_t *counts, double sum_ns,
			 enum hist_layout layout);

/* Per-CPU rate cap for common.bpf.h from a per-second total. */
uint64_t tracer_rate_cap_per_cpu(uint64_t per_second);

#endif

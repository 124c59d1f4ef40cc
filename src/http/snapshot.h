/* The agent's state as of its latest tick, published for the HTTP threads.
 *
 * The collector thread owns the tracers, scrapers and writer; HTTP threads
 * must not touch them.  Once per tick (from the agent's on_tick hook, after
 * collection) snapshots__publish() copies what the API shows -- every
 * collector's status and counters, the writer's figures -- and, while
 * someone scrapes /metrics, renders the whole /metrics text, into a new
 * immutable struct snapshot, then swaps it in under a lock.  Rendering is
 * most of a tick's cost on an idle host, so with no scrape for
 * SNAPSHOT_METRICS_IDLE_S it stops, and the next scrape waits for one tick
 * (snapshots__get_metrics).  A request takes a reference with snapshots__get() and
 * drops it with snapshot__put(), so a scrape never waits for a tick, never
 * sees half of one, and costs no database query.
 */
#ifndef KS_HTTP_SNAPSHOT_H
#define KS_HTTP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/tracer.h"
#include "../scrape/scraper.h"
#include "../store/writer.h"

struct batch;
struct collector;
struct config;
struct prom;

#define SNAPSHOT_COLLECTORS (TRACER_COUNT + SCRAPER_COUNT)

struct snapshot_collector {
	const char *name;              /* static: the tracer's or scraper's ops name */
	const char *kind;              /* "tracer" or "scraper" */
	bool configured;               /* enabled in the configuration */
	bool enabled;                  /* running */
	char reason[200];              /* disabled: why; scraper: last read failure */
	char note[200];                /* tracer running degraded: what is missing */
	uint64_t events_total;         /* events (tracers) or rows (scrapers) since start */
	uint64_t drops_total;          /* lost events (tracers) or failed reads (scrapers) */
	uint64_t rate_limited_total;
	uint64_t events_last;          /* in the last interval */
	uint64_t drops_last;
	double cost_seconds_total;     /* collection time since start */
	uint64_t map_bytes;            /* tracers: kernel memory of their maps */
};

/* The detectors' learning progress (the agent copies watch__learning's
 * figures here each tick; see src/detect/watch.h for what they mean). */
struct snapshot_learning {
	bool enabled;                  /* detection runs */
	uint64_t samples, needed;      /* the median metric's samples, the probation */
	uint32_t metrics_learning, metrics_ready, metrics_seeded;
	int64_t seeded_from_ns;        /* newest stored baseline a detector started from; 0: none */
	uint64_t metric_bytes;         /* memory per judged metric (watch_metric_bytes()) */
};

struct snapshot {
	int refs;                      /* atomic */
	uint64_t generation;           /* 0 before the first tick, then the tick count */
	int64_t time_ns;               /* the tick, ns since the epoch */
	int64_t started_ns;            /* agent start */
	int64_t interval_ns;
	struct snapshot_collector collectors[SNAPSHOT_COLLECTORS];
	size_t ncollectors;
	struct writer_stats store;
	int64_t db_bytes;              /* database file + WAL */
	char *metrics;                 /* the /metrics text (Prometheus 0.0.4); NULL: not
					  rendered (no scrape lately) */
	size_t metrics_len;
	double render_ms;              /* time the collector thread spent building this */
	struct snapshot_learning learning;
};

struct snapshots;

/* Extra metric families rendered into every snapshot (the HTTP server's own
 * counters); called in the collector thread, so it must be thread-safe. */
typedef void (*snapshot_extra_fn)(void *ctx, struct prom *p);

/* cfg (read-only from now on) and w must outlive the snapshots. */
int snapshots__new(const struct config *cfg, struct writer *w, struct snapshots **ret);

/* Adds fn to every later rendering (one hook; NULL removes it). */
void snapshots__set_extra(struct snapshots *sn, snapshot_extra_fn fn, void *ctx);

/* The remediation agent's state for /api/agent/status: fn writes one JSON
 * value and must be thread-safe (request threads call it). */
struct json;
typedef void (*snapshot_status_fn)(void *ctx, struct json *j);
void snapshots__set_remediation(struct snapshots *sn, snapshot_status_fn fn, void *ctx);
/* Writes it into j; false when no remediation agent runs. */
bool snapshots__remediation(struct snapshots *sn, struct json *j);

/* Collector thread: the learning progress every later snapshot shows
 * (until the next call); call it before snapshots__publish. */
void snapshots__set_learning(struct snapshots *sn, const struct snapshot_learning *l);

/* The one line a person reads about l, for a snapshot taken every
 * interval_ns: "learning: 212 of 512 samples (about 5 minutes left)",
 * "ready (seeded from the stored baseline of 2026-12-04 05:12 UTC)",
 * "ready; 3 metrics still learning", or "detection is off".  Returns buf. */
char *snapshot_learning_text(const struct snapshot_learning *l, int64_t interval_ns, char *buf, size_t size);

/* Seconds until the median metric is ready, at one sample per interval_ns. */
double snapshot_learning_left_s(const struct snapshot_learning *l, int64_t interval_ns);

/* Collector thread, once per tick, after collection: builds and publishes
 * the snapshot of c; b is the tick's batch (its scraped rows become gauges;
 * NULL before the first tick). */
void snapshots__publish(struct snapshots *sn, struct collector *c, const struct batch *b, int64_t now_ns);

/* The latest snapshot with a reference the caller drops with
 * snapshot__put(); never NULL once something was published. */
struct snapshot *snapshots__get(struct snapshots *sn);
void snapshot__put(struct snapshot *s);

/* Seconds without a /metrics request after which ticks stop rendering it. */
#define SNAPSHOT_METRICS_IDLE_S 300

/* For a /metrics request: the latest snapshot with its text rendered,
 * asking the collector thread to render it from now on and waiting up to
 * timeout_ns for the next tick when the latest has none.  NULL on timeout. */
struct snapshot *snapshots__get_metrics(struct snapshots *sn, int64_t timeout_ns);

const struct config *snapshots__config(const struct snapshots *sn);

/* Drops the current snapshot (others live until their last put). */
struct snapshots *snapshots__free(struct snapshots *sn);

#endif

/* Rollup declarations and the SQL generated from them (see rollup.h).
 *
 * Each table says which columns are keys, which are summed, which are
 * cumulative counters, maxima, ratios or percentiles; every other number
 * is a level (gauge).  From that, once per program, every rollup column
 * gets three expressions: its aggregate over source rows, its aggregate
 * over the rows of the tier below (minute -> hour, and folding), and the
 * value a single raw row has in that shape (for readers mixing tiers).
 */
#include "rollup.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct pct_decl {
	const char *col, *hist, *bound;   /* percentile column, its histogram, the exact maximum */
	double q;
	double unit_ns;                   /* ns per unit of col and bound */
	bool integer;                     /* stored as INTEGER (truncated), as the tracer does */
};

struct decl {
	enum rollup_class cls;
	const char *keys, *sums, *counters, *maxes, *drops;   /* space-separated column names */
	const char *ratios;               /* "col=num/den ..." */
	const char *top_by;               /* metrics with a comm key: fold past ROLLUP_TOP_COMMS by this */
	const char *type, *latency;       /* events: type column (NULL: none), latency column (NULL: none) */
	struct pct_decl pcts[12];
};

#define PCTS(pre, post, hist, bound, unit, integer) \
	{ pre "p50" post, hist, bound, 0.50, unit, integer }, \
	{ pre "p95" post, hist, bound, 0.95, unit, integer }, \
	{ pre "p99" post, hist, bound, 0.99, unit, integer }

static const struct decl decls[T_COUNT] = {
	[T_COLLECTOR_STATS] = { ROLLUP_METRICS, .keys = "collector kind",
		.sums = "events drops rate_limited cost_ms bytes_freed", .counters = "events_total drops_total",
		.maxes = "sample_factor overhead_pct", .drops = "reason state" },
	[T_PROCESS_EVENTS] = { ROLLUP_EVENTS, .type = "event" },
	[T_MEMORY_METRICS] = { ROLLUP_METRICS },
	[T_LOAD_METRICS] = { ROLLUP_METRICS, .counters = "last_pid uptime_s idle_s" },
	[T_SYSCALL_EVENTS] = { ROLLUP_EVENTS, .type = "syscall_name", .latency = "latency_ns" },
	[T_SYSCALL_STATS] = { ROLLUP_METRICS, .keys = "syscall_nr syscall_name",
		.sums = "interval_ns count errors total_ns timed", .maxes = "max_ns",
		.pcts = { PCTS("", "_ns", "hist", "max_ns", 1, true) } },
	[T_IO_LATENCY_STATS] = { ROLLUP_METRICS, .keys = "device dev_major dev_minor",
		.sums = "interval_ns read_count read_bytes write_count write_bytes flush_count flush_bytes "
			"discard_count discard_bytes other_count",
		.maxes = "read_max_us write_max_us flush_max_us discard_max_us",
		.pcts = { PCTS("read_", "_us", "read_hist", "read_max_us", 1e3, false),
			  PCTS("write_", "_us", "write_hist", "write_max_us", 1e3, false),
			  PCTS("flush_", "_us", "flush_hist", "flush_max_us", 1e3, false),
			  PCTS("discard_", "_us", "discard_hist", "discard_max_us", 1e3, false) } },
	[T_SCHED_EVENTS] = { ROLLUP_METRICS,
		.sums = "interval_ns runq_count context_switches voluntary_switches involuntary_switches wakeups",
		.maxes = "runq_max_us", .pcts = { PCTS("runq_", "_us", "runq_hist", "runq_max_us", 1e3, false) } },
	[T_SCHED_LATENCY_EVENTS] = { ROLLUP_EVENTS, .latency = "latency_ns" },
	[T_PROCESS_CPU_STATS] = { ROLLUP_METRICS, .keys = "comm", .drops = "pid",
		.sums = "interval_ns oncpu_ns voluntary_switches involuntary_switches runq_wait_ns",
		.top_by = "oncpu_ns" },
	[T_PAGE_FAULT_EVENTS] = { ROLLUP_EVENTS, .type = "fault_type", .latency = "latency_ns" },
	[T_PAGE_FAULT_STATS] = { ROLLUP_METRICS, .keys = "comm", .drops = "pid",
		.sums = "interval_ns minor major reads writes execs", .top_by = "minor + major" },
	[T_TCP_RETRANSMIT_EVENTS] = { ROLLUP_EVENTS, .type = "state" },
	[T_CPU_METRICS] = { ROLLUP_METRICS, .keys = "cpu" },
	[T_BLOCK_STATS] = { ROLLUP_METRICS, .keys = "device_name major minor",
		.counters = "read_ios read_merges read_sectors read_ticks write_ios write_merges write_sectors "
			    "write_ticks io_ticks time_in_queue discard_ios discard_merges discard_sectors "
			    "discard_ticks flush_ios flush_ticks" },
	[T_NETWORK_INTERFACE_STATS] = { ROLLUP_METRICS, .keys = "interface_name",
		.counters = "rx_bytes rx_packets rx_errors rx_drops tx_bytes tx_packets tx_errors tx_drops" },
	[T_TCP_STATS] = { ROLLUP_METRICS, .keys = "source" },
	[T_TCP_RETRANSMIT_STATS] = { ROLLUP_METRICS,
		.counters = "retrans_segs out_segs in_segs active_opens passive_opens attempt_fails estab_resets "
			    "in_errs out_rsts",
		.sums = "interval_ms retrans_segs_delta out_segs_delta",
		.ratios = "retransmit_ratio=retrans_segs_delta/out_segs_delta" },
	[T_PRESSURE_METRICS] = { ROLLUP_METRICS, .keys = "resource", .counters = "some_total_us full_total_us" },
	[T_VMSTAT_METRICS] = { ROLLUP_METRICS,
		.sums = "interval_ms pgfault pgmajfault pswpin pswpout pgpgin pgpgout pgscan pgsteal oom_kill "
			"allocstall thp_fault_alloc" },
	[T_AGENT_ACTIONS] = { ROLLUP_RECORDS },
	[T_AGENT_CYCLES] = { ROLLUP_RAW_ONLY },
	[T_ANOMALIES] = { ROLLUP_RECORDS },
	[T_BASELINES] = { ROLLUP_RAW_ONLY },
	[T_MEMORY_GROWTH_EVENTS] = { ROLLUP_RECORDS },
	[T_RUN_PROCESSES] = { ROLLUP_RECORDS },
	[T_RUNS] = { ROLLUP_RECORDS },
	[T_BOOTS] = { ROLLUP_RECORDS },
};

enum kind { K_KEY, K_GAUGE, K_SUM, K_COUNTER, K_MAX, K_PCT, K_HIST, K_RATIO, K_SAMPLES, K_SPREAD, K_DROP };

/* One generated column. */
struct gcol {
	enum kind kind;
	char *agg_raw;       /* over source rows */
	char *agg_merge;     /* over rows of the tier below, or of the same tier when folding */
	char *row;           /* one source row in this shape */
	char *outer;         /* final value from the inner aliases c<i>; NULL: c<i> itself */
};

struct rtable {
	bool rolled;
	struct column *columns;       /* timestamp first */
	struct gcol *g;               /* [ncolumns], g[0] unused */
	unsigned ncolumns;
	char *top_score;              /* fold score over rollup rows; NULL: no folding */
	struct table table[TIER_COUNT];
	char *insert_sql[TIER_COUNT];
	char *fold_sql[TIER_COUNT][ROLLUP_FOLD_STEPS];
};

static struct rtable rtables[T_COUNT];
static const struct table *all_tables[2 * T_COUNT];
static size_t nall;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const int64_t periods[TIER_COUNT] = { 0, 60 * 1000000000LL, 3600 * 1000000000LL };

int64_t tier__period_ns(enum tier tier) { return periods[tier]; }

const char *tier__name(enum tier tier)
{
	static const char *const names[TIER_COUNT] = { "raw", "1m", "1h" };

	return names[tier];
}

enum rollup_class rollup__class(enum table_id t) { return decls[t].cls; }

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* True when name is a word of the space-separated list. */
static bool in_list(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, " ");

		if (n == len && !strncmp(p, name, len))
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

/* Asserts that every word of list is a column of source (a declaration
 * naming a column the schema lost is a programming error). */
static void check_list(const struct table *source, const char *list)
{
	char word[64];

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, " =/");

		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		if (n && schema_column(source, word) < 0) {
			fprintf(stderr, "rollup: %s has no column '%s'\n", source->name, word);
			abort();
		}
		p += n;
		p += strspn(p, " =/");
	}
}

static const struct pct_decl *find_pct(const struct decl *d, const char *col)
{
	for (size_t i = 0; i < sizeof(d->pcts) / sizeof(d->pcts[0]) && d->pcts[i].col; i++)
		if (!strcmp(d->pcts[i].col, col))
			return &d->pcts[i];
	return NULL;
}

/* The "num/den" of a ratio column, or false. */
static bool find_ratio(const struct decl *d, const char *col, char *num, char *den)
{
	size_t len = strlen(col);

	for (const char *p = d->ratios; p && *p;) {
		size_t n = strcspn(p, " ");

		if (!strncmp(p, col, len) && p[len] == '=') {
			const char *slash = memchr(p, '/', n);

			assert(slash);
			snprintf(num, 64, "%.*s", (int)(slash - p - len - 1), p + len + 1);
			snprintf(den, 64, "%.*s", (int)(p + n - slash - 1), slash + 1);
			return true;
		}
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

struct builder {
	struct rtable *rt;
	unsigned cap;
};

static unsigned add_col(struct builder *b, const char *name, enum col_type type, char *doc, enum kind kind,
			char *agg_raw, char *agg_merge, char *row)
{
	struct rtable *rt = b->rt;

	if (rt->ncolumns == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		rt->columns = realloc(rt->columns, b->cap * sizeof(*rt->columns));
		rt->g = realloc(rt->g, b->cap * sizeof(*rt->g));
		if (!rt->columns || !rt->g)
			abort();
	}
	rt->columns[rt->ncolumns] = (struct column){ xstrdup(name), type, doc };
	rt->g[rt->ncolumns] = (struct gcol){ kind, agg_raw, agg_merge, row, NULL };
	return rt->ncolumns++;
}

static int col_index(const struct rtable *rt, const char *name)
{
	for (unsigned c = 0; c < rt->ncolumns; c++)
		if (!strcmp(rt->columns[c].name, name))
			return (int)c;
	return -1;
}

static void build_metrics(struct builder *b, const struct table *src, const struct decl *d)
{
	struct rtable *rt = b->rt;
	enum kind kinds[64];

	assert(src->ncolumns <= 64);
	for (unsigned c = 1; c < src->ncolumns; c++) {
		const struct column *col = &src->columns[c];
		const char *x = col->name;
		char num[64], den[64];
		enum kind k;

		if (in_list(d->drops, x)) {
			kinds[c] = K_DROP;
			continue;
		}
		if (in_list(d->keys, x))
			k = K_KEY;
		else if (col->type == COL_BLOB)
			k = K_HIST;
		else if (find_pct(d, x))
			k = K_PCT;
		else if (find_ratio(d, x, num, den))
			k = K_RATIO;
		else if (in_list(d->sums, x))
			k = K_SUM;
		else if (in_list(d->counters, x))
			k = K_COUNTER;
		else if (in_list(d->maxes, x))
			k = K_MAX;
		else if (col->type == COL_TEXT) {
			fprintf(stderr, "rollup: %s.%s is text but neither a key nor dropped\n", src->name, x);
			abort();
		} else
			k = K_GAUGE;
		kinds[c] = k;
		switch (k) {
		case K_KEY:
			add_col(b, x, col->type, fmt("%s", col->doc), k, xstrdup(x), xstrdup(x), xstrdup(x));
			break;
		case K_GAUGE:
			add_col(b, x, COL_REAL, fmt("mean over the period of: %s", col->doc), k, fmt("avg(%s)", x),
				fmt("sum(%s * samples) * 1.0 / sum(CASE WHEN %s IS NOT NULL THEN samples END)", x, x),
				xstrdup(x));
			break;
		case K_SUM:
			add_col(b, x, col->type, fmt("summed over the period: %s", col->doc), k, fmt("sum(%s)", x),
				fmt("sum(%s)", x), xstrdup(x));
			break;
		case K_COUNTER:
			add_col(b, x, col->type, fmt("last (largest) reading in the period: %s", col->doc), k,
				fmt("max(%s)", x), fmt("max(%s)", x), xstrdup(x));
			break;
		case K_MAX:
			add_col(b, x, col->type, fmt("largest in the period: %s", col->doc), k, fmt("max(%s)", x),
				fmt("max(%s)", x), xstrdup(x));
			break;
		case K_HIST:
			add_col(b, x, COL_BLOB, fmt("the period's histograms merged: %s", col->doc), k,
				fmt("ks_hist_merge(%s)", x), fmt("ks_hist_merge(%s)", x), xstrdup(x));
			break;
		case K_PCT:
			/* Inner: the worst interval's value, used only where no
			 * histogram was stored (rows from before schema v2). */
			add_col(b, x, col->type,
				fmt("%s; from the period's merged histogram (rows without one: the worst interval's)",
				    col->doc),
				k, fmt("max(%s)", x), fmt("max(%s)", x), xstrdup(x));
			break;
		case K_RATIO:
			find_ratio(d, x, num, den);
			add_col(b, x, COL_REAL, fmt("%s; recomputed from the period's sums", col->doc), k,
				fmt("CAST(sum(%s) AS REAL) / nullif(sum(%s), 0)", num, den),
				fmt("CAST(sum(%s) AS REAL) / nullif(sum(%s), 0)", num, den), xstrdup(x));
			break;
		default:
			break;
		}
	}
	add_col(b, "samples", COL_INT, xstrdup("source rows folded into this row (ticks; ticks x processes per command)"),
		K_SAMPLES, xstrdup("count(*)"), xstrdup("sum(samples)"), xstrdup("1"));
	for (unsigned c = 1; c < src->ncolumns; c++) {
		const struct column *col = &src->columns[c];
		const char *x = col->name;
		char name[96];

		switch (kinds[c]) {
		case K_GAUGE:
			snprintf(name, sizeof(name), "%s_min", x);
			add_col(b, name, col->type, fmt("smallest %s in the period", x), K_SPREAD, fmt("min(%s)", x),
				fmt("min(%s_min)", x), xstrdup(x));
			snprintf(name, sizeof(name), "%s_max", x);
			add_col(b, name, col->type, fmt("largest %s in the period", x), K_SPREAD, fmt("max(%s)", x),
				fmt("max(%s_max)", x), xstrdup(x));
			break;
		case K_SUM:
			snprintf(name, sizeof(name), "%s_max", x);
			add_col(b, name, col->type, fmt("largest single %s (the busiest interval or row)", x), K_SPREAD,
				fmt("max(%s)", x), fmt("max(%s_max)", x), xstrdup(x));
			break;
		case K_COUNTER:
			snprintf(name, sizeof(name), "%s_min", x);
			add_col(b, name, col->type, fmt("first (smallest) reading of %s in the period", x), K_SPREAD,
				fmt("min(%s)", x), fmt("min(%s_min)", x), xstrdup(x));
			break;
		default:
			break;
		}
	}
	/* Percentiles: the final value from the merged histogram. */
	for (unsigned c = 1; c < rt->ncolumns; c++) {
		const struct pct_decl *p = rt->g[c].kind == K_PCT ? find_pct(d, rt->columns[c].name) : NULL;
		int h, bound;

		if (!p)
			continue;
		h = col_index(rt, p->hist);
		bound = col_index(rt, p->bound);
		assert(h > 0 && bound > 0);
		if (p->integer)
			rt->g[c].outer = fmt("coalesce(CAST(ks_hist_quantile(c%d, %.2f, c%d * %g) / %g AS INTEGER), c%u)",
					     h, p->q, bound, p->unit_ns, p->unit_ns, c);
		else
			rt->g[c].outer = fmt("coalesce(ks_hist_quantile(c%d, %.2f, c%d * %g) / %g, c%u)", h, p->q, bound,
					     p->unit_ns, p->unit_ns, c);
	}
	if (d->top_by)
		rt->top_score = fmt("sum(%s)", d->top_by);
}

static void build_events(struct builder *b, const struct table *src, const struct decl *d)
{
	struct rtable *rt = b->rt;
	int comm = schema_column(src, "comm");

	assert(comm > 0);
	if (d->type) {
		int c = schema_column(src, d->type);

		assert(c > 0);
		add_col(b, d->type, src->columns[c].type, fmt("%s", src->columns[c].doc), K_KEY, xstrdup(d->type),
			xstrdup(d->type), xstrdup(d->type));
	}
	add_col(b, "comm", COL_TEXT,
		fmt("command name: the %d busiest of the period by events, the rest summed as '%s'", ROLLUP_TOP_COMMS,
		    ROLLUP_OTHER),
		K_KEY, xstrdup("comm"), xstrdup("comm"), xstrdup("comm"));
	add_col(b, "count", COL_INT, xstrdup("events in the period"), K_SUM, xstrdup("count(*)"),
		xstrdup("sum(count)"), xstrdup("1"));
	if (d->latency) {
		add_col(b, "latency_ns_sum", COL_INT, fmt("summed %s (mean: latency_ns_sum / count)", d->latency),
			K_SUM, fmt("sum(%s)", d->latency), xstrdup("sum(latency_ns_sum)"), xstrdup(d->latency));
		add_col(b, "latency_ns_max", COL_INT, fmt("largest %s", d->latency), K_MAX, fmt("max(%s)", d->latency),
			xstrdup("max(latency_ns_max)"), xstrdup(d->latency));
	}
	rt->top_score = xstrdup("sum(count)");
}

/* Key columns of rt joined for GROUP BY, leaving out `skip` (NULL: none). */
static void keys_of(const struct rtable *rt, struct buf *out, const char *skip)
{
	for (unsigned c = 1; c < rt->ncolumns; c++)
		if (rt->g[c].kind == K_KEY && (!skip || strcmp(rt->columns[c].name, skip)))
			buf_printf(out, ", %s", rt->columns[c].name);
}

/* INSERT INTO dst ... SELECT over rows of `from` (merge: already in rollup
 * shape) with `where`, grouped by period p and keys; fold: comm becomes
 * ROLLUP_OTHER and is not grouped. */
static char *insert_sql(const struct rtable *rt, const char *dst, const char *from, bool merge, int64_t period,
			const char *where, bool fold)
{
	struct buf sql = BUF_INIT;
	char *out;

	buf_printf(&sql, "INSERT INTO %s (timestamp", dst);
	for (unsigned c = 1; c < rt->ncolumns; c++)
		buf_printf(&sql, ", %s", rt->columns[c].name);
	buf_adds(&sql, ") SELECT p");
	for (unsigned c = 1; c < rt->ncolumns; c++) {
		if (rt->g[c].outer)
			buf_printf(&sql, ", %s", rt->g[c].outer);
		else
			buf_printf(&sql, ", c%u", c);
	}
	buf_printf(&sql, " FROM (SELECT timestamp / %lld * %lld AS p", (long long)period, (long long)period);
	for (unsigned c = 1; c < rt->ncolumns; c++) {
		if (fold && !strcmp(rt->columns[c].name, "comm"))
			buf_printf(&sql, ", '%s' AS c%u", ROLLUP_OTHER, c);
		else
			buf_printf(&sql, ", %s AS c%u", merge ? rt->g[c].agg_merge : rt->g[c].agg_raw, c);
	}
	buf_printf(&sql, " FROM %s WHERE %s GROUP BY p", from, where);
	keys_of(rt, &sql, fold ? "comm" : NULL);
	buf_adds(&sql, ")");
	out = xstrdup(sql.data);
	buf_free(&sql);
	return out;
}

static void build_one(enum table_id t)
{
	const struct table *src = &schema_tables[t];
	const struct decl *d = &decls[t];
	struct rtable *rt = &rtables[t];
	struct builder b = { rt, 0 };

	if (d->cls != ROLLUP_METRICS && d->cls != ROLLUP_EVENTS)
		return;
	check_list(src, d->keys);
	check_list(src, d->sums);
	check_list(src, d->counters);
	check_list(src, d->maxes);
	check_list(src, d->drops);
	check_list(src, d->ratios);
	check_list(src, d->type);
	check_list(src, d->latency);
	rt->rolled = true;
	add_col(&b, "timestamp", COL_INT, xstrdup("start of the period, ns since the Unix epoch"), K_KEY, NULL, NULL,
		NULL);
	if (d->cls == ROLLUP_METRICS)
		build_metrics(&b, src, d);
	else
		build_events(&b, src, d);
	for (int tier = TIER_MINUTE; tier < TIER_COUNT; tier++) {
		struct table *tab = &rt->table[tier];
		char name[96], ids[256];

		snprintf(name, sizeof(name), "%s_%s", src->name, tier__name(tier));
		tab->name = xstrdup(name);
		tab->doc = fmt("%s, per %s (kept for retention.%s): %s", src->name, tier == TIER_MINUTE ? "minute" : "hour",
			       tier == TIER_MINUTE ? "minute" : "hour",
			       d->cls == ROLLUP_EVENTS ? "events counted per type and command"
						       : "levels averaged with their range, counts summed, "
							 "percentiles from merged histograms");
		tab->columns = rt->columns;
		tab->ncolumns = rt->ncolumns;
		rt->insert_sql[tier] = insert_sql(rt, tab->name, tier == TIER_MINUTE ? src->name : rt->table[TIER_MINUTE].name,
						  tier == TIER_HOUR, periods[tier], "timestamp >= ?1 AND timestamp < ?2", false);
		if (!rt->top_score)
			continue;
		rt->fold_sql[tier][0] = xstrdup("DELETE FROM temp.ks_fold");
		rt->fold_sql[tier][1] = fmt("INSERT INTO temp.ks_fold SELECT rowid FROM %s WHERE timestamp >= ?1 AND "
					    "timestamp < ?2 AND (comm IS NULL OR comm NOT IN (SELECT comm FROM %s WHERE "
					    "timestamp >= ?1 AND timestamp < ?2 AND comm IS NOT NULL AND comm != '%s' "
					    "GROUP BY comm ORDER BY %s DESC, comm LIMIT %d))",
					    tab->name, tab->name, ROLLUP_OTHER, rt->top_score, ROLLUP_TOP_COMMS);
		snprintf(ids, sizeof(ids), "rowid IN (SELECT id FROM temp.ks_fold)");
		rt->fold_sql[tier][2] = insert_sql(rt, tab->name, tab->name, true, periods[tier], ids, true);
		rt->fold_sql[tier][3] = fmt("DELETE FROM %s WHERE %s", tab->name, ids);
	}
}

static void build_all(void)
{
	/* Minute tables of every source first, then hour tables, both in
	 * schema order (rollup__tables' promise). */
	for (int t = 0; t < T_COUNT; t++)
		build_one(t);
	nall = 0;
	for (int tier = TIER_MINUTE; tier < TIER_COUNT; tier++)
		for (int t = 0; t < T_COUNT; t++)
			if (rtables[t].rolled)
				all_tables[nall++] = &rtables[t].table[tier];
}

static void init(void)
{
	pthread_once(&once, build_all);
}

const struct table *rollup__table(enum table_id t, enum tier tier)
{
	init();
	return rtables[t].rolled && tier != TIER_RAW ? &rtables[t].table[tier] : NULL;
}

const struct table *const *rollup__tables(size_t *ret_n)
{
	init();
	*ret_n = nall;
	return all_tables;
}

const char *rollup__insert_sql(enum table_id t, enum tier tier)
{
	init();
	return rtables[t].rolled && tier != TIER_RAW ? rtables[t].insert_sql[tier] : NULL;
}

bool rollup__folds(enum table_id t)
{
	init();
	return rtables[t].rolled && rtables[t].top_score;
}

const char *rollup__fold_sql(enum table_id t, enum tier tier, int step)
{
	init();
	assert(step >= 0 && step < ROLLUP_FOLD_STEPS);
	return rollup__folds(t) && tier != TIER_RAW ? rtables[t].fold_sql[tier][step] : NULL;
}

bool rollup__has_column(enum table_id t, const char *name)
{
	init();
	return rtables[t].rolled && col_index(&rtables[t], name) >= 0;
}

void rollup__from(struct buf *sql, enum table_id t, const char *const *cols, const char *since, const char *until,
		  const char *hour, const char *minute)
{
	const struct rtable *rt;

	init();
	rt = &rtables[t];
	assert(rt->rolled);
	for (int tier = TIER_HOUR; tier >= TIER_RAW; tier--) {
		buf_adds(sql, tier == TIER_HOUR ? "(SELECT timestamp" : " UNION ALL SELECT timestamp");
		for (const char *const *c = cols; *c; c++) {
			int k = col_index(rt, *c);

			assert(k > 0 && "no such rollup column");
			if (tier == TIER_RAW)
				buf_printf(sql, ", %s AS %s", rt->g[k].row, *c);
			else
				buf_printf(sql, ", %s", *c);
		}
		switch (tier) {
		case TIER_HOUR:
			buf_printf(sql, " FROM %s WHERE timestamp >= %s AND timestamp < min(%s, %s)",
				   rt->table[TIER_HOUR].name, since, hour, until);
			break;
		case TIER_MINUTE:
			buf_printf(sql, " FROM %s WHERE timestamp >= max(%s, %s) AND timestamp < min(%s, %s)",
				   rt->table[TIER_MINUTE].name, since, hour, minute, until);
			break;
		default:
			buf_printf(sql, " FROM %s WHERE timestamp >= max(%s, %s) AND timestamp < %s)",
				   schema_tables[t].name, since, minute, until);
			break;
		}
	}
}

/* ---- planning ---- */

static int one_int(struct store *s, const char *sql, const char *text, int64_t *ret, bool *found, char *err)
{
	struct store_stmt *st;
	int rc;

	*found = false;
	if ((rc = store__prepare(s, sql, &st, err)))
		return rc;
	if (text)
		store_stmt__bind_text(st, 1, text);
	rc = store_stmt__step(st, err);
	if (rc == 1 && !store_stmt__is_null(st, 0)) {
		*ret = store_stmt__int(st, 0);
		*found = true;
	}
	store_stmt__done(st);
	return rc < 0 ? rc : 0;
}

static int64_t ceil_to(int64_t v, int64_t period) { return (v + period - 1) / period * period; }
static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Oldest timestamp of table name; *found false when empty. */
static int oldest(struct store *s, const char *name, int64_t *ret, bool *found, char *err)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT min(timestamp) FROM %s", name);
	return one_int(s, sql, NULL, ret, found, err);
}

int rollup__hour_version(struct store *s, enum table_id t, struct hour_version *ret, char *err)
{
	struct hour_version v = { 0, 0 };
	const struct rtable *rt;
	char sql[160];
	bool found;
	int rc;

	init();
	rt = &rtables[t];
	if (rt->rolled) {
		/* Two statements: SQLite answers a lone min() from the b-tree's
		 * first entry, but scans for two. */
		snprintf(sql, sizeof(sql), "SELECT min(rowid) FROM %s", rt->table[TIER_HOUR].name);
		if ((rc = one_int(s, sql, NULL, &v.first_rowid, &found, err)) ||
		    (rc = oldest(s, rt->table[TIER_HOUR].name, &v.first_ns, &found, err)))
			return rc;
	}
	*ret = v;
	return 0;
}

int rollup__plan(struct store *s, enum table_id t, int64_t since, int64_t until, int64_t step_ns,
		 struct tier_plan *ret, char *err)
{
	const struct rtable *rt;
	int64_t m1 = 0, m2 = 0, ro = 0, mo = 0, exists = 0;
	bool have_m1, have_m2, have_ro, have_mo, found;
	enum tier want = step_ns >= periods[TIER_HOUR] ? TIER_HOUR : step_ns >= periods[TIER_MINUTE] ? TIER_MINUTE
												   : TIER_RAW;
	int rc;

	init();
	rt = &rtables[t];
	*ret = (struct tier_plan){ TIER_RAW, since, since, INT64_MAX };
	if (!rt->rolled)
		return 0;
	/* A database without rollups (older, or never seen by an agent). */
	if ((rc = one_int(s, "SELECT count(*) FROM sqlite_master WHERE name = '" ROLLUP_MARKS "'", NULL, &exists,
			  &found, err)))
		return rc;
	if (!exists)
		return 0;
	if ((rc = one_int(s, "SELECT through_ns FROM " ROLLUP_MARKS " WHERE name = ?1", rt->table[TIER_MINUTE].name, &m1,
			  &have_m1, err)) ||
	    (rc = one_int(s, "SELECT through_ns FROM " ROLLUP_MARKS " WHERE name = ?1", rt->table[TIER_HOUR].name, &m2,
			  &have_m2, err)))
		return rc;
	if (!have_m1)
		return 0;
	if (!have_m2)
		m2 = since;
	/* The splits fall on the coarser tier's period boundaries (a row of
	 * it ends where the next branch starts): H a whole hour or since, M a
	 * whole minute or H.  Each branch starts where its tier has rows. */
	ret->tier = want;
	if (want == TIER_HOUR) {
		ret->hour_until = clamp(m2, since, until);
		ret->minute_until = clamp(m1, ret->hour_until, until);
		return 0;
	}
	if (want == TIER_RAW) {
		if ((rc = oldest(s, schema_tables[t].name, &ro, &have_ro, err)))
			return rc;
		if (have_ro && ro <= since)
			return 0;       /* raw covers the whole range */
		m1 = have_ro && ceil_to(ro, periods[TIER_MINUTE]) < m1 ? ceil_to(ro, periods[TIER_MINUTE]) : m1;
	}
	if (m1 <= since) {
		ret->minute_until = ret->hour_until = since;
		return 0;
	}
	/* The minute tier may have been pruned at the start of the range. */
	if ((rc = oldest(s, rt->table[TIER_MINUTE].name, &mo, &have_mo, err)))
		return rc;
	if (want == TIER_MINUTE && have_mo)
		ret->minute_first = mo;
	if (have_mo && mo > since) {
		/* Hour rows up to the first whole hour of minute rows (which
		 * may also stand in for raw rows there: coarser, not twice). */
		int64_t h = ceil_to(mo, periods[TIER_HOUR]);

		if (h > m2)
			h = m2;
		ret->hour_until = h > since ? h : since;
	}
	ret->minute_until = m1 > ret->hour_until ? m1 : ret->hour_until;
	if (ret->hour_until > until)
		ret->hour_until = until;
	ret->minute_until = clamp(ret->minute_until, ret->hour_until, until);
	return 0;
}

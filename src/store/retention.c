/* Retention steps (see retention.h). */
#include "retention.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "../lib/clock.h"
#include "rollup.h"

#define STEP_TARGET_MS 15.0          /* a delete or vacuum batch aims below this */
#define ROWS_MIN 64
#define ROWS_MAX 50000
#define PAGES_MIN 16
#define PAGES_MAX 8192
#define AGE_RECHECK_NS (10 * NSEC_PER_SEC)   /* retention clock between scans that found nothing */
#define SIZE_RECHECK_NS (NSEC_PER_SEC / 4)   /* monotonic, between size checks when idle */

/* The three orders in which rows go when the database is over its cap. */
enum cap_order { CAP_RAW, CAP_MINUTE, CAP_HOUR, CAP_ORDERS };

/* One table that loses rows with age. */
struct target {
	enum table_id source;
	enum tier tier;
	enum cap_order order;
	const char *name;
	int64_t age_ns;
	char *delete_sql;             /* ?1 cutoff, ?2 rows */
	char *oldest_sql;
};

struct retention {
	struct store *s;
	struct retention_config cfg;
	char *wal_path;
	bool file;                    /* a file (not :memory:): sizes and the filesystem mean something */
	int64_t page_size, cap, wal_limit;
	/* the retention clock */
	bool started;
	int64_t now, last_mono, mono;
	/* rollups complete before marks[t][tier]; 0: not started (no rows yet) */
	int64_t marks[T_COUNT][TIER_COUNT];
	int64_t looked[T_COUNT][TIER_COUNT];   /* unstarted: `until` when rows were last looked for */
	struct target *targets;
	size_t ntargets;
	size_t next_target;           /* round robin of age pruning */
	int64_t age_recheck;          /* retention clock time of the next age scan */
	int64_t size_recheck;         /* monotonic time of the next size check */
	bool capping;                 /* over the cap: pruning down to the low mark */
	bool vacuuming;               /* giving free pages back until none are left */
	int64_t rows_per_delete, pages_per_vacuum;
	struct retention_stats stats;
};

static int fail(char *err, int code, const char *what, const char *detail)
{
	if (err)
		snprintf(err, STORE_ERR_MAX, "%s: %.160s", what, detail);
	return code;
}

static int exec(struct retention *r, const char *sql, char *err)
{
	return store__query(r->s, sql, NULL, err);
}

static int pragma(struct retention *r, const char *sql, int64_t *ret, char *err)
{
	return store__query_int(r->s, sql, ret, err);
}

/* Runs a prepared statement with up to two integer parameters and an
 * optional text one (?3); returns the number of rows it changed, or a
 * negative errno. */
static int64_t run(struct retention *r, const char *sql, int64_t a, int64_t b, const char *text, char *err)
{
	struct store_stmt *st;
	int64_t before, after;
	int rc;

	if ((rc = store__prepare(r->s, sql, &st, err)))
		return rc;
	store_stmt__bind_int(st, 1, a);
	store_stmt__bind_int(st, 2, b);
	if (text)
		store_stmt__bind_text(st, 3, text);
	before = store__total_changes(r->s);
	while ((rc = store_stmt__step(st, err)) == 1)
		;
	after = store__total_changes(r->s);
	store_stmt__done(st);
	return rc < 0 ? rc : after - before;
}

/* The first column of the first row of sql (bound like run()); *found is
 * false when there is no row or it is NULL. */
static int first(struct retention *r, const char *sql, int64_t a, int64_t *ret, bool *found, char *err)
{
	struct store_stmt *st;
	int rc;

	*found = false;
	if ((rc = store__prepare(r->s, sql, &st, err)))
		return rc;
	store_stmt__bind_int(st, 1, a);
	rc = store_stmt__step(st, err);
	if (rc == 1 && !store_stmt__is_null(st, 0)) {
		*ret = store_stmt__int(st, 0);
		*found = true;
	}
	store_stmt__done(st);
	return rc < 0 ? rc : 0;
}

static int begin(struct retention *r, char *err) { return exec(r, "BEGIN IMMEDIATE", err); }

static int commit(struct retention *r, int rc, char *err)
{
	if (!rc)
		return exec(r, "COMMIT", err);
	exec(r, "ROLLBACK", NULL);
	return rc;
}

static int64_t floor_to(int64_t v, int64_t p) { return v / p * p; }

/* ---- sizes ---- */

struct sizes {
	int64_t file, used, free_bytes, pages;
};

static int measure(struct retention *r, struct sizes *z, char *err)
{
	int64_t pages, freelist;
	struct stat st;
	int rc;

	if ((rc = pragma(r, "PRAGMA page_count", &pages, err)) || (rc = pragma(r, "PRAGMA freelist_count", &freelist, err)))
		return rc;
	z->pages = pages;
	z->used = (pages - freelist) * r->page_size;
	z->free_bytes = freelist * r->page_size;
	z->file = pages * r->page_size;
	if (r->file && stat(r->wal_path, &st) == 0)
		z->file += st.st_size;
	r->stats.db_bytes = z->file;
	return 0;
}

/* The cap in force: the configured one, lowered when the filesystem has
 * less free space than min(1 GiB, 5%) so the database gives way. */
static int64_t cap_now(struct retention *r, const struct sizes *z)
{
	struct statvfs fs;
	int64_t cap = r->cap;

	if (r->file && statvfs(r->wal_path, &fs) == 0) {
		int64_t size = (int64_t)fs.f_blocks * (int64_t)fs.f_frsize;
		int64_t avail = (int64_t)fs.f_bavail * (int64_t)fs.f_frsize;
		int64_t reserve = size / 20 < (1LL << 30) ? size / 20 : (1LL << 30);

		if (avail < reserve && z->file - (reserve - avail) < cap)
			cap = z->file - (reserve - avail);
	}
	r->stats.cap_bytes = cap;
	return cap;
}

/* ---- open ---- */

static void add_target(struct retention *r, enum table_id t, enum tier tier, enum cap_order order, int64_t age)
{
	const char *name = tier == TIER_RAW ? schema_tables[t].name : rollup__table(t, tier)->name;
	struct target *g = &r->targets[r->ntargets++];
	/* The current baseline of each metric is its newest row: it stays. */
	const char *keep = t == T_BASELINES && tier == TIER_RAW
				   ? " AND rowid NOT IN (SELECT max(rowid) FROM baselines GROUP BY metric)" : "";

	*g = (struct target){ t, tier, order, name, age, NULL, NULL };
	if (asprintf(&g->delete_sql, "DELETE FROM %s WHERE rowid IN (SELECT rowid FROM %s WHERE timestamp < ?1%s LIMIT ?2)",
		     name, name, keep) < 0 ||
	    asprintf(&g->oldest_sql, "SELECT min(timestamp) FROM %s%s", name,
		     *keep ? " WHERE rowid NOT IN (SELECT max(rowid) FROM baselines GROUP BY metric)" : "") < 0)
		abort();
}

static int load_marks(struct retention *r, char *err)
{
	for (int t = 0; t < T_COUNT; t++)
		for (int tier = TIER_MINUTE; tier < TIER_COUNT; tier++) {
			const struct table *tab = rollup__table(t, tier);
			struct store_stmt *st;
			int rc;

			if (!tab)
				continue;
			if ((rc = store__prepare(r->s, "SELECT through_ns FROM " ROLLUP_MARKS " WHERE name = ?1", &st, err)))
				return rc;
			store_stmt__bind_text(st, 1, tab->name);
			rc = store_stmt__step(st, err);
			if (rc == 1)
				r->marks[t][tier] = store_stmt__int(st, 0);
			store_stmt__done(st);
			if (rc < 0)
				return rc;
		}
	return 0;
}

static int64_t default_cap(const char *path)
{
	struct statvfs fs;
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (statvfs(dir, &fs) == 0) {
		int64_t tenth = (int64_t)fs.f_blocks * (int64_t)fs.f_frsize / 10;

		if (tenth > 0 && tenth < RETENTION_CAP_MAX)
			return tenth;
	}
	return RETENTION_CAP_MAX;
}

int retention__open(struct store *s, const struct retention_config *cfg, struct retention **ret, char *err)
{
	struct retention *r = calloc(1, sizeof(*r));
	const char *path = store__path(s);
	int64_t auto_vacuum, wal_pages;
	char sql[160];
	int rc;

	if (!r)
		return fail(err, -ENOMEM, "retention", "out of memory");
	r->s = s;
	r->cfg = *cfg;
	r->file = strcmp(path, ":memory:") != 0 && path[0];
	if (asprintf(&r->wal_path, "%s-wal", path) < 0) {
		free(r);
		return fail(err, -ENOMEM, "retention", "out of memory");
	}
	r->cap = cfg->max_bytes ? (int64_t)cfg->max_bytes : default_cap(path);
	r->stats.cap_bytes = r->cap;
	r->rows_per_delete = 1000;
	r->pages_per_vacuum = PAGES_MIN;
	if ((rc = pragma(r, "PRAGMA page_size", &r->page_size, err)) ||
	    (rc = pragma(r, "PRAGMA auto_vacuum", &auto_vacuum, err)))
		goto cleanup;
	if (auto_vacuum != 2) {
		/* Only a VACUUM changes an existing file's mode. */
		int64_t t0 = clock_mono_ns();
		char inner[STORE_ERR_MAX];

		if (!exec(r, "PRAGMA auto_vacuum = INCREMENTAL", inner) && !exec(r, "VACUUM", inner))
			r->stats.convert_ms = (double)(clock_mono_ns() - t0) / 1e6;
		else
			fail(r->stats.last_error_msg, 0, "cannot turn on incremental vacuum (the file will not shrink)", inner);
	}
	/* The WAL is part of the footprint: keep it to a 16th of the cap. */
	r->wal_limit = r->cap / 16 < (64LL << 20) ? r->cap / 16 : (64LL << 20);
	if (r->wal_limit < 16 * r->page_size)
		r->wal_limit = 16 * r->page_size;
	wal_pages = r->wal_limit / r->page_size;
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %lld; PRAGMA wal_autocheckpoint = %lld; "
		 "PRAGMA temp_store = MEMORY;", (long long)r->wal_limit, (long long)(wal_pages < 1000 ? wal_pages : 1000));
	if ((rc = exec(r, sql, err)) || (rc = exec(r, ROLLUP_FOLD_TEMP, err)) || (rc = load_marks(r, err)))
		goto cleanup;
	r->targets = calloc(3 * T_COUNT, sizeof(*r->targets));
	if (!r->targets) {
		rc = fail(err, -ENOMEM, "retention", "out of memory");
		goto cleanup;
	}
	for (int t = 0; t < T_COUNT; t++) {
		switch (rollup__class(t)) {
		case ROLLUP_METRICS:
		case ROLLUP_EVENTS:
			add_target(r, t, TIER_RAW, CAP_RAW, cfg->raw_ns);
			add_target(r, t, TIER_MINUTE, CAP_MINUTE, cfg->minute_ns);
			add_target(r, t, TIER_HOUR, CAP_HOUR, cfg->hour_ns);
			break;
		case ROLLUP_RAW_ONLY:
			add_target(r, t, TIER_RAW, CAP_RAW, cfg->raw_ns);
			break;
		case ROLLUP_RECORDS:
			add_target(r, t, TIER_RAW, CAP_HOUR, cfg->hour_ns);
			break;
		}
	}
	*ret = r;
	return 0;
cleanup:
	retention__close(r);
	return rc;
}

struct retention *retention__close(struct retention *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->ntargets; i++) {
		free(r->targets[i].delete_sql);
		free(r->targets[i].oldest_sql);
	}
	free(r->targets);
	free(r->wal_path);
	free(r);
	return NULL;
}

void retention__stats(const struct retention *r, struct retention_stats *ret)
{
	int64_t minute = INT64_MAX, hour = INT64_MAX;

	*ret = r->stats;
	for (int t = 0; t < T_COUNT; t++) {
		if (!rollup__table(t, TIER_MINUTE))
			continue;
		if (r->marks[t][TIER_MINUTE] < minute)
			minute = r->marks[t][TIER_MINUTE];
		if (r->marks[t][TIER_HOUR] < hour)
			hour = r->marks[t][TIER_HOUR];
	}
	ret->minute_mark = minute == INT64_MAX ? 0 : minute;
	ret->hour_mark = hour == INT64_MAX ? 0 : hour;
}

/* ---- rollups ---- */

static int save_mark(struct retention *r, enum table_id t, enum tier tier, int64_t mark, char *err)
{
	struct store_stmt *st;
	int rc;

	if ((rc = store__prepare(r->s, "INSERT INTO " ROLLUP_MARKS " (name, through_ns) VALUES (?1, ?2) "
				 "ON CONFLICT(name) DO UPDATE SET through_ns = excluded.through_ns", &st, err)))
		return rc;
	store_stmt__bind_text(st, 1, rollup__table(t, tier)->name);
	store_stmt__bind_int(st, 2, mark);
	rc = store_stmt__step(st, err);
	store_stmt__done(st);
	if (rc < 0)
		return rc;
	r->marks[t][tier] = mark;
	return 0;
}

/* The table rows of tier `tier` of t are made from. */
static const char *source_of(enum table_id t, enum tier tier)
{
	return tier == TIER_MINUTE ? schema_tables[t].name : rollup__table(t, TIER_MINUTE)->name;
}

/* How far the source of tier is complete: the minute tier can roll what
 * ended RETENTION_MARGIN_NS ago, the hour tier what the minute tier has. */
static int64_t complete_until(const struct retention *r, enum table_id t, enum tier tier)
{
	return tier == TIER_MINUTE ? r->now - RETENTION_MARGIN_NS : r->marks[t][TIER_MINUTE];
}

/* Rolls the next due period of t into tier, or moves the mark over
 * periods without rows.  Returns 1 when it did, 0 when nothing is due. */
static int roll(struct retention *r, enum table_id t, enum tier tier, char *err)
{
	int64_t period = tier__period_ns(tier), until = floor_to(complete_until(r, t, tier), period);
	int64_t mark = r->marks[t][tier], next;
	char sql[192];
	bool found;
	int64_t n;
	int rc;

	if (mark && mark + period > until)
		return 0;
	if (!mark) {
		/* Not started: look for a first row once per period. */
		if (r->looked[t][tier] == until)
			return 0;
		r->looked[t][tier] = until;
	}
	snprintf(sql, sizeof(sql), "SELECT min(timestamp) FROM %s WHERE timestamp >= ?1", source_of(t, tier));
	if ((rc = first(r, sql, mark, &next, &found, err)))
		return rc;
	if (!found && !mark)
		return 0;
	if (!found || next >= mark + period || !mark) {
		/* Nothing in the next period (or a first start): skip to the
		 * period of the next row, or to what is complete. */
		int64_t to = found ? floor_to(next, period) : until;

		if (to > until)
			to = until;
		if (to <= mark)
			return 0;
		if ((rc = begin(r, err)))
			return rc;
		return commit(r, save_mark(r, t, tier, to, err), err) ? : 1;
	}
	if ((rc = begin(r, err)))
		return rc;
	n = run(r, rollup__insert_sql(t, tier), mark, mark + period, NULL, err);
	if (n >= 0 && rollup__folds(t))
		for (int k = 0; k < ROLLUP_FOLD_STEPS && n >= 0; k++) {
			int64_t f = run(r, rollup__fold_sql(t, tier, k), mark, mark + period, NULL, err);

			n = f < 0 ? f : n;
		}
	rc = n < 0 ? (int)n : save_mark(r, t, tier, mark + period, err);
	if ((rc = commit(r, rc, err)))
		return rc;
	r->stats.rows_rolled_up += (uint64_t)n;
	return 1;
}

static int rollup_step(struct retention *r, char *err)
{
	for (int tier = TIER_MINUTE; tier < TIER_COUNT; tier++)
		for (int t = 0; t < T_COUNT; t++) {
			int rc;

			if (!rollup__table(t, tier))
				continue;
			if ((rc = roll(r, t, tier, err)))
				return rc;
		}
	return 0;
}

/* ---- pruning ---- */

/* Rows of g older than this may go by age; never rows not rolled up. */
static int64_t age_cutoff(const struct retention *r, const struct target *g)
{
	int64_t cutoff = r->now - g->age_ns;

	if (g->tier != TIER_HOUR && rollup__table(g->source, g->tier + 1)) {
		int64_t mark = r->marks[g->source][g->tier + 1];

		if (mark < cutoff)
			cutoff = mark;
	}
	return cutoff;
}

/* Deletes up to rows_per_delete rows of g before cutoff in one
 * transaction, adapting the batch to STEP_TARGET_MS.  Returns the rows
 * deleted or a negative errno. */
static int64_t delete_before(struct retention *r, struct target *g, int64_t cutoff, char *err)
{
	int64_t t0 = clock_mono_ns(), n;
	double ms;
	int rc;

	if ((rc = begin(r, err)))
		return rc;
	n = run(r, g->delete_sql, cutoff, r->rows_per_delete, NULL, err);
	if ((rc = commit(r, n < 0 ? (int)n : 0, err)))
		return rc;
	ms = (double)(clock_mono_ns() - t0) / 1e6;
	if (ms > STEP_TARGET_MS && r->rows_per_delete > ROWS_MIN)
		r->rows_per_delete /= 2;
	else if (ms < STEP_TARGET_MS / 4 && n == r->rows_per_delete && r->rows_per_delete < ROWS_MAX)
		r->rows_per_delete *= 2;
	r->stats.rows_pruned += (uint64_t)n;
	return n;
}

static int age_step(struct retention *r, char *err)
{
	if (r->now < r->age_recheck)
		return 0;
	for (size_t k = 0; k < r->ntargets; k++) {
		struct target *g = &r->targets[(r->next_target + k) % r->ntargets];
		int64_t cutoff = age_cutoff(r, g), oldest, n;
		bool found;
		int rc;

		if ((rc = first(r, g->oldest_sql, 0, &oldest, &found, err)))
			return rc;
		if (!found || oldest >= cutoff)
			continue;
		if ((n = delete_before(r, g, cutoff, err)) < 0)
			return (int)n;
		r->next_target = (size_t)(g - r->targets);   /* stay until it is done */
		return 1;
	}
	r->age_recheck = r->now + AGE_RECHECK_NS;
	return 0;
}

/* Over the cap: deletes the oldest deletable rows of the first order that
 * has any, a period (raw: a minute, minute tier: an hour, hour tier: a
 * day) past its oldest row at a time.  0 when nothing can go. */
static int cap_step(struct retention *r, char *err)
{
	static const int64_t chunk[CAP_ORDERS] = { 60 * NSEC_PER_SEC, 3600 * NSEC_PER_SEC, 86400 * NSEC_PER_SEC };

	for (int order = 0; order < CAP_ORDERS; order++) {
		struct target *victim = NULL;
		int64_t victim_oldest = INT64_MAX;

		for (size_t k = 0; k < r->ntargets; k++) {
			struct target *g = &r->targets[k];
			int64_t limit = INT64_MAX, oldest;
			bool found;
			int rc;

			if (g->order != (enum cap_order)order)
				continue;
			if (g->tier != TIER_HOUR && rollup__table(g->source, g->tier + 1))
				limit = r->marks[g->source][g->tier + 1];
			if ((rc = first(r, g->oldest_sql, 0, &oldest, &found, err)))
				return rc;
			if (found && oldest < limit && oldest < victim_oldest) {
				victim = g;
				victim_oldest = oldest;
			}
		}
		if (victim) {
			int64_t cutoff = victim_oldest + chunk[order], n;

			if (victim->tier != TIER_HOUR && rollup__table(victim->source, victim->tier + 1) &&
			    r->marks[victim->source][victim->tier + 1] < cutoff)
				cutoff = r->marks[victim->source][victim->tier + 1];
			if ((n = delete_before(r, victim, cutoff, err)) < 0)
				return (int)n;
			return 1;
		}
	}
	return 0;
}

/* Gives up to pages_per_vacuum free pages back to the filesystem. */
static int vacuum_step(struct retention *r, const struct sizes *before, char *err)
{
	int64_t t0 = clock_mono_ns(), pages;
	struct sizes after;
	char sql[64];
	double ms;
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%lld)", (long long)r->pages_per_vacuum);
	if ((rc = exec(r, sql, err)) || (rc = measure(r, &after, err)))
		return rc;
	pages = before->pages - after.pages;
	if (pages > 0)
		r->stats.bytes_freed += (uint64_t)(pages * r->page_size);
	if (!after.free_bytes) {
		/* Done: move the WAL's pages into the file so it shrinks now. */
		r->vacuuming = false;
		exec(r, "PRAGMA wal_checkpoint(PASSIVE)", NULL);
	}
	ms = (double)(clock_mono_ns() - t0) / 1e6;
	if (ms > STEP_TARGET_MS && r->pages_per_vacuum > PAGES_MIN)
		r->pages_per_vacuum /= 2;
	else if (ms < STEP_TARGET_MS / 4 && pages >= r->pages_per_vacuum && r->pages_per_vacuum < PAGES_MAX &&
		 r->pages_per_vacuum * 4 * r->page_size <= r->wal_limit)
		r->pages_per_vacuum *= 2;     /* each moved page goes through the WAL: a quarter of it at most */
	return pages > 0 || r->vacuuming;
}

static int size_step(struct retention *r, char *err)
{
	struct sizes z;
	int64_t cap, target;
	int rc;

	if ((rc = measure(r, &z, err)))
		return rc;
	cap = cap_now(r, &z);
	/* Leave room for the WAL and a 16th of slack; once over, prune a
	 * further 32nd so that pruning does not start again at once. */
	target = cap - r->wal_limit - cap / 16;
	if (z.used > target)
		r->capping = true;
	else if (z.used <= target - cap / 32)
		r->capping = false;
	if (r->capping) {
		if ((rc = cap_step(r, err)))
			return rc;
	}
	/* Give pages back when the file itself is over the cap (the cap was
	 * lowered, or a burst), or when a big part of it is free (a large
	 * prune).  Otherwise inserts reuse the pages pruning freed, and the
	 * file stays at its size: moving pages would only cost. */
	if (z.free_bytes && (z.pages * r->page_size > cap - r->wal_limit || z.free_bytes > z.file / 8 + (1LL << 20)))
		r->vacuuming = true;
	if (r->vacuuming && z.free_bytes)
		return vacuum_step(r, &z, err);
	r->vacuuming = false;
	return 0;
}

/* ---- the step ---- */

static void tick_clock(struct retention *r)
{
	int64_t mono, real;

	if (r->cfg.clock) {
		real = r->cfg.clock(r->cfg.clock_ctx, &mono);
	} else {
		real = clock_real_ns();
		mono = clock_mono_ns();
	}
	if (!r->started) {
		r->started = true;
		r->now = real;
	} else {
		/* Forward with the monotonic clock, never ahead of the wall. */
		int64_t next = r->now + (mono - r->last_mono);

		r->now = next < real ? next : real;
	}
	r->last_mono = mono;
	r->mono = mono;
}

int retention__step(struct retention *r, int64_t *ret_wait_ns, char *err)
{
	int64_t t0 = clock_mono_ns();
	double ms;
	int rc;

	tick_clock(r);
	*ret_wait_ns = NSEC_PER_SEC;
	rc = rollup_step(r, err);
	r->stats.rollup_ms += (double)(clock_mono_ns() - t0) / 1e6;
	if (!rc) {
		int64_t t1 = clock_mono_ns();

		rc = age_step(r, err);
		r->stats.prune_ms += (double)(clock_mono_ns() - t1) / 1e6;
	}
	if (!rc && (r->capping || r->vacuuming || r->mono >= r->size_recheck)) {
		int64_t t1 = clock_mono_ns();
		bool vacuum = r->vacuuming;

		rc = size_step(r, err);
		*(vacuum || r->vacuuming ? &r->stats.vacuum_ms : &r->stats.prune_ms) += (double)(clock_mono_ns() - t1) / 1e6;
		r->size_recheck = r->mono + SIZE_RECHECK_NS;
	}
	if (rc < 0) {
		r->stats.last_error = rc;
		snprintf(r->stats.last_error_msg, sizeof(r->stats.last_error_msg), "%s", err ? err : "");
	} else if (rc > 0) {
		r->stats.last_error = 0;
	}
	ms = (double)(clock_mono_ns() - t0) / 1e6;
	r->stats.steps++;
	r->stats.ms += ms;
	if (ms > r->stats.step_ms_max)
		r->stats.step_ms_max = ms;
	if (!rc) {
		/* Next: the next minute to roll, or a size check. */
		int64_t next_minute = floor_to(r->now, tier__period_ns(TIER_MINUTE)) + tier__period_ns(TIER_MINUTE) +
				      RETENTION_MARGIN_NS - r->now;

		*ret_wait_ns = next_minute < NSEC_PER_SEC ? next_minute : NSEC_PER_SEC;
	}
	return rc;
}

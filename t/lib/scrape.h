/* Helpers for scraper unit tests: run a scraper against a fixture root (or
 * the live system) and read back the rows it appended.
 *
 *   struct scraper s;
 *   scrape_open(&s, SCRAPER_stat);
 *   is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 0, "first tick: no rows");
 *   is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T2), 3, "...");
 *   row = scrape_row(T_CPU_METRICS, "cpu", "cpu0");
 *   within(cell_real(T_CPU_METRICS, row, "user_pct"), 40 - 1e-9, 40 + 1e-9, ...);
 *
 * One scraper keeps its state from tick to tick while the root changes, so
 * two fixture directories give the two readings a rate needs.
 */
#ifndef KS_T_SCRAPE_H
#define KS_T_SCRAPE_H

#include <math.h>

#include "../src/scrape/procfs.h"
#include "../src/scrape/scraper.h"
#include "../../src/store/batch.h"
#include "tap.h"

#define NS 1000000000LL

static struct batch scrape_batch;

static inline void scrape_open(struct scraper *s, enum scraper_id id)
{
	static bool init;

	if (!init) {
		batch__init(&scrape_batch);
		init = true;
	}
	if (scraper__open(s, id, "") < 0)
		diag("scraper %s disabled: %s", scraper_table[id]->name, s->reason);
}

/* One tick under root at now_ns: rows added, or -1 when the scrape failed.
 * The batch is cleared first, so rows are this tick's only. */
static inline int scrape_tick(struct scraper *s, const char *root, int64_t now_ns)
{
	uint64_t errors = s->errors;

	batch__clear(&scrape_batch);
	s->root = root;
	s->rows = 0;
	scraper__run(s, &scrape_batch, now_ns);
	if (s->errors != errors)
		return -1;
	return (int)s->rows;
}

static inline int scrape_rows(enum table_id t) { return (int)scrape_batch.tables[t].rows; }

/* The first row of t whose text column `key` equals value, or -1. */
static inline int scrape_row(enum table_id t, const char *key, const char *value)
{
	struct batch_value v;

	for (uint32_t r = 0; r < scrape_batch.tables[t].rows; r++)
		if (batch__value(&scrape_batch, t, r, key, &v) && v.tag == V_TEXT &&
		    strlen(value) == v.len && !memcmp(v.s, value, v.len))
			return (int)r;
	return -1;
}

/* Integer cell; INT64_MIN for NULL, INT64_MIN + 1 for no such row/column
 * or another type, so a wrong guess never equals an expected value. */
static inline int64_t cell_int(enum table_id t, int row, const char *column)
{
	struct batch_value v;

	if (row < 0 || !batch__value(&scrape_batch, t, (uint32_t)row, column, &v))
		return INT64_MIN + 1;
	return v.tag == V_INT ? v.i : v.tag == V_NULL ? INT64_MIN : INT64_MIN + 1;
}

/* Real cell; NAN for NULL, -INFINITY when absent or of another type. */
static inline double cell_real(enum table_id t, int row, const char *column)
{
	struct batch_value v;

	if (row < 0 || !batch__value(&scrape_batch, t, (uint32_t)row, column, &v))
		return -INFINITY;
	return v.tag == V_REAL ? v.r : v.tag == V_NULL ? NAN : -INFINITY;
}

/* Text cell as a static string ("" when absent, NULL for SQL NULL). */
static inline const char *cell_text(enum table_id t, int row, const char *column)
{
	static char text[256];
	struct batch_value v;

	if (row < 0 || !batch__value(&scrape_batch, t, (uint32_t)row, column, &v))
		return "";
	if (v.tag != V_TEXT)
		return NULL;
	snprintf(text, sizeof(text), "%.*s", (int)v.len, v.s);
	return text;
}

static inline bool cell_null(enum table_id t, int row, const char *column)
{
	struct batch_value v;

	return row >= 0 && batch__value(&scrape_batch, t, (uint32_t)row, column, &v) && v.tag == V_NULL;
}

/* A real cell equal to want within 1e-9 (relative to 1). */
#define is_real(t, row, col, want, ...) \
	within(cell_real(t, row, col), (want) - 1e-9, (want) + 1e-9, __VA_ARGS__)

#endif

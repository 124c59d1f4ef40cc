/* ksight export: two exports.
 *
 * --features: every metric's samples with rolling features and its
 * baseline, for users who train their own models.  One row per metric and
 * tick (long format), in CSV, JSON or Parquet.
 *
 * --table NAME: a table's rows as Hive-partitioned Parquet for a data lake
 * (export_table.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../analysis/baseline_db.h"
#include "../analysis/history.h"
#include "../detect/features.h"
#include "../detect/watch.h"
#include "../lib/json.h"
#include "../store/parquet.h"
#include "cmd.h"
#include "export_table.h"
#include "session.h"

#define NWINDOWS 3
static const uint32_t windows[NWINDOWS] = { 60, 300, 900 };

static void usage(void)
{
	printf("usage: ksight export --features [--db PATH | --config FILE] [--from T] [--to T | --last D]\n"
	       "                     [--format csv|parquet|json] [--out FILE]\n"
	       "       ksight export --table NAME --out DIR [--host H] [--since-last]\n"
	       "                     [--db PATH | --config FILE] [--from T] [--to T | --last D]\n"
	       "\n"
	       "--table writes a table (any of `ksight schema`, or a view) as Parquet\n"
	       "files in a Hive-style layout that DuckDB, Trino or Spark read across hosts:\n"
	       "\n"
	       "  DIR/table=NAME/host=H/date=YYYY-MM-DD/part-N.parquet\n"
	       "\n"
	       "one file per UTC day and host per run, each written under a temporary\n"
	       "name and renamed when complete (N is the file's first timestamp, so a\n"
	       "re-run replaces rather than duplicates).  Every file has the table's\n"
	       "columns plus host and boot_id.  --since-last exports only rows newer than\n"
	       "the last --since-last export into DIR (remembered in DIR/.ksight-export/),\n"
	       "leaving the last 10 s for the next run: for a cron job or systemd timer\n"
	       "(contrib/systemd/ksight-export.timer).\n"
	       "\n"
	       "--features exports the samples the agent judges (one per metric and tick: see\n"
	       "docs/detection.md for the metrics) with features computed over each\n"
	       "metric's own series, one row per metric and tick, ordered by metric then\n"
	       "time:\n"
	       "\n"
	       "  timestamp, metric, unit, value,\n"
	       "  mean_N, median_N, mad_N, p05_N, p95_N   over the last N samples, N = 60,\n"
	       "                                         300, 900 (1, 5, 15 min at a 1 s tick)\n"
	       "  baseline_median, baseline_mad          the metric's baseline (below)\n"
	       "  usual                                  baseline median for that hour of day\n"
	       "                                         when it has a profile, else overall\n"
	       "  robust_z                               (value - usual) / (1.4826 * MAD)\n"
	       "\n"
	       "The baseline of a metric is its newest row in the `baselines` table\n"
	       "(ksight baseline learn, or the agent's), else statistics of the exported\n"
	       "range itself (source 'range').  Every baseline goes with the data as\n"
	       "metadata: Parquet key 'ksight.baselines' (JSON), the 'metadata' member of\n"
	       "the JSON document, or FILE.baselines.json beside a CSV file.\n"
	       "\n"
	       "Where retention has pruned the raw rows of the range (retention.raw),\n"
	       "the samples come from the per-minute rollups, and before those from the\n"
	       "per-hour ones: one sample per period, the period's mean or sum (see\n"
	       "'ksight schema').  The metadata's 'tier' names the coarsest tier read;\n"
	       "N samples then span N minutes or hours.\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Options:\n"
	       "  --features        export the features\n"
	       "  --table NAME      export table NAME as Hive-partitioned Parquet into --out DIR\n"
	       "  --host H          host name in the layout and the rows (default: the\n"
	       "                    database's newest boots row, else this host)\n"
	       "  --since-last      only rows newer than the last --since-last export into DIR\n"
	       CLI_HELP_DB
	       CLI_HELP_CONFIG
	       "  --from T, --to T  range ('2026-01-02 15:04:05', ISO 8601 or epoch; default all)\n"
	       "  --last D          the last D of the data (e.g. 30m)\n"
	       "  --format F        csv (default), parquet or json\n"
	       "  --out FILE        output file (default stdout; parquet needs a file)\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  ksight export --features --out features.csv\n"
	       "  ksight export --features --format parquet --out features.parquet --last 1h\n"
	       "  duckdb -c \"select metric, avg(robust_z) from 'features.parquet' group by 1\"\n"
	       "  ksight export --table process_events --out /var/lib/ksight/lake --since-last\n"
	       "  duckdb -c \"select host, date, count(*) from read_parquet(\n"
	       "      'lake/table=process_events/*/*/*.parquet', hive_partitioning=1) group by all\"\n");
}

enum format { F_CSV, F_JSON, F_PARQUET };

struct metric_meta {
	struct baseline bl;
	char source[16];
	bool hourly_profile;
};

/* Column names, in output order; the numeric ones after the first three. */
static const char *const fixed_cols[] = { "timestamp", "metric", "unit", "value" };
#define NFEAT (5 * NWINDOWS)
#define NCOLS (4 + NFEAT + 4)

static void column_names(char names[NCOLS][24])
{
	static const char *const feat[] = { "mean", "median", "mad", "p05", "p95" };
	static const char *const tail[] = { "baseline_median", "baseline_mad", "usual", "robust_z" };
	int c = 0;

	for (int i = 0; i < 4; i++)
		snprintf(names[c++], 24, "%s", fixed_cols[i]);
	for (int w = 0; w < NWINDOWS; w++)
		for (int f = 0; f < 5; f++)
			snprintf(names[c++], 24, "%s_%u", feat[f], windows[w]);
	for (int i = 0; i < 4; i++)
		snprintf(names[c++], 24, "%s", tail[i]);
}

struct out {
	enum format format;
	FILE *f;
	struct parquet_writer *pq;
	struct json j;
	struct buf jbuf;
	int64_t rows;
	char names[NCOLS][24];
};

static void csv_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, ",%.10g", v);
	else
		fputc(',', f);
}

static int write_row(struct out *o, int64_t ts, const char *metric, const char *unit, const double *num)
{
	int rc = 0;

	o->rows++;
	switch (o->format) {
	case F_CSV:
		fprintf(o->f, "%lld,%s,%s", (long long)ts, metric, unit);
		for (int i = 0; i < NCOLS - 3; i++)
			csv_num(o->f, num[i]);
		fputc('\n', o->f);
		return ferror(o->f) ? -EIO : 0;
	case F_JSON:
		json_obj_begin(&o->j);
		json_key(&o->j, "timestamp"); json_int(&o->j, ts);
		json_key(&o->j, "metric"); json_str(&o->j, metric);
		json_key(&o->j, "unit"); json_str(&o->j, unit);
		for (int i = 0; i < NCOLS - 3; i++) {
			json_key(&o->j, o->names[3 + i]);
			json_double(&o->j, num[i]);
		}
		json_obj_end(&o->j);
		if (o->jbuf.len > (1 << 20)) {
			fwrite(o->jbuf.data, 1, o->jbuf.len, o->f);
			buf_reset(&o->jbuf);
		}
		return ferror(o->f) ? -EIO : 0;
	case F_PARQUET:
		rc = parquet_writer__add_int64(o->pq, 0, ts);
		if (!rc)
			rc = parquet_writer__add_string(o->pq, 1, metric, strlen(metric));
		if (!rc)
			rc = parquet_writer__add_string(o->pq, 2, unit, strlen(unit));
		for (int i = 0; i < NCOLS - 3 && !rc; i++)
			rc = isfinite(num[i]) ? parquet_writer__add_double(o->pq, (size_t)(3 + i), num[i])
					      : parquet_writer__add_null(o->pq, (size_t)(3 + i));
		return rc ? rc : parquet_writer__end_row(o->pq);
	}
	return 0;
}

static void meta_json(struct json *j, const struct history *set, const struct metric_meta *meta,
		      const char *db, int64_t from, int64_t to)
{
	json_obj_begin(j);
	json_key(j, "generator"); json_str(j, "ksight " KSIGHT_VERSION);
	json_key(j, "database"); json_str(j, db);
	json_key(j, "from_ts"); json_int(j, from);
	json_key(j, "to_ts"); json_int(j, to);
	json_key(j, "ticks"); json_uint(j, set->ticks);
	json_key(j, "tier"); json_str(j, tier__name(set->tier));
	json_key(j, "windows");
	json_arr_begin(j);
	for (int w = 0; w < NWINDOWS; w++)
		json_uint(j, windows[w]);
	json_arr_end(j);
	json_key(j, "baselines");
	json_obj_begin(j);
	for (size_t i = 0; i < set->n; i++) {
		const struct baseline *b = &meta[i].bl;

		json_key(j, set->list[i]->name);
		json_obj_begin(j);
		json_key(j, "source"); json_str(j, meta[i].source);
		json_key(j, "unit"); json_str(j, set->list[i]->unit);
		json_key(j, "description"); json_str(j, set->list[i]->what);
		json_key(j, "from_ts"); json_int(j, b->from_ns);
		json_key(j, "to_ts"); json_int(j, b->to_ns);
		json_key(j, "samples"); json_double(j, b->n);
		json_key(j, "mean"); json_double(j, b->mean);
		json_key(j, "sd"); json_double(j, sqrt(b->var));
		json_key(j, "median"); json_double(j, b->median);
		json_key(j, "mad"); json_double(j, b->mad);
		json_key(j, "p05"); json_double(j, b->p05);
		json_key(j, "p95"); json_double(j, b->p95);
		json_key(j, "min"); json_double(j, b->min);
		json_key(j, "max"); json_double(j, b->max);
		json_key(j, "profile");
		if (baseline__has_profile(b)) {
			json_arr_begin(j);
			for (int h = 0; h < 24; h++)
				if (b->hours[h].n >= 1) {
					json_arr_begin(j);
					json_int(j, h);
					json_double(j, b->hours[h].n);
					json_double(j, b->hours[h].median);
					json_double(j, b->hours[h].p95);
					json_arr_end(j);
				}
			json_arr_end(j);
		} else {
			json_null(j);
		}
		json_obj_end(j);
	}
	json_obj_end(j);
	json_obj_end(j);
}

struct stored {
	struct history *set;
	struct metric_meta *meta;
};

static int stored_baseline(void *ctx, const struct baseline_row *row)
{
	struct stored *st = ctx;

	for (size_t i = 0; i < st->set->n; i++)
		if (!strcmp(st->set->list[i]->name, row->metric)) {
			st->meta[i].bl = row->bl;
			snprintf(st->meta[i].source, sizeof(st->meta[i].source), "%s", row->source);
		}
	return 0;
}

static int32_t utc_offset(void)
{
	time_t now = time(NULL);
	struct tm tm;

	return localtime_r(&now, &tm) ? (int32_t)tm.tm_gmtoff : 0;
}

/* Computes and writes every row of every series. */
static int write_features(struct out *o, const struct history *set, const struct metric_meta *meta)
{
	struct rolling *roll[NWINDOWS] = { 0 };
	int rc = 0;

	for (int w = 0; w < NWINDOWS; w++)
		if (!(roll[w] = rolling__new(windows[w])))
			rc = -ENOMEM;
	for (size_t i = 0; i < set->n && !rc; i++) {
		const struct series *m = set->list[i];
		const struct baseline *b = &meta[i].bl;

		for (int w = 0; w < NWINDOWS; w++) {
			rolling__free(roll[w]);
			if (!(roll[w] = rolling__new(windows[w])))
				rc = -ENOMEM;
		}
		for (size_t k = 0; k < m->n && !rc; k++) {
			double num[NCOLS - 3], usual, scale;
			struct rolling_stats st;
			int c = 0;

			num[c++] = m->v[k];
			for (int w = 0; w < NWINDOWS; w++) {
				rolling__update(roll[w], m->v[k], &st);
				num[c++] = st.mean;
				num[c++] = st.median;
				num[c++] = st.mad;
				num[c++] = st.p05;
				num[c++] = st.p95;
			}
			num[c++] = b->n >= 1 ? b->median : NAN;
			num[c++] = b->n >= 1 ? b->mad : NAN;
			/* baseline__usual, without its minimum-sample rule: a
			 * short export still gets its own range's baseline. */
			{
				const struct baseline_hour *h = &b->hours[baseline_hour_of(m->ts[k], b->utc_offset_s)];

				usual = baseline__has_profile(b) && h->n >= BASELINE_PROFILE_MIN ? h->median
				      : b->n >= 1 ? b->median : NAN;
			}
			num[c++] = usual;
			scale = 1.4826 * (b->n >= 1 ? b->mad : NAN);
			num[c++] = scale > 0 ? (m->v[k] - usual) / scale : NAN;
			rc = write_row(o, m->ts[k], m->name, m->unit, num);
		}
	}
	for (int w = 0; w < NWINDOWS; w++)
		rolling__free(roll[w]);
	return rc;
}

static int run(struct session *ses, const struct cli_range *range, enum format format, const char *out_path)
{
	const char *db = ses->cfg.db_path;
	struct history set = { 0 };
	struct metric_meta *meta = NULL;
	struct out o = { .format = format, .jbuf = BUF_INIT };
	struct buf meta_buf = BUF_INIT;
	struct json mj;
	char err[STORE_ERR_MAX];
	struct store *s;
	int64_t from, to;
	int32_t off = utc_offset();
	int rc;

	if ((rc = session__open_store(ses, STORE_READ_ONLY)))
		goto cleanup;
	s = ses->store;
	if ((rc = cli_time_range("export", s, range, &from, &to)))
		goto cleanup;
	set.tiered = true;
	if (history__load(&set, s, from, to, err)) {
		rc = cli_fail("export", "cannot read %s: %s", db, err);
		goto cleanup;
	}
	meta = calloc(set.n ? set.n : 1, sizeof(*meta));
	if (!meta) {
		rc = cli_fail("export", "out of memory");
		goto cleanup;
	}
	/* Baselines of the range itself, replaced by stored ones where the
	 * database has them. */
	for (size_t i = 0; i < set.n; i++) {
		double *copy = malloc(set.list[i]->n * sizeof(double));

		if (!copy) {
			rc = cli_fail("export", "out of memory");
			goto cleanup;
		}
		memcpy(copy, set.list[i]->v, set.list[i]->n * sizeof(double));
		baseline__from_values(&meta[i].bl, copy, set.list[i]->ts, set.list[i]->n, off);
		snprintf(meta[i].source, sizeof(meta[i].source), "range");
		free(copy);
	}
	{
		struct stored st = { &set, meta };

		if (baseline_db__latest(s, stored_baseline, &st, err)) {
			rc = cli_fail("export", "cannot read the baselines of %s: %s", db, err);
			goto cleanup;
		}
	}
	json_init(&mj, &meta_buf);
	meta_json(&mj, &set, meta, db, from, to);
	column_names(o.names);

	if (format == F_PARQUET) {
		struct parquet_column cols[NCOLS];
		struct parquet_kv kv = { "ksight.baselines", meta_buf.data };
		struct parquet_opts popts = { .metadata = &kv, .nmetadata = 1, .created_by = "ksight version " KSIGHT_VERSION };

		for (int c = 0; c < NCOLS; c++)
			cols[c] = (struct parquet_column){ o.names[c], c == 0 ? PARQUET_INT64 : c < 3 ? PARQUET_BYTE_ARRAY : PARQUET_DOUBLE,
							    c == 0 ? PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL : c < 3 ? PARQUET_LOGICAL_STRING : PARQUET_LOGICAL_NONE,
							    c > 3 };
		if ((rc = parquet_writer__open(out_path, cols, NCOLS, &popts, &o.pq))) {
			rc = cli_fail("export", "cannot write %s: %s", out_path, strerror(-rc));
			goto cleanup;
		}
	} else {
		o.f = out_path ? fopen(out_path, "w") : stdout;
		if (!o.f) {
			rc = cli_fail("export", "cannot write %s: %s", out_path, strerror(errno));
			goto cleanup;
		}
		if (format == F_CSV) {
			for (int c = 0; c < NCOLS; c++)
				fprintf(o.f, "%s%s", c ? "," : "", o.names[c]);
			fputc('\n', o.f);
		} else {
			json_init(&o.j, &o.jbuf);
			buf_printf(&o.jbuf, "{\"metadata\":%s,\"features\":", meta_buf.data);
			json_arr_begin(&o.j);
		}
	}
	rc = write_features(&o, &set, meta);
	if (format == F_PARQUET) {
		int crc = parquet_writer__close(o.pq);

		o.pq = NULL;
		rc = rc ? rc : crc;
	} else {
		if (format == F_JSON) {
			json_arr_end(&o.j);
			buf_adds(&o.jbuf, "}\n");
			fwrite(o.jbuf.data, 1, o.jbuf.len, o.f);
		}
		if (fflush(o.f) || ferror(o.f))
			rc = rc ? rc : -EIO;
		if (out_path && fclose(o.f))
			rc = rc ? rc : -errno;
		o.f = NULL;
	}
	if (rc) {
		rc = cli_fail("export", "cannot write %s: %s", out_path ? out_path : "stdout", strerror(-rc));
		goto cleanup;
	}
	if (format == F_CSV && out_path) {
		char side[4096];
		FILE *f;

		snprintf(side, sizeof(side), "%s.baselines.json", out_path);
		if (!(f = fopen(side, "w")) || fprintf(f, "%s\n", meta_buf.data) < 0 || fclose(f)) {
			rc = cli_fail("export", "cannot write %s: %s", side, strerror(errno));
			goto cleanup;
		}
	}
	if (out_path)
		fprintf(stderr, "ksight export: %lld rows of %zu metrics over %llu ticks -> %s%s\n", (long long)o.rows,
			set.n, (unsigned long long)set.ticks, out_path,
			format == F_CSV ? " (baselines in .baselines.json beside it)" : "");
	rc = EXIT_OK;
cleanup:
	parquet_writer__abort(o.pq);
	buf_free(&o.jbuf);
	buf_free(&meta_buf);
	free(meta);
	history__free(&set);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "features", no_argument, NULL, 'F' },
		{ "table", required_argument, NULL, 'T' },
		{ "host", required_argument, NULL, 'H' },
		{ "since-last", no_argument, NULL, 'S' },
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		CLI_OPTIONS_RANGE,
		{ "format", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	const char *out = NULL;
	enum format format = F_CSV;
	struct session s;
	bool features = false, since_last = false, format_given = false;
	const char *table = NULL, *host = NULL;
	int opt, rc;

	while ((opt = cli_getopt("export", argc, argv, "ho:", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 'F': features = true; break;
		case 'o': out = optarg; break;
		case 'T': table = optarg; break;
		case 'H': host = optarg; break;
		case 'S': since_last = true; break;
		case 'm':
			format_given = true;
			if (!strcmp(optarg, "csv"))
				format = F_CSV;
			else if (!strcmp(optarg, "json"))
				format = F_JSON;
			else if (!strcmp(optarg, "parquet"))
				format = F_PARQUET;
			else
				return cli_usage_error("export", "--format: '%s' is not csv, parquet or json", optarg);
			break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (features && table)
		return cli_usage_error("export", "--features and --table are two exports: choose one");
	if (table) {
		struct export_table_opts eo = { .table = table, .out_dir = out, .host = host,
						.range = &common.range, .since_last = since_last };

		if (format_given && format != F_PARQUET)
			return cli_usage_error("export", "--table writes Parquet only");
		if (!out)
			return cli_usage_error("export", "--table needs --out DIR");
		if (!(rc = session__init(&s, "export", &common, SESSION_DB_ONLY)))
			rc = export_table__run(&s, &eo);
		session__close(&s);
		return rc;
	}
	if (host || since_last)
		return cli_usage_error("export", "--host and --since-last go with --table");
	if (!features)
		return cli_usage_error("export", "say what to export: --features or --table NAME");
	if (format == F_PARQUET && !out)
		return cli_usage_error("export", "--format parquet needs --out FILE");
	if (!(rc = session__init(&s, "export", &common, SESSION_DB_ONLY)))
		rc = run(&s, &common.range, format, out);
	session__close(&s);
	return rc;
}

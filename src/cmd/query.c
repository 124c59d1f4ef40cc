/* ksight query: run SQL on the database through a read-only connection and
 * print the rows as an aligned table, JSON or CSV. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/json.h"
#include "../store/store.h"
#include "cmd.h"
#include "session.h"

enum format { FMT_TABLE, FMT_JSON, FMT_CSV };

struct printer {
	enum format format;
	int ncols;
	char **names;
	/* table: every cell kept until the statement ends, to align columns */
	struct buf cells;             /* NUL-separated cell texts */
	size_t ncells;
	size_t *width;
	bool *numeric;
	/* json */
	struct json json;
	struct buf out;
	bool json_open;
	size_t rows;
};

static void value_text(const struct batch_value *v, struct buf *out)
{
	switch (v->tag) {
	case V_INT: buf_printf(out, "%" PRId64, v->i); break;
	case V_REAL: {
		/* Shortest text that reads back as the same double. */
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "%.15g", v->r);
		if (strtod(tmp, NULL) != v->r)
			snprintf(tmp, sizeof(tmp), "%.17g", v->r);
		buf_adds(out, tmp);
		break;
	}
	case V_TEXT: buf_add(out, v->s, v->len); break;
	default: buf_adds(out, "NULL"); break;
	}
}

static void csv_field(const char *s, size_t len)
{
	bool quote = memchr(s, ',', len) || memchr(s, '"', len) || memchr(s, '\n', len) ||
		     memchr(s, '\r', len);

	if (!quote) {
		fwrite(s, 1, len, stdout);
		return;
	}
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			putchar('"');
		putchar(s[i]);
	}
	putchar('"');
}

static void flush_table(struct printer *p)
{
	const char *cell = p->cells.data;

	if (!p->ncols)
		return;
	for (int c = 0; c < p->ncols; c++)
		printf("%s%-*s", c ? "  " : "", (int)p->width[c], p->names[c]);
	putchar('\n');
	for (int c = 0; c < p->ncols; c++) {
		printf("%s", c ? "  " : "");
		for (size_t i = 0; i < p->width[c]; i++)
			putchar('-');
	}
	putchar('\n');
	for (size_t i = 0; i < p->ncells; i++) {
		int c = (int)(i % (size_t)p->ncols);
		bool last = c == p->ncols - 1;

		if (p->numeric[c])
			printf("%s%*s", c ? "  " : "", (int)p->width[c], cell);
		else
			printf("%s%-*s", c ? "  " : "", last ? 0 : (int)p->width[c], cell);
		if (last)
			putchar('\n');
		cell += strlen(cell) + 1;
	}
	printf("(%zu row%s)\n", p->rows, p->rows == 1 ? "" : "s");
	buf_reset(&p->cells);
	p->ncells = 0;
}

static void free_columns(struct printer *p)
{
	for (int c = 0; c < p->ncols; c++)
		free(p->names[c]);
	free(p->names);
	free(p->width);
	free(p->numeric);
	p->names = NULL;
	p->width = NULL;
	p->numeric = NULL;
	p->ncols = 0;
}

static int on_columns(void *ctx, int ncols, const char *const *names)
{
	struct printer *p = ctx;

	if (p->format == FMT_TABLE) {
		if (p->ncols)
			putchar('\n');
		flush_table(p);
	}
	free_columns(p);
	p->rows = 0;
	p->ncols = ncols;
	p->names = calloc((size_t)ncols, sizeof(*p->names));
	p->width = calloc((size_t)ncols, sizeof(*p->width));
	p->numeric = calloc((size_t)ncols, sizeof(*p->numeric));
	for (int c = 0; c < ncols; c++) {
		if (p->format == FMT_TABLE) {
			struct buf shown = BUF_INIT;

			cli_escape(&shown, names[c], strlen(names[c]));
			buf_addc(&shown, '\0');
			p->names[c] = buf_detach(&shown);
		} else {
			p->names[c] = strdup(names[c]);
		}
		p->width[c] = strlen(p->names[c]);
		p->numeric[c] = true;
	}
	if (p->format == FMT_CSV) {
		for (int c = 0; c < ncols; c++) {
			if (c)
				putchar(',');
			csv_field(names[c], strlen(names[c]));
		}
		putchar('\n');
	}
	return 0;
}

static int on_row(void *ctx, int ncols, const struct batch_value *values)
{
	struct printer *p = ctx;
	struct buf text = BUF_INIT;

	p->rows++;
	switch (p->format) {
	case FMT_JSON:
		json_obj_begin(&p->json);
		for (int c = 0; c < ncols; c++) {
			const struct batch_value *v = &values[c];

			json_key(&p->json, p->names[c]);
			switch (v->tag) {
			case V_INT: json_int(&p->json, v->i); break;
			case V_REAL: json_double(&p->json, v->r); break;
			case V_TEXT: json_strn(&p->json, v->s, v->len); break;
			default: json_null(&p->json); break;
			}
		}
		json_obj_end(&p->json);
		fwrite(p->out.data, 1, p->out.len, stdout);
		buf_reset(&p->out);
		break;
	case FMT_CSV:
		for (int c = 0; c < ncols; c++) {
			if (c)
				putchar(',');
			if (values[c].tag != V_NULL) {
				buf_reset(&text);
				value_text(&values[c], &text);
				csv_field(text.data, text.len);
			}
		}
		putchar('\n');
		break;
	default:
		for (int c = 0; c < ncols; c++) {
			size_t before = p->cells.len, len;

			/* Text as a terminal should see it: one line, control
			 * characters escaped (a name can hold terminal escapes). */
			if (values[c].tag == V_TEXT)
				cli_escape(&p->cells, values[c].s, values[c].len);
			else
				value_text(&values[c], &p->cells);
			len = p->cells.len - before;
			buf_addc(&p->cells, '\0');
			if (len > p->width[c])
				p->width[c] = len;
			if (values[c].tag == V_TEXT)
				p->numeric[c] = false;
			p->ncells++;
		}
		break;
	}
	buf_free(&text);
	return 0;
}

static void usage(void)
{
	printf("usage: ksight query [--db PATH | --config FILE] [--json | --csv] SQL\n"
	       "\n"
	       "Runs SQL on the database through a read-only connection: statements that\n"
	       "would write are refused.  A malformed statement prints SQLite's message and\n"
	       "exits with 1.  `ksight schema` lists the tables and columns.\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Options:\n"
	       CLI_HELP_DB
	       CLI_HELP_CONFIG
	       "  --json            one JSON array of row objects\n"
	       "  --csv             CSV with a header line (RFC 4180 quoting)\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  ksight query 'select event, count(*) from process_events group by event'\n"
	       "  ksight query --json 'select * from load_metrics order by timestamp desc limit 1'\n"
	       "  ksight query --csv \"select datetime(timestamp/1e9,'unixepoch') t, available_kb\n"
	       "                      from memory_metrics\" > memory.csv\n");
}

int cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	struct printer p = { .format = FMT_TABLE };
	char err[STORE_ERR_MAX];
	struct session s;
	struct store_query_cb cb = { on_columns, on_row, &p };
	int opt, rc;

	while ((opt = cli_getopt("query", argc, argv, "h", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 'j': p.format = FMT_JSON; break;
		case 'c': p.format = FMT_CSV; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("query", optind == argc ? "missing SQL" : "give the SQL as one argument (quote it)");
	if ((rc = session__init(&s, "query", &common, SESSION_DB_ONLY)) ||
	    (rc = session__open_store(&s, STORE_READ_ONLY)))
		goto out;
	json_init(&p.json, &p.out);
	if (p.format == FMT_JSON)
		putchar('[');
	rc = store__query(s.store, argv[optind], &cb, err) ? cli_fail("query", "%s", err) : EXIT_OK;
	if (p.format == FMT_JSON)
		puts("]");
	else if (p.format == FMT_TABLE && !rc)
		flush_table(&p);
out:
	free_columns(&p);
	buf_free(&p.cells);
	buf_free(&p.out);
	session__close(&s);
	return rc;
}

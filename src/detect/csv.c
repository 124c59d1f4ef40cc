/* timestamp,value CSV lines -> samples (see csv.h). */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/parse.h"

void csv_reader__init(struct csv_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->ts_col = 0;
	r->val_col = 1;
}

void csv_reader__free(struct csv_reader *r)
{
	free(r->copy);
	memset(r, 0, sizeof(*r));
}

/* Splits line (modified in place) into at most CSV_FIELDS_MAX fields at
 * commas; a field may be double-quoted, with "" for a quote.  field[i] is
 * the unquoted value; the text as written is at offset raw_off[i] of the
 * line as it was, raw_len[i] bytes long.  Returns the number of fields, or
 * -1 for a malformed quoted field. */
static int split_csv(char *line, char **field, size_t *raw_off, size_t *raw_len)
{
	char *p = line;
	int n = 0;

	while (n < CSV_FIELDS_MAX) {
		char *start = p, *out = p;

		field[n] = out;
		raw_off[n] = (size_t)(start - line);
		if (*p == '"') {
			for (p++;; p++) {
				if (!*p)
					return -1;
				if (*p == '"') {
					if (p[1] != '"')
						break;
					p++;
				}
				*out++ = *p;
			}
			p++;
			if (*p && *p != ',')
				return -1;
		} else {
			while (*p && *p != ',')
				p++;
			out = p;
		}
		raw_len[n] = (size_t)(p - start);
		n++;
		if (!*p) {
			*out = '\0';
			break;
		}
		*out = '\0';
		p++;
	}
	return n;
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Uses the columns named timestamp (or time) and value when the header has
 * both; else the first two. */
static void header_columns(char **field, int nf, int *ts_col, int *val_col)
{
	int t = -1, v = -1;

	for (int i = 0; i < nf; i++) {
		const char *h = trim(field[i]);

		if (t < 0 && (!strcasecmp(h, "timestamp") || !strcasecmp(h, "time")))
			t = i;
		else if (v < 0 && !strcasecmp(h, "value"))
			v = i;
	}
	if (t >= 0 && v >= 0) {
		*ts_col = t;
		*val_col = v;
	}
}

int csv_reader__line(struct csv_reader *r, char *line, size_t len, struct csv_row *ret, char *err)
{
	char *field[CSV_FIELDS_MAX];
	size_t raw_off[CSV_FIELDS_MAX], raw_len[CSV_FIELDS_MAX];
	int64_t ts;
	double value;
	int nf, rc;

	r->lineno++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (r->lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {   /* UTF-8 BOM */
		len -= 3;
		memmove(line, line + 3, len + 1);
	}
	if (memchr(line, '\0', len)) {
		snprintf(err, CSV_ERR_MAX, "NUL byte in the line; is this a text CSV file?");
		return -EINVAL;
	}
	line[len] = '\0';
	if (!line[strspn(line, " \t")])
		return 0;
	if (len >= r->copy_cap) {
		free(r->copy);
		r->copy_cap = len + 1;
		if (!(r->copy = malloc(r->copy_cap))) {
			r->copy_cap = 0;
			snprintf(err, CSV_ERR_MAX, "out of memory");
			return -ENOMEM;
		}
	}
	memcpy(r->copy, line, len + 1);
	nf = split_csv(line, field, raw_off, raw_len);
	if (nf < 0) {
		snprintf(err, CSV_ERR_MAX, "malformed quoted field");
		return -EINVAL;
	}
	if (!r->header_done) {
		r->header_done = true;
		if (nf < 2) {
			snprintf(err, CSV_ERR_MAX, "expected a header line with timestamp and value columns, got '%s'",
				 r->copy);
			return -EINVAL;
		}
		/* A first line that reads as a row is a row (no header). */
		if (!(parse_time_ns(trim(field[0]), &ts) == 0 && parse_double(trim(field[1]), &value) == 0)) {
			header_columns(field, nf, &r->ts_col, &r->val_col);
			return 0;
		}
	}
	if (nf <= r->ts_col || nf <= r->val_col) {
		snprintf(err, CSV_ERR_MAX, "expected at least %d columns, got %d",
			 (r->ts_col > r->val_col ? r->ts_col : r->val_col) + 1, nf);
		return -EINVAL;
	}
	ret->ts_field = trim(field[r->ts_col]);
	if ((rc = parse_time_ns(ret->ts_field, &ts))) {
		snprintf(err, CSV_ERR_MAX, "timestamp '%s' %s", field[r->ts_col],
			 rc == -ERANGE ? "is out of range" : "is not a date-time or epoch number");
		return rc == -ERANGE ? -ERANGE : -EINVAL;
	}
	if (parse_double(trim(field[r->val_col]), &value)) {
		snprintf(err, CSV_ERR_MAX, "value '%s' is not a finite number", field[r->val_col]);
		return -EINVAL;
	}
	ret->ts = ts;
	ret->value = value;
	ret->ts_text = r->copy + raw_off[r->ts_col];
	ret->ts_len = raw_len[r->ts_col];
	ret->value_text = r->copy + raw_off[r->val_col];
	ret->value_len = raw_len[r->val_col];
	return 1;
}

/* Reading a timestamp,value series from CSV text, one line at a time: the
 * input of `ksight detect` (src/cmd/detect.c), kept apart from the command
 * so that it can be tested and fuzzed without files or output.
 *
 * The first non-blank line is a header unless it reads as a row; the
 * columns named timestamp (or time) and value are used, else the first two;
 * other columns are ignored.  A field may be double-quoted, with "" for a
 * quote.  Blank lines are skipped; a UTF-8 byte order mark on the first
 * line and CR LF line ends are accepted.  Timestamps are what
 * parse_time_ns() reads; values must be finite numbers.
 */
#ifndef KS_DETECT_CSV_H
#define KS_DETECT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSV_FIELDS_MAX 64
#define CSV_ERR_MAX 512

struct csv_row {
	int64_t ts;                  /* ns since the epoch */
	double value;
	/* The two fields as written, quotes included, for echoing them back:
	 * pointers into the reader's copy of the line, valid until the next
	 * call, not NUL-terminated. */
	const char *ts_text, *value_text;
	size_t ts_len, value_len;
	/* The timestamp field unquoted and trimmed, NUL-terminated, in the
	 * caller's line (valid while it is). */
	const char *ts_field;
};

struct csv_reader {
	unsigned long lineno;        /* of the line read last, from 1 */
	bool header_done;            /* the first non-blank line was seen */
	int ts_col, val_col;
	char *copy;                  /* the line as it was, for the row's text */
	size_t copy_cap;
};

/* An empty reader; free it with csv_reader__free(). */
void csv_reader__init(struct csv_reader *r);

/* Reads the next line: len bytes at line, with room for one more (a NUL
 * is written at line[len]; the line is modified in place; its end, "\n" or
 * "\r\n", may be included or not).  Returns 1 with *ret set for a
 * row, 0 for a line that holds none (blank, header), or a negative errno
 * with err (CSV_ERR_MAX bytes) saying what is wrong with the line, without
 * its number (r->lineno has it): -EINVAL for a malformed line (a NUL byte,
 * an unterminated quote, too few columns, a field that is not a time or a
 * finite number), -ERANGE for a time out of range, -ENOMEM. */
int csv_reader__line(struct csv_reader *r, char *line, size_t len, struct csv_row *ret, char *err);

void csv_reader__free(struct csv_reader *r);

#endif

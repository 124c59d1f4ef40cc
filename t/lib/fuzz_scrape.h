/* Fuzzing a scraper (src/scrape/) on the files it reads.
 *
 * The input stands for the scraper's files over two ticks, cut at NUL
 * bytes: parts 0..n-1 are the files of tick 1 in the order the target
 * lists them, parts n..2n-1 those of tick 2.  A file without a part in
 * tick 1 does not exist; in tick 2 it keeps its tick-1 contents, so a
 * one-part input runs the counter logic on two equal readings.  A path
 * ending in '/' is a directory (such as /sys/block/): its part lists the
 * names of its entries, one per line.
 *
 * Every row appended must decode back to exactly the bytes the batch holds
 * (batch__end() already asserts each row's column count).
 */
#ifndef KS_FUZZ_SCRAPE_H
#define KS_FUZZ_SCRAPE_H

#include "../../src/scrape/scraper.h"
#include "../../src/store/batch.h"
#include "fuzz.h"

/* Walks every row of every table of b: the encoding must account for
 * every byte. */
static inline void fuzz_check_batch(const struct batch *b)
{
	struct batch_value v;

	for (int t = 0; t < T_COUNT; t++) {
		size_t pos = 0;

		for (uint32_t r = 0; r < b->tables[t].rows; r++)
			for (unsigned c = 0; c < schema_tables[t].ncolumns; c++) {
				if (pos >= b->tables[t].data.len)
					fuzz_die("%s: row %u is cut short", schema_tables[t].name, r);
				batch__read(b, t, &pos, &v);
				if (v.tag > V_TEXT)
					fuzz_die("%s: bad value tag %d", schema_tables[t].name, v.tag);
			}
		if (pos != b->tables[t].data.len)
			fuzz_die("%s: %zu bytes after the last row", schema_tables[t].name, b->tables[t].data.len - pos);
	}
}

/* Lays part (NULL: absent) out as file rel under fuzz_dir(). */
static inline void fuzz_put_file(const char *rel, const char *part, size_t len)
{
	if (rel[strlen(rel) - 1] == '/')
		fuzz_write_dir(rel, part, len);
	else
		fuzz_write(rel, part, len);
}

/* Runs scraper id for two ticks on the files the input describes (see
 * above).  files[] are absolute paths ("/proc/meminfo"). */
static inline int fuzz_scrape(enum scraper_id id, const char *const *files, size_t nfiles, const uint8_t *data,
			      size_t size)
{
	struct fuzz_parts parts;
	struct scraper s;
	struct batch b;

	fuzz_split(data, size, &parts);
	for (size_t j = 0; j < nfiles; j++)
		fuzz_put_file(files[j], j < parts.n ? parts.p[j] : NULL, j < parts.n ? parts.len[j] : 0);
	batch__init(&b);
	scraper__open(&s, id, fuzz_dir());
	scraper__run(&s, &b, 1700000000000000000LL);
	for (size_t j = 0; j < nfiles; j++)
		if (nfiles + j < parts.n)
			fuzz_put_file(files[j], parts.p[nfiles + j], parts.len[nfiles + j]);
	scraper__run(&s, &b, 1700000001000000000LL);
	scraper__destroy(&s);
	fuzz_check_batch(&b);
	batch__free(&b);
	return 0;
}

#endif

/* The root-prefixed readers scrapers build on (src/scrape/procfs.h): whole
 * files of any size, line streaming across chunk boundaries, directory
 * listing, each against files written here with known content. */
#include "../../src/lib/buf.h"
#include "../src/scrape/procfs.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/ksight-procfs.XXXXXX";

static void write_file(const char *name, const char *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")) || fwrite(text, 1, len, f) != len)
		bail_out("cannot write a test file");
	fclose(f);
}

struct seen {
	int lines, bad, stop_at;
	long sum;
};

/* Lines are "<n>" or "<n> <padding>": checks they come in order 1, 2, ... */
static int on_line(char *line, size_t len, void *ctx)
{
	struct seen *s = ctx;

	s->lines++;
	if (atoi(line) != s->lines || strlen(line) != len || strchr(line, '\n'))
		s->bad++;
	s->sum += atoi(line);
	return s->lines == s->stop_at ? 42 : 0;
}

static int on_name(const char *name, void *ctx)
{
	*(int *)ctx += !strcmp(name, "a") || !strcmp(name, "big");
	return 0;
}

int main(void)
{
	struct buf big = BUF_INIT, got = BUF_INIT;
	struct seen seen = { 0 };
	char *longline;
	int n, found = 0;

	plan(14);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");

	/* 20000 numbered lines of varying length: ~300 KiB, several chunks */
	for (int i = 1; i <= 20000; i++)
		buf_printf(&big, "%d %.*s\n", i, i % 23, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	write_file("big", big.data, big.len);
	is(procfs_read_buf(dir, "/big", &got), (ssize_t)big.len, "read_buf reads a file far larger than its first allocation");
	ok(got.len == big.len && !memcmp(got.data, big.data, big.len) && got.data[got.len] == '\0',
	   "byte for byte, NUL-terminated");
	is(procfs_lines(dir, "/big", on_line, &seen), 0, "lines: whole file");
	is(seen.lines, 20000, "every line once, across 64 KiB chunk boundaries");
	is(seen.bad, 0, "in order, without the newline");

	write_file("a", "1\n2\n3", 5);
	seen = (struct seen){ 0 };
	is(procfs_lines(dir, "/a", on_line, &seen), 0, "a last line without newline");
	ok(seen.lines == 3 && seen.bad == 0 && seen.sum == 6, "is still delivered");

	seen = (struct seen){ .stop_at = 5000 };
	is(procfs_lines(dir, "/big", on_line, &seen), 42, "a callback's non-zero return stops and is returned");
	is(seen.lines, 5000, "right there");

	longline = malloc(70000);
	memset(longline, 'x', 70000);
	longline[0] = '1';
	write_file("long", longline, 70000);
	seen = (struct seen){ 0 };
	is(procfs_lines(dir, "/long", on_line, &seen), -E2BIG, "a line longer than a chunk is an error");
	is(procfs_lines(dir, "/missing", on_line, &seen), -ENOENT, "a missing file: -ENOENT");
	is(procfs_read_buf(dir, "/missing", &got), -ENOENT, "read_buf on a missing file: -ENOENT");

	n = procfs_list(dir, "/", on_name, &found);
	ok(n == 0 && found == 2, "list: sees the files written here");
	is(procfs_list(dir, "/nodir", on_name, &found), -ENOENT, "list of a missing directory: -ENOENT");

	free(longline);
	buf_free(&big);
	buf_free(&got);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			diag("cleanup");
	}
	return done_testing();
}

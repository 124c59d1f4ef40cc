/* What the fuzz targets in t/fuzz/ share.
 *
 * Each target is one file defining LLVMFuzzerTestOneInput() (and, when it
 * needs one-time set-up, LLVMFuzzerInitialize()).  It is linked two ways
 * (see the Makefile): with libFuzzer (`make fuzz`, clang, ASan + UBSan),
 * and with t/lib/fuzz_replay.c (`make test`), a main that feeds every
 * file of t/fuzz/corpus/<target>/ through the same entry point, so every
 * input that ever crashed stays fixed.
 *
 * Parsers that read files (the /proc and /sys scrapers, the YAML loaders,
 * the detect command) get their input through a scratch directory made once
 * per process (fuzz_dir(), under /dev/shm when it is writable) and removed
 * at exit.  Inputs that stand for several files are split at NUL bytes
 * (fuzz_split()): no text file these parsers read contains one.
 *
 * Targets must be deterministic, free everything they allocate per input
 * (LeakSanitizer checks), and return 0.
 */
#ifndef KS_FUZZ_H
#define KS_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A failed set-up step is the harness's fault, never the input's. */
#define fuzz_die(...) do { fprintf(stderr, "fuzz: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static char fuzz_dir_path[128];

static int fuzz_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes path and everything under it (missing is fine). */
static inline void fuzz_rm_rf(const char *path)
{
	nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_dir_remove(void)
{
	if (fuzz_dir_path[0])
		fuzz_rm_rf(fuzz_dir_path);
}

/* The scratch directory of this process (made on first use). */
static inline const char *fuzz_dir(void)
{
	if (!fuzz_dir_path[0]) {
		const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

		snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/ksight-fuzz.XXXXXX", base);
		if (!mkdtemp(fuzz_dir_path))
			fuzz_die("cannot make a scratch directory under %s: %s", base, strerror(errno));
		atexit(fuzz_dir_remove);
	}
	return fuzz_dir_path;
}

/* fuzz_dir()/rel in out (size bytes). */
static inline const char *fuzz_path(const char *rel, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", fuzz_dir(), rel[0] == '/' ? rel + 1 : rel);
	return out;
}

/* Makes every parent directory of path. */
static inline void fuzz_mkdirs(const char *path)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			fuzz_die("mkdir %s: %s", dir, strerror(errno));
		*s = '/';
	}
}

/* Writes len bytes to fuzz_dir()/rel (parents made as needed), replacing
 * what was there; data NULL removes the file instead.  Returns the path in
 * a static buffer. */
static inline const char *fuzz_write(const char *rel, const void *data, size_t len)
{
	static char path[4096];
	int fd;

	fuzz_path(rel, path, sizeof(path));
	if (!data) {
		fuzz_rm_rf(path);
		return path;
	}
	fuzz_mkdirs(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fuzz_die("open %s: %s", path, strerror(errno));
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n <= 0)
			fuzz_die("write %s: %s", path, strerror(errno));
		off += (size_t)n;
	}
	close(fd);
	return path;
}

/* Makes fuzz_dir()/rel a directory holding one empty subdirectory per
 * line of data (names with '/', ".", ".." or over 200 bytes are skipped);
 * data NULL removes it. */
static inline void fuzz_write_dir(const char *rel, const char *data, size_t len)
{
	char path[4096], sub[4400];
	size_t at = 0;

	fuzz_path(rel, path, sizeof(path));
	fuzz_rm_rf(path);
	if (!data)
		return;
	fuzz_mkdirs(path);
	if (mkdir(path, 0700) && errno != EEXIST)
		fuzz_die("mkdir %s: %s", path, strerror(errno));
	while (at < len) {
		const char *line = data + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at;

		at += n + 1;
		if (!n || n > 200 || memchr(line, '/', n) || (n == 1 && line[0] == '.') ||
		    (n == 2 && !memcmp(line, "..", 2)))
			continue;
		snprintf(sub, sizeof(sub), "%s/%.*s", path, (int)n, line);
		mkdir(sub, 0700);
	}
}

#define FUZZ_PARTS_MAX 32

/* An input cut at its NUL bytes: part i is p[i], len[i] bytes (no NUL
 * inside, none at the end).  At most FUZZ_PARTS_MAX parts; the last one
 * keeps whatever follows. */
struct fuzz_parts {
	const char *p[FUZZ_PARTS_MAX];
	size_t len[FUZZ_PARTS_MAX];
	size_t n;
};

static inline void fuzz_split(const uint8_t *data, size_t size, struct fuzz_parts *ret)
{
	const char *s = (const char *)data, *end = s + size;

	ret->n = 0;
	while (ret->n < FUZZ_PARTS_MAX) {
		const char *nul = ret->n + 1 < FUZZ_PARTS_MAX ? memchr(s, '\0', (size_t)(end - s)) : NULL;

		ret->p[ret->n] = s;
		ret->len[ret->n] = nul ? (size_t)(nul - s) : (size_t)(end - s);
		ret->n++;
		if (!nul)
			break;
		s = nul + 1;
	}
}

/* A NUL-terminated copy of len bytes of s (the caller frees it). */
static inline char *fuzz_strndup(const void *s, size_t len)
{
	char *c = malloc(len + 1);

	if (!c)
		fuzz_die("out of memory");
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* Reads bytes off the front of an input, for targets that decode a
 * structure (a schema, a list of values) from it: past the end, every read
 * gives zeros and empty strings, so any input decodes to something. */
struct fuzz_reader {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static inline uint64_t fuzz_u64(struct fuzz_reader *r, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)fuzz_u8(r) << (8 * i);
	return v;
}

/* Up to max bytes, the length taken from the first byte; *ret_len set. */
static inline const uint8_t *fuzz_bytes(struct fuzz_reader *r, size_t max, size_t *ret_len)
{
	size_t n = fuzz_u8(r);
	const uint8_t *p = r->p;

	n = n > max ? max : n;
	n = n > r->left ? r->left : n;
	r->p += n;
	r->left -= n;
	*ret_len = n;
	return p;
}

#endif

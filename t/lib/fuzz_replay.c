/* The main of a fuzz target built without libFuzzer (`make test`): feeds
 * every file of the target's corpus through LLVMFuzzerTestOneInput(), the
 * same entry point `make fuzz` drives, and reports one TAP test per file.
 *
 *   .output/t/fuzz/<target>.t [FILE|DIR ...]
 *
 * Without arguments the corpus is t/fuzz/corpus/<target>/ of the source
 * tree this binary was built in.  A crash stops the run (prove reports the
 * signal), after the name of the file being fed was printed as a comment;
 * a target's own checks abort the same way.  Built with SANITIZE=1 the
 * replay also catches what ASan and UBSan see.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...)
{
	char msg[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bail_out(msg);
	exit(255);
}

struct inputs {
	char **path;
	size_t n, cap;
};

static void add(struct inputs *in, const char *path)
{
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 64;
		in->path = realloc(in->path, in->cap * sizeof(*in->path));
		if (!in->path)
			fail("out of memory");
	}
	in->path[in->n++] = strdup(path);
}

/* A file, or every regular file of a directory in name order. */
static void collect(struct inputs *in, const char *path)
{
	struct dirent **names;
	struct stat st;
	int n;

	if (stat(path, &st))
		fail("cannot read the corpus %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		add(in, path);
		return;
	}
	if ((n = scandir(path, &names, NULL, alphasort)) < 0)
		fail("cannot list the corpus %s: %s", path, strerror(errno));
	for (int i = 0; i < n; i++) {
		char full[4096];

		snprintf(full, sizeof(full), "%s/%s", path, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && !stat(full, &st) && S_ISREG(st.st_mode))
			add(in, full);
		free(names[i]);
	}
	free(names);
}

static uint8_t *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		fail("cannot open %s: %s", path, strerror(errno));
	do {
		if (len == cap && !(data = realloc(data, cap = cap ? cap * 2 : 4096)))
			fail("out of memory");
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*ret_len = len;
	return data;
}

int main(int argc, char **argv)
{
	struct inputs in = { 0 };
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char target[256], rel[512];

	snprintf(target, sizeof(target), "%.*s", (int)strcspn(base, "."), base);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			collect(&in, argv[i]);
	} else {
		snprintf(rel, sizeof(rel), "t/fuzz/corpus/%s", target);
		collect(&in, tap_src(rel));
	}
	if (!in.n)
		fail("the corpus of %s is empty", target);
	plan((int)in.n);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (size_t i = 0; i < in.n; i++) {
		const char *name = strrchr(in.path[i], '/') ? strrchr(in.path[i], '/') + 1 : in.path[i];
		size_t len;
		uint8_t *data = slurp(in.path[i], &len);
		int rc;

		/* On stdout: prove shows it with -v, and a crash leaves it last. */
		printf("# %s: %s (%zu bytes)\n", target, name, len);
		fflush(stdout);
		rc = LLVMFuzzerTestOneInput(data, len);
		is(rc, 0, "%s: %s", target, name);
		free(data);
		free(in.path[i]);
	}
	free(in.path);
	return done_testing();
}

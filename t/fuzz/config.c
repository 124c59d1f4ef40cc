/* Fuzz target: the agent's configuration loader (src/config/config.c) and
 * the YAML tree under it (src/lib/ytree.c, libyaml).
 *
 * Input: the configuration file.  One that loads must list every setting
 * through config__each() with a name and a value; one that does not must
 * say where, as "file:LINE: what". */
#include "../../src/config/config.h"
#include "../lib/fuzz.h"

static void each(void *ctx, const char *key, const char *value)
{
	(void)ctx;
	if (!key || !*key || !value)
		fuzz_die("config__each gave a setting without a name or a value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("ksight.yaml", data, size);
	char err[CONFIG_ERR_MAX] = "";
	struct config cfg;
	int rc;

	config__defaults(&cfg);
	rc = config__load(&cfg, path, err);
	if (rc) {
		size_t n = strlen(path);

		if ((rc != -EINVAL && rc != -ERANGE) || strncmp(err, path, n) || err[n] != ':' || err[n + 1] < '0' || err[n + 1] > '9')
			fuzz_die("load failed (%d) without naming the line: %s", rc, err);
	} else {
		if (cfg.interval_ns <= 0 || !cfg.db_path)
			fuzz_die("a loaded configuration without a tick or a database");
		config__each(&cfg, each, NULL);
	}
	config__free(&cfg);
	return 0;
}

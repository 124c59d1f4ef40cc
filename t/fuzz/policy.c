/* Fuzz target: the remediation policy loader (src/remediate/policy.c) and
 * the YAML tree under it (src/lib/ytree.c, libyaml).
 *
 * Input: the policy file.  A policy that loads must hold what the header
 * promises (lists within POLICY_LIST_MAX, names set, durations positive
 * and bounded); one that does not must say where, as "file:LINE: what". */
#include "../../src/remediate/policy.h"
#include "../lib/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("policy.yaml", data, size);
	char err[POLICY_ERR_MAX] = "";
	struct policy p;
	int rc;

	policy__defaults(&p);
	rc = policy__load(&p, path, err);
	if (rc) {
		size_t n = strlen(path);

		if (rc != -EINVAL || strncmp(err, path, n) || err[n] != ':' || err[n + 1] < '0' || err[n + 1] > '9')
			fuzz_die("load failed (%d) without naming the line: %s", rc, err);
	} else {
		if (p.interval_ns < 1000000000LL || p.settle_ns < 0 || p.mode > MODE_ACT)
			fuzz_die("interval or settle out of range");
		for (size_t i = 0; i < p.nrules; i++) {
			const struct rule *r = &p.rules[i];

			if (!r->name || r->ncomm > POLICY_LIST_MAX || r->ncgroup > POLICY_LIST_MAX ||
			    r->nuser > POLICY_LIST_MAX || r->action >= ACTION_COUNT)
				fuzz_die("rule %zu breaks the policy's invariants", i);
			if (r->grace_ns < 0 || r->cooldown_ns < 0)
				fuzz_die("rule '%s': a negative duration", r->name);
			rule_matches(r, "worker", "/jobs/1", 1000);
			rule_matches(r, NULL, NULL, -1);
			action_name(r->action);
		}
	}
	policy__free(&p);
	return 0;
}

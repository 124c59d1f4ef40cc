/* Whether a collector source (a scraper here, or a tracer in src/bpf/) runs,
 * and if not, what kind of reason keeps it off.
 *
 * The source's `reason` text says why in words for people (collector_stats,
 * /api/health, the agent's log); code that must tell the cases apart (is it
 * worth a "run as root" hint? is the type missing from this kernel?) reads
 * the state instead of matching that text.  Tracers include this header
 * too: src/bpf may include src/scrape, not the other way round.
 */
#ifndef KS_SOURCE_H
#define KS_SOURCE_H

#include <errno.h>

#define SOURCE_STATES(X) \
	X(ON, "on") \
	X(OFF_CONFIG, "disabled by configuration") \
	X(OFF_MISSING, "not in this kernel") \
	X(OFF_DENIED, "not permitted") \
	X(OFF_FAILED, "failed to start")

enum source_state {
#define X(id, name) SOURCE_##id,
	SOURCE_STATES(X)
#undef X
	SOURCE_STATE_COUNT
};

/* The state in words ("disabled by configuration"); also the reason text
 * of a source the configuration turned off. */
static inline const char *source_state_name(enum source_state state)
{
	static const char *const names[SOURCE_STATE_COUNT] = {
#define X(id, name) name,
		SOURCE_STATES(X)
#undef X
	};

	return (unsigned)state < SOURCE_STATE_COUNT ? names[state] : "unknown";
}

/* The off state a start-up failure with negative errno err stands for:
 * EPERM is a missing privilege (root, or CAP_BPF and CAP_PERFMON); any
 * other error is a failure the reason text explains.  (EACCES is not
 * "denied": the verifier says it too when it rejects a program.) */
static inline enum source_state source_state_of_errno(int err)
{
	return err == -EPERM ? SOURCE_OFF_DENIED : SOURCE_OFF_FAILED;
}

#endif

/* ksight status's view of a running agent's GET /api/health (a separate
 * file because jansson, which parses it, and lib/json.h, which writes
 * JSON, both define json_null). */
#ifndef KS_CMD_STATUS_HEALTH_H
#define KS_CMD_STATUS_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#define HEALTH_PROBLEMS_MAX 16

struct health {
	int http_status;              /* the answer's status, or a negative errno when none came */
	char status[16];              /* "ok", "degraded"; "" when unknown */
	char problems[HEALTH_PROBLEMS_MAX][300];
	int nproblems;
	int64_t cap_bytes;            /* database.cap_bytes, -1 when the agent has no cap */
	char learning[200];           /* learning.text ("learning: 212 of 512 samples ..."); "" when none */
	/* "memory": what the agent holds against its caps; -1 where the
	 * agent did not say (an older agent: has_memory false). */
	bool has_memory, has_detect;
	int64_t rss, peak_rss, heap_used, heap_free;
	int64_t sqlite_used, sqlite_cap, sqlite_connections;
	int64_t http_cache_used, http_cache_cap;
	int64_t metrics, max_metrics, detect_used, detect_cap;
	char *body;                   /* the JSON as it came (200 only), owned; free() it */
};

/* GETs url + "/api/health" (url: "http://HOST:PORT"), with token as a
 * bearer token when not NULL, waiting at most timeout_s.  Always fills
 * *ret (http_status says how it went). */
void health_fetch(const char *url, const char *token, int timeout_s, struct health *ret);

#endif

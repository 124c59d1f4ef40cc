/* GET /api/health: is the agent well, and what does it run.
 *
 * From the latest snapshot only (no database query): status, version,
 * uptime, kernel, every collector with enabled or disabled and why, its
 * events and drops, the database's size and write health, and how far the
 * detectors are from judging ("learning", null when detection is off;
 * see src/detect/watch.h for what "samples" means).  "status"
 * is "ok", or "degraded" with the reasons when a configured collector is
 * off, events were lost in the last interval, or the database refuses
 * writes.  "memory" is what the agent holds against each cap that bounds
 * it (read now, not at the tick): RSS, the heap, SQLite's page caches
 * (agent.db_cache, http.db_cache), the answer cache (http.cache_bytes) and
 * the detectors' windows (detect.max_metrics).
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "../config/config.h"
#include "../store/store.h"
#include "cache.h"
#include "routes.h"
#include "snapshot.h"

/* VmRSS and VmHWM of this process, in bytes (0 when unreadable). */
static void rss_now(uint64_t *rss, uint64_t *hwm)
{
	char line[128];
	unsigned long long kb;
	FILE *f = fopen("/proc/self/status", "re");

	*rss = *hwm = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			*rss = kb * 1024;
		else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			*hwm = kb * 1024;
	}
	fclose(f);
}

static void used_cap(struct json *j, const char *key, uint64_t used, uint64_t cap, const char *setting)
{
	json_key(j, key);
	json_obj_begin(j);
	json_key(j, "used_bytes");
	json_uint(j, used);
	json_key(j, "cap_bytes");
	json_uint(j, cap);
	json_key(j, "setting");
	json_str(j, setting);
	json_obj_end(j);
}

static void memory_json(struct json *j, const struct snapshot *s, const struct config *cfg)
{
	struct mallinfo2 mi = mallinfo2();
	uint64_t rss, hwm, metrics = s->learning.metrics_learning + s->learning.metrics_ready;

	rss_now(&rss, &hwm);
	json_obj_begin(j);
	json_key(j, "rss_bytes");
	json_uint(j, rss);
	json_key(j, "peak_rss_bytes");
	json_uint(j, hwm);
	json_key(j, "heap");
	json_obj_begin(j);
	json_key(j, "in_use_bytes");
	json_uint(j, mi.uordblks + mi.hblkhd);
	json_key(j, "free_bytes");
	json_uint(j, mi.fordblks);
	json_obj_end(j);
	/* The page caches are capped; statements and schemas come on top. */
	json_key(j, "sqlite");
	json_obj_begin(j);
	json_key(j, "used_bytes");
	json_int(j, store__memory_used());
	json_key(j, "connections");
	json_uint(j, 1 + cfg->http_threads);
	json_key(j, "page_cache_cap_bytes");
	json_uint(j, cfg->db_cache_bytes + cfg->http_threads * cfg->http_db_cache_bytes);
	json_key(j, "setting");
	json_str(j, "agent.db_cache + http.threads x http.db_cache");
	json_obj_end(j);
	used_cap(j, "http_cache", http_cache__bytes(), http_cache__cap(), "http.cache_bytes");
	json_key(j, "detect");
	if (s->learning.enabled) {
		json_obj_begin(j);
		json_key(j, "metrics");
		json_uint(j, metrics);
		json_key(j, "max_metrics");
		json_uint(j, cfg->detect_max_metrics);
		json_key(j, "used_bytes");
		json_uint(j, metrics * s->learning.metric_bytes);
		json_key(j, "cap_bytes");
		json_uint(j, cfg->detect_max_metrics * s->learning.metric_bytes);
		json_key(j, "setting");
		json_str(j, "detect.max_metrics");
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

static void collector_json(struct json *j, const struct snapshot_collector *c)
{
	json_obj_begin(j);
	json_key(j, "name");
	json_str(j, c->name);
	json_key(j, "kind");
	json_str(j, c->kind);
	json_key(j, "enabled");
	json_bool(j, c->enabled);
	json_key(j, "reason");
	json_str(j, c->reason[0] ? c->reason : NULL);
	json_key(j, "note");
	json_str(j, c->note[0] ? c->note : NULL);
	json_key(j, "events_total");
	json_uint(j, c->events_total);
	json_key(j, "drops_total");
	json_uint(j, c->drops_total);
	json_key(j, "rate_limited_total");
	json_uint(j, c->rate_limited_total);
	json_key(j, "events_last_interval");
	json_uint(j, c->events_last);
	json_key(j, "drops_last_interval");
	json_uint(j, c->drops_last);
	json_obj_end(j);
}

static void learning_json(struct json *j, const struct snapshot *s)
{
	const struct snapshot_learning *l = &s->learning;
	char text[160];

	if (!l->enabled) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_key(j, "ready");
	json_bool(j, l->samples >= l->needed);
	json_key(j, "samples");
	json_uint(j, l->samples);
	json_key(j, "needed");
	json_uint(j, l->needed);
	json_key(j, "seconds_left");
	json_double(j, snapshot_learning_left_s(l, s->interval_ns));
	json_key(j, "metrics_learning");
	json_uint(j, l->metrics_learning);
	json_key(j, "metrics_ready");
	json_uint(j, l->metrics_ready);
	json_key(j, "metrics_seeded");
	json_uint(j, l->metrics_seeded);
	json_key(j, "seeded_from");
	if (l->seeded_from_ns)
		json_double(j, (double)l->seeded_from_ns / 1e9);
	else
		json_null(j);
	json_key(j, "text");
	json_str(j, snapshot_learning_text(l, s->interval_ns, text, sizeof(text)));
	json_obj_end(j);
}

int route_health(struct http_request *r)
{
	const struct snapshot *s = r->snap;
	struct utsname u;
	struct json j;
	const char *problems[SNAPSHOT_COLLECTORS + 2];
	char texts[SNAPSHOT_COLLECTORS + 2][300];
	size_t nproblems = 0;

	if (!s)
		return http_error(r, 503, NULL, "the agent is starting: no tick yet");
	for (size_t i = 0; i < s->ncollectors; i++) {
		const struct snapshot_collector *c = &s->collectors[i];

		if (c->configured && !c->enabled)
			snprintf(texts[nproblems], sizeof(texts[0]), "%s %s is off: %s", c->kind, c->name, c->reason);
		else if (c->drops_last)
			snprintf(texts[nproblems], sizeof(texts[0]), "%s %s lost %llu events in the last interval", c->kind,
				 c->name, (unsigned long long)c->drops_last);
		else
			continue;
		problems[nproblems] = texts[nproblems];
		nproblems++;
	}
	if (s->store.last_error) {
		snprintf(texts[nproblems], sizeof(texts[0]), "the database refuses writes: %s", s->store.last_error_msg);
		problems[nproblems] = texts[nproblems];
		nproblems++;
	}
	uname(&u);
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "status");
	json_str(&j, nproblems ? "degraded" : "ok");
	json_key(&j, "problems");
	json_arr_begin(&j);
	for (size_t i = 0; i < nproblems; i++)
		json_str(&j, problems[i]);
	json_arr_end(&j);
	http_json_agent(&j, r);
	json_key(&j, "interval_s");
	json_double(&j, (double)s->interval_ns / 1e9);
	json_key(&j, "kernel");
	json_str(&j, u.release);
	json_key(&j, "hostname");
	json_str(&j, u.nodename);
	json_key(&j, "collectors");
	json_arr_begin(&j);
	for (size_t i = 0; i < s->ncollectors; i++)
		collector_json(&j, &s->collectors[i]);
	json_arr_end(&j);
	json_key(&j, "learning");
	learning_json(&j, s);
	json_key(&j, "memory");
	memory_json(&j, s, http_server__config(r->server));
	json_key(&j, "database");
	json_obj_begin(&j);
	http_json_database(&j, r);
	json_key(&j, "last_error");
	json_str(&j, s->store.last_error ? s->store.last_error_msg : NULL);
	json_obj_end(&j);
	json_obj_end(&j);
	return 200;
}

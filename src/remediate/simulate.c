/* SIMULATE: where things go without action, and what each action would do.
 *
 * For each finding: a leak's time to its limit with a band that widens as
 * the detector's confidence drops, an anomaly's score against its expected
 * range, a stall's level.  For the host: the filesystem that fills first
 * (free space sampled each cycle, a least-squares slope) and disks whose
 * p95 latency trends up.  For a decision: the expected effect of its
 * action, recorded beside the projection so that VERIFY has a claim to
 * check.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "../lib/clock.h"
#include "../scrape/pid.h"
#include "../scrape/procfs.h"
#include "engine_state.h"

/* Least-squares slope of y over t (per second); NaN with fewer than 3 points. */
static double slope(const int64_t *t, const double *y, int n)
{
	double st = 0, sy = 0, stt = 0, sty = 0;

	if (n < 3)
		return NAN;
	for (int i = 0; i < n; i++) {
		double x = (double)(t[i] - t[0]) / 1e9;

		st += x;
		sy += y[i];
		stt += x * x;
		sty += x * y[i];
	}
	if (n * stt - st * st == 0)
		return NAN;
	return (n * sty - st * sy) / (n * stt - st * st);
}

/* Filesystems that fill up: free space sampled every cycle. */
static void simulate_filesystems(struct engine *e, int64_t now)
{
	char text[65536], *save = NULL, best[256] = "";
	double best_ttl = INFINITY;

	if (procfs_read(e->env.root, "/proc/self/mounts", text, sizeof(text)) < 0)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[256], mnt[256], type[32];
		struct statvfs st;
		struct fs_track *fs = NULL;

		if (sscanf(line, "%255s %255s %31s", dev, mnt, type) != 3 || dev[0] != '/' ||
		    !(strstr(type, "ext") || !strcmp(type, "xfs") || !strcmp(type, "btrfs")))
			continue;
		if (statvfs(mnt, &st))
			continue;
		for (size_t i = 0; i < e->nfs; i++)
			if (!strcmp(e->fs[i].mount, mnt))
				fs = &e->fs[i];
		if (!fs) {
			if (e->nfs == FS_MAX)
				continue;
			fs = &e->fs[e->nfs++];
			memset(fs, 0, sizeof(*fs));
			snprintf(fs->mount, sizeof(fs->mount), "%s", mnt);
		}
		if (fs->n == FS_HISTORY) {
			memmove(&fs->t[0], &fs->t[1], (FS_HISTORY - 1) * sizeof(fs->t[0]));
			memmove(&fs->avail[0], &fs->avail[1], (FS_HISTORY - 1) * sizeof(fs->avail[0]));
			fs->n--;
		}
		fs->t[fs->n] = now;
		fs->avail[fs->n++] = (double)st.f_bavail * (double)st.f_frsize;
		fs->size = (double)st.f_blocks * (double)st.f_frsize;
		{
			double rate = -slope(fs->t, fs->avail, fs->n);   /* bytes/s consumed */
			double ttl = rate > 0 ? fs->avail[fs->n - 1] / rate : INFINITY;

			if (ttl < best_ttl) {
				best_ttl = ttl;
				snprintf(best, sizeof(best), "%s", mnt);
			}
		}
	}
	pthread_mutex_lock(&e->lock);
	if (isfinite(best_ttl))
		snprintf(e->fs_projection, sizeof(e->fs_projection), "%s full in %.0f s at the current rate", best,
			 best_ttl);
	else
		snprintf(e->fs_projection, sizeof(e->fs_projection), "no filesystem is filling up");
	pthread_mutex_unlock(&e->lock);
}

static void simulate_io(struct engine *e)
{
	const struct world *w = &e->world;
	char out[256] = "";
	size_t len = 0;

	for (size_t d = 0; d < w->ndisks; d++) {
		const struct disk_trend *dk = &w->disks[d];
		int64_t t[WORLD_HISTORY];
		double s, first, last;

		if (dk->n < 10)
			continue;
		for (int i = 0; i < dk->n; i++)
			t[i] = (int64_t)i * NSEC_PER_SEC;
		s = slope(t, dk->p95_us, dk->n);
		first = dk->p95_us[0];
		last = dk->p95_us[dk->n - 1];
		if (isnan(s) || first <= 0)
			continue;
		if (s * 60 > first * 0.5 && last > first)
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s p95 rising %.0f µs/min", len ? "; " : "",
						dk->device, s * 60);
		if (len >= sizeof(out))
			break;
	}
	pthread_mutex_lock(&e->lock);
	snprintf(e->io_trend, sizeof(e->io_trend), "%s", len ? out : "no disk latency trending up");
	pthread_mutex_unlock(&e->lock);
}

void engine_simulate(struct engine *e, int64_t now)
{
	for (size_t i = 0; i < e->nfindings; i++) {
		struct finding *f = &e->findings[i];

		f->ttl_s = f->ttl_lo_s = f->ttl_hi_s = NAN;
		if (f->kind == TRIGGER_LEAK) {
			const struct suspect *s = f->suspect;
			/* The rate is known to within its confidence: widen the band
			 * as confidence drops (10% at 1.0, 60% at 0.5). */
			double u = 0.1 + (1.0 - s->confidence);

			f->ttl_s = s->time_to_limit_s;
			if (!isnan(f->ttl_s)) {
				f->ttl_lo_s = f->ttl_s / (1 + u);
				f->ttl_hi_s = u < 1 ? f->ttl_s / (1 - u) : INFINITY;
				snprintf(f->projection, sizeof(f->projection),
					 "reaches its %s in %.0f s (%.0f..%.0f s) without action",
					 s->limit_bytes > 0 ? "cgroup limit" : "share of available memory", f->ttl_s,
					 f->ttl_lo_s, f->ttl_hi_s);
			} else {
				snprintf(f->projection, sizeof(f->projection), "not growing right now");
			}
		} else if (f->kind == TRIGGER_ANOMALY) {
			snprintf(f->projection, sizeof(f->projection), "score %.2f; expected %g..%g", f->anomaly->score,
				 f->anomaly->low, f->anomaly->high);
		} else {
			snprintf(f->projection, sizeof(f->projection), "%s stall %.1f%% (avg10)", psi_name(f->psi_resource),
				 f->psi);
		}
	}
	simulate_filesystems(e, now);
	simulate_io(e);
}

/* What an action is expected to do to a finding. */
void engine_expected_effect(const struct rule *r, const struct finding *f, const struct pid_info *target,
			    char *out, size_t size)
{
	char rss[32];

	engine_human_bytes(target ? (double)target->rss_bytes : 0, rss, sizeof(rss));
	switch (r->action) {
	case ACTION_TERMINATE:
		snprintf(out, size, "ends %s: about %s comes back%s", target ? target->comm : "the process", rss,
			 f->kind == TRIGGER_LEAK ? " and the growth stops" : "");
		break;
	case ACTION_MEMORY_HIGH:
		snprintf(out, size, "reclaim throttles the cgroup above its limit: growth slows to what reclaim allows");
		break;
	case ACTION_RENICE:
		snprintf(out, size, "nice %d: a smaller CPU share, less run-queue pressure on others", r->nice);
		break;
	case ACTION_IONICE:
		snprintf(out, size, "I/O class %s: its I/O waits behind everyone else's",
			 r->ioprio_class == 3 ? "idle" : "best-effort");
		break;
	case ACTION_CPU_WEIGHT:
		snprintf(out, size, "cgroup CPU weight %llu: a smaller share under contention",
			 (unsigned long long)r->cpu_weight);
		break;
	case ACTION_DROP_CACHES:
		snprintf(out, size, "clean page cache freed at once (refilled from disk later)");
		break;
	default:
		snprintf(out, size, "no change on the host: an operator is told");
		break;
	}
}

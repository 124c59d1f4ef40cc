/* OBSERVE: what the remediation agent knows of the host, kept up to date
 * from every tick's batch of rows (the collectors' and detectors' output),
 * so a decision cycle never re-queries the database.
 *
 * Leak suspects come from memory_growth_events ('suspect' adds or updates,
 * 'resolved'/'exited' and process exits remove); anomalies from the
 * anomalies table; pressure, CPU and memory from the scrapers; the top
 * processes by CPU, run-queue wait and page faults from the per-process
 * tables; I/O latency per disk over the last minute for trends.
 */
#ifndef KS_WORLD_H
#define KS_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct batch;

#define WORLD_SUSPECTS_MAX 256
#define WORLD_ANOMALIES_MAX 64
#define WORLD_TOP 8
#define WORLD_HISTORY 60
#define WORLD_DISKS 16

struct suspect {
	uint32_t pid;
	int64_t process_start;
	char comm[17];
	char cgroup[256];
	char pattern[16];
	double rate;                /* bytes/s */
	double confidence;
	int64_t rss_bytes;
	int64_t limit_bytes;        /* -1: unlimited */
	int64_t headroom_bytes;     /* -1: unknown */
	double time_to_limit_s;     /* NaN: not growing */
	char limit_source[16];      /* "cgroup" or "memavailable" */
	int64_t first_seen_ns;
	int64_t updated_ns;
	bool fresh;                 /* appeared, became surer or changed pattern since the last cycle */
};

struct anomaly_seen {
	int64_t time_ns;
	char metric[128];
	double value, low, high, score;
	char explanation[256];
	bool fresh;
};

struct proc_load {
	uint32_t pid;
	char comm[17];
	double value;
};

struct disk_trend {
	char device[32];
	double p95_us[WORLD_HISTORY];     /* worst of read/write p95 per tick, oldest first */
	int n;
};

struct world {
	int64_t now_ns;
	struct suspect suspects[WORLD_SUSPECTS_MAX];
	size_t nsuspects;
	struct anomaly_seen anomalies[WORLD_ANOMALIES_MAX];
	size_t nanomalies;
	double psi_some_avg10[3];         /* cpu, memory, io; NaN: unknown */
	double cpu_busy_pct;              /* NaN: unknown */
	int64_t mem_total_kb, mem_available_kb;
	struct proc_load top_cpu[WORLD_TOP], top_runq[WORLD_TOP], top_faults[WORLD_TOP], top_retrans[WORLD_TOP];
	size_t ntop_cpu, ntop_runq, ntop_faults, ntop_retrans;
	struct disk_trend disks[WORLD_DISKS];
	size_t ndisks;
	uint64_t processes_seen;          /* processes in the last per-process rows */
	bool new_finding;                 /* a new (or surer, or reshaped) suspect or anomaly since the last cycle */
};

enum { PSI_CPU, PSI_MEMORY, PSI_IO };

void world__init(struct world *w);

/* Takes in the rows of one tick. */
void world__feed(struct world *w, const struct batch *b, int64_t now_ns);

/* Marks everything as seen by a cycle (clears fresh and new_finding). */
void world__mark_seen(struct world *w);

const struct suspect *world__suspect(const struct world *w, uint32_t pid);

/* The wall clock stepped by step_ns: moves the times kept (suspects seen,
 * anomalies) with it. */
void world__clock_step(struct world *w, int64_t step_ns);

/* Adds a suspect directly (tests, replays). */
void world__put_suspect(struct world *w, const struct suspect *s);
void world__put_anomaly(struct world *w, const struct anomaly_seen *a);

#endif

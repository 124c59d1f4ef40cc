/* The tracer framework without a kernel: a failed collect is counted and
 * explained the way a scraper's failed read is (and shows in what
 * collector_stats reports), a later success clears the reason; the sink
 * helpers write a task's columns and convert the BPF clock with nothing
 * but a batch behind them.  The probe of kernel struct fields reads the
 * kernel's BTF file only. */
#include "../../src/bpf/tracer.h"
#include "../../src/store/batch.h"
#include "../lib/tap.h"

#include <stdlib.h>

static int collect_rc;

static int fake_collect(struct tracer *t, struct batch *b, int64_t now_ns)
{
	(void)b;
	(void)now_ns;
	t->events++;
	return collect_rc;
}

static const struct tracer_ops fake_ops = { .name = "fake", .collect = fake_collect };

int main(void)
{
	struct tracer t = { .ops = &fake_ops, .enabled = true };
	struct tracer off = { .ops = &fake_ops, .reason = "disabled by configuration" };
	struct tracer_sink sink = { .offset_ns = 1000 };
	struct ks_task task = { .cgroup_id = 77, .pid = 10, .tid = 11, .comm = "worker" };
	struct batch b;
	struct batch_value v;
	char reason[2 * TRACER_REASON_MAX];

	plan(24);
	batch__init(&b);

	collect_rc = -EIO;
	tracer__collect(&t, &b, 1);
	is(t.errors, 1, "a failed collect is counted");
	is_str(t.error, "last collect failed: Input/output error", "with its reason");
	is(tracer__drops(&t, false), 1, "and counts as a drop this interval");
	is_str(tracer__reason(&t, reason, sizeof(reason)), "last collect failed: Input/output error",
	       "collector_stats shows the reason");
	snprintf(t.note, sizeof(t.note), "no perf events");
	is_str(tracer__reason(&t, reason, sizeof(reason)), "no perf events; last collect failed: Input/output error",
	       "a degraded tracer shows both what it lacks and the failure");
	tracer__end_interval(&t);
	is(t.errors, 0, "the interval's count is reset");
	is(tracer__drops(&t, true), 1, "and kept in the total");

	collect_rc = 0;
	tracer__collect(&t, &b, 2);
	is(t.errors, 0, "a successful collect counts no error");
	is_str(t.error, "", "and clears the reason");
	is_str(tracer__reason(&t, reason, sizeof(reason)), "no perf events", "the note stays");
	is(tracer__drops(&t, true), 1, "the total keeps the earlier failure");
	is(t.events, 1, "collect ran");

	collect_rc = -EIO;
	tracer__collect(&off, &b, 3);
	is(off.errors + off.events, 0, "a disabled tracer is not collected");
	is_str(tracer__reason(&off, reason, sizeof(reason)), "disabled by configuration",
	       "a disabled tracer shows why");

	is(sink__to_real(&sink, 5), 1005, "the sink turns the BPF clock into wall-clock ns");
	batch__row(&b, T_SCHED_LATENCY_EVENTS);
	for (unsigned c = 0; c < schema_tables[T_SCHED_LATENCY_EVENTS].ncolumns; c++) {
		const char *name = schema_tables[T_SCHED_LATENCY_EVENTS].columns[c].name;

		if (!strcmp(name, "pid"))
			sink__put_task(&b, &task);
		else if (!strcmp(name, "cgroup_id"))
			sink__put_cgroup(&sink, &b, &task);
		else if (strcmp(name, "tid") && strcmp(name, "comm") && strcmp(name, "cgroup"))
			batch__null(&b);
	}
	batch__end(&b);
	ok(batch__value(&b, T_SCHED_LATENCY_EVENTS, 0, "comm", &v) && v.tag == V_TEXT && v.len == 6 &&
	   !memcmp(v.s, "worker", 6), "put_task writes the comm");
	ok(batch__value(&b, T_SCHED_LATENCY_EVENTS, 0, "tid", &v) && v.tag == V_INT && v.i == 11,
	   "put_task writes the tid");
	ok(batch__value(&b, T_SCHED_LATENCY_EVENTS, 0, "cgroup_id", &v) && v.i == 77 &&
	   batch__value(&b, T_SCHED_LATENCY_EVENTS, 0, "cgroup", &v) && v.tag == V_NULL,
	   "without cgroup mounts: the v2 id and no path");
	batch__free(&b);

	/* ops->fields: a member of the running kernel's struct, as its BTF says */
	ok(tracer_field_exists("task_struct", "pid"), "task_struct.pid exists");
	ok(tracer_field_exists("page", "lru"),
	   "a member inside anonymous unions and structs exists (as task_struct's are with CONFIG_RANDSTRUCT)");
	ok(!tracer_field_exists("task_struct", "no_such_member"), "a member the struct lacks does not");
	ok(!tracer_field_exists("no_such_struct", "pid"), "nor one of a struct the kernel lacks");
	ok(!tracer_field_exists("task_struct", "") && !tracer_field_exists("", "pid"), "an empty name matches nothing");
	setenv("KSIGHT_HIDE_TRACEPOINTS", "sched_switch,task_struct.pid", 1);
	ok(!tracer_field_exists("task_struct", "pid"), "KSIGHT_HIDE_TRACEPOINTS hides a field");
	unsetenv("KSIGHT_HIDE_TRACEPOINTS");
	tracer_hooks_release();
	return done_testing();
}

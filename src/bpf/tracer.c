/* Tracer framework (see tracer.h): the tracer table, hook probing, the
 * generic load/attach, kernel counters and ring buffer dispatch. */
#include "tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/prom.h"
#include "hist.h"

#define X(name) extern const struct tracer_ops name##_tracer;
TRACERS(X)
#undef X

const struct tracer_ops *const tracer_table[TRACER_COUNT] = {
#define X(name) [TRACER_##name] = &name##_tracer,
	TRACERS(X)
#undef X
};

int tracer_find(const char *name)
{
	for (int i = 0; i < TRACER_COUNT; i++)
		if (!strcmp(tracer_table[i]->name, name))
			return i;
	return -1;
}

static struct btf *vmlinux_btf;

void tracer_hooks_release(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
}

static bool hidden_by_env(const char *name)
{
	const char *hide = getenv("KSIGHT_HIDE_TRACEPOINTS");
	size_t len = strlen(name);

	for (const char *p = hide; p && *p; ) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && !strncmp(p, name, n))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* The running kernel's BTF, loaded once; NULL when it has none. */
static struct btf *kernel_btf(void)
{
	if (!vmlinux_btf)
		vmlinux_btf = btf__load_vmlinux_btf();
	return vmlinux_btf;
}

bool tracer_hook_exists(const char *name)
{
	char type[128];

	if (hidden_by_env(name) || !kernel_btf())
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux_btf, type, BTF_KIND_TYPEDEF) > 0;
}

/* True when struct or union t has a member named `member`, directly or
 * inside an anonymous struct or union (CONFIG_RANDSTRUCT puts task_struct's
 * fields in one); depth bounds the recursion. */
static bool has_member(const struct btf_type *t, const char *member, int depth)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const struct btf_type *mt;

		if (m->name_off) {
			const char *n = btf__name_by_offset(vmlinux_btf, m->name_off);

			if (n && !strcmp(n, member))
				return true;
			continue;
		}
		mt = btf__type_by_id(vmlinux_btf, m->type);
		while (mt && (btf_is_mod(mt) || btf_is_typedef(mt)))
			mt = btf__type_by_id(vmlinux_btf, mt->type);
		if (mt && btf_is_composite(mt) && depth > 0 && has_member(mt, member, depth - 1))
			return true;
	}
	return false;
}

bool tracer_field_exists(const char *type, const char *member)
{
	const struct btf_type *t;
	char name[128];
	int id;

	if (!*type || !*member)
		return false;
	snprintf(name, sizeof(name), "%s.%s", type, member);
	if (hidden_by_env(name) || !kernel_btf())
		return false;
	id = btf__find_by_name_kind(vmlinux_btf, type, BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(vmlinux_btf, id) : NULL;
	return t && has_member(t, member, 4);
}

int tracer_hook_args(const char *name)
{
	const struct btf_type *t;
	char type[128];
	int id;

	if (!tracer_hook_exists(name))
		return -1;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	id = btf__find_by_name_kind(vmlinux_btf, type, BTF_KIND_TYPEDEF);
	/* typedef -> pointer -> function prototype (void *, args...) */
	t = btf__type_by_id(vmlinux_btf, id);
	t = t ? btf__type_by_id(vmlinux_btf, t->type) : NULL;
	t = t ? btf__type_by_id(vmlinux_btf, t->type) : NULL;
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}

uint64_t tracer_rate_cap_per_cpu(uint64_t per_second)
{
	int ncpus = libbpf_num_possible_cpus();

	if (!per_second)
		return 0;
	if (ncpus < 1)
		ncpus = 1;
	return per_second / (uint64_t)ncpus ? per_second / (uint64_t)ncpus : 1;
}

void tracer_metrics_hist(struct prom *p, const struct prom_labels *l, const uint64_t *counts, double sum_ns,
			 enum hist_layout layout)
{
	/* le = hist_lower(b) for the first bucket b not counted */
	uint32_t first = layout == HIST_NATIVE ? 1 : 64, last = layout == HIST_NATIVE ? HIST_BUCKETS - 1 : 248;
	uint32_t step = layout == HIST_NATIVE ? 1 : layout == HIST_POW2_FROM_1US ? 8 : 16;
	double le[HIST_BUCKETS];
	uint64_t cum[HIST_BUCKETS], below = 0, total = 0;
	size_t n = 0;
	uint32_t b = 0;

	for (uint32_t edge = first; edge <= last; edge += step) {
		for (; b < edge; b++)
			below += counts[b];
		le[n] = (double)hist_lower(edge) / 1e9;
		cum[n++] = below;
	}
	for (uint32_t k = 0; k < HIST_BUCKETS; k++)
		total += counts[k];
	prom_histogram(p, l, n, le, cum, total, sum_ns / 1e9);
}

static int disable(struct tracer *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int disable(struct tracer *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
	t->enabled = false;
	t->state = source_state_of_errno(err);
	return err;
}

/* Ring buffers are declared at their largest useful size; use the
 * configured size when it is smaller (the consumer maps each ring twice, so
 * this is what the agent's RSS pays). */
static void size_ringbufs(struct tracer *t, const struct config *cfg)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, t->obj) {
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF && bpf_map__max_entries(map) > cfg->ringbuf_bytes)
			bpf_map__set_max_entries(map, (uint32_t)cfg->ringbuf_bytes);
	}
}

static int attach_all(struct tracer *t)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, t->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(prog) || bpf_program__type(prog) == BPF_PROG_TYPE_PERF_EVENT)
			continue;
		if (t->nlinks == TRACER_LINKS_MAX)
			return disable(t, -E2BIG, "too many programs");
		link = bpf_program__attach(prog);
		if (!link) {
			int err = -errno;

			return disable(t, err, "cannot attach %s (%s)", bpf_program__section_name(prog),
				       strerror(-err));
		}
		t->links[t->nlinks++] = link;
	}
	return 0;
}

int tracer__open(struct tracer *t, enum tracer_id id, struct tracer_sink *sink)
{
	const struct tracer_ops *ops = tracer_table[id];
	const struct config *cfg = sink->cfg;
	int err;

	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->id = id;
	t->sink = sink;
	t->sample_factor = 1;
	if (ops->priv_size && !(t->priv = calloc(1, ops->priv_size)))
		return disable(t, -ENOMEM, "out of memory");
	for (const char *const *hook = ops->hooks; hook && *hook; hook++)
		if (!tracer_hook_exists(*hook)) {
			disable(t, -ENOENT, "tracepoint %s is not in this kernel", *hook);
			t->state = SOURCE_OFF_MISSING;
			return -ENOENT;
		}
	for (const char *const *field = ops->fields; field && *field; field++) {
		char type[64];
		const char *dot = strchr(*field, '.');

		snprintf(type, sizeof(type), "%.*s", dot ? (int)(dot - *field) : 0, *field);
		if (!dot || !tracer_field_exists(type, dot + 1)) {
			disable(t, -ENOENT, "kernel field %s is not in this kernel", *field);
			t->state = SOURCE_OFF_MISSING;
			return -ENOENT;
		}
	}
	err = ops->open(t, cfg);
	if (err || !t->skeleton)
		return disable(t, err ? err : -EINVAL, "cannot open BPF object (%s)",
			       strerror(err ? -err : EINVAL));
	t->obj = *t->skeleton->obj;
	size_ringbufs(t, cfg);
	/* The skeleton's load also maps .bss/.data so user-space writes to
	 * skel->bss reach the programs. */
	err = bpf_object__load_skeleton(t->skeleton);
	if (err)
		return disable(t, err, "BPF program did not load (%s; run with -v for the verifier log)",
			       strerror(-err));
	if ((err = attach_all(t)))
		return err;
	if (ops->start && (err = ops->start(t))) {
		if (!t->reason[0])
			return disable(t, err, "cannot start (%s)", strerror(-err));
		t->state = source_state_of_errno(err);
		return err;
	}
	t->enabled = true;
	t->state = SOURCE_ON;
	t->map_bytes = tracer__map_bytes(t);
	return 0;
}

static int ringbuf_dispatch(void *ctx, void *data, size_t size)
{
	struct tracer_ringbuf *r = ctx;

	return r->fn(r->t, data, size);
}

int tracer__add_ringbuf(struct tracer *t, struct bpf_map *rb, tracer_sample_fn fn)
{
	struct tracer_ringbuf *r;

	if (t->nringbufs == TRACER_RINGBUFS_MAX)
		return -E2BIG;
	r = &t->ringbufs[t->nringbufs++];
	r->t = t;
	r->fn = fn;
	return sink__add_ringbuf(t->sink, bpf_map__fd(rb), ringbuf_dispatch, r);
}

/* Sums the per-CPU ks_stats counters into t->stats as deltas. */
static void read_kernel_stats(struct tracer *t)
{
	struct bpf_map *map = t->obj ? bpf_object__find_map_by_name(t->obj, "ks_stats") : NULL;
	int ncpus = libbpf_num_possible_cpus();
	uint64_t values[ncpus > 0 ? ncpus : 1];

	if (!map || ncpus <= 0)
		return;
	for (uint32_t k = 0; k < KS_STAT_MAX; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(map), &k, values))
			continue;
		for (int c = 0; c < ncpus; c++)
			sum += values[c];
		t->stats[k] = sum - t->stats_total[k];
		t->stats_total[k] = sum;
	}
}

void tracer__collect(struct tracer *t, struct batch *b, int64_t now_ns)
{
	int64_t t0;
	int err = 0;

	if (!t->enabled)
		return;
	t->mono_ns = t0 = clock_mono_ns();
	read_kernel_stats(t);
	if (t->ops->collect)
		err = t->ops->collect(t, b, now_ns);
	if (err < 0) {
		t->errors++;
		snprintf(t->error, sizeof(t->error), "last collect failed: %s", strerror(-err));
	} else {
		t->error[0] = '\0';
	}
	t->cost_ms += (double)(clock_mono_ns() - t0) / 1e6;
}

uint64_t tracer__lost(const struct tracer *t, bool total)
{
	const uint64_t *s = total ? t->stats_total : t->stats;

	return s[KS_STAT_DROPS] + s[KS_STAT_MAP_FULL] + s[KS_STAT_UNTRACKED];
}

uint64_t tracer__drops(const struct tracer *t, bool total)
{
	return tracer__lost(t, total) + (total ? t->errors_total + t->errors : t->errors);
}

const char *tracer__reason(const struct tracer *t, char *buf, size_t size)
{
	if (!t->enabled)
		snprintf(buf, size, "%s", t->reason);
	else if (t->note[0] && t->error[0])
		snprintf(buf, size, "%s; %s", t->note, t->error);
	else
		snprintf(buf, size, "%s", t->note[0] ? t->note : t->error);
	return buf;
}

void tracer__end_interval(struct tracer *t)
{
	t->events_total += t->events;
	t->events = 0;
	t->errors_total += t->errors;
	t->errors = 0;
	memset(t->stats, 0, sizeof(t->stats));
	t->cost_ms = 0;
}

/* One process's per-CPU values (stride bytes each) summed into sum, and
 * the first CPU's non-empty comm, passed to fn. */
static void proc_row(struct tracer *t, uint32_t pid, const uint8_t *values, size_t stride, int ncpus,
		     size_t ncounters, uint64_t *sum, tracer_proc_fn fn, void *ctx)
{
	char comm[KS_COMM_LEN + 1] = "";

	memset(sum, 0, ncounters * sizeof(*sum));
	for (int c = 0; c < ncpus; c++) {
		const uint8_t *v = values + stride * (size_t)c;
		uint64_t counter;

		for (size_t i = 0; i < ncounters; i++) {
			memcpy(&counter, v + i * sizeof(uint64_t), sizeof(counter));
			sum[i] += counter;
		}
		if (!comm[0])
			memcpy(comm, v + ncounters * sizeof(uint64_t), KS_COMM_LEN);
	}
	fn(t, pid, sum, comm, ctx);
}

/* The fallback: one key at a time (four syscalls a process), then empty. */
static void drain_by_key(struct tracer *t, int fd, uint8_t *values, size_t stride, int ncpus, size_t ncounters,
			 uint64_t *sum, tracer_proc_fn fn, void *ctx)
{
	uint32_t key, next;
	bool first = true;

	while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		key = next;
		first = false;
		if (!bpf_map_lookup_elem(fd, &key, values))
			proc_row(t, key, values, stride, ncpus, ncounters, sum, fn, ctx);
	}
	/* Deleting while iterating would restart get_next_key: empty it after. */
	while (bpf_map_get_next_key(fd, NULL, &next) == 0)
		bpf_map_delete_elem(fd, &next);
}

#define DRAIN_CHUNK 256         /* processes per lookup-and-delete batch */

int tracer__drain_procs(struct tracer *t, struct bpf_map *map, size_t ncounters, tracer_proc_fn fn, void *ctx)
{
	int fd = bpf_map__fd(map), ncpus = libbpf_num_possible_cpus();
	size_t stride = (ncounters * sizeof(uint64_t) + KS_COMM_LEN + 7) & ~(size_t)7;
	size_t row = stride * (size_t)(ncpus > 0 ? ncpus : 1);
	uint32_t keys[DRAIN_CHUNK], in = 0, out = 0;
	uint64_t sum[ncounters ? ncounters : 1];
	uint8_t *values;
	bool first = true;
	int err;

	if (ncpus <= 0)
		return -EINVAL;
	values = malloc(row * DRAIN_CHUNK);
	if (!values)
		return -ENOMEM;
	/* A batch reads and empties up to DRAIN_CHUNK processes in one
	 * syscall: the map walk was the largest part of the agent's CPU under
	 * a busy host.  -ENOENT ends the walk (its last chunk still counts). */
	do {
		__u32 count = DRAIN_CHUNK;

		err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &out, keys, values, &count, NULL);
		if (err && errno != ENOENT) {
			if (first) {        /* e.g. ENOSPC: a hash bucket longer than the chunk */
				drain_by_key(t, fd, values, stride, ncpus, ncounters, sum, fn, ctx);
				break;
			}
			/* what the batches took stays counted; the rest next time */
			free(values);
			return -errno;
		}
		for (__u32 i = 0; i < count && i < DRAIN_CHUNK; i++)
			proc_row(t, keys[i], values + row * i, stride, ncpus, ncounters, sum, fn, ctx);
		in = out;
		first = false;
	} while (!err);
	free(values);
	return 0;
}

bool tracer__shed(struct tracer *t, uint32_t factor)
{
	if (!t->enabled || !t->ops->shed)
		return false;
	t->ops->shed(t, factor ? factor : 1);
	t->sample_factor = factor ? factor : 1;
	return true;
}

/* One ks_costs slot per possible CPU (common.bpf.h). */
struct ks_cost_slot {
	uint32_t every;
	uint32_t countdown;
	uint64_t est_ns;
};

static struct bpf_map *costs_map(const struct tracer *t)
{
	return t->enabled && t->obj ? bpf_object__find_map_by_name(t->obj, "ks_costs") : NULL;
}

void tracer__self_timing(struct tracer *t, uint32_t every)
{
	struct bpf_map *map = costs_map(t);
	int ncpus = libbpf_num_possible_cpus();
	uint32_t zero = 0;

	if (!map || ncpus <= 0)
		return;
	{
		struct ks_cost_slot slots[ncpus];

		if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, slots))
			return;
		for (int c = 0; c < ncpus; c++)
			slots[c].every = every;
		bpf_map_update_elem(bpf_map__fd(map), &zero, slots, BPF_ANY);
	}
}

uint64_t tracer__run_ns(const struct tracer *t)
{
	struct bpf_map *map = costs_map(t);
	int ncpus = libbpf_num_possible_cpus();
	uint64_t total = 0;
	uint32_t zero = 0;

	if (!map || ncpus <= 0)
		return 0;
	{
		struct ks_cost_slot slots[ncpus];

		if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, slots))
			return 0;
		for (int c = 0; c < ncpus; c++)
			total += slots[c].est_ns;
	}
	return total;
}

uint64_t tracer__map_bytes(const struct tracer *t)
{
	struct bpf_map *map;
	uint64_t total = 0;

	if (!t->obj)
		return 0;
	bpf_object__for_each_map(map, t->obj) {
		char path[64], line[256];
		FILE *f;

		if (bpf_map__fd(map) < 0)
			continue;
		/* The kernel reports each map's real footprint as fdinfo's memlock. */
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_map__fd(map));
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v;

			if (sscanf(line, "memlock: %llu", &v) == 1)
				total += v;
		}
		fclose(f);
	}
	return total;
}

void tracer__destroy(struct tracer *t)
{
	for (size_t i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	t->nlinks = 0;
	if (t->ops && t->ops->destroy && t->priv)
		t->ops->destroy(t);
	free(t->priv);
	t->priv = NULL;
	t->obj = NULL;
	t->skeleton = NULL;
	t->enabled = false;
}

/* Memory growth workloads with known truth, for the leak detector's tests
 * and benchmark.
 *
 *   grower PATTERN [--rate SIZE] [--duration S] [--size SIZE] [--period S]
 *                  [--on S] [--off S] [--fill S] [--delay S] [--noise SIZE]
 *                  [--seed N] [--thp] [--cgroup-procs FILE] [--procs N] [--step S]
 *
 * Leaks (the seed system's patterns):
 *   linear        --rate per second (default 1M)
 *   accelerating  i x --rate during second i (default 1M: 1 MB, 2 MB, 3 MB ...)
 *   oscillating   --rate per second for --on seconds, then --off seconds flat (5, 5)
 *   burst         --size at once every --period seconds (50M every 20 s)
 *   noisy         linear at --rate with +- --noise (default 1M) redrawn every 0.5 s
 * Not leaks:
 *   plateau       a cache: --size (64M) filled in --fill seconds (1), then held
 *   sawtooth      a garbage collector: --size (40M) over --on seconds (1.5), all
 *                 freed, every --period seconds (2)
 *   spike         --size (200M) allocated at --on seconds (3), freed --off seconds later (3)
 *   constant      --size (256M) allocated at start and held
 *
 * Memory comes from mmap in page-aligned chunks, every page written (memset)
 * so it is resident, and goes back with munmap so frees really lower RSS.
 * Transparent huge pages are refused (MADV_NOHUGEPAGE) unless --thp, so RSS
 * follows the target page by page.  The footprint is adjusted towards its
 * target every --step seconds (default 0.02) on an absolute schedule.
 * --procs N runs N copies of the workload as separate processes (for load
 * tests); each prints its own lines.
 *
 * --cgroup-procs FILE writes the grower's own pid into FILE (a cgroup's
 * cgroup.procs) before anything is allocated.
 *
 * stdout, one line when growth begins and one at the end:
 *   pid=123 pattern=linear start_ns=<CLOCK_REALTIME ns> rate=<net bytes/s, 0 for non-leaks>
 *   done pid=123 bytes=<bytes held at the end>
 * Exit status 0, 2 on bad arguments, 1 when memory cannot be had.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHUNKS 65536

enum pattern { LINEAR, ACCELERATING, OSCILLATING, BURST, NOISY, PLATEAU, SAWTOOTH, SPIKE, CONSTANT };

static const char *const names[] = {
	"linear", "accelerating", "oscillating", "burst", "noisy", "plateau", "sawtooth", "spike", "constant",
};

struct opts {
	enum pattern pattern;
	double rate, size, period, on, off, fill, delay, duration, noise, step;
	uint64_t seed;
	int thp, procs;
	const char *cgroup_procs;
};

struct chunk {
	void *p;
	size_t len;
};

static struct chunk chunks[MAX_CHUNKS];
static size_t nchunks, held;
static size_t page;

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_size(const char *s, double *ret)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (!strcmp(end, "/s"))
		end += 2;
	*ret = v;
	return *end ? -1 : 0;
}

static int parse_seconds(const char *s, double *ret)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0 || (*end && strcmp(end, "s")))
		return -1;
	*ret = v;
	return 0;
}

static double noise_at(uint64_t seed, int64_t k)
{
	uint64_t x = (seed << 32) + (uint64_t)k * 0x9E3779B97F4A7C15ULL;

	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	x ^= x >> 31;
	return (double)(x >> 11) / (double)(1ULL << 53) * 2 - 1;
}

/* Bytes the workload wants to hold g seconds after growth began. */
static double target(const struct opts *o, double g)
{
	double n, c, i;

	if (g < 0)
		return 0;
	switch (o->pattern) {
	case LINEAR:
		return o->rate * g;
	case ACCELERATING:
		i = floor(g);
		return o->rate * (i * (i - 1) / 2 + i * (g - i));
	case OSCILLATING:
		n = floor(g / (o->on + o->off));
		c = g - n * (o->on + o->off);
		return o->rate * (n * o->on + (c < o->on ? c : o->on));
	case BURST:
		return o->size * (floor(g / o->period) + 1);
	case NOISY:
		return fmax(0, o->rate * g + o->noise * noise_at(o->seed, (int64_t)(g * 2)));
	case PLATEAU:
		return o->size * (o->fill > 0 && g < o->fill ? g / o->fill : 1);
	case SAWTOOTH:
		c = fmod(g, o->period);
		return c < o->on ? o->size * c / o->on : 0;
	case SPIKE:
		return g >= o->on && g < o->on + o->off ? o->size : 0;
	case CONSTANT:
		return o->size;
	}
	return 0;
}

static double true_rate(const struct opts *o)
{
	switch (o->pattern) {
	case LINEAR: case NOISY: case ACCELERATING: return o->rate;
	case OSCILLATING: return o->rate * o->on / (o->on + o->off);
	case BURST: return o->size / o->period;
	default: return 0;
	}
}

/* Moves the held bytes towards want: new chunks are touched page by page,
 * freed ones go back with munmap (newest first). */
static int adjust(double want, int thp)
{
	size_t goal = (size_t)(want / (double)page) * page;

	while (held > goal && nchunks) {
		struct chunk *c = &chunks[--nchunks];

		munmap(c->p, c->len);
		held -= c->len;
	}
	if (goal > held) {
		size_t len = goal - held;
		void *p;

		if (nchunks == MAX_CHUNKS)
			return 0;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		if (!thp)
			madvise(p, len, MADV_NOHUGEPAGE);
		memset(p, 0x5a, len);
		chunks[nchunks++] = (struct chunk){ p, len };
		held += len;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: grower linear|accelerating|oscillating|burst|noisy|plateau|sawtooth|spike|constant\n"
		     "              [--rate SIZE] [--duration S] [--size SIZE] [--period S] [--on S] [--off S]\n"
		     "              [--fill S] [--delay S] [--noise SIZE] [--seed N] [--thp] [--cgroup-procs FILE]\n"
		     "              [--procs N] [--step S]\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "rate", required_argument, NULL, 'r' }, { "duration", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' }, { "period", required_argument, NULL, 'p' },
		{ "on", required_argument, NULL, 'n' }, { "off", required_argument, NULL, 'f' },
		{ "fill", required_argument, NULL, 'F' }, { "delay", required_argument, NULL, 'D' },
		{ "noise", required_argument, NULL, 'N' }, { "seed", required_argument, NULL, 'S' },
		{ "thp", no_argument, NULL, 'T' }, { "cgroup-procs", required_argument, NULL, 'c' },
		{ "procs", required_argument, NULL, 'P' }, { "step", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	double size = -1, on = -1, off = -1, period = -1;
	size_t i;
	int opt, bad = 0;

	if (argc < 2) {
		usage(stderr);
		return -1;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(argv[1], names[i]))
			break;
	if (i == sizeof(names) / sizeof(names[0])) {
		fprintf(stderr, "grower: unknown pattern '%s'\n", argv[1]);
		usage(stderr);
		return -1;
	}
	*o = (struct opts){ .pattern = (enum pattern)i, .rate = 1 << 20, .duration = 30, .fill = 1, .noise = 1 << 20,
			    .seed = 1, .step = 0.02, .procs = 1 };
	optind = 2;
	int idx = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		switch (opt) {
		case 'r': bad |= parse_size(optarg, &o->rate); break;
		case 'd': bad |= parse_seconds(optarg, &o->duration); break;
		case 's': bad |= parse_size(optarg, &size); break;
		case 'p': bad |= parse_seconds(optarg, &period); break;
		case 'n': bad |= parse_seconds(optarg, &on); break;
		case 'f': bad |= parse_seconds(optarg, &off); break;
		case 'F': bad |= parse_seconds(optarg, &o->fill); break;
		case 'D': bad |= parse_seconds(optarg, &o->delay); break;
		case 'N': bad |= parse_size(optarg, &o->noise); break;
		case 'S': o->seed = strtoull(optarg, NULL, 10); break;
		case 'T': o->thp = 1; break;
		case 'c': o->cgroup_procs = optarg; break;
		case 'P': o->procs = atoi(optarg); bad |= o->procs < 1 || o->procs > 100000; break;
		case 'e': bad |= parse_seconds(optarg, &o->step) || o->step <= 0; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
		if (bad) {
			fprintf(stderr, "grower: bad value '%s' for --%s\n", optarg, longopts[idx].name);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "grower: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	switch (o->pattern) {
	case OSCILLATING: o->on = on >= 0 ? on : 5; o->off = off >= 0 ? off : 5; break;
	case BURST: o->size = size >= 0 ? size : 50 << 20; o->period = period > 0 ? period : 20; break;
	case PLATEAU: o->size = size >= 0 ? size : 64 << 20; break;
	case SAWTOOTH:
		o->size = size >= 0 ? size : 40 << 20;
		o->period = period > 0 ? period : 2;
		o->on = on > 0 ? on : 1.5;
		break;
	case SPIKE: o->size = size >= 0 ? size : 200 << 20; o->on = on >= 0 ? on : 3; o->off = off >= 0 ? off : 3; break;
	case CONSTANT: o->size = size >= 0 ? size : 256 << 20; break;
	default: break;
	}
	if (o->pattern == OSCILLATING && o->on + o->off <= 0) {
		fprintf(stderr, "grower: --on + --off must be positive\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int64_t t0, next;
	long pg = sysconf(_SC_PAGESIZE);

	page = pg > 0 ? (size_t)pg : 4096;
	if (parse_args(argc, argv, &o))
		return 2;
	if (o.cgroup_procs) {
		int fd = open(o.cgroup_procs, O_WRONLY | O_CLOEXEC);
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

		if (fd < 0 || write(fd, pid, (size_t)n) != n) {
			fprintf(stderr, "grower: cannot join %s: %s\n", o.cgroup_procs, strerror(errno));
			return 1;
		}
		close(fd);
	}
	fflush(stdout);
	for (int i = 1; i < o.procs; i++) {
		pid_t child = fork();

		if (child < 0) {
			fprintf(stderr, "grower: fork: %s\n", strerror(errno));
			return 1;
		}
		if (child == 0)
			break;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	printf("pid=%d pattern=%s start_ns=%lld rate=%.0f\n", (int)getpid(), names[o.pattern],
	       (long long)(now_ns(CLOCK_REALTIME) + (int64_t)(o.delay * 1e9)), true_rate(&o));
	fflush(stdout);
	for (next = t0; next - t0 <= (int64_t)(o.duration * 1e9); next += (int64_t)(o.step * 1e9)) {
		struct timespec ts = { next / 1000000000LL, next % 1000000000LL };
		int err;

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		err = adjust(target(&o, (double)(next - t0) / 1e9 - o.delay), o.thp);
		if (err) {
			fprintf(stderr, "grower: cannot allocate: %s\n", strerror(-err));
			return 1;
		}
	}
	printf("done pid=%d bytes=%zu\n", (int)getpid(), held);
	fflush(stdout);
	while (o.procs > 1 && wait(NULL) > 0)
		;
	return 0;
}

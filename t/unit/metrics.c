/* /metrics from scraped rows (src/http/gauges.c): the real scrapers read
 * the fixtures, and every metric must carry the fixture's value in the
 * metric's unit; per-interval deltas must add up across ticks; a table a
 * tick did not fill keeps its families (held rows) until it stops coming. */
#include "../../src/http/metrics.h"
#include "../../src/lib/prom.h"
#include "../lib/scrape.h"

static struct buf text = BUF_INIT;
static struct metrics_state st;

static void render(void)
{
	struct prom p;

	buf_reset(&text);
	prom_init(&p, &text);
	metrics_scraped(&p, &scrape_batch, &st);
}

/* The value of the sample line starting with head ("name{labels}"), or NAN. */
static double sample(const char *head)
{
	size_t n = strlen(head);

	for (const char *line = text.data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, head, n) && line[n] == ' ')
			return strtod(line + n + 1, NULL);
	return NAN;
}

static int occurrences(const char *needle)
{
	int n = 0;

	for (const char *p = text.data; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

int main(void)
{
	const char *basic = tap_src("t/fixtures/basic"), *tick1 = tap_src("t/fixtures/tick1"),
		   *tick2 = tap_src("t/fixtures/tick2");
	struct scraper s;
	int row;

	plan(22);

	scrape_open(&s, SCRAPER_meminfo);
	scrape_tick(&s, basic, 1 * NS);
	render();
	is(sample("ksight_memory_total_bytes"), 16384000LL * 1024, "MemTotal in bytes");
	is(sample("ksight_memory_available_bytes"), 12000000LL * 1024, "MemAvailable in bytes");
	is(sample("ksight_memory_hugepages_free"), 3, "HugePages_Free as a count");
	is(occurrences("# TYPE ksight_memory_total_bytes gauge\n"), 1, "a gauge, declared once");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_diskstats);
	scrape_tick(&s, tick1, 1 * NS);
	scrape_tick(&s, tick2, 2 * NS);
	render();
	is(sample("ksight_disk_read_bytes_total{device=\"sda\"}"), 832 * 512, "sectors read -> bytes (the kernel's counter)");
	within(sample("ksight_disk_read_time_seconds_total{device=\"sda\"}"), 0.2 - 1e-12, 0.2 + 1e-12, "read ticks ms -> s");
	is(occurrences("# TYPE ksight_disk_reads_completed_total counter\n"), 1, "the kernel's counters are counters");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_net_dev);
	scrape_tick(&s, tick2, 2 * NS);
	render();
	is(sample("ksight_network_receive_bytes_total{interface=\"eth0\"}"), 3000000, "eth0 rx bytes");
	is(sample("ksight_network_transmit_drop_total{interface=\"eth0\"}"), 8, "eth0 tx drops");
	is(occurrences("ksight_network_receive_bytes_total{interface="), 3, "one series per interface (lo, eth0, veth1)");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_stat);
	scrape_tick(&s, tick1, 1 * NS);
	scrape_tick(&s, tick2, 2 * NS);
	render();
	row = scrape_row(T_CPU_METRICS, "cpu", "cpu0");
	within(sample("ksight_cpu_usage_ratio{cpu=\"cpu0\",mode=\"user\"}"), cell_real(T_CPU_METRICS, row, "user_pct") / 100 - 1e-12,
	       cell_real(T_CPU_METRICS, row, "user_pct") / 100 + 1e-12, "cpu0 user share is the row's user_pct / 100");
	is(occurrences("# TYPE ksight_cpu_usage_ratio gauge\n"), 1, "eight modes, one family");
	is(sample("ksight_procs_running"), cell_int(T_CPU_METRICS, scrape_row(T_CPU_METRICS, "cpu", "cpu"), "procs_running"),
	   "procs_running from the 'cpu' row only, unlabelled");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_vmstat);
	scrape_tick(&s, tick1, 1 * NS);
	render();
	ok(isnan(sample("ksight_vmstat_page_faults_total")), "vmstat: nothing before the first interval");
	scrape_tick(&s, tick2, 2 * NS);
	render();
	is(sample("ksight_vmstat_page_faults_total"), 3000 - 1000, "page faults in the first interval");
	is(sample("ksight_vmstat_paged_in_bytes_total"),
	   cell_int(T_VMSTAT_METRICS, 0, "pgpgin") * 1024, "KiB paged in -> bytes");
	render();         /* the same interval once more: sums keep growing */
	is(sample("ksight_vmstat_page_faults_total"), 2 * (3000 - 1000), "deltas add up across ticks");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_pressure);
	scrape_tick(&s, tick1, 1 * NS);
	render();
	row = scrape_row(T_PRESSURE_METRICS, "resource", "io");
	within(sample("ksight_pressure_stalled_seconds_total{resource=\"io\",kind=\"full\"}"),
	       (double)cell_int(T_PRESSURE_METRICS, row, "full_total_us") / 1e6 - 1e-9,
	       (double)cell_int(T_PRESSURE_METRICS, row, "full_total_us") / 1e6 + 1e-9, "PSI io full total, us -> s");
	scraper__destroy(&s);

	/* Ticks that fill no table (a scraper that runs every Nth tick). */
	batch__clear(&scrape_batch);
	{
		double faults = sample("ksight_vmstat_page_faults_total");

		render();
		ok(!isnan(sample("ksight_pressure_stalled_seconds_total{resource=\"io\",kind=\"full\"}")),
		   "a tick without PSI rows still shows the last ones (held)");
		ok(faults == 2 * (3000 - 1000) && sample("ksight_vmstat_page_faults_total") == faults,
		   "held rows add nothing to the deltas' sums");
		for (int k = 0; k < 2 * 30 + 1; k++)
			render();
		ok(isnan(sample("ksight_pressure_stalled_seconds_total{resource=\"io\",kind=\"full\"}")),
		   "held rows go after two gaps and a tick without new ones (a scraper that stopped)");
	}
	metrics_state__free(&st);
	memset(&st, 0, sizeof(st));
	render();
	is(text.len, 0, "no rows, no families (nothing invented)");
	buf_free(&text);
	return done_testing();
}

/* The /proc/net/dev scraper (network_interface_stats): exact counters and
 * rates over fixture readings, new and reset interfaces, errors on bad
 * input, and a live run cross-checked against /proc/net/dev. */
#include "../lib/scrape.h"

#define T1 (1000 * NS)
#define T2 (T1 + 2 * NS)
#define T3 (T2 + 1 * NS)
#define NET T_NETWORK_INTERFACE_STATS

/* lo's received bytes from /proc/net/dev, read independently. */
static int64_t lo_rx_bytes(void)
{
	char text[65536];
	const char *p;
	long long v;

	if (procfs_read("", "/proc/net/dev", text, sizeof(text)) < 0 || !(p = strstr(text, " lo:")))
		return -1;
	return sscanf(p + 4, "%lld", &v) == 1 ? v : -1;
}

/* Interfaces listed in /proc/net/dev. */
static int count_ifaces(void)
{
	char text[65536];
	int n = 0;

	if (procfs_read("", "/proc/net/dev", text, sizeof(text)) < 0)
		return -1;
	for (const char *p = text; *p; p = procfs_next_line(p))
		n += strchr(p, ':') && strchr(p, ':') < procfs_next_line(p);
	return n;
}

int main(void)
{
	struct scraper s;
	int row;

	plan(30);

	scrape_open(&s, SCRAPER_net_dev);
	is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 2, "first reading: lo and eth0");
	row = scrape_row(NET, "interface_name", "eth0");
	is(cell_int(NET, row, "rx_bytes"), 1000000, "rx_bytes");
	is(cell_int(NET, row, "rx_errors"), 1, "rx_errors");
	is(cell_int(NET, row, "rx_drops"), 2, "rx_drops");
	is(cell_int(NET, row, "tx_errors"), 3, "tx_errors");
	is(cell_int(NET, row, "tx_drops"), 4, "tx_drops");
	ok(cell_null(NET, row, "rx_bytes_per_sec") && cell_null(NET, row, "tx_drops_per_sec"), "first reading: NULL rates");

	is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T2), 3, "second reading: veth1 appeared");
	row = scrape_row(NET, "interface_name", "eth0");
	is(cell_int(NET, row, "timestamp"), T2, "timestamp is the tick time");
	is(cell_int(NET, row, "tx_packets"), 1200, "tx_packets");
	is_real(NET, row, "rx_bytes_per_sec", 1e6, "2 MB received in 2 s");
	is_real(NET, row, "rx_packets_per_sec", 1000.0, "rx packets/s");
	is_real(NET, row, "tx_bytes_per_sec", 200000.0, "tx bytes/s");
	is_real(NET, row, "tx_packets_per_sec", 200.0, "tx packets/s");
	is_real(NET, row, "rx_errors_per_sec", 1.0, "rx errors/s");
	is_real(NET, row, "rx_drops_per_sec", 2.0, "rx drops/s");
	is_real(NET, row, "tx_errors_per_sec", 0.0, "tx errors/s");
	is_real(NET, row, "tx_drops_per_sec", 2.0, "tx drops/s");
	is_real(NET, scrape_row(NET, "interface_name", "lo"), "rx_bytes_per_sec", 1000.0, "lo rx bytes/s");
	row = scrape_row(NET, "interface_name", "veth1");
	ok(row >= 0 && cell_null(NET, row, "rx_bytes_per_sec") && cell_int(NET, row, "rx_bytes") == 70,
	   "a new interface: counters, NULL rates");

	is(scrape_tick(&s, tap_src("t/fixtures/tick3"), T3), 2, "third reading: veth1 gone");
	row = scrape_row(NET, "interface_name", "eth0");
	ok(cell_null(NET, row, "rx_bytes_per_sec") && cell_null(NET, row, "tx_packets_per_sec"),
	   "counters went backwards (interface re-created): NULL rates, never negative");
	is_real(NET, scrape_row(NET, "interface_name", "lo"), "tx_bytes_per_sec", 1000.0, "lo over the 1 s interval");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_net_dev);
	is(scrape_tick(&s, tap_src("t/fixtures/malformed"), T1), -1, "a line without 'name:' is an error");
	is(scrape_rows(NET), 0, "and adds no rows");
	is(scrape_tick(&s, tap_src("t/fixtures/basic"), T1), -1, "a missing /proc/net/dev is an error");
	scraper__destroy(&s);

	/* live */
	scrape_open(&s, SCRAPER_net_dev);
	{
		int64_t before = lo_rx_bytes(), got, after;
		int n = scrape_tick(&s, "", T1);

		after = lo_rx_bytes();
		is(n, count_ifaces(), "live: one row per interface in /proc/net/dev (%d)", n);
		row = scrape_row(NET, "interface_name", "lo");
		ok(row >= 0, "live: lo is there");
		got = cell_int(NET, row, "rx_bytes");
		ok(before >= 0 && before <= got && got <= after,
		   "live: lo rx_bytes %lld between the file read before (%lld) and after (%lld)", (long long)got,
		   (long long)before, (long long)after);
		scrape_tick(&s, "", T2);
		ok(cell_real(NET, scrape_row(NET, "interface_name", "lo"), "rx_bytes_per_sec") >= 0,
		   "live: second reading has rates");
	}
	scraper__destroy(&s);

	batch__free(&scrape_batch);
	return done_testing();
}

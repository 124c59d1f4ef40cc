/* The /proc/net/snmp scraper (tcp_retransmit_stats): counters, deltas and
 * the retransmit ratio over fixture readings, a reset, errors on bad
 * input, and a live run cross-checked against /proc/net/snmp. */
#include "../lib/scrape.h"

#define T1 (1000 * NS)
#define T2 (T1 + 2 * NS)
#define T3 (T2 + 1 * NS)
#define RT T_TCP_RETRANSMIT_STATS

/* A field of the "Tcp:" value line (0 = RtoAlgorithm), read independently. */
static int64_t snmp_tcp(const char *name)
{
	char text[8192], *hdr, *val, *h, *v, *sh, *sv;

	if (procfs_read("", "/proc/net/snmp", text, sizeof(text)) < 0 || !(hdr = strstr(text, "Tcp:")))
		return -1;
	val = strchr(hdr, '\n') + 1;
	*strchr(hdr, '\n') = '\0';
	*strchr(val, '\n') = '\0';
	for (h = strtok_r(hdr, " ", &sh), v = strtok_r(val, " ", &sv); h && v;
	     h = strtok_r(NULL, " ", &sh), v = strtok_r(NULL, " ", &sv))
		if (!strcmp(h, name))
			return atoll(v);
	return -1;
}

int main(void)
{
	struct scraper s;

	plan(23);

	scrape_open(&s, SCRAPER_net_snmp);
	is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 1, "first reading: one row");
	is(cell_int(RT, 0, "retrans_segs"), 100, "RetransSegs");
	is(cell_int(RT, 0, "out_segs"), 10000, "OutSegs");
	is(cell_int(RT, 0, "in_segs"), 20000, "InSegs");
	is(cell_int(RT, 0, "active_opens"), 30, "ActiveOpens");
	is(cell_int(RT, 0, "passive_opens"), 40, "PassiveOpens");
	is(cell_int(RT, 0, "attempt_fails"), 5, "AttemptFails");
	is(cell_int(RT, 0, "estab_resets"), 6, "EstabResets");
	is(cell_int(RT, 0, "curr_estab"), 7, "CurrEstab");
	is(cell_int(RT, 0, "in_errs"), 8, "InErrs");
	is(cell_int(RT, 0, "out_rsts"), 9, "OutRsts");
	ok(cell_null(RT, 0, "retrans_segs_delta") && cell_null(RT, 0, "retransmit_ratio") && cell_null(RT, 0, "interval_ms"),
	   "first reading: no deltas");

	is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T2), 1, "second reading");
	is_real(RT, 0, "interval_ms", 2000.0, "interval 2 s");
	is(cell_int(RT, 0, "retrans_segs_delta"), 50, "50 retransmits in the interval");
	is(cell_int(RT, 0, "out_segs_delta"), 1000, "1000 segments sent");
	is_real(RT, 0, "retransmit_ratio", 0.05, "ratio 5%%");

	is(scrape_tick(&s, tap_src("t/fixtures/tick3"), T3), 1, "third reading: counters restarted");
	ok(cell_null(RT, 0, "retrans_segs_delta") && cell_null(RT, 0, "out_segs_delta") && cell_null(RT, 0, "retransmit_ratio"),
	   "a reset gives NULL deltas, never negative ones");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_net_snmp);
	is(scrape_tick(&s, tap_src("t/fixtures/malformed"), T1), -1, "a Tcp: header without its value line is an error");
	is(scrape_tick(&s, tap_src("t/fixtures/basic"), T1), -1, "a missing /proc/net/snmp is an error");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_net_snmp);
	{
		int64_t out0 = snmp_tcp("OutSegs"), re0 = snmp_tcp("RetransSegs"), out1, re1, out, re;

		scrape_tick(&s, "", T1);
		out1 = snmp_tcp("OutSegs");
		re1 = snmp_tcp("RetransSegs");
		out = cell_int(RT, 0, "out_segs");
		re = cell_int(RT, 0, "retrans_segs");
		ok(out0 >= 0 && out0 <= out && out <= out1, "live: OutSegs %lld within the file's [%lld, %lld]",
		   (long long)out, (long long)out0, (long long)out1);
		ok(re0 >= 0 && re0 <= re && re <= re1, "live: RetransSegs %lld equals the file's (read before: %lld, after: %lld)",
		   (long long)re, (long long)re0, (long long)re1);
	}
	scraper__destroy(&s);

	batch__free(&scrape_batch);
	return done_testing();
}

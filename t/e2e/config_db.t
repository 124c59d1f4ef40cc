#!/bin/sh
# Every command finds the database the same way: --db, else agent.db of
# the configuration (--config FILE, else $KSIGHT_CONFIG, else
# /etc/ksight/ksight.yaml when it exists), else ./kernelsight.db.  An agent
# started with only a configuration writes where it says, and each reading
# command, given only that configuration (flag or environment), reads that
# same file: the rows it reports are the rows sqlite3 finds there.
. "$(dirname "$0")/../lib/tap.sh"
plan 29

unset KSIGHT_CONFIG
mkdir "$TMP/cwd" && cd "$TMP/cwd" || exit 1
run() { out=$("$@" 2>&1); rc=$?; }

# A configuration naming the database, every source off (no root needed):
# what the agent writes is its own collector_stats rows.
DB=$TMP/named.db
conf() {   # conf FILE DB
	{
		printf 'agent:\n  db: %s\n  interval: 100ms\n' "$2"
		printf 'detect:\n  enabled: false\nhttp:\n  enabled: false\ntracers:\n'
		for t in proc syscall blockio sched pagefault tcp rss; do printf '  %s:\n    enabled: false\n' $t; done
		echo "scrapers:"
		for s in meminfo loadavg stat diskstats net_dev net_tcp net_snmp pressure vmstat; do
			printf '  %s:\n    enabled: false\n' $s
		done
	} > "$1"
}
conf "$TMP/named.yaml" "$DB"
conf "$TMP/other.yaml" "$TMP/other.db"

run "$KSIGHT" agent --config "$TMP/named.yaml" --duration 0.5
is "$rc" 0 "agent with only --config: exit 0"
ok "it wrote the database agent.db names" test -s "$DB"
ok "and nothing at the default path" test ! -e kernelsight.db

stats=$(sqlite3 "$DB" "select count(*) from collector_stats")
ok "the agent stored rows there ($stats collector_stats rows)" test "$stats" -gt 0
SQL="select count(*) from collector_stats"

run "$KSIGHT" query --config "$TMP/named.yaml" "$SQL"
is "$rc" 0 "query with only --config: exit 0"
like "$out" "^ *$stats\$" "it reads the configuration's database ($stats rows)"

export KSIGHT_CONFIG="$TMP/named.yaml"
run "$KSIGHT" query "$SQL"
like "$out" "^ *$stats\$" "query with only KSIGHT_CONFIG reads the same database"

# The agent follows KSIGHT_CONFIG too: a second run appends to the same file.
run "$KSIGHT" agent --duration 0.5
is "$rc" 0 "agent with only KSIGHT_CONFIG: exit 0"
stats2=$(sqlite3 "$DB" "select count(*) from collector_stats")
ok "it appended to that database ($stats -> $stats2 rows)" test "$stats2" -gt "$stats"
ok "still nothing at the default path" test ! -e kernelsight.db

# Every reading command names the database it opened.
run "$KSIGHT" actions
is "$rc" 0 "actions with only KSIGHT_CONFIG: exit 0"
like "$out" "no remediation decisions recorded in $DB" "actions reads agent.db"
run "$KSIGHT" leaks
is "$rc" 0 "leaks with only KSIGHT_CONFIG: exit 0"
like "$out" "no leak suspects in $DB" "leaks reads agent.db"
run "$KSIGHT" baseline show
is "$rc" 0 "baseline show with only KSIGHT_CONFIG: exit 0"
like "$out" "no baselines in $DB" "baseline reads agent.db"
# (no metric rows: every source was off; the message names the file read)
run "$KSIGHT" export --features
like "$out" "^ksight export: $DB: no data" "export reads agent.db"
run "$KSIGHT" report --out "$TMP/r"
like "$out" "^ksight report: $DB: no data" "report reads agent.db"

# Precedence: --config over the environment, --db over both.  Each
# database gets a marker row, so an answer tells which file was read.
"$KSIGHT" agent --config "$TMP/other.yaml" --duration 0.3 >/dev/null 2>&1
ok "agent --config wins over KSIGHT_CONFIG" test -s "$TMP/other.db"
"$KSIGHT" agent --db "$TMP/flag.db" --config "$TMP/other.yaml" --duration 0.3 >/dev/null 2>&1
ok "agent --db wins over agent.db" test -s "$TMP/flag.db"
for f in named other flag; do sqlite3 "$TMP/$f.db" "create table marker (name text); insert into marker values ('$f')"; done
run "$KSIGHT" query "select name from marker"
like "$out" "^named\$" "KSIGHT_CONFIG alone: its agent.db"
run "$KSIGHT" query --config "$TMP/other.yaml" "select name from marker"
like "$out" "^other\$" "query --config wins over KSIGHT_CONFIG"
run "$KSIGHT" query --config "$TMP/other.yaml" --db "$TMP/flag.db" "select name from marker"
like "$out" "^flag\$" "query --db wins over --config and KSIGHT_CONFIG"

# Errors say where the path came from; --db needs no configuration file.
conf "$TMP/missing.yaml" "$TMP/nowhere.db"
run "$KSIGHT" query --config "$TMP/missing.yaml" "$SQL"
is "$rc" 1 "a configuration naming a missing database: exit 1"
like "$out" "no database at $TMP/nowhere.db.*agent.db of $TMP/missing.yaml" "the message names agent.db and the file"
printf 'agent:\n  colour: blue\n' > "$TMP/bad.yaml"
run env KSIGHT_CONFIG="$TMP/bad.yaml" "$KSIGHT" query "$SQL"
is "$rc" 2 "a bad configuration: exit 2"
like "$out" "bad.yaml:2: unknown key 'agent.colour'" "named with its line"
run env KSIGHT_CONFIG="$TMP/bad.yaml" "$KSIGHT" query --db "$DB" "$SQL"
like "$out" "^ *$stats2\$" "a reader given --db does not read the configuration"

# Nothing names a database: ./kernelsight.db.
unset KSIGHT_CONFIG
if [ -e /etc/ksight/ksight.yaml ]; then
	skip "/etc/ksight/ksight.yaml exists on this host"
else
	run "$KSIGHT" query "$SQL"
	like "$out" "no database at kernelsight.db" "no flag and no configuration: ./kernelsight.db"
fi
done_testing

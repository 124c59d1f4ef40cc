#!/bin/sh
# Command line contract: exit codes (0 ok, 1 runtime, 2 usage), one-line
# errors that name the flag, help with examples, bad SQL, foreign files.
. "$(dirname "$0")/../lib/tap.sh"
plan 37

run() { out=$("$KSIGHT" "$@" 2>&1); rc=$?; }

run --help;                       is "$rc" 0 "ksight --help exits 0"
like "$out" "Examples:" "top-level help has examples"
for c in agent query; do
	run "$c" --help
	is "$rc" 0 "ksight $c --help exits 0"
	like "$out" "Examples:" "ksight $c --help shows examples"
done
run frobnicate;                   is "$rc" 2 "unknown command: exit 2"
like "$out" "unknown command 'frobnicate'" "and it is named"
run agent --frob;                 is "$rc" 2 "unknown flag: exit 2"
like "$out" "^ksight agent: unknown option '--frob'" "one line naming the flag"
is "$(printf '%s\n' "$out" | wc -l)" 1 "exactly one line"
run agent --db;                   is "$rc" 2 "missing value: exit 2"
like "$out" "option '--db' needs a value" "names the flag"
run agent --duration soon;        is "$rc" 2 "bad duration: exit 2"
like "$out" "--duration: 'soon' is not a duration" "names the flag and value"

printf 'agent:\n  interval: 1s\n  colour: blue\n' > "$TMP/bad.yaml"
run agent --config "$TMP/bad.yaml" --db "$TMP/x.db"
is "$rc" 2 "bad config: exit 2"
like "$out" "bad.yaml:3: unknown key 'agent.colour'" "names file, line and key"
ok "and no database was created" test ! -e "$TMP/x.db"

run query;                        is "$rc" 2 "query without SQL: exit 2"
run query --db "$TMP/none.db" "select 1"
is "$rc" 1 "query on a missing database: exit 1"
like "$out" "no database at" "says so"

# a real KernelSight database (created by the store), then bad SQL
"$KSIGHT" agent --db "$TMP/k.db" --duration 0.3 >/dev/null 2>&1
run query --db "$TMP/k.db" "selec * from nothing"
is "$rc" 1 "malformed SQL: exit 1"
like "$out" 'near "selec": syntax error' "with SQLite's message"
run query --db "$TMP/k.db" "delete from memory_metrics"
like "$out" "readonly" "query cannot write"
# nor escape its database (issue 13): ATTACH reads another file, and
# turning query_only off then VACUUM INTO writes one
sqlite3 "$TMP/secret.db" "create table s(x); insert into s values ('hunter2');"
run query --db "$TMP/k.db" "ATTACH '$TMP/secret.db' AS o; SELECT x FROM o.s"
like "$rc $out" "^1 .*not authorized.*reads this database only" "query cannot ATTACH another file"
is "$(echo "$out" | grep -c hunter2)" 0 "and reads nothing of it"
run query --db "$TMP/k.db" "PRAGMA query_only = 0; VACUUM INTO '$TMP/copy.db'"
like "$rc $out" "^1 .*not authorized" "query cannot turn query_only off"
run query --db "$TMP/k.db" "VACUUM INTO '$TMP/copy.db'"
is "$rc/$(test -e "$TMP/copy.db" && echo written)" "1/" "nor VACUUM INTO a file: nothing is written"
run query --db "$TMP/k.db" "PRAGMA query_only"
is "$rc/$(echo "$out" | sed -n 3p | tr -d ' ')" "0/1" "reading a pragma still works"

# terminal escapes in the data (a process can be named $'\e]0;x\a') are
# shown escaped in table output; --csv and --json stay exact
ESC_SQL="SELECT char(27) || ']0;pwned' || char(7) || 'name' AS comm"
run query --db "$TMP/k.db" "$ESC_SQL"
is "$(printf '%s' "$out" | tr -d '\033\007' | sed -n 3p | tr -d ' ')" '\x1b]0;pwned\x07name' \
   "table output: control characters shown as \\xNN"
is "$(printf '%s' "$out" | tr -cd '\033\007' | wc -c)" 0 "no raw escape reaches the terminal"
run query --db "$TMP/k.db" --csv "$ESC_SQL"
is "$(printf '%s' "$out" | sed -n 2p)" "$(printf '\033]0;pwned\007name')" "--csv stays exact"
run query --db "$TMP/k.db" --json "$ESC_SQL"
is "$(printf '%s' "$out" | jq -r '.[0].comm')" "$(printf '\033]0;pwned\007name')" "--json stays exact"

# someone else's SQLite file is refused and left alone
sqlite3 "$TMP/other.db" "create table t(x); insert into t values (42);"
sum_before=$(md5sum < "$TMP/other.db")
run agent --db "$TMP/other.db" --duration 1
is "$rc" 1 "agent refuses a foreign database: exit 1"
is "$(md5sum < "$TMP/other.db")" "$sum_before" "the foreign file is untouched"
"$KSIGHT" schema --markdown > "$TMP/schema.md"
ok "docs/schema.md is what 'ksight schema --markdown' prints (regenerate it)" cmp -s "$TMP/schema.md" "$TOP/docs/schema.md"
run schema no_such_table
is "$rc" 1 "schema of an unknown table: exit 1"
done_testing

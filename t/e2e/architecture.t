#!/bin/sh
# docs/architecture.md cannot go stale: every path it names exists, every
# function() it names is defined, each step of its event path is defined in
# the file that step names, and the include rules it states hold in src/.
# The checkers are first run on a page with known mistakes, to show they
# find them.
. "$(dirname "$0")/../lib/tap.sh"
plan 17
cd "$TOP" || exit 1
DOC=docs/architecture.md

# The page's text outside fenced blocks, on one line (a backquoted name may
# wrap), and every backquoted token in it.
prose() { awk '/^```/ { fence = !fence; next } !fence' "$1" | tr '\n' ' '; }
tokens() { prose "$1" | grep -o '`[^`]*`' | tr -d '`' | sort -u; }
paths() { tokens "$1" | grep -E '^(src|t|docs|config|bench|web|tools)/[A-Za-z0-9_.+/-]*$'; }
funcs() { tokens "$1" | grep -E '^[A-Za-z_][A-Za-z0-9_]*\(\)$' | sed 's/()$//'; }

# defined NAME FILE...: a definition of NAME in one of the files: a line
# that starts with its type (not a prototype: no ';' at the end), or a BPF
# program.
defined() {
	name=$1; shift
	grep -hE "^[A-Za-z_].*[^A-Za-z0-9_]$name\(|^$name\(|(BPF|KS)_PROG\($name," "$@" 2>/dev/null | grep -vq ';[[:space:]]*$'
}
SOURCES=$(find src t bench tools -name '*.c')
HEADERS=$(find src t bench -name '*.h')
# Anywhere in the tree: a .c file, or a static inline function of a header.
defined_anywhere() {
	defined "$1" $SOURCES ||
	grep -hE "static (inline|__always_inline) .*[^A-Za-z0-9_]$1\(" $HEADERS | grep -vq ';[[:space:]]*$'
}

missing_paths() { for p in $(paths "$1"); do [ -e "$p" ] || echo "$p"; done; }
missing_funcs() { for f in $(funcs "$1"); do defined_anywhere "$f" || echo "$f()"; done; }
# The event path: table rows "| N | `file` | `f()`, `g()` | ... |".
steps() { awk -F'|' '$2 ~ /^ *[0-9]+ *$/ { gsub(/[` ]/, "", $3); print $3 "|" $4 }' "$1"; }
misplaced_steps() {
	steps "$1" | while IFS='|' read -r file fns; do
		for f in $(printf '%s\n' "$fns" | grep -o '`[A-Za-z_][A-Za-z0-9_]*()`' | tr -d '`()'); do
			defined "$f" "$file" || grep -hE "static (inline|__always_inline) .*[^A-Za-z0-9_]$f\(" "$file" \
				2>/dev/null | grep -q . || echo "$f() is not defined in $file"
		done
	done
}

# First, a page with one mistake of each kind.
cat > "$TMP/bad.md" <<'BAD'
See `src/no/such/file.c` and `no_such_function_anywhere()`, but also `src/main.c`.
| Step | File | Function | What |
|---|---|---|---|
| 1 | `src/bpf/blockio.c` | `tick()` | tick() is in collector.c |
BAD
is "$(missing_paths "$TMP/bad.md")" "src/no/such/file.c" "the path checker finds a path that does not exist"
is "$(missing_funcs "$TMP/bad.md")" "no_such_function_anywhere()" "the function checker finds a name defined nowhere"
is "$(misplaced_steps "$TMP/bad.md")" "tick() is not defined in src/bpf/blockio.c" "the step checker finds a function in the wrong file"

# Then the page itself.
n=$(paths "$DOC" | wc -l)
ok "the page names paths ($n)" test "$n" -ge 40
missing=$(missing_paths "$DOC")
is "$missing" "" "every path the page names exists"
n=$(funcs "$DOC" | wc -l)
ok "the page names functions ($n)" test "$n" -ge 40
missing=$(missing_funcs "$DOC")
is "$missing" "" "every function the page names is defined"
n=$(steps "$DOC" | wc -l)
ok "the event path has its steps ($n)" test "$n" -ge 25
is "$(misplaced_steps "$DOC")" "" "every step's function is defined in the file the step names"

# The include rules: rows "| `src/X/` | ... | a, b, c |"; "nothing" for none.
allowed() { awk -F'|' -v d="| \`src/$1/\` |" 'index($0, d) == 1 { print $(NF - 1) }' "$DOC" | tr ',' ' '; }
unlisted=""
bad=""
arrows=0
for dir in src/*/; do
	f=$(basename "$dir")
	rule=$(allowed "$f")
	[ -n "$rule" ] || { unlisted="$unlisted $f"; continue; }
	for used in $(grep -ho '#include "\.\./[a-z_]*/' "$dir"*.c "$dir"*.h 2>/dev/null | sed 's|.*\.\./||; s|/$||' | sort -u); do
		arrows=$((arrows + 1))
		case " $rule " in *" $used "*) ;; *) bad="$bad src/$f->$used" ;; esac
	done
done
is "$unlisted" "" "every folder under src/ has its row in the include table"
ok "the folders include each other ($arrows folder-to-folder arrows found)" test "$arrows" -ge 30
is "$bad" "" "every folder includes only what its row allows"
is "$(grep -lE '#include ["<](\.\./store/store\.h|sqlite3\.h)' src/detect/* 2>/dev/null)" "" \
	"nothing in src/detect includes store.h or sqlite3.h"
is "$(grep -lE '#include <sqlite3\.h>' $(find src -name '*.[ch]') | grep -v '^src/store/')" "" \
	"only src/store includes sqlite3.h"
is "$(grep -l '#include "\.\./' src/lib/*)" "" "src/lib includes no project header outside lib"
is "$(grep -l '#include "\.\./cmd/\|#include "cmd/' $(find src -name '*.[ch]') | grep -v '^src/cmd/\|^src/main\.c$')" "" \
	"nothing outside src/cmd and src/main.c includes a header of src/cmd"
ok "the test itself is named on the page" grep -q 't/e2e/architecture.t' "$DOC"
done_testing

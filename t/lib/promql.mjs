// PromQL helpers for the tests of contrib/ (t/e2e/grafana.t, t/e2e/prom_rules.t).
//
//   node promql.mjs exprs DASHBOARD.json   every target's expr in a Grafana dashboard, one per line, with
//                                          the template variables replaced by what a query would see
//                                          ($instance -> .*, $__rate_interval -> 1m); exits 1 when the
//                                          JSON does not load or an expr is missing or spans lines
//   node promql.mjs names < EXPRS          the metric names each expression (one per line) selects, one
//                                          per line: identifiers outside strings, label matchers, ranges
//                                          and label lists, that are neither functions nor keywords
//   node promql.mjs rules NAME < EXPRS     a Prometheus rules file with one recording rule per expression
//                                          (promtool check rules parses each one)
import { readFileSync } from 'node:fs';

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or',
	'unless', 'offset', 'bool', 'inf', 'nan', 'atan2', 'start', 'end']);

export function substitute(expr) {
	return expr.replace(/\$\{?__rate_interval\}?|\$\{?__interval\}?|\$\{?__range\}?/g, '1m')
		.replace(/\$\{instance(:[a-z]+)?\}|\$instance\b/g, '.*');
}

export function names(expr) {
	let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')  // strings
		.replace(/\{[^}]*\}/g, ' ')                                           // label matchers
		.replace(/\[[^\]]*\]/g, ' ')                                           // ranges, subqueries
		.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');  // label lists
	const out = new Set();
	for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
		const after = s.slice(m.index + m[0].length).trimStart();
		const before = s.slice(0, m.index);
		if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase()) || /[0-9.][eE]?$/.test(before))
			continue;
		out.add(m[0]);
	}
	return [...out];
}

function exprsOf(file) {
	const d = JSON.parse(readFileSync(file, 'utf8'));
	const out = [];
	const walk = (panels) => {
		for (const p of panels || []) {
			walk(p.panels);
			for (const t of p.targets || []) {
				if (typeof t.expr !== 'string' || !t.expr.trim() || /\n/.test(t.expr))
					throw new Error(`panel "${p.title}" target ${t.refId}: no one-line expr`);
				out.push(substitute(t.expr));
			}
		}
	};
	walk(d.panels);
	for (const v of d.templating?.list || [])
		if (v.type === 'query') out.push(substitute((v.definition || '').replace(/^label_values\((.*),\s*\w+\)$/, '$1')));
	return out;
}

const stdinLines = () => readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
const [cmd, arg] = process.argv.slice(2);
try {
	if (cmd === 'exprs') {
		for (const e of exprsOf(arg)) console.log(e);
	} else if (cmd === 'names') {
		const all = new Set();
		for (const e of stdinLines()) for (const n of names(e)) all.add(n);
		for (const n of [...all].sort()) console.log(n);
	} else if (cmd === 'rules') {
		console.log(`groups:\n  - name: ${arg}\n    rules:`);
		stdinLines().forEach((e, i) => console.log(`      - record: ${arg}:expr_${i + 1}\n        expr: ${JSON.stringify(e)}`));
	} else {
		console.error('usage: promql.mjs exprs DASHBOARD.json | names < EXPRS | rules NAME < EXPRS');
		process.exit(2);
	}
} catch (e) {
	console.error(`promql.mjs: ${e.message}`);
	process.exit(1);
}

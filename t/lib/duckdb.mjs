// Runs SQL with DuckDB (npm @duckdb/node-api, installed by `make deps`), so
// tests and benchmarks can check ksight's Parquet files with a real reader.
//
//   node t/lib/duckdb.mjs [--json | --csv] [--time] SQL [SQL ...]
//
// Each SQL argument runs in order on one in-memory database.
//   --json (default)  one JSON document: an array with, per statement,
//                     {"columns": [names], "types": [DuckDB types], "rows": [[values]]};
//                     BIGINT, HUGEINT, TIMESTAMP... are JSON strings (exact),
//                     NULL is null.
//   --csv             per statement, a header line and RFC 4180 rows; NULL is
//                     an empty field.
//   --time            prints "time_ms <n>" per statement on stderr.
// A failing statement prints DuckDB's message on stderr and exits 1.
import { DuckDBInstance } from '@duckdb/node-api';

let format = 'json';
let time = false;
const statements = [];
for (const arg of process.argv.slice(2)) {
	if (arg === '--json' || arg === '--csv')
		format = arg.slice(2);
	else if (arg === '--time')
		time = true;
	else
		statements.push(arg);
}
if (!statements.length) {
	console.error('usage: duckdb.mjs [--json | --csv] [--time] SQL [SQL ...]');
	process.exit(2);
}

function csvField(v) {
	if (v === null || v === undefined)
		return '';
	const s = typeof v === 'string' ? v : JSON.stringify(v);
	return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const results = [];
for (const sql of statements) {
	const t0 = process.hrtime.bigint();
	let reader;
	try {
		reader = await con.runAndReadAll(sql);
	} catch (e) {
		console.error(`duckdb: ${e.message}\n  in: ${sql}`);
		process.exit(1);
	}
	if (time)
		console.error(`time_ms ${Number(process.hrtime.bigint() - t0) / 1e6}`);
	const result = {
		columns: reader.columnNames(),
		types: reader.columnTypes().map((t) => t.toString()),
		rows: reader.getRowsJson(),
	};
	if (format === 'csv') {
		const lines = [result.columns.map(csvField).join(',')];
		for (const row of result.rows)
			lines.push(row.map(csvField).join(','));
		process.stdout.write(lines.join('\n') + '\n');
	} else {
		results.push(result);
	}
}
if (format === 'json')
	process.stdout.write(JSON.stringify(results) + '\n');

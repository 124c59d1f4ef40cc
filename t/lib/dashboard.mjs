// Drives the dashboard's issue-17 panels in Debian's Chromium (headless,
// npm playwright-core) at 1280 px and reports what a person would see,
// for t/e2e/dashboard_panels.t.
//
//   node t/lib/dashboard.mjs URL SHOTDIR PID [AUTH_HEADER]
//
// PID is a process the capture knows: a leak suspect with an exec row.
// Steps, each waiting for its condition with a deadline, each leaving a
// screenshot SHOTDIR/dashboard-STEP.png:
//   panels:   the strip, anomalies, top processes and remediation have rows;
//   sort:     "RSS (growth)" ranks by growth and PID's row appears;
//   timeline: a click on PID's row opens its timeline with its exec row;
//   mark:     a click on an anomaly mark on a chart shows its explanation;
//   width:    no element wider than the 1280 px viewport, no page scroll.
// Prints one JSON object with what each step saw ({"errors": [...]} holds
// console errors and failed waits) and exits 0, or 1 when the page did not
// load.
import { chromium } from 'playwright-core';

const [url, shotdir, pid, auth] = process.argv.slice(2);
if (!url || !shotdir || !pid) {
	console.error('usage: dashboard.mjs URL SHOTDIR PID [AUTH_HEADER]');
	process.exit(2);
}
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
	       '--disable-component-update', '--disable-sync'],
});
const out = { errors: [], console_errors: [], steps: {} };
let rc = 0;
let pageNow = null;
const shot = (page, name, opts) => page.screenshot({ path: `${shotdir}/dashboard-${name}.png`, ...opts });
async function step(name, fn) {
	try {
		out.steps[name] = await fn();
	} catch (e) {
		out.errors.push(name + ': ' + String(e).split('\n')[0]);
		out.steps[name] = null;
		// What the page showed instead, for the diagnosis.
		try {
			await shot(pageNow, name + '-failed', { fullPage: true });
			out.failed = out.failed || {};
			out.failed[name] = await pageNow.evaluate(() => Object.fromEntries(['timeline-title', 'timeline-about',
				'top-note', 'mark-note', 'anomalies-note', 'remediation-note'].map((id) => [id, document.getElementById(id).textContent])));
		} catch (e2) { /* the page is gone */ }
	}
}
try {
	const context = await browser.newContext({
		viewport: { width: 1280, height: 900 },
		extraHTTPHeaders: auth ? { Authorization: auth } : {},
	});
	const page = await context.newPage();
	pageNow = page;
	page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
	page.on('pageerror', (e) => out.console_errors.push(String(e)));
	page.on('response', (r) => { if (r.status() >= 400) out.console_errors.push(r.status() + ' ' + r.url()); });
	const response = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
	out.status = response ? response.status() : 0;
	const text = (sel) => page.evaluate((s) => [...document.querySelectorAll(s)].map((e) => e.textContent), sel);

	await step('panels', async () => {
		await page.waitForFunction(() => {
			const n = (s) => document.querySelectorAll(s).length;
			const k = window.ksight;
			return k && k.state.updates >= 3 && n('#anomalies-table tbody tr') > 0 && n('#top-table tbody tr.process') > 0
				&& n('#remediation-table tbody tr') > 0
				&& ![...document.querySelectorAll('#strip li span')].some((e) => e.textContent === 'loading');
		}, null, { timeout: 30000, polling: 250 });
		await shot(page, 'panels');
		return page.evaluate(() => ({
			strip: Object.fromEntries([...document.querySelectorAll('#strip li')].map((li) => [li.id.slice(6), li.querySelector('span').textContent])),
			anomaly_rows: [...document.querySelectorAll('#anomalies-table tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
			anomaly_groups: [...new Set([...document.querySelectorAll('#anomalies-table tbody tr td:nth-child(3)')].map((e) => e.textContent))],
			cgroups: document.querySelectorAll('#top-table tbody tr.group').length,
			processes: document.querySelectorAll('#top-table tbody tr.process').length,
			actions: [...document.querySelectorAll('#remediation-table tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
			remediation_note: document.getElementById('remediation-note').textContent,
			leak_rows: document.querySelectorAll('#leaks-table tbody tr').length,
			collector_rows: document.querySelectorAll('#collectors-table tbody tr').length,
			marks: Object.fromEntries(Object.keys(window.ksight.charts).map((c) => [c, window.ksight.marks(c)])),
		}));
	});

	await step('sort', async () => {
		await page.click('#top-table button[data-sort="rss"]');
		await page.waitForSelector(`#top-table tr.process[data-pid="${pid}"]`, { timeout: 20000 });
		await shot(page, 'sort');
		return { note: (await text('#top-note'))[0], row: (await text(`#top-table tr.process[data-pid="${pid}"]`))[0] };
	});

	await step('timeline', async () => {
		await page.click(`#top-table tr.process[data-pid="${pid}"]`);
		await page.waitForFunction(() => document.querySelector('#timeline-table tbody tr.ev-process td:nth-child(3)'),
					   null, { timeout: 15000, polling: 200 });
		const el = await page.$('#timeline');
		await el.scrollIntoViewIfNeeded();
		await shot(page, 'timeline');
		return page.evaluate(() => ({
			title: document.getElementById('timeline-title').textContent,
			about: document.getElementById('timeline-about').textContent,
			rows: [...document.querySelectorAll('#timeline-table tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
			kinds: [...new Set([...document.querySelectorAll('#timeline-table tbody tr td:nth-child(2)')].map((e) => e.textContent))],
			cpu_points: window.ksight.timeline ? window.ksight.timeline.series.cpu.rows.length : 0,
		}));
	});

	await step('mark', async () => {
		// The newest mark on the first chart that has one, clicked where it is drawn.
		const m = await page.evaluate(() => {
			const k = window.ksight;
			for (const name of Object.keys(k.charts)) {
				const c = k.charts[name];
				for (const mark of c.marks) {
					const x = c.u.valToPos(mark.timestamp / 1e9, 'x');
					if (x < 0 || x > c.u.bbox.width / devicePixelRatio) continue;
					c.el.scrollIntoView({ block: 'center' });
					const r = c.u.over.getBoundingClientRect();
					return { chart: name, x: r.left + x, y: r.top + r.height / 2, explanation: mark.explanation };
				}
			}
			return null;
		});
		if (!m) throw new Error('no anomaly mark inside a chart');
		await page.mouse.click(m.x, m.y);
		await page.waitForFunction(() => !document.getElementById('mark-note').hidden, null, { timeout: 5000 });
		const note = (await text('#mark-note'))[0];
		await page.evaluate(() => window.scrollTo(0, 0));
		await shot(page, 'mark');
		return { chart: m.chart, explanation: m.explanation, note };
	});

	await step('width', async () => {
		const w = await page.evaluate(() => {
			const vw = document.documentElement.clientWidth;
			const wide = [];
			for (const e of document.querySelectorAll('body *')) {
				const r = e.getBoundingClientRect();
				if (r.width > vw + 0.5 || r.right > vw + 0.5)
					wide.push((e.id ? '#' + e.id : e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className : '')) + ' ' + Math.round(r.width) + 'px');
			}
			return { viewport: vw, scroll_width: document.documentElement.scrollWidth, wide: wide.slice(0, 10) };
		});
		await shot(page, 'full', { fullPage: true });
		return w;
	});
} catch (e) {
	out.errors.push(String(e));
	rc = 1;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
process.exit(rc);

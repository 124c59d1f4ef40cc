// Loads the dashboard in Debian's Chromium (headless, driven by npm
// playwright-core, installed by `make deps`) and reports what a person
// would see, for t/e2e/dashboard.t.
//
//   node t/lib/browser.mjs URL SCREENSHOT.png [WAIT_POINTS] [AUTH_HEADER]
//
// Waits (up to 30 s) until every chart has at least WAIT_POINTS points
// (default 3), three live updates happened and the leak panel has its first
// answer, then prints one JSON object:
//   {"status": HTTP status of the page, "points": {chart: n}, "series_px": {chart: pixels in the series colours},
//    "screenshot_ink": share of screenshot pixels unlike the page background,
//    "updates": n, "errors": [console errors and CSP violations],
//    "requests_elsewhere": [URLs not on the agent], "text": {id: textContent},
//    "range": {after clicking "1 h": range, step, points of the memory chart},
//    "final_url": the page's address once loaded (after redirects),
//    "cookies": [{name, httpOnly, sameSite}], "script_cookies": what document.cookie shows,
//    "range30": {the same after clicking "30 d"}}
// and exits 0; 1 when the page did not load or the charts never filled.
import { chromium } from 'playwright-core';

const [url, shot, waitArg, auth] = process.argv.slice(2);
if (!url || !shot) {
	console.error('usage: browser.mjs URL SCREENSHOT.png [WAIT_POINTS] [AUTH_HEADER]');
	process.exit(2);
}
const want = Number(waitArg || 3);
const origin = new URL(url).origin;

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
	       '--disable-component-update', '--disable-sync'],
});
const out = { points: {}, series_px: {}, errors: [], requests_elsewhere: [], text: {} };
let rc = 0;
try {
	const context = await browser.newContext({
		viewport: { width: 1400, height: 2000 },
		extraHTTPHeaders: auth ? { Authorization: auth } : {},
	});
	const page = await context.newPage();
	page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
	page.on('pageerror', (e) => out.errors.push(String(e)));
	page.on('request', (r) => { if (!r.url().startsWith(origin)) out.requests_elsewhere.push(r.url()); });
	const response = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
	out.status = response ? response.status() : 0;
	out.final_url = page.url();
	out.cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
	out.script_cookies = await page.evaluate(() => document.cookie);
	try {
		await page.waitForFunction((n) => {
			const k = window.ksight;
			if (!k || k.state.updates < 3) return false;
			// the leak panel's first answer (it asks every 2 s; on a busy
			// machine the first may come after the charts fill)
			const note = document.getElementById('leaks-note');
			if (note && /^(loading|no answer)/.test(note.textContent)) return false;
			return Object.keys(k.charts).every((c) => k.points(c) >= n);
		}, want, { timeout: 30000, polling: 250 });
	} catch (e) {
		rc = 1;
		out.errors.push('charts did not fill: ' + e.message.split('\n')[0]);
	}
	Object.assign(out, await page.evaluate(() => {
		const k = window.ksight;
		const res = { points: {}, series_px: {}, updates: k ? k.state.updates : 0, text: {} };
		const rgb = (k ? k.colors.slice(0, 3) : []).map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
		for (const name of Object.keys(k ? k.charts : {})) {
			const u = k.charts[name].u;
			res.points[name] = u.data[0].length;
			// Pixels of the plot canvas in the first three series colours:
			// lines drawn from data (axes and grid are grey).
			const cv = u.ctx.canvas, px = u.ctx.getImageData(0, 0, cv.width, cv.height).data;
			let lit = 0;
			for (let i = 0; i < px.length; i += 4) {
				if (px[i + 3] < 128) continue;
				for (const c of rgb)
					if (Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) + Math.abs(px[i + 2] - c[2]) < 60) { lit++; break; }
			}
			res.series_px[name] = lit;
		}
		for (const id of ['status', 'host', 'leaks-note', 'updated', 'learning'])
			res.text[id] = (document.getElementById(id) || {}).textContent;
		res.collector_rows = document.querySelectorAll('#collectors-table tbody tr').length;
		res.slow_rows = document.querySelectorAll('#slow-table tbody tr').length;
		return res;
	}));
	const png = await page.screenshot({ path: shot, fullPage: true });
	// Decode the screenshot in the page itself (no PNG library here) and
	// count pixels that differ from the page background.
	out.screenshot_ink = await page.evaluate(async (b64) => {
		const img = new Image();
		img.src = 'data:image/png;base64,' + b64;
		await img.decode();
		const cv = document.createElement('canvas');
		cv.width = img.width;
		cv.height = img.height;
		const ctx = cv.getContext('2d');
		ctx.drawImage(img, 0, 0);
		const px = ctx.getImageData(0, 0, cv.width, cv.height).data;
		const bg = [px[px.length - 4], px[px.length - 3], px[px.length - 2]];
		let differ = 0;
		for (let i = 0; i < px.length; i += 4)
			if (Math.abs(px[i] - bg[0]) + Math.abs(px[i + 1] - bg[1]) + Math.abs(px[i + 2] - bg[2]) > 30) differ++;
		return differ / (px.length / 4);
	}, png.toString('base64'));
	// The time range selector: 1 h is drawn with 6 s buckets.
	const before = await page.evaluate(() => window.ksight.state.updates);
	await page.click('button[data-range="3600"]');
	await page.waitForFunction((n) => window.ksight.state.range === 3600 && window.ksight.state.updates > n + 1,
				   before, { timeout: 15000, polling: 200 });
	out.range = await page.evaluate(() => ({ range: window.ksight.state.range, step: window.ksight.state.step,
						 points: window.ksight.points('memory') }));
	// 30 days: the agent answers from its rollups.
	const before30 = await page.evaluate(() => window.ksight.state.updates);
	await page.click('button[data-range="2592000"]');
	await page.waitForFunction((n) => window.ksight.state.range === 2592000 && window.ksight.state.updates > n + 1,
				   before30, { timeout: 15000, polling: 200 });
	out.range30 = await page.evaluate(() => ({ range: window.ksight.state.range, step: window.ksight.state.step,
						   points: window.ksight.points('memory') }));
} catch (e) {
	out.errors.push(String(e));
	rc = 1;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
process.exit(rc);

// Loads the dashboard in Debian's Chromium (headless, driven by npm
// playwright-core, installed by `make deps`) and reports what a person
// would see, for t/e2e/dashboard.t.
//
//   node t/lib/browser.mjs URL SCREENSHOT.png [WAIT_POINTS] [AUTH_HEADER]
//
// Waits (up to 30 s) until every chart has at least WAIT_POINTS points
// (default 3) and two live updates happened, then prints one JSON object:
//   {"points": {chart: n}, "ink": {chart: share of the plot's pixels drawn},
//    "screenshot_ink": share of screenshot pixels unlike the page background,
//    "updates": n, "errors": [console errors and CSP violations],
//    "requests_elsewhere": [URLs not on the agent], "text": {id: textContent}}
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
const out = { points: {}, ink: {}, errors: [], requests_elsewhere: [], text: {} };
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
	await page.goto(url, { waitUntil: 'load', timeout: 15000 });
	try {
		await page.waitForFunction((n) => {
			const k = window.ksight;
			if (!k || k.state.updates < 3) return false;
			return Object.keys(k.charts).every((c) => k.points(c) >= n);
		}, want, { timeout: 30000, polling: 250 });
	} catch (e) {
		rc = 1;
		out.errors.push('charts did not fill: ' + e.message.split('\n')[0]);
	}
	Object.assign(out, await page.evaluate(() => {
		const k = window.ksight;
		const res = { points: {}, ink: {}, updates: k ? k.state.updates : 0, text: {} };
		for (const name of Object.keys(k ? k.charts : {})) {
			const u = k.charts[name].u;
			res.points[name] = u.data[0].length;
			// Share of the plot canvas drawn on (uPlot clears it to transparent).
			const cv = u.ctx.canvas, px = u.ctx.getImageData(0, 0, cv.width, cv.height).data;
			let drawn = 0;
			for (let i = 3; i < px.length; i += 4) if (px[i]) drawn++;
			res.ink[name] = drawn / (px.length / 4);
		}
		for (const id of ['status', 'host', 'leaks-note', 'updated'])
			res.text[id] = (document.getElementById(id) || {}).textContent;
		res.collector_rows = document.querySelectorAll('#collectors-table tbody tr').length;
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
} catch (e) {
	out.errors.push(String(e));
	rc = 1;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
process.exit(rc);

// KernelSight dashboard: live charts from /api/series, refreshed every second.
//
// The first request of a time range fetches all of it; later ones fetch the
// last two buckets and replace them, so the page stays cheap at any range.
// About 600 points per range: the agent answers long ranges (7 d, 30 d)
// from its per-minute and per-hour rollups without being asked.
// Every value from the agent reaches the page through textContent, never
// as HTML.  window.ksight exposes the charts (used by the browser test).
'use strict';
(function () {
  const COLORS = ['#2563eb', '#dc2626', '#d97706', '#059669', '#7c3aed', '#6b7280'];
  const units = {
    pct: (v) => v.toFixed(v < 10 ? 1 : 0) + '%',
    num: (v) => (Math.abs(v) >= 1000 ? (v / 1000).toFixed(1) + 'k' : (Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(0))),
    bytes: (v) => {
      const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0;
      while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
      return v.toFixed(v < 10 && i ? 1 : 0) + ' ' + u[i];
    },
    us: (v) => (v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 0 : 1) + ' ms' : v.toFixed(v < 10 ? 1 : 0) + ' µs'),
    rate: (v) => units.num(v) + '/s',
  };
  units.bps = (v) => units.bytes(v) + '/s';

  // chart name -> [columns shown, unit]
  const defs = {
    cpu: [['user', 'system', 'iowait', 'irq', 'steal'], 'pct'],
    memory: [['used', 'cache', 'available', 'swap_used'], 'bytes'],
    load: [['load1', 'load5', 'load15'], 'num'],
    disk: [['read', 'write'], 'bps'],
    network: [['rx', 'tx', 'loopback'], 'bps'],
    io_latency: [['read_p50_us', 'read_p95_us', 'read_p99_us', 'write_p50_us', 'write_p95_us', 'write_p99_us'], 'us'],
    runqueue: [['p50_us', 'p95_us', 'p99_us', 'max_us'], 'us'],
    slow_syscalls: [['per_s'], 'rate'],
    faults: [['per_s', 'major_per_s'], 'rate'],
    tcp_retransmits: [['retransmits_per_s'], 'rate'],
    process_events: [['fork_per_s', 'exec_per_s', 'exit_per_s'], 'rate'],
  };

  const state = { range: 300, step: 1, updates: 0, errors: 0, busy: false, generation: 0 };
  const charts = {};
  window.ksight = {
    charts: charts,
    state: state,
    colors: COLORS,
    points: (name) => (charts[name] && charts[name].u ? charts[name].u.data[0].length : 0),
  };

  const $ = (sel) => document.querySelector(sel);

  function makeChart(name) {
    const el = document.querySelector('[data-chart="' + name + '"] .chart');
    const [cols, unit] = defs[name];
    const fmt = units[unit];
    const opts = {
      width: Math.max(300, el.clientWidth),
      height: 220,
      scales: { x: { time: true, range: () => { const now = Date.now() / 1000; return [now - state.range, now]; } }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      series: [{}].concat(cols.map((c, i) => ({
        label: c.replace(/_per_s$|_us$/, ''),
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        value: (u, v) => (v == null ? '–' : fmt(v)),
      }))),
      axes: [{}, { size: 84, values: (u, vals) => vals.map((v) => fmt(v)) }],
    };
    const data = [[]].concat(cols.map(() => []));
    charts[name] = { u: new uPlot(opts, data, el), cols: cols, el: el };
  }

  function stepFor(range) {
    return Math.max(1, Math.ceil(range / 600));
  }

  // Replaces the points at or after cut with the answer's, keeps the range.
  function merge(name, answer, cut, full) {
    const c = charts[name];
    if (!answer) return;
    const idx = c.cols.map((col) => answer.columns.indexOf(col));
    const t = answer.data[0];
    const old = c.u.data;
    const lo = Date.now() / 1000 - state.range;
    const data = old.map(() => []);
    if (!full) {
      for (let i = 0; i < old[0].length; i++) {
        if (old[0][i] >= cut) break;
        if (old[0][i] < lo) continue;
        data[0].push(old[0][i]);
        for (let k = 1; k < old.length; k++) data[k].push(old[k][i]);
      }
    }
    for (let i = 0; i < t.length; i++) {
      if (t[i] < lo) continue;
      data[0].push(t[i]);
      for (let k = 0; k < idx.length; k++) data[k + 1].push(idx[k] >= 0 ? answer.data[idx[k]][i] : null);
    }
    c.u.setData(data);
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store' });
    // Per-process data needs the agent's token, which the page receives
    // as a cookie by being opened at the address the agent printed.
    if (r.status === 401) throw new Error('this page needs the agent\u2019s token: open the address the agent printed at start (' + location.origin + '/?token=\u2026)');
    if (!r.ok) throw new Error(url + ': ' + r.status);
    return r.json();
  }

  async function refresh(full) {
    if (state.busy) return;
    state.busy = true;
    const generation = state.generation;
    const now = Date.now() / 1000;
    const step = state.step;
    const since = full ? Math.floor((now - state.range) / step) * step : (Math.floor(now / step) - 2) * step;
    try {
      const a = await getJSON('/api/series?since=' + since.toFixed(3) + '&until=' + (now + step).toFixed(3) + '&step=' + step + 's');
      if (generation !== state.generation) return;      // the range changed meanwhile
      for (const name in defs) merge(name, a.series[name], since, full);
      state.updates++;
      $('#updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      state.errors++;
      $('#updated').textContent = 'no answer: ' + e.message;
    } finally {
      state.busy = false;
    }
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text == null ? '–' : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  async function health() {
    try {
      const h = await getJSON('/api/health');
      $('#host').textContent = h.hostname + ' · Linux ' + h.kernel + ' · ksight ' + h.version;
      const badge = $('#status');
      badge.textContent = h.status;
      badge.className = 'badge ' + h.status;
      badge.title = h.problems.join('\n');
      // The detectors' probation: one line until they can judge.
      const learning = $('#learning');
      learning.hidden = !h.learning || h.learning.ready;
      learning.textContent = learning.hidden ? '' : h.learning.text;
      const body = $('#collectors-table tbody');
      body.replaceChildren();
      for (const c of h.collectors) {
        const tr = document.createElement('tr');
        tr.className = !c.enabled ? 'off' : c.drops_total ? 'bad' : '';
        cell(tr, c.name);
        cell(tr, c.kind);
        cell(tr, c.enabled ? (c.note ? 'on, ' + c.note : 'on') : 'off: ' + c.reason);
        cell(tr, c.events_total, 'num');
        cell(tr, c.drops_total, 'num');
        body.appendChild(tr);
      }
    } catch (e) {
      $('#status').textContent = 'down';
      $('#status').className = 'badge down';
    }
  }

  async function leaks() {
    try {
      const s = await getJSON('/api/agent/status');
      const l = s.leaks;
      const head = $('#leaks-table thead'), body = $('#leaks-table tbody');
      head.replaceChildren();
      body.replaceChildren();
      if (!l.available) {
        $('#leaks-note').textContent = 'The leak detector is not in this build (' + l.reason + ').';
        return;
      }
      $('#leaks-note').textContent = l.suspects.length
        ? l.suspects.length + (l.suspects.length === 1 ? ' leak suspect' : ' leak suspects') : 'No leak suspected.';
      if (!l.suspects.length) return;
      const cols = Object.keys(l.suspects[0]).filter((k) => k !== 'cgroup_id');
      const hr = document.createElement('tr');
      for (const k of cols) { const th = document.createElement('th'); th.textContent = k; hr.appendChild(th); }
      head.appendChild(hr);
      for (const row of l.suspects) {
        const tr = document.createElement('tr');
        for (const k of cols) cell(tr, k === 'timestamp' ? new Date(row[k] / 1e6).toLocaleTimeString() : row[k]);
        body.appendChild(tr);
      }
    } catch (e) {
      $('#leaks-note').textContent = 'no answer: ' + e.message;
    }
  }

  async function slowTable() {
    try {
      const s = await getJSON('/api/stats?window=' + state.range + 's');
      const body = $('#slow-table tbody');
      body.replaceChildren();
      // Ranked by the time the calls did not choose (on the CPU, waiting
      // for it, blocked): a read waiting for input is not listed.
      for (const r of s.slow_syscalls.slice(0, 5)) {
        const tr = document.createElement('tr');
        const parts = [r.oncpu_ms, r.runq_ms, r.blocked_ms];
        const total = parts.reduce((a, b) => a + (b || 0), 0);
        cell(tr, r.syscall);
        cell(tr, r.slow_calls, 'num');
        cell(tr, r.max_ms == null ? null : r.max_ms.toFixed(1), 'num');
        cell(tr, total > 0 ? parts.map(p => Math.round(100 * (p || 0) / total) + '%').join(' / ') : null, 'num');
        body.appendChild(tr);
      }
    } catch (e) { /* the chart above says whether the agent answers */ }
  }

  function setRange(range) {
    state.range = range;
    state.step = stepFor(range);
    state.generation++;
    state.busy = false;
    for (const b of document.querySelectorAll('#range button')) b.classList.toggle('on', Number(b.dataset.range) === range);
    refresh(true);
    slowTable();
  }

  for (const name in defs) makeChart(name);
  for (const b of document.querySelectorAll('#range button')) b.addEventListener('click', () => setRange(Number(b.dataset.range)));
  window.addEventListener('resize', () => {
    for (const name in charts) charts[name].u.setSize({ width: Math.max(300, charts[name].el.clientWidth), height: 220 });
  });
  const initial = Number((location.hash.match(/range=(\d+)/) || [])[1]) || 300;
  setRange(initial);
  health();
  leaks();
  setInterval(() => refresh(false), 1000);
  setInterval(health, 2000);
  setInterval(leaks, 2000);
  setInterval(slowTable, 5000);
})();

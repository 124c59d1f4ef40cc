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

  // A duration in seconds, in the unit that fits.
  function human_s(s) {
    if (s == null) return '–';
    const a = Math.abs(s);
    if (a === 0) return '0 s';
    if (a < 1e-3) return (s * 1e6).toFixed(a < 1e-5 ? 1 : 0) + ' µs';
    if (a < 1) return (s * 1e3).toFixed(a < 1e-2 ? 1 : 0) + ' ms';
    if (a < 120) return s.toFixed(a < 10 ? 2 : 1) + ' s';
    if (a < 7200) return (s / 60).toFixed(1) + ' min';
    if (a < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }
  const when = (ns) => (ns == null ? '–' : new Date(ns / 1e6).toLocaleString());
  const bytes = (v) => (v == null ? '–' : units.bytes(v));

  // Axis labels in one unit: the one that fits the largest tick.
  const scales = {
    us: [[1, 'µs'], [1e3, 'ms'], [1e6, 's']],
    bytes: [[1, 'B'], [1024, 'KiB'], [1048576, 'MiB'], [1073741824, 'GiB'], [1099511627776, 'TiB']],
    num: [[1, ''], [1e3, 'k'], [1e6, 'M']],
  };
  scales.bps = scales.bytes;
  scales.rate = scales.num;
  function axisValues(unit) {
    const fmt = units[unit];
    const sc = scales[unit];
    if (!sc) return (u, vals) => vals.map((v) => fmt(v));
    return (u, vals) => {
      const top = Math.max(...vals.map((v) => Math.abs(v || 0)));
      let k = 0;
      while (k < sc.length - 1 && top >= sc[k + 1][0]) k++;
      const [div, name] = sc[k];
      const digits = Math.max(...vals.map((v) => { const x = Math.abs(v / div); return x && x < 10 && x % 1 ? (x < 1 ? 2 : 1) : 0; }));
      const tail = (unit === 'bps' ? ' ' + name + '/s' : unit === 'rate' ? name + '/s' : unit === 'num' ? name : ' ' + name);
      return vals.map((v) => (v / div).toFixed(digits) + tail);
    };
  }

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
    marks: (name) => (charts[name] ? charts[name].marks.length : 0),
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
      axes: [{}, { size: 84, values: axisValues(unit) }],
      hooks: { draw: [drawMarks(name)] },
    };
    const data = [[]].concat(cols.map(() => []));
    charts[name] = { u: new uPlot(opts, data, el), cols: cols, el: el, marks: [] };
    charts[name].u.over.addEventListener('click', (ev) => clickMark(name, ev));
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

  function cell(tr, text, cls, title) {
    const td = document.createElement('td');
    td.textContent = text == null ? '–' : String(text);
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
    return td;
  }

  function row(body, cells, cls) {
    const tr = document.createElement('tr');
    if (cls) tr.className = cls;
    for (const c of cells) Array.isArray(c) ? cell(tr, c[0], c[1], c[2]) : cell(tr, c);
    body.appendChild(tr);
    return tr;
  }

  function strip(id, text, cls) {
    const li = $('#strip-' + id);
    const span = li.querySelector('span');
    span.textContent = text;
    span.title = text;
    li.className = cls || '';
  }

  // What the status strip and the panels share between refreshes.
  const seen = { health: null, status: null, config: {}, anomalies: [], actions: [] };
  window.ksight.seen = seen;

  async function health() {
    try {
      const h = await getJSON('/api/health');
      seen.health = h;
      $('#host').textContent = h.hostname + ' · Linux ' + h.kernel + ' · ksight ' + h.version;
      const badge = $('#status');
      badge.textContent = h.status;
      badge.className = 'badge ' + h.status;
      badge.title = h.problems.join('\n');
      // The detectors' probation, in the strip (the agent's own words).
      seen.learning = h.learning;
      if (h.learning) strip('learning', h.learning.text, h.learning.ready ? 'ok' : 'warn');
      else if (h.learning === null) strip('learning', 'detection is off', 'warn');
      const body = $('#collectors-table tbody');
      body.replaceChildren();
      const off = [];
      for (const c of h.collectors) {
        if (!c.enabled) off.push(c.name + ' (' + c.reason + ')');
        row(body, [c.name, c.kind, c.enabled ? (c.note ? 'on, ' + c.note : 'on') : 'off: ' + c.reason,
                   [c.events_total, 'num'], [c.drops_total, 'num']], !c.enabled ? 'off' : c.drops_total ? 'bad' : '');
      }
      strip('collectors', off.length ? off.length + ' of ' + h.collectors.length + ' off: ' + off.join(', ')
                                     : 'all ' + h.collectors.length + ' on', off.length ? 'warn' : 'ok');
      const db = h.database || {};
      const ret = db.retention;
      const cap = ret && ret.cap_bytes > 0 ? ret.cap_bytes : 0;
      const full = cap ? db.size_bytes / cap : 0;
      strip('db', bytes(db.size_bytes) + (cap ? ' of its ' + bytes(cap) + ' cap (' + Math.round(100 * full) + '%)'
                                            : ret ? ', no size cap (retention.max_bytes)' : ', retention off: it grows')
                  + (ret && ret.last_error ? ', retention failed: ' + ret.last_error : '')
                  + (db.rows_dropped ? ', ' + db.rows_dropped + ' rows dropped' : ''),
            db.rows_dropped || (ret && ret.last_error) || full > 0.9 ? 'warn' : 'ok');
    } catch (e) {
      $('#status').textContent = 'down';
      $('#status').className = 'badge down';
    }
  }

  async function config() {
    try {
      const d = await getJSON('/api/diagnostics');
      seen.config = d.config || {};
    } catch (e) { /* the strip says what it can without it */ }
  }

  const leakCols = [
    ['pid', (r) => r.pid, 'num'], ['comm', (r) => r.comm], ['status', (r) => r.status], ['pattern', (r) => r.pattern],
    ['RSS', (r) => bytes(r.rss_bytes), 'num'],
    ['growth', (r) => (r.growth_rate_bytes_per_s == null ? '–' : bytes(r.growth_rate_bytes_per_s) + '/s'), 'num'],
    ['confidence', (r) => (r.confidence == null ? '–' : r.confidence.toFixed(2)), 'num'],
    ['to limit', (r) => human_s(r.time_to_limit_s), 'num'],
    ['started', (r) => when(r.process_start)], ['cgroup', (r) => r.cgroup, 'clip'],
  ];

  async function status() {
    try {
      const s = await getJSON('/api/agent/status');
      seen.status = s;
      const l = s.leaks;
      const head = $('#leaks-table thead'), body = $('#leaks-table tbody');
      head.replaceChildren();
      body.replaceChildren();
      if (!l.available) {
        $('#leaks-note').textContent = 'The leak detector is not in this build (' + l.reason + ').';
        strip('leaks', 'detector not in this build');
      } else {
        const live = l.suspects.filter((r) => r.status === 'suspect' || r.status === 'watching');
        const suspects = live.filter((r) => r.status === 'suspect');
        $('#leaks-note').textContent = suspects.length
          ? suspects.length + (suspects.length === 1 ? ' leak suspect' : ' leak suspects') : 'No leak suspected.';
        strip('leaks', suspects.length ? suspects.map((r) => r.comm + ' (pid ' + r.pid + ', ' + bytes(r.growth_rate_bytes_per_s)
          + '/s, limit in ' + human_s(r.time_to_limit_s) + ')').join('; ') : 'none suspected'
          + (live.length ? ', ' + live.length + ' watched' : ''), suspects.length ? 'bad' : 'ok');
        if (l.suspects.length) {
          const hr = document.createElement('tr');
          for (const [k, , c] of leakCols) { const th = document.createElement('th'); th.textContent = k; if (c) th.className = c; hr.appendChild(th); }
          head.appendChild(hr);
          for (const r of l.suspects) row(body, leakCols.map(([, f, c]) => { const v = f(r); return [v, c, v == null ? null : String(v)]; }));
        }
      }
      if (seen.learning === undefined) learning(s);
      remediationSummary(s.remediation);
    } catch (e) {
      $('#leaks-note').textContent = 'no answer: ' + e.message;
    }
  }

  // Learning: the detector judges nothing before detect.probation samples
  // (one per tick); the agent's tick count says how far it is.
  function learning(s) {
    const probation = Number(seen.config['detect.probation'] || 512);
    if (seen.config['detect.enabled'] === 'false') { strip('learning', 'detection is off (detect.enabled)', 'warn'); return; }
    const ticks = s.agent.ticks;
    if (ticks < probation)
      strip('learning', Math.floor(100 * ticks / probation) + '% (' + ticks + ' of ' + probation
            + ' samples); no anomaly is reported before it ends, in about ' + human_s((probation - ticks) * (seen.config['agent.interval'] ? parseDur(seen.config['agent.interval']) : 1)), 'warn');
    else strip('learning', 'done (' + ticks + ' samples, ' + probation + ' needed)', 'ok');
  }

  function parseDur(v) {
    const m = /^([0-9.]+)\s*(ns|us|ms|s|m|h|d)?$/.exec(String(v));
    if (!m) return 1;
    return Number(m[1]) * ({ ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 's']);
  }

  // ---- anomalies: a panel and marks on every chart of their group ----
  const groupCharts = {
    cpu: ['cpu'], load: ['load'], mem: ['memory'], io: ['disk', 'io_latency'], net: ['network'],
    sched: ['runqueue'], tcp: ['tcp_retransmits'], vm: ['memory', 'faults'], psi: ['cpu', 'memory'],
  };
  const groupOf = (metric) => String(metric).split(/[.{]/)[0];

  function drawMarks(name) {
    return (u) => {
      const c = charts[name];
      if (!c || !c.marks.length) return;
      const ctx = u.ctx;
      ctx.save();
      for (const m of c.marks) {
        const x = Math.round(u.valToPos(m.timestamp / 1e9, 'x', true));
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
        ctx.strokeStyle = m.severity === 'alert' ? '#b42318' : '#d97706';
        ctx.lineWidth = 2;
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
      }
      ctx.restore();
    };
  }

  // A click within 6 px of marks shows their explanations (several
  // anomalies of one group often come at the same moment).
  function clickMark(name, ev) {
    const c = charts[name];
    const near = c.marks.map((m) => [Math.abs(c.u.valToPos(m.timestamp / 1e9, 'x') - ev.offsetX), m])
      .filter(([d]) => d <= 6).sort((p, q) => p[0] - q[0]).slice(0, 8).map(([, m]) => m);
    if (!near.length) return;
    const note = $('#mark-note');
    note.textContent = near.map((m) => when(m.timestamp) + ' · ' + m.severity + ' · ' + m.metric + ': ' + m.explanation).join('\n');
    note.hidden = false;
  }

  async function anomalies() {
    try {
      const a = await getJSON('/api/signals?type=anomalies&since=-' + state.range + 's&limit=500');
      seen.anomalies = a.rows;
      const body = $('#anomalies-table tbody');
      body.replaceChildren();
      for (const name in charts) charts[name].marks = [];
      for (const r of a.rows) {
        const g = groupOf(r.metric);
        for (const name of groupCharts[g] || []) if (charts[name]) charts[name].marks.push(r);
        if (body.children.length < 50)
          row(body, [[when(r.timestamp), 'nowrap'], [r.severity, 'nowrap' + (r.severity === 'alert' ? ' bad' : '')], [g, 'nowrap'], r.metric, r.explanation]);
      }
      for (const name in charts) charts[name].u.redraw(false, false);
      $('#anomalies-note').textContent = a.rows.length ? a.rows.length + (a.rows.length === 1 ? ' anomaly' : ' anomalies')
        + (a.rows.length > 50 ? ' (the latest 50 listed)' : '') + '; dashed lines mark them on the charts of their group, click one for its explanation.'
        : 'No anomaly in this range.';
    } catch (e) {
      $('#anomalies-note').textContent = 'no answer: ' + e.message;
    }
    // The strip: the newest anomaly ever seen by the agent, not only in range.
    const latest = seen.status && seen.status.anomalies && seen.status.anomalies.latest ? seen.status.anomalies.latest[0] : null;
    const last = seen.anomalies[0] || latest;
    strip('anomaly', last ? when(last.timestamp) + ', ' + last.severity + ': ' + last.explanation : 'none',
          last ? (last.severity === 'alert' ? 'bad' : 'warn') : 'ok');
  }

  // ---- top processes, grouped by cgroup ----
  let topSort = 'cpu';
  const cpuShare = (p) => (p.cpu_percent == null ? '–' : p.cpu_percent.toFixed(1) + '%');

  let topHover = false;
  async function topProcesses(force) {
    try {
      // /api/processes sums raw rows over at most a day (longer ranges: the last 24 h).
      const t = await getJSON('/api/processes?window=' + Math.min(state.range, 86400) + 's&sort=' + topSort + '&limit=60');
      // Rows do not move under the pointer: a refresh waits until it leaves
      // (a sort click is the exception, it asks for the new order).
      if (topHover && !force) return;
      const body = $('#top-table tbody');
      body.replaceChildren();
      const groups = new Map();
      for (const p of t.processes) {
        const g = p.cgroup || '(cgroup not seen)';
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g).push(p);
      }
      for (const [g, ps] of groups) {
        const sum = (k) => ps.reduce((a, p) => a + (p[k] || 0), 0);
        row(body, [[g + ' · ' + ps.length + (ps.length === 1 ? ' process' : ' processes'), 'clip', g],
                   [(sum('cpu_percent')).toFixed(1) + '%', 'num'], [human_s(sum('runq_wait_seconds')), 'num'],
                   [bytes(sum('rss_bytes')), 'num'], [sum('minor_faults') + sum('major_faults'), 'num'],
                   [human_s(sum('slow_call_seconds')), 'num'], [sum('failed_exits'), 'num']], 'group');
        for (const p of ps) {
          const tr = row(body, [[p.comm + ' (' + p.pid + ')', 'proc'],
            [cpuShare(p) + ' · ' + human_s(p.cpu_seconds), 'num'], [human_s(p.runq_wait_seconds), 'num'],
            [bytes(p.rss_bytes) + (p.rss_growth_bytes_per_s ? ' (+' + bytes(p.rss_growth_bytes_per_s) + '/s)' : ''), 'num'],
            [p.minor_faults + p.major_faults + (p.major_faults ? ' (' + p.major_faults + ' major)' : ''), 'num'],
            [p.slow_calls ? p.slow_calls + ' · ' + human_s(p.slow_call_seconds) : '0', 'num'],
            [p.failed_exits, 'num']], 'process' + (p.leak_status === 'suspect' ? ' bad' : ''));
          tr.dataset.pid = p.pid;
          if (p.start_ns != null) tr.dataset.start = p.start_ns;
          tr.tabIndex = 0;
          tr.addEventListener('click', () => timeline(p.pid, p.start_ns));
        }
      }
      $('#top-note').textContent = t.processes.length + ' processes in ' + groups.size + ' cgroups over the last '
        + human_s(t.window.seconds) + ', ranked by ' + { cpu: 'CPU time', runq: 'run-queue wait', rss: 'RSS growth', slow: 'slow-call time' }[t.sort] + '.';
    } catch (e) {
      $('#top-note').textContent = 'no answer: ' + e.message;
    }
  }

  let timelineChart = null;
  const kindValue = {
    process: (r) => (r.what === 'exit' ? 'code ' + r.value : ''), slow: (r) => human_s(r.value / 1e9) + ' not asleep',
    leak: (r) => 'RSS ' + bytes(r.value), action: (r) => 'action ' + r.value,
  };

  async function timeline(pid, start) {
    const panel = $('#timeline');
    panel.hidden = false;
    $('#timeline-title').textContent = String(pid);
    try {
      const t = await getJSON('/api/process?pid=' + pid + (start != null ? '&start=' + start : ''));
      $('#timeline-title').textContent = (t.comm || '?') + ' (pid ' + pid + ')';
      $('#timeline-about').textContent = (t.argv || t.filename || 'argv not seen (started before the agent)')
        + ' · cgroup ' + (t.cgroup || 'not seen') + ' · from ' + when(t.since_ns)
        + (t.exited ? ' to ' + when(t.until_ns) + (t.signal ? ', killed by signal ' + t.signal : ', exit code ' + t.exit_code) : ', running')
        + ' · page faults: ' + t.series.faults.rows.reduce((a, r) => a + (r[1] || 0), 0) + ' minor, '
        + t.series.faults.rows.reduce((a, r) => a + (r[2] || 0), 0) + ' major';
      const body = $('#timeline-table tbody');
      body.replaceChildren();
      // Every exec, exit, leak and remediation row; the 20 costliest slow calls.
      const slow = t.events.filter((r) => r.kind === 'slow');
      const worst = new Set(slow.slice().sort((a, b) => b.value - a.value).slice(0, 20));
      const shown = t.events.filter((r) => r.kind !== 'slow' || worst.has(r));
      if (slow.length > worst.size)
        $('#timeline-about').textContent += ' · ' + slow.length + ' slow calls, the ' + worst.size + ' costliest listed';
      for (const r of shown)
        row(body, [[when(r.timestamp), 'nowrap'], r.kind, r.what, [r.detail, 'clip', r.detail], [kindValue[r.kind](r), 'num nowrap']],
            'ev-' + r.kind + (r.what === 'exit' && (r.value || /signal/.test(r.detail)) ? ' bad' : ''));
      const el = $('#timeline-chart');
      const cpu = t.series.cpu, rss = t.series.rss;
      const xs = Array.from(new Set(cpu.rows.concat(rss.rows).map((r) => r[0]))).sort((a, b) => a - b);
      const at = (s) => { const m = new Map(s.rows.map((r) => [r[0], r[1]])); return xs.map((x) => (m.has(x) ? m.get(x) : null)); };
      const data = [xs.map((x) => x / 1e9), at(cpu), at(rss)];
      if (timelineChart) timelineChart.destroy();
      timelineChart = new uPlot({
        width: Math.max(300, el.clientWidth), height: 180, spanGaps: true,
        scales: { x: { time: true }, pct: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] }, bytes: {} },
        series: [{}, { label: 'CPU', stroke: COLORS[0], scale: 'pct', value: (u, v) => (v == null ? '–' : units.pct(v)) },
                 { label: 'RSS', stroke: COLORS[1], scale: 'bytes', points: { show: true, size: 6 }, value: (u, v) => (v == null ? '–' : units.bytes(v)) }],
        axes: [{}, { scale: 'pct', size: 64, values: (u, vals) => vals.map((v) => units.pct(v)) },
               { scale: 'bytes', side: 1, size: 84, values: axisValues('bytes'), grid: { show: false } }],
      }, data, el);
      window.ksight.timeline = t;
    } catch (e) {
      $('#timeline-about').textContent = 'no answer: ' + e.message;
    }
  }

  // ---- remediation: the mode, rules, and each decision's steps ----
  function remediationSummary(r) {
    const note = $('#remediation-note');
    if (!r || r.available === false) {
      note.textContent = 'Remediation is off: no policy (ksight agent --policy FILE).';
      return;
    }
    note.textContent = 'Mode ' + r.mode + ', ' + r.rules + (r.rules === 1 ? ' rule' : ' rules') + ' from ' + r.policy
      + ', a cycle every ' + human_s(r.interval_s) + ', at most ' + r.max_actions_per_hour + ' actions an hour; '
      + (r.pending && r.pending.length ? r.pending.length + ' pending' : 'none pending')
      + (r.cycles && r.cycles.length ? '; last cycle: ' + r.cycles[r.cycles.length - 1].findings + ' findings, '
         + r.cycles[r.cycles.length - 1].decisions + ' decisions' : '') + '.';
  }

  async function remediation() {
    try {
      const a = await getJSON('/api/signals?type=agent_actions&since=-' + state.range + 's&limit=1000');
      const byId = new Map();
      const starts = /^(executing|recommended|observed)$/;
      const all = [];
      for (const r of a.rows.slice().reverse()) {       // oldest first: steps in order
        // action_id counts from 1 in each agent run: a second start under
        // one id is a new decision.
        const had = byId.get(r.action_id);
        if (!had || (starts.test(r.status) && had.steps.some((s) => starts.test(s.status)))) {
          const d = { first: r, steps: [] };
          byId.set(r.action_id, d);
          all.push(d);
        }
        const d = byId.get(r.action_id);
        d.steps.push(r);
        if (r.projection) d.first.projection = d.first.projection || r.projection;
      }
      const decisions = all.reverse();
      seen.actions = decisions;
      const body = $('#remediation-table tbody');
      body.replaceChildren();
      for (const d of decisions.slice(0, 50)) {
        const f = d.first, last = d.steps[d.steps.length - 1];
        const tr = row(body, [[when(f.timestamp), 'nowrap'], f.rule, f.action + ' (' + f.mode + ')',
          [f.target_pid ? f.target_comm + ' (' + f.target_pid + ')' : 'host', 'clip', f.target_cgroup],
          [d.steps.map((s) => s.status).join(' → '), 'steps', d.steps.map((s) => when(s.timestamp) + ' ' + s.status + (s.result ? ': ' + s.result : '')).join('\n')],
          [f.projection, 'clip', f.explanation + '\n' + f.projection]],
          /failed|ineffective/.test(last.status) ? 'bad' : '');
        tr.dataset.actionId = f.action_id;
      }
      const d = decisions[0];
      strip('action', d ? when(d.first.timestamp) + ', ' + d.first.action + ' ' + (d.first.target_comm || 'host')
            + (d.first.target_pid ? ' (' + d.first.target_pid + ')' : '') + ': ' + d.steps.map((s) => s.status).join(' → ')
            : (seen.status && seen.status.remediation && seen.status.remediation.available !== false ? 'none in this range' : 'remediation off'), d ? 'warn' : '');
    } catch (e) {
      $('#remediation-note').textContent = 'no answer: ' + e.message;
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
        const parts = [r.oncpu_ms, r.runq_ms, r.blocked_ms];
        const total = parts.reduce((a, b) => a + (b || 0), 0);
        row(body, [r.syscall, [r.slow_calls, 'num'], [r.max_ms == null ? null : human_s(r.max_ms / 1e3), 'num'],
                   [total > 0 ? parts.map((p) => Math.round(100 * (p || 0) / total) + '%').join(' / ') : null, 'num']]);
      }
    } catch (e) { /* the chart above says whether the agent answers */ }
  }

  function panels() {
    anomalies();
    topProcesses();
    remediation();
    slowTable();
  }

  function setRange(range) {
    state.range = range;
    state.step = stepFor(range);
    state.generation++;
    state.busy = false;
    for (const b of document.querySelectorAll('#range button')) b.classList.toggle('on', Number(b.dataset.range) === range);
    refresh(true);
    panels();
  }

  for (const name in defs) makeChart(name);
  for (const b of document.querySelectorAll('#range button')) b.addEventListener('click', () => setRange(Number(b.dataset.range)));
  for (const b of document.querySelectorAll('#top-table button[data-sort]'))
    b.addEventListener('click', () => {
      topSort = b.dataset.sort;
      for (const o of document.querySelectorAll('#top-table button[data-sort]')) o.classList.toggle('on', o === b);
      topProcesses(true);
    });
  $('#top-table tbody').addEventListener('mouseenter', () => { topHover = true; });
  $('#top-table tbody').addEventListener('mouseleave', () => { topHover = false; });
  $('#timeline-close').addEventListener('click', () => { $('#timeline').hidden = true; });
  $('#mark-note').addEventListener('click', () => { $('#mark-note').hidden = true; });
  window.addEventListener('resize', () => {
    for (const name in charts) charts[name].u.setSize({ width: Math.max(300, charts[name].el.clientWidth), height: 220 });
  });
  const initial = Number((location.hash.match(/range=(\d+)/) || [])[1]) || 300;
  config().then(() => { health(); status(); });
  setRange(initial);
  setInterval(() => refresh(false), 1000);
  setInterval(health, 2000);
  setInterval(status, 2000);
  setInterval(config, 30000);
  setInterval(panels, 5000);
})();

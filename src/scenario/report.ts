/**
 * A scenario's output: report.json (the options, every run's series, phases,
 * faults, checker result and verdicts) and report.html, one self-contained
 * page that opens offline: uPlot's script and stylesheet are read from
 * node_modules and inlined, the data is embedded as JSON.
 *
 * The page shows the summary and verdicts as plain tables (they need no
 * script), the concurrency sweep when there is one (ops/s and latency against
 * clients), then for each run, side by side for each system: ops/s, errors
 * by type, p50/p99/p999, hit ratio and keys per node per second, with fault
 * windows shaded red and phases marked. formatSummary() is the terminal's
 * version of the summary. Rendering is pure; writeReport does the I/O.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ScenarioOptions } from './options.js';
import type { RunResult } from './run.js';
import type { ScenarioName, TargetResult } from './scenario.js';
import type { Verdict } from './verdicts.js';

export interface ScenarioReport {
  scenario: ScenarioName;
  version: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  options: ScenarioOptions;
  targets: TargetResult[];
  exitCode: number;
}

export interface SweepPoint {
  system: string;
  run: string;
  clients: number;
  opsPerSec: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  errors: number;
}

/** Concurrency sweep points: every phase that ran with a `clients` parameter, when a run has more than one level. */
export function sweepPoints(targets: readonly TargetResult[]): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (const t of targets) {
    for (const r of t.runs) {
      const phases = r.phases.filter((p) => typeof p.params['clients'] === 'number');
      if (phases.length < 2) continue;
      for (const p of phases) out.push({ system: t.system, run: r.name, clients: p.params['clients'] as number, opsPerSec: p.opsPerSec, p50: p.latency.p50, p99: p.latency.p99, p999: p.latency.p999, errors: p.errors });
    }
  }
  return out;
}

// ---- totals ----------------------------------------------------------------

export interface RunTotals {
  ops: number;
  errors: number;
  errorsByType: Record<string, number>;
  opsPerSec: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

/** Totals over a run's phases (latency: the worst phase's percentiles, so a sweep's top level shows). */
export function runTotals(r: RunResult): RunTotals {
  const t: RunTotals = { ops: 0, errors: 0, errorsByType: {}, opsPerSec: 0, p50: null, p99: null, p999: null, max: null };
  let ms = 0;
  const worst = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  for (const p of r.phases) {
    t.ops += p.ops;
    t.errors += p.errors;
    ms += p.end - p.start;
    for (const [k, v] of Object.entries(p.errorsByType)) t.errorsByType[k] = (t.errorsByType[k] ?? 0) + v;
    t.p50 = worst(t.p50, p.latency.p50);
    t.p99 = worst(t.p99, p.latency.p99);
    t.p999 = worst(t.p999, p.latency.p999);
    t.max = worst(t.max, p.latency.max);
  }
  t.opsPerSec = ms > 0 ? Math.round(t.ops / (ms / 1000)) : 0;
  return t;
}

const fmtMs = (v: number | null) => (v === null ? '-' : v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));
const fmtInt = (n: number) => n.toLocaleString('en-US');
const errorsText = (t: RunTotals) => {
  const types = Object.entries(t.errorsByType).sort((a, b) => b[1] - a[1]);
  return types.length === 0 ? '0' : `${fmtInt(t.errors)} (${types.slice(0, 3).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}${types.length > 3 ? ', ...' : ''})`;
};

/** Rows of the summary table: label, then one cell per (system, run). */
export function summaryRows(targets: readonly TargetResult[]): { columns: string[]; rows: Array<[string, ...string[]]> } {
  const cols = targets.flatMap((t) => t.runs.map((r) => ({ t, r, totals: runTotals(r) })));
  const row = (label: string, cell: (c: (typeof cols)[number]) => string): [string, ...string[]] => [label, ...cols.map(cell)];
  return {
    columns: cols.map((c) => `${c.t.system} / ${c.r.name}`),
    rows: [
      row('cluster', (c) => c.r.description),
      row('operations', (c) => fmtInt(c.totals.ops)),
      row('ops/s (mean over the load)', (c) => fmtInt(c.totals.opsPerSec)),
      row('errors', (c) => errorsText(c.totals)),
      row('latency p50 / p99 / p999 ms', (c) => `${fmtMs(c.totals.p50)} / ${fmtMs(c.totals.p99)} / ${fmtMs(c.totals.p999)}`),
      row('wrong values', (c) => fmtInt(c.r.check.wrongValues)),
      row('acknowledged writes lost', (c) => fmtInt(c.r.check.lostWrites)),
      row('stale reads', (c) => fmtInt(c.r.check.staleReads)),
      row('reads checked (final)', (c) => `${fmtInt(c.r.check.reads.checked)} (${fmtInt(c.r.check.reads.final)})`),
    ],
  };
}

const verdictLine = (v: Verdict) => `${v.status.padEnd(4)}  ${v.name}: ${v.value} (${v.bound})`;

/** The terminal summary: a table of figures, the sweep, the verdicts, the result. */
export function formatSummary(report: ScenarioReport, reportPath?: string): string {
  const lines: string[] = [];
  const { columns, rows } = summaryRows(report.targets);
  const table = [['', ...columns], ...rows];
  const widths = table[0]!.map((_, i) => Math.min(i === 0 ? 30 : 44, Math.max(...table.map((r) => r[i]!.length))));
  const cut = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w));
  lines.push(`ringcache scenario ${report.scenario}${report.options.quick ? ' (quick)' : ''}: seed ${report.options.seed}`);
  lines.push('');
  for (const r of table) lines.push('  ' + r.map((c, i) => cut(c, widths[i]!)).join('  ').trimEnd());
  const sweep = sweepPoints(report.targets);
  if (sweep.length > 0) {
    lines.push('', '  concurrency sweep: ops/s (p99 ms)');
    const series = [...new Set(sweep.map((p) => `${p.system} / ${p.run}`))];
    const levels = [...new Set(sweep.map((p) => p.clients))].sort((a, b) => a - b);
    lines.push('  ' + ['clients'.padEnd(8), ...series.map((s) => s.padEnd(28))].join('  ').trimEnd());
    for (const c of levels) {
      const cells = series.map((s) => {
        const p = sweep.find((x) => `${x.system} / ${x.run}` === s && x.clients === c);
        return (p === undefined ? '-' : `${fmtInt(p.opsPerSec)} (${fmtMs(p.p99)})`).padEnd(28);
      });
      lines.push('  ' + [String(c).padEnd(8), ...cells].join('  ').trimEnd());
    }
  }
  for (const t of report.targets) {
    for (const table of t.tables ?? []) {
      lines.push('', `${t.system}: ${table.title}`);
      const all = [table.columns, ...table.rows];
      const w = table.columns.map((_, i) => Math.min(48, Math.max(...all.map((r) => (r[i] ?? '').length))));
      for (const r of all) lines.push('  ' + r.map((c, i) => cut(c, w[i]!)).join('  ').trimEnd());
    }
  }
  for (const t of report.targets) {
    const gating = t.verdicts.some((v) => v.gating);
    lines.push('', `verdicts, ${t.system}${gating ? '' : ' (comparison: shown, not gating)'}: ${t.promise}`);
    for (const v of t.verdicts) lines.push(`  ${verdictLine(v)}`);
  }
  const notes = report.targets.flatMap((t) => t.runs.flatMap((r) => r.notes.map((n) => `${t.system}/${r.name}: ${n}`)));
  if (notes.length > 0) lines.push('', 'notes:', ...notes.map((n) => `  ${n}`));
  lines.push('', `result: ${report.exitCode === 0 ? 'PASS' : 'FAIL'} (exit ${report.exitCode})${reportPath !== undefined ? `; report: ${reportPath}` : ''}`);
  return lines.join('\n');
}

// ---- HTML ------------------------------------------------------------------

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe inside <script>: no "</" or U+2028/9 can end or break the script. */
export const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** What the charts need, per run (not the error times or checker examples). */
function chartData(report: ScenarioReport) {
  const runNames = [...new Set(report.targets.flatMap((t) => t.runs.map((r) => r.name)))];
  return {
    systems: report.targets.map((t) => t.system),
    runNames,
    runs: report.targets.flatMap((t) =>
      t.runs.map((r) => ({
        system: t.system,
        name: r.name,
        description: r.description,
        series: r.series.map((s) => ({ t: s.t, ops: s.ops, errors: s.errors, errorsByType: s.errorsByType, hits: s.hits, misses: s.misses, p50: s.latency.p50, p99: s.latency.p99, p999: s.latency.p999 })),
        keysPerNode: r.keysPerNode,
        faults: r.faults.filter((f) => f.start !== null).map((f) => ({ label: f.label, start: f.start! / 1000, end: (f.end ?? r.durationMs) / 1000 })),
        phases: r.phases.map((p) => ({ name: p.name, start: p.start / 1000, end: p.end / 1000 })),
      })),
    ),
    sweep: sweepPoints(report.targets),
  };
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; } h3 { font-size: 16px; margin: 20px 0 6px; }
.meta { color: #666; margin: 0 0 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; } th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.PASS { color: #fff; background: #2e7d32; font-weight: bold; } td.FAIL { color: #fff; background: #c62828; font-weight: bold; } td.INFO { background: #e3f2fd; font-weight: bold; }
.grid { display: grid; gap: 16px; } .charts { display: flex; flex-wrap: wrap; gap: 4px 16px; } .chart { flex: 1 1 480px; max-width: 780px; margin: 4px 0 14px; min-height: 40px; }
.legend-note { color: #666; font-size: 12px; }
`;

/** The page's own script: builds the charts from #report-data with uPlot. */
const CHART_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var COLORS = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#5d4037', '#ad1457', '#9e9d24', '#37474f'];
  function width(el) { return Math.max(320, Math.min(760, (el.clientWidth || 560))); }
  function bands(run) {
    return { hooks: { drawClear: [function (u) {
      var ctx = u.ctx, b = u.bbox;
      ctx.save(); ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
      run.phases.forEach(function (p, i) {
        var x0 = u.valToPos(p.start, 'x', true), x1 = u.valToPos(p.end, 'x', true);
        ctx.fillStyle = i % 2 ? 'rgba(21,101,192,0.05)' : 'rgba(21,101,192,0.02)'; ctx.fillRect(x0, b.top, x1 - x0, b.height);
      });
      run.faults.forEach(function (f) {
        var x0 = u.valToPos(f.start, 'x', true), x1 = Math.max(x0 + 2, u.valToPos(f.end, 'x', true));
        ctx.fillStyle = 'rgba(198,40,40,0.16)'; ctx.fillRect(x0, b.top, x1 - x0, b.height);
        ctx.fillStyle = 'rgba(198,40,40,0.9)'; ctx.font = (11 * devicePixelRatio) + 'px sans-serif'; ctx.fillText(f.label, x0 + 3, b.top + 12 * devicePixelRatio);
      });
      ctx.restore();
    }] } };
  }
  // Every second from the first to the last, with nulls where a run had nothing (between phases).
  function timeline(run) {
    var byT = {}; run.series.forEach(function (s) { byT[s.t] = s; });
    var ts = run.series.map(function (s) { return s.t; });
    var lo = Math.min.apply(null, ts), hi = Math.max.apply(null, ts), xs = [], rows = [];
    for (var t = lo; t <= hi && xs.length < 100000; t++) { xs.push(t); rows.push(byT[t] || null); }
    return { xs: xs, rows: rows };
  }
  function chart(el, title, run, xs, series, yOpts) {
    var opts = { title: title, width: width(el), height: 220, plugins: run ? [bands(run)] : [],
      scales: { x: { time: false }, y: yOpts || {} }, axes: [{ label: run ? 'seconds' : 'clients' }, { size: 60 }],
      series: [{ label: run ? 's' : 'clients' }].concat(series.map(function (s, i) { return { label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 1.5, spanGaps: false, points: { show: !run } }; })) };
    if (!run) { opts.scales.x = { time: false, distr: 3, log: 2 }; }
    return new uPlot(opts, [xs].concat(series.map(function (s) { return s.values; })), el);
  }
  function pick(rows, f) { return rows.map(function (r) { return r ? f(r) : null; }); }
  data.runs.forEach(function (run) {
    var box = document.getElementById('charts-' + run.system + '-' + run.name.replace(/[^a-z0-9]+/gi, '_'));
    if (!box || run.series.length === 0) return;
    var tl = timeline(run), add = function (kind) { var el = document.createElement('div'); el.className = 'chart'; el.dataset.chart = kind; box.appendChild(el); return el; };
    chart(add('ops'), 'operations per second', run, tl.xs, [
      { label: 'ok', values: pick(tl.rows, function (r) { return r.ops; }) },
      { label: 'errors', color: '#c62828', values: pick(tl.rows, function (r) { return r.errors; }) }]);
    var types = {}; run.series.forEach(function (s) { Object.keys(s.errorsByType).forEach(function (k) { types[k] = true; }); });
    var typeNames = Object.keys(types);
    chart(add('errors'), 'errors per second by type' + (typeNames.length ? '' : ' (none)'), run, tl.xs,
      (typeNames.length ? typeNames : ['errors']).map(function (k) { return { label: k, values: pick(tl.rows, function (r) { return r.errorsByType[k] || 0; }) }; }));
    chart(add('latency'), 'latency (ms, log scale)', run, tl.xs, [
      { label: 'p50', values: pick(tl.rows, function (r) { return r.p50; }) },
      { label: 'p99', values: pick(tl.rows, function (r) { return r.p99; }) },
      { label: 'p999', values: pick(tl.rows, function (r) { return r.p999; }) }], { distr: 3 });
    chart(add('hit-ratio'), 'hit ratio (reads that found a value)', run, tl.xs, [
      { label: 'hit ratio', values: pick(tl.rows, function (r) { return r.hits + r.misses > 0 ? r.hits / (r.hits + r.misses) : null; }) }], { range: [0, 1.05] });
    if (run.keysPerNode.length > 0) {
      var ids = Object.keys(run.keysPerNode[0].counts);
      chart(add('keys'), 'keys per node (DBSIZE)', run, run.keysPerNode.map(function (k) { return k.t; }),
        ids.map(function (id) { return { label: id, values: run.keysPerNode.map(function (k) { return k.counts[id]; }) }; }));
    }
  });
  if (data.sweep.length > 0) {
    var box = document.getElementById('sweep-charts');
    var keys = []; data.sweep.forEach(function (p) { var k = p.system + ' / ' + p.run; if (keys.indexOf(k) < 0) keys.push(k); });
    var levels = []; data.sweep.forEach(function (p) { if (levels.indexOf(p.clients) < 0) levels.push(p.clients); }); levels.sort(function (a, b) { return a - b; });
    var at = function (k, c, f) { var p = data.sweep.filter(function (x) { return x.system + ' / ' + x.run === k && x.clients === c; })[0]; return p ? f(p) : null; };
    var el1 = document.createElement('div'); el1.className = 'chart'; el1.dataset.chart = 'sweep-ops'; box.appendChild(el1);
    chart(el1, 'ops/s against concurrency', null, levels, keys.map(function (k) { return { label: k, values: levels.map(function (c) { return at(k, c, function (p) { return p.opsPerSec; }); }) }; }));
    var el2 = document.createElement('div'); el2.className = 'chart'; el2.dataset.chart = 'sweep-latency'; box.appendChild(el2);
    chart(el2, 'p99 latency (ms) against concurrency', null, levels, keys.map(function (k) { return { label: k + ' p99', values: levels.map(function (c) { return at(k, c, function (p) { return p.p99; }); }) }; }), { distr: 3 });
  }
  document.body.dataset.chartsReady = 'true';
})();
`;

export const chartBoxId = (system: string, run: string) => `charts-${system}-${run.replace(/[^a-z0-9]+/gi, '_')}`;

/** The report page (pure: uPlot's script and stylesheet are passed in). */
export function renderHtml(report: ScenarioReport, uplot: { js: string; css: string }): string {
  const e = escapeHtml;
  const { columns, rows } = summaryRows(report.targets);
  const o = report.options;
  const summary = `<table id="summary-table"><tr><th></th>${columns.map((c) => `<th>${e(c)}</th>`).join('')}</tr>${rows.map((r) => `<tr><th>${e(r[0])}</th>${r.slice(1).map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('')}</table>`;
  const verdicts = `<table id="verdicts-table"><tr><th>system</th><th>verdict</th><th>what</th><th>value</th><th>bound</th></tr>${report.targets
    .flatMap((t) => t.verdicts.map((v) => `<tr><td>${e(t.system)}${v.gating ? '' : ' (comparison)'}</td><td class="${v.status}">${v.status}</td><td>${e(v.name)}</td><td>${e(v.value)}</td><td>${e(v.bound)}</td></tr>`))
    .join('')}</table>`;
  const promises = report.targets.map((t) => `<p><b>${e(t.system)}</b>: ${e(t.promise)}</p>`).join('');
  const runNames = [...new Set(report.targets.flatMap((t) => t.runs.map((r) => r.name)))];
  const cols = report.targets.length;
  const runs = runNames
    .map((name) => `<h3>${e(name)}</h3><div class="grid" style="grid-template-columns: repeat(${cols}, minmax(320px, 1fr))">${report.targets
      .map((t) => {
        const r = t.runs.find((x) => x.name === name);
        return `<div><h4>${e(t.system)}: ${e(r?.description ?? 'not run')}</h4><div class="charts" id="${chartBoxId(t.system, name)}"></div></div>`;
      })
      .join('')}</div>`)
    .join('');
  const faultRows = report.targets.flatMap((t) => t.runs.flatMap((r) => r.faults.map((f) =>
    `<tr><td>${e(t.system)} / ${e(r.name)}</td><td>${e(f.label)}</td><td>${f.start === null ? 'never' : (f.start / 1000).toFixed(2)}</td><td>${f.end === null ? '-' : (f.end / 1000).toFixed(2)}</td><td>${e(f.error ?? '')}</td></tr>`)));
  const faults = faultRows.length === 0 ? '<p>No faults in this scenario.</p>' : `<table id="faults-table"><tr><th>run</th><th>fault</th><th>start (s)</th><th>undone (s)</th><th>error</th></tr>${faultRows.join('')}</table>`;
  const windowRows = report.targets.flatMap((t) => t.runs.flatMap((r) => r.check.windows.map((w) =>
    `<tr><td>${e(t.system)} / ${e(r.name)}</td><td>${e(w.label)}</td><td>${w.readsChecked}</td><td>${w.wrongValues}</td><td>${w.lostWrites}</td><td>${w.staleReads}</td></tr>`)));
  const mapRows = report.targets.flatMap((t) => t.runs.flatMap((r) => (r.membership?.history ?? []).map((v) =>
    `<tr><td>${e(t.system)} / ${e(r.name)}</td><td>${(v.at / 1000).toFixed(2)}</td><td>${v.epoch}</td><td>${e(v.nodes.map((n) => `${n.address} ${n.member} ${n.state} ${n.slots}`).join('; '))}</td><td>${e(v.moves.map((m) => `${m.from} -> ${m.to}: ${m.slots}`).join('; ') || '-')}</td></tr>`)));
  const mapFates = report.targets.flatMap((t) => t.runs.flatMap((r) => r.membership === undefined ? [] : [
    `<li>${e(t.system)} / ${e(r.name)}: migration ${e(r.membership.migration)}; slots kept ${r.membership.slotsByFate.kept}, handed over ${r.membership.slotsByFate['handed-over']}, reassigned from a dead node ${r.membership.slotsByFate.reassigned}; acknowledged writes lost on their keys ${r.membership.lostWritesBySlotFate.kept} / ${r.membership.lostWritesBySlotFate['handed-over']} / ${r.membership.lostWritesBySlotFate.reassigned}</li>`]));
  const clusterMap = mapRows.length === 0 ? '' : `<h2>Cluster map</h2><ul id="slot-fates">${mapFates.join('')}</ul><p class="legend-note">Every version of the map the runner saw (seconds on the run's clock; negative: while the cluster started). Nodes: address, member id, state, slots.</p><table id="map-table"><tr><th>run</th><th>seen (s)</th><th>epoch</th><th>nodes</th><th>moves</th></tr>${mapRows.join('')}</table>`;
  const figureTables = report.targets.flatMap((t) => (t.tables ?? []).map((table) =>
    `<h3>${e(t.system)}: ${e(table.title)}</h3><table class="figures"><tr>${table.columns.map((c) => `<th>${e(c)}</th>`).join('')}</tr>${table.rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('')}</table>`)).join('');
  const sweep = sweepPoints(report.targets).length > 0 ? `<h2>Concurrency sweep</h2><div class="charts" id="sweep-charts"></div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ringcache scenario ${e(report.scenario)}</title>
<style>${uplot.css}</style><style>${CSS}</style></head>
<body>
<h1>ringcache scenario: ${e(report.scenario)}${o.quick ? ' (quick)' : ''}</h1>
<p class="meta">${e(report.startedAt)} to ${e(report.finishedAt)} · ringcache ${e(report.version)} · seed ${o.seed} · ${e(report.command)}</p>
<p class="meta">workload: ${o.clients.join(',')} clients, pipeline ${o.pipeline}, read ratio ${o.readRatio}, ${o.keys} keys (${o.distribution}${o.distribution === 'zipf' ? ` ${o.zipfSkew}` : ''}), values ${o.valueSize.min}${o.valueSize.max !== o.valueSize.min ? `-${o.valueSize.max}` : ''} B, ${o.rate === null ? 'flat out' : `${o.rate} ops/s`}, client ${e(o.client)}, ${o.durationMs / 1000} s per load phase</p>
<h2>Summary</h2>${summary}
<h2>Verdicts</h2>${promises}${verdicts}
<p id="result">result: <b>${report.exitCode === 0 ? 'PASS' : 'FAIL'}</b> (exit ${report.exitCode})</p>
${figureTables === '' ? '' : `<h2>Figures</h2>${figureTables}`}
${sweep}
<h2>Runs</h2><p class="legend-note">Red bands: fault windows (from the fault to its undo). Blue bands: load phases. Seconds since each run's cluster started.</p>${runs}
<h2>Faults</h2>${faults}
${clusterMap}
<h2>Checker by fault window</h2><table id="checker-table"><tr><th>run</th><th>window</th><th>reads checked</th><th>wrong values</th><th>lost writes</th><th>stale reads</th></tr>${windowRows.join('')}</table>
<script>${uplot.js}</script>
<script type="application/json" id="report-data">${scriptJson(chartData(report))}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}

const require = createRequire(import.meta.url);

/** uPlot's minified script and stylesheet from node_modules. */
export async function loadUplot(): Promise<{ js: string; css: string }> {
  const dir = path.dirname(require.resolve('uplot/package.json'));
  const [js, css] = await Promise.all([readFile(path.join(dir, 'dist/uPlot.iife.min.js'), 'utf8'), readFile(path.join(dir, 'dist/uPlot.min.css'), 'utf8')]);
  return { js: js.replace(/<\/script/gi, '<\\/script'), css };
}

/** Writes report.json and report.html into dir; returns their paths. */
export async function writeReport(dir: string, report: ScenarioReport): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, 'report.json');
  const html = path.join(dir, 'report.html');
  await writeFile(json, JSON.stringify(report, null, 1));
  await writeFile(html, renderHtml(report, await loadUplot()));
  return { json, html };
}

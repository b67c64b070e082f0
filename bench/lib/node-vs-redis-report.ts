// Human-facing output of the node-vs-redis benchmark: progress lines, the
// terminal table and the SVG chart specification.
import type { Options, TestName } from './node-vs-redis-options.js';
import {
  MSET_REQUEST_FACTOR, targetFor, usPerRequest, type Case, type CaseSummary, type Run, type ServerName, type ServerSummary,
} from './node-vs-redis-model.js';
import type { BarChartSpec, BarGroup } from './svg-chart.js';
import { formatBytes, formatFixed, formatInt, formatTable } from './table.js';

export const COLORS: Record<ServerName, string> = { ringcache: '#2563eb', redis: '#dc382d', floor: '#9ca3af' };

/** Display order: pipeline, then test, then size (matches the chart panels). */
export function displayOrder(summaries: readonly CaseSummary[], opts?: Options): CaseSummary[] {
  const testIdx = (t: TestName): number => opts?.tests.indexOf(t) ?? 0;
  return [...summaries].sort(
    (a, b) => a.pipeline - b.pipeline || testIdx(a.test) - testIdx(b.test) || a.valueSize - b.valueSize,
  );
}

export function renderTable(summaries: readonly CaseSummary[]): string {
  const withFloor = withFloorIn(summaries);
  const rows = displayOrder(summaries).map((s) => [
    s.test.toUpperCase(),
    formatBytes(s.valueSize),
    String(s.pipeline),
    formatInt(s.ringcache.rps),
    formatInt(s.redis.rps),
    ratioText(s.ratio),
    `>=${s.target}x`,
    s.status,
    ...(withFloor ? [formatInt(s.floor?.rps ?? NaN), ratioText(s.floorRatio)] : []),
    formatFixed(s.ringcache.p50Ms, 3),
    formatFixed(s.redis.p50Ms, 3),
    formatFixed(s.ringcache.p99Ms, 3),
    formatFixed(s.redis.p99Ms, 3),
    formatFixed(s.ringcache.cpuUsPerRequest, 1),
    formatFixed(s.redis.cpuUsPerRequest, 1),
    ...(withFloor ? [formatFixed(s.floor?.cpuUsPerRequest ?? NaN, 1)] : []),
    ratioText(s.cpuRatio),
    ratioText(s.clientCpuRatio),
    spreadText(s),
  ]);
  return formatTable(
    [
      { header: 'test' }, { header: 'value', align: 'right' }, { header: 'P', align: 'right' },
      { header: 'ringcache ops/s', align: 'right' }, { header: 'redis ops/s', align: 'right' },
      { header: 'ratio', align: 'right' }, { header: 'target', align: 'right' }, { header: 'check' },
      ...(withFloor ? [{ header: 'floor ops/s', align: 'right' as const }, { header: 'rc/floor', align: 'right' as const }] : []),
      { header: 'rc p50 ms', align: 'right' }, { header: 'redis p50 ms', align: 'right' },
      { header: 'rc p99 ms', align: 'right' }, { header: 'redis p99 ms', align: 'right' },
      { header: 'rc cpu µs', align: 'right' }, { header: 'redis cpu µs', align: 'right' },
      ...(withFloor ? [{ header: 'floor cpu µs', align: 'right' as const }] : []),
      { header: 'cpu ratio', align: 'right' }, { header: 'bench cpu ratio', align: 'right' },
      { header: 'spread', align: 'right' },
    ],
    rows,
  );
}

/** Whether the Node floor ran (not with --no-floor): its columns and bars are shown only then. */
const withFloorIn = (summaries: readonly CaseSummary[]): boolean => summaries.some((s) => s.floor !== null);

const ratioText = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');

/** Worst (max-min)/median of ops/s over the repetitions of either server: how much to trust the ratio. */
function spreadText(s: CaseSummary): string {
  const worst = Math.max(s.ringcache.rpsSpread, s.redis.rpsSpread);
  return Number.isFinite(worst) ? `${Math.round(worst * 100)}%` : '-';
}

export function reportHeader(opts: Options, redisVersion: string, cpu: string, cpus: number): string {
  const lines = [
    `ringcache vs redis-server ${redisVersion}: median of ${opts.reps} run(s) per case, redis-benchmark -c ${opts.clients} -r ${opts.keyspace}, ` +
      `-n ${opts.requests} (P=1) / ${opts.requestsPipelined} (P>1), MSET x${MSET_REQUEST_FACTOR}${opts.quick ? ' [--quick: numbers are not meaningful]' : ''}`,
    `machine: ${cpu} x ${cpus}, node ${process.version}, maxmemory ${opts.maxmemory}`,
  ];
  if (opts.ringcacheCmd) lines.push(`NOTE: ringcache command overridden: ${opts.ringcacheCmd}`);
  return lines.join('\n');
}

export function progressLine(run: Run, c: Case, total: number, reps: number): string {
  const head = `[${String(run.order).padStart(String(total).length)}/${total}] ${c.test.toUpperCase().padEnd(4)} ${formatBytes(c.valueSize).padStart(6)} P=${String(c.pipeline).padEnd(3)} rep ${run.rep}/${reps} ${run.server.padEnd(9)}`;
  if (!run.result) return `${head} ERROR ${run.error ?? ''}`;
  const cpu = run.serverCpuMs === null ? '' : `  cpu ${formatFixed(usPerRequest(run.serverCpuMs, c), 1)} µs/op`;
  return `${head} ${formatInt(run.result.rps).padStart(11)} ops/s  p50 ${formatFixed(run.result.p50LatencyMs, 3)} ms  p99 ${formatFixed(run.result.p99LatencyMs, 3)} ms${cpu}`;
}

export function chartSpec(
  summaries: readonly CaseSummary[], opts: Options, redisVersion: string, cpu: string, cpus: number, when: Date,
): BarChartSpec {
  const ordered = displayOrder(summaries, opts);
  const withFloor = withFloorIn(summaries);
  const panels = opts.pipelines.map((p) => ({
    title: p === 1 ? 'No pipelining (-P 1)' : `Pipeline ${p} (-P ${p})`,
    note: `target: ringcache ≥ ${targetFor(p)}× redis`,
    groups: ordered
      .filter((s) => s.pipeline === p)
      .map((s): BarGroup => ({
        label: s.test.toUpperCase(),
        sublabel: formatBytes(s.valueSize),
        values: [nullIfNaN(s.ringcache.rps), nullIfNaN(s.redis.rps), ...(withFloor ? [nullIfNaN(s.floor?.rps ?? NaN)] : [])],
        ...(opts.reps > 1 ? { ranges: [rangeOf(s.ringcache), rangeOf(s.redis), ...(withFloor ? [s.floor ? rangeOf(s.floor) : null] : [])] } : {}),
        badge: Number.isFinite(s.ratio)
          ? { text: `${s.ratio.toFixed(2)}×`, tone: s.status === 'PASS' ? 'good' : 'bad' }
          : { text: 'error', tone: 'neutral' },
        ...(Number.isFinite(s.redis.rps) ? { marker: { value: s.target * s.redis.rps, seriesIndex: 0 } } : {}),
      })),
  }));
  const footnote = [
    `${cpu} × ${cpus} CPUs`,
    `Node ${process.version}`,
    `redis-server ${redisVersion}`,
    `maxmemory ${opts.maxmemory}`,
    `-n ${opts.requests} at P=1, ${opts.requestsPipelined} pipelined`,
    ...(opts.tests.includes('mset') ? [`one MSET op = 10 keys (MSET runs use ${MSET_REQUEST_FACTOR}× -n)`] : []),
    opts.ringcacheCmd ? `ringcache command overridden: ${opts.ringcacheCmd}` : 'ringcache: node bin/ringcache.js server',
    when.toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  ].join(' · ');
  return {
    title: `ringcache vs Redis ${redisVersion}: throughput${opts.quick ? ' (quick smoke run)' : ''}`,
    subtitle: `redis-benchmark, ${opts.clients} clients, ${opts.keyspace.toLocaleString('en-US')} random keys, median of ${opts.reps} run${opts.reps === 1 ? '' : 's'}${opts.reps > 1 ? ' (whiskers: min–max)' : ''} · higher is better · pill = ringcache/redis ratio`,
    yAxisLabel: 'operations per second',
    series: [
      { name: 'ringcache', color: COLORS.ringcache },
      { name: `redis ${redisVersion}`, color: COLORS.redis },
      ...(withFloor ? [{ name: 'Node floor (control: no commands, no store)', color: COLORS.floor }] : []),
    ],
    panels,
    markerLegend: 'target for ringcache',
    badgeLegend: [
      { text: 'ratio ≥ target', tone: 'good' },
      { text: 'ratio below target', tone: 'bad' },
    ],
    footnote,
  };
}

const rangeOf = (s: ServerSummary): [number, number] | null =>
  s.runs > 1 ? [s.rpsMin, s.rpsMax] : null;

const nullIfNaN = (n: number): number | null => (Number.isFinite(n) ? n : null);

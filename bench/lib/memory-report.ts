// Data model and human-facing output of the memory and pause benchmark
// (bench/memory.ts): per-run records, the side-by-side comparison, terminal
// tables and the SVG chart specification.
import type { BenchmarkRow } from './redis-benchmark.js';
import type { BulkLoadResult } from './bulk-load.js';
import type { ExitInfo } from './processes.js';
import type { MemoryOptions } from './memory-options.js';
import type { BarChartSpec, BarGroup } from './svg-chart.js';
import { formatFixed, formatInt, formatTable } from './table.js';

export const SERVERS = ['ringcache', 'redis'] as const;
export type ServerName = (typeof SERVERS)[number];
export const COLORS: Record<ServerName, string> = { ringcache: '#2563eb', redis: '#dc382d' };

/** Issue #3 targets. */
export const TARGET_USED_RATIO = 1.0;
export const TARGET_LOOP_DELAY_MAX_MS = 10;
/** The node samples event-loop delay with monitorEventLoopDelay({ resolution: 5 }): every sample includes these 5 ms. */
export const LOOP_DELAY_RESOLUTION_MS = 5;

export interface MemorySample {
  usedMemory: number;
  rss: number;
  /** All INFO memory fields, for later analysis (Redis reports dataset/overhead splits). */
  fields: Record<string, string>;
}

export interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

export interface PhaseDelays {
  idle: LoopDelay | null;
  loading: LoopDelay | null;
  serving: LoopDelay | null;
}

export interface ServingResult {
  argv: string[];
  durationMs: number;
  rows: BenchmarkRow[];
}

export type Phase = 'start' | 'idle' | 'baseline' | 'load' | 'check' | 'measure' | 'serve' | 'stop';

export interface MemoryRun {
  server: ServerName;
  keys: number;
  valueSize: number;
  order: number;
  startedAt: string;
  durationMs: number;
  argv: readonly string[];
  /** INFO server ringcache_version, or redis_version for redis-server. */
  version: string | null;
  /** NODE_OPTIONS given to ringcache, or null. */
  nodeOptions: string | null;
  /** 'failed' when any phase failed; figures measured before the failure are kept. */
  status: 'ok' | 'failed';
  failedPhase: Phase | null;
  error: string | null;
  baseline: MemorySample | null;
  loaded: MemorySample | null;
  dbsize: number | null;
  load: BulkLoadResult | null;
  /** (loaded - baseline) / keys. */
  perKey: { usedMemory: number; rss: number } | null;
  /** ringcache only (INFO stats eventloop_delay_*); null for redis or when not reached. */
  loopDelay: PhaseDelays | null;
  /**
   * ringcache only: the same figures from an idle process over the same
   * intervals (see stall-probe.ts), the machine's share of the delay.
   */
  machineDelay: PhaseDelays | null;
  serving: ServingResult | null;
  exit: ExitInfo | null;
  /** Tail of the server's output when the run failed. */
  outputTail: string | null;
}

export interface Comparison {
  keys: number;
  valueSize: number;
  ringcache: MemoryRun | null;
  redis: MemoryRun | null;
  usedRatio: number;
  rssRatio: number;
  /** ringcache used_memory per key <= TARGET_USED_RATIO x Redis's. */
  memoryCheck: 'PASS' | 'ABOVE' | 'FAILED';
  /** ringcache event-loop delay max (loading and, when run, serving) <= TARGET_LOOP_DELAY_MAX_MS. */
  pauseCheck: 'PASS' | 'ABOVE' | 'FAILED';
}

export function compare(runs: readonly MemoryRun[], keys: number, valueSize: number): Comparison {
  const find = (s: ServerName): MemoryRun | null =>
    runs.find((r) => r.server === s && r.keys === keys && r.valueSize === valueSize) ?? null;
  const rc = find('ringcache');
  const rd = find('redis');
  const ratio = (f: 'usedMemory' | 'rss'): number =>
    rc?.perKey && rd?.perKey && rd.perKey[f] > 0 ? rc.perKey[f] / rd.perKey[f] : NaN;
  const usedRatio = ratio('usedMemory');
  const delays = [rc?.loopDelay?.loading, rc?.loopDelay?.serving].filter((d): d is LoopDelay => !!d);
  const pauseFailed = !rc || rc.status === 'failed' || delays.length === 0;
  return {
    keys, valueSize, ringcache: rc, redis: rd, usedRatio, rssRatio: ratio('rss'),
    memoryCheck: Number.isFinite(usedRatio) ? (usedRatio <= TARGET_USED_RATIO ? 'PASS' : 'ABOVE') : 'FAILED',
    pauseCheck: pauseFailed ? 'FAILED' : delays.every((d) => d.maxMs <= TARGET_LOOP_DELAY_MAX_MS) ? 'PASS' : 'ABOVE',
  };
}

/** 1000000 -> "1M", 100000 -> "100k". */
export function keysLabel(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return String(n);
}

const num = (n: number | undefined, digits: number): string => (n === undefined ? '-' : formatFixed(n, digits));
const ratioText = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');
const delayText = (d: LoopDelay | null | undefined): string => (d ? `${d.p99Ms.toFixed(1)} / ${d.maxMs.toFixed(1)}` : '-');

export function renderMemoryTable(cs: readonly Comparison[]): string {
  return formatTable(
    [
      { header: 'keys', align: 'right' }, { header: 'value', align: 'right' },
      { header: 'rc used B/key', align: 'right' }, { header: 'redis used B/key', align: 'right' }, { header: 'used ratio', align: 'right' },
      { header: 'rc RSS B/key', align: 'right' }, { header: 'redis RSS B/key', align: 'right' }, { header: 'RSS ratio', align: 'right' },
      { header: `check (<=${TARGET_USED_RATIO.toFixed(1)}x)` },
      { header: 'rc load keys/s', align: 'right' }, { header: 'redis load keys/s', align: 'right' },
    ],
    cs.map((c) => [
      keysLabel(c.keys), `${c.valueSize} B`,
      num(c.ringcache?.perKey?.usedMemory, 1), num(c.redis?.perKey?.usedMemory, 1), ratioText(c.usedRatio),
      num(c.ringcache?.perKey?.rss, 1), num(c.redis?.perKey?.rss, 1), ratioText(c.rssRatio),
      c.memoryCheck,
      c.ringcache?.load ? formatInt(c.ringcache.load.keysPerSec) : '-', c.redis?.load ? formatInt(c.redis.load.keysPerSec) : '-',
    ]),
  );
}

export function renderPauseTable(cs: readonly Comparison[]): string {
  return formatTable(
    [
      { header: 'keys', align: 'right' }, { header: 'value', align: 'right' },
      { header: 'idle p99/max', align: 'right' }, { header: 'loading p99/max', align: 'right' },
      { header: 'serving p99/max', align: 'right' }, { header: `check (max<=${TARGET_LOOP_DELAY_MAX_MS})` },
      { header: 'idle process: loading', align: 'right' }, { header: 'serving', align: 'right' },
      { header: 'load reply gap rc', align: 'right' }, { header: 'redis', align: 'right' },
    ],
    cs.map((c) => [
      keysLabel(c.keys), `${c.valueSize} B`,
      delayText(c.ringcache?.loopDelay?.idle), delayText(c.ringcache?.loopDelay?.loading), delayText(c.ringcache?.loopDelay?.serving),
      c.pauseCheck,
      delayText(c.ringcache?.machineDelay?.loading), delayText(c.ringcache?.machineDelay?.serving),
      num(c.ringcache?.load?.maxReplyGapMs, 1), num(c.redis?.load?.maxReplyGapMs, 1),
    ]),
  );
}

export function renderServingTable(cs: readonly Comparison[]): string {
  const rows: string[][] = [];
  for (const c of cs) {
    if (!c.ringcache?.serving && !c.redis?.serving) continue;
    for (const test of ['get', 'set']) {
      const rc = c.ringcache?.serving?.rows.find((r) => r.test === test);
      const rd = c.redis?.serving?.rows.find((r) => r.test === test);
      rows.push([
        keysLabel(c.keys), `${c.valueSize} B`, test.toUpperCase(),
        rc ? formatInt(rc.rps) : '-', rd ? formatInt(rd.rps) : '-',
        num(rc?.p99LatencyMs, 3), num(rd?.p99LatencyMs, 3), num(rc?.maxLatencyMs, 3), num(rd?.maxLatencyMs, 3),
      ]);
    }
  }
  if (rows.length === 0) return '(no serving phase ran)';
  return formatTable(
    [
      { header: 'keys', align: 'right' }, { header: 'value', align: 'right' }, { header: 'test' },
      { header: 'rc ops/s', align: 'right' }, { header: 'redis ops/s', align: 'right' },
      { header: 'rc p99 ms', align: 'right' }, { header: 'redis p99 ms', align: 'right' },
      { header: 'rc max ms', align: 'right' }, { header: 'redis max ms', align: 'right' },
    ],
    rows,
  );
}

export function chartSpec(
  cs: readonly Comparison[], opts: MemoryOptions, redisVersion: string, cpu: string, cpus: number, heap: string, when: Date,
): BarChartSpec {
  const group = (f: 'usedMemory' | 'rss', ratio: number, target: boolean) => (c: Comparison): BarGroup => {
    const rc = c.ringcache?.perKey?.[f] ?? null;
    const rd = c.redis?.perKey?.[f] ?? null;
    return {
      label: `${keysLabel(c.keys)} keys`,
      sublabel: `${c.valueSize} B values`,
      values: [rc, rd],
      badge: Number.isFinite(ratio)
        ? { text: `${ratio.toFixed(2)}×`, tone: target ? (ratio <= TARGET_USED_RATIO ? 'good' : 'bad') : 'neutral' }
        : { text: c.ringcache?.status === 'failed' ? 'ringcache failed' : 'failed', tone: 'neutral' },
      ...(target && rd !== null ? { marker: { value: rd * TARGET_USED_RATIO, seriesIndex: 0 } } : {}),
    };
  };
  const failed = cs.flatMap((c) => [c.ringcache, c.redis]).filter((r): r is MemoryRun => r?.status === 'failed');
  return {
    title: `ringcache vs Redis ${redisVersion}: memory per key${opts.quick ? ' (quick smoke run)' : ''}`,
    subtitle:
      `16-byte keys, SET over one pipelined connection, fresh server per run, no maxmemory · ` +
      `bytes above the empty server ÷ keys · lower is better · pill = ringcache/Redis ratio`,
    yAxisLabel: 'bytes per key',
    series: [
      { name: 'ringcache', color: COLORS.ringcache },
      { name: `redis ${redisVersion}`, color: COLORS.redis },
    ],
    panels: [
      {
        title: 'used_memory per key',
        note: `target: ringcache ≤ ${TARGET_USED_RATIO.toFixed(1)}× Redis (as each server accounts it)`,
        groups: cs.map((c) => group('usedMemory', c.usedRatio, true)(c)),
      },
      { title: 'used_memory_rss per key', note: 'resident set size, measured by the OS', groups: cs.map((c) => group('rss', c.rssRatio, false)(c)) },
    ],
    markerLegend: 'target for ringcache',
    badgeLegend: [
      { text: 'ratio ≤ target', tone: 'good' },
      { text: 'ratio above target', tone: 'bad' },
    ],
    footnote: [
      `${cpu} × ${cpus} CPUs`,
      `Node ${process.version}`,
      `redis-server ${redisVersion}`,
      `ringcache heap: ${heap}`,
      opts.ringcacheCmd ? `ringcache command overridden: ${opts.ringcacheCmd}` : 'ringcache: node bin/ringcache.js server',
      ...(failed.length > 0 ? [`failed runs: ${failed.map((r) => `${r.server} ${keysLabel(r.keys)}×${r.valueSize} B (${r.failedPhase})`).join(', ')}`] : []),
      when.toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    ].join(' · '),
    formatValue: (v) => String(Math.round(v)),
  };
}

// The memory benchmark's data-type cases (issue #18), run by bench/memory.ts
// (--types alone, or after the string cases by default).
//
// Per type (hash, list, set, zset) and server, a fresh server (no maxmemory):
//   1. small: N keys key:%012d (16 B), each a 10-field hash / 10-element list /
//      10-member set / 10-member sorted set; fields and members 16 B, hash
//      values and list elements 32 B, scores small integers. Bytes per key =
//      (INFO memory after - empty server) / N.
//   2. large: one more key with 1M elements of the same shape, 100 elements
//      per command. Bytes per element = (after - after small) / 1M.
//   3. delete: DEL of the large key; the DEL's round trip (client side) and,
//      for ringcache, the event-loop delay from just before the DEL to 1 s
//      after it; used_memory after (it must come back to the small figure).
//   4. expire: the large key loaded again, PEXPIRE 100 ms, then 1.5 s for the
//      server's own expiry to remove it: event-loop delay over that time.
// used_memory is what each server accounts (Redis: malloc'ed bytes;
// ringcache: its slab plus its containers' heap estimates), RSS what the OS
// sees: both are printed.
import { encodeRequest } from '../../src/protocol/request-encoder.js';
import { infoNumber, readInfo } from './info.js';
import { freePort } from './ports.js';
import { RespError, sendCommand } from './resp.js';
import { formatArgv, startRedisServer, startRingcache, type ServerHandle } from './servers.js';
import type { StallProbe } from './stall-probe.js';
import { LOOP_DELAY_RESOLUTION_MS, TARGET_LOOP_DELAY_MAX_MS, TARGET_USED_RATIO, type LoopDelay } from './memory-report.js';
import { pipelineLoad, type CommandBatch } from './types-load.js';
import { formatFixed, formatTable } from './table.js';
import type { BarChartSpec } from './svg-chart.js';

export const TYPES = ['hash', 'list', 'set', 'zset'] as const;
export type TypeName = (typeof TYPES)[number];
type ServerName = 'ringcache' | 'redis';
const COMMAND_TIMEOUT_MS = 60_000;
const PER_COMMAND = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface TypesOptions {
  keys: number;
  elements: number;
  timeoutMs: number;
  ringcacheCmd: string | undefined;
  redisServerBin: string;
  nodeOptions: string | null;
}

export interface TypeRun {
  server: ServerName;
  type: TypeName;
  status: 'ok' | 'failed';
  error: string | null;
  argv: readonly string[];
  usedPerKey: number | null;
  rssPerKey: number | null;
  usedPerElement: number | null;
  rssPerElement: number | null;
  /** used_memory after the DEL minus after the small keys (accounting check). */
  usedAfterDeleteDelta: number | null;
  smallLoadMs: number | null;
  largeLoadMs: number | null;
  delRoundTripMs: number | null;
  /** ringcache only. */
  loopDelay: { loadingSmall: LoopDelay | null; loadingLarge: LoopDelay | null; delete: LoopDelay | null; expire: LoopDelay | null } | null;
  machineDelay: { loadingLarge: LoopDelay | null; delete: LoopDelay | null; expire: LoopDelay | null } | null;
  expiredInTime: boolean | null;
}

const pad = (i: number, width: number): string => String(i).padStart(width, '0');
const field = (i: number): string => `f:${pad(i, 14)}`; // 16 B
const member = (i: number): string => `m:${pad(i, 14)}`; // 16 B
const value = (i: number): string => `v:${pad(i, 30)}`; // 32 B

/** The command adding elements [from, to) of `type` to `key`. */
function addCommand(type: TypeName, key: string, from: number, to: number): Buffer {
  const args: string[] = [];
  switch (type) {
    case 'hash':
      args.push('HSET', key);
      for (let i = from; i < to; i++) args.push(field(i), value(i));
      break;
    case 'list':
      args.push('RPUSH', key);
      for (let i = from; i < to; i++) args.push(value(i));
      break;
    case 'set':
      args.push('SADD', key);
      for (let i = from; i < to; i++) args.push(member(i));
      break;
    case 'zset':
      args.push('ZADD', key);
      for (let i = from; i < to; i++) args.push(String(i), member(i));
      break;
  }
  return encodeRequest(args);
}

function* smallBatches(type: TypeName, keys: number): Generator<CommandBatch> {
  const per = 1000;
  for (let k = 0; k < keys; k += per) {
    const n = Math.min(per, keys - k);
    const parts: Buffer[] = [];
    for (let j = 0; j < n; j++) parts.push(addCommand(type, `key:${pad(k + j, 12)}`, 0, 10));
    yield { data: Buffer.concat(parts), commands: n };
  }
}

function* largeBatches(type: TypeName, key: string, elements: number): Generator<CommandBatch> {
  const perBatch = 50;
  for (let e = 0; e < elements; e += PER_COMMAND * perBatch) {
    const parts: Buffer[] = [];
    for (let j = 0; j < perBatch && e + j * PER_COMMAND < elements; j++) {
      const from = e + j * PER_COMMAND;
      parts.push(addCommand(type, key, from, Math.min(elements, from + PER_COMMAND)));
    }
    yield { data: Buffer.concat(parts), commands: parts.length };
  }
}

async function command(port: number, args: readonly (string | number)[]): Promise<unknown> {
  const reply = await sendCommand(port, args, COMMAND_TIMEOUT_MS);
  if (reply instanceof RespError) throw new Error(`${args.join(' ')}: ${reply.message}`);
  return reply;
}

async function memory(port: number): Promise<{ used: number; rss: number }> {
  const f = await readInfo(port, 'memory', COMMAND_TIMEOUT_MS);
  return { used: infoNumber(f, 'used_memory'), rss: infoNumber(f, 'used_memory_rss') };
}

async function loopDelay(port: number): Promise<LoopDelay> {
  const f = await readInfo(port, 'stats', COMMAND_TIMEOUT_MS);
  return { p99Ms: infoNumber(f, 'eventloop_delay_p99_ms'), maxMs: infoNumber(f, 'eventloop_delay_max_ms') };
}

export async function measureType(
  name: ServerName, type: TypeName, opts: TypesOptions, probe: StallProbe, log: (m: string) => void,
): Promise<TypeRun> {
  const rc = name === 'ringcache';
  const run: TypeRun = {
    server: name, type, status: 'ok', error: null, argv: [],
    usedPerKey: null, rssPerKey: null, usedPerElement: null, rssPerElement: null, usedAfterDeleteDelta: null,
    smallLoadMs: null, largeLoadMs: null, delRoundTripMs: null,
    loopDelay: rc ? { loadingSmall: null, loadingLarge: null, delete: null, expire: null } : null,
    machineDelay: rc ? { loadingLarge: null, delete: null, expire: null } : null,
    expiredInTime: null,
  };
  let server: ServerHandle | undefined;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`timed out after ${opts.timeoutMs / 1000} s`)), opts.timeoutMs);
  const reset = async (p: number): Promise<void> => {
    if (!rc) return;
    await command(p, ['CONFIG', 'RESETSTAT']);
    await probe.reset();
  };
  try {
    const port = await freePort();
    server = await (rc
      ? startRingcache({
          port, command: opts.ringcacheCmd,
          env: opts.nodeOptions ? { ...process.env, NODE_OPTIONS: [process.env['NODE_OPTIONS'], opts.nodeOptions].filter(Boolean).join(' ') } : undefined,
        })
      : startRedisServer({ port, bin: opts.redisServerBin }));
    run.argv = server.argv;
    log(`  up: ${formatArgv(server.argv)}`);
    void server.exited.then(() => abort.abort(new Error(`${name} exited during the run`)));
    const p = server.port;
    await sleep(500);
    const m0 = await memory(p);

    await reset(p);
    const small = await pipelineLoad(p, smallBatches(type, opts.keys), abort.signal);
    run.smallLoadMs = small.durationMs;
    if (rc) run.loopDelay!.loadingSmall = await loopDelay(p);
    const dbsize = await command(p, ['DBSIZE']);
    if (dbsize !== opts.keys) throw new Error(`DBSIZE ${JSON.stringify(dbsize)} after loading ${opts.keys} keys`);
    const m1 = await memory(p);
    run.usedPerKey = (m1.used - m0.used) / opts.keys;
    run.rssPerKey = (m1.rss - m0.rss) / opts.keys;

    const big = 'big:collection00'; // 16 B
    await reset(p);
    const large = await pipelineLoad(p, largeBatches(type, big, opts.elements), abort.signal);
    run.largeLoadMs = large.durationMs;
    if (rc) {
      run.loopDelay!.loadingLarge = await loopDelay(p);
      run.machineDelay!.loadingLarge = await probe.read();
    }
    const m2 = await memory(p);
    run.usedPerElement = (m2.used - m1.used) / opts.elements;
    run.rssPerElement = (m2.rss - m1.rss) / opts.elements;
    log(`    ${type}: loaded ${opts.keys} keys in ${(small.durationMs / 1000).toFixed(1)} s, ${opts.elements} elements in ${(large.durationMs / 1000).toFixed(1)} s`);

    await reset(p);
    const t0 = performance.now();
    const deleted = await command(p, ['DEL', big]);
    run.delRoundTripMs = performance.now() - t0;
    if (deleted !== 1) throw new Error(`DEL replied ${JSON.stringify(deleted)}`);
    await sleep(1000);
    if (rc) {
      run.loopDelay!.delete = await loopDelay(p);
      run.machineDelay!.delete = await probe.read();
    }
    run.usedAfterDeleteDelta = (await memory(p)).used - m1.used;

    await pipelineLoad(p, largeBatches(type, big, opts.elements), abort.signal);
    await sleep(200);
    await reset(p);
    await command(p, ['PEXPIRE', big, 100]);
    await sleep(1500);
    if (rc) {
      run.loopDelay!.expire = await loopDelay(p);
      run.machineDelay!.expire = await probe.read();
    }
    run.expiredInTime = (await command(p, ['DBSIZE'])) === opts.keys;
  } catch (err) {
    run.status = 'failed';
    run.error = (err as Error).message;
  } finally {
    clearTimeout(timer);
    if (server) await server.stop();
  }
  return run;
}

export interface TypeComparison {
  type: TypeName;
  ringcache: TypeRun | null;
  redis: TypeRun | null;
  keyRatio: number;
  elementRatio: number;
  keyRssRatio: number;
  elementRssRatio: number;
  memoryCheck: 'PASS' | 'ABOVE' | 'FAILED';
  pauseCheck: 'PASS' | 'ABOVE' | 'FAILED';
}

export function compareTypes(runs: readonly TypeRun[]): TypeComparison[] {
  return TYPES.map((type) => {
    const rc = runs.find((r) => r.type === type && r.server === 'ringcache') ?? null;
    const rd = runs.find((r) => r.type === type && r.server === 'redis') ?? null;
    const ratio = (f: 'usedPerKey' | 'usedPerElement' | 'rssPerKey' | 'rssPerElement'): number =>
      rc?.[f] != null && rd?.[f] != null && rd[f] > 0 ? rc[f] / rd[f] : NaN;
    const keyRatio = ratio('usedPerKey');
    const elementRatio = ratio('usedPerElement');
    const delays = rc?.loopDelay ? Object.values(rc.loopDelay) : [];
    return {
      type, ringcache: rc, redis: rd, keyRatio, elementRatio,
      keyRssRatio: ratio('rssPerKey'), elementRssRatio: ratio('rssPerElement'),
      memoryCheck: Number.isFinite(keyRatio) && Number.isFinite(elementRatio)
        ? (keyRatio <= TARGET_USED_RATIO && elementRatio <= TARGET_USED_RATIO ? 'PASS' : 'ABOVE') : 'FAILED',
      pauseCheck: !rc || rc.status === 'failed' || delays.some((d) => d === null)
        ? 'FAILED' : delays.every((d) => d!.maxMs <= TARGET_LOOP_DELAY_MAX_MS) ? 'PASS' : 'ABOVE',
    };
  });
}

const n1 = (n: number | null | undefined): string => (n == null || !Number.isFinite(n) ? '-' : formatFixed(n, 1));
const rt = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');
const dl = (d: LoopDelay | null | undefined): string => (d ? `${d.p99Ms.toFixed(1)} / ${d.maxMs.toFixed(1)}` : '-');

export function renderTypesReport(cs: readonly TypeComparison[], opts: TypesOptions): string {
  const mem = formatTable(
    [
      { header: 'type' }, { header: 'rc used B/key', align: 'right' }, { header: 'redis used B/key', align: 'right' }, { header: 'ratio', align: 'right' },
      { header: 'rc RSS B/key', align: 'right' }, { header: 'redis RSS B/key', align: 'right' }, { header: 'RSS ratio', align: 'right' },
      { header: 'rc used B/elem', align: 'right' }, { header: 'redis used B/elem', align: 'right' }, { header: 'ratio', align: 'right' },
      { header: 'rc RSS B/elem', align: 'right' }, { header: 'redis RSS B/elem', align: 'right' }, { header: 'RSS ratio', align: 'right' },
      { header: `check (<=${TARGET_USED_RATIO.toFixed(1)}x)` },
    ],
    cs.map((c) => [
      c.type, n1(c.ringcache?.usedPerKey), n1(c.redis?.usedPerKey), rt(c.keyRatio),
      n1(c.ringcache?.rssPerKey), n1(c.redis?.rssPerKey), rt(c.keyRssRatio),
      n1(c.ringcache?.usedPerElement), n1(c.redis?.usedPerElement), rt(c.elementRatio),
      n1(c.ringcache?.rssPerElement), n1(c.redis?.rssPerElement), rt(c.elementRssRatio),
      c.memoryCheck,
    ]),
  );
  const pause = formatTable(
    [
      { header: 'type' }, { header: 'loading small p99/max', align: 'right' }, { header: 'loading 1M p99/max', align: 'right' },
      { header: 'DEL p99/max', align: 'right' }, { header: 'expire p99/max', align: 'right' }, { header: `check (max<=${TARGET_LOOP_DELAY_MAX_MS})` },
      { header: 'idle process: 1M / DEL / expire max', align: 'right' },
      { header: 'DEL round trip ms rc', align: 'right' }, { header: 'redis', align: 'right' },
      { header: 'used after DEL - before, B: rc', align: 'right' }, { header: 'redis', align: 'right' },
    ],
    cs.map((c) => {
      const d = c.ringcache?.loopDelay;
      const m = c.ringcache?.machineDelay;
      return [
        c.type, dl(d?.loadingSmall), dl(d?.loadingLarge), dl(d?.delete), dl(d?.expire), c.pauseCheck,
        m ? [m.loadingLarge, m.delete, m.expire].map((x) => (x ? x.maxMs.toFixed(1) : '-')).join(' / ') : '-',
        n1(c.ringcache?.delRoundTripMs), n1(c.redis?.delRoundTripMs),
        String(c.ringcache?.usedAfterDeleteDelta ?? '-'), String(c.redis?.usedAfterDeleteDelta ?? '-'),
      ];
    }),
  );
  const failed = cs.flatMap((c) => [c.ringcache, c.redis]).filter((r): r is TypeRun => r?.status === 'failed');
  return (
    `data types: ${opts.keys.toLocaleString('en-US')} keys of 10 elements (16 B keys, fields and members; 32 B hash values and list elements), ` +
    `then one key of ${opts.elements.toLocaleString('en-US')} elements; fresh server per type; ratio = ringcache/Redis\n\n${mem}\n\n` +
    `ringcache event-loop delay, ms (INFO stats; ${LOOP_DELAY_RESOLUTION_MS} ms sampling taken off): loading, DEL of the large key (DEL to 1 s after), ` +
    `its expiry (PEXPIRE 100 to 1.5 s after)\n${pause}\n` +
    `targets (issue #18, informational): used_memory per key and per element <= ${TARGET_USED_RATIO.toFixed(1)}x Redis -> ` +
    `${cs.filter((c) => c.memoryCheck === 'PASS').length} of ${cs.length} PASS; event-loop delay max <= ${TARGET_LOOP_DELAY_MAX_MS} ms -> ` +
    `${cs.filter((c) => c.pauseCheck === 'PASS').length} of ${cs.length} PASS\n` +
    failed.map((r) => `FAILED: ${r.server} ${r.type}: ${r.error}\n`).join('')
  );
}

export function typesChartSpec(cs: readonly TypeComparison[], opts: TypesOptions, redisVersion: string, footnote: string): BarChartSpec {
  const badge = (r: number): { text: string; tone: 'good' | 'bad' | 'neutral' } =>
    Number.isFinite(r) ? { text: `${r.toFixed(2)}×`, tone: r <= TARGET_USED_RATIO ? 'good' : 'bad' } : { text: 'failed', tone: 'neutral' };
  return {
    title: `ringcache vs Redis ${redisVersion}: memory of hashes, lists, sets, sorted sets`,
    subtitle: `used_memory above the empty server · lower is better · pill = ringcache/Redis ratio (target ≤ ${TARGET_USED_RATIO.toFixed(1)}×)`,
    yAxisLabel: 'bytes',
    series: [
      { name: 'ringcache', color: '#2563eb' },
      { name: `redis ${redisVersion}`, color: '#dc382d' },
    ],
    panels: [
      {
        title: `per key: ${opts.keys.toLocaleString('en-US')} keys of 10 elements`,
        groups: cs.map((c) => ({ label: c.type, values: [c.ringcache?.usedPerKey ?? null, c.redis?.usedPerKey ?? null], badge: badge(c.keyRatio) })),
      },
      {
        title: `per element: one key of ${opts.elements.toLocaleString('en-US')} elements`,
        groups: cs.map((c) => ({ label: c.type, values: [c.ringcache?.usedPerElement ?? null, c.redis?.usedPerElement ?? null], badge: badge(c.elementRatio) })),
      },
    ],
    badgeLegend: [
      { text: 'ratio ≤ target', tone: 'good' },
      { text: 'ratio above target', tone: 'bad' },
    ],
    footnote,
    formatValue: (v) => String(Math.round(v)),
  };
}

/**
 * What a replica costs: redis-benchmark SET and GET against a primary with
 * no replica, with one (async), and with one in sync mode, side by side with
 * redis-server alone and redis-server with one replica (`--replicaof`), in
 * one run; and the replica's lag sampled from INFO replication during the
 * SET runs. Writes bench/results/replication-latest.{json,svg}.
 *
 *   npm run bench:replication [-- --quick] [-- --rounds N]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  freePort, installCleanupHandlers, machineInfo, median, sendCommand, spawnTracked, startRedisServer, stopProcess, writeBarChartSvg, formatTable,
} from './lib/index.js';
import { parseInfo } from './lib/info.js';
import { processCpuNs } from './lib/process-cpu.js';
import { jsonNumbers } from './lib/output.js';
import { runRedisBenchmark } from './lib/redis-benchmark.js';
import { REPO_ROOT } from './lib/servers.js';

installCleanupHandlers();
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const ROUNDS = Number(argv[argv.indexOf('--rounds') + 1] ?? 0) || (QUICK ? 1 : 3);
const REQUESTS = QUICK ? 50_000 : 200_000;
const CLIENTS = 50;
const PIPELINES = [1, 16];
const log = (s: string) => process.stderr.write(`[bench:replication] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  name: string;
  /** Where redis-benchmark sends (the primary). */
  port: number;
  /** Reads the replica's lag: ms (ours) or undefined, and bytes behind. */
  lag(): Promise<{ ms: number | undefined; bytes: number } | undefined>;
  stop(): Promise<void>;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const info = async (port: number) => parseInfo(String(await sendCommand(port, ['INFO', 'replication'])));

/** Our lag: slave0's lag_ms and offset behind, as the primary sees them. */
function slaveLag(fields: Record<string, string>): { ms: number | undefined; bytes: number } | undefined {
  const s = fields.slave0;
  if (s === undefined) return undefined;
  const kv = Object.fromEntries(s.split(',').map((p) => p.split('=') as [string, string]));
  const master = Number(fields.master_repl_offset);
  return { ms: kv.lag_ms === undefined ? undefined : Number(kv.lag_ms), bytes: Math.max(0, master - Number(kv.offset)) };
}

async function ringcache(name: string, replicas: number, consistency: 'async' | 'sync'): Promise<Target> {
  const base = await freePort();
  const args = ['dev', '--nodes', String(replicas + 1), '--base-port', String(base), '--coordinator-port', String(await freePort()), ...(replicas > 0 ? ['--replicas', String(replicas), '--consistency', consistency] : [])];
  const dev = spawnTracked([process.execPath, path.join(REPO_ROOT, 'bin/ringcache.js'), ...args], { cwd: REPO_ROOT });
  await waitFor('ringcache dev ready', async () => /nodes ready/.test(dev.stdout()), 30_000);
  const ports = Array.from({ length: replicas + 1 }, (_, i) => base + i);
  let primary = base;
  await waitFor('the primary and an in-sync replica', async () => {
    for (const p of ports) {
      const f = await info(p);
      if (f.role === 'master') primary = p;
    }
    const f = await info(primary);
    return replicas === 0 || (f.slave0 ?? '').includes('state=online');
  });
  return {
    name,
    port: primary,
    lag: async () => slaveLag(await info(primary)),
    stop: async () => {
      await stopProcess(dev, 15_000);
    },
  };
}

async function redis(name: string, withReplica: boolean): Promise<Target> {
  // Its replication writes an RDB file: into the temp dir, not the repository.
  const dir = ['--dir', os.tmpdir()];
  const primary = await startRedisServer({ extraArgs: dir });
  const replica = withReplica ? await startRedisServer({ extraArgs: [...dir, '--replicaof', '127.0.0.1', String(primary.port)] }) : undefined;
  if (replica) await waitFor('the Redis replica in sync', async () => (await info(replica.port)).master_link_status === 'up');
  return {
    name,
    port: primary.port,
    lag: async () => slaveLag(await info(primary.port)),
    stop: async () => {
      await replica?.stop();
      await primary.stop();
    },
  };
}

/** cpuUsPerOp: the primary process's CPU per request, which the machine's noise (2 shared cores) moves much less than ops/s. */
interface Sample { target: string; pipeline: number; test: string; rps: number; p50Ms: number; p99Ms: number; cpuUsPerOp: number | null }
const samples: Sample[] = [];
const lags: Record<string, { ms: number[]; bytes: number[] }> = {};

async function measure(t: Target): Promise<void> {
  for (const pipeline of PIPELINES) {
    for (const test of ['set', 'get']) {
      const sampled: { ms: number[]; bytes: number[] } = (lags[t.name] ??= { ms: [], bytes: [] });
      let sampling = test === 'set';
      const sampler = (async () => {
        while (sampling) {
          const l = await t.lag().catch(() => undefined);
          if (l !== undefined) {
            if (l.ms !== undefined) sampled.ms.push(l.ms);
            sampled.bytes.push(l.bytes);
          }
          await sleep(50);
        }
      })();
      const pid = Number(parseInfo(String(await sendCommand(t.port, ['INFO', 'server']))).process_id);
      const cpuBefore = processCpuNs(pid);
      const r = await runRedisBenchmark({ port: t.port, tests: [test], clients: CLIENTS, requests: REQUESTS, pipeline, dataSize: 64, keyspace: 100_000, timeoutMs: 300_000 });
      sampling = false;
      await sampler;
      const row = r.rows[0]!;
      const cpuAfter = processCpuNs(pid);
      const cpuUsPerOp = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / 1000 / REQUESTS;
      samples.push({ target: t.name, pipeline, test, rps: row.rps, p50Ms: row.p50LatencyMs, p99Ms: row.p99LatencyMs, cpuUsPerOp });
      log(`${t.name} P=${pipeline} ${test}: ${Math.round(row.rps)} ops/s, primary ${cpuUsPerOp?.toFixed(2) ?? '?'} µs CPU/op`);
    }
  }
}

const TARGETS: Array<[string, () => Promise<Target>]> = [
  ['redis', () => redis('redis', false)],
  ['redis + replica', () => redis('redis + replica', true)],
  ['ringcache', () => ringcache('ringcache', 0, 'async')],
  ['ringcache + replica', () => ringcache('ringcache + replica', 1, 'async')],
  ['ringcache + replica (sync)', () => ringcache('ringcache + replica (sync)', 1, 'sync')],
];

for (let round = 0; round < ROUNDS; round++) {
  // Interleaved per round, so the machine's noise falls on every target alike.
  for (const [name, start] of TARGETS) {
    log(`round ${round + 1}/${ROUNDS}: ${name}`);
    const t = await start();
    try {
      await measure(t);
    } finally {
      await t.stop();
    }
  }
}

const med = (target: string, pipeline: number, test: string) => median(samples.filter((s) => s.target === target && s.pipeline === pipeline && s.test === test).map((s) => s.rps));
const cpu = (target: string, pipeline: number, test: string) => median(samples.filter((s) => s.target === target && s.pipeline === pipeline && s.test === test && s.cpuUsPerOp !== null).map((s) => s.cpuUsPerOp!));
const p99 = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!);
const rows: string[][] = [];
const cpuRows: string[][] = [];
const ratios: Record<string, number> = {};
for (const pipeline of PIPELINES) {
  for (const test of ['set', 'get']) {
    const ours = med('ringcache', pipeline, test);
    const ourRepl = med('ringcache + replica', pipeline, test);
    const ourSync = med('ringcache + replica (sync)', pipeline, test);
    const theirs = med('redis', pipeline, test);
    const theirRepl = med('redis + replica', pipeline, test);
    ratios[`${test}_p${pipeline}_replica_vs_none`] = ourRepl / ours;
    ratios[`${test}_p${pipeline}_sync_vs_none`] = ourSync / ours;
    ratios[`${test}_p${pipeline}_redis_replica_vs_none`] = theirRepl / theirs;
    ratios[`${test}_p${pipeline}_primary_cpu_replica_vs_none`] = cpu('ringcache + replica', pipeline, test) / cpu('ringcache', pipeline, test);
    cpuRows.push([`${test.toUpperCase()} P=${pipeline}`, ...TARGETS.map(([n]) => cpu(n, pipeline, test).toFixed(2)), ratios[`${test}_p${pipeline}_primary_cpu_replica_vs_none`]!.toFixed(2)]);
    rows.push([`${test.toUpperCase()} P=${pipeline}`, String(Math.round(ours)), String(Math.round(ourRepl)), (ourRepl / ours).toFixed(2), String(Math.round(ourSync)), (ourSync / ours).toFixed(2), String(Math.round(theirs)), String(Math.round(theirRepl)), (theirRepl / theirs).toFixed(2)]);
  }
}
const lagRows = Object.entries(lags).filter(([n]) => n.includes('replica')).map(([n, l]) => [n, l.ms.length > 0 ? String(p99(l.ms)) : 'n/a (Redis reports whole seconds)', String(p99(l.bytes)), String(l.bytes.length)]);
const cols = (names: string[]) => names.map((header, i) => ({ header, align: i === 0 ? ('left' as const) : ('right' as const) }));
const text = [
  `redis-benchmark -c ${CLIENTS} -n ${REQUESTS} -d 64 -r 100000, median of ${ROUNDS} round(s); ops/s`,
  formatTable(cols(['test', 'ringcache', '+replica', 'ratio', '+replica sync', 'ratio', 'redis', '+replica', 'ratio']), rows),
  '',
  'the primary process\'s CPU per request (µs), which the shared machine\'s noise moves less than ops/s',
  formatTable(cols(['test', ...TARGETS.map(([n]) => n), 'ringcache +replica / none']), cpuRows),
  '',
  'replica lag during the SET runs (INFO replication of the primary every 50 ms): p99',
  formatTable(cols(['target', 'lag ms p99', 'bytes behind p99', 'samples']), lagRows),
].join('\n');
process.stdout.write(text + '\n');

const dir = path.join(REPO_ROOT, 'bench/results');
await mkdir(dir, { recursive: true });
const json = path.join(dir, 'replication-latest.json');
await writeFile(json, JSON.stringify({ at: new Date().toISOString(), machine: machineInfo(), rounds: ROUNDS, requests: REQUESTS, clients: CLIENTS, ratios, samples, lagP99: Object.fromEntries(Object.entries(lags).map(([n, l]) => [n, { ms: p99(l.ms), bytes: p99(l.bytes) }])), printed: text }, jsonNumbers, 2) + '\n');
const svg = path.join(dir, 'replication-latest.svg');
await writeBarChartSvg(svg, {
  title: 'What one replica costs',
  subtitle: `redis-benchmark -c ${CLIENTS} -d 64, ops/s, median of ${ROUNDS} round(s) · ${new Date().toISOString().slice(0, 16)}Z`,
  yAxisLabel: 'ops/s',
  series: [
    { name: 'ringcache', color: '#2563eb' },
    { name: 'ringcache + replica', color: '#60a5fa' },
    { name: 'ringcache + replica (sync)', color: '#93c5fd' },
    { name: 'redis', color: '#dc2626' },
    { name: 'redis + replica', color: '#f87171' },
  ],
  panels: PIPELINES.map((pipeline) => ({
    title: `pipeline ${pipeline}`,
    groups: ['set', 'get'].map((test) => {
      const r = ratios[`${test}_p${pipeline}_replica_vs_none`]!;
      return {
        label: test.toUpperCase(),
        values: TARGETS.map(([n]) => med(n, pipeline, test)),
        badge: { text: `replica ${r.toFixed(2)}×`, tone: r >= 0.8 ? ('good' as const) : ('bad' as const) },
      };
    }),
  })),
  footnote: `${machineInfo().cpuCount} CPUs shared by servers and redis-benchmark · target: one replica >= 0.8x of none`,
});
log(`wrote ${path.relative(process.cwd(), json)} and ${path.relative(process.cwd(), svg)}`);
process.exit(0);

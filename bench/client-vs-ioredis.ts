/**
 * The ringcache client against ioredis Cluster (a report, not a test): one
 * 3-node ringcache cluster, GET and SET of 32-byte values over 10 000 keys, 50
 * concurrent callers in this process for a fixed duration per run. The clients
 * alternate within every round; medians over rounds are reported. ioredis runs
 * with its defaults and, as a second reference, with enableAutoPipelining (the
 * ringcache client always pipelines). Servers, clients and this load generator
 * share the machine's cores.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster } from 'ioredis';
import { RingCache } from '../src/index.js';
import {
  freePort, installCleanupHandlers, LOOPBACK, machineInfo, median, REPO_ROOT, startServerProcess, writeBarChartSvg, type ServerHandle,
} from './lib/index.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, seconds: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? (values.quick ? 1 : 3));
const SECONDS = Number(values.seconds ?? (values.quick ? 1 : 3));
const CALLERS = 50;
const KEYS = 10_000;
const VALUE = 'x'.repeat(32);
const OPS = ['GET', 'SET'] as const;
type Op = (typeof OPS)[number];

/** The operations a client under test offers. */
interface Driver {
  name: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  close(): Promise<void>;
}

interface Run {
  client: string;
  op: Op;
  round: number;
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const CLI = path.join(REPO_ROOT, 'bin', 'ringcache.js');

async function startNodes(count: number): Promise<ServerHandle[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freePort(ports));
  const peers = ports.map((p) => `${LOOPBACK}:${p}`).join(',');
  return Promise.all(ports.map((port) => startServerProcess(`ringcache:${port}`, [process.execPath, CLI, 'server', '--port', String(port), '--bind', LOOPBACK, '--peers', peers], port, 15_000)));
}

async function ringcacheDriver(seed: string): Promise<Driver> {
  const c = new RingCache({ seeds: [seed] });
  await c.connect();
  return { name: 'ringcache client', get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.close() };
}

async function ioredisDriver(port: number, autoPipelining: boolean): Promise<Driver> {
  const c = new Cluster([{ host: LOOPBACK, port }], { enableAutoPipelining: autoPipelining, enableReadyCheck: true });
  await new Promise<void>((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('error', reject);
  });
  return {
    name: autoPipelining ? 'ioredis (autopipelining)' : 'ioredis',
    get: (k) => c.get(k),
    set: (k, v) => c.set(k, v),
    close: async () => {
      await c.quit();
    },
  };
}

/** Percentile of sorted samples. */
const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function measure(d: Driver, op: Op, round: number): Promise<Run> {
  const deadline = performance.now() + (round === 0 ? Math.min(SECONDS, 2) : SECONDS) * 1000;
  let lat = new Float64Array(1 << 16);
  let n = 0;
  let errors = 0;
  let next = 0;
  const caller = async () => {
    while (performance.now() < deadline) {
      const key = `bench:${next++ % KEYS}`;
      const t0 = performance.now();
      try {
        await (op === 'GET' ? d.get(key) : d.set(key, VALUE));
      } catch {
        errors++;
      }
      if (n === lat.length) {
        const grown = new Float64Array(lat.length * 2);
        grown.set(lat);
        lat = grown;
      }
      lat[n++] = performance.now() - t0;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const elapsed = (performance.now() - start) / 1000;
  const sorted = lat.subarray(0, n).sort();
  return { client: d.name, op, round, ops: n, opsPerSec: n / elapsed, p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99), errors };
}

installCleanupHandlers();
const nodes = await startNodes(3);
const seed = `${LOOPBACK}:${nodes[0]!.port}`;
const runs: Run[] = [];
const drivers: Driver[] = [];
try {
  drivers.push(await ringcacheDriver(seed), await ioredisDriver(nodes[0]!.port, false), await ioredisDriver(nodes[0]!.port, true));
  // Populate every key once so GETs hit, and warm up each client (JIT, connections).
  for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => drivers[0]!.set(`bench:${i + j}`, VALUE)));
  // Warm-up: one discarded run per client and operation (the JIT, and ioredis's own start-up, need a few seconds).
  for (const d of drivers) for (const op of OPS) await measure(d, op, 0);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const op of OPS) {
      // Rotate the order each round so no client always runs first.
      const order = drivers.map((_, i) => drivers[(i + round) % drivers.length]!);
      for (const d of order) {
        const r = await measure(d, op, round);
        runs.push(r);
        process.stderr.write(`round ${round}/${ROUNDS} ${op} ${d.name}: ${Math.round(r.opsPerSec)} ops/s, p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms${r.errors ? `, ${r.errors} errors` : ''}\n`);
      }
    }
  }
} finally {
  await Promise.all(drivers.map((d) => d.close().catch(() => {})));
  await Promise.all(nodes.map((n) => n.stop()));
}

const names = [...new Set(runs.map((r) => r.client))];
const rows = OPS.flatMap((op) =>
  names.map((client) => {
    const mine = runs.filter((r) => r.op === op && r.client === client);
    return { op, client, opsPerSec: median(mine.map((r) => r.opsPerSec)), p50Ms: median(mine.map((r) => r.p50Ms)), p99Ms: median(mine.map((r) => r.p99Ms)), errors: mine.reduce((s, r) => s + r.errors, 0) };
  }),
);
const of = (op: Op, client: string) => rows.find((r) => r.op === op && r.client === client)!;

console.log(`client vs ioredis Cluster: 3 ringcache nodes, ${CALLERS} concurrent callers, ${SECONDS} s per run, 32 B values over ${KEYS} keys, median of ${ROUNDS} round(s); ${machineInfo().cpuCount} CPUs shared by nodes and clients`);
console.log('op   client                      ops/s      p50 ms   p99 ms   vs ioredis   vs ioredis (autopipelining)');
for (const r of rows) {
  const base = of(r.op, 'ioredis').opsPerSec;
  const auto = of(r.op, 'ioredis (autopipelining)').opsPerSec;
  console.log(
    `${r.op.padEnd(4)} ${r.client.padEnd(26)} ${Math.round(r.opsPerSec).toLocaleString('en').padStart(9)}  ${r.p50Ms.toFixed(3).padStart(7)}  ${r.p99Ms.toFixed(3).padStart(7)}   ${(r.opsPerSec / base).toFixed(2).padStart(8)}x   ${(r.opsPerSec / auto).toFixed(2).padStart(8)}x${r.errors ? `  (${r.errors} errors)` : ''}`,
  );
}

const dir = path.join(REPO_ROOT, 'bench', 'results');
fs.mkdirSync(dir, { recursive: true });
const json = path.join(dir, 'client-vs-ioredis-latest.json');
fs.writeFileSync(json, JSON.stringify({ when: new Date().toISOString(), machine: machineInfo(), callers: CALLERS, seconds: SECONDS, rounds: ROUNDS, keys: KEYS, valueBytes: VALUE.length, rows, runs }, null, 2));
const svg = path.join(dir, 'client-vs-ioredis-latest.svg');
const colors = ['#2563eb', '#dc382d', '#f59e0b'];
await writeBarChartSvg(svg, {
  title: 'ringcache client vs ioredis Cluster (3 ringcache nodes)',
  subtitle: `${CALLERS} concurrent callers, 32 B values, ${SECONDS} s per run, median of ${ROUNDS} round(s); nodes and clients share one machine`,
  yAxisLabel: 'ops/s',
  series: names.map((name, i) => ({ name, color: colors[i % colors.length]! })),
  panels: [
    {
      title: 'throughput',
      groups: OPS.map((op) => {
        const ratio = of(op, 'ringcache client').opsPerSec / of(op, 'ioredis').opsPerSec;
        return {
          label: op,
          values: names.map((n) => of(op, n).opsPerSec),
          ranges: names.map((n) => {
            const v = runs.filter((r) => r.op === op && r.client === n).map((r) => r.opsPerSec);
            return [Math.min(...v), Math.max(...v)] as [number, number];
          }),
          badge: { text: `${ratio.toFixed(2)}× ioredis`, tone: ratio >= 1 ? 'good' : 'bad' },
        };
      }),
    },
  ],
  badgeLegend: [
    { text: 'meets the 1.0× target', tone: 'good' },
    { text: 'below target', tone: 'bad' },
  ],
});
console.log(`wrote ${path.relative(process.cwd(), json)}\nwrote ${path.relative(process.cwd(), svg)}`);

/**
 * Cluster throughput (a report, not a test): redis-benchmark against one
 * ringcache node, against a 3-node cluster with `--cluster` (smart routing),
 * and against one node of a 3-node proxy-mode cluster with a plain client
 * (every command for another node's slots is forwarded). Setups alternate per
 * repetition; medians are reported. All processes share this machine's cores,
 * so a 3-node cluster on 2 cores measures overhead, not scale-out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort, installCleanupHandlers, LOOPBACK, median, REPO_ROOT, runRedisBenchmark, startServerProcess,
  writeBarChartSvg, type ServerHandle,
} from './lib/index.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, reps: { type: 'string' } } });
const REPS = Number(values.reps ?? (values.quick ? 1 : 3));
const TESTS = ['set', 'get'] as const;
const PIPELINES = [1, 16];
const requests = (p: number) => (values.quick ? 2000 : p === 1 ? 100_000 : 500_000);
const CLI = path.join(REPO_ROOT, 'bin', 'ringcache.js');

async function startNodes(count: number, proxy: boolean): Promise<ServerHandle[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const p = await freePort(ports);
    ports.push(p);
  }
  const peers = ports.map((p) => `${LOOPBACK}:${p}`).join(',');
  return Promise.all(
    ports.map((port) => {
      const argv = [process.execPath, CLI, 'server', '--port', String(port), '--bind', LOOPBACK];
      if (count > 1) argv.push('--peers', peers, ...(proxy ? ['--proxy'] : []));
      return startServerProcess(`ringcache:${port}`, argv, port, 15_000);
    }),
  );
}

interface Setup {
  name: string;
  nodes: ServerHandle[];
  cluster: boolean;
}

installCleanupHandlers();
const setups: Setup[] = [
  { name: '1 node', nodes: await startNodes(1, false), cluster: false },
  { name: '3 nodes, --cluster', nodes: await startNodes(3, false), cluster: true },
  { name: '3 nodes, proxy', nodes: await startNodes(3, true), cluster: false },
];

const samples = new Map<string, number[]>();
try {
  for (const pipeline of PIPELINES) {
    for (const test of TESTS) {
      for (let rep = 0; rep < REPS; rep++) {
        for (const s of setups) {
          const r = await runRedisBenchmark({
            port: s.nodes[0]!.port, tests: [test], clients: 50, requests: requests(pipeline), pipeline, dataSize: 32, keyspace: 100_000,
            extraArgs: s.cluster ? ['--cluster'] : [],
          });
          const key = `${s.name}|${test}|${pipeline}`;
          samples.set(key, [...(samples.get(key) ?? []), r.rows[0]!.rps]);
          process.stderr.write(`${test.toUpperCase()} P=${pipeline} rep ${rep + 1}/${REPS} ${s.name}: ${Math.round(r.rows[0]!.rps)} ops/s\n`);
        }
      }
    }
  }
} finally {
  await Promise.all(setups.flatMap((s) => s.nodes.map((n) => n.stop())));
}

const rows = PIPELINES.flatMap((pipeline) => TESTS.map((test) => {
  const of = (name: string) => median(samples.get(`${name}|${test}|${pipeline}`)!);
  const single = of('1 node');
  return { test, pipeline, single, cluster: of('3 nodes, --cluster'), proxy: of('3 nodes, proxy') };
}));

console.log(`cluster throughput: median of ${REPS} run(s), redis-benchmark -c 50 -d 32 -r 100000; all nodes share this machine's cores`);
console.log('test  P   1 node ops/s   3 nodes --cluster   ratio   3 nodes proxy (plain client)   proxy/1 node');
for (const r of rows) {
  console.log(`${r.test.toUpperCase().padEnd(4)}  ${String(r.pipeline).padStart(2)}  ${Math.round(r.single).toLocaleString('en').padStart(12)}  ${Math.round(r.cluster).toLocaleString('en').padStart(18)}  ${(r.cluster / r.single).toFixed(2).padStart(5)}x  ${Math.round(r.proxy).toLocaleString('en').padStart(28)}  ${(r.proxy / r.single).toFixed(2).padStart(11)}x`);
}

const dir = path.join(REPO_ROOT, 'bench', 'results');
fs.mkdirSync(dir, { recursive: true });
const json = path.join(dir, 'cluster-throughput-latest.json');
fs.writeFileSync(json, JSON.stringify({ when: new Date().toISOString(), reps: REPS, rows, samples: Object.fromEntries(samples) }, null, 2));
const svg = path.join(dir, 'cluster-throughput-latest.svg');
await writeBarChartSvg(svg, {
  title: 'ringcache cluster throughput (redis-benchmark, 50 clients, 32 B values)',
  subtitle: `median of ${REPS} run(s); all nodes and the load generator share one 2-core machine`,
  yAxisLabel: 'ops/s',
  series: [
    { name: '1 node', color: '#2563eb' },
    { name: '3 nodes, --cluster', color: '#16a34a' },
    { name: '3 nodes, proxy mode', color: '#f59e0b' },
  ],
  panels: PIPELINES.map((pipeline) => ({
    title: `pipeline ${pipeline}`,
    groups: rows.filter((r) => r.pipeline === pipeline).map((r) => ({ label: r.test.toUpperCase(), values: [r.single, r.cluster, r.proxy] })),
  })),
});
console.log(`wrote ${path.relative(process.cwd(), json)}\nwrote ${path.relative(process.cwd(), svg)}`);

// EVALSHA of a small script (one GET, one SET) on ringcache and on redis-server
// in the same run, driven by redis-benchmark with identical settings on
// 127.0.0.1, at pipeline 1 and 16. Each case runs on the two servers in turn
// ROUNDS times (order alternated) and the median is reported, with the ratio
// ringcache / redis (issue 19's target: >= 0.5). Also EVAL of the same script
// (a cache hit by SHA1 after the first call) and a plain GET for reference.
//
// Run: npm run bench:scripting   (writes bench/results/scripting-latest.json)
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { machineInfo } from './lib/machine.js';
import { LOOPBACK } from './lib/ports.js';
import { REPO_ROOT, startRedisServer, startRingcache, type ServerHandle } from './lib/servers.js';
import { writeBarChartSvg } from './lib/svg-chart.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CLIENTS = 50;
const KEYSPACE = 100_000;
const SCRIPT = "local v = redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], ARGV[1]) return v";
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', LOOPBACK, '-p', String(port), ...args]);
  return stdout.trim();
}

/** ops/s of one redis-benchmark run of a custom command. */
async function bench(port: number, pipeline: number, command: string[]): Promise<number> {
  const requests = pipeline === 1 ? 60_000 : 300_000;
  const { stdout } = await run('redis-benchmark', ['-h', LOOPBACK, '-p', String(port), '-c', String(CLIENTS), '-n', String(requests), '-P', String(pipeline), '-r', String(KEYSPACE), '--csv', ...command], { timeout: 120_000 });
  const line = stdout.trim().split('\n').find((l) => !l.startsWith('"test"'));
  const rps = Number(JSON.parse(`[${line}]`)[1]);
  if (!Number.isFinite(rps)) throw new Error(`no rps in ${JSON.stringify(stdout)}`);
  return rps;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const servers: ServerHandle[] = [];
  try {
    const redis = await startRedisServer();
    servers.push(redis);
    const ring = await startRingcache();
    servers.push(ring);
    const sha = await cli(redis.port, 'SCRIPT', 'LOAD', SCRIPT);
    if ((await cli(ring.port, 'SCRIPT', 'LOAD', SCRIPT)) !== sha) throw new Error('the SHA1s differ');
    const cases = [
      { name: 'EVALSHA get+set', command: ['EVALSHA', sha, '1', 'key:__rand_int__', 'value'] },
      { name: 'EVAL get+set', command: ['EVAL', SCRIPT, '1', 'key:__rand_int__', 'value'] },
      { name: 'GET (reference)', command: ['GET', 'key:__rand_int__'] },
    ];
    const results: Array<{ case: string; pipeline: number; ringcache: number; redis: number; ratio: number; runs: { ringcache: number[]; redis: number[] } }> = [];
    for (const c of cases) {
      for (const pipeline of [1, 16]) {
        const runs = { ringcache: [] as number[], redis: [] as number[] };
        for (let r = 0; r < ROUNDS; r++) {
          const order = r % 2 === 0 ? (['redis', 'ringcache'] as const) : (['ringcache', 'redis'] as const);
          for (const s of order) runs[s].push(await bench(s === 'redis' ? redis.port : ring.port, pipeline, c.command));
        }
        const row = { case: c.name, pipeline, ringcache: median(runs.ringcache), redis: median(runs.redis), ratio: 0, runs };
        row.ratio = row.ringcache / row.redis;
        results.push(row);
        log(`${c.name.padEnd(18)} P${String(pipeline).padEnd(3)} ringcache ${Math.round(row.ringcache).toString().padStart(8)} ops/s   redis ${Math.round(row.redis).toString().padStart(8)} ops/s   ratio ${row.ratio.toFixed(2)}`);
      }
    }
    const dir = join(REPO_ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'scripting-latest.json');
    await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), clients: CLIENTS, keyspace: KEYSPACE, rounds: ROUNDS, script: SCRIPT, results }, null, 2)}\n`);
    const svg = join(dir, 'scripting-latest.svg');
    await writeBarChartSvg(svg, {
      title: 'Scripting: a GET+SET script, ringcache (fengari) vs redis-server',
      subtitle: `redis-benchmark -c ${CLIENTS} -r ${KEYSPACE}, ops/s, median of ${ROUNDS} round(s) · ${new Date().toISOString().slice(0, 16)}Z`,
      yAxisLabel: 'ops/s',
      series: [
        { name: 'ringcache', color: '#2563eb' },
        { name: 'redis', color: '#dc2626' },
      ],
      panels: [1, 16].map((pipeline) => ({
        title: `pipeline ${pipeline}`,
        groups: results
          .filter((r) => r.pipeline === pipeline)
          .map((r) => ({
            label: r.case,
            values: [r.ringcache, r.redis],
            badge: { text: `${r.ratio.toFixed(2)}×`, tone: r.case.startsWith('GET') ? ('neutral' as const) : r.ratio >= 0.5 ? ('good' as const) : ('bad' as const) },
          })),
      })),
      footnote: `${machineInfo().cpuCount} CPUs shared by servers and redis-benchmark · target: EVALSHA >= 0.5x Redis`,
    });
    log(`wrote ${file} and ${svg}`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

await main();

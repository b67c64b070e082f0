// What a Prometheus scrape costs (issue 21): a ringcache node's GET and SET
// throughput (redis-benchmark, pipeline 1 and 16) with /metrics scraped every
// second and with no scrape, in the same run, rounds alternated; redis-server
// in the same run for reference. Also the time one scrape takes and its size.
//
// Run: npm run bench:metrics   (writes bench/results/metrics-scrape-latest.json and .svg)
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
const SCRAPE_EVERY_MS = 1000;
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(port: number, pipeline: number, test: string): Promise<number> {
  const requests = pipeline === 1 ? 100_000 : 600_000;
  const { stdout } = await run('redis-benchmark', ['-h', LOOPBACK, '-p', String(port), '-c', String(CLIENTS), '-n', String(requests), '-P', String(pipeline), '-r', String(KEYSPACE), '-d', '32', '-t', test, '--csv'], { timeout: 180_000 });
  const line = stdout.trim().split('\n').find((l) => !l.startsWith('"test"'));
  const rps = Number(JSON.parse(`[${line}]`)[1]);
  if (!Number.isFinite(rps)) throw new Error(`no rps in ${JSON.stringify(stdout)}`);
  return rps;
}

/** Scrapes url every SCRAPE_EVERY_MS until stopped; the time and size of each scrape. */
function scraper(url: string): { stop(): Promise<{ ms: number[]; bytes: number }> } {
  const ms: number[] = [];
  let bytes = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const res = await fetch(url);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`scrape answered ${res.status}: ${body.slice(0, 200)}`);
      ms.push(performance.now() - t0);
      bytes = body.length;
      const wait = SCRAPE_EVERY_MS - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { ms, bytes };
    },
  };
}

async function main(): Promise<void> {
  const servers: ServerHandle[] = [];
  try {
    const redis = await startRedisServer();
    servers.push(redis);
    const ring = await startRingcache({ command: 'node bin/ringcache.js server --port {port} --bind 127.0.0.1 --admin-port 0' });
    servers.push(ring);
    const url = /metrics: (http:\S+)/.exec(ring.output())?.[1];
    if (url === undefined) throw new Error(`no metrics line in the node's output: ${ring.output()}`);
    const results: Array<{ test: string; pipeline: number; scraped: number; unscraped: number; redis: number; scrapeCost: number; vsRedisScraped: number; runs: Record<string, number[]> }> = [];
    const scrapeMs: number[] = [];
    let scrapeBytes = 0;
    for (const test of ['get', 'set']) {
      for (const pipeline of [1, 16]) {
        const runs = { scraped: [] as number[], unscraped: [] as number[], redis: [] as number[] };
        for (let r = 0; r < ROUNDS; r++) {
          const order = r % 2 === 0 ? (['unscraped', 'scraped', 'redis'] as const) : (['scraped', 'unscraped', 'redis'] as const);
          for (const what of order) {
            if (what === 'redis') {
              runs.redis.push(await bench(redis.port, pipeline, test));
              continue;
            }
            const s = what === 'scraped' ? scraper(url) : undefined;
            try {
              runs[what].push(await bench(ring.port, pipeline, test));
            } finally {
              const got = await s?.stop();
              if (got) {
                scrapeMs.push(...got.ms);
                scrapeBytes = got.bytes;
              }
            }
          }
        }
        const row = { test, pipeline, scraped: median(runs.scraped), unscraped: median(runs.unscraped), redis: median(runs.redis), scrapeCost: 0, vsRedisScraped: 0, runs };
        row.scrapeCost = row.scraped / row.unscraped;
        row.vsRedisScraped = row.scraped / row.redis;
        results.push(row);
        log(`${test.toUpperCase().padEnd(4)} P${String(pipeline).padEnd(3)} scraped every 1 s ${Math.round(row.scraped).toString().padStart(8)}   not scraped ${Math.round(row.unscraped).toString().padStart(8)}   ratio ${row.scrapeCost.toFixed(3)}   redis ${Math.round(row.redis).toString().padStart(8)} (scraped node / redis ${row.vsRedisScraped.toFixed(2)})`);
      }
    }
    const scrape = { count: scrapeMs.length, medianMs: median(scrapeMs), maxMs: Math.max(...scrapeMs), bytes: scrapeBytes };
    log(`scrapes: ${scrape.count}, median ${scrape.medianMs.toFixed(1)} ms, max ${scrape.maxMs.toFixed(1)} ms, ${scrape.bytes} bytes`);
    const dir = join(REPO_ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'metrics-scrape-latest.json');
    await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), clients: CLIENTS, keyspace: KEYSPACE, rounds: ROUNDS, scrapeEveryMs: SCRAPE_EVERY_MS, scrape, results }, null, 2)}\n`);
    const svg = join(dir, 'metrics-scrape-latest.svg');
    await writeBarChartSvg(svg, {
      title: 'A /metrics scrape every second: ringcache throughput scraped vs not, redis-server for reference',
      subtitle: `redis-benchmark -c ${CLIENTS} -r ${KEYSPACE} -d 32, ops/s, median of ${ROUNDS} round(s) · ${new Date().toISOString().slice(0, 16)}Z`,
      yAxisLabel: 'ops/s',
      series: [
        { name: 'ringcache, scraped every 1 s', color: '#2563eb' },
        { name: 'ringcache, not scraped', color: '#93c5fd' },
        { name: 'redis', color: '#dc2626' },
      ],
      panels: [1, 16].map((pipeline) => ({
        title: `pipeline ${pipeline}`,
        groups: results
          .filter((r) => r.pipeline === pipeline)
          .map((r) => ({ label: r.test.toUpperCase(), values: [r.scraped, r.unscraped, r.redis], badge: { text: `${r.scrapeCost.toFixed(2)}×`, tone: r.scrapeCost >= 0.97 ? ('good' as const) : ('bad' as const) } })),
      })),
      footnote: `${machineInfo().cpuCount} CPUs shared by servers and redis-benchmark · badge: scraped / not scraped · one scrape: median ${scrape.medianMs.toFixed(1)} ms, ${scrape.bytes} bytes`,
    });
    log(`wrote ${file} and ${svg}`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

await main();

// Side-by-side throughput benchmark: ringcache vs redis-server, both driven by
// redis-benchmark with identical settings on 127.0.0.1.
//
// Fairness: for every case (test x value size x pipeline) the servers are
// measured in turn R times, the order rotated by one each repetition, and the
// median of the R runs is reported. Alternating per case (rather than "all
// ringcache, then all redis") spreads slow drifts of the machine (thermal,
// noisy neighbours) over all servers.
//
// The Node floor (bench/lib/node-floor-server.ts) runs in turn with the two as
// a control: ringcache's socket and protocol code answering constants. It
// shows what part of the gap to Redis is Node's and what part ringcache's.
//
// Cases run size -> pipeline -> test with SET before GET, so GET mostly hits
// keys of the current value size.
//
// Run: npm run bench -- [flags]   (see --help; bench/lib/node-vs-redis-options.ts)
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { displayPath, jsonNumbers } from './lib/output.js';
import { commandVersion, machineInfo, serverInfo } from './lib/machine.js';
import {
  buildCases, MSET_REQUEST_FACTOR, SERVERS, serverOrder, summarize, TARGET_PIPELINED, TARGET_UNPIPELINED,
  type Case, type Run, type ServerName,
} from './lib/node-vs-redis-model.js';
import { parseOptions, USAGE, UsageError, type Options } from './lib/node-vs-redis-options.js';
import { chartSpec, progressLine, renderTable, reportHeader } from './lib/node-vs-redis-report.js';
import { freePort } from './lib/ports.js';
import { preflight } from './lib/preflight.js';
import { describeExit, installCleanupHandlers, isShuttingDown, type ExitInfo } from './lib/processes.js';
import { cpuDeltaMs, processCpuNs, reapedChildrenCpuNs } from './lib/process-cpu.js';
import { runRedisBenchmark } from './lib/redis-benchmark.js';
import { waitForPing } from './lib/resp.js';
import { formatArgv, startNodeFloor, startRedisServer, startRingcache, type ServerHandle } from './lib/servers.js';
import { writeBarChartSvg } from './lib/svg-chart.js';

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      log(`node-vs-redis: ${err.message} (see --help)`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  installCleanupHandlers(log);

  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const benchVersion = await commandVersion(opts.redisBenchmarkBin);
  if (!benchVersion) {
    log(`node-vs-redis: cannot run "${opts.redisBenchmarkBin} --version" (install redis-tools or pass --redis-benchmark)`);
    return 1;
  }
  const cases = buildCases(opts);
  const ports = { ringcache: await freePort() } as Record<ServerName, number>;
  ports.redis = await freePort([ports.ringcache]);
  ports.floor = await freePort([ports.ringcache, ports.redis]);
  /** The servers measured, in the order of the first repetition. */
  const measured: readonly ServerName[] = opts.floor ? SERVERS : ['ringcache', 'redis'];
  /** The two compared, which are checked for correct answers (the floor answers constants). */
  const compared: readonly ServerName[] = ['ringcache', 'redis'];

  const servers: Partial<Record<ServerName, ServerHandle>> = {};
  const exits: Partial<Record<ServerName, ExitInfo | undefined>> = {};
  const infos: Partial<Record<ServerName, Record<string, string>>> = {};
  const runs: Run[] = [];
  const warnings: string[] = [];
  const warn = (msg: string): void => {
    warnings.push(msg);
    log(`warning: ${msg}`);
  };

  try {
    log(`starting ringcache on 127.0.0.1:${ports.ringcache}${opts.ringcacheCmd ? ` (command override: ${opts.ringcacheCmd})` : ''}`);
    servers.ringcache = await startRingcache({ port: ports.ringcache, maxmemory: opts.maxmemory, command: opts.ringcacheCmd });
    log(`  up: ${formatArgv(servers.ringcache.argv)}`);
    log(`starting redis-server on 127.0.0.1:${ports.redis}`);
    servers.redis = await startRedisServer({ port: ports.redis, maxmemory: opts.maxmemory, bin: opts.redisServerBin });
    log(`  up: ${formatArgv(servers.redis.argv)}`);
    if (opts.floor) {
      log(`starting the Node floor on 127.0.0.1:${ports.floor}`);
      servers.floor = await startNodeFloor({ port: ports.floor });
      log(`  up: ${formatArgv(servers.floor.argv)}`);
    }
    const active = servers as Record<ServerName, ServerHandle>;
    const cpus = os.cpus().length;
    if ((loadAverageAtStart[0] ?? 0) > cpus * 0.5) {
      warn(`machine is busy before the benchmark (1-min load ${loadAverageAtStart[0]?.toFixed(1)} on ${cpus} CPUs): expect noisy numbers`);
    }

    for (const name of compared) {
      infos[name] = await serverInfo(active[name].port);
      for (const problem of await preflight(active[name].port, opts.tests)) warn(`${name} preflight: ${problem}`);
    }
    if (opts.warmup > 0) await warmUp(active, measured, opts, warn);

    const total = cases.length * opts.reps * measured.length;
    for (const [ci, c] of cases.entries()) {
      for (let rep = 1; rep <= opts.reps; rep++) {
        for (const name of serverOrder(rep, measured)) {
          const run = await measure(active[name], name, ci, c, rep, runs.length + 1, opts);
          if (isShuttingDown()) return 1; // interrupted: the signal handler stops children and exits
          runs.push(run);
          log(progressLine(run, c, total, opts.reps));
        }
      }
    }
  } catch (err) {
    log(`node-vs-redis: ${(err as Error).message}`);
    return 1;
  } finally {
    for (const name of SERVERS) {
      const s = servers[name];
      if (!s) continue;
      exits[name] = s.exitInfo() ?? (await s.stop());
      const e = exits[name];
      if (!e || e.code !== 0) warn(`${name} did not stop cleanly on SIGTERM: ${describeExit(e)}`);
    }
  }

  const summaries = cases.map((c, i) => summarize(c, runs.filter((r) => r.case === i)));
  const finishedAt = new Date();
  const redisVersion = infos.redis?.['redis_version'] ?? (await commandVersion(opts.redisServerBin)) ?? 'unknown';
  const machine = { ...machineInfo(), loadAverageAtStart };

  process.stdout.write(`\n${reportHeader(opts, redisVersion, machine.cpuModel, machine.cpuCount)}\n\n`);
  process.stdout.write(`${renderTable(summaries)}\n\n`);
  const counts = { PASS: 0, BELOW: 0, ERROR: 0 };
  for (const s of summaries) counts[s.status]++;
  process.stdout.write(
    `targets: ringcache >= ${TARGET_UNPIPELINED}x redis at P=1, >= ${TARGET_PIPELINED}x pipelined -> ` +
      `${counts.PASS} PASS, ${counts.BELOW} BELOW${counts.ERROR ? `, ${counts.ERROR} ERROR` : ''} (informational)\n`,
  );
  if (opts.reps > 1) {
    process.stdout.write('spread: (max-min)/median ops/s over the repetitions, worst of both servers; a large spread makes the ratio unreliable\n');
  }
  process.stdout.write(
    'cpu µs: the server process\'s CPU time (all threads, user + kernel) per request, median; cpu ratio = ringcache/redis, ' +
      'lower is better (informational, no target; noisy on a shared machine too)' +
      (opts.ringcacheCmd ? '; with --ringcache-cmd it is that command\'s own process (a wrapper such as npx is measured instead of the server)' : '') +
      '\nbench cpu ratio: redis-benchmark\'s own CPU time per request against ringcache over against redis (10 ms ticks): ' +
      'at pipeline 1 the client is often the bottleneck, so what it spends per request decides ops/s as much as the server does\n',
  );
  if (opts.floor) {
    process.stdout.write(
      'floor: the Node floor, a control server with ringcache\'s socket and protocol code answering constants (no commands, no store); ' +
        'rc/floor = ringcache/floor ops/s. At pipeline 1, where redis-benchmark\'s own thread often sets the pace, compare CPU per request ' +
        '(rc cpu µs, floor cpu µs, redis cpu µs): rc - floor is ringcache\'s own work, floor - redis the platform\'s\n',
    );
  }

  const result = {
    benchmark: 'node-vs-redis',
    // 2: runs[].serverCpuMs and clientCpuMs; cases[].cpuRatio, clientCpuRatio, {server}.cpuUsPerRequest and clientCpuUsPerRequest.
    // 3: the Node floor: servers.floor, runs[] with server "floor", cases[].floor (null without it) and cases[].floorRatio.
    schemaVersion: 3,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    machine: { ...machine, redisVersion, redisBenchmarkVersion: benchVersion },
    parameters: {
      quick: opts.quick,
      reps: opts.reps,
      tests: opts.tests,
      pipelines: opts.pipelines,
      valueSizes: opts.sizes,
      clients: opts.clients,
      keyspace: opts.keyspace,
      requestsUnpipelined: opts.requests,
      requestsPipelined: opts.requestsPipelined,
      warmupRequests: opts.warmup,
      msetRequestFactor: MSET_REQUEST_FACTOR,
      maxmemory: opts.maxmemory,
      timeoutS: opts.timeoutMs / 1000,
      targets: { pipeline1: TARGET_UNPIPELINED, pipelined: TARGET_PIPELINED },
      order: `per case: reps repetitions of ${measured.join(', ')}, the order rotated by one each repetition; cases by size, pipeline, test`,
      floor: opts.floor
        ? 'servers.floor, cases[].floor, cases[].floorRatio: the Node floor (bench/lib/node-floor-server.ts), ringcache\'s socket and protocol code answering constants; floorRatio = ringcache/floor ops/s'
        : null,
      serverCpu: 'runs[].serverCpuMs: the server process\'s CPU time during the run, from /proc (all threads, user + kernel)',
      clientCpu: 'runs[].clientCpuMs: redis-benchmark\'s CPU time for the run (this process\'s reaped children, /proc/self/stat cutime+cstime)',
    },
    servers: Object.fromEntries(
      measured.map((n) => [
        n,
        {
          port: ports[n],
          argv: servers[n]?.argv ?? null,
          commandOverride: n === 'ringcache' ? (opts.ringcacheCmd ?? null) : null,
          info: infos[n] ?? {},
          exit: exits[n] ?? null,
        },
      ]),
    ),
    cases: summaries,
    runs,
    warnings,
  };
  await mkdir(opts.outDir, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(':', '-');
  const json = `${JSON.stringify(result, jsonNumbers, 2)}\n`;
  const files = [join(opts.outDir, `node-vs-redis-${stamp}.json`), join(opts.outDir, 'node-vs-redis-latest.json')];
  for (const f of files) await writeFile(f, json, 'utf8');
  const svgFile = join(opts.outDir, 'node-vs-redis-latest.svg');
  await writeBarChartSvg(svgFile, chartSpec(summaries, opts, redisVersion, machine.cpuModel, machine.cpuCount, finishedAt));
  for (const f of [...files, svgFile]) process.stdout.write(`wrote ${displayPath(f)}\n`);

  const failed = runs.filter((r) => r.error !== null).length;
  if (failed > 0) {
    log(`node-vs-redis: ${failed} of ${runs.length} runs failed (see "error" in the JSON runs)`);
    return 1;
  }
  return 0;
}

/** One redis-benchmark invocation against one server; failures become data, not exceptions. */
async function measure(
  server: ServerHandle, name: ServerName, ci: number, c: Case, rep: number, order: number, opts: Options,
): Promise<Run> {
  const run: Run = {
    case: ci, server: name, rep, order, startedAt: new Date().toISOString(),
    durationMs: 0, argv: [], result: null, error: null, serverCpuMs: null, clientCpuMs: null,
  };
  const exited = server.exitInfo();
  if (exited) {
    run.error = `server is not running (${describeExit(exited)})`;
    return run;
  }
  try {
    // A hung server would make redis-benchmark wait for the whole timeout; check first.
    await waitForPing(server.port, 3000);
    const cpuBefore = processCpuNs(server.pid);
    const clientCpuBefore = reapedChildrenCpuNs();
    const res = await runRedisBenchmark({
      port: server.port, tests: [c.test], clients: opts.clients, requests: c.requests, pipeline: c.pipeline,
      dataSize: c.valueSize, keyspace: opts.keyspace, bin: opts.redisBenchmarkBin, timeoutMs: opts.timeoutMs,
    });
    run.argv = res.argv;
    run.durationMs = Math.round(res.durationMs);
    run.result = res.rows.find((r) => r.test === c.test) ?? null;
    run.serverCpuMs = cpuDeltaMs(cpuBefore, processCpuNs(server.pid));
    // redis-benchmark is the only child that exits during the run (the servers live on).
    run.clientCpuMs = cpuDeltaMs(clientCpuBefore, reapedChildrenCpuNs());
  } catch (err) {
    run.error = (err as Error).message;
  }
  return run;
}

/** Short unrecorded pass so JIT compilation and allocator growth do not land in the first measured case. */
async function warmUp(
  servers: Record<ServerName, ServerHandle>, names: readonly ServerName[], opts: Options, warn: (m: string) => void,
): Promise<void> {
  const pipeline = Math.max(...opts.pipelines);
  for (const name of names) {
    log(`warming up ${name} (${opts.tests.join(',')}, -n ${opts.warmup}, -P ${pipeline})`);
    for (const test of opts.tests) {
      if (isShuttingDown()) return;
      try {
        await runRedisBenchmark({
          port: servers[name].port, tests: [test], clients: opts.clients, pipeline,
          requests: test === 'mset' ? Math.max(1, Math.round(opts.warmup * MSET_REQUEST_FACTOR)) : opts.warmup,
          dataSize: opts.sizes[0] ?? 32, keyspace: opts.keyspace, bin: opts.redisBenchmarkBin, timeoutMs: opts.timeoutMs,
        });
      } catch (err) {
        warn(`${name} warm-up ${test}: ${(err as Error).message}`);
      }
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(`node-vs-redis: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);

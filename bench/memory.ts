// Memory and pause benchmark: ringcache vs redis-server (issue #3).
//
// For every key count x value size, a fresh ringcache and then a fresh
// redis-server (no maxmemory, no persistence) are started, measured empty
// (INFO memory), loaded with SET key:%012d over one pipelined connection
// (bench/lib/bulk-load.ts), checked with DBSIZE, and measured again. Bytes per
// key = (loaded - empty) / keys, for used_memory and used_memory_rss.
//
// Pauses: ringcache reports its event-loop delay (INFO stats
// eventloop_delay_p99_ms/_max_ms since CONFIG RESETSTAT). We reset before the
// load and read after it (loading phase); at the serving key count we reset
// again, run redis-benchmark SET and GET on random loaded keys (-r) and read
// again (serving phase). Redis has no such field; redis-benchmark's p99/max
// latency of both servers is reported side by side instead.
//
// A run that fails (server dies, e.g. out of heap; times out; DBSIZE differs)
// is recorded with its phase and reason, and the benchmark continues.
//
// Run: npm run bench:memory -- [flags]   (see --help; bench/lib/memory-options.ts)
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { displayPath, jsonNumbers } from './lib/output.js';
import v8 from 'node:v8';
import { bulkLoad } from './lib/bulk-load.js';
import { infoNumber, readInfo } from './lib/info.js';
import { commandVersion, machineInfo } from './lib/machine.js';
import { parseMemoryOptions, USAGE, UsageError, type MemoryOptions } from './lib/memory-options.js';
import {
  chartSpec, compare, keysLabel, LOOP_DELAY_RESOLUTION_MS, renderMemoryTable, renderPauseTable, renderServingTable,
  SERVERS, TARGET_LOOP_DELAY_MAX_MS, TARGET_USED_RATIO,
  type LoopDelay, type MemoryRun, type MemorySample, type Phase, type ServerName,
} from './lib/memory-report.js';
import { freePort } from './lib/ports.js';
import { describeExit, installCleanupHandlers, isShuttingDown } from './lib/processes.js';
import { runRedisBenchmark } from './lib/redis-benchmark.js';
import { RespError, sendCommand } from './lib/resp.js';
import { formatArgv, startRedisServer, startRingcache, type ServerHandle } from './lib/servers.js';
import { StallProbe } from './lib/stall-probe.js';
import { compareTypes, measureType, renderTypesReport, TYPES, typesChartSpec, type TypeRun, type TypesOptions } from './lib/types-memory.js';
import { writeBarChartSvg } from './lib/svg-chart.js';
import { keySlotOf } from '../src/cluster/key-slot.js';
import { PER_SLOT_BYTES, SlabKeyspace } from '../src/store/slab-keyspace.js';

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Bound for INFO/DBSIZE/CONFIG round trips: a node busy with GC may answer late, but must answer. */
const COMMAND_TIMEOUT_MS = 30_000;
/** Idle time before reading the idle event-loop delay (the floor of the loading and serving figures). */
const IDLE_MS = 1000;

async function main(): Promise<number> {
  let opts: MemoryOptions;
  try {
    opts = parseMemoryOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      log(`memory: ${err.message} (see --help)`);
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
  const warnings: string[] = [];
  const warnBusy = (when: string, load: number[]): void => {
    const cpus = os.cpus().length;
    if ((load[0] ?? 0) > cpus * 0.5) {
      const msg = `machine busy ${when} (1-min load ${load[0]?.toFixed(1)} on ${cpus} CPUs): load rates, pauses and latencies are noisy`;
      warnings.push(msg);
      log(`warning: ${msg}`);
    }
  };
  warnBusy('before the benchmark', loadAverageAtStart);
  const benchVersion = await commandVersion(opts.redisBenchmarkBin);
  if (!benchVersion && opts.serveKeys > 0) {
    log(`memory: cannot run "${opts.redisBenchmarkBin} --version" (install redis-tools, pass --redis-benchmark, or --serve-keys 0)`);
    return 1;
  }
  const nodeOptions = opts.maxOldSpaceMb !== undefined ? `--max-old-space-size=${opts.maxOldSpaceMb}` : null;
  const heap = nodeOptions
    ? `NODE_OPTIONS=${nodeOptions}`
    : `Node's default (heap_size_limit ${Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20)} MiB here)`;
  log(
    `memory: keys ${opts.keys.map(keysLabel).join(',')} x values ${opts.valueSizes.join(',')} B x ${SERVERS.join(',')}; ` +
      `serving phase at ${opts.serveKeys > 0 ? keysLabel(opts.serveKeys) : 'none'}; timeout ${opts.timeoutMs / 1000} s per run`,
  );
  log(`ringcache heap: ${heap}`);

  if (opts.types === 'only') {
    const probe = new StallProbe();
    try {
      return await typesSection(opts, nodeOptions, heap, probe, startedAt);
    } finally {
      probe.stop();
    }
  }

  const runs: MemoryRun[] = [];
  const probe = new StallProbe();
  let redisVersion = 'unknown';
  let typesFailed = false;
  const total = opts.keys.length * opts.valueSizes.length * SERVERS.length;
  try {
    for (const keys of opts.keys) {
      for (const valueSize of opts.valueSizes) {
        for (const server of SERVERS) {
          if (isShuttingDown()) return 1;
          const order = runs.length + 1;
          log(`[${order}/${total}] ${server} ${keysLabel(keys)} keys x ${valueSize} B`);
          const run = await measure(server, keys, valueSize, order, opts, nodeOptions, probe);
          if (isShuttingDown()) return 1;
          runs.push(run);
          if (server === 'redis' && run.version) redisVersion = run.version;
          log(`  ${summaryLine(run)}`);
        }
      }
    }
    if (opts.types === 'also') {
      const code = await typesSection(opts, nodeOptions, heap, probe, new Date());
      if (code !== 0) typesFailed = true;
    }
  } finally {
    probe.stop();
  }
  if (redisVersion === 'unknown') redisVersion = (await commandVersion(opts.redisServerBin))?.match(/v=(\S+)/)?.[1] ?? 'unknown';

  const loadAverageAtEnd = os.loadavg();
  warnBusy('at the end of the benchmark', loadAverageAtEnd);
  const comparisons = opts.keys.flatMap((k) => opts.valueSizes.map((v) => compare(runs, k, v)));
  const finishedAt = new Date();
  const machine = machineInfo();
  const out = process.stdout;
  out.write(
    `\nringcache vs redis-server ${redisVersion}: memory per key (16-byte keys, fresh server per run, no maxmemory)` +
      `${opts.quick ? ' [--quick]' : ''}\n` +
      `machine: ${machine.cpuModel} x ${machine.cpuCount}, node ${process.version}; ringcache heap: ${heap}\n\n`,
  );
  out.write(`${renderMemoryTable(comparisons)}\n`);
  out.write(
    `bytes per key = (INFO memory after load - empty server) / keys. ratio = ringcache/Redis. ` +
      `used_memory is what each server accounts; RSS is measured by the OS.\n`,
  );
  out.write(`${slotOverheadLine(Math.min(Math.max(...opts.keys), 1_000_000), opts.valueSizes[0]!)}\n\n`);
  out.write(
    `ringcache event-loop delay, ms (INFO stats eventloop_delay_p99_ms / _max_ms; the node takes its ` +
      `${LOOP_DELAY_RESOLUTION_MS} ms sampling interval off each sample, so an idle node reads about 0):\n`,
  );
  out.write(`${renderPauseTable(comparisons)}\n`);
  out.write('load reply gap: longest time, ms, the loader waited for any reply byte with commands in flight (client side, both servers)\n\n');
  out.write(
    `serving phase: redis-benchmark -c ${opts.clients} -n ${opts.serveRequests} -P 1 -r <keys> -t set,get ` +
      `(random loaded keys, value size of the run):\n`,
  );
  out.write(`${renderServingTable(comparisons)}\n\n`);
  const mem = comparisons.filter((c) => c.memoryCheck === 'PASS').length;
  const pause = comparisons.filter((c) => c.pauseCheck === 'PASS').length;
  out.write(
    `targets (issue #3, informational): used_memory per key <= ${TARGET_USED_RATIO.toFixed(1)}x Redis -> ${mem} of ${comparisons.length} PASS; ` +
      `event-loop delay max <= ${TARGET_LOOP_DELAY_MAX_MS} ms -> ${pause} of ${comparisons.length} PASS\n`,
  );
  for (const w of warnings) out.write(`warning: ${w}\n`);
  const failed = runs.filter((r) => r.status === 'failed');
  for (const r of failed) out.write(`FAILED: ${r.server} ${keysLabel(r.keys)} x ${r.valueSize} B in ${r.failedPhase}: ${r.error}\n`);

  const result = {
    benchmark: 'memory',
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    machine: { ...machine, loadAverageAtStart, loadAverageAtEnd, redisVersion, redisBenchmarkVersion: benchVersion ?? null },
    parameters: {
      quick: opts.quick,
      keys: opts.keys,
      valueSizes: opts.valueSizes,
      keyFormat: 'key:%012d (16 bytes)',
      load: 'SET over one pipelined connection, batches of 8192 commands, at most 8 MiB unanswered',
      serveKeys: opts.serveKeys,
      serveRequests: opts.serveRequests,
      clients: opts.clients,
      ringcacheHeap: heap,
      ringcacheNodeOptions: nodeOptions,
      timeoutS: opts.timeoutMs / 1000,
      loopDelayResolutionMs: LOOP_DELAY_RESOLUTION_MS,
      targets: { usedMemoryRatio: TARGET_USED_RATIO, loopDelayMaxMs: TARGET_LOOP_DELAY_MAX_MS },
      order: 'keys ascending, then value size, ringcache then redis; fresh server per run',
    },
    comparisons: comparisons.map((c) => ({
      keys: c.keys, valueSize: c.valueSize,
      usedMemoryPerKey: { ringcache: c.ringcache?.perKey?.usedMemory ?? null, redis: c.redis?.perKey?.usedMemory ?? null },
      rssPerKey: { ringcache: c.ringcache?.perKey?.rss ?? null, redis: c.redis?.perKey?.rss ?? null },
      usedRatio: c.usedRatio, rssRatio: c.rssRatio,
      loopDelay: c.ringcache?.loopDelay ?? null,
      machineDelay: c.ringcache?.machineDelay ?? null,
      memoryCheck: c.memoryCheck, pauseCheck: c.pauseCheck,
    })),
    runs,
    warnings,
  };
  await mkdir(opts.outDir, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(':', '-');
  const json = `${JSON.stringify(result, jsonNumbers, 2)}\n`;
  const jsonFiles = [join(opts.outDir, `memory-${stamp}.json`), join(opts.outDir, 'memory-latest.json')];
  for (const f of jsonFiles) await writeFile(f, json, 'utf8');
  const svgFile = join(opts.outDir, 'memory-latest.svg');
  await writeBarChartSvg(svgFile, chartSpec(comparisons, opts, redisVersion, machine.cpuModel, machine.cpuCount, heap, finishedAt));
  for (const f of [...jsonFiles, svgFile]) out.write(`wrote ${displayPath(f)}\n`);

  if (failed.length > 0) {
    log(`memory: ${failed.length} of ${runs.length} runs failed (see "error" in the JSON runs)`);
    return 1;
  }
  return typesFailed ? 1 : 0;
}

/**
 * The data-type cases (bench/lib/types-memory.ts): printed, and written to
 * memory-types-<time>.json, memory-types-latest.json and .svg.
 */
async function typesSection(opts: MemoryOptions, nodeOptions: string | null, heap: string, probe: StallProbe, startedAt: Date): Promise<number> {
  const topts: TypesOptions = {
    keys: opts.typeKeys, elements: opts.typeElements, timeoutMs: opts.timeoutMs,
    ringcacheCmd: opts.ringcacheCmd, redisServerBin: opts.redisServerBin, nodeOptions,
  };
  const runs: TypeRun[] = [];
  let i = 0;
  for (const type of TYPES) {
    // Alternate which server goes first, so a machine that slows down does not always hit the same one.
    const order = i++ % 2 === 0 ? (['ringcache', 'redis'] as const) : (['redis', 'ringcache'] as const);
    for (const server of order) {
      if (isShuttingDown()) return 1;
      log(`[types] ${server} ${type}`);
      const run = await measureType(server, type, topts, probe, log);
      if (run.status === 'failed') log(`  FAILED: ${run.error}`);
      runs.push(run);
    }
  }
  const comparisons = compareTypes(runs);
  const redisVersion = (await commandVersion(opts.redisServerBin))?.match(/v=(\S+)/)?.[1] ?? 'unknown';
  const machine = machineInfo();
  const finishedAt = new Date();
  const out = process.stdout;
  out.write(`\nringcache vs redis-server ${redisVersion}${opts.quick ? ' [--quick]' : ''}; machine: ${machine.cpuModel} x ${machine.cpuCount}, node ${process.version}; ringcache heap: ${heap}\n`);
  out.write(renderTypesReport(comparisons, topts));
  const result = {
    benchmark: 'memory-types',
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    machine: { ...machine, loadAverageAtEnd: os.loadavg(), redisVersion },
    parameters: {
      quick: opts.quick, keys: topts.keys, elements: topts.elements,
      shape: '10 elements per key; 16 B keys, fields, members; 32 B hash values and list elements; large collection 100 elements per command',
      ringcacheHeap: heap, timeoutS: opts.timeoutMs / 1000, loopDelayResolutionMs: LOOP_DELAY_RESOLUTION_MS,
      targets: { usedMemoryRatio: TARGET_USED_RATIO, loopDelayMaxMs: TARGET_LOOP_DELAY_MAX_MS },
      order: 'per type a fresh server each, the first server alternating by type',
    },
    comparisons: comparisons.map((c) => ({
      type: c.type, keyRatio: c.keyRatio, elementRatio: c.elementRatio, keyRssRatio: c.keyRssRatio, elementRssRatio: c.elementRssRatio,
      memoryCheck: c.memoryCheck, pauseCheck: c.pauseCheck,
    })),
    runs,
  };
  await mkdir(opts.outDir, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(':', '-');
  const json = `${JSON.stringify(result, jsonNumbers, 2)}\n`;
  const files = [join(opts.outDir, `memory-types-${stamp}.json`), join(opts.outDir, 'memory-types-latest.json')];
  for (const f of files) await writeFile(f, json, 'utf8');
  const svg = join(opts.outDir, 'memory-types-latest.svg');
  const foot = [`${machine.cpuModel} × ${machine.cpuCount} CPUs`, `Node ${process.version}`, `ringcache heap: ${heap}`, finishedAt.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'].join(' · ');
  await writeBarChartSvg(svg, typesChartSpec(comparisons, topts, redisVersion, foot));
  for (const f of [...files, svg]) out.write(`wrote ${displayPath(f)}\n`);
  return runs.some((r) => r.status === 'failed') ? 1 : 0;
}

/** One fresh server, loaded and measured; failures become data, not exceptions. */
async function measure(
  name: ServerName, keys: number, valueSize: number, order: number, opts: MemoryOptions, nodeOptions: string | null,
  probe: StallProbe,
): Promise<MemoryRun> {
  const started = performance.now();
  const run: MemoryRun = {
    server: name, keys, valueSize, order, startedAt: new Date().toISOString(), durationMs: 0,
    argv: [], version: null, nodeOptions: name === 'ringcache' ? nodeOptions : null,
    status: 'ok', failedPhase: null, error: null,
    baseline: null, loaded: null, dbsize: null, load: null, perKey: null,
    loopDelay: name === 'ringcache' ? { idle: null, loading: null, serving: null } : null,
    machineDelay: name === 'ringcache' ? { idle: null, loading: null, serving: null } : null,
    serving: null, exit: null, outputTail: null,
  };
  let phase: Phase = 'start';
  let server: ServerHandle | undefined;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`timed out after ${opts.timeoutMs / 1000} s (--timeout)`)), opts.timeoutMs);
  /** Waits for `p` unless the run is aborted (timeout, server exit) first. */
  const step = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(abort.signal.reason as Error);
      if (abort.signal.aborted) return onAbort();
      abort.signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => abort.signal.removeEventListener('abort', onAbort));
    });

  try {
    const port = await freePort();
    server = await step(
      name === 'ringcache'
        ? startRingcache({
            port, command: opts.ringcacheCmd,
            env: nodeOptions ? { ...process.env, NODE_OPTIONS: [process.env['NODE_OPTIONS'], nodeOptions].filter(Boolean).join(' ') } : undefined,
          })
        : startRedisServer({ port, bin: opts.redisServerBin }),
    );
    run.argv = server.argv;
    log(`  up: ${formatArgv(server.argv)}${run.nodeOptions ? ` (NODE_OPTIONS=${run.nodeOptions})` : ''}`);
    void server.exited.then((info) => abort.abort(new Error(`${name} exited during the run (${describeExit(info)})`)));
    const p = server.port;
    const serverFields = await step(readInfo(p, 'server', COMMAND_TIMEOUT_MS));
    run.version = serverFields['ringcache_version'] ?? serverFields['redis_version'] ?? null;

    if (name === 'ringcache') {
      phase = 'idle';
      await step(command(p, ['CONFIG', 'RESETSTAT']));
      await step(probe.reset());
      await step(sleep(IDLE_MS));
      run.loopDelay!.idle = await step(loopDelay(p));
      run.machineDelay!.idle = await step(probe.read());
    }

    phase = 'baseline';
    const baseline = await step(memorySample(p));
    run.baseline = baseline;
    const dbsize0 = await step(command(p, ['DBSIZE']));
    if (dbsize0 !== 0) throw new Error(`the fresh server is not empty: DBSIZE ${JSON.stringify(dbsize0)}`);
    await step(command(p, ['CONFIG', 'RESETSTAT']));
    await step(probe.reset());

    phase = 'load';
    const t0 = performance.now();
    run.load = await bulkLoad({
      port: p, keys, valueSize, signal: abort.signal,
      onProgress: (acked) => {
        const s = (performance.now() - t0) / 1000;
        if (Math.round(s) % 5 === 0) log(`    loading: ${formatCount(acked)} of ${formatCount(keys)} after ${s.toFixed(0)} s`);
      },
    });
    log(`    loaded ${formatCount(keys)} keys in ${(run.load.durationMs / 1000).toFixed(1)} s (${Math.round(run.load.keysPerSec).toLocaleString('en-US')} keys/s)`);
    if (name === 'ringcache') {
      run.loopDelay!.loading = await step(loopDelay(p));
      run.machineDelay!.loading = await step(probe.read());
    }

    phase = 'check';
    const dbsize = await step(command(p, ['DBSIZE']));
    run.dbsize = typeof dbsize === 'number' ? dbsize : null;
    if (dbsize !== keys) throw new Error(`DBSIZE is ${JSON.stringify(dbsize)} after loading ${keys} keys`);

    phase = 'measure';
    const loaded = await step(memorySample(p));
    run.loaded = loaded;
    run.perKey = { usedMemory: (loaded.usedMemory - baseline.usedMemory) / keys, rss: (loaded.rss - baseline.rss) / keys };

    if (keys === opts.serveKeys) {
      phase = 'serve';
      await step(command(p, ['CONFIG', 'RESETSTAT']));
      await step(probe.reset());
      const remaining = opts.timeoutMs - (performance.now() - started);
      const res = await runRedisBenchmark({
        port: p, tests: ['set', 'get'], clients: opts.clients, requests: opts.serveRequests, pipeline: 1,
        dataSize: valueSize, keyspace: keys, bin: opts.redisBenchmarkBin, timeoutMs: Math.max(5000, remaining),
      });
      run.serving = { argv: res.argv, durationMs: Math.round(res.durationMs), rows: res.rows };
      if (name === 'ringcache') {
        run.loopDelay!.serving = await step(loopDelay(p));
        run.machineDelay!.serving = await step(probe.read());
      }
      // SET on random existing keys must not change the key count.
      const after = await step(command(p, ['DBSIZE']));
      if (after !== keys) throw new Error(`DBSIZE is ${JSON.stringify(after)} after the serving phase, expected ${keys}`);
    }
  } catch (err) {
    run.status = 'failed';
    run.failedPhase = phase;
    run.error = (err as Error).message;
  } finally {
    clearTimeout(timer);
    if (server) {
      // A dying server (e.g. out of V8 heap) resets the connection a moment before it is reaped: give it that moment.
      if (run.status === 'failed' && !server.exitInfo()) await Promise.race([server.exited, sleep(2000)]);
      const exitedEarly = server.exitInfo();
      run.exit = exitedEarly ?? (await server.stop()) ?? null;
      if (run.status === 'failed') {
        const output = server.output();
        if (exitedEarly && !run.error?.includes('exited during the run')) {
          run.error = `${run.error}; ${name} exited (${describeExit(exitedEarly)})${fatalLine(output)}`;
        }
        run.outputTail = output.split('\n').slice(-30).join('\n') || null;
      }
    }
    run.durationMs = Math.round(performance.now() - started);
  }
  return run;
}

async function command(port: number, args: readonly (string | number)[]): Promise<unknown> {
  const reply = await sendCommand(port, args, COMMAND_TIMEOUT_MS);
  if (reply instanceof RespError) throw new Error(`${args.join(' ')}: ${reply.message}`);
  return reply;
}

async function memorySample(port: number): Promise<MemorySample> {
  const fields = await readInfo(port, 'memory', COMMAND_TIMEOUT_MS);
  return { usedMemory: infoNumber(fields, 'used_memory'), rss: infoNumber(fields, 'used_memory_rss'), fields };
}

async function loopDelay(port: number): Promise<LoopDelay> {
  const fields = await readInfo(port, 'stats', COMMAND_TIMEOUT_MS);
  return { p99Ms: infoNumber(fields, 'eventloop_delay_p99_ms'), maxMs: infoNumber(fields, 'eventloop_delay_max_ms') };
}

function summaryLine(r: MemoryRun): string {
  const parts: string[] = [];
  if (r.perKey) parts.push(`used ${r.perKey.usedMemory.toFixed(1)} B/key, RSS ${r.perKey.rss.toFixed(1)} B/key`);
  const d = r.loopDelay;
  if (d?.loading) parts.push(`loop delay loading p99/max ${d.loading.p99Ms.toFixed(1)}/${d.loading.maxMs.toFixed(1)} ms`);
  if (d?.serving) parts.push(`serving ${d.serving.p99Ms.toFixed(1)}/${d.serving.maxMs.toFixed(1)} ms`);
  for (const row of r.serving?.rows ?? []) parts.push(`${row.test.toUpperCase()} ${Math.round(row.rps)} ops/s p99 ${row.p99LatencyMs} max ${row.maxLatencyMs} ms`);
  if (r.status === 'failed') parts.push(`FAILED in ${r.failedPhase}: ${r.error}`);
  return `${parts.join('; ')} (${(r.durationMs / 1000).toFixed(1)} s)`;
}

/** The server's own last words, e.g. V8's "FATAL ERROR: ... JavaScript heap out of memory". */
function fatalLine(output: string): string {
  const line = output.split('\n').find((l) => /FATAL ERROR|out of memory|Error:/i.test(l));
  return line ? `: ${line.trim().slice(0, 200)}` : '';
}

const formatCount = (n: number): string => n.toLocaleString('en-US');

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(`memory: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);

/**
 * The servers above are standalone; a cluster node's store also tracks slots.
 * Measured in-process (the same keys loaded into a store with and without
 * slots), not by another server run: it is the engine's own accounting.
 */
function slotOverheadLine(keys: number, valueSize: number): string {
  const plain = new SlabKeyspace();
  const slotted = new SlabKeyspace(undefined, Math.random, { slotOf: keySlotOf });
  const value = Buffer.alloc(valueSize, 120);
  const key = Buffer.alloc(16);
  for (let i = 0; i < keys; i++) {
    key.write(`key:${String(i).padStart(12, '0')}`, 0, 'latin1');
    plain.setBytes(key, 0, 16, value, 0, valueSize, 0);
    slotted.setBytes(key, 0, 16, value, 0, valueSize, 0);
  }
  const fixed = 16384 * PER_SLOT_BYTES;
  const perKey = (slotted.usedMemory - plain.usedMemory - fixed) / keys;
  return `with slots on (a cluster node's store; in-process, ${keysLabel(keys)} keys x ${valueSize} B): used_memory +${perKey.toFixed(1)} B/key, plus ${fixed / 1024} KiB per node`;
}

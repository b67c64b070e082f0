// Data model of the node-vs-redis benchmark: which cases run, what one run
// records, and how repetitions are reduced to one verdict per case. Kept
// apart from process handling so the numbers logic can be unit-tested.
import type { Options, TestName } from './node-vs-redis-options.js';
import type { BenchmarkRow } from './redis-benchmark.js';
import { median, relativeSpread } from './stats.js';

/** The two servers compared, and the Node floor (bench/lib/node-floor-server.ts), a control. */
export const SERVERS = ['ringcache', 'redis', 'floor'] as const;
export type ServerName = (typeof SERVERS)[number];

/**
 * The order of the servers in repetition `rep` (1-based): the list rotated by
 * one each repetition, so that a machine that speeds up or slows down within
 * a case, or a first-run effect, does not always favour the same one. With
 * ringcache and redis alone: ringcache first in odd repetitions, redis in even.
 */
export function serverOrder(rep: number, servers: readonly ServerName[] = SERVERS): ServerName[] {
  const k = (rep - 1) % servers.length;
  return [...servers.slice(k), ...servers.slice(0, k)];
}

/** Targets from the issue: ringcache/redis ops/s ratio we aim for. */
export const TARGET_UNPIPELINED = 0.95;
export const TARGET_PIPELINED = 0.7;
export const targetFor = (pipeline: number): number => (pipeline === 1 ? TARGET_UNPIPELINED : TARGET_PIPELINED);

/**
 * One MSET op writes 10 keys, so it is 4-10x slower than SET; MSET runs use a
 * quarter of -n to keep their duration in line with the other tests.
 */
export const MSET_REQUEST_FACTOR = 0.25;

export interface Case {
  test: TestName;
  /** Value size in bytes (-d). */
  valueSize: number;
  pipeline: number;
  requests: number;
  target: number;
}

export interface Run {
  case: number;
  server: ServerName;
  rep: number;
  /** 1-based position in the overall run order. */
  order: number;
  startedAt: string;
  durationMs: number;
  argv: string[];
  result: BenchmarkRow | null;
  error: string | null;
  /**
   * The server process's CPU time during the run (all threads, user and
   * kernel), in ms; null where /proc cannot be read. Includes accepting the
   * run's connections.
   */
  serverCpuMs: number | null;
  /** redis-benchmark's own CPU time for the run, in ms (10 ms ticks); null where unknown. */
  clientCpuMs: number | null;
}

export interface ServerSummary {
  runs: number;
  rpsMin: number;
  rpsMax: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** (max-min)/median of ops/s over the repetitions. */
  rpsSpread: number;
  /** Median over the repetitions of the server's CPU time per request (one MSET = one request), µs; NaN if unknown. */
  cpuUsPerRequest: number;
  /** Median of redis-benchmark's CPU time per request against this server, µs; NaN if unknown. */
  clientCpuUsPerRequest: number;
}

export interface CaseSummary extends Case {
  ringcache: ServerSummary;
  redis: ServerSummary;
  /** The Node floor; null when it was not run (--no-floor). */
  floor: ServerSummary | null;
  /**
   * ringcache's median ops/s over the floor's: how close ringcache comes to a
   * Node server doing no work (NaN if unknown). Informational, no target.
   */
  floorRatio: number;
  ratio: number;
  status: 'PASS' | 'BELOW' | 'ERROR';
  /** ringcache's CPU per request over Redis's (below 1: ringcache spends less); NaN if unknown. Informational, no target. */
  cpuRatio: number;
  /** redis-benchmark's CPU per request against ringcache over against Redis; NaN if unknown. */
  clientCpuRatio: number;
}

/** Cases in run order: size, then pipeline, then test (SET before GET, so GET finds keys of this size). */
export function buildCases(opts: Options): Case[] {
  const cases: Case[] = [];
  for (const size of opts.sizes) {
    for (const pipeline of opts.pipelines) {
      for (const test of opts.tests) {
        const base = pipeline === 1 ? opts.requests : opts.requestsPipelined;
        const requests = test === 'mset' ? Math.max(1, Math.round(base * MSET_REQUEST_FACTOR)) : base;
        cases.push({ test, valueSize: size, pipeline, requests, target: targetFor(pipeline) });
      }
    }
  }
  return cases;
}

/** CPU time of one run spread over its requests, in µs; NaN if unknown. */
export const usPerRequest = (ms: number | null, c: Case): number => (ms === null ? NaN : (ms * 1000) / c.requests);

function summarizeServer(c: Case, runs: readonly Run[]): ServerSummary {
  const ok = runs.flatMap((r) => (r.result ? [r.result] : []));
  const rps = ok.map((r) => r.rps);
  // Failed runs do not count; median() skips the unknown (NaN) ones.
  const cpu = runs.flatMap((r) => (r.result ? [usPerRequest(r.serverCpuMs, c)] : []));
  const clientCpu = runs.flatMap((r) => (r.result ? [usPerRequest(r.clientCpuMs, c)] : []));
  return {
    runs: ok.length,
    rpsMin: rps.length ? Math.min(...rps) : NaN,
    rpsMax: rps.length ? Math.max(...rps) : NaN,
    rps: median(rps),
    p50Ms: median(ok.map((r) => r.p50LatencyMs)),
    p99Ms: median(ok.map((r) => r.p99LatencyMs)),
    rpsSpread: relativeSpread(rps),
    cpuUsPerRequest: median(cpu),
    clientCpuUsPerRequest: median(clientCpu),
  };
}

export function summarize(c: Case, runs: readonly Run[]): CaseSummary {
  const ringcache = summarizeServer(c, runs.filter((r) => r.server === 'ringcache'));
  const redis = summarizeServer(c, runs.filter((r) => r.server === 'redis'));
  const floorRuns = runs.filter((r) => r.server === 'floor');
  const floor = floorRuns.length > 0 ? summarizeServer(c, floorRuns) : null;
  const floorRatio = floor === null ? NaN : ringcache.rps / floor.rps;
  const ratio = ringcache.rps / redis.rps;
  const status = Number.isFinite(ratio) ? (ratio >= c.target ? 'PASS' : 'BELOW') : 'ERROR';
  const cpuRatio = ringcache.cpuUsPerRequest / redis.cpuUsPerRequest;
  const clientCpuRatio = ringcache.clientCpuUsPerRequest / redis.clientCpuUsPerRequest;
  return { ...c, ringcache, redis, floor, floorRatio, ratio, status, cpuRatio, clientCpuRatio };
}

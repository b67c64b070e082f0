/**
 * `ringcache scenario` options: the raw flag strings from the command line,
 * validated with zod into ScenarioOptions, with each scenario's defaults
 * (normal or --quick) under whatever was given explicitly. A bad value is an
 * OptionError with one line that names the flag; the CLI prints it as
 * `ringcache: ...` and exits 2. Pure apart from clock-derived defaults (the
 * seed, the output directory), which callers may pass in.
 */
import path from 'node:path';
import { z } from 'zod';
import { CLIENT_KINDS, type ClientKind } from './clients.js';
import { DISTRIBUTIONS, type Distribution } from './keys.js';
import { REDIS_NODE_TIMEOUT_MS } from './redis-cluster.js';
import type { ScenarioDefaults, ScenarioName } from './scenario.js';

export class OptionError extends Error {}

/** The flags as commander hands them over (strings; --quick a boolean). */
/** What a failover trial does to a primary: kill -9, SIGSTOP for twice the lease (then SIGCONT), or cut it off from the coordinator for as long. */
export const TRIAL_FAULTS = ['kill9', 'pause', 'isolate'] as const;
export type TrialFault = (typeof TRIAL_FAULTS)[number];

export interface RawScenarioFlags {
  quick?: boolean;
  duration?: string;
  clients?: string;
  pipeline?: string;
  readRatio?: string;
  keys?: string;
  distribution?: string;
  zipfSkew?: string;
  valueSize?: string;
  rate?: string;
  client?: string;
  nodes?: string;
  out?: string;
  against?: string;
  seed?: string;
  faultAt?: string;
  restartAfter?: string;
  /** Static membership (--peers) instead of the node manager. */
  static?: boolean;
  /** --etcd alone (true): start an etcd; --etcd host:port: use that one. */
  etcd?: string | boolean;
  replicas?: string;
  consistency?: string;
  removeWith?: string;
  leaseTtl?: string;
  /** failover: kill -9 trials. */
  trials?: string;
  /** failover: the faults its trials take in turn (kill9,pause,isolate). */
  trialFaults?: string;
  /** Redis Cluster's cluster-node-timeout (ms when a bare number, as Redis's setting). */
  nodeTimeout?: string;
}

export interface ScenarioOptions {
  name: ScenarioName;
  quick: boolean;
  /** Per load phase (each concurrency level of a sweep). */
  durationMs: number;
  clients: number[];
  pipeline: number;
  readRatio: number;
  keys: number;
  distribution: Distribution;
  zipfSkew: number;
  /** Hot set: 10% of the keys get 90% of the operations (fixed). */
  hotFraction: number;
  hotShare: number;
  valueSize: { min: number; max: number };
  rate: number | null;
  client: ClientKind;
  nodes: number;
  out: string;
  against: 'redis-cluster' | null;
  seed: number;
  faultAtMs: number | null;
  restartAfterMs: number | null;
  commandTimeoutMs: number;
  checkSample: number;
  /** Whose cluster ringcache runs on: the node manager (default) or static membership (--static). */
  membership: 'dynamic' | 'static';
  /** null: the embedded coordinator; '': etcd started by the runner; else etcd endpoints. */
  etcd: string | null;
  /** Replicas per primary (ringcache --replicas; Redis Cluster --cluster-replicas). */
  replicas: number;
  /** ringcache's write consistency mode (--consistency), passed to the nodes when the scenario runs with replicas. */
  consistency: 'async' | 'sync';
  /** failover: kill -9 trials. */
  trials: number;
  /** failover: what each trial does to a primary, in turn: kill -9, a SIGSTOP past its lease, or a cut from the coordinator. */
  trialFaults: TrialFault[];
  /** Redis Cluster's cluster-node-timeout (ms). */
  redisNodeTimeoutMs: number;
  /** How removals leave: SIGTERM, or `ringcache cluster remove <id>`. */
  removeWith: 'sigterm' | 'cluster-remove';
  leaseTtlMs: number;
}

/** "30" (seconds), "30s", "500ms", "2m" -> ms. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

const fail = (ctx: z.RefinementCtx, message: string) => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

const wholeNumber = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) return fail(ctx, `must be a whole number from ${min} to ${max}`);
    return n;
  });

const decimal = (min: number, max: number, minExclusive = false) =>
  z.string().transform((v, ctx) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n > max || (minExclusive ? n <= min : n < min)) return fail(ctx, `must be a number ${minExclusive ? 'above' : 'from'} ${min}${minExclusive ? ' up to' : ' to'} ${max}`);
    return n;
  });

const duration = (minMs: number, maxMs: number) =>
  z.string().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) return fail(ctx, 'must be a duration: seconds (30), or with a unit (500ms, 30s, 2m)');
    if (ms < minMs || ms > maxMs) return fail(ctx, `must be from ${minMs / 1000} s to ${maxMs / 1000} s`);
    return ms;
  });

const MAX_CLIENTS = 1000;

const schema = z.object({
  quick: z.boolean().optional(),
  duration: duration(500, 24 * 3600_000).optional(),
  clients: z
    .string()
    .transform((v, ctx) => {
      const parts = v.split(',').map((p) => p.trim());
      const ns = parts.map(Number);
      if (parts.some((p) => p === '') || ns.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_CLIENTS)) return fail(ctx, `must be a number of clients from 1 to ${MAX_CLIENTS}, or a comma-separated list of them (1,10,50)`);
      if (new Set(ns).size !== ns.length) return fail(ctx, 'lists a concurrency twice');
      return ns;
    })
    .optional(),
  pipeline: wholeNumber(1, 1000).optional(),
  readRatio: decimal(0, 1).optional(),
  keys: wholeNumber(1, 10_000_000).optional(),
  distribution: z.enum(DISTRIBUTIONS, { error: () => `must be one of ${DISTRIBUTIONS.join(', ')}` }).optional(),
  zipfSkew: decimal(0, 5, true).optional(),
  valueSize: z
    .string()
    .transform((v, ctx) => {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(v);
      const min = m ? Number(m[1]) : NaN;
      const max = m ? Number(m[2] ?? m[1]) : NaN;
      if (!m || min < 1 || max > 1024 * 1024 || min > max) return fail(ctx, 'must be a size in bytes (64) or a range (32-1024), at most 1048576');
      return { min, max };
    })
    .optional(),
  rate: z
    .string()
    .transform((v, ctx) => {
      if (/^\s*(max|0)\s*$/i.test(v)) return null;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n > 10_000_000) return fail(ctx, "must be operations per second (above 0, at most 10000000), or 'max' for flat out");
      return n;
    })
    .optional(),
  client: z.enum(CLIENT_KINDS, { error: () => `must be one of ${CLIENT_KINDS.join(', ')}` }).optional(),
  nodes: wholeNumber(1, 16).optional(),
  out: z.string().min(1, 'must be a directory').optional(),
  against: z.enum(['redis-cluster'], { error: () => "must be 'redis-cluster' (the only comparison so far)" }).optional(),
  seed: wholeNumber(0, 2 ** 31 - 1).optional(),
  faultAt: duration(0, 24 * 3600_000).optional(),
  restartAfter: duration(0, 24 * 3600_000).optional(),
  static: z.boolean().optional(),
  etcd: z
    .union([z.boolean(), z.string()])
    .transform((v, ctx) => {
      if (v === true) return '';
      if (v === false) return fail(ctx, 'must be host:port[,host:port...]');
      if (!/^\s*[^\s,:]+:\d{1,5}(\s*,\s*[^\s,:]+:\d{1,5})*\s*$/.test(v)) return fail(ctx, 'must be host:port[,host:port...], or no value to start an etcd');
      return v.replace(/\s+/g, '');
    })
    .optional(),
  replicas: wholeNumber(0, 16).optional(),
  consistency: z.enum(['async', 'sync'], { error: () => "must be 'async' or 'sync'" }).optional(),
  trials: wholeNumber(1, 100).optional(),
  trialFaults: z
    .string()
    .transform((v, ctx) => {
      const list = v.split(',').map((x) => x.trim());
      const bad = list.find((x) => !(TRIAL_FAULTS as readonly string[]).includes(x));
      if (bad !== undefined || list.length === 0) return fail(ctx, `must be a comma-separated list of ${TRIAL_FAULTS.join(', ')} (got '${bad ?? v}')`);
      return list as TrialFault[];
    })
    .optional(),
  nodeTimeout: z
    .string()
    .transform((v, ctx) => {
      const ms = /^\s*\d+\s*$/.test(v) ? Number(v) : parseDuration(v);
      if (ms === undefined || ms < 100 || ms > 120_000) return fail(ctx, 'must be milliseconds (15000, as Redis\'s cluster-node-timeout) or a duration with a unit (1s), from 100 ms to 120 s');
      return ms;
    })
    .optional(),
  removeWith: z.enum(['sigterm', 'cluster-remove'], { error: () => "must be 'sigterm' or 'cluster-remove'" }).optional(),
  leaseTtl: duration(1000, 60_000).optional(),
});

const FLAG_NAMES: Record<string, string> = {
  readRatio: '--read-ratio',
  zipfSkew: '--zipf-skew',
  valueSize: '--value-size',
  faultAt: '--fault-at',
  restartAfter: '--restart-after',
  removeWith: '--remove-with',
  leaseTtl: '--lease-ttl',
  nodeTimeout: '--node-timeout',
  trialFaults: '--trial-faults',
};
const flagName = (key: string) => FLAG_NAMES[key] ?? `--${key}`;

export interface ResolveContext {
  defaults: ScenarioDefaults;
  /** For the default output directory and seed. */
  now?: Date;
  random?: () => number;
}

/** Validates raw flags and applies the scenario's defaults. Throws OptionError (one line). */
export function resolveOptions(name: ScenarioName, raw: RawScenarioFlags, rc: ResolveContext): ScenarioOptions {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const given = key !== '' ? (raw as Record<string, unknown>)[key] : undefined;
    throw new OptionError(`invalid ${flagName(key)}${given !== undefined ? ` '${String(given)}'` : ''}: ${issue.message}`);
  }
  const f = parsed.data;
  const d = rc.defaults;
  // Checked here, before anything starts: what the nodes cannot do yet (exit 2 with one line).
  if (d.replication !== true) {
    if (f.replicas !== undefined && f.replicas > 0) throw new OptionError(`--replicas ${f.replicas}: not available yet: ringcache has no replicas in ${name} (only the failover scenario runs with replicas so far); run with --replicas 0 or without it`);
    if (f.consistency !== undefined) throw new OptionError(`--consistency ${f.consistency}: not available yet: consistency modes come with replicas, which only the failover scenario runs so far`);
  }
  if (f.static === true && f.etcd !== undefined) throw new OptionError('--static (membership from --peers) and --etcd (the node manager through etcd) exclude each other');
  const now = rc.now ?? new Date();
  const stamp = now.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  return {
    name,
    quick: f.quick === true,
    durationMs: f.duration ?? d.durationMs,
    clients: f.clients ?? d.clients,
    pipeline: f.pipeline ?? 1,
    readRatio: f.readRatio ?? 0.8,
    keys: f.keys ?? d.keys,
    distribution: f.distribution ?? 'uniform',
    zipfSkew: f.zipfSkew ?? 0.99,
    hotFraction: 0.1,
    hotShare: 0.9,
    valueSize: f.valueSize ?? { min: 64, max: 64 },
    rate: f.rate !== undefined ? f.rate : d.rate,
    client: f.client ?? 'ringcache',
    nodes: f.nodes ?? d.nodes ?? 3,
    out: path.resolve(f.out ?? path.join('scenario-results', `${name}-${stamp}`)),
    against: f.against ?? null,
    seed: f.seed ?? Math.floor((rc.random ?? Math.random)() * 2 ** 31),
    faultAtMs: f.faultAt ?? d.faultAtMs ?? null,
    restartAfterMs: f.restartAfter ?? d.restartAfterMs ?? null,
    commandTimeoutMs: 2000,
    checkSample: 1,
    membership: f.static === true ? 'static' : (d.membership ?? 'dynamic'),
    etcd: f.etcd ?? null,
    replicas: f.replicas ?? d.replicas ?? 0,
    consistency: f.consistency ?? 'async',
    trials: f.trials ?? d.trials ?? 1,
    trialFaults: f.trialFaults ?? ['kill9'],
    redisNodeTimeoutMs: f.nodeTimeout ?? d.redisNodeTimeoutMs ?? REDIS_NODE_TIMEOUT_MS,
    removeWith: f.removeWith ?? 'sigterm',
    leaseTtlMs: f.leaseTtl ?? 2000,
  };
}

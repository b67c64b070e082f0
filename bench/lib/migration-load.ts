// Building blocks of bench/migration.ts that work against any Redis-Cluster-
// protocol cluster (ringcache or Redis Cluster):
// - slot owners from CLUSTER SLOTS, and each bench key's slot;
// - a pipelined, checked bulk load of N fixed-size SETs, one connection per
//   owner node, each node getting only the keys of its own slots (no MOVED);
// - a fixed-rate (open-loop) GET/SET load through a cluster client, latency
//   measured from each operation's intended send time (so a stall is counted
//   against every operation it delayed, not just the one in flight:
//   coordinated omission corrected), recorded into an HDR histogram per phase;
// - a hit-ratio probe (GET of a set of loaded keys).
import net from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { Cluster } from 'ioredis';
import { keySlot } from '../../src/cluster/key-slot.js';
import { benchKey, setTemplate, KEY_DIGITS } from './bulk-load.js';
import { LOOPBACK } from './ports.js';
import { RespError, sendCommand, type RespValue } from './resp.js';

export const SLOTS = 16384;

/** Slot of bench key i for i in 0..n-1. */
export function benchKeySlots(n: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = keySlot(benchKey(i));
  return out;
}

/** Owner port of every slot (0: unassigned), from CLUSTER SLOTS of the node at `port`. */
export async function slotOwners(port: number): Promise<Uint32Array> {
  const reply = await sendCommand(port, ['CLUSTER', 'SLOTS'], 10_000);
  if (!Array.isArray(reply)) throw new Error(`CLUSTER SLOTS: ${String(reply)}`);
  const owners = new Uint32Array(SLOTS);
  for (const range of reply as RespValue[][]) {
    const [start, end, master] = range as [number, number, RespValue[]];
    const p = Number(master[1]);
    for (let s = start; s <= end; s++) owners[s] = p;
  }
  return owners;
}

export async function dbsize(port: number): Promise<number> {
  const r = await sendCommand(port, ['DBSIZE'], 10_000);
  if (typeof r !== 'number') throw new Error(`DBSIZE on ${port}: ${String(r)}`);
  return r;
}

const OK = Buffer.from('+OK\r\n');

/** SETs bench keys `indices` (value of `valueSize` bytes) on the node at `port`, pipelined; every reply must be +OK. */
export function loadIndices(port: number, indices: Uint32Array, valueSize: number, batchKeys = 4096, maxInFlightBytes = 8 << 20): Promise<void> {
  const t = setTemplate(valueSize);
  const len = t.template.length;
  const total = indices.length;
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    let okPos = 0;
    let done = false;
    let wake: (() => void) | undefined;
    const socket = net.connect({ port, host: LOOPBACK });
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      socket.destroy();
      wake?.();
      if (err) reject(err);
      else resolve();
    };
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== OK[okPos]) return finish(new Error(`load on ${port}: SET #${acked + 1} got ${JSON.stringify(chunk.toString('latin1', i, Math.min(chunk.length, i + 120)))}`));
        if (++okPos === OK.length) {
          okPos = 0;
          acked++;
        }
      }
      if (acked === total) return finish();
      wake?.();
    });
    socket.on('drain', () => wake?.());
    socket.on('error', (e) => finish(new Error(`load on ${port}: ${e.message}`)));
    socket.on('close', () => finish(new Error(`load on ${port}: closed after ${acked} of ${total}`)));
    socket.once('connect', () => {
      if (total === 0) return finish();
      void (async () => {
        while (!done && sent < total) {
          if ((sent - acked) * len > maxInFlightBytes) {
            await new Promise<void>((r) => (wake = r));
            continue;
          }
          const n = Math.min(batchKeys, total - sent);
          const out = Buffer.allocUnsafe(len * n);
          for (let j = 0; j < n; j++) {
            t.template.copy(out, j * len);
            out.write(String(indices[sent + j]).padStart(KEY_DIGITS, '0'), j * len + t.digitsAt, KEY_DIGITS, 'latin1');
          }
          sent += n;
          if (!socket.write(out)) await new Promise<void>((r) => (wake = r));
        }
      })();
    });
  });
}

/** Loads bench keys 0..n-1 into a cluster: each owner gets its own keys over its own connection, in parallel. */
export async function loadCluster(owners: Uint32Array, slots: Uint16Array, valueSize: number): Promise<{ ms: number; keysPerSec: number }> {
  const byPort = new Map<number, number[]>();
  for (let i = 0; i < slots.length; i++) {
    const p = owners[slots[i]!]!;
    if (p === 0) throw new Error(`slot ${slots[i]} has no owner`);
    let list = byPort.get(p);
    if (!list) byPort.set(p, (list = []));
    list.push(i);
  }
  const t0 = performance.now();
  await Promise.all([...byPort].map(([p, list]) => loadIndices(p, Uint32Array.from(list), valueSize)));
  const ms = performance.now() - t0;
  return { ms, keysPerSec: (slots.length / ms) * 1000 };
}

export interface PhaseStats {
  ops: number;
  errors: number;
  /** First few distinct error messages. */
  errorSamples: string[];
  gets: number;
  hits: number;
  /** Latency from intended send time, microseconds. */
  hist: hdr.Histogram;
}

export interface PhaseSummary {
  phase: string;
  seconds: number;
  ops: number;
  opsPerSec: number;
  errors: number;
  errorSamples: string[];
  getHitRatio: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** This (the client's) process's event-loop delay in the phase: a high figure means the client, not the servers, was late. */
  clientLoopDelayP99Ms: number;
  clientLoopDelayMaxMs: number;
}

/**
 * Open-loop load: operation k is due at start + k/rate; a 1 ms timer issues
 * every due operation without waiting for earlier ones to finish. Its latency
 * is completion time minus due time. A read share `getRatio` of GETs, the
 * rest SETs of the same value (so every loaded key stays loaded).
 */
export class FixedRateLoad {
  phase = 'warmup';
  private readonly stats = new Map<string, PhaseStats>();
  private readonly spans = new Map<string, { from: number; to: number }>();
  private readonly loopDelay = new Map<string, { p99: number; max: number }>();
  private monitor: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private next = 0;
  private started = 0;
  private seed = 0x9e3779b9;

  constructor(
    private readonly client: Cluster,
    private readonly keys: number,
    private readonly rate: number,
    private readonly value: Buffer,
    private readonly getRatio = 0.8,
  ) {}

  setPhase(name: string): void {
    const now = performance.now();
    if (this.monitor) {
      const prevDelay = this.loopDelay.get(this.phase);
      const p99 = this.monitor.count > 0 ? this.monitor.percentile(99) / 1e6 : 0;
      const max = this.monitor.count > 0 ? this.monitor.max / 1e6 : 0;
      this.loopDelay.set(this.phase, { p99: Math.max(prevDelay?.p99 ?? 0, p99), max: Math.max(prevDelay?.max ?? 0, max) });
      this.monitor.reset();
    }
    const prev = this.spans.get(this.phase);
    if (prev) prev.to = now;
    this.phase = name;
    const span = this.spans.get(name);
    if (span) span.to = now;
    else this.spans.set(name, { from: now, to: now });
  }

  start(): void {
    this.monitor = monitorEventLoopDelay({ resolution: 5 });
    this.monitor.enable();
    this.started = performance.now();
    this.next = this.started;
    this.setPhase(this.phase);
    const interval = 1000 / this.rate;
    const tick = (): void => {
      const now = performance.now();
      while (this.next <= now) {
        this.issue(this.next);
        this.next += interval;
      }
      this.timer = setTimeout(tick, 1);
    };
    tick();
  }

  private rand(): number {
    // xorshift32: cheap and deterministic.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed / 0x1_0000_0000;
  }

  private phaseStats(name: string): PhaseStats {
    let s = this.stats.get(name);
    if (!s) {
      s = { ops: 0, errors: 0, errorSamples: [], gets: 0, hits: 0, hist: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }) };
      this.stats.set(name, s);
    }
    return s;
  }

  private issue(intended: number): void {
    const s = this.phaseStats(this.phase);
    const key = benchKey(Math.floor(this.rand() * this.keys));
    const isGet = this.rand() < this.getRatio;
    this.inFlight++;
    const p: Promise<unknown> = isGet ? this.client.getBuffer(key) : this.client.set(key, this.value);
    p.then(
      (r) => {
        if (isGet) {
          s.gets++;
          if (r !== null) s.hits++;
        }
      },
      (err: unknown) => {
        s.errors++;
        const msg = err instanceof Error ? err.message : String(err);
        if (s.errorSamples.length < 5 && !s.errorSamples.includes(msg)) s.errorSamples.push(msg);
      },
    ).finally(() => {
      this.inFlight--;
      s.ops++;
      s.hist.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
    });
  }

  /** Stops issuing, then waits (bounded) for the operations in flight. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.setPhase('stopped');
    this.monitor?.disable();
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  summary(name: string): PhaseSummary {
    const s = this.phaseStats(name);
    const span = this.spans.get(name);
    const seconds = span ? (span.to - span.from) / 1000 : NaN;
    const ms = (p: number): number => (s.ops > 0 ? s.hist.getValueAtPercentile(p) / 1000 : NaN);
    return {
      phase: name, seconds, ops: s.ops, opsPerSec: s.ops / seconds, errors: s.errors, errorSamples: s.errorSamples,
      getHitRatio: s.gets > 0 ? s.hits / s.gets : NaN, p50Ms: ms(50), p99Ms: ms(99), p999Ms: ms(99.9), maxMs: s.ops > 0 ? s.hist.maxValue / 1000 : NaN,
      clientLoopDelayP99Ms: this.loopDelay.get(name)?.p99 ?? NaN, clientLoopDelayMaxMs: this.loopDelay.get(name)?.max ?? NaN,
    };
  }

  destroy(): void {
    for (const s of this.stats.values()) s.hist.destroy();
  }
}

/** GETs the bench keys `indices` through the client (pipelined in chunks); returns how many were found. */
export async function countHits(client: Cluster, indices: readonly number[], chunk = 500): Promise<{ hits: number; errors: number }> {
  let hits = 0;
  let errors = 0;
  for (let i = 0; i < indices.length; i += chunk) {
    const part = indices.slice(i, i + chunk);
    const replies = await Promise.allSettled(part.map((k) => client.getBuffer(benchKey(k))));
    for (const r of replies) {
      if (r.status === 'rejected') errors++;
      else if (r.value !== null) hits++;
    }
  }
  return { hits, errors };
}

/** `count` distinct pseudo-random key indices below n (all of them when count >= n). */
export function sampleIndices(n: number, count: number, seed = 12345): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const chosen = new Set<number>();
  let x = seed >>> 0 || 1;
  while (chosen.size < count) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    chosen.add(x % n);
  }
  return [...chosen];
}

export function isRespError(v: RespValue): v is RespError {
  return v instanceof RespError;
}

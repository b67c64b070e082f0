/**
 * Per-command statistics, as Redis's INFO commandstats keeps them (calls,
 * time, rejected and failed calls), plus a latency histogram per command for
 * the metrics endpoint. Pure and flat: counters live in typed arrays indexed
 * by the command's id (CommandSpec.id), so recording a call is a few array
 * writes on the hot path, with no Map lookup and no allocation.
 */
import type { CommandSpec } from './table.js';

/**
 * Latency bucket upper bounds in seconds: powers of two from 1 µs to about
 * 1 s (a command slower than that lands in +Inf). Bucket b holds calls whose
 * whole microseconds are below 2^b, found with one Math.clz32.
 */
export const LATENCY_BUCKETS_S: readonly number[] = Array.from({ length: 21 }, (_, b) => 2 ** b / 1e6);
const BUCKETS = LATENCY_BUCKETS_S.length + 1;

export interface CommandStat {
  readonly name: string;
  readonly calls: number;
  readonly usec: number;
  readonly rejected: number;
  readonly failed: number;
  /** Per bucket of LATENCY_BUCKETS_S, then +Inf; not cumulative. */
  readonly buckets: readonly number[];
}

export class CommandStats {
  private calls = new Float64Array(64);
  private usec = new Float64Array(64);
  private rejectedCalls = new Float64Array(64);
  private failedCalls = new Float64Array(64);
  private latency = new Float64Array(64 * BUCKETS);
  /** The spec behind each id seen, for names. */
  private readonly specs: Array<CommandSpec | undefined> = [];

  /** A call that ran, for `micros` microseconds; `failed`: it replied with an error. */
  ran(spec: CommandSpec, micros: number, failed: boolean): void {
    const id = spec.id;
    if (id >= this.calls.length) this.grow(id);
    this.specs[id] = spec;
    this.calls[id]!++;
    this.usec[id]! += micros;
    if (failed) this.failedCalls[id]!++;
    const whole = micros < 1 ? 0 : Math.floor(micros);
    // whole < 2^b for the first such b: b = 32 - clz32(whole) (0 for whole 0).
    const b = Math.min(32 - Math.clz32(whole), BUCKETS - 1);
    this.latency[id * BUCKETS + b]!++;
  }

  /** A call refused before it ran (arity, auth, OOM, MOVED, CROSSSLOT...): Redis's rejected_calls. */
  rejected(spec: CommandSpec): void {
    const id = spec.id;
    if (id >= this.calls.length) this.grow(id);
    this.specs[id] = spec;
    this.rejectedCalls[id]!++;
  }

  /** Every command called or rejected since the last reset, by name. */
  list(): CommandStat[] {
    const out: CommandStat[] = [];
    for (let id = 0; id < this.specs.length; id++) {
      const spec = this.specs[id];
      if (spec === undefined) continue;
      const start = id * BUCKETS;
      out.push({
        name: spec.name,
        calls: this.calls[id]!,
        usec: this.usec[id]!,
        rejected: this.rejectedCalls[id]!,
        failed: this.failedCalls[id]!,
        buckets: Array.from(this.latency.subarray(start, start + BUCKETS)),
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** CONFIG RESETSTAT. */
  reset(): void {
    for (const a of [this.calls, this.usec, this.rejectedCalls, this.failedCalls, this.latency]) a.fill(0);
    this.specs.length = 0;
  }

  private grow(id: number): void {
    const size = Math.max(id + 1, this.calls.length * 2);
    const widen = (a: Float64Array<ArrayBuffer>, per = 1): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(size * per);
      b.set(a);
      return b;
    };
    this.calls = widen(this.calls);
    this.usec = widen(this.usec);
    this.rejectedCalls = widen(this.rejectedCalls);
    this.failedCalls = widen(this.failedCalls);
    this.latency = widen(this.latency, BUCKETS);
  }
}

/** INFO commandstats, in Redis 7.0's format (cmdstat_get:calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..). */
export function commandstatsText(stats: readonly CommandStat[]): string {
  const lines = ['# Commandstats'];
  for (const s of stats) {
    const perCall = s.calls > 0 ? (s.usec / s.calls).toFixed(2) : '0.00';
    lines.push(`cmdstat_${s.name}:calls=${s.calls},usec=${Math.round(s.usec)},usec_per_call=${perCall},rejected_calls=${s.rejected},failed_calls=${s.failed}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * What the workload measures, per second and per phase: operations, errors by
 * type (and by the node that owns the key), hits and misses, and latency in HDR
 * histograms (hdr-histogram-js, its pure-JS build: no WebAssembly to load).
 * Latencies are recorded in microseconds and reported in milliseconds.
 *
 * A run (one cluster's lifetime) has one Recorder; seconds are counted from the
 * run's start, so the phases of a run (a concurrency sweep, a load after a
 * restart) share one timeline. Only successful operations have a latency.
 * Pure apart from the histograms' memory: times are passed in.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  /** Milliseconds; null when nothing was recorded. */
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

export interface SecondSample {
  /** Seconds since the run began (the start of this second). */
  t: number;
  ops: number;
  reads: number;
  writes: number;
  hits: number;
  misses: number;
  errors: number;
  errorsByType: Record<string, number>;
  /** Errors by the owner of the key (a node id), when the workload knows owners. */
  errorsByOwner: Record<string, number>;
  latency: LatencySummary;
}

export interface PhaseSummary {
  name: string;
  /** ms since the run began. */
  start: number;
  end: number;
  /** Concurrency and the like, for sweeps. */
  params: Record<string, number | string>;
  ops: number;
  reads: number;
  writes: number;
  hits: number;
  misses: number;
  errors: number;
  errorsByType: Record<string, number>;
  errorsByOwner: Record<string, number>;
  /** ops / (end - start). */
  opsPerSec: number;
  latency: LatencySummary;
}

/** Error types kept apart; beyond this many distinct ones, the rest are counted as 'other'. */
const MAX_ERROR_TYPES = 24;
/** Error times kept for recovery measurements (the first ones of the run). */
const MAX_ERROR_TIMES = 200_000;

export function newHistogram(): Histogram {
  return build({ useWebAssembly: false, bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50: null, p99: null, p999: null, max: null, mean: null };
  const ms = (us: number) => Math.round(us) / 1000;
  return { count: h.totalCount, p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue), mean: ms(h.mean) };
}

interface Counts {
  ops: number;
  reads: number;
  writes: number;
  hits: number;
  misses: number;
  errors: number;
  errorsByType: Record<string, number>;
  errorsByOwner: Record<string, number>;
}

const zero = (): Counts => ({ ops: 0, reads: 0, writes: 0, hits: 0, misses: 0, errors: 0, errorsByType: {}, errorsByOwner: {} });

export class Recorder {
  private readonly seconds: SecondSample[] = [];
  private current = zero();
  private currentSecond = 0;
  private readonly secondHist = newHistogram();
  private phase: { name: string; start: number; params: Record<string, number | string>; counts: Counts; hist: Histogram } | undefined;
  private readonly phases: PhaseSummary[] = [];
  private readonly errorTypes = new Set<string>();
  /** ms since the run began, of errors, in order (bounded). */
  readonly errorTimes: number[] = [];

  /** Starts counting a phase at time `at` (ms since the run began). */
  beginPhase(name: string, at: number, params: Record<string, number | string> = {}): void {
    if (this.phase !== undefined) this.endPhase(at);
    this.phase = { name, start: at, params, counts: zero(), hist: newHistogram() };
  }

  /** Ends the current phase and returns its summary. */
  endPhase(at: number): PhaseSummary | undefined {
    const p = this.phase;
    if (p === undefined) return undefined;
    this.phase = undefined;
    const seconds = Math.max(0.001, (at - p.start) / 1000);
    const summary: PhaseSummary = { name: p.name, start: p.start, end: at, params: p.params, ...p.counts, opsPerSec: Math.round(p.counts.ops / seconds), latency: summarize(p.hist) };
    p.hist.destroy();
    this.phases.push(summary);
    return summary;
  }

  /** A successful operation that completed at `at` (ms) after `latencyUs` microseconds. hit: for reads, whether a value came back. */
  ok(kind: 'read' | 'write', at: number, latencyUs: number, hit = false): void {
    this.advance(at);
    const us = Math.max(1, Math.round(latencyUs));
    this.secondHist.recordValue(us);
    this.phase?.hist.recordValue(us);
    for (const c of this.targets()) {
      c.ops++;
      if (kind === 'read') {
        c.reads++;
        if (hit) c.hits++;
        else c.misses++;
      } else c.writes++;
    }
  }

  /** A failed operation at `at` (ms): its error type and, if known, the node that owns its key. */
  error(at: number, type: string, owner?: string): void {
    this.advance(at);
    if (!this.errorTypes.has(type)) {
      if (this.errorTypes.size >= MAX_ERROR_TYPES) type = 'other';
      else this.errorTypes.add(type);
    }
    for (const c of this.targets()) {
      c.errors++;
      c.errorsByType[type] = (c.errorsByType[type] ?? 0) + 1;
      if (owner !== undefined) c.errorsByOwner[owner] = (c.errorsByOwner[owner] ?? 0) + 1;
    }
    if (this.errorTimes.length < MAX_ERROR_TIMES) this.errorTimes.push(at);
  }

  private targets(): Counts[] {
    return this.phase === undefined ? [this.current] : [this.current, this.phase.counts];
  }

  /** Closes every second before the one `at` (ms) falls in. Call once a second so quiet seconds appear too. */
  advance(at: number): void {
    const second = Math.floor(at / 1000);
    while (this.currentSecond < second) {
      this.closeSecond();
      this.currentSecond++;
    }
  }

  private closeSecond(): void {
    // Seconds between phases (nothing running) are left out, so the charts show gaps, not zeros.
    const c = this.current;
    const active = this.phase !== undefined || c.ops + c.errors > 0;
    if (active) this.seconds.push({ t: this.currentSecond, ...c, latency: summarize(this.secondHist) });
    this.secondHist.reset();
    this.current = zero();
  }

  /** For the progress line: the last closed second and the current phase's errors so far. */
  live(): { opsPerSec: number; errors: number; p99: number | null } {
    const last = this.seconds[this.seconds.length - 1];
    return { opsPerSec: last?.ops ?? 0, errors: this.phase?.counts.errors ?? this.current.errors, p99: last?.latency.p99 ?? null };
  }

  /** Every closed second. */
  series(): SecondSample[] {
    return this.seconds;
  }

  phaseSummaries(): PhaseSummary[] {
    return this.phases;
  }

  /** Closes the current second (end of the run). */
  finish(at: number): void {
    if (this.phase !== undefined) this.endPhase(at);
    this.advance(at);
    if (this.current.ops + this.current.errors > 0) this.closeSecond();
    this.secondHist.destroy();
  }
}

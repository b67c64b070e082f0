/**
 * Verdicts: what a run measured, held against the stated promise of the mode
 * in use. A verdict is PASS or FAIL against a bound, or INFO where the mode
 * promises nothing and the figure is reported as it is (with no replicas, a
 * dead node's keys are lost: "loss expected, reported"). Verdicts of the
 * comparison system (Redis Cluster) are shown but do not gate the exit code.
 * Pure: measures are computed from a RunResult.
 */
import type { RunResult } from './run.js';

export type VerdictStatus = 'PASS' | 'FAIL' | 'INFO';

export interface Verdict {
  status: VerdictStatus;
  /** What is promised or measured, e.g. "no wrong values". */
  name: string;
  /** The figure, e.g. "0" or "1.3 s". */
  value: string;
  /** The bound, e.g. "= 0" or "<= 2 s", or why it is only reported. */
  bound: string;
  /** Counts for the exit code (false for comparison systems). */
  gating: boolean;
}

const verdict = (name: string, value: string, bound: string, pass: boolean | null, gating = true): Verdict => ({ status: pass === null ? 'INFO' : pass ? 'PASS' : 'FAIL', name, value, bound, gating });

/** A bound on a count: value <= max. */
export function atMost(name: string, value: number, max: number): Verdict {
  return verdict(name, String(value), max === 0 ? '= 0' : `<= ${max}`, value <= max);
}

/** A figure that is reported, not judged, with the reason. */
export function reported(name: string, value: string, why: string): Verdict {
  return verdict(name, value, why, null);
}

/** A time bound in seconds. */
export function withinSeconds(name: string, seconds: number | null, max: number): Verdict {
  return verdict(name, seconds === null ? 'never' : `${seconds.toFixed(2)} s`, `<= ${max} s`, seconds !== null && seconds <= max);
}

export function passIf(name: string, value: string, bound: string, pass: boolean): Verdict {
  return verdict(name, value, bound, pass);
}

/** The verdicts every run gets: no wrong values, faults injected as planned, the checker saw enough. */
export function commonVerdicts(runs: readonly RunResult[]): Verdict[] {
  const wrong = runs.reduce((n, r) => n + r.check.wrongValues, 0);
  const failedFaults = runs.flatMap((r) => r.faults.filter((f) => f.error !== null || f.start === null));
  const checked = runs.reduce((n, r) => n + r.check.reads.checked, 0);
  const out = [atMost('no wrong values (a value never written for its key)', wrong, 0)];
  const faults = runs.reduce((n, r) => n + r.faults.length, 0);
  if (faults > 0) out.push(passIf('faults injected and undone as planned', `${faults - failedFaults.length} of ${faults}`, 'all', failedFaults.length === 0));
  out.push(passIf('reads checked', String(checked), '> 0', checked > 0));
  return out;
}

/** Marks verdicts as the comparison system's: shown, not gating. */
export function asComparison(verdicts: Verdict[]): Verdict[] {
  return verdicts.map((v) => ({ ...v, gating: false }));
}

/** 1 when a gating verdict failed, else 0. */
export function exitCodeFor(verdicts: readonly Verdict[]): 0 | 1 {
  return verdicts.some((v) => v.gating && v.status === 'FAIL') ? 1 : 0;
}

// ---- measures --------------------------------------------------------------

/** Errors (all keys) at or after time `from` (ms) and before `to`. */
export function errorsBetween(run: RunResult, from: number, to = Infinity): number {
  return run.errorTimes.filter((t) => t >= from && t < to).length;
}

/** Errors on keys owned by nodes other than `node`, in the seconds overlapping [from, to) (ms). */
export function errorsOnOtherNodes(run: RunResult, node: string, from: number, to: number): number {
  let n = 0;
  for (const s of run.series) {
    if ((s.t + 1) * 1000 <= from || s.t * 1000 >= to) continue;
    for (const [owner, count] of Object.entries(s.errorsByOwner)) if (owner !== node) n += count;
  }
  return n;
}

/** Time from `from` (ms) to the last error before `to`, in seconds; 0 when there was none. */
export function secondsToLastError(run: RunResult, from: number, to = Infinity): number {
  let last = from;
  for (const t of run.errorTimes) if (t >= from && t < to) last = t;
  return (last - from) / 1000;
}

/** Lost writes on keys owned by `node`, and on every other node. */
export function lostByNode(run: RunResult, node: string): { on: number; elsewhere: number } {
  let on = 0;
  let elsewhere = 0;
  for (const [owner, n] of Object.entries(run.check.lostWritesByOwner)) {
    if (owner === node) on += n;
    else elsewhere += n;
  }
  return { on, elsewhere };
}

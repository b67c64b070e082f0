// CPU time a process has used so far, read from Linux's /proc: what a server
// spends per request, next to the ops/s it reached. On a shared machine it is
// noisy too (caches, frequency, how many clients are ready per wake-up), but
// it tells a server that is slower because it works more from one that was
// given less of the cores.
//
// The source is the sum over the process's threads of the first field of
// /proc/<pid>/task/<tid>/schedstat (nanoseconds on a CPU, user and kernel
// alike), so GC and I/O helper threads count as they should. Where schedstat
// is missing, or reads all zeros (kernels without CONFIG_SCHED_INFO, or with
// schedstats off), it falls back to utime+stime of /proc/<pid>/stat, in clock
// ticks (10 ms at the usual 100 Hz). A thread that exits between two readings
// takes its time with it; the servers measured here keep theirs for their
// whole life, and a reading that goes backwards is reported as unknown by the
// caller (cpuDeltaMs).
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: the unit of utime/stime in /proc/<pid>/stat on every architecture Node runs on. */
const CLOCK_TICKS_PER_S = 100;

/** Nanoseconds on a CPU from one schedstat line ("<run ns> <wait ns> <slices>"); null if malformed. */
export function parseSchedstat(text: string): number | null {
  const first = text.trim().split(/\s+/, 1)[0] ?? '';
  return /^\d+$/.test(first) ? Number(first) : null;
}

/**
 * utime+stime in nanoseconds from a /proc/<pid>/stat line; null if malformed.
 * The command name (field 2) is in parentheses and may hold spaces and ')',
 * so fields are counted from the last ')'.
 */
export function parseStatCpuNs(text: string): number | null {
  return statTicksNs(text, 14);
}

/**
 * cutime+cstime in nanoseconds from a /proc/<pid>/stat line: the CPU time of
 * the process's children that have exited and been waited for (a finished
 * redis-benchmark run, once Node has reaped it); null if malformed.
 */
export function parseStatChildrenCpuNs(text: string): number | null {
  return statTicksNs(text, 16);
}

/** The sum of stat fields `field` and `field + 1` (clock ticks), in ns. */
function statTicksNs(text: string, field: number): number | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // fields[0] is field 3 (state).
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const a = fields[field - 3];
  const b = fields[field - 2];
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return null;
  return ((Number(a) + Number(b)) * 1e9) / CLOCK_TICKS_PER_S;
}

/**
 * CPU time used so far by this process's exited and reaped children, in ns
 * (10 ms ticks); null where /proc cannot be read. Around one child's run, with
 * no other child exiting meanwhile, the difference is that child's CPU time.
 */
export function reapedChildrenCpuNs(proc = '/proc'): number | null {
  try {
    return parseStatChildrenCpuNs(readFileSync(`${proc}/self/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * CPU time used so far by process `pid`, all threads, in ns; null when it
 * cannot be read (not Linux, process gone). `proc` is for tests.
 */
export function processCpuNs(pid: number | undefined, proc = '/proc'): number | null {
  if (pid === undefined) return null;
  const dir = `${proc}/${pid}`;
  try {
    // Throws where the kernel has no schedstat at all: then the fallback below.
    readFileSync(`${dir}/schedstat`, 'utf8');
    let total = 0;
    for (const tid of readdirSync(`${dir}/task`)) {
      let text: string;
      try {
        text = readFileSync(`${dir}/task/${tid}/schedstat`, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ESRCH') continue; // the thread exited after readdir
        throw err;
      }
      const ns = parseSchedstat(text);
      if (ns === null) throw new Error('malformed schedstat');
      total += ns;
    }
    if (total > 0) return total;
    // All zeros: the kernel keeps no schedstats. Fall through to stat.
  } catch {
    // No usable schedstat: fall through to stat.
  }
  try {
    return parseStatCpuNs(readFileSync(`${dir}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** CPU time between two readings of processCpuNs, in ms (µs precision); null if either is unknown or it went backwards. */
export function cpuDeltaMs(before: number | null, after: number | null): number | null {
  if (before === null || after === null || after < before) return null;
  return Math.round((after - before) / 1e3) / 1e3;
}

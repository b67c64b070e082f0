// CPU time a process has used so far, read from Linux's /proc: what a server
// spends per request, which other load on a shared machine disturbs far less
// than it disturbs ops/s (a busy neighbour takes cores away; it does not make
// a request cost more instructions).
//
// The source is the sum over the process's threads of the first field of
// /proc/<pid>/task/<tid>/schedstat (nanoseconds on a CPU, user and kernel
// alike), so GC and I/O helper threads count as they should. Where schedstat
// is missing (kernels without CONFIG_SCHED_INFO) it falls back to utime+stime
// of /proc/<pid>/stat, in clock ticks (10 ms at the usual 100 Hz). A thread
// that exits between two readings takes its time with it; the servers measured
// here keep theirs for their whole life.
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
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = fields[11];
  const stime = fields[12];
  if (utime === undefined || stime === undefined || !/^\d+$/.test(utime) || !/^\d+$/.test(stime)) return null;
  return ((Number(utime) + Number(stime)) * 1e9) / CLOCK_TICKS_PER_S;
}

/** CPU time used so far by process `pid`, all threads, in ns; null when it cannot be read (not Linux, gone). */
export function processCpuNs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Throws where the kernel has no schedstat at all: then the fallback below.
    readFileSync(`/proc/${pid}/schedstat`, 'utf8');
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // the thread exited after readdir
        throw err;
      }
      const ns = parseSchedstat(text);
      if (ns === null) throw new Error('malformed schedstat');
      total += ns;
    }
    return total;
  } catch {
    try {
      return parseStatCpuNs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return null;
    }
  }
}

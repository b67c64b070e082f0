// Running redis-benchmark and reading its --csv output. We parse by header
// name rather than position and skip anything that is not a data row, so
// warnings on stdout or a reordered/extended column set in another
// redis-benchmark version do not silently shift numbers into wrong fields.
import { LOOPBACK } from './ports.js';
import { describeExit, spawnTracked, stopProcess } from './processes.js';

export interface BenchmarkRow {
  /** Test name as printed, e.g. "SET" or "MSET (10 keys)". */
  name: string;
  /** Lower-case first word, matching the -t name: "set", "mset". */
  test: string;
  rps: number;
  avgLatencyMs: number;
  minLatencyMs: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
  p99LatencyMs: number;
  maxLatencyMs: number;
}

export interface RedisBenchmarkArgs {
  port: number;
  /** -t test names, e.g. ["set"]. */
  tests: readonly string[];
  clients: number;
  requests: number;
  pipeline: number;
  /** -d value size in bytes. */
  dataSize: number;
  /** -r keyspace size (random keys); omitted when undefined. */
  keyspace?: number | undefined;
  /** redis-benchmark executable (default "redis-benchmark"). */
  bin?: string | undefined;
  /** Hard limit for the whole invocation; the process is killed after it (default 120 s). */
  timeoutMs?: number | undefined;
  extraArgs?: readonly string[] | undefined;
}

export interface RedisBenchmarkResult {
  rows: BenchmarkRow[];
  argv: string[];
  durationMs: number;
  /** stderr (e.g. "WARNING: Could not fetch server CONFIG"); kept for the record. */
  stderr: string;
}

/**
 * Tests redis-benchmark has no -t name for, run as a command line instead
 * (its CSV row is then named by the command, whose first word is the test).
 * They read what the built-in tests of the same type write: HGET the fields
 * of HSET's myhash (element:__rand_int__, so -r applies), ZRANGE 10 members of
 * ZADD's myzset.
 */
export const CUSTOM_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  hget: ['HGET', 'myhash', 'element:__rand_int__'],
  zrange: ['ZRANGE', 'myzset', '0', '9'],
};

export function redisBenchmarkArgv(a: RedisBenchmarkArgs): string[] {
  const argv = [a.bin ?? 'redis-benchmark', '-h', LOOPBACK, '-p', String(a.port)];
  argv.push('-c', String(a.clients), '-n', String(a.requests), '-P', String(a.pipeline), '-d', String(a.dataSize));
  if (a.keyspace !== undefined) argv.push('-r', String(a.keyspace));
  const custom = a.tests.length === 1 ? CUSTOM_COMMANDS[a.tests[0]!.toLowerCase()] : undefined;
  if (custom) argv.push('--csv', ...(a.extraArgs ?? []), ...custom);
  else argv.push('-t', a.tests.join(','), '--csv', ...(a.extraArgs ?? []));
  return argv;
}

/**
 * Runs redis-benchmark once and returns the parsed CSV rows. Throws on a
 * non-zero exit (redis-benchmark 7 exits 1 on the first error reply, which
 * is what we want: error replies must not count as throughput), on timeout,
 * or when a requested test is missing from the output.
 */
export async function runRedisBenchmark(a: RedisBenchmarkArgs): Promise<RedisBenchmarkResult> {
  const argv = redisBenchmarkArgv(a);
  const timeoutMs = a.timeoutMs ?? 120_000;
  const started = performance.now();
  const proc = spawnTracked(argv, { captureLimit: 64 * 1024 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopProcess(proc, 1000, 2000);
  }, timeoutMs);
  const info = await proc.exited;
  clearTimeout(timer);
  const durationMs = performance.now() - started;
  const stdout = proc.stdout();
  const stderr = proc.stderr().trim();
  const detail = (stderr || stdout).trim().split('\n').slice(-4).join(' | ');
  if (timedOut) throw new Error(`redis-benchmark timed out after ${Math.round(timeoutMs / 1000)} s (${detail || 'no output'})`);
  if (info.code !== 0) throw new Error(`redis-benchmark failed (${describeExit(info)}): ${detail || 'no output'}`);
  const rows = parseBenchmarkCsv(stdout);
  const missing = a.tests.filter((t) => !rows.some((r) => r.test === t.toLowerCase()));
  if (missing.length > 0) throw new Error(`redis-benchmark output has no row for ${missing.join(', ')}: ${JSON.stringify(stdout.slice(0, 300))}`);
  return { rows, argv, durationMs, stderr };
}

const COLUMNS: Record<string, Exclude<keyof BenchmarkRow, 'name' | 'test'>> = {
  rps: 'rps',
  avg_latency_ms: 'avgLatencyMs',
  min_latency_ms: 'minLatencyMs',
  p50_latency_ms: 'p50LatencyMs',
  p95_latency_ms: 'p95LatencyMs',
  p99_latency_ms: 'p99LatencyMs',
  max_latency_ms: 'maxLatencyMs',
};

/** redis-benchmark 7.x column order, used only if the header line is missing. */
const DEFAULT_HEADER = ['test', ...Object.keys(COLUMNS)];

export function parseBenchmarkCsv(text: string): BenchmarkRow[] {
  let header: string[] | undefined;
  const rows: BenchmarkRow[] = [];
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    const line = rawLine.trim();
    if (!line.startsWith('"')) continue; // warnings, progress, blank lines
    const fields = splitCsvLine(line);
    const lower = fields.map((f) => f.trim().toLowerCase());
    if (lower.includes('test') && lower.includes('rps')) {
      header = lower;
      continue;
    }
    const cols = header ?? DEFAULT_HEADER;
    const name = fields[cols.indexOf('test')] ?? '';
    const row: BenchmarkRow = {
      name,
      test: name.split(/\s+/)[0]?.toLowerCase() ?? '',
      rps: NaN, avgLatencyMs: NaN, minLatencyMs: NaN, p50LatencyMs: NaN,
      p95LatencyMs: NaN, p99LatencyMs: NaN, maxLatencyMs: NaN,
    };
    cols.forEach((col, i) => {
      const key = COLUMNS[col];
      if (key) row[key] = Number(fields[i]);
    });
    // Older versions print only test,rps; latency columns then stay NaN.
    if (name && Number.isFinite(row.rps)) rows.push(row);
  }
  return rows;
}

/** Splits one CSV line with RFC 4180 quoting ("" is an escaped quote). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

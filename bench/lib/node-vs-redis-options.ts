// Command-line options of bench/node-vs-redis.ts, kept apart from the runner
// so they can be unit-tested. node:util parseArgs keeps this dependency-free.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './servers.js';

/**
 * Five, not three: on the shared 2-core machines one server's pipeline-1 ops/s
 * moved by up to 50% between runs a minute apart (the neighbours' load), so a
 * median of three was often one bad run away from another verdict.
 */
export const DEFAULT_REPS = 5;

/** Strings, then the container commands of issue #18 (each reader after its writer: HGET after HSET, LPOP after LPUSH, ZRANGE after ZADD). */
export const SUPPORTED_TESTS = ['set', 'get', 'incr', 'mset', 'hset', 'hget', 'lpush', 'lpop', 'sadd', 'zadd', 'zrange'] as const;
export type TestName = (typeof SUPPORTED_TESTS)[number];

export interface Options {
  help: boolean;
  quick: boolean;
  reps: number;
  tests: TestName[];
  pipelines: number[];
  sizes: number[];
  clients: number;
  keyspace: number;
  /** -n at pipeline 1. */
  requests: number;
  /** -n at pipeline > 1 (pipelining makes each request much cheaper). */
  requestsPipelined: number;
  /** -n per test for the unrecorded warm-up pass (0 = none). */
  warmup: number;
  maxmemory: string;
  outDir: string;
  /** Ringcache command template ({port}, {maxmemory}); undefined = bin/ringcache.js. */
  ringcacheCmd: string | undefined;
  redisServerBin: string;
  redisBenchmarkBin: string;
  /** Per redis-benchmark invocation. */
  timeoutMs: number;
  /** Also measure the Node floor (bench/lib/node-floor-server.ts) in every case. */
  floor: boolean;
}

/** Thrown for bad command lines; the runner prints it as one line and exits 2. */
export class UsageError extends Error {}

export const USAGE = `Usage: node --import tsx bench/node-vs-redis.ts [options]

Runs redis-benchmark against ringcache and redis-server alternately and
reports median ops/s, p50/p99 latency and the ringcache/redis ratio. A third
server, the Node floor, runs in turn with them as a control: how fast a Node
server with ringcache's socket code and nothing behind it is on this machine.

  --quick                 smoke run: tiny request counts, 1 repetition
  --reps N                repetitions per case, median reported (default ${DEFAULT_REPS}; --quick: 1)
  --tests LIST            comma list of ${SUPPORTED_TESTS.join(',')} (default: all)
  --pipelines LIST        -P values (default 1,16)
  --sizes LIST            -d value sizes in bytes, k suffix allowed (default 32,1024)
  --clients N             -c (default 50)
  --keyspace N            -r random keyspace (default 100000)
  --requests N            -n at pipeline 1 (default 100000; --quick: 2000)
  --requests-pipelined N  -n at pipeline > 1 (default 1000000; --quick: 20000)
                          (MSET runs use a quarter of -n: each MSET op writes 10 keys)
  --warmup N              -n per test of an unrecorded warm-up pass per server (default 20000; --quick: 1000; 0 = off)
  --maxmemory SIZE        maxmemory for both servers (default 1gb)
  --out DIR               results directory (default bench/results)
  --ringcache-cmd CMD     ringcache command template with {port} and optionally {maxmemory}
                          (env RINGCACHE_CMD; default: node bin/ringcache.js server --port {port} --bind 127.0.0.1 --maxmemory {maxmemory})
  --redis-server PATH     redis-server executable (default redis-server)
  --redis-benchmark PATH  redis-benchmark executable (default redis-benchmark)
  --timeout SECONDS       limit per redis-benchmark invocation (default 120)
  --no-floor              skip the Node floor, a control server that answers constants
                          through ringcache's own socket and protocol code (bench/lib/node-floor-server.ts)
  -h, --help              show this help
`;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        quick: { type: 'boolean' },
        reps: { type: 'string' },
        tests: { type: 'string' },
        pipelines: { type: 'string' },
        sizes: { type: 'string' },
        clients: { type: 'string' },
        keyspace: { type: 'string' },
        requests: { type: 'string' },
        'requests-pipelined': { type: 'string' },
        warmup: { type: 'string' },
        maxmemory: { type: 'string' },
        out: { type: 'string' },
        'ringcache-cmd': { type: 'string' },
        'redis-server': { type: 'string' },
        'redis-benchmark': { type: 'string' },
        timeout: { type: 'string' },
        'no-floor': { type: 'boolean' },
      },
    }));
  } catch (err) {
    // parseArgs messages can carry a multi-line hint; keep the first line.
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const quick = values['quick'] === true;
  const maxmemory = str('maxmemory') ?? '1gb';
  if (!/^\d+(\.\d+)?([kmg]b?)?$/i.test(maxmemory)) throw new UsageError(`--maxmemory: expected e.g. 1gb or 512mb, got "${maxmemory}"`);
  const ringcacheCmd = str('ringcache-cmd') ?? env['RINGCACHE_CMD'];
  if (ringcacheCmd !== undefined && ringcacheCmd.trim() !== '' && !ringcacheCmd.includes('{port}')) {
    throw new UsageError('--ringcache-cmd / RINGCACHE_CMD must contain {port}');
  }
  return {
    help: values['help'] === true,
    quick,
    reps: int('reps', str('reps'), quick ? 1 : DEFAULT_REPS, 1),
    tests: list('tests', str('tests'), [...SUPPORTED_TESTS], (s) => {
      const t = s.toLowerCase();
      if (!(SUPPORTED_TESTS as readonly string[]).includes(t)) throw new UsageError(`--tests: unknown test "${s}" (supported: ${SUPPORTED_TESTS.join(',')})`);
      return t as TestName;
    }),
    pipelines: list('pipelines', str('pipelines'), [1, 16], (s) => int('pipelines', s, 0, 1)),
    sizes: list('sizes', str('sizes'), [32, 1024], parseSize),
    clients: int('clients', str('clients'), 50, 1),
    keyspace: int('keyspace', str('keyspace'), 100_000, 1),
    requests: int('requests', str('requests'), quick ? 2_000 : 100_000, 1),
    requestsPipelined: int('requests-pipelined', str('requests-pipelined'), quick ? 20_000 : 1_000_000, 1),
    warmup: int('warmup', str('warmup'), quick ? 1_000 : 20_000, 0),
    maxmemory,
    outDir: resolve(str('out') ?? resolve(REPO_ROOT, 'bench', 'results')),
    ringcacheCmd: ringcacheCmd?.trim() ? ringcacheCmd : undefined,
    redisServerBin: str('redis-server') ?? 'redis-server',
    redisBenchmarkBin: str('redis-benchmark') ?? 'redis-benchmark',
    timeoutMs: int('timeout', str('timeout'), 120, 1) * 1000,
    floor: values['no-floor'] !== true,
  };
}

function int(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const s = raw.trim().replaceAll('_', '');
  if (!/^\d+$/.test(s) || Number(s) < min || !Number.isSafeInteger(Number(s))) {
    throw new UsageError(`--${flag}: expected an integer >= ${min}, got "${raw}"`);
  }
  return Number(s);
}

function list<T>(flag: string, raw: string | undefined, fallback: T[], parse: (s: string) => T): T[] {
  if (raw === undefined) return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${flag}: empty list`);
  return [...new Set(items.map(parse))];
}

/** "32" -> 32, "1k"/"1kb"/"1kib" -> 1024. */
function parseSize(s: string): number {
  const m = /^(\d+)\s*(k|kb|kib)?$/i.exec(s);
  const n = m ? Number(m[1]) * (m[2] ? 1024 : 1) : NaN;
  if (!(n >= 1 && n <= 64 * 1024 * 1024)) throw new UsageError(`--sizes: expected a byte count like 32 or 1k, got "${s}"`);
  return n;
}

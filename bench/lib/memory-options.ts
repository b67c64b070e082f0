// Command-line options of bench/memory.ts, kept apart from the runner so they
// can be unit-tested. node:util parseArgs keeps this dependency-free.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './servers.js';

export interface MemoryOptions {
  help: boolean;
  quick: boolean;
  /** Key counts to load, one fresh server per (count, value size, server). */
  keys: number[];
  valueSizes: number[];
  /** Key count at which the serving phase runs (default: the largest of `keys`); 0 = no serving phase. */
  serveKeys: number;
  /** redis-benchmark -n per test (GET and SET) in the serving phase. */
  serveRequests: number;
  clients: number;
  /** MiB for ringcache's V8 old space (NODE_OPTIONS=--max-old-space-size); undefined = Node's default. */
  maxOldSpaceMb: number | undefined;
  /** Limit per run (start, load, checks, serving), in ms. */
  timeoutMs: number;
  outDir: string;
  ringcacheCmd: string | undefined;
  redisServerBin: string;
  redisBenchmarkBin: string;
  /** Data-type cases (bench/lib/types-memory.ts): 'also' after the string cases (default), 'only' (--types), 'off' (--no-types). */
  types: 'also' | 'only' | 'off';
  /** Keys of 10 elements per type in the data-type cases. */
  typeKeys: number;
  /** Elements of the one large collection per type. */
  typeElements: number;
}

export class UsageError extends Error {}

export const QUICK_KEYS = 100_000;

export const USAGE = `Usage: node --import tsx bench/memory.ts [options]   (npm run bench:memory -- [options])

Loads N keys (key:%012d, 16 bytes) with values of each size into a fresh
ringcache and a fresh redis-server (no maxmemory), checks DBSIZE, and reports
used_memory and RSS per key above the empty server, and the ratio
ringcache/Redis. Reports ringcache's event-loop delay (INFO stats) while
loading, and at the largest key count runs redis-benchmark GET and SET on
random loaded keys against both servers (serving phase).

  --keys LIST             key counts, k/m suffix allowed (default 1m,10m; --quick: 100k)
  --sizes LIST            value sizes in bytes (default 32,100)
  --quick                 smoke run: ${QUICK_KEYS.toLocaleString('en-US')} keys, short serving phase
  --serve-keys N          key count of the serving phase (default: the largest --keys; 0 = none)
  --serve-requests N      redis-benchmark -n per test in the serving phase (default 200k; --quick: 20k)
  --clients N             redis-benchmark -c in the serving phase (default 50)
  --max-old-space-size MB start ringcache with NODE_OPTIONS=--max-old-space-size=MB
                          (default: off, Node's own heap limit)
  --timeout SECONDS       limit per run: start, load, checks and serving (default 300; --quick: 60)
  --out DIR               results directory (default bench/results)
  --ringcache-cmd CMD     ringcache command template with {port} (env RINGCACHE_CMD)
  --redis-server PATH     redis-server executable (default redis-server)
  --redis-benchmark PATH  redis-benchmark executable (default redis-benchmark)
  --types                 only the data-type cases (issue #18): per type (hash, list, set, zset)
                          --type-keys keys of 10 elements, then one key of --type-elements elements,
                          its DEL and its expiry (default: run after the string cases; --no-types: skip)
  --no-types              skip the data-type cases
  --type-keys N           keys of 10 elements per type (default 100k; --quick: 10k)
  --type-elements N       elements of the large collection (default 1m; --quick: 100k)
  -h, --help              show this help
`;

export function parseMemoryOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): MemoryOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        quick: { type: 'boolean' },
        keys: { type: 'string' },
        sizes: { type: 'string' },
        'serve-keys': { type: 'string' },
        'serve-requests': { type: 'string' },
        clients: { type: 'string' },
        'max-old-space-size': { type: 'string' },
        timeout: { type: 'string' },
        out: { type: 'string' },
        'ringcache-cmd': { type: 'string' },
        'redis-server': { type: 'string' },
        'redis-benchmark': { type: 'string' },
        types: { type: 'boolean' },
        'no-types': { type: 'boolean' },
        'type-keys': { type: 'string' },
        'type-elements': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const quick = values['quick'] === true;
  const keys = list('keys', str('keys'), quick ? [QUICK_KEYS] : [1_000_000, 10_000_000], (s) => count('keys', s, 1));
  keys.sort((a, b) => a - b);
  const valueSizes = list('sizes', str('sizes'), [32, 100], (s) => count('sizes', s, 1));
  const serveRaw = str('serve-keys');
  const serveKeys = serveRaw === undefined ? Math.max(...keys) : count('serve-keys', serveRaw, 0);
  if (serveKeys !== 0 && !keys.includes(serveKeys)) {
    throw new UsageError(`--serve-keys: ${serveKeys} is not one of --keys (${keys.join(',')})`);
  }
  const heapRaw = str('max-old-space-size');
  const ringcacheCmd = str('ringcache-cmd') ?? env['RINGCACHE_CMD'];
  if (ringcacheCmd !== undefined && ringcacheCmd.trim() !== '' && !ringcacheCmd.includes('{port}')) {
    throw new UsageError('--ringcache-cmd / RINGCACHE_CMD must contain {port}');
  }
  return {
    help: values['help'] === true,
    quick,
    keys,
    valueSizes,
    serveKeys,
    serveRequests: count('serve-requests', str('serve-requests') ?? (quick ? '20k' : '200k'), 1),
    clients: count('clients', str('clients') ?? '50', 1),
    maxOldSpaceMb: heapRaw === undefined ? undefined : count('max-old-space-size', heapRaw, 16),
    timeoutMs: count('timeout', str('timeout') ?? (quick ? '60' : '300'), 1) * 1000,
    outDir: resolve(str('out') ?? resolve(REPO_ROOT, 'bench', 'results')),
    ringcacheCmd: ringcacheCmd?.trim() ? ringcacheCmd : undefined,
    redisServerBin: str('redis-server') ?? 'redis-server',
    redisBenchmarkBin: str('redis-benchmark') ?? 'redis-benchmark',
    types: values['types'] === true ? 'only' : values['no-types'] === true ? 'off' : 'also',
    typeKeys: count('type-keys', str('type-keys') ?? (quick ? '10k' : '100k'), 1),
    typeElements: count('type-elements', str('type-elements') ?? (quick ? '100k' : '1m'), 1),
  };
}

/** "100000", "100_000", "100k", "10m" -> integer >= min. */
export function count(flag: string, raw: string, min: number): number {
  const m = /^(\d+(?:\.\d+)?)([km])?$/i.exec(raw.trim().replaceAll('_', ''));
  const scale = m?.[2] ? (m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : 1;
  const n = m ? Number(m[1]) * scale : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag}: expected an integer >= ${min} (k/m suffix allowed), got "${raw}"`);
  return n;
}

function list<T>(flag: string, raw: string | undefined, fallback: T[], parse: (s: string) => T): T[] {
  if (raw === undefined) return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${flag}: empty list`);
  return [...new Set(items.map(parse))];
}

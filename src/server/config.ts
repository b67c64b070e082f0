/**
 * Node configuration: one validated shape (zod) for every source, flags today,
 * a config file and environment variables later. Pure: no I/O.
 */
import { z } from 'zod';
import { EVICTION_POLICIES } from '../store/keyspace.js';

/** A bad setting; the CLI prints its message as one line and exits 2. */
export class ConfigError extends Error {}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};

/** Parses a memory size as Redis does: "100mb", "2gb", "1k" (1000), "1kb" (1024), "4096". */
export function parseMemory(text: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConfigError(`invalid memory size '${text}' (use a number of bytes with an optional unit: b, k, kb, m, mb, g, gb)`);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new ConfigError(`memory size '${text}' is too large`);
  return n;
}

/** Parses a CONFIG SET memory value as Redis does: digits and an optional unit, '' meaning 0. */
export function parseMemoryValue(text: string): number {
  if (text === '') return 0;
  const m = /^(\d+)([a-z]*)$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n)) throw new Error('argument must be a memory value');
  return n;
}

/** Formats bytes as INFO's *_human fields do: 1.50M, 12.00K, 512B. */
export function humanBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${v.toFixed(2)}${units[i]}`;
}

const memory = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  try {
    return parseMemory(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const port = z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 to 65535').max(65535, 'must be 0 to 65535');

export const nodeConfigSchema = z.object({
  port: port.default(7000),
  bind: z.string().min(1).default('127.0.0.1'),
  maxmemory: memory.default(0),
  maxmemoryPolicy: z.enum(EVICTION_POLICIES, { message: `must be one of ${EVICTION_POLICIES.join(', ')}` }).default('allkeys-s3fifo'),
  maxclients: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1_000_000).default(10_000),
  requirepass: z.string().default(''),
  /** Largest bulk string a client may send (proto-max-bulk-len). */
  protoMaxBulkLen: memory.default(512 * 1024 * 1024),
  /** Unsent replies to one client beyond which it is disconnected (a client that stopped reading). */
  clientOutputLimit: memory.default(256 * 1024 * 1024),
  /** Unparsed input from one client beyond which it is disconnected (client-query-buffer-limit). */
  clientQueryBufferLimit: memory.default(1024 * 1024 * 1024),
  /** Background cycles per second (active expiry), as Redis's hz. */
  hz: z.coerce.number().int().min(1).max(500).default(10),
  /** Most keys per second one outgoing slot move sends (0: as fast as the turn budget allows). */
  migrationRate: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').default(0),
});

export type NodeConfigInput = z.input<typeof nodeConfigSchema>;
export type NodeConfig = z.output<typeof nodeConfigSchema>;

/** Validates settings; throws a ConfigError naming the first bad one. */
export function parseNodeConfig(input: NodeConfigInput): NodeConfig {
  const r = nodeConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const name = issue.path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  throw new ConfigError(`invalid --${name}: ${issue.message}`);
}

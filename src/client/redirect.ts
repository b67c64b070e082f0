/** How the client reads cluster error replies and paces its retries. Pure. */
import type { ReplyError } from './errors.js';
import { parseAddress, type NodeAddress } from './topology.js';

/** A `-MOVED <slot> <host>:<port>` (the slot has a new owner) or `-ASK ...` (ask that node once) reply. */
export interface Redirect {
  kind: 'moved' | 'ask';
  slot: number;
  node: NodeAddress;
}

/** The redirect an error reply asks for, or undefined if it is not MOVED/ASK. */
export function parseRedirect(err: ReplyError): Redirect | undefined {
  if (err.prefix !== 'MOVED' && err.prefix !== 'ASK') return undefined;
  const parts = err.message.split(' ');
  if (parts.length < 3) return undefined;
  try {
    // Redis may answer `:port` (empty host) meaning "the node you asked"; the caller fills the host in.
    const target = parts[2]!.startsWith(':') ? { host: '', port: Number(parts[2]!.slice(1)) } : parseAddress(parts[2]!);
    return { kind: err.prefix === 'MOVED' ? 'moved' : 'ask', slot: Number(parts[1]), node: target };
  } catch {
    return undefined;
  }
}

/** Whether an error reply is transient cluster state worth retrying: TRYAGAIN (multi-key during migration) or CLUSTERDOWN. */
export function isTransientClusterError(err: ReplyError): boolean {
  return err.prefix === 'TRYAGAIN' || err.prefix === 'CLUSTERDOWN';
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`,
 * capped at `maxMs`, with "equal jitter" (half fixed, half random) so that many
 * clients retrying after the same failure do not arrive together.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

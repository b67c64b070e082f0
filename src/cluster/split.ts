/**
 * Proxy mode's multi-key commands: MGET, MSET, DEL, EXISTS, UNLINK and TOUCH
 * are split into one sub-command per owning node and their replies combined,
 * so a cluster-unaware client can send them to any node. Each sub-command is
 * atomic on its node; the whole is not (as with any Redis Cluster proxy).
 * A write that failed on some nodes only is answered INDOUBT, not with the
 * failing part's error: the other parts ran, and "failed" would be untrue.
 * Pure: no I/O.
 */
import type { Argv } from '../protocol/argv.js';
import { replyEnd } from '../protocol/reply-framer.js';
import { keySlotOf } from './key-slot.js';
import type { MapNode } from './cluster-map.js';
import type { ClusterState } from './cluster-state.js';

type Combine = 'array' | 'sum' | 'ok';

/** How each splittable command combines its parts, how many arguments one key carries, and whether it writes. */
export const SPLITTABLE: ReadonlyMap<string, { combine: Combine; stride: number; write: boolean }> = new Map([
  ['mget', { combine: 'array', stride: 1, write: false }],
  ['mset', { combine: 'ok', stride: 2, write: true }],
  ['del', { combine: 'sum', stride: 1, write: true }],
  ['unlink', { combine: 'sum', stride: 1, write: true }],
  ['exists', { combine: 'sum', stride: 1, write: false }],
  ['touch', { combine: 'sum', stride: 1, write: false }],
]);

export interface SplitPart {
  /** The owner; undefined for this node's own part. */
  node: MapNode | undefined;
  /** Positions in the original argv of this part's keys (the first argument of each stride). */
  keys: number[];
  /** The sub-command's arguments: the command name, then this part's keys (and values). */
  args: Buffer[];
}

/**
 * Groups a splittable command's keys by owner, keeping their order within each
 * group. Returns an error reply instead when a key's slot cannot be served now
 * (nothing has run yet, so the client may retry).
 */
export function splitByOwner(name: string, argv: Argv, state: ClusterState): SplitPart[] | { error: string } {
  const { stride } = SPLITTABLE.get(name)!;
  const parts = new Map<string, SplitPart>();
  for (let i = 1; i < argv.length; i += stride) {
    const slot = keySlotOf(argv.buf, argv.start[i]!, argv.end[i]!);
    const r = state.route(slot);
    if (r.kind === 'down') return { error: r.reason };
    if (r.kind === 'wait') return { error: `TRYAGAIN slot ${slot} is being handed over` };
    const node = r.kind === 'local' ? undefined : r.node;
    const key = node?.id ?? '';
    let part = parts.get(key);
    if (part === undefined) {
      part = { node, keys: [], args: [argv.copy(0)] };
      parts.set(key, part);
    }
    part.keys.push(i);
    for (let k = 0; k < stride; k++) part.args.push(argv.copy(i + k));
  }
  return [...parts.values()];
}

/** Combines the parts' raw replies into the reply the whole command would have had. */
export function combineReplies(name: string, parts: ReadonlyArray<{ keys: number[]; reply: Buffer }>): Buffer {
  const { combine, write } = SPLITTABLE.get(name)!;
  const failed = parts.filter((p) => p.reply[0] === 45 /* - */);
  if (failed.length > 0) {
    const first = failed[0]!.reply;
    const inDoubt = failed.some((p) => p.reply.latin1Slice(1, 9) === 'INDOUBT ');
    // A read's first error wins (retrying it is harmless); so does a write's when no part ran.
    if (!write || (failed.length === parts.length && !inDoubt)) return first;
    if (inDoubt && failed.length === parts.length) return failed.find((p) => p.reply.latin1Slice(1, 9) === 'INDOUBT ')!.reply;
    const reason = first.latin1Slice(1, first.length - 2);
    return Buffer.from(`-INDOUBT ${name.toUpperCase()} ran on some of its keys' nodes only (${parts.length - failed.length} of ${parts.length} parts); another answered: ${reason}\r\n`);
  }
  if (combine === 'ok') return Buffer.from('+OK\r\n');
  if (combine === 'sum') {
    let total = 0;
    for (const p of parts) total += Number(p.reply.latin1Slice(1, p.reply.length - 2));
    return Buffer.from(`:${total}\r\n`);
  }
  // array: place each part's elements back at their keys' positions.
  const byPosition = new Map<number, Buffer>();
  for (const p of parts) {
    let pos = p.reply.indexOf(10) + 1; // skip the *n header
    for (const key of p.keys) {
      const end = replyEnd(p.reply, pos);
      byPosition.set(key, p.reply.subarray(pos, end));
      pos = end;
    }
  }
  const ordered = [...byPosition.keys()].sort((a, b) => a - b).map((k) => byPosition.get(k)!);
  return Buffer.concat([Buffer.from(`*${ordered.length}\r\n`), ...ordered]);
}

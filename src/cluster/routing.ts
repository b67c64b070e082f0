/**
 * Where a command must run: here, on another node (MOVED, or forwarded in proxy
 * mode), later (its slot is being handed to this node), nowhere now (its slot
 * has no live owner), or nowhere because its keys span slots (CROSSSLOT).
 * Derived from the command table's key positions and the node's ClusterState.
 */
import type { Argv } from '../protocol/argv.js';
import type { MapNode } from './cluster-map.js';
import type { ClusterState } from './cluster-state.js';
import { keySlotOf } from './key-slot.js';

export interface KeySpec {
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  /** Keys after a count (ZUNIONSTORE, SINTERCARD, LMPOP...): their positions in this call, used instead of the fixed ones. */
  readonly keysOf?: (argv: Argv) => number[];
}

export type Route =
  | { kind: 'local'; slot: number }
  | { kind: 'remote'; slot: number; node: MapNode }
  | { kind: 'wait'; slot: number }
  | { kind: 'down'; reason: string }
  | { kind: 'crossslot' }
  | { kind: 'keyless' };

/** The slot of every key argument of a call (empty for keyless commands), all of them for a command with keysOf. */
export function keySlots(spec: KeySpec, argv: Argv): number[] {
  if (spec.keysOf !== undefined) return spec.keysOf(argv).map((i) => keySlotOf(argv.buf, argv.start[i]!, argv.end[i]!));
  if (spec.firstKey === 0 || argv.length <= spec.firstKey) return [];
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : Math.min(spec.lastKey, argv.length - 1);
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last; i += spec.keyStep) out.push(keySlotOf(argv.buf, argv.start[i]!, argv.end[i]!));
  return out;
}

export function route(spec: KeySpec, argv: Argv, state: ClusterState): Route {
  const slots = keySlots(spec, argv);
  if (slots.length === 0) return { kind: 'keyless' };
  const slot = slots[0]!;
  for (let i = 1; i < slots.length; i++) if (slots[i] !== slot) return { kind: 'crossslot' };
  const r = state.route(slot);
  switch (r.kind) {
    case 'local':
      return { kind: 'local', slot };
    case 'moved':
      return { kind: 'remote', slot, node: r.node };
    case 'wait':
      return { kind: 'wait', slot };
    case 'down':
      return { kind: 'down', reason: r.reason };
  }
}

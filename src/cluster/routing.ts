/**
 * Where a command must run: here, on another node (MOVED, or forwarded in proxy
 * mode), or nowhere because its keys span slots (CROSSSLOT). Derived from the
 * command table's key positions; pure.
 */
import type { Argv } from '../protocol/argv.js';
import type { ClusterNode, Topology } from './topology.js';
import { keySlotOf } from './key-slot.js';

export interface KeySpec {
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
}

export type Route =
  | { kind: 'local'; slot: number }
  | { kind: 'remote'; slot: number; node: ClusterNode }
  | { kind: 'crossslot' }
  | { kind: 'keyless' };

/** The slot of every key argument of a call (empty for keyless commands). */
export function keySlots(spec: KeySpec, argv: Argv): number[] {
  if (spec.firstKey === 0 || argv.length <= spec.firstKey) return [];
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : Math.min(spec.lastKey, argv.length - 1);
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last; i += spec.keyStep) out.push(keySlotOf(argv.buf, argv.start[i]!, argv.end[i]!));
  return out;
}

export function route(spec: KeySpec, argv: Argv, topology: Topology, self: ClusterNode): Route {
  const slots = keySlots(spec, argv);
  if (slots.length === 0) return { kind: 'keyless' };
  const slot = slots[0]!;
  for (let i = 1; i < slots.length; i++) if (slots[i] !== slot) return { kind: 'crossslot' };
  const owner = topology.primaryOf(slot);
  return owner.key === self.key ? { kind: 'local', slot } : { kind: 'remote', slot, node: owner };
}

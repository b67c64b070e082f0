/**
 * The cluster as one node sees it, with one owner: the map it holds (applied in
 * epoch order, never an older one after a newer), which node it is, and whether
 * it may serve at all (a node that lost its coordinator lease while others kept
 * theirs is fenced). Routing, the CLUSTER commands, INFO and proxy forwarding
 * all read it here. Pure state and decisions; the node feeds it maps and the
 * lease's state.
 */
import type { ClusterMap, MapNode } from './cluster-map.js';
import { SLOT_COUNT } from './planner.js';

/** Where a command for one slot goes, as this node sees the map now. */
export type SlotRoute =
  | { kind: 'local' }
  /** Another node owns the slot: MOVED, or forward in proxy mode. */
  | { kind: 'moved'; node: MapNode }
  /** The slot is being handed to this node, or its old keys are still being dropped: hold the command. */
  | { kind: 'wait' }
  /** Nobody can serve the slot now. */
  | { kind: 'down'; reason: string };

export class ClusterState {
  private current: ClusterMap | undefined;
  /** Why this node must not serve its slots now (lease lost), or undefined. */
  private fenceReason: string | undefined;
  /** Past this time (ms since the epoch) the node may not serve: its lease could have expired (Infinity: no lease). */
  private servingUntil = Infinity;
  /** Per slot: 1 while keys left from an earlier ownership are being dropped. */
  private readonly dropping = new Uint8Array(SLOT_COUNT);
  /** Per slot: 1 while a move's handover holds its commands (the copy is complete; the commit is due). */
  private readonly held = new Uint8Array(SLOT_COUNT);
  private readonly listeners = new Set<() => void>();
  /** This node is a replica whose copy of its primary is complete (src/replication/sink.ts). */
  private replicaOnline = false;

  constructor(
    readonly selfId: string,
    readonly proxy: boolean,
  ) {}

  get map(): ClusterMap | undefined {
    return this.current;
  }

  get epoch(): number {
    return this.current?.epoch ?? 0;
  }

  /** This node's entry in the map (undefined before it is listed, or after it was removed). */
  get self(): MapNode | undefined {
    return this.current?.node(this.selfId);
  }

  get fenced(): string | undefined {
    return this.fenceReason;
  }

  /**
   * Takes a newer map. Returns the slots this node served under the old map
   * and does not serve under the new one (their keys must be dropped), or
   * undefined when the map was not newer and nothing changed.
   */
  apply(next: ClusterMap): number[] | undefined {
    if (this.current !== undefined && next.epoch <= this.current.epoch) return undefined;
    const before = this.current;
    this.current = next;
    const lost: number[] = [];
    if (before !== undefined) {
      for (let s = 0; s < SLOT_COUNT; s++) if (this.serves(before, s) && !this.serves(next, s)) lost.push(s);
    }
    this.changed();
    return lost;
  }

  /** Marks slots whose old keys are being dropped: commands for them wait until dropDone. */
  dropStarted(slots: readonly number[]): void {
    for (const s of slots) this.dropping[s] = 1;
  }

  dropDone(slots: readonly number[]): void {
    for (const s of slots) this.dropping[s] = 0;
    this.changed();
  }

  isDropping(slot: number): boolean {
    return this.dropping[slot] === 1;
  }

  /**
   * A move's handover: commands for these slots wait until releaseSlots (the
   * commit, or a cancel). Reads wait too: once the new owner may serve, this
   * node must not answer for the slot, not even with data that was current.
   */
  holdSlots(slots: readonly number[]): void {
    for (const s of slots) this.held[s] = 1;
  }

  releaseSlots(slots: readonly number[]): void {
    for (const s of slots) this.held[s] = 0;
    this.changed();
  }

  isHeld(slot: number): boolean {
    return this.held[slot] === 1;
  }

  setReplicaOnline(online: boolean): void {
    this.replicaOnline = online;
  }

  /**
   * Whether this node, a replica, may answer a read for the slot (READONLY):
   * its copy is complete and its primary owns the slot in the map it holds.
   */
  replicaServes(slot: number): boolean {
    if (!this.replicaOnline || this.fenceReason !== undefined) return false;
    const map = this.current;
    const self = map?.node(this.selfId);
    return self?.role === 'replica' && map!.ownerOf(slot)?.id === self.primary;
  }

  setServingDeadline(at: number): void {
    this.servingUntil = at;
  }

  setFenced(reason: string | undefined): void {
    if (reason === this.fenceReason) return;
    this.fenceReason = reason;
    this.changed();
  }

  /** Whether this node answers for the slot under a map: it owns it (while a move copies it away too). */
  private serves(map: ClusterMap, slot: number): boolean {
    return map.ownerOf(slot)?.id === this.selfId;
  }

  route(slot: number): SlotRoute {
    const map = this.current;
    if (map === undefined) return { kind: 'down', reason: 'CLUSTERDOWN this node has no cluster map yet' };
    const owner = map.ownerOf(slot);
    const incoming = map.incomingOf(slot);
    if (owner === undefined) return { kind: 'down', reason: `CLUSTERDOWN Hash slot ${slot} is not served` };
    if (owner.id === this.selfId) {
      // A slot moving away is still served here until the move commits (writes wait during its handover: writesHeld).
      if (this.fenceReason !== undefined) return { kind: 'down', reason: `CLUSTERDOWN ${this.fenceReason}` };
      // Read per command, not left to a timer: after a pause the node runs its sockets' input before any timer.
      if (Date.now() > this.servingUntil) return { kind: 'down', reason: 'CLUSTERDOWN this node\'s membership lease may have expired (no renewal acknowledged in time)' };
      if (this.dropping[slot] === 1 || this.held[slot] === 1) return { kind: 'wait' };
      return { kind: 'local' };
    }
    if (incoming?.id === this.selfId) return { kind: 'wait' };
    if (owner.state === 'failed') return { kind: 'down', reason: `CLUSTERDOWN Hash slot ${slot} is not served (its node failed)` };
    return { kind: 'moved', node: owner };
  }

  /** Resolves at the next change of map, fence or drop state, or after timeoutMs. */
  nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.listeners.add(done);
    });
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}

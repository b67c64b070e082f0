/**
 * A node's moves, driven by the maps it applies: a move from this node starts
 * an export (at most MAX_EXPORTS at once; the others queue), a move to it is
 * received by MoveImports, and a move that leaves the map (committed or
 * cancelled) ends both. It is also the store's SlotWatch while any export
 * runs, passing each changed key to the export of its slot.
 */
import type { Logger } from 'pino';
import { moveId, type ClusterMap, type MapNode } from '../cluster/cluster-map.js';
import type { ClusterState } from '../cluster/cluster-state.js';
import { PeerLink } from '../cluster/peer-link.js';
import { SLOT_COUNT } from '../cluster/planner.js';
import type { MoveReporter } from '../membership/provider.js';
import type { Clock } from '../store/clock.js';
import type { Key, Keyspace, SlotWatch } from '../store/keyspace.js';
import { SlotExport, type ExportHost, type MoveLink } from './export.js';
import { MoveImports } from './imports.js';
import type { MoveProgress } from './progress.js';

/** Exports running at once; a leaving node's other moves wait their turn. */
const MAX_EXPORTS = 2;
/** Longest the new owner may take to answer one request of a move. */
const LINK_TIMEOUT_MS = 10_000;

export interface MigrationOptions {
  store: Keyspace;
  clock: Clock;
  state: ClusterState;
  log: Logger;
  reporter: MoveReporter | undefined;
  password: () => string;
  /** Most keys per second per export (0: no limit), read as it runs. */
  rate: () => number;
  /** Drops the keys of slots (the node's SlotDropper, with routing holding commands for them meanwhile). */
  drop(slots: number[]): void;
  /** The transport to a new owner; a PeerLink by default. */
  connect?: (node: MapNode) => MoveLink;
  /** Attaches the manager to the store as a SlotWatch (on) or detaches it; by default it is the store's only one. */
  attachWatch?: (w: SlotWatch, on: boolean) => void;
}

export interface MigrationStats {
  exportsStarted: number;
  exportsAcknowledged: number;
  keysSent: number;
  lastHandoverMs: number;
  /** The last committed move's pause: slots held until the commit applied here. */
  lastPauseMs: number;
  /** The longest such pause since start. */
  maxPauseMs: number;
}

export class MigrationManager implements SlotWatch {
  readonly slots = new Uint8Array(SLOT_COUNT);
  private readonly bySlot: Array<SlotExport | undefined> = new Array<SlotExport | undefined>(SLOT_COUNT);
  private readonly exports = new Map<string, SlotExport>();
  private readonly queued: SlotExport[] = [];
  private running = 0;
  readonly imports: MoveImports;
  readonly stats: MigrationStats = { exportsStarted: 0, exportsAcknowledged: 0, keysSent: 0, lastHandoverMs: 0, lastPauseMs: 0, maxPauseMs: 0 };
  private readonly host: ExportHost;

  constructor(private readonly opts: MigrationOptions) {
    const { store, state } = opts;
    const attach = opts.attachWatch ?? ((w: SlotWatch, on: boolean) => (store.slotWatch = on ? w : null));
    this.imports = new MoveImports({
      store,
      clock: opts.clock,
      selfId: state.selfId,
      map: () => state.map,
      isDropping: (s) => state.isDropping(s),
      drop: (slots) => opts.drop(slots),
    });
    this.host = {
      store,
      clock: opts.clock,
      log: opts.log,
      reporter: opts.reporter,
      rate: opts.rate,
      connect: opts.connect ?? ((node) => new PeerLink({ host: node.host, port: node.port, protocol: 2, password: opts.password(), timeoutMs: LINK_TIMEOUT_MS })),
      watch: (slot, exp) => {
        this.slots[slot] = 1;
        this.bySlot[slot] = exp;
        attach(this, true);
      },
      unwatch: (exp) => {
        for (const s of exp.slots) if (this.bySlot[s] === exp) {
          this.slots[s] = 0;
          this.bySlot[s] = undefined;
        }
        // No slot watched any more: writes go back to paying one null check.
        if (!this.slots.includes(1)) attach(this, false);
      },
      hold: (slots) => state.holdSlots(slots),
      release: (slots) => state.releaseSlots(slots),
    };
  }

  // --- SlotWatch --------------------------------------------------------------

  touch(key: Key, slot: number): void {
    this.bySlot[slot]?.touched(key);
  }

  flushed(): void {
    for (const e of this.exports.values()) e.flushed();
  }

  // --- maps ---------------------------------------------------------------------

  /** After ClusterState applied a newer map: start, end and queue moves. */
  onMap(map: ClusterMap): void {
    const self = this.opts.state.selfId;
    const inFlight = new Map(map.moves.map((m) => [moveId(m), m]));
    for (const [id, exp] of this.exports) {
      if (inFlight.has(id)) continue;
      const committed = exp.slots.every((s) => map.ownerOf(s)?.id !== self);
      this.end(exp);
      if (committed && exp.pauseMs > 0) {
        this.stats.lastPauseMs = exp.pauseMs;
        this.stats.maxPauseMs = Math.max(this.stats.maxPauseMs, exp.pauseMs);
      }
      this.opts.log.info({ move: id, to: exp.move.to, keys: exp.keysSent, resent: exp.keysResent, pauseMs: Math.round(exp.pauseMs), outcome: committed ? 'committed' : 'cancelled' }, 'slot move ended');
    }
    for (const [id, move] of inFlight) {
      if (move.from !== self || this.exports.has(id)) continue;
      const target = map.node(move.to);
      if (target === undefined) continue;
      const exp = new SlotExport(id, move, target, this.host);
      this.exports.set(id, exp);
      this.queued.push(exp);
    }
    this.startQueued();
    this.imports.onMap(map);
  }

  private end(exp: SlotExport): void {
    this.stats.keysSent += exp.keysSent;
    this.exports.delete(exp.id);
    const q = this.queued.indexOf(exp);
    if (q >= 0) this.queued.splice(q, 1);
    exp.stop();
  }

  private startQueued(): void {
    while (this.running < MAX_EXPORTS && this.queued.length > 0) {
      const exp = this.queued.shift()!;
      this.running++;
      this.stats.exportsStarted++;
      this.opts.log.info({ move: exp.id, to: exp.move.to, slots: exp.slots.length }, 'slot move started');
      void exp.acknowledged.then(() => {
        this.stats.exportsAcknowledged++;
        this.stats.lastHandoverMs = exp.handoverMs;
      });
      void exp.run().finally(() => {
        // An export holds its turn until acknowledged (or stopped): then the next one starts.
        this.running--;
        this.startQueued();
      });
    }
  }

  /** Every export of this node, running or queued. */
  outgoing(): MoveProgress[] {
    return [...this.exports.values()].map((e) => e.progress());
  }

  stop(): void {
    for (const e of [...this.exports.values()]) this.end(e);
  }
}

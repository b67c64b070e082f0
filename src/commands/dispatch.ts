/**
 * Runs one parsed command: finds its spec, checks arity, authentication and
 * memory, then calls the handler. Every failure becomes an error reply: nothing
 * a client sends can throw out of here and take the node down.
 */
import type { Argv } from '../protocol/argv.js';
import { WrongTypeError, type EvictionPolicy } from '../store/keyspace.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors } from './errors.js';
import { arityOk, callKeyPositions, CommandTable, subcommandTable, type CommandSpec } from './table.js';
import { CommandStats } from './command-stats.js';
import { refused, transactionCommands, type QueuedCommand, type Transaction } from './transactions.js';
import { QUEUED } from '../protocol/writer.js';
import { keySlotOf } from '../cluster/key-slot.js';
import { connectionCommands } from './connection.js';
import { keyCommands } from './keys.js';
import { commandCommands, serverCommands } from './server.js';
import { stringCommands } from './strings.js';
import { hashCommands } from './hashes.js';
import { setCommands } from './sets.js';
import { listCommands } from './lists.js';
import { blockingCommands } from './blocking-lists.js';
import { sortedSetCommands } from './sorted-sets.js';
import { dumpCommands } from './dump.js';
import { blockingState, serveBlocked } from './blocking.js';
import { clusterCommands } from './cluster.js';
import { migrationCommands } from './migration.js';
import { replicationCommands } from './replication.js';
import { pubsubCommands, SUBSCRIBER_MODE_COMMANDS, subscriberModeError } from './pubsub.js';
import { route } from '../cluster/routing.js';
import { splitByOwner, SPLITTABLE } from '../cluster/split.js';
import { DEFAULT_BUSY_REPLY_THRESHOLD_MS, ScriptEngine } from '../scripting/engine.js';
import { scriptingCommands } from '../scripting/commands.js';

/** Most time one write spends evicting before it runs (as Redis's eviction time limit). */
export const EVICT_BUDGET_MS = 2;
/** Longest a command waits, in one go, for its slot to be handed to this node before it is looked at again. */
export const HANDOVER_WAIT_MS = 1000;

export interface MemoryLimits {
  /** Bytes; 0 means no limit. */
  maxmemory: number;
  maxmemoryPolicy: EvictionPolicy;
}

export class Dispatcher {
  readonly table: CommandTable;
  /** Commands run, including those that replied with an error (total_commands_processed). */
  processed = 0;
  /** INFO commandstats and the metrics endpoint's per-command figures. */
  readonly commandStats = new CommandStats();
  /** Calls that ran (recorded by run()); execute() compares it to tell a refusal from a call that failed. */
  private ranCalls = 0;
  /** Errors thrown by handlers that were not CommandErrors: bugs, logged and counted. */
  internalErrors = 0;
  /** Per container command, its subcommands by their short name (for routing by their keys). */
  private readonly subcommandTables = new Map<CommandSpec, CommandTable>();
  /** busy-reply-threshold (lua-time-limit): a script running longer is aborted (src/scripting/engine.ts). */
  scriptTimeLimitMs = DEFAULT_BUSY_REPLY_THRESHOLD_MS;
  /** Lua scripting: EVAL and FUNCTION's scripts, run through this dispatcher; its VM is made on the first script. */
  readonly scripting = new ScriptEngine(this, { timeLimitMs: () => this.scriptTimeLimitMs });

  constructor(
    private readonly memory: MemoryLimits,
    private readonly onInternalError: (err: unknown, spec: CommandSpec) => void = () => {},
    extra: readonly CommandSpec[] = [],
  ) {
    const specs: CommandSpec[] = [...stringCommands, ...hashCommands, ...setCommands, ...listCommands, ...blockingCommands, ...sortedSetCommands, ...dumpCommands, ...keyCommands, ...connectionCommands, ...serverCommands, ...clusterCommands, ...migrationCommands, ...replicationCommands, ...pubsubCommands, ...extra];
    specs.push(...transactionCommands(this), ...scriptingCommands(this.scripting), ...commandCommands(() => this.table));
    this.table = new CommandTable(specs);
    for (const s of specs) if (s.subcommands) this.subcommandTables.set(s, subcommandTable(s));
  }

  /** The spec of a parsed command, or undefined for an unknown one. */
  resolve(argv: Argv): CommandSpec | undefined {
    return this.table.find(argv, 0);
  }

  /** Runs the command (resolved by resolve()) and writes its reply. Checks in Redis's order: name, arity, auth, routing, memory. */
  execute(ctx: CommandContext, argv: Argv, spec: CommandSpec | undefined = this.resolve(argv)): void {
    this.processed++;
    const tx = ctx.session.tx;
    if (tx !== undefined && tx.queue !== null && tx.queues(spec)) return this.queue(ctx, argv, spec, tx);
    if (spec === undefined) return ctx.out.errorBinary(unknownCommand(argv));
    const errorsBefore = ctx.out.errors;
    const ranBefore = this.ranCalls;
    this.dispatch(ctx, argv, spec);
    // Refused before it ran (arity, auth, OOM, MOVED, CROSSSLOT...): an error and no call recorded.
    if (ctx.out.errors !== errorsBefore && this.ranCalls === ranBefore) this.commandStats.rejected(spec);
  }

  private dispatch(ctx: CommandContext, argv: Argv, spec: CommandSpec): void {
    if (!arityOk(spec, argv.length)) ctx.out.error(refused(ctx, spec, Errors.wrongArity(spec.name)));
    else if (!ctx.session.authenticated && !spec.noAuth) ctx.out.error(refused(ctx, spec, Errors.noAuth));
    // RESP2 subscriber mode (one property read for a client that never subscribed).
    // Not inside EXEC: Redis checks it when a command arrives, not when a queued one runs.
    else if (ctx.session.pubsub !== undefined && ctx.session.protocol === 2 && ctx.session.pubsub.total > 0 && ctx.session.execing !== true && !SUBSCRIBER_MODE_COMMANDS.has(spec.name)) ctx.out.error(refused(ctx, spec, subscriberModeError(this.fullName(spec, argv))));
    else if (!this.routedHere(ctx, argv, spec)) return;
    else if (this.memory.maxmemory > 0 && spec.denyoom) {
      // A write whose arguments alone are over the limit can never fit: refused
      // before anything is evicted (Redis answers OOM too, but only once it has
      // evicted every key trying to make room for them).
      // Before the write, as Redis: a node over its limit refuses (noeviction) or evicts.
      // After it, so that used memory is back under the limit once the write completes.
      // Each eviction pass is bounded in time; what is left, later writes and the
      // node's background cycle finish (a write never waits on a long eviction).
      if (argumentBytes(argv) > this.memory.maxmemory) ctx.out.error(Errors.oom);
      else if (!ctx.store.evict(this.memory.maxmemory, this.memory.maxmemoryPolicy, EVICT_BUDGET_MS)) ctx.out.error(Errors.oom);
      else {
        this.run(ctx, argv, spec);
        ctx.store.evict(this.memory.maxmemory, this.memory.maxmemoryPolicy, EVICT_BUDGET_MS);
      }
    } else this.run(ctx, argv, spec);
  }

  /** The command's name as Redis reports it in errors: "container|sub" for a known subcommand. */
  private fullName(spec: CommandSpec, argv: Argv): string {
    if (spec.subcommands === undefined || argv.length < 2) return spec.name;
    return this.subcommandTables.get(spec)?.find(argv, 1)?.name ?? spec.name;
  }

  /** Runs EXEC's queued commands, in order, as one unit. */
  executeQueued(ctx: CommandContext, queue: ReadonlyArray<{ readonly argv: Argv; readonly spec: CommandSpec | undefined }>): void {
    const s = ctx.session;
    const was = s.execing;
    s.execing = true;
    try {
      for (const q of queue) this.execute(ctx, q.argv, q.spec);
    } finally {
      s.execing = was;
    }
  }

  /**
   * In a cluster, a command runs here only if its keys are in one slot this node
   * serves. Otherwise it gets CROSSSLOT, is forwarded (proxy mode), gets MOVED,
   * waits (its slot is being handed to this node) or gets CLUSTERDOWN: never an
   * answer from a node that does not own the key.
   */
  private routedHere(ctx: CommandContext, argv: Argv, container: CommandSpec): boolean {
    const cluster = ctx.node.cluster();
    if (cluster === undefined) return true;
    // A container (OBJECT, MEMORY...) routes by its subcommand's key positions.
    const spec = container.subcommands && argv.length > 1 ? (this.subcommandTables.get(container)?.find(argv, 1) ?? container) : container;
    if (spec.firstKey === 0 && spec.keysOf === undefined) return true;
    const r = route(spec, argv, cluster);
    if (r.kind === 'local' || r.kind === 'keyless') return true;
    // READONLY on a replica: reads of its primary's slots are answered from its copy, as Redis Cluster's replicas.
    if (r.kind === 'remote' && ctx.session.readFromReplica === true && spec.flags.includes('readonly') && cluster.replicaServes(r.slot)) return true;
    if (r.kind === 'down') {
      ctx.out.error(r.reason);
      return false;
    }
    if (r.kind === 'wait') {
      if (ctx.defer === undefined) ctx.out.error(`TRYAGAIN slot ${r.slot} is being handed over`);
      else ctx.defer(argv, cluster.nextChange(HANDOVER_WAIT_MS));
      return false;
    }
    if (cluster.proxy && ctx.forward !== undefined && ctx.forwardSplit !== undefined) {
      const split = SPLITTABLE.get(spec.name);
      if (split !== undefined) {
        if ((argv.length - 1) % split.stride !== 0) {
          ctx.out.error(Errors.wrongArity(spec.name));
          return false;
        }
        const parts = splitByOwner(spec.name, argv, cluster);
        if (!Array.isArray(parts)) {
          ctx.out.error(parts.error);
          return false;
        }
        if (parts.length === 1 && parts[0]!.node === undefined) return true; // all keys here
        ctx.forwardSplit(spec.name, parts);
        return false;
      }
      if (r.kind === 'remote') {
        ctx.forward(r.node, argv);
        return false;
      }
    }
    if (r.kind === 'crossslot') ctx.out.error(Errors.crossSlot);
    else ctx.out.error(`MOVED ${r.slot} ${r.node.host}:${r.node.port}`);
    return false;
  }

  /**
   * Inside MULTI: execute's checks at queue time, then QUEUED. A command
   * refused by one is not queued and makes EXEC abort (Redis's flagTransaction).
   */
  private queue(ctx: CommandContext, argv: Argv, spec: CommandSpec | undefined, tx: Transaction): void {
    const refuse = (error: string | null): void => {
      tx.failed = true;
      if (error !== null) ctx.out.error(error);
    };
    if (spec === undefined) {
      refuse(null);
      return ctx.out.errorBinary(unknownCommand(argv));
    }
    if (!arityOk(spec, argv.length)) return refuse(Errors.wrongArity(spec.name));
    if (!ctx.session.authenticated && !spec.noAuth) return refuse(Errors.noAuth);
    // MOVED, CROSSSLOT or TRYAGAIN now (never forwarded or deferred: a transaction runs on one node, at once).
    if (!this.routedHere(notForwarding(ctx), argv, spec)) return refuse(null);
    // Over maxmemory, every command is refused in MULTI, not only writes (Redis: the queue takes memory).
    // A command whose arguments alone are over it is refused before anything is evicted (see execute()).
    if (this.memory.maxmemory > 0 && (argumentBytes(argv) > this.memory.maxmemory || !ctx.store.evict(this.memory.maxmemory, this.memory.maxmemoryPolicy, EVICT_BUDGET_MS))) return refuse(Errors.oom);
    tx.add(argv, spec);
    ctx.out.raw(QUEUED);
  }

  /**
   * EXEC in a cluster: all queued keys in one slot this node owns, as Redis
   * Cluster checks EXEC; writes CROSSSLOT or MOVED and returns false otherwise.
   */
  queuedRunHere(ctx: CommandContext, queue: readonly QueuedCommand[]): boolean {
    if (ctx.node.cluster() === undefined) return true;
    let slot = -1;
    let first: QueuedCommand | undefined;
    for (const q of queue) {
      const { argv, spec } = q;
      const keys = spec.subcommands && argv.length > 1 ? (this.subcommandTables.get(spec)?.find(argv, 1) ?? spec) : spec;
      for (const i of callKeyPositions(keys, argv)) {
        const s = keySlotOf(argv.buf, argv.start[i]!, argv.end[i]!);
        if (first === undefined) [slot, first] = [s, q];
        else if (s !== slot) {
          ctx.out.error(Errors.crossSlot);
          return false;
        }
      }
    }
    return first === undefined || this.routedHere(notForwarding(ctx), first.argv, first.spec);
  }

  private run(ctx: CommandContext, argv: Argv, spec: CommandSpec): void {
    const mark = ctx.out.mark();
    const errorsBefore = ctx.out.errors;
    const started = performance.now();
    try {
      spec.handler(ctx, argv);
    } catch (err) {
      ctx.out.rollback(mark);
      if (err instanceof CommandError || err instanceof WrongTypeError) ctx.out.error(err.reply);
      else {
        this.internalErrors++;
        this.onInternalError(err, spec);
        ctx.out.error(`ERR internal error while running '${spec.name}'`);
      }
    }
    // EXEC's own reply carries its commands' errors: each of them counts, EXEC fails only by itself (as Redis).
    this.commandStats.ran(spec, (performance.now() - started) * 1000, ctx.out.errors !== errorsBefore && spec.name !== 'exec');
    this.ranCalls++;
    // CLIENT TRACKING (default mode): the keys of a read-only command are remembered for its client, as Redis's call().
    const tracking = ctx.session.tracking;
    if (tracking !== undefined && tracking.on && !tracking.bcast && spec.flags.includes('readonly') && !NOT_TRACKED.has(spec.name)) {
      const positions = callKeyPositions(spec, argv);
      if (positions.length > 0) ctx.node.tracker?.remember(tracking, positions.map((i) => argv.str(i)));
    }
    // Clients blocked on keys this command filled are served now, before any later command runs.
    if (blockingState.ready !== 0) serveBlocked();
  }
}

/** Read-only commands whose keys Redis 7.0 does not remember for tracking (the script's own reads are). */
const NOT_TRACKED = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

/**
 * The bytes of a command's arguments after its name: the least a write of
 * them holds once stored (a key and its value at least), known before it runs.
 */
function argumentBytes(argv: Argv): number {
  let n = 0;
  for (let i = 1; i < argv.length; i++) n += argv.end[i]! - argv.start[i]!;
  return n;
}

/**
 * Redis's unknown-command error, as a binary string (one char per byte): the
 * name and arguments are quoted as their bytes (printf's %.128s, which also
 * stops at a NUL byte), for the writer's errorBinary().
 */
function unknownCommand(argv: Argv): string {
  const asC = (i: number): string => {
    const s = argv.str(i);
    const nul = s.indexOf('\0');
    return nul >= 0 ? s.slice(0, nul) : s;
  };
  const args = [];
  for (let i = 1; i < argv.length && i <= 43; i++) args.push(asC(i));
  return Errors.unknownCommand(asC(0), args);
}

/** The context without proxy forwarding or deferral: routing answers MOVED, CROSSSLOT or TRYAGAIN at once instead. */
const notForwarding = (ctx: CommandContext): CommandContext => ({ ...ctx, forward: undefined, forwardSplit: undefined, defer: undefined });

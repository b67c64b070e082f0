/**
 * Transactions, as Redis's multi.c: MULTI queues a client's commands (each
 * answered QUEUED) until EXEC runs them all in one go, nothing else in between;
 * a command refused at queue time (unknown, wrong arity, NOAUTH, MOVED,
 * CROSSSLOT, OOM) makes EXEC answer EXECABORT and run nothing; errors while
 * running are replies in EXEC's array. WATCH makes EXEC answer a null array
 * when a watched key was written, deleted, expired or evicted since.
 *
 * The queueing itself is in the dispatcher (Dispatcher.queue), which makes the
 * same checks as for a command run at once. WATCH costs nothing while no key
 * is watched: the store signals writes through Keyspace.watch, which is null then.
 */
import type { Argv } from '../protocol/argv.js';
import { Argv as ArgvClass } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import type { Key, Keyspace, KeyWatch } from '../store/keyspace.js';
import type { CommandContext, Session } from './context.js';
import type { Dispatcher } from './dispatch.js';
import { CommandError } from './errors.js';
import { command, type CommandSpec } from './table.js';

export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';

/** Commands that run at once inside MULTI instead of being queued (Redis's processCommand). */
const NOT_QUEUED = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export interface QueuedCommand {
  readonly argv: Argv;
  readonly spec: CommandSpec;
}

/** One client's MULTI and WATCH state (Session.tx); made on its first MULTI or WATCH. */
export class Transaction {
  /** The commands queued since MULTI; null outside MULTI (the dispatcher's one check). */
  queue: QueuedCommand[] | null = null;
  /** A command was refused at queue time: EXEC aborts (Redis's CLIENT_DIRTY_EXEC). */
  failed = false;
  /** A watched key changed: EXEC answers a null array (CLIENT_DIRTY_CAS). */
  dirty = false;
  readonly watched = new Set<Key>();

  constructor(private readonly registry: WatchRegistry) {}

  /** Whether the dispatcher queues this command (known or not) rather than running it. */
  queues(spec: CommandSpec | undefined): boolean {
    return spec === undefined || !NOT_QUEUED.has(spec.name);
  }

  add(argv: Argv, spec: CommandSpec): void {
    const args: Buffer[] = [];
    for (let i = 0; i < argv.length; i++) args.push(argv.view(i));
    // A copy: argv is a view of the parser's buffer, reused for the next input.
    this.queue!.push({ argv: ArgvClass.of(args), spec });
  }

  watch(key: Key): void {
    if (this.watched.has(key)) return;
    this.watched.add(key);
    this.registry.add(key, this);
  }

  unwatch(): void {
    for (const key of this.watched) this.registry.remove(key, this);
    this.watched.clear();
    this.dirty = false;
  }

  /** Leaves MULTI and unwatches everything (EXEC, DISCARD, RESET, a closed connection). */
  clear(): void {
    this.queue = null;
    this.failed = false;
    this.unwatch();
  }
}

/**
 * The watched keys of one keyspace and who watches them. It is the store's
 * KeyWatch while it holds any key, and detached (store.watch = null) otherwise.
 */
class WatchRegistry implements KeyWatch {
  private readonly watchers = new Map<Key, Set<Transaction>>();

  constructor(private readonly store: Keyspace) {}

  touch(key: Key): void {
    const txs = this.watchers.get(key);
    if (txs !== undefined) for (const tx of txs) tx.dirty = true;
  }

  keys(): Iterable<Key> {
    return this.watchers.keys();
  }

  add(key: Key, tx: Transaction): void {
    const txs = this.watchers.get(key);
    if (txs !== undefined) txs.add(tx);
    else this.watchers.set(key, new Set([tx]));
    this.store.watch = this;
  }

  remove(key: Key, tx: Transaction): void {
    const txs = this.watchers.get(key);
    if (txs === undefined) return;
    txs.delete(tx);
    if (txs.size === 0) this.watchers.delete(key);
    if (this.watchers.size === 0) this.store.watch = null;
  }
}

const registries = new WeakMap<Keyspace, WatchRegistry>();

function transactionOf(ctx: CommandContext): Transaction {
  let tx = ctx.session.tx;
  if (tx === undefined) {
    let registry = registries.get(ctx.store);
    if (registry === undefined) registries.set(ctx.store, (registry = new WatchRegistry(ctx.store)));
    tx = ctx.session.tx = new Transaction(registry);
  }
  return tx;
}

/** Ends the session's transaction and watches: RESET, and a connection that closes. */
export function endTransaction(session: Session): void {
  session.tx?.clear();
}

/**
 * The reply to a command refused before it runs (arity, NOAUTH): inside MULTI
 * it makes EXEC abort, and a refused EXEC discards the transaction and says
 * why, as Redis's rejectCommand and execCommandAbort.
 */
export function refused(ctx: CommandContext, spec: CommandSpec, error: string): string {
  const tx = ctx.session.tx;
  if (spec.name === 'exec') {
    tx?.clear();
    return `EXECABORT Transaction discarded because of: ${error.startsWith('ERR ') ? error.slice(4) : error}`;
  }
  if (tx !== undefined && tx.queue !== null) tx.failed = true;
  return error;
}

function multi(ctx: CommandContext): void {
  const tx = transactionOf(ctx);
  if (tx.queue !== null) throw new CommandError('ERR MULTI calls can not be nested');
  tx.queue = [];
  tx.failed = false;
  ctx.out.raw(OK);
}

function discard(ctx: CommandContext): void {
  const tx = ctx.session.tx;
  if (tx === undefined || tx.queue === null) throw new CommandError('ERR DISCARD without MULTI');
  tx.clear();
  ctx.out.raw(OK);
}

function watch(ctx: CommandContext, argv: Argv): void {
  const tx = transactionOf(ctx);
  if (tx.queue !== null) throw new CommandError('ERR WATCH inside MULTI is not allowed');
  for (let i = 1; i < argv.length; i++) {
    const key = argv.str(i);
    // A key whose TTL has passed goes now (lazy expiry), so that its removal is
    // no change for this watch, as in Redis (a key expired at WATCH time).
    ctx.store.expireAt(key);
    tx.watch(key);
  }
  ctx.out.raw(OK);
}

function unwatch(ctx: CommandContext): void {
  ctx.session.tx?.unwatch();
  ctx.out.raw(OK);
}

function exec(dispatcher: Dispatcher) {
  return (ctx: CommandContext): void => {
    const tx = ctx.session.tx;
    if (tx === undefined || tx.queue === null) throw new CommandError('ERR EXEC without MULTI');
    const queue = tx.queue;
    // In a cluster all keys must be in one slot this node owns (Redis Cluster
    // checks EXEC as one command over all queued keys, and discards on failure).
    if (!dispatcher.queuedRunHere(ctx, queue)) return tx.clear();
    // A watched key whose TTL passed since WATCH changed it, even if no one read it since.
    if (!tx.dirty) for (const key of tx.watched) ctx.store.expireAt(key);
    if (tx.failed || tx.dirty) {
      const failed = tx.failed;
      tx.clear();
      if (failed) throw new CommandError(EXECABORT);
      return ctx.out.nullArray();
    }
    // Unwatched before running, so the transaction's own writes do not count.
    tx.clear();
    ctx.out.array(queue.length);
    dispatcher.executeQueued(ctx, queue);
  };
}

const group = 'transactions';

export function transactionCommands(dispatcher: Dispatcher): CommandSpec[] {
  return [
    command({ name: 'multi', arity: 1, flags: ['fast', 'loading', 'stale', 'allow_busy'], group, summary: 'Starts a transaction.', since: '1.2.0', handler: multi }),
    command({ name: 'exec', arity: 1, flags: ['loading', 'stale'], group, summary: 'Executes all commands in a transaction.', since: '1.2.0', handler: exec(dispatcher) }),
    command({ name: 'discard', arity: 1, flags: ['fast', 'loading', 'stale', 'allow_busy'], group, summary: 'Discards a transaction.', since: '2.0.0', handler: discard }),
    command({ name: 'watch', arity: -2, flags: ['fast', 'loading', 'stale', 'allow_busy'], firstKey: 1, lastKey: -1, keyStep: 1, group, summary: 'Monitors changes to keys to determine the execution of a transaction.', since: '2.2.0', handler: watch }),
    command({ name: 'unwatch', arity: 1, flags: ['fast', 'loading', 'stale', 'allow_busy'], group, summary: 'Forgets about watched keys of a transaction.', since: '2.2.0', handler: unwatch }),
  ];
}

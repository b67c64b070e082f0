/**
 * Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP here, BZPOPMIN
 * BZPOPMAX BZMPOP in sorted-sets.ts), as Redis's blocked.c:
 *
 * - a command that finds data answers at once, as its non-blocking form;
 * - otherwise its client waits (ctx.block: the connection keeps the reply's
 *   place and runs none of the client's later commands) until a key it waits
 *   on gets data or the timeout passes (0: forever);
 * - a key gets data when a container is stored at it (the store's
 *   objectCreated signal: LPUSH on a missing key, LMOVE's destination,
 *   RENAME, COPY, ZADD...). Right after the command that stored it, the
 *   clients waiting on that key are served one by one, the longest waiting
 *   first, while it has elements (Redis's wake-up order);
 * - where a client cannot wait (inside EXEC, internal runs), the command
 *   answers as on a timeout at once, as Redis does in a transaction.
 */
import type { Argv } from '../protocol/argv.js';
import { ReplyWriter } from '../protocol/writer.js';
import { WrongTypeError, type Key, type Keyspace, type ObjectType } from '../store/keyspace.js';
import type { CommandContext, Session } from './context.js';
import { CommandError } from './errors.js';
import { parseLongDouble } from './numbers.js';

/** Whether any store has keys that got data since clients started waiting on them: the dispatcher's one check per command. */
export const blockingState = { ready: 0 };

/** Longest timer Node can set; a longer timeout waits in steps of it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  readonly keys: readonly Key[];
  readonly type: ObjectType;
  readonly ctx: CommandContext;
  /** Serves from `key`, which has data of the right type, writing the reply to ctx.out; false leaves the client waiting. */
  readonly serve: (ctx: CommandContext, key: Key) => boolean;
  readonly finish: (reply: Buffer) => void;
  readonly registry: Registry;
  timer: ReturnType<typeof setTimeout> | undefined;
  done: boolean;
}

/** The clients waiting on one store's keys, and the keys that got data. */
class Registry {
  readonly waiting = new Map<Key, Waiter[]>();
  readonly ready = new Set<Key>();

  constructor(readonly store: Keyspace) {}

  add(w: Waiter): void {
    for (const key of new Set(w.keys)) {
      const list = this.waiting.get(key);
      if (list === undefined) this.waiting.set(key, [w]);
      else list.push(w);
    }
    this.store.objectCreated = this.created;
  }

  remove(w: Waiter): void {
    for (const key of new Set(w.keys)) {
      const list = this.waiting.get(key);
      if (list === undefined) continue;
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiting.delete(key);
    }
    if (this.waiting.size === 0) this.store.objectCreated = null;
  }

  private readonly created = (key: Key): void => {
    if (!this.waiting.has(key) || this.ready.has(key)) return;
    this.ready.add(key);
    blockingState.ready++;
    withReady.add(this);
  };

  /** Serves the clients waiting on ready keys; serving may make more keys ready (BLMOVE's destination). */
  serve(): void {
    for (const key of this.ready) {
      this.ready.delete(key);
      blockingState.ready--;
      const list = this.waiting.get(key);
      for (let i = 0; list !== undefined && i < list.length; ) {
        const w = list[0 + i]!;
        if (this.store.typeOf(key) !== w.type) break;
        const out = w.ctx.out;
        out.protocol = w.ctx.session.protocol;
        const mark = out.mark();
        let served: boolean;
        try {
          served = w.serve(w.ctx, key);
        } catch (err) {
          out.rollback(mark);
          out.error(err instanceof CommandError || err instanceof WrongTypeError ? err.reply : 'ERR internal error while serving a blocked client');
          served = true;
        }
        if (!served) {
          i++;
          continue;
        }
        end(w, Buffer.concat(out.take() ?? []));
      }
    }
  }
}

const registries = new WeakMap<Keyspace, Registry>();
const withReady = new Set<Registry>();
/** The waiter of each blocked session (cancelled when its connection closes). */
const blockedSessions = new WeakMap<Session, Waiter>();
/** Clients waiting now, across the process's stores (INFO's blocked_clients). */
let blockedNow = 0;

export function blockedClients(): number {
  return blockedNow;
}

function registryOf(store: Keyspace): Registry {
  let r = registries.get(store);
  if (r === undefined) registries.set(store, (r = new Registry(store)));
  return r;
}

/** Serves the clients whose keys got data; the dispatcher calls it after a command when blockingState.ready > 0. */
export function serveBlocked(): void {
  for (const r of withReady) {
    withReady.delete(r);
    r.serve();
  }
}

function end(w: Waiter, reply: Buffer): void {
  if (w.done) return;
  w.done = true;
  if (w.timer !== undefined) clearTimeout(w.timer);
  w.registry.remove(w);
  blockedSessions.delete(w.ctx.session);
  blockedNow--;
  w.finish(reply);
}

/** Forgets a closed connection's wait. */
export function cancelBlocked(session: Session): void {
  const w = blockedSessions.get(session);
  if (w !== undefined) end(w, Buffer.alloc(0));
}

/**
 * Makes the client wait on keys (none of which has data now). `onTimeout`
 * writes the reply for a timeout; it is also the answer at once where the
 * client cannot wait. `timeoutMs` 0 waits forever.
 */
export function blockOn(ctx: CommandContext, keys: readonly Key[], type: ObjectType, timeoutMs: number, serve: (ctx: CommandContext, key: Key) => boolean, onTimeout: (out: ReplyWriter) => void): void {
  if (ctx.block === undefined) return onTimeout(ctx.out);
  let finish!: (reply: Buffer) => void;
  const reply = new Promise<Buffer>((resolve) => (finish = resolve));
  if (!ctx.block(reply)) return onTimeout(ctx.out);
  const out = new ReplyWriter();
  const w: Waiter = { keys, type, ctx: { ...ctx, out, forward: undefined, forwardSplit: undefined, defer: undefined, block: undefined }, serve, finish, registry: registryOf(ctx.store), timer: undefined, done: false };
  w.registry.add(w);
  blockedSessions.set(ctx.session, w);
  blockedNow++;
  if (timeoutMs > 0) {
    const deadline = Date.now() + timeoutMs;
    const arm = (): void => {
      const left = deadline - Date.now();
      if (left > 0) {
        w.timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
        return;
      }
      out.protocol = ctx.session.protocol;
      onTimeout(out);
      end(w, Buffer.concat(out.take() ?? []));
    };
    w.timer = setTimeout(arm, Math.min(timeoutMs, MAX_TIMER_MS));
  }
}

/** A blocking command's timeout in seconds (a float) at argument i, in ms, with Redis's checks and texts. */
export function timeoutAt(argv: Argv, i: number): number {
  const t = parseLongDouble(argv.str(i));
  if (t === null) throw new CommandError('ERR timeout is not a float or out of range');
  const seconds = typeof t === 'number' ? t : Number(t.mant) * 2 ** t.exp;
  const ms = Math.ceil(seconds * 1000);
  // Redis casts to a 64-bit integer: past its range (infinity included) x86 gives the lowest value, "negative".
  if (ms < 0 || !(ms < 2 ** 63)) throw new CommandError('ERR timeout is negative');
  if (ms > 2 ** 63 - Date.now()) throw new CommandError('ERR timeout is out of range');
  return ms;
}

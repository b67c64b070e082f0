/**
 * REPL: the requests of the replication stream, from a primary to its
 * replica (src/replication/source.ts has the format; sink.ts the checks), and
 * WAIT. Keyless for routing, as SLOTMOVE: a replica stores keys of slots it
 * does not serve.
 *
 *   REPL SYNC <primaryId> <replicaId> <epoch> <runId> <offset>   a full sync starts: the replica empties its store
 *   REPL CONTINUE <primaryId> <replicaId> <epoch> <runId>        a reconnect: the offset of that run applied (the backlog follows), or FULLSYNC
 *   REPL PUT <runId> <offset> <n> (<key> <expireAt> <kind> <value>) x n
 *   REPL PART <runId> <offset> <key> <expireAt> <total> <at> <bytes>
 *   REPL FLUSH <runId> <offset>                      FLUSHALL on the primary
 *   REPL SYNCED <runId> <offset>                     the full sync's walk is over: the copy is complete
 *   REPL HANDOFF <replicaId>                         to a primary: hand the slots to this replica (CLUSTER FAILOVER)
 *
 * Each answers with the offset the replica has applied. The stream's other
 * requests are taken only on the connection of the last SYNC or CONTINUE
 * (the session id is the connection's).
 */
import type { Argv } from '../protocol/argv.js';
import type { ReplicationManager } from '../replication/manager.js';
import type { ReplicaSink } from '../replication/sink.js';
import type { CommandContext } from './context.js';
import { CommandError } from './errors.js';
import { argSafeInt } from './numbers.js';
import { eachEntry, nonNegative } from './migration.js';
import { OK } from '../protocol/writer.js';
import { command, subcommandDispatcher, type CommandSpec } from './table.js';

function manager(ctx: CommandContext): ReplicationManager {
  const m = ctx.node.replication?.();
  if (m === undefined) throw new CommandError('ERR this node takes part in no replication (not a coordinated cluster member)');
  return m;
}

function sink(ctx: CommandContext): ReplicaSink {
  return manager(ctx).sink;
}

function put(ctx: CommandContext, argv: Argv): void {
  const s = sink(ctx);
  const run = argv.str(2);
  const offset = nonNegative(argv, 3, 'offset');
  const link = ctx.session.id;
  eachEntry(argv, 4, 'REPL PUT', (key, at, kind, vs, ve) => s.put(run, link, key, at, kind, argv.buf, vs, ve));
  ctx.out.integer(s.advance(run, link, offset));
}

/** WAIT numreplicas timeout: flushes the stream, then counts the replicas that confirmed it (Redis's semantics). */
function wait(ctx: CommandContext, argv: Argv): void {
  const need = nonNegative(argv, 1, 'number of replicas');
  const timeout = argSafeInt(argv, 2, 'ERR timeout is not an integer or out of range');
  if (timeout < 0) throw new CommandError('ERR timeout is negative');
  const source = ctx.node.replication?.()?.primarySource;
  if (source === undefined) {
    if (ctx.node.cluster()?.self?.role === 'replica') throw new CommandError('ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.');
    ctx.out.integer(0);
    return;
  }
  source.flushNow();
  const offset = source.offset;
  const now = source.confirmed(offset);
  if (now >= need || ctx.block === undefined) {
    ctx.out.integer(now);
    return;
  }
  const reply = source.waitFor(offset, need, timeout).then((n) => Buffer.from(`:${n}\r\n`));
  if (!ctx.block(reply)) ctx.out.integer(now);
}

const group = 'cluster';
const subcommands: CommandSpec[] = [
  command({ name: 'repl|sync', arity: 7, flags: ['write'], group, summary: 'Starts a full sync from a primary.', since: '0.1.0', handler: (ctx, argv) => {
    const s = sink(ctx);
    s.sync(argv.str(2), argv.str(3), nonNegative(argv, 4, 'epoch'), argv.str(5), nonNegative(argv, 6, 'offset'), ctx.session.id);
    ctx.out.integer(s.offset);
  } }),
  command({ name: 'repl|continue', arity: 6, flags: ['write'], group, summary: 'Resumes a primary\'s stream after a reconnect.', since: '0.1.0', handler: (ctx, argv) => {
    ctx.out.integer(sink(ctx).resume(argv.str(2), argv.str(3), nonNegative(argv, 4, 'epoch'), argv.str(5), ctx.session.id));
  } }),
  command({ name: 'repl|handoff', arity: 3, flags: ['admin'], group, summary: 'CLUSTER FAILOVER on a replica: its primary hands its slots to it.', since: '0.1.0', handler: (ctx, argv) => {
    manager(ctx).handOffTo(argv.str(2));
    ctx.out.raw(OK);
  } }),
  command({ name: 'repl|put', arity: -5, flags: ['write'], group, summary: 'Applies a batch of the replication stream.', since: '0.1.0', handler: put }),
  command({ name: 'repl|part', arity: 9, flags: ['write'], group, summary: 'Applies a piece of a large value of the replication stream.', since: '0.1.0', handler: (ctx, argv) => {
    const s = sink(ctx);
    const run = argv.str(2);
    const link = ctx.session.id;
    s.part(run, link, argv.str(4), nonNegative(argv, 5, 'expiry'), nonNegative(argv, 6, 'length'), nonNegative(argv, 7, 'offset'), argv.copy(8));
    ctx.out.integer(s.advance(run, link, nonNegative(argv, 3, 'offset')));
  } }),
  command({ name: 'repl|flush', arity: 4, flags: ['write'], group, summary: 'Empties the replica, as FLUSHALL did on its primary.', since: '0.1.0', handler: (ctx, argv) => {
    const s = sink(ctx);
    s.flushAll(argv.str(2), ctx.session.id);
    ctx.out.integer(s.advance(argv.str(2), ctx.session.id, nonNegative(argv, 3, 'offset')));
  } }),
  command({ name: 'repl|synced', arity: 4, flags: ['write'], group, summary: 'Ends a full sync: the replica\'s copy is complete.', since: '0.1.0', handler: (ctx, argv) => {
    const s = sink(ctx);
    s.synced(argv.str(2), ctx.session.id);
    ctx.out.integer(s.advance(argv.str(2), ctx.session.id, nonNegative(argv, 3, 'offset')));
  } }),
];

export const replicationCommands: CommandSpec[] = [
  command({ name: 'repl', arity: -3, flags: ['admin'], group, summary: 'A container for the requests of the replication stream between nodes.', since: '0.1.0', subcommands, handler: subcommandDispatcher('repl', subcommands) }),
  command({ name: 'wait', arity: 3, flags: [], group: 'generic', summary: 'Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.', since: '3.0.0', handler: wait }),
];

/**
 * Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH,
 * PUBSUB, and PEERPUBLISH (a PUBLISH forwarded by another node of the
 * cluster, delivered here only). State lives in src/pubsub; replies to the
 * subscribe family are pushes (`>` in RESP3, arrays in RESP2), as Redis's.
 */
import type { Argv } from '../protocol/argv.js';
import { frame, hubOf, type ClientPubsub } from '../pubsub/hub.js';
import type { Kind } from '../pubsub/registry.js';
import type { CommandContext } from './context.js';
import { CommandError } from './errors.js';
import { command, subcommandDispatcher, type CommandSpec } from './table.js';

/** Commands a RESP2 client may send while it has subscriptions (Redis's subscriber mode). */
export const SUBSCRIBER_MODE_COMMANDS = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);

/** Redis's error for any other command in subscriber mode. */
export const subscriberModeError = (name: string): string => `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;

function clientOf(ctx: CommandContext): ClientPubsub {
  if (ctx.push === undefined) throw new CommandError('ERR pub/sub is not available on this connection');
  return hubOf(ctx.node).clientOf(ctx.session, ctx.push);
}

const SUB: Record<Kind, string> = { channel: 'subscribe', pattern: 'psubscribe', shard: 'ssubscribe' };
const UNSUB: Record<Kind, string> = { channel: 'unsubscribe', pattern: 'punsubscribe', shard: 'sunsubscribe' };
const countOf = (s: ClientPubsub, kind: Kind): number => (kind === 'shard' ? s.shardChannels.size : s.classic);
const namesOf = (s: ClientPubsub, kind: Kind): Set<string> => (kind === 'channel' ? s.channels : kind === 'pattern' ? s.patterns : s.shardChannels);

function subscribe(kind: Kind) {
  return (ctx: CommandContext, argv: Argv): void => {
    // Redis refuses SSUBSCRIBE from a client that expects one reply per command (inside EXEC).
    if (kind === 'shard' && ctx.session.execing === true) throw new CommandError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    const s = clientOf(ctx);
    const hub = hubOf(ctx.node);
    for (let i = 1; i < argv.length; i++) {
      const name = argv.str(i);
      hub.add(s, kind, name);
      ctx.out.raw(frame(ctx.session.protocol, [SUB[kind], name], countOf(s, kind)));
    }
  };
}

function unsubscribe(kind: Kind) {
  return (ctx: CommandContext, argv: Argv): void => {
    const hub = hubOf(ctx.node);
    const s = ctx.session.pubsub;
    const names = argv.length > 1 ? Array.from({ length: argv.length - 1 }, (_, i) => argv.str(i + 1)) : s === undefined ? [] : [...namesOf(s, kind)];
    if (names.length === 0) return ctx.out.raw(frame(ctx.session.protocol, [UNSUB[kind], null], s === undefined ? 0 : countOf(s, kind)));
    for (const name of names) {
      if (s !== undefined) hub.remove(s, kind, name);
      ctx.out.raw(frame(ctx.session.protocol, [UNSUB[kind], name], s === undefined ? 0 : countOf(s, kind)));
    }
  };
}

function pubsubChannels(kind: 'channel' | 'shard') {
  return (ctx: CommandContext, argv: Argv): void => {
    // Redis's own text for this one (not the generic wrong-arity error).
    if (argv.length > 3) throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${argv.utf8(1)}'. Try PUBSUB HELP.`);
    const names = hubOf(ctx.node).registry.names(kind, argv.length === 3 ? argv.str(2) : undefined);
    ctx.out.array(names.length);
    for (const n of names) ctx.out.bulkLatin1(n);
  };
}

function pubsubNumsub(kind: 'channel' | 'shard') {
  return (ctx: CommandContext, argv: Argv): void => {
    const reg = hubOf(ctx.node).registry;
    // A flat array of name, count pairs in RESP3 too (Redis 7.0 does not answer a map).
    ctx.out.array(2 * (argv.length - 2));
    for (let i = 2; i < argv.length; i++) {
      ctx.out.bulkArg(argv, i);
      ctx.out.integer(reg.count(kind, argv.str(i)));
    }
  };
}

const group = 'pubsub';
const flags = ['pubsub', 'noscript', 'loading', 'stale'] as const;

const pubsubSubcommands: CommandSpec[] = [
  command({ name: 'pubsub|channels', arity: -2, flags: ['pubsub', 'loading', 'stale'], group, summary: 'Returns the active channels.', since: '2.8.0', handler: pubsubChannels('channel') }),
  command({ name: 'pubsub|numsub', arity: -2, flags: ['pubsub', 'loading', 'stale'], group, summary: 'Returns a count of subscribers to channels.', since: '2.8.0', handler: pubsubNumsub('channel') }),
  command({ name: 'pubsub|numpat', arity: 2, flags: ['pubsub', 'loading', 'stale'], group, summary: 'Returns a count of unique pattern subscriptions.', since: '2.8.0', handler: (ctx) => ctx.out.integer(hubOf(ctx.node).registry.patternCount) }),
  command({ name: 'pubsub|shardchannels', arity: -2, flags: ['pubsub', 'loading', 'stale'], group, summary: 'Returns the active shard channels.', since: '7.0.0', handler: pubsubChannels('shard') }),
  command({ name: 'pubsub|shardnumsub', arity: -2, flags: ['pubsub', 'loading', 'stale'], group, summary: 'Returns the count of subscribers of shard channels.', since: '7.0.0', handler: pubsubNumsub('shard') }),
];

export const pubsubCommands: CommandSpec[] = [
  command({ name: 'subscribe', arity: -2, flags: [...flags], group, summary: 'Listens for messages published to channels.', since: '2.0.0', handler: subscribe('channel') }),
  command({ name: 'psubscribe', arity: -2, flags: [...flags], group, summary: 'Listens for messages published to channels that match one or more patterns.', since: '2.0.0', handler: subscribe('pattern') }),
  command({ name: 'ssubscribe', arity: -2, flags: [...flags], firstKey: 1, lastKey: -1, keyStep: 1, group, summary: 'Listens for messages published to shard channels.', since: '7.0.0', handler: subscribe('shard') }),
  command({ name: 'unsubscribe', arity: -1, flags: [...flags], group, summary: 'Stops listening to messages posted to channels.', since: '2.0.0', handler: unsubscribe('channel') }),
  command({ name: 'punsubscribe', arity: -1, flags: [...flags], group, summary: 'Stops listening to messages published to channels that match one or more patterns.', since: '2.0.0', handler: unsubscribe('pattern') }),
  command({ name: 'sunsubscribe', arity: -1, flags: [...flags], firstKey: 1, lastKey: -1, keyStep: 1, group, summary: 'Stops listening to messages posted to shard channels.', since: '7.0.0', handler: unsubscribe('shard') }),
  command({ name: 'publish', arity: 3, flags: ['pubsub', 'loading', 'stale', 'fast'], group, summary: 'Posts a message to a channel.', since: '2.0.0', handler: (ctx, argv) => ctx.out.integer(hubOf(ctx.node).publish(argv.copy(1), argv.copy(2))) }),
  command({ name: 'spublish', arity: 3, flags: ['pubsub', 'loading', 'stale', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, group, summary: 'Post a message to a shard channel.', since: '7.0.0', handler: (ctx, argv) => ctx.out.integer(hubOf(ctx.node).spublish(argv.copy(1), argv.copy(2))) }),
  command({ name: 'peerpublish', arity: 3, flags: ['pubsub', 'loading', 'stale', 'fast', 'admin'], group, summary: 'A PUBLISH forwarded by another node of the cluster: delivered to this node\'s subscribers only.', since: '0.1.0', handler: (ctx, argv) => ctx.out.integer(hubOf(ctx.node).publishLocal(argv.copy(1), argv.copy(2))) }),
  command({ name: 'pubsub', arity: -2, flags: [], group, summary: 'A container for Pub/Sub commands.', since: '2.8.0', handler: subcommandDispatcher('pubsub', pubsubSubcommands), subcommands: pubsubSubcommands }),
];

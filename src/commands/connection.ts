/** Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT. */
import type { Argv } from '../protocol/argv.js';
import { OK, PONG } from '../protocol/writer.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors, userError } from './errors.js';
import { parseInt64 } from './numbers.js';
import { command, subcommandDispatcher, type CommandSpec } from './table.js';
import { endTransaction } from './transactions.js';
import { frame, hubOf } from '../pubsub/hub.js';
import { trackingSubcommands } from '../tracking/commands.js';

/** The Redis version whose protocol and commands ringcache follows; clients gate features on it. */
export const REDIS_COMPAT_VERSION = '7.0.0';

/**
 * Wrong passwords in a row after which a connection is closed (its last reply
 * still sent): a client cannot try passwords at pipeline speed, only as fast
 * as it reconnects. A success starts the count again.
 */
export const AUTH_FAILURES_BEFORE_CLOSE = 10;

/** Counts a wrong password and throws WRONGPASS; the last one allowed also closes the connection once replied. */
function wrongPassword(ctx: CommandContext): never {
  const s = ctx.session;
  s.authFailures = (s.authFailures ?? 0) + 1;
  if (s.authFailures >= AUTH_FAILURES_BEFORE_CLOSE) s.closeAfterReply = true;
  throw new CommandError(Errors.wrongPass);
}

/** Checks a password (AUTH's forms: `pass` or `default pass`), constant-time to the length. */
function passwordMatches(ctx: CommandContext, user: string | undefined, pass: string): boolean {
  const required = ctx.node.requirepass();
  if (user !== undefined && user !== 'default') return false;
  if (required === '') return user !== undefined; // the default user has no password: any password works
  const a = Buffer.from(pass);
  const b = Buffer.from(required);
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function auth(ctx: CommandContext, argv: Argv): void {
  if (argv.length > 3) throw new CommandError(Errors.syntax);
  if (argv.length === 2 && ctx.node.requirepass() === '') throw new CommandError(Errors.authNotConfigured);
  const user = argv.length === 3 ? argv.utf8(1) : undefined;
  if (!passwordMatches(ctx, user, argv.utf8(argv.length - 1))) wrongPassword(ctx);
  ctx.session.authenticated = true;
  ctx.session.authFailures = 0;
  ctx.out.raw(OK);
}

function checkClientName(name: string): void {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
  }
}

function hello(ctx: CommandContext, argv: Argv): void {
  let protocol = ctx.session.protocol;
  let i = 1;
  if (argv.length > 1) {
    const v = parseInt64(argv.buf, argv.start[1]!, argv.end[1]!);
    if (v === null) throw new CommandError('ERR Protocol version is not an integer or out of range');
    if (v !== 2 && v !== 3) throw new CommandError(Errors.noProto);
    protocol = v;
    i = 2;
  }
  let name: string | undefined;
  let authed = ctx.session.authenticated;
  for (; i < argv.length; i++) {
    if (argv.is(i, 'auth') && i + 2 < argv.length) {
      if (!passwordMatches(ctx, argv.utf8(i + 1), argv.utf8(i + 2))) wrongPassword(ctx);
      ctx.session.authFailures = 0;
      authed = true;
      i += 2;
    } else if (argv.is(i, 'setname') && i + 1 < argv.length) {
      name = argv.utf8(++i);
      checkClientName(name);
    } else {
      throw new CommandError(userError(`ERR Syntax error in HELLO option '${argv.utf8(i)}'`));
    }
  }
  if (!authed) {
    throw new CommandError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  }
  ctx.session.authenticated = true;
  ctx.session.protocol = protocol;
  ctx.out.protocol = protocol;
  if (name !== undefined) ctx.session.name = name;
  const out = ctx.out;
  out.fields([
    ['server', 'redis'],
    ['version', REDIS_COMPAT_VERSION],
    ['proto', protocol],
    ['id', ctx.session.id],
    ['mode', ctx.node.cluster() === undefined ? 'standalone' : 'cluster'],
    ['role', 'master'],
  ], 1);
  out.bulkText('modules');
  out.array(0);
}

function ping(ctx: CommandContext, argv: Argv): void {
  if (argv.length > 2) throw new CommandError(Errors.wrongArity('ping'));
  // RESP2 subscriber mode: Redis answers a two-element array, "pong" and the argument (or "").
  if (ctx.session.pubsub !== undefined && ctx.session.protocol === 2 && ctx.session.pubsub.total > 0) return ctx.out.raw(frame(2, ['pong', argv.length === 2 ? argv.copy(1) : '']));
  if (argv.length === 2) ctx.out.bulkArg(argv, 1);
  else ctx.out.raw(PONG);
}

function select(ctx: CommandContext, argv: Argv): void {
  const db = parseInt64(argv.buf, argv.start[1]!, argv.end[1]!);
  if (db === null) throw new CommandError(Errors.notInteger);
  // Redis reads the index as a C int first.
  if (db < -2147483648 || db > 2147483647) throw new CommandError('ERR value is out of range, value must between -2147483648 and 2147483647');
  if (db !== 0) throw new CommandError(Errors.dbIndex);
  ctx.out.raw(OK);
}

function quit(ctx: CommandContext): void {
  ctx.session.closeAfterReply = true;
  ctx.out.raw(OK);
}

function reset(ctx: CommandContext): void {
  const s = ctx.session;
  s.protocol = 2;
  ctx.out.protocol = 2;
  s.name = '';
  s.authenticated = ctx.node.requirepass() === '';
  endTransaction(s);
  hubOf(ctx.node).leave(s);
  ctx.node.tracker?.disable(s.tracking);
  ctx.out.simple('RESET');
}

/** Redis's client types; ringcache's clients are all "normal" (no replicas, no pub/sub yet). */
const CLIENT_TYPES = ['normal', 'master', 'replica', 'slave', 'pubsub'];

/** Whether a TYPE filter matches ringcache's clients; throws Redis's error for an unknown type. */
function typeMatches(name: string): boolean {
  const type = name.toLowerCase();
  if (!CLIENT_TYPES.includes(type)) throw new CommandError(userError(`ERR Unknown client type '${name}'`));
  return type === 'normal';
}

function clientList(ctx: CommandContext, argv: Argv): void {
  let ids: Set<number> | undefined;
  for (let i = 2; i < argv.length; i++) {
    if (argv.is(i, 'type') && i + 1 < argv.length) {
      if (!typeMatches(argv.utf8(++i))) ids = new Set();
    } else if (argv.is(i, 'id') && i + 1 < argv.length) {
      ids ??= new Set();
      while (++i < argv.length) {
        const id = parseInt64(argv.buf, argv.start[i]!, argv.end[i]!);
        if (id === null || typeof id === 'bigint' || id <= 0) throw new CommandError('ERR Invalid client ID');
        ids.add(id);
      }
    } else throw new CommandError(Errors.syntax);
  }
  const lines: string[] = [];
  for (const c of ctx.node.clients()) if (ids === undefined || ids.has(c.id)) lines.push(c.describe() + '\n');
  ctx.out.verbatim(lines.join(''));
}

function clientKill(ctx: CommandContext, argv: Argv): void {
  // Old form: CLIENT KILL addr:port, replies OK or an error.
  if (argv.length === 3) {
    const addr = argv.utf8(2);
    for (const c of ctx.node.clients()) {
      if (c.addr === addr) {
        if (c.id === ctx.session.id) ctx.session.closeAfterReply = true;
        else c.kill();
        return ctx.out.raw(OK);
      }
    }
    throw new CommandError(Errors.noSuchClient);
  }
  // New form: filters, replies the number killed.
  let id: number | undefined;
  let addr: string | undefined;
  let laddr: string | undefined;
  let skipMe = true;
  let typeFits = true;
  if (argv.length % 2 !== 0) throw new CommandError(Errors.syntax);
  for (let i = 2; i < argv.length; i += 2) {
    const v = argv.utf8(i + 1);
    if (argv.is(i, 'id')) {
      const n = parseInt64(argv.buf, argv.start[i + 1]!, argv.end[i + 1]!);
      if (n === null || typeof n === 'bigint' || n <= 0) throw new CommandError('ERR client-id should be greater than 0');
      id = n;
    } else if (argv.is(i, 'addr')) addr = v;
    else if (argv.is(i, 'laddr')) laddr = v;
    else if (argv.is(i, 'skipme')) {
      if (v.toLowerCase() !== 'yes' && v.toLowerCase() !== 'no') throw new CommandError(Errors.syntax);
      skipMe = v.toLowerCase() === 'yes';
    } else if (argv.is(i, 'type')) typeFits = typeMatches(v);
    else throw new CommandError(Errors.syntax);
  }
  let killed = 0;
  for (const c of typeFits ? [...ctx.node.clients()] : []) {
    if ((id !== undefined && c.id !== id) || (addr !== undefined && c.addr !== addr) || (laddr !== undefined && c.laddr !== laddr)) continue;
    if (c.id === ctx.session.id) {
      if (skipMe) continue;
      ctx.session.closeAfterReply = true;
    } else c.kill();
    killed++;
  }
  ctx.out.integer(killed);
}

function clientSetinfo(ctx: CommandContext, argv: Argv): void {
  const value = argv.utf8(3);
  checkClientName(value);
  if (argv.is(2, 'lib-name')) ctx.session.libName = value;
  else if (argv.is(2, 'lib-ver')) ctx.session.libVersion = value;
  else throw new CommandError(userError(`ERR Unrecognized option '${argv.utf8(2)}'`));
  ctx.out.raw(OK);
}

const group = 'connection';

const clientSubcommands: CommandSpec[] = [
  command({ name: 'client|id', arity: 2, flags: [], group, summary: 'Returns the unique client ID of the connection.', since: '5.0.0', handler: (ctx) => ctx.out.integer(ctx.session.id) }),
  command({ name: 'client|setname', arity: 3, flags: [], group, summary: 'Sets the connection name.', since: '2.6.9', handler: (ctx, argv) => {
    const name = argv.utf8(2);
    checkClientName(name);
    ctx.session.name = name;
    ctx.out.raw(OK);
  } }),
  command({ name: 'client|getname', arity: 2, flags: [], group, summary: 'Returns the name of the connection.', since: '2.6.9', handler: (ctx) => {
    if (ctx.session.name === '') ctx.out.nullBulk();
    else ctx.out.bulkText(ctx.session.name);
  } }),
  command({ name: 'client|setinfo', arity: 4, flags: [], group, summary: 'Sets information specific to the client or connection.', since: '7.2.0', handler: clientSetinfo }),
  command({ name: 'client|list', arity: -2, flags: ['admin'], group, summary: 'Lists open connections.', since: '2.4.0', handler: clientList }),
  command({ name: 'client|info', arity: 2, flags: [], group, summary: 'Returns information about the connection.', since: '6.2.0', handler: (ctx) => {
    for (const c of ctx.node.clients()) if (c.id === ctx.session.id) return ctx.out.verbatim(c.describe() + '\n');
    ctx.out.nullBulk();
  } }),
  command({ name: 'client|kill', arity: -3, flags: ['admin'], group, summary: 'Terminates open connections.', since: '2.4.0', handler: clientKill }),
  ...trackingSubcommands,
];

export const connectionCommands: CommandSpec[] = [
  command({ name: 'ping', arity: -1, flags: ['fast'], group, summary: 'Returns the server\'s liveliness response.', handler: ping }),
  command({ name: 'echo', arity: 2, flags: ['fast'], group, summary: 'Returns the given string.', handler: (ctx, argv) => ctx.out.bulkArg(argv, 1) }),
  command({ name: 'hello', arity: -1, flags: ['no_auth', 'fast'], group, summary: 'Handshakes with the Redis server.', since: '6.0.0', handler: hello }),
  command({ name: 'auth', arity: -2, flags: ['no_auth', 'fast'], group, summary: 'Authenticates the connection.', handler: auth }),
  command({ name: 'select', arity: 2, flags: ['fast'], group, summary: 'Changes the selected database.', handler: select }),
  command({ name: 'quit', arity: -1, flags: ['no_auth', 'fast'], group, summary: 'Closes the connection.', handler: quit }),
  command({ name: 'reset', arity: 1, flags: ['no_auth', 'fast'], group, summary: 'Resets the connection.', since: '6.2.0', handler: reset }),
  command({ name: 'client', arity: -2, flags: [], group, summary: 'A container for client connection commands.', since: '2.4.0', handler: subcommandDispatcher('client', clientSubcommands), subcommands: clientSubcommands }),
];

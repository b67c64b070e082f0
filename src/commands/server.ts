/** Server commands: INFO, CONFIG, COMMAND, TIME, SHUTDOWN. */
import { Argv } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import { globMatch } from '../store/glob.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors, userError } from './errors.js';
import { arityOk, callKeyPositions, command, subcommandDispatcher, type CommandSpec, type CommandTable } from './table.js';

function info(ctx: CommandContext, argv: Argv): void {
  const sections: string[] = [];
  for (let i = 1; i < argv.length; i++) sections.push(argv.utf8(i).toLowerCase());
  ctx.out.verbatim(ctx.node.info(sections));
}

/** As Redis: a plain name is replied as given, a pattern's matches by their own names; each parameter once. */
function configGet(ctx: CommandContext, argv: Argv): void {
  const found = new Map<string, [reply: string, value: string]>();
  for (let i = 2; i < argv.length; i++) {
    const given = argv.utf8(i);
    const pattern = given.toLowerCase();
    if (!/[[*?]/.test(given)) {
      const param = ctx.node.config.get(pattern);
      if (param !== undefined && !found.has(pattern)) found.set(pattern, [given, param.get()]);
      continue;
    }
    for (const [name, param] of ctx.node.config) if (!found.has(name) && globMatch(pattern, name, true)) found.set(name, [name, param.get()]);
  }
  ctx.out.map(found.size);
  for (const [reply, value] of found.values()) {
    ctx.out.bulkText(reply);
    ctx.out.bulkText(value);
  }
}

function configSet(ctx: CommandContext, argv: Argv): void {
  if (argv.length % 2 !== 0) throw new CommandError(Errors.syntax);
  const changes: Array<[string, string]> = [];
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv.utf8(i).toLowerCase();
    const param = ctx.node.config.get(name);
    if (param === undefined || param.set === undefined) {
      throw new CommandError(userError(`ERR Unknown option or number of arguments for CONFIG SET - '${argv.utf8(i)}'`));
    }
    if (changes.some(([n]) => n === name)) {
      throw new CommandError(userError(`ERR CONFIG SET failed (possibly related to argument '${argv.utf8(i)}') - duplicate parameter`));
    }
    changes.push([name, argv.utf8(i + 1)]);
  }
  // Apply all or none: remember old values and roll back if one fails, as Redis 7 does.
  const applied: Array<[string, string]> = [];
  try {
    for (const [name, value] of changes) {
      const param = ctx.node.config.get(name)!;
      const old = param.get();
      param.set!(value);
      applied.push([name, old]);
    }
  } catch (err) {
    for (const [name, old] of applied.reverse()) ctx.node.config.get(name)!.set!(old);
    throw err;
  }
  ctx.out.raw(OK);
}

const configSubcommands: CommandSpec[] = [
  command({ name: 'config|get', arity: -3, flags: ['admin'], group: 'server', summary: 'Returns the effective values of configuration parameters.', since: '2.0.0', handler: configGet }),
  command({ name: 'config|set', arity: -4, flags: ['admin'], group: 'server', summary: 'Sets configuration parameters in-flight.', since: '2.0.0', handler: configSet }),
  command({ name: 'config|resetstat', arity: 2, flags: ['admin'], group: 'server', summary: 'Resets the server\'s statistics.', since: '2.0.0', handler: (ctx) => {
    ctx.node.resetStats();
    ctx.out.raw(OK);
  } }),
  command({ name: 'config|rewrite', arity: 2, flags: ['admin'], group: 'server', summary: 'Persists the effective configuration to file.', since: '2.8.0', handler: () => {
    throw new CommandError('ERR The server is running without a config file');
  } }),
];

/** One COMMAND INFO entry, in Redis 7's shape. */
function writeCommandInfo(ctx: CommandContext, spec: CommandSpec): void {
  const out = ctx.out;
  out.array(10);
  out.bulkText(spec.name);
  out.integer(spec.arity);
  out.set(spec.flags.length);
  for (const f of spec.flags) out.simple(f);
  out.integer(spec.firstKey);
  out.integer(spec.lastKey);
  out.integer(spec.keyStep);
  out.set(0); // ACL categories
  out.set(0); // tips
  out.array(0); // key specifications
  const subs = spec.subcommands ?? [];
  out.array(subs.length);
  for (const s of subs) writeCommandInfo(ctx, s);
}

function writeCommandDocs(ctx: CommandContext, spec: CommandSpec): void {
  const out = ctx.out;
  const subs = spec.subcommands ?? [];
  out.fields([
    ['summary', spec.summary],
    ['since', spec.since],
    ['group', spec.group],
  ], subs.length > 0 ? 1 : 0);
  if (subs.length > 0) {
    out.bulkText('subcommands');
    out.map(subs.length);
    for (const s of subs) {
      out.bulkText(s.name);
      writeCommandDocs(ctx, s);
    }
  }
}

/** The spec of the command at argv[at], its subcommand's for a container (Redis's lookupCommand). */
function lookup(table: CommandTable, argv: Argv, at: number): CommandSpec | undefined {
  const spec = table.find(argv, at);
  if (spec?.subcommands === undefined || argv.length - at === 1) return spec;
  return spec.subcommands.find((sub) => argv.is(at + 1, sub.name.slice(spec.name.length + 1)));
}

/** COMMAND and its subcommands need the table they describe, so they are built from it. */
export function commandCommands(table: () => CommandTable): CommandSpec[] {
  const named = (argv: Argv, from: number): Array<CommandSpec | undefined> => {
    const out: Array<CommandSpec | undefined> = [];
    for (let i = from; i < argv.length; i++) out.push(table().find(argv, i));
    return out;
  };
  const subs: CommandSpec[] = [
    command({ name: 'command|count', arity: 2, flags: [], group: 'server', summary: 'Returns a count of commands.', since: '2.8.13', handler: (ctx) => ctx.out.integer(table().all.length) }),
    command({ name: 'command|list', arity: -2, flags: [], group: 'server', summary: 'Returns a list of command names.', since: '7.0.0', handler: (ctx) => {
      ctx.out.array(table().all.length);
      for (const s of table().all) ctx.out.bulkText(s.name);
    } }),
    command({ name: 'command|info', arity: -2, flags: [], group: 'server', summary: 'Returns information about one, multiple or all commands.', since: '2.8.13', handler: (ctx, argv) => {
      const specs = argv.length === 2 ? [...table().all] : named(argv, 2);
      ctx.out.array(specs.length);
      for (const s of specs) {
        if (s === undefined) ctx.out.nullArray();
        else writeCommandInfo(ctx, s);
      }
    } }),
    command({ name: 'command|docs', arity: -2, flags: [], group: 'server', summary: 'Returns documentary information about one, multiple or all commands.', since: '7.0.0', handler: (ctx, argv) => {
      const specs = (argv.length === 2 ? [...table().all] : named(argv, 2)).filter((s) => s !== undefined);
      ctx.out.map(specs.length);
      for (const s of specs) {
        ctx.out.bulkText(s.name);
        writeCommandDocs(ctx, s);
      }
    } }),
    command({ name: 'command|getkeys', arity: -4, flags: [], group: 'server', summary: 'Extracts the key names from an arbitrary command.', since: '2.8.13', handler: (ctx, argv) => {
      const spec = lookup(table(), argv, 2);
      if (spec === undefined) throw new CommandError('ERR Invalid command specified');
      if (spec.firstKey === 0 && spec.keysOf === undefined) throw new CommandError('ERR The command has no key arguments');
      if (!arityOk(spec, argv.length - 2)) throw new CommandError('ERR Invalid number of arguments specified for command');
      // The keys routing uses (keysOf for count-prefixed keys), of the call that starts at argument 2.
      const call = new Argv();
      call.buf = argv.buf;
      call.start = argv.start.subarray(2, argv.length);
      call.end = argv.end.subarray(2, argv.length);
      call.length = argv.length - 2;
      const positions = callKeyPositions(spec, call);
      if (positions.length === 0) throw new CommandError('ERR Invalid arguments specified for command');
      ctx.out.array(positions.length);
      for (const p of positions) ctx.out.bulkArg(argv, p + 2);
    } }),
  ];
  const dispatch = subcommandDispatcher('command', subs);
  return [
    command({ name: 'command', arity: -1, flags: [], group: 'server', summary: 'Returns detailed information about all commands.', since: '2.8.13', subcommands: subs, handler: (ctx, argv) => {
      if (argv.length > 1) return dispatch(ctx, argv);
      ctx.out.array(table().all.length);
      for (const s of table().all) writeCommandInfo(ctx, s);
    } }),
  ];
}

function time(ctx: CommandContext): void {
  const us = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  ctx.out.array(2);
  ctx.out.bulkText(String(us / 1_000_000n));
  ctx.out.bulkText(String(us % 1_000_000n));
}

function shutdown(ctx: CommandContext, argv: Argv): void {
  const given = new Set<string>();
  for (let i = 1; i < argv.length; i++) {
    const word = ['nosave', 'save', 'now', 'force', 'abort'].find((w) => argv.is(i, w));
    if (word === undefined) throw new CommandError(Errors.syntax);
    given.add(word);
  }
  // As Redis: ABORT takes no other flag, NOSAVE and SAVE exclude each other; all checked before acting.
  if ((given.has('abort') && given.size > 1) || (given.has('nosave') && given.has('save'))) throw new CommandError(Errors.syntax);
  if (given.has('abort')) throw new CommandError('ERR No shutdown in progress.');
  // No reply: like Redis, the node closes every connection and exits.
  ctx.session.closeAfterReply = true;
  ctx.node.shutdown();
}

export const serverCommands: CommandSpec[] = [
  command({ name: 'info', arity: -1, flags: ['loading', 'stale'], group: 'server', summary: 'Returns information and statistics about the server.', handler: info }),
  command({ name: 'config', arity: -2, flags: [], group: 'server', summary: 'A container for server configuration commands.', since: '2.0.0', subcommands: configSubcommands, handler: subcommandDispatcher('config', configSubcommands) }),
  command({ name: 'time', arity: 1, flags: ['random', 'fast'], group: 'server', summary: 'Returns the server time.', since: '2.6.0', handler: time }),
  command({ name: 'shutdown', arity: -1, flags: ['admin'], group: 'server', summary: 'Synchronously saves the database(s) to disk and shuts down the Redis server.', handler: shutdown }),
];

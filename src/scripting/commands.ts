/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: the command specs, over one
 * ScriptEngine per dispatcher (scripting.ts makes both).
 */
import type { Argv } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import type { CommandContext } from '../commands/context.js';
import { CommandError } from '../commands/errors.js';
import { atoi32 } from '../commands/containers.js';
import { command, subcommandDispatcher, type CommandSpec } from '../commands/table.js';
import { Errors, type ScriptEngine } from './engine.js';
import { functionCommands } from './functions.js';

const group = 'scripting';

/** The key positions of EVAL-like commands: numkeys at argv[2], then that many keys (none if numkeys is invalid). */
export function evalKeys(argv: Argv): number[] {
  if (argv.length < 3) return [];
  // As Redis's evalGetKeys: atoi() of numkeys.
  const n = atoi32(argv.buf, argv.start[2]!, argv.end[2]!);
  if (n <= 0 || n > argv.length - 3) return [];
  return Array.from({ length: n }, (_, i) => 3 + i);
}

const SHA = /^[0-9a-fA-F]{40}$/;

export function scriptingCommands(engine: ScriptEngine): CommandSpec[] {
  const evalBody = (readonly: boolean) => (ctx: CommandContext, argv: Argv) => {
    const sha = engine.load(argv.copy(1), false);
    engine.evalScript(ctx, sha, argv, readonly);
  };
  const evalSha = (readonly: boolean) => (ctx: CommandContext, argv: Argv) => {
    const sha = argv.str(1).toLowerCase();
    if (!SHA.test(sha)) throw new CommandError(Errors.noScript);
    engine.evalScript(ctx, sha, argv, readonly);
  };
  const scriptSubs: CommandSpec[] = [
    command({ name: 'script|load', arity: 3, flags: ['noscript', 'stale'], group, summary: 'Loads a server-side Lua script to the script cache.', since: '2.6.0', handler: (ctx, argv) => ctx.out.bulkLatin1(engine.load(argv.copy(2), true)) }),
    command({ name: 'script|exists', arity: -3, flags: ['noscript'], group, summary: 'Determines whether server-side Lua scripts exist in the script cache.', since: '2.6.0', handler: (ctx, argv) => {
      ctx.out.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) ctx.out.integer(engine.scripts.has(argv.str(i).toLowerCase()) ? 1 : 0);
    } }),
    command({ name: 'script|flush', arity: -2, flags: ['noscript'], group, summary: 'Removes all server-side Lua scripts from the script cache.', since: '2.6.0', handler: (ctx, argv) => {
      if (argv.length > 3 || (argv.length === 3 && !argv.is(2, 'async') && !argv.is(2, 'sync'))) throw new CommandError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
      engine.flush();
      ctx.out.raw(OK);
    } }),
    command({ name: 'script|kill', arity: 2, flags: ['noscript', 'allow_busy'], group, summary: 'Terminates a server-side Lua script during execution.', since: '2.6.0', handler: () => engine.kill() }),
  ];
  const common = { group, keysOf: evalKeys } as const;
  return [
    command({ ...common, name: 'eval', arity: -3, flags: ['noscript', 'stale', 'movablekeys'], summary: 'Executes a server-side Lua script.', since: '2.6.0', handler: evalBody(false) }),
    command({ ...common, name: 'evalsha', arity: -3, flags: ['noscript', 'stale', 'movablekeys'], summary: 'Executes a server-side Lua script by SHA1 digest.', since: '2.6.0', handler: evalSha(false) }),
    command({ ...common, name: 'eval_ro', arity: -3, flags: ['noscript', 'stale', 'readonly', 'movablekeys'], summary: 'Executes a read-only server-side Lua script.', since: '7.0.0', handler: evalBody(true) }),
    command({ ...common, name: 'evalsha_ro', arity: -3, flags: ['noscript', 'stale', 'readonly', 'movablekeys'], summary: 'Executes a read-only server-side Lua script by SHA1 digest.', since: '7.0.0', handler: evalSha(true) }),
    command({ name: 'script', arity: -2, flags: [], group, summary: 'A container for Lua scripts management commands.', since: '2.6.0', handler: subcommandDispatcher('script', scriptSubs), subcommands: scriptSubs }),
    ...functionCommands(engine),
  ];
}

/**
 * Redis 7 functions: FUNCTION LOAD|LIST|DELETE|FLUSH|DUMP|RESTORE|STATS|KILL,
 * FCALL and FCALL_RO. A library is Lua code with a `#!lua name=<lib>` first
 * line that calls redis.register_function when loaded; its functions run in
 * the ScriptEngine's VM as scripts do, with KEYS and ARGV as their two
 * arguments. The libraries' code is kept, so a new VM (SCRIPT FLUSH) loads
 * them again. FUNCTION DUMP's payload is ringcache's own (the libraries' code),
 * not Redis's RDB format: it restores on ringcache only.
 */
import type { Argv } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import type { CommandContext } from '../commands/context.js';
import { CommandError } from '../commands/errors.js';
import { command, subcommandDispatcher, type CommandSpec } from '../commands/table.js';
import { globMatch } from '../store/glob.js';
import { lua51Message, luaFail, numKeys, type ScriptEngine } from './engine.js';
import { evalKeys } from './commands.js';
import { lua, lauxlib, to_luastring, type LuaState } from './vm.js';

const { LUA_REGISTRYINDEX, LUA_TFUNCTION, LUA_TSTRING, LUA_TTABLE, LUA_OK } = lua;
const group = 'scripting';
const NAME = /^[A-Za-z0-9_]+$/;
/** How long a library's code may run while it loads (Redis's load timeout). */
const LOAD_TIME_LIMIT_MS = 500;
const FUNCTION_CHUNK = to_luastring('@user_function');
const TEXT = to_luastring('t');
const DUMP_MAGIC = 'RINGCACHE-FUNCTIONS-1\n';
const FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'];

interface LuaFunction {
  readonly name: string;
  readonly library: Library;
  readonly flags: readonly string[];
  readonly description: string | null;
  ref: number;
}

interface Library {
  readonly name: string;
  readonly code: Buffer;
  readonly functions: Map<string, LuaFunction>;
  generation: number;
}

export class FunctionRegistry {
  readonly libraries = new Map<string, Library>();
  readonly functions = new Map<string, LuaFunction>();
  /** The library being loaded (redis.register_function adds to it), or null. */
  private loading: { library: Library; functions: Map<string, LuaFunction> } | null = null;

  constructor(private readonly engine: ScriptEngine) {
    engine.extraRedis.register_function = (L) => this.register(L);
  }

  private register(L: LuaState): number {
    const loading = this.loading;
    if (loading === null) return lauxlib.luaL_error(L, 'redis.register_function can only be called on FUNCTION LOAD command');
    let name: string | null = null;
    let flags: string[] = [];
    let description: string | null = null;
    if (lua.lua_gettop(L) === 2) {
      name = lua.lua_type(L, 1) === LUA_TSTRING ? lua.lua_tojsstring(L, 1) : null;
      if (lua.lua_type(L, 2) !== LUA_TFUNCTION) lauxlib.luaL_error(L, 'callback must be a function');
    } else if (lua.lua_gettop(L) === 1 && lua.lua_type(L, 1) === LUA_TTABLE) {
      lua.lua_getfield(L, 1, 'function_name');
      name = lua.lua_type(L, -1) === LUA_TSTRING ? lua.lua_tojsstring(L, -1) : null;
      lua.lua_getfield(L, 1, 'description');
      if (lua.lua_type(L, -1) === LUA_TSTRING) description = lua.lua_tojsstring(L, -1);
      lua.lua_getfield(L, 1, 'flags');
      if (lua.lua_type(L, -1) === LUA_TTABLE) {
        for (let i = 1; lua.lua_rawgeti(L, -1, i) === LUA_TSTRING; i++) {
          flags.push(lua.lua_tojsstring(L, -1));
          lua.lua_pop(L, 1);
        }
        lua.lua_pop(L, 1);
      }
      lua.lua_pop(L, 3);
      lua.lua_getfield(L, 1, 'callback');
      if (lua.lua_type(L, -1) !== LUA_TFUNCTION) lauxlib.luaL_error(L, 'callback must be a function');
    } else return lauxlib.luaL_error(L, 'wrong number of arguments to redis.register_function');
    // (Redis 7.0 says "Library names" here too.)
    if (name === null || !NAME.test(name)) luaFail(L, 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long');
    for (const f of flags) if (!FLAGS.includes(f)) luaFail(L, 'unknown flag given');
    if (loading.functions.has(name!)) lauxlib.luaL_error(L, `Function already exists in the library`);
    flags = [...new Set(flags)];
    const ref = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    loading.functions.set(name!, { name: name!, library: loading.library, flags, description, ref });
    return 0;
  }

  /** Compiles and runs a library's code, collecting its functions (not yet installed). */
  private compile(ctx: CommandContext, code: Buffer): Library {
    const nl = code.indexOf(10);
    const first = code.subarray(0, nl < 0 ? code.length : nl).toString('utf8');
    if (!first.startsWith('#!')) throw new CommandError('ERR Missing library metadata');
    const [engineName, ...params] = first.slice(2).trim().split(/\s+/);
    if (engineName?.toLowerCase() !== 'lua') throw new CommandError(`ERR Engine '${engineName}' not found`);
    let name: string | null = null;
    for (const p of params) {
      if (!p.startsWith('name=')) throw new CommandError(`ERR Invalid metadata value given: ${p}`);
      name = p.slice(5);
    }
    if (name === null) throw new CommandError('ERR Library name was not given');
    if (!NAME.test(name)) throw new CommandError('ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long');
    const library: Library = { name, code: Buffer.from(code), functions: new Map(), generation: this.engine.generation };
    const L = this.engine.state();
    library.generation = this.engine.generation;
    const body = nl < 0 ? Buffer.alloc(0) : code.subarray(nl);
    if (lauxlib.luaL_loadbufferx(L, body, body.length, FUNCTION_CHUNK, TEXT) !== LUA_OK) {
      const msg = lua.lua_tojsstring(L, -1);
      lua.lua_pop(L, 1);
      throw new CommandError(`ERR Error compiling function: ${lua51Message(msg)}`);
    }
    const fn = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    this.loading = { library, functions: library.functions };
    try {
      this.engine.runLoad(
        ctx,
        (S) => {
          lua.lua_rawgeti(S, LUA_REGISTRYINDEX, fn);
          this.engine.pushEnv(S);
          lua.lua_setupvalue(S, -2, 1);
        },
        LOAD_TIME_LIMIT_MS,
      );
    } catch (err) {
      this.release(library);
      throw err;
    } finally {
      this.loading = null;
      lauxlib.luaL_unref(L, LUA_REGISTRYINDEX, fn);
    }
    if (library.functions.size === 0) throw new CommandError('ERR No functions registered');
    return library;
  }

  private release(library: Library): void {
    const L = this.engine.L;
    if (L !== null && library.generation === this.engine.generation) for (const f of library.functions.values()) lauxlib.luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
  }

  /** FUNCTION LOAD: installs the library (replacing one of its name when asked). */
  load(ctx: CommandContext, code: Buffer, replace: boolean): string {
    const library = this.compile(ctx, code);
    const old = this.libraries.get(library.name);
    if (old !== undefined && !replace) {
      this.release(library);
      throw new CommandError(`ERR Library '${library.name}' already exists`);
    }
    for (const f of library.functions.values()) {
      const existing = this.functions.get(f.name);
      if (existing !== undefined && existing.library !== old) {
        this.release(library);
        throw new CommandError(`ERR Function ${f.name} already exists`);
      }
    }
    if (old !== undefined) this.remove(old);
    this.libraries.set(library.name, library);
    for (const f of library.functions.values()) this.functions.set(f.name, f);
    return library.name;
  }

  remove(library: Library): void {
    this.release(library);
    this.libraries.delete(library.name);
    for (const f of library.functions.keys()) this.functions.delete(f);
  }

  flush(): void {
    for (const lib of [...this.libraries.values()]) this.remove(lib);
  }

  /** After a new VM (SCRIPT FLUSH, a reset): the libraries' code runs again there. */
  private current(ctx: CommandContext): void {
    this.engine.state();
    const stale = [...this.libraries.values()].filter((l) => l.generation !== this.engine.generation);
    for (const old of stale) {
      const fresh = this.compile(ctx, old.code);
      this.libraries.set(fresh.name, fresh);
      for (const f of fresh.functions.values()) this.functions.set(f.name, f);
    }
  }

  fcall(ctx: CommandContext, argv: Argv, readonly: boolean): void {
    this.current(ctx);
    const f = this.functions.get(argv.utf8(1));
    if (f === undefined) throw new CommandError('ERR Function not found');
    const numkeys = numKeys(argv, 2);
    const noWrites = f.flags.includes('no-writes');
    if (readonly && !noWrites) throw new CommandError('ERR Can not execute a script with write flag using *_ro command.');
    if (f.flags.includes('no-cluster') && ctx.node.cluster() !== undefined) throw new CommandError("ERR Can not run script on cluster, 'no-cluster' flag is set.");
    this.engine.invoke(ctx, (L) => lua.lua_rawgeti(L, LUA_REGISTRYINDEX, f.ref), argv, 3, numkeys, readonly || noWrites, f.name);
  }

  list(ctx: CommandContext, argv: Argv): void {
    let pattern: string | null = null;
    let withCode = false;
    for (let i = 2; i < argv.length; i++) {
      if (argv.is(i, 'withcode')) withCode = true;
      else if (argv.is(i, 'libraryname') && i + 1 < argv.length) pattern = argv.str(++i);
      else throw new CommandError(`ERR Unknown argument ${argv.utf8(i)}`);
    }
    const libs = [...this.libraries.values()].filter((l) => pattern === null || globMatch(pattern, l.name));
    const out = ctx.out;
    out.array(libs.length);
    for (const lib of libs) {
      out.map(withCode ? 4 : 3);
      out.bulkText('library_name');
      out.bulkText(lib.name);
      out.bulkText('engine');
      out.bulkText('LUA');
      out.bulkText('functions');
      out.array(lib.functions.size);
      for (const f of lib.functions.values()) {
        out.map(3);
        out.bulkText('name');
        out.bulkText(f.name);
        out.bulkText('description');
        if (f.description === null) out.nullBulk();
        else out.bulkText(f.description);
        out.bulkText('flags');
        out.set(f.flags.length);
        for (const flag of f.flags) out.simple(flag);
      }
      if (withCode) {
        out.bulkText('library_code');
        out.bulk(lib.code);
      }
    }
  }

  dump(): Buffer {
    const parts = [Buffer.from(DUMP_MAGIC)];
    for (const lib of this.libraries.values()) parts.push(Buffer.from(`${lib.code.length}\n`), Buffer.from(lib.code));
    return Buffer.concat(parts);
  }

  restore(ctx: CommandContext, payload: Buffer, policy: 'append' | 'replace' | 'flush'): void {
    if (!payload.subarray(0, DUMP_MAGIC.length).equals(Buffer.from(DUMP_MAGIC))) throw new CommandError('ERR DUMP payload version or checksum are wrong');
    const codes: Buffer[] = [];
    let pos = DUMP_MAGIC.length;
    while (pos < payload.length) {
      const nl = payload.indexOf(10, pos);
      const n = nl < 0 ? NaN : Number(payload.latin1Slice(pos, nl));
      if (!Number.isSafeInteger(n) || nl + 1 + n > payload.length) throw new CommandError('ERR DUMP payload version or checksum are wrong');
      codes.push(payload.subarray(nl + 1, nl + 1 + n));
      pos = nl + 1 + n;
    }
    // All or nothing: compiled first, installed only if every library can be.
    const saved = new Map(this.libraries);
    if (policy === 'flush') this.flush();
    try {
      for (const code of codes) {
        const library = this.compile(ctx, code);
        const old = this.libraries.get(library.name);
        if (old !== undefined) {
          if (policy === 'append') {
            this.release(library);
            throw new CommandError(`ERR Library ${library.name} already exists`);
          }
          this.remove(old);
        }
        for (const f of library.functions.values()) {
          if (this.functions.has(f.name)) {
            this.release(library);
            throw new CommandError(`ERR Function ${f.name} already exists`);
          }
        }
        this.libraries.set(library.name, library);
        for (const f of library.functions.values()) this.functions.set(f.name, f);
      }
    } catch (err) {
      this.libraries.clear();
      this.functions.clear();
      for (const lib of saved.values()) {
        this.libraries.set(lib.name, lib);
        for (const f of lib.functions.values()) this.functions.set(f.name, f);
      }
      throw err;
    }
  }
}

export function functionCommands(engine: ScriptEngine): CommandSpec[] {
  const registry = new FunctionRegistry(engine);
  const subs: CommandSpec[] = [
    command({ name: 'function|load', arity: -3, flags: ['write', 'denyoom', 'noscript'], group, summary: 'Creates a library.', since: '7.0.0', handler: (ctx, argv) => {
      let replace = false;
      for (let i = 2; i < argv.length - 1; i++) {
        if (argv.is(i, 'replace')) replace = true;
        else throw new CommandError(`ERR Unknown option given: ${argv.utf8(i)}`);
      }
      ctx.out.bulkText(registry.load(ctx, argv.copy(argv.length - 1), replace));
    } }),
    command({ name: 'function|list', arity: -2, flags: ['noscript'], group, summary: 'Returns information about all libraries.', since: '7.0.0', handler: (ctx, argv) => registry.list(ctx, argv) }),
    command({ name: 'function|delete', arity: 3, flags: ['write', 'noscript'], group, summary: 'Deletes a library and its functions.', since: '7.0.0', handler: (ctx, argv) => {
      const lib = registry.libraries.get(argv.utf8(2));
      if (lib === undefined) throw new CommandError('ERR Library not found');
      registry.remove(lib);
      ctx.out.raw(OK);
    } }),
    command({ name: 'function|flush', arity: -2, flags: ['write', 'noscript'], group, summary: 'Deletes all libraries and functions.', since: '7.0.0', handler: (ctx, argv) => {
      if (argv.length > 3 || (argv.length === 3 && !argv.is(2, 'async') && !argv.is(2, 'sync'))) throw new CommandError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
      registry.flush();
      ctx.out.raw(OK);
    } }),
    command({ name: 'function|dump', arity: 2, flags: ['noscript'], group, summary: 'Dumps all libraries into a serialized binary payload.', since: '7.0.0', handler: (ctx) => ctx.out.bulk(registry.dump()) }),
    command({ name: 'function|restore', arity: -3, flags: ['write', 'denyoom', 'noscript'], group, summary: 'Restores all libraries from a payload.', since: '7.0.0', handler: (ctx, argv) => {
      let policy: 'append' | 'replace' | 'flush' = 'append';
      if (argv.length === 4) {
        if (argv.is(3, 'append')) policy = 'append';
        else if (argv.is(3, 'replace')) policy = 'replace';
        else if (argv.is(3, 'flush')) policy = 'flush';
        else throw new CommandError(`ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.`);
      } else if (argv.length > 4) throw new CommandError('ERR syntax error');
      registry.restore(ctx, argv.copy(2), policy);
      ctx.out.raw(OK);
    } }),
    command({ name: 'function|stats', arity: 2, flags: ['noscript', 'allow_busy'], group, summary: 'Returns information about a function during execution.', since: '7.0.0', handler: (ctx) => {
      const out = ctx.out;
      out.map(2);
      out.bulkText('running_script');
      out.nullBulk();
      out.bulkText('engines');
      out.map(1);
      out.bulkText('LUA');
      out.map(2);
      out.bulkText('libraries_count');
      out.integer(registry.libraries.size);
      out.bulkText('functions_count');
      out.integer(registry.functions.size);
    } }),
    command({ name: 'function|kill', arity: 2, flags: ['noscript', 'allow_busy'], group, summary: 'Terminates a function during execution.', since: '7.0.0', handler: () => engine.kill() }),
  ];
  const common = { group, keysOf: evalKeys } as const;
  return [
    command({ ...common, name: 'fcall', arity: -3, flags: ['noscript', 'stale', 'movablekeys'], summary: 'Invokes a function.', since: '7.0.0', handler: (ctx, argv) => registry.fcall(ctx, argv, false) }),
    command({ ...common, name: 'fcall_ro', arity: -3, flags: ['noscript', 'stale', 'readonly', 'movablekeys'], summary: 'Invokes a read-only function.', since: '7.0.0', handler: (ctx, argv) => registry.fcall(ctx, argv, true) }),
    command({ name: 'function', arity: -2, flags: [], group, summary: 'A container for function commands.', since: '7.0.0', handler: subcommandDispatcher('function', subs), subcommands: subs }),
  ];
}

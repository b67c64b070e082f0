/**
 * Runs Lua scripts (EVAL, EVALSHA, FCALL) on one node: a fengari VM made on
 * first use, the scripts it has compiled by SHA1, and redis.call, which runs
 * commands through the node's own dispatcher with a context whose reply
 * writer is read back into a Lua value. A script runs synchronously inside
 * its command's handler: nothing else runs meanwhile (atomic, as in Redis), and
 * its writes reach replicas and moving slots through the store's watchers, as
 * any command's do (by their effects).
 *
 * Time limit: fengari cannot give the event loop back in the middle of a
 * script, so no other client can be answered BUSY or send SCRIPT KILL while
 * one runs. Instead a count hook looks at the clock and a script still running
 * after busy-reply-threshold ms is aborted with an error (its writes so far stay).
 */
import { createHash } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import type { Argv } from '../protocol/argv.js';
import { Argv as ArgvClass } from '../protocol/argv.js';
import { ReplyWriter, type Protocol } from '../protocol/writer.js';
import { keySlotOf } from '../cluster/key-slot.js';
import type { CommandContext } from '../commands/context.js';
import { CommandError } from '../commands/errors.js';
import { callKeyPositions, type CommandSpec } from '../commands/table.js';
import { lua, lauxlib, lualib, to_luastring, type LuaState } from './vm.js';
import { bit, cjson, cmsgpack, JSON_NULL, type LibTable } from './libs.js';
import { BOOTSTRAP } from './bootstrap.lua.js';

/** redis.* constants (REDIS_VERSION is the Redis version whose scripting this follows). */
const REDIS_CONSTANTS: Array<[string, number | string]> = [
  ['REPL_NONE', 0], ['REPL_AOF', 1], ['REPL_SLAVE', 2], ['REPL_REPLICA', 2], ['REPL_ALL', 3],
  ['LOG_DEBUG', 0], ['LOG_VERBOSE', 1], ['LOG_NOTICE', 2], ['LOG_WARNING', 3],
  ['REDIS_VERSION', '7.0.15'], ['REDIS_VERSION_NUM', 0x07000f],
];

const { LUA_REGISTRYINDEX, LUA_TNIL, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_OK } = lua;

/** What the engine needs of the dispatcher (a Dispatcher, without importing it: dispatch.ts imports us). */
export interface CommandRunner {
  resolve(argv: Argv): CommandSpec | undefined;
  execute(ctx: CommandContext, argv: Argv, spec?: CommandSpec): void;
}

const CHUNK_NAME = to_luastring('@user_script');
const TEXT_MODE = to_luastring('t');
const KEYS_FIELD = to_luastring('KEYS');
const ARGV_FIELD = to_luastring('ARGV');
const EMPTY = Buffer.alloc(0);
const OK_FIELD = to_luastring('ok');
const ERR_FIELD = to_luastring('err');
/** Instructions between two looks at the clock. */
const HOOK_EVERY = 10_000;
/** Scripts cached by EVAL (not SCRIPT LOAD) beyond this are dropped, oldest first (as Redis 7.4's eviction of EVAL scripts). */
export const MAX_EVAL_SCRIPTS = 500;
/** A reply nested deeper than this is refused (a table that contains itself would never end). */
const MAX_REPLY_DEPTH = 1000;
export const DEFAULT_BUSY_REPLY_THRESHOLD_MS = 5000;
/** A script whose run grew the JS heap by more than this is aborted (fengari's memory is the node's heap). */
export const SCRIPT_HEAP_GROWTH_LIMIT = 1024 * 1024 * 1024;
/** ...and so is one that brought the heap within this share of its limit. */
const HEAP_SHARE_LIMIT = 0.85;

/** Commands a script may not call besides those flagged noscript (Redis flags them so). */
const DENIED_IN_SCRIPTS = new Set(['multi', 'exec', 'discard', 'watch', 'unwatch', 'auth', 'hello', 'reset', 'quit', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'script', 'function', 'client', 'monitor', 'sync', 'psync', 'replconf', 'wait', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'shutdown', 'debug']);

export const Errors = {
  noScript: 'NOSCRIPT No matching script. Please use EVAL.',
  unknownCommand: 'ERR Unknown Redis command called from script',
  arity: 'ERR Wrong number of args calling Redis command from script',
  notAllowed: 'ERR This Redis command is not allowed from script',
  readonly: 'ERR Write commands are not allowed from read-only scripts.',
  noArgs: 'ERR Please specify at least one argument for this redis lib call',
  argType: 'ERR Lua redis lib command arguments must be strings or integers',
  nonLocalKey: 'ERR Script attempted to access a non local key in a cluster node',
  otherSlot: 'ERR Script attempted to access keys that do not hash to the same slot',
  numKeysNegative: "ERR Number of keys can't be negative",
  numKeysTooMany: "ERR Number of keys can't be greater than number of args",
  notBusy: 'NOTBUSY No scripts in execution right now.',
} as const;

export const sha1hex = (body: Uint8Array | string): string => createHash('sha1').update(body).digest('hex');

/** A compiled script: its body (to compile again in a new VM) and its function in the current one. */
interface Script {
  readonly body: Buffer;
  /** Registry reference of the compiled function, valid in VM generation `generation`. */
  ref: number;
  generation: number;
  /** Loaded by SCRIPT LOAD (never evicted) rather than by EVAL. */
  pinned: boolean;
  /** Its shebang's flags, read at its first run (not per call). */
  flags?: { noWrites: boolean; noCluster: boolean };
}

/** One run of a script: the state redis.call needs. */
interface Run {
  ctx: CommandContext;
  readonly: boolean;
  /** The slot the script's keys are in (cluster), -1 until a key is seen. */
  slot: number;
  deadline: number;
  /** Why the run was aborted (time or memory), once it was. */
  abort: string | null;
  /** The heap's used size at the run's first hook (-1 before). */
  heapAtStart: number;
  protocol: Protocol;
  /** A FUNCTION LOAD running its library's code: redis.call is refused. */
  loading?: boolean;
  /** The name in error texts ("script: <sha>" for EVAL, the function's name for FCALL). */
  name: string;
  /** The context redis.call runs commands in: made once per run, its replies into the engine's callOut. */
  callCtx?: CommandContext;
}

/** A script error on its way to the client: the reply text. */
class ScriptFailure extends Error {}

export interface ScriptEngineOptions {
  /** busy-reply-threshold (lua-time-limit), ms: a script running longer is aborted. */
  timeLimitMs: () => number;
  log?: (level: 'debug' | 'verbose' | 'notice' | 'warning', message: string) => void;
}

export class ScriptEngine {
  L: LuaState | null = null;
  /** Counts the VMs made: a reference into an older one is stale. */
  generation = 0;
  private envRef = 0;
  private globalsRef = 0;
  private handlerRef = 0;
  private readonlyRef = 0;
  readonly scripts = new Map<string, Script>();
  /** EVAL-cached scripts, oldest first (Map order), for the bound. */
  private readonly evalOrder = new Map<string, true>();
  private run: Run | null = null;
  /** Where redis.call's commands write their replies (see call()). */
  private readonly callOut = new ReplyWriter();
  private randomState = 0;
  /** How much a script's run may grow the heap (SCRIPT_HEAP_GROWTH_LIMIT; tests lower it). */
  heapGrowthLimit = SCRIPT_HEAP_GROWTH_LIMIT;
  /** Scripts aborted for running past the time limit (INFO-style counter, for tests). */
  timeouts = 0;
  /** A hook for FUNCTION: called with the VM once it is made (functions.ts registers redis.register_function). */
  onVm: ((L: LuaState) => void) | null = null;
  /** Extra redis.* functions (functions.ts). */
  readonly extraRedis: LibTable = {};

  constructor(
    private readonly dispatcher: CommandRunner,
    private readonly options: ScriptEngineOptions,
  ) {}

  get running(): boolean {
    return this.run !== null;
  }

  // ------------------------------------------------------------ the VM

  state(): LuaState {
    if (this.L !== null) return this.L;
    const L = lauxlib.luaL_newstate();
    lua.lua_atnativeerror(L, (S) => {
      const e = lua.lua_touserdata(S, -1);
      lua.lua_pushstring(S, Buffer.from(`internal error: ${e instanceof Error ? e.message : String(e)}`));
      return 1;
    });
    for (const [name, open] of [['_G', lualib.luaopen_base], ['table', lualib.luaopen_table], ['string', lualib.luaopen_string], ['math', lualib.luaopen_math], ['coroutine', lualib.luaopen_coroutine], ['debug', lualib.luaopen_debug]] as const) {
      lauxlib.luaL_requiref(L, name, open, 1);
      lua.lua_pop(L, 1);
    }
    const boot = to_luastring(BOOTSTRAP);
    if (lauxlib.luaL_loadbufferx(L, boot, boot.length, to_luastring('=sandbox'), TEXT_MODE) !== LUA_OK) throw new Error(`scripting bootstrap: ${lua.lua_tojsstring(L, -1)}`);
    // The bootstrap's argument: {tables = {redis=, cjson=, cmsgpack=, bit=}, random=, randomseed=}.
    lua.lua_createtable(L, 0, 3);
    lua.lua_createtable(L, 0, 4);
    this.pushLib(L, this.redisLib());
    for (const [name, value] of REDIS_CONSTANTS) {
      if (typeof value === 'number') lua.lua_pushnumber(L, value);
      else lua.lua_pushstring(L, Buffer.from(value));
      lua.lua_setfield(L, -2, name);
    }
    lua.lua_setfield(L, -2, 'redis');
    this.pushLib(L, cjson);
    lua.lua_pushlightuserdata(L, JSON_NULL);
    lua.lua_setfield(L, -2, 'null');
    lua.lua_setfield(L, -2, 'cjson');
    this.pushLib(L, cmsgpack);
    lua.lua_setfield(L, -2, 'cmsgpack');
    this.pushLib(L, bit);
    lua.lua_setfield(L, -2, 'bit');
    lua.lua_setfield(L, -2, 'tables');
    lua.lua_pushjsfunction(L, (S) => this.random(S));
    lua.lua_setfield(L, -2, 'random');
    lua.lua_pushjsfunction(L, (S) => {
      this.randomState = lauxlib.luaL_checkinteger(S, 1) >>> 0;
      return 0;
    });
    lua.lua_setfield(L, -2, 'randomseed');
    if (lua.lua_pcall(L, 1, 4, 0) !== LUA_OK) throw new Error(`scripting bootstrap: ${lua.lua_tojsstring(L, -1)}`);
    this.readonlyRef = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    this.handlerRef = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    this.globalsRef = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    this.envRef = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    lua.lua_sethook(L, (S) => this.hook(S), lua.LUA_MASKCOUNT, HOOK_EVERY);
    this.L = L;
    this.generation++;
    this.onVm?.(L);
    return L;
  }

  /** Drops the VM (SCRIPT FLUSH, or after an error that escaped it): the next script makes a new one. */
  resetVm(): void {
    this.L = null;
  }

  private pushLib(L: LuaState, lib: LibTable): void {
    lua.lua_createtable(L, 0, Object.keys(lib).length);
    for (const [name, fn] of Object.entries(lib)) {
      lua.lua_pushjsfunction(L, fn);
      lua.lua_setfield(L, -2, name);
    }
  }

  /** Pushes a read-only view of the table at the top (replacing it). */
  pushReadonly(L: LuaState): void {
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, this.readonlyRef);
    lua.lua_insert(L, -2);
    lua.lua_call(L, 1, 1);
  }

  pushEnv(L: LuaState): void {
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, this.envRef);
  }

  private redisLib(): LibTable {
    return {
      call: (L) => this.call(L, true),
      pcall: (L) => this.call(L, false),
      error_reply: (L) => {
        let msg = Buffer.from(lauxlib.luaL_checklstring(L, 1));
        if (msg[0] === 0x2d) msg = msg.subarray(1);
        // A message without an error code (no space) gets ERR, as Redis 7.0 replies it.
        if (!msg.includes(0x20)) msg = Buffer.concat([Buffer.from('ERR '), msg]);
        lua.lua_createtable(L, 0, 1);
        lua.lua_pushstring(L, msg);
        lua.lua_setfield(L, -2, 'err');
        return 1;
      },
      status_reply: (L) => {
        const msg = lauxlib.luaL_checklstring(L, 1);
        lua.lua_createtable(L, 0, 1);
        lua.lua_pushstring(L, msg);
        lua.lua_setfield(L, -2, 'ok');
        return 1;
      },
      sha1hex: (L) => {
        if (lua.lua_gettop(L) !== 1) lauxlib.luaL_error(L, 'wrong number of arguments');
        lua.lua_pushstring(L, Buffer.from(sha1hex(lua.lua_tolstring(L, 1) ?? new Uint8Array(0)), 'latin1'));
        return 1;
      },
      log: (L) => {
        const n = lua.lua_gettop(L);
        if (n < 2) lauxlib.luaL_error(L, 'redis.log() requires two arguments or more.');
        if (lua.lua_type(L, 1) !== LUA_TNUMBER) lauxlib.luaL_error(L, 'First argument must be a number (log level).');
        const level = lua.lua_tonumber(L, 1);
        const names = ['debug', 'verbose', 'notice', 'warning'] as const;
        if (!Number.isInteger(level) || level < 0 || level > 3) lauxlib.luaL_error(L, 'Invalid debug level.');
        const parts: string[] = [];
        for (let i = 2; i <= n; i++) {
          const s = lua.lua_tolstring(L, i);
          if (s !== null) parts.push(Buffer.from(s).toString('utf8'));
        }
        this.options.log?.(names[level]!, parts.join(' '));
        return 0;
      },
      setresp: (L) => {
        const v = lauxlib.luaL_checknumber(L, 1);
        if (v !== 2 && v !== 3) this.raise(L, 'ERR RESP version must be 2 or 3.');
        if (this.run) this.run.protocol = v === 3 ? 3 : 2;
        return 0;
      },
      set_repl: (L) => {
        lauxlib.luaL_checknumber(L, 1);
        return 0;
      },
      replicate_commands: (L) => (lua.lua_pushboolean(L, true), 1),
      breakpoint: (L) => (lua.lua_pushboolean(L, false), 1),
      debug: () => 0,
      acl_check_cmd: (L) => {
        const n = lua.lua_gettop(L);
        if (n === 0) lauxlib.luaL_error(L, 'ERR Please specify at least one argument for this redis lib call');
        const spec = this.dispatcher.resolve(ArgvClass.of([Buffer.from(lauxlib.luaL_checklstring(L, 1))]));
        if (spec === undefined) lauxlib.luaL_error(L, 'Invalid command passed to redis.acl_check_cmd()');
        lua.lua_pushboolean(L, true);
        return 1;
      },
      ...this.extraRedis,
    };
  }

  /** Called by the VM every HOOK_EVERY instructions: aborts a script past its time or over its memory. */
  private hook(L: LuaState): void {
    const run = this.run;
    if (run === null) return;
    if (run.abort === null) {
      if (performance.now() >= run.deadline) {
        run.abort = this.timeoutError();
        this.timeouts++;
      } else {
        const heap = getHeapStatistics();
        if (run.heapAtStart < 0) {
          run.heapAtStart = heap.used_heap_size;
          return;
        }
        if (heap.used_heap_size - run.heapAtStart > this.heapGrowthLimit || heap.used_heap_size > heap.heap_size_limit * HEAP_SHARE_LIMIT) {
          run.abort = `ERR Script killed: it used more memory than a script may (${Math.round((heap.used_heap_size - run.heapAtStart) / 1048576)} MB more than at its start)`;
        } else return;
      }
      // From now on every instruction raises: a pcall in the script cannot catch it for long.
      lua.lua_sethook(L, (S) => this.hook(S), lua.LUA_MASKCOUNT, 1);
    }
    this.raise(L, run.abort ?? this.timeoutError());
  }

  private timeoutError(): string {
    return `ERR Script killed: it ran past busy-reply-threshold (${this.options.timeLimitMs()} ms); ringcache cannot serve other clients while a script runs, so a long script is aborted rather than answered BUSY`;
  }

  /** Raises {err = msg} in Lua (never returns). */
  private raise(L: LuaState, msg: string | Buffer): never {
    lua.lua_createtable(L, 0, 1);
    lua.lua_pushstring(L, typeof msg === 'string' ? Buffer.from(msg) : msg);
    lua.lua_setfield(L, -2, 'err');
    return lua.lua_error(L);
  }

  /** redis.call (raise) and redis.pcall. */
  private call(L: LuaState, raise: boolean): number {
    const run = this.run;
    if (run === null) return lauxlib.luaL_error(L, 'redis.call is only available while a script runs');
    if (run.abort !== null) this.raise(L, run.abort);
    // As Redis, where a library's code sees no redis.call while it loads.
    if (run.loading === true) lauxlib.luaL_error(L, `Script attempted to access nonexistent global variable '${raise ? 'call' : 'pcall'}'`);
    const fail = (msg: string | Buffer): number => {
      if (raise) this.raise(L, msg);
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushstring(L, typeof msg === 'string' ? Buffer.from(msg) : msg);
      lua.lua_setfield(L, -2, 'err');
      return 1;
    };
    const n = lua.lua_gettop(L);
    if (n === 0) return fail(Errors.noArgs);
    const args: Buffer[] = new Array<Buffer>(n);
    for (let i = 1; i <= n; i++) {
      const t = lua.lua_type(L, i);
      if (t === LUA_TSTRING) args[i - 1] = lua.lua_tolstring(L, i) as Buffer;
      else if (t === LUA_TNUMBER) args[i - 1] = Buffer.from(numberArg(lua.lua_tonumber(L, i)), 'latin1');
      else return fail(Errors.argType);
    }
    const argv = ArgvClass.of(args);
    const spec = this.dispatcher.resolve(argv);
    if (spec === undefined) return fail(Errors.unknownCommand);
    if (spec.arity >= 0 ? argv.length !== spec.arity : argv.length < -spec.arity) return fail(Errors.arity);
    if (DENIED_IN_SCRIPTS.has(spec.name) || spec.flags.includes('noscript')) return fail(Errors.notAllowed);
    const write = spec.flags.includes('write');
    if (write && run.readonly) return fail(Errors.readonly);
    const cluster = run.ctx.node.cluster();
    if (cluster !== undefined && (spec.firstKey !== 0 || spec.keysOf !== undefined)) {
      for (const i of callKeyPositions(spec, argv)) {
        const slot = keySlotOf(argv.buf, argv.start[i]!, argv.end[i]!);
        if (run.slot === -1) {
          if (cluster.route(slot).kind !== 'local') return fail(Errors.nonLocalKey);
          run.slot = slot;
        } else if (slot !== run.slot) return fail(Errors.otherSlot);
      }
    }
    // One writer for every redis.call (a new one allocated its 16 KB buffer per
    // call: a fifth of a small script's time). Its bytes are lent: read into
    // Lua values below before anything else writes to it.
    const out = this.callOut;
    out.protocol = run.protocol;
    this.dispatcher.execute((run.callCtx ??= { ...run.ctx, out }), argv, spec);
    const pieces = out.takeLent();
    let bytes: Buffer;
    if (pieces === null) bytes = EMPTY;
    else if (pieces.length === 1) bytes = pieces[0]!;
    else bytes = Buffer.concat(pieces);
    // Given back at once: the view stays valid until the writer is next written to, which is after pushReply.
    out.returned(false);
    if (bytes.length === 0) return (lua.lua_pushboolean(L, false), 1);
    if (bytes[0] === 0x2d) {
      const end = bytes.indexOf(13);
      return fail(bytes.subarray(1, end < 0 ? bytes.length : end));
    }
    pushReply(L, bytes, 0);
    return 1;
  }

  private random(L: LuaState): number {
    // Redis's scripts get the same sequence each run (its PRNG is reseeded per script): so do ours.
    let x = this.randomState || 0x2545f491;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.randomState = x >>> 0;
    const r = this.randomState / 2 ** 32;
    const n = lua.lua_gettop(L);
    if (n === 0) lua.lua_pushnumber(L, r);
    else if (n === 1) {
      const m = lauxlib.luaL_checknumber(L, 1);
      if (m < 1) lauxlib.luaL_error(L, "bad argument #1 to 'random' (interval is empty)");
      lua.lua_pushnumber(L, Math.floor(r * m) + 1);
    } else {
      const lo = lauxlib.luaL_checknumber(L, 1);
      const hi = lauxlib.luaL_checknumber(L, 2);
      if (lo > hi) lauxlib.luaL_error(L, "bad argument #2 to 'random' (interval is empty)");
      lua.lua_pushnumber(L, Math.floor(r * (hi - lo + 1)) + lo);
    }
    return 1;
  }

  // ------------------------------------------------------------ scripts

  /** Compiles body (if new) and caches it; returns its SHA1. Throws a CommandError for a syntax error. */
  load(body: Buffer, pinned: boolean): string {
    const sha = sha1hex(body);
    const known = this.scripts.get(sha);
    if (known !== undefined) {
      if (pinned && !known.pinned) {
        known.pinned = true;
        this.evalOrder.delete(sha);
      } else if (!known.pinned) {
        // Recently used: to the end of the eviction order.
        this.evalOrder.delete(sha);
        this.evalOrder.set(sha, true);
      }
      return sha;
    }
    const script: Script = { body: Buffer.from(body), ref: 0, generation: -1, pinned };
    this.compile(script);
    this.scripts.set(sha, script);
    if (!pinned) {
      this.evalOrder.set(sha, true);
      if (this.evalOrder.size > MAX_EVAL_SCRIPTS) {
        const oldest = this.evalOrder.keys().next().value as string;
        this.evalOrder.delete(oldest);
        const old = this.scripts.get(oldest);
        if (old !== undefined && old.generation === this.generation && this.L !== null) lauxlib.luaL_unref(this.L, LUA_REGISTRYINDEX, old.ref);
        this.scripts.delete(oldest);
      }
    }
    return sha;
  }

  /** Compiles a script in the current VM (again after a reset). */
  private compile(script: Script): void {
    const L = this.state();
    const body = shebangStripped(script.body);
    const status = lauxlib.luaL_loadbufferx(L, body, body.length, CHUNK_NAME, TEXT_MODE);
    if (status !== LUA_OK) {
      const msg = lua.lua_tojsstring(L, -1);
      lua.lua_pop(L, 1);
      throw new CommandError(`ERR Error compiling script (new function): ${lua51Message(msg)}`);
    }
    this.pushEnv(L);
    lua.lua_setupvalue(L, -2, 1);
    script.ref = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    script.generation = this.generation;
  }

  flush(): void {
    this.scripts.clear();
    this.evalOrder.clear();
    this.resetVm();
  }

  /**
   * EVAL and EVALSHA's common part: argv[2] is numkeys, then the keys, then
   * the arguments. Writes the reply.
   */
  evalScript(ctx: CommandContext, sha: string, argv: Argv, readonly: boolean): void {
    const script = this.scripts.get(sha);
    if (script === undefined) throw new CommandError(Errors.noScript);
    const flags = (script.flags ??= shebangFlags(script.body));
    if (flags.noWrites) readonly = true;
    if (flags.noCluster && ctx.node.cluster() !== undefined) throw new CommandError("ERR Can not run script on cluster, 'no-cluster' flag is set.");
    const numkeys = numKeys(argv, 2);
    this.invoke(ctx, script, argv, 3, numkeys, readonly, sha);
  }

  /** Runs the compiled function of `script` (or the function pushed by `push`) with KEYS and ARGV from argv. */
  invoke(ctx: CommandContext, script: Script | ((L: LuaState) => void), argv: Argv, first: number, numkeys: number, readonly: boolean, name: string): void {
    if (this.run !== null) throw new CommandError('ERR scripts cannot run scripts');
    const L = this.state();
    if (typeof script !== 'function' && script.generation !== this.generation) this.compile(script);
    const base = lua.lua_gettop(L);
    const asArgs = typeof script === 'function';
    if (!asArgs) {
      // KEYS and ARGV, as globals of the sandbox (Redis sets them per call).
      lua.lua_rawgeti(L, LUA_REGISTRYINDEX, this.globalsRef);
      pushStrings(L, argv, first, first + numkeys);
      lua.lua_setfield(L, -2, KEYS_FIELD);
      pushStrings(L, argv, first + numkeys, argv.length);
      lua.lua_setfield(L, -2, ARGV_FIELD);
      lua.lua_pop(L, 1);
    }
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, this.handlerRef);
    if (typeof script === 'function') {
      // A function (FCALL): keys and arguments are its two arguments.
      script(L);
      pushStrings(L, argv, first, first + numkeys);
      pushStrings(L, argv, first + numkeys, argv.length);
    } else lua.lua_rawgeti(L, LUA_REGISTRYINDEX, script.ref);
    const cluster = ctx.node.cluster();
    const run: Run = {
      ctx: { ...ctx, forward: undefined, forwardSplit: undefined, defer: undefined, block: undefined },
      readonly,
      slot: cluster !== undefined && numkeys > 0 ? keySlotOf(argv.buf, argv.start[first]!, argv.end[first]!) : -1,
      deadline: performance.now() + this.options.timeLimitMs(),
      abort: null,
      heapAtStart: -1,
      protocol: 2,
      name,
    };
    this.run = run;
    this.randomState = 0;
    let status: number;
    try {
      status = lua.lua_pcall(L, asArgs ? 2 : 0, 1, base + 1);
    } catch (err) {
      // Nothing should escape pcall; if something did, the VM may be inconsistent: start a new one.
      this.run = null;
      this.resetVm();
      throw new CommandError(`ERR internal error while running a script: ${(err as Error).message}`);
    } finally {
      this.run = null;
      if (run.abort !== null && this.L !== null) lua.lua_sethook(L, (S) => this.hook(S), lua.LUA_MASKCOUNT, HOOK_EVERY);
    }
    try {
      if (run.abort !== null) throw new ScriptFailure(run.abort);
      if (status !== LUA_OK) throw new ScriptFailure(errorText(L, -1, name));
      const out = ctx.out;
      const mark = out.mark();
      try {
        writeReply(L, lua.lua_gettop(L), out, run.protocol, 0);
      } catch (err) {
        out.rollback(mark);
        throw err;
      }
    } catch (err) {
      if (err instanceof ScriptFailure) throw new CommandError(err.message);
      throw err;
    } finally {
      lua.lua_settop(L, base);
    }
  }

  /**
   * FUNCTION LOAD: runs a library's compiled code (pushed by `push`) once,
   * limited in time as a script is, without redis.call. Throws a CommandError
   * with Redis's wording when it fails.
   */
  runLoad(ctx: CommandContext, push: (L: LuaState) => void, limitMs: number): void {
    if (this.run !== null) throw new CommandError('ERR scripts cannot run scripts');
    const L = this.state();
    const base = lua.lua_gettop(L);
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, this.handlerRef);
    push(L);
    const run: Run = { ctx, readonly: true, slot: -1, deadline: performance.now() + limitMs, abort: null, heapAtStart: -1, protocol: 2, name: 'load', loading: true };
    this.run = run;
    let status: number;
    try {
      status = lua.lua_pcall(L, 0, 0, base + 1);
    } catch (err) {
      this.resetVm();
      throw new CommandError(`ERR internal error while loading a library: ${(err as Error).message}`);
    } finally {
      this.run = null;
      if (run.abort !== null && this.L !== null) lua.lua_sethook(L, (S) => this.hook(S), lua.LUA_MASKCOUNT, HOOK_EVERY);
    }
    try {
      if (run.abort !== null) throw new CommandError('ERR FUNCTION LOAD timeout');
      if (status !== LUA_OK) {
        let msg = 'unknown error';
        if (lua.lua_type(L, -1) === LUA_TTABLE) {
          lua.lua_getfield(L, -1, 'err');
          msg = Buffer.from(lua.lua_tolstring(L, -1) ?? new Uint8Array(0)).toString('utf8');
        }
        throw new CommandError(`ERR Error registering functions: ${msg}`);
      }
    } finally {
      lua.lua_settop(L, base);
    }
  }

  /** SCRIPT KILL: a script never runs while a command from another client arrives (see the header). */
  kill(): void {
    throw new CommandError(Errors.notBusy);
  }
}

/** numkeys at argv[i], checked as Redis does. */
export function numKeys(argv: Argv, i: number): number {
  const text = argv.str(i);
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new CommandError('ERR value is not an integer or out of range');
  if (n < 0) throw new CommandError(Errors.numKeysNegative);
  if (n > argv.length - i - 1) throw new CommandError(Errors.numKeysTooMany);
  return n;
}

function pushStrings(L: LuaState, argv: Argv, from: number, to: number): void {
  lua.lua_createtable(L, to - from, 0);
  for (let i = from; i < to; i++) {
    lua.lua_pushstring(L, argv.buf.subarray(argv.start[i]!, argv.end[i]!));
    lua.lua_rawseti(L, -2, i - from + 1);
  }
}

/** A Lua number as a command argument: integers in decimal, others as Redis 7 prints them. */
function numberArg(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e17) return n.toFixed(0);
  return String(n);
}

/** Lua 5.3's compile messages in Lua 5.1's words where they differ ('<eof>' quoted). */
export function lua51Message(msg: string): string {
  return msg.replace(/(^|[^'])<eof>(?!')/g, "$1'<eof>'");
}

/** `#!lua flags=...` on the first line: which flags, and the body with that line blanked (line numbers kept). */
function shebangStripped(body: Buffer): Buffer {
  if (body[0] !== 0x23 || body[1] !== 0x21) return body;
  const nl = body.indexOf(10);
  return nl < 0 ? Buffer.alloc(0) : body.subarray(nl);
}

export function shebangFlags(body: Buffer): { noWrites: boolean; noCluster: boolean } {
  if (body[0] !== 0x23 || body[1] !== 0x21) return { noWrites: false, noCluster: false };
  const nl = body.indexOf(10);
  const line = body.subarray(2, nl < 0 ? body.length : nl).toString('utf8').trim();
  const [engine, ...params] = line.split(/\s+/);
  if (engine !== 'lua') throw new CommandError(`ERR Could not find engine '${engine}'`);
  const flags = new Set<string>();
  for (const p of params) {
    if (!p.startsWith('flags=')) throw new CommandError(`ERR Unknown lua shebang option: ${p}`);
    for (const f of p.slice(6).split(',')) if (f !== '') flags.add(f);
  }
  for (const f of flags) if (!['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'].includes(f)) throw new CommandError(`ERR Unexpected flag in script shebang: ${f}`);
  return { noWrites: flags.has('no-writes'), noCluster: flags.has('no-cluster') };
}

/** The reply text of a failed run: Redis 7's "<err> script: <name>, on <source>:<line>." */
function errorText(L: LuaState, idx: number, name: string): string {
  if (lua.lua_type(L, idx) !== LUA_TTABLE) {
    const s = lua.lua_tolstring(L, idx);
    return `ERR Error running script ${name}, ${s === null ? 'execution failure' : Buffer.from(s).toString('utf8').slice(0, 100)}`;
  }
  const t = lua.lua_absindex(L, idx);
  const field = (k: string): string | null => {
    lua.lua_getfield(L, t, k);
    const s = lua.lua_type(L, -1) === LUA_TSTRING || lua.lua_type(L, -1) === LUA_TNUMBER ? Buffer.from(lua.lua_tolstring(L, -1)!).toString('utf8') : null;
    lua.lua_pop(L, 1);
    return s;
  };
  let msg = field('err') ?? 'ERR unknown error';
  if (msg.startsWith('-')) msg = msg.slice(1);
  const source = field('source');
  const line = field('line');
  return source !== null && line !== null ? `${msg} script: ${name}, on ${source}:${line}.` : msg;
}

// ------------------------------------------------------------ RESP -> Lua

const CR = 13;

/** Pushes the reply at buf[pos] as a Lua value, by Redis's conversion rules; returns the position after it. */
function pushReply(L: LuaState, buf: Buffer, pos: number): number {
  lauxlib.luaL_checkstack(L, 4, 'reply');
  const type = buf[pos]!;
  const cr = buf.indexOf(CR, pos + 1);
  const line = () => buf.subarray(pos + 1, cr);
  const next = cr + 2;
  const table1 = (field: string, push: () => void) => {
    lua.lua_createtable(L, 0, 1);
    push();
    lua.lua_setfield(L, -2, field);
  };
  switch (type) {
    case 43: // + status: {ok = "..."}, the commonest reply of a write (no closure, the field name made once)
    case 45: // - error: {err = "..."}
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushstring(L, buf.subarray(pos + 1, cr));
      lua.lua_setfield(L, -2, type === 43 ? OK_FIELD : ERR_FIELD);
      return next;
    case 58: // : integer
      lua.lua_pushnumber(L, Number(buf.latin1Slice(pos + 1, cr)));
      return next;
    case 36: { // $ bulk
      const n = Number(buf.latin1Slice(pos + 1, cr));
      if (n < 0) {
        lua.lua_pushboolean(L, false);
        return next;
      }
      lua.lua_pushstring(L, buf.subarray(next, next + n));
      return next + n + 2;
    }
    case 42: // * array
    case 126: // ~ set
    case 37: // % map
    case 62: { // > push
      const n = Number(buf.latin1Slice(pos + 1, cr));
      if (n < 0) {
        lua.lua_pushboolean(L, false);
        return next;
      }
      let p = next;
      if (type === 42 || type === 62) {
        lua.lua_createtable(L, n, 0);
        for (let i = 1; i <= n; i++) {
          p = pushReply(L, buf, p);
          lua.lua_rawseti(L, -2, i);
        }
        return p;
      }
      // RESP3 (redis.setresp(3)): {map = {k = v}} and {set = {member = true}}.
      lua.lua_createtable(L, 0, 1);
      lua.lua_createtable(L, 0, n);
      for (let i = 0; i < n; i++) {
        p = pushReply(L, buf, p);
        if (type === 37) p = pushReply(L, buf, p);
        else lua.lua_pushboolean(L, true);
        lua.lua_rawset(L, -3);
      }
      lua.lua_setfield(L, -2, type === 37 ? 'map' : 'set');
      return p;
    }
    case 95: // _ null
      lua.lua_pushnil(L);
      return next;
    case 35: // # boolean
      lua.lua_pushboolean(L, buf[pos + 1] === 116);
      return next;
    case 44: // , double
      table1('double', () => lua.lua_pushnumber(L, Number(buf.latin1Slice(pos + 1, cr).replace('inf', 'Infinity'))));
      return next;
    case 40: // ( big number
      table1('big_number', () => lua.lua_pushstring(L, line()));
      return next;
    case 61: { // = verbatim
      const n = Number(buf.latin1Slice(pos + 1, cr));
      const body = buf.subarray(next, next + n);
      lua.lua_createtable(L, 0, 1);
      lua.lua_createtable(L, 0, 2);
      lua.lua_pushstring(L, body.subarray(0, 3));
      lua.lua_setfield(L, -2, 'format');
      lua.lua_pushstring(L, body.subarray(4));
      lua.lua_setfield(L, -2, 'string');
      lua.lua_setfield(L, -2, 'verbatim_string');
      return next + n + 2;
    }
    case 33: { // ! bulk error
      const n = Number(buf.latin1Slice(pos + 1, cr));
      table1('err', () => lua.lua_pushstring(L, buf.subarray(next, next + n)));
      return next + n + 2;
    }
  }
  lua.lua_pushboolean(L, false);
  return next;
}

// ------------------------------------------------------------ Lua -> RESP

const bytesOf = (s: Uint8Array): Buffer => Buffer.from(s.buffer, s.byteOffset, s.length);

/** Writes the Lua value at idx as the script's reply, by Redis's conversion rules. */
function writeReply(L: LuaState, idx: number, out: ReplyWriter, protocol: Protocol, depth: number): void {
  switch (lua.lua_type(L, idx)) {
    case LUA_TSTRING:
      return out.bulk(bytesOf(lua.lua_tolstring(L, idx)!));
    case LUA_TBOOLEAN:
      if (protocol === 3) return out.raw(Buffer.from(out.protocol === 3 ? (lua.lua_toboolean(L, idx) ? '#t\r\n' : '#f\r\n') : lua.lua_toboolean(L, idx) ? ':1\r\n' : ':0\r\n'));
      return lua.lua_toboolean(L, idx) ? out.integer(1) : out.nullBulk();
    case LUA_TNUMBER:
      return out.integer(toInteger(lua.lua_tonumber(L, idx)));
    case LUA_TTABLE: {
      if (depth >= MAX_REPLY_DEPTH) throw new ScriptFailure('ERR reached lua stack limit');
      lauxlib.luaL_checkstack(L, 4, 'reply');
      const t = lua.lua_absindex(L, idx);
      const field = (name: string): number => {
        const type = lua.lua_getfield(L, t, name);
        if (type === LUA_TNIL) lua.lua_pop(L, 1);
        return type;
      };
      if (field('err') !== LUA_TNIL) {
        const msg = bytesOf(lua.lua_tolstring(L, -1) ?? new Uint8Array(0)).toString('utf8');
        lua.lua_pop(L, 1);
        return out.error(msg);
      }
      if (field('ok') !== LUA_TNIL) {
        const s = lua.lua_tolstring(L, -1);
        lua.lua_pop(L, 1);
        if (s !== null) return out.simple(bytesOf(s).toString('latin1'));
      }
      if (protocol === 3) {
        if (field('double') !== LUA_TNIL) {
          const d = lua.lua_tonumber(L, -1);
          lua.lua_pop(L, 1);
          return out.double(d);
        }
        for (const kind of ['map', 'set'] as const) {
          if (field(kind) === LUA_TTABLE) {
            const inner = lua.lua_gettop(L);
            let n = 0;
            lua.lua_pushnil(L);
            while (lua.lua_next(L, inner)) {
              n++;
              lua.lua_pop(L, 1);
            }
            if (kind === 'map') out.map(n);
            else out.set(n);
            lua.lua_pushnil(L);
            while (lua.lua_next(L, inner)) {
              writeReply(L, -2, out, protocol, depth + 1);
              if (kind === 'map') writeReply(L, -1, out, protocol, depth + 1);
              lua.lua_pop(L, 1);
            }
            lua.lua_pop(L, 1);
            return;
          }
        }
      }
      // An array up to the first nil.
      let n = 0;
      while (lua.lua_rawgeti(L, t, n + 1) !== LUA_TNIL) {
        lua.lua_pop(L, 1);
        n++;
      }
      lua.lua_pop(L, 1);
      out.array(n);
      for (let i = 1; i <= n; i++) {
        lua.lua_rawgeti(L, t, i);
        writeReply(L, -1, out, protocol, depth + 1);
        lua.lua_pop(L, 1);
      }
      return;
    }
    default:
      return out.nullBulk();
  }
}

/** Lua number to integer reply: truncated, as Redis's (long long) cast. */
function toInteger(n: number): number | bigint {
  if (Number.isSafeInteger(n)) return n;
  if (!Number.isFinite(n)) return -9223372036854775808n;
  const t = Math.trunc(n);
  if (Number.isSafeInteger(t)) return t;
  if (t >= 2 ** 63 || t < -(2 ** 63)) return -9223372036854775808n;
  return BigInt(t);
}

/** For FUNCTION: raise an error from a JS function as Redis does (a plain message). */
export function luaFail(L: LuaState, msg: string): never {
  lua.lua_pushstring(L, Buffer.from(msg));
  return lua.lua_error(L);
}

export { ScriptFailure, writeReply, errorText, CHUNK_NAME, TEXT_MODE };
export type { Script, Run };

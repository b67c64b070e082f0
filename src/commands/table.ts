/**
 * Commands as data: one spec per command with its arity, flags and key
 * positions, from which dispatch, COMMAND replies, routing and cross-slot
 * checks are derived.
 */
import type { Argv } from '../protocol/argv.js';
import type { CommandContext, Handler } from './context.js';
import { CommandError, Errors } from './errors.js';

export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'no_auth'
  | 'fast'
  | 'loading'
  | 'stale'
  | 'random'
  | 'allow_busy'
  | 'blocking'
  | 'noscript'
  | 'movablekeys'
  | 'pubsub';

export interface CommandSpec {
  /** Lower-case name; a subcommand is named "container|sub" as in Redis 7. */
  readonly name: string;
  /** Redis's convention: n means exactly n arguments (name included), -n at least n. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  /** Position of the first key (0: no keys), of the last (-1: the last argument), and the step. */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  /**
   * Commands whose keys follow a count argument (SINTERCARD, LMPOP, ZUNION...):
   * their positions in one call. Such commands report no fixed positions (0 0 0),
   * as in Redis, and carry the movablekeys flag.
   */
  readonly keysOf?: (argv: Argv) => number[];
  readonly group: string;
  readonly summary: string;
  readonly since: string;
  readonly handler: Handler;
  readonly subcommands?: readonly CommandSpec[];
  /** From flags, read once per command by the dispatcher (an includes() there cost a scan per command). */
  readonly denyoom: boolean;
  readonly noAuth: boolean;
  /** Dense, from 0 in the order specs are made: the index of its counters in CommandStats. */
  readonly id: number;
}

type SpecInput = Omit<CommandSpec, 'firstKey' | 'lastKey' | 'keyStep' | 'flags' | 'since' | 'denyoom' | 'noAuth' | 'id'> &
  Partial<Pick<CommandSpec, 'firstKey' | 'lastKey' | 'keyStep' | 'flags' | 'since'>>;

let nextId = 0;

/** Fills the defaults of a spec: no keys, no flags. */
export function command(spec: SpecInput): CommandSpec {
  const flags = spec.keysOf !== undefined && !spec.flags?.includes('movablekeys') ? [...(spec.flags ?? []), 'movablekeys' as const] : (spec.flags ?? []);
  return { firstKey: 0, lastKey: 0, keyStep: 0, since: '1.0.0', ...spec, flags, denyoom: flags.includes('denyoom'), noAuth: flags.includes('no_auth'), id: nextId++ };
}

/** Whether argc fits the arity. */
export function arityOk(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}

/**
 * Positions of the key arguments of one call: its keysOf for a command whose
 * keys follow a count (movablekeys), its fixed key positions otherwise. What
 * routing, EXEC's slot check and COMMAND GETKEYS all use.
 */
export function callKeyPositions(spec: Pick<CommandSpec, 'firstKey' | 'lastKey' | 'keyStep' | 'keysOf'>, argv: Argv): number[] {
  return spec.keysOf !== undefined ? spec.keysOf(argv) : keyPositions(spec, argv.length);
}

/** Positions of the key arguments of one call, from the spec's fixed key positions. */
export function keyPositions(spec: Pick<CommandSpec, 'firstKey' | 'lastKey' | 'keyStep'>, argc: number): number[] {
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey;
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last && i < argc; i += spec.keyStep) out.push(i);
  return out;
}

/**
 * Finds specs by the bytes of a name without allocating a string: a hash of the
 * lower-cased bytes picks a bucket, then the bytes are compared.
 */
export class CommandTable {
  private readonly buckets = new Map<number, CommandSpec[]>();
  readonly all: readonly CommandSpec[];
  /** The spec found last, and its word: a pipeline mostly repeats one command, found by one comparison. */
  private lastSpec: CommandSpec | undefined;
  private lastWord = '';

  /** `nameOf` gives the word each spec is looked up by (its name by default). */
  constructor(
    specs: readonly CommandSpec[],
    private readonly nameOf: (spec: CommandSpec) => string = (s) => s.name,
  ) {
    this.all = specs;
    for (const spec of specs) {
      const name = nameOf(spec);
      const h = hashLower(Buffer.from(name), 0, name.length);
      const bucket = this.buckets.get(h);
      if (bucket) bucket.push(spec);
      else this.buckets.set(h, [spec]);
    }
  }

  /** The spec named by argument i of argv, or undefined. */
  find(argv: Argv, i: number): CommandSpec | undefined {
    if (this.lastSpec !== undefined && argv.is(i, this.lastWord)) return this.lastSpec;
    const bucket = this.buckets.get(hashLower(argv.buf, argv.start[i]!, argv.end[i]!));
    if (bucket === undefined) return undefined;
    for (const spec of bucket) {
      const word = this.nameOf(spec);
      if (argv.is(i, word)) {
        this.lastSpec = spec;
        this.lastWord = word;
        return spec;
      }
    }
    return undefined;
  }

  byName(name: string): CommandSpec | undefined {
    return this.all.find((s) => s.name === name.toLowerCase());
  }
}

/** FNV-1a over ASCII-lower-cased bytes. */
function hashLower(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = buf[i]!;
    if (c >= 65 && c <= 90) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A handler for container commands (CLIENT, CONFIG, OBJECT...): finds the
 * subcommand in argv[1], checks its arity, and runs it.
 */
export function subcommandDispatcher(container: string, subs: readonly CommandSpec[]): Handler {
  const table = subcommandTable({ name: container, subcommands: subs });
  return (ctx: CommandContext, argv: Argv) => {
    const spec = table.find(argv, 1);
    if (spec === undefined) throw new CommandError(Errors.unknownSubcommand(argv.utf8(1), container));
    if (!arityOk(spec, argv.length)) throw new CommandError(Errors.wrongArity(spec.name));
    spec.handler(ctx, argv);
  };
}

/** Finds a container's subcommand specs (full names, "container|sub") by argument 1's bytes. */
export function subcommandTable(container: Pick<CommandSpec, 'name' | 'subcommands'>): CommandTable {
  return new CommandTable(container.subcommands ?? [], (s) => s.name.slice(container.name.length + 1));
}

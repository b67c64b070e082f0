/**
 * SLOTMOVE: the requests of a slot move, from the old owner to the new one
 * (src/migration/wire.ts has the format; src/migration/imports.ts the logic).
 * Keyless as far as routing goes: the keys it carries are in slots this node
 * is about to own, which routing would otherwise send back to the old owner.
 */
import type { Argv } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import type { MoveImports } from '../migration/imports.js';
import type { CommandContext } from './context.js';
import { CommandError } from './errors.js';
import { argSafeInt } from './numbers.js';
import { command, subcommandDispatcher, type CommandSpec } from './table.js';

function imports(ctx: CommandContext): MoveImports {
  const m = ctx.node.migration?.();
  if (m === undefined) throw new CommandError('ERR this node takes part in no slot moves (not a coordinated cluster member)');
  return m;
}

export function nonNegative(argv: Argv, i: number, what: string): number {
  const n = argSafeInt(argv, i, `ERR invalid ${what}`);
  if (n < 0) throw new CommandError(`ERR invalid ${what}`);
  return n;
}

/**
 * The entries of a PUT batch (src/migration/wire.ts): the count at argv[countAt],
 * then (key, expireAt, kind, value) each. Every entry is checked before any is
 * applied, so a malformed batch changes nothing. Returns the count.
 */
export function eachEntry(argv: Argv, countAt: number, name: string, apply: (key: string, expireAt: number, kind: string, vs: number, ve: number) => void): number {
  const n = nonNegative(argv, countAt, 'entry count');
  const first = countAt + 1;
  if (argv.length !== first + 4 * n) throw new CommandError(`ERR wrong number of arguments for ${name}`);
  for (let i = 0; i < n; i++) nonNegative(argv, first + 1 + 4 * i, 'expiry');
  for (let i = 0; i < n; i++) {
    const at = first + 4 * i;
    apply(argv.str(at), argSafeInt(argv, at + 1), argv.str(at + 2), argv.start[at + 3]!, argv.end[at + 3]!);
  }
  return n;
}

function put(ctx: CommandContext, argv: Argv): void {
  const m = imports(ctx);
  const id = argv.str(2);
  ctx.out.integer(eachEntry(argv, 3, 'SLOTMOVE PUT', (key, at, kind, vs, ve) => m.put(id, key, at, kind, argv.buf, vs, ve)));
}

const group = 'cluster';
const subcommands: CommandSpec[] = [
  command({ name: 'slotmove|begin', arity: 3, flags: ['write'], group, summary: 'Starts receiving a slot move.', since: '0.1.0', handler: (ctx, argv) => {
    imports(ctx).begin(argv.str(2));
    ctx.out.raw(OK);
  } }),
  command({ name: 'slotmove|put', arity: -4, flags: ['write'], group, summary: 'Stores a batch of keys of a slot move.', since: '0.1.0', handler: put }),
  command({ name: 'slotmove|part', arity: 8, flags: ['write'], group, summary: 'Stores a piece of a large value of a slot move.', since: '0.1.0', handler: (ctx, argv) => {
    imports(ctx).part(argv.str(2), argv.str(3), nonNegative(argv, 4, 'expiry'), nonNegative(argv, 5, 'length'), nonNegative(argv, 6, 'offset'), argv.copy(7));
    ctx.out.raw(OK);
  } }),
  command({ name: 'slotmove|done', arity: 4, flags: ['write'], group, summary: 'Ends the copy of a slot move.', since: '0.1.0', handler: (ctx, argv) => {
    imports(ctx).done(argv.str(2), nonNegative(argv, 3, 'key count'));
    ctx.out.raw(OK);
  } }),
  command({ name: 'slotmove|abort', arity: 3, flags: ['write'], group, summary: 'Drops what a slot move sent.', since: '0.1.0', handler: (ctx, argv) => {
    imports(ctx).abort(argv.str(2));
    ctx.out.raw(OK);
  } }),
];

export const migrationCommands: CommandSpec[] = [
  command({ name: 'slotmove', arity: -3, flags: ['admin'], group, summary: 'A container for the requests of a slot move between nodes.', since: '0.1.0', subcommands, handler: subcommandDispatcher('slotmove', subcommands) }),
];

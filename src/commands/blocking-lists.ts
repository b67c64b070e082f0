/** The blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (the waiting itself is blocking.ts). */
import type { Argv } from '../protocol/argv.js';
import type { Key } from '../store/keyspace.js';
import { blockOn, timeoutAt } from './blocking.js';
import type { CommandContext } from './context.js';
import { numkeysKeys } from './containers.js';
import { endAt, listGroup, moveElement, mpopList, parseMpop, pop, writeList, type End } from './lists.js';
import { command, type CommandSpec } from './table.js';

/** Pops one element from the list at key (which has data) and writes [key, element]. */
function popFrom(ctx: CommandContext, key: Key, end: End): boolean {
  const l = writeList(ctx, key);
  if (l === undefined) return false;
  const v = pop(l, end);
  ctx.out.array(2);
  ctx.out.bulkLatin1(key);
  ctx.out.bulkLatin1(v);
  ctx.store.objectChanged(key, l);
  return true;
}

function bpop(end: End) {
  return (ctx: CommandContext, argv: Argv): void => {
    const timeout = timeoutAt(argv, argv.length - 1);
    const keys: Key[] = [];
    for (let i = 1; i < argv.length - 1; i++) keys.push(argv.str(i));
    // In order: the first key with data is served, a key of another type before it is WRONGTYPE.
    for (const key of keys) if (popFrom(ctx, key, end)) return;
    blockOn(ctx, keys, 'list', timeout, (c, key) => popFrom(c, key, end), (out) => out.nullArray());
  };
}

function bmove(ctx: CommandContext, from: Key, to: Key, fromEnd: End, toEnd: End, timeout: number): void {
  const reply = (c: CommandContext, key: Key): boolean => {
    const v = moveElement(c, key, to, fromEnd, toEnd);
    if (v === undefined) return false;
    c.out.bulkLatin1(v);
    return true;
  };
  // The destination's type is checked only once there is something to move, as in Redis.
  if (reply(ctx, from)) return;
  blockOn(ctx, [from], 'list', timeout, reply, (out) => out.nullBulk());
}

function blmpop(ctx: CommandContext, argv: Argv): void {
  const timeout = timeoutAt(argv, 1);
  const { keys, word, count } = parseMpop(argv, 2, ['left', 'right'] as const);
  if (mpopList(ctx, keys, word, count)) return;
  blockOn(ctx, keys, 'list', timeout, (c, key) => mpopList(c, [key], word, count), (out) => out.nullArray());
}

const group = listGroup;
const flags = ['write', 'noscript', 'blocking'] as const;

export const blockingCommands: CommandSpec[] = [
  command({ name: 'blpop', arity: -3, flags: [...flags], firstKey: 1, lastKey: -2, keyStep: 1, group, summary: 'Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.', since: '2.0.0', handler: bpop('left') }),
  command({ name: 'brpop', arity: -3, flags: [...flags], firstKey: 1, lastKey: -2, keyStep: 1, group, summary: 'Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.', since: '2.0.0', handler: bpop('right') }),
  command({ name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], firstKey: 1, lastKey: 2, keyStep: 1, group, summary: 'Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.', since: '6.2.0', handler: (ctx, argv) => {
    const fromEnd = endAt(argv, 3);
    const toEnd = endAt(argv, 4);
    bmove(ctx, argv.str(1), argv.str(2), fromEnd, toEnd, timeoutAt(argv, 5));
  } }),
  command({ name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], firstKey: 1, lastKey: 2, keyStep: 1, group, summary: 'Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.', since: '2.2.0', handler: (ctx, argv) => bmove(ctx, argv.str(1), argv.str(2), 'right', 'left', timeoutAt(argv, 3)) }),
  command({ name: 'blmpop', arity: -5, flags: ['write', 'blocking'], keysOf: numkeysKeys(2), group, summary: 'Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.', since: '7.0.0', handler: blmpop }),
];

/**
 * Routing by every key of a command whose keys follow a count (ZUNIONSTORE dst
 * numkeys k..., SINTERCARD, LMPOP...): the keys each spec's keysOf extracts,
 * checked against what Redis 7.0.15's COMMAND GETKEYS answers for the same
 * calls (recorded from redis-server; "none" is its "Invalid arguments specified
 * for command"), and route()'s verdict (CROSSSLOT, or the one slot's route).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Argv } from '../../src/protocol/argv.js';
import { Dispatcher } from '../../src/commands/dispatch.js';
import { callKeyPositions } from '../../src/commands/table.js';
import { atoi32 } from '../../src/commands/containers.js';
import { keySlots, route } from '../../src/cluster/routing.js';
import { keySlot } from '../../src/cluster/key-slot.js';
import type { ClusterState, SlotRoute } from '../../src/cluster/cluster-state.js';
import type { MapNode } from '../../src/cluster/cluster-map.js';
import { CommandHarness } from '../helpers/command-harness.js';
import { ReplyError } from '../helpers/raw-client.js';

const table = new Dispatcher({ maxmemory: 0, maxmemoryPolicy: 'noeviction' }).table;

function keysOf(...args: string[]): string[] {
  const argv = Argv.of(args);
  const spec = table.find(argv, 0);
  assert.ok(spec, `${args[0]} is a command`);
  return callKeyPositions(spec, argv).map((i) => argv.str(i));
}

// [call, the keys Redis 7.0.15's COMMAND GETKEYS gives for it, in its order ([] for its error)]
const CASES: Array<[string, string[]]> = [
  ['ZUNIONSTORE {t}a 2 {t}b {t}c', ['{t}a', '{t}b', '{t}c']],
  ['ZUNIONSTORE {t}a 2 {t}b {u}c', ['{t}a', '{t}b', '{u}c']],
  ['ZUNIONSTORE {t}a 1 {t}b WEIGHTS 1', ['{t}a', '{t}b']],
  ['ZUNIONSTORE {t}a 3 {t}b WEIGHTS 1', ['{t}a', '{t}b', 'WEIGHTS', '1']],
  ['ZUNIONSTORE {t}a 2 {t}b', []],
  ['ZUNIONSTORE {t}a 0 {t}b', []],
  ['ZUNIONSTORE {t}a -1 {t}b', []],
  ['ZUNIONSTORE {t}a x {t}b', []],
  ['ZUNIONSTORE {t}a -0 {t}b', []],
  ['ZUNIONSTORE {t}a 99999999999999999999 {t}b', []],
  // Not a plain integer: only Redis's atoi() fallback reads it, which lists the destination last.
  ['ZUNIONSTORE {t}a 1.5 {t}b', ['{t}b', '{t}a']],
  ['ZUNIONSTORE {t}a +1 {t}b', ['{t}b', '{t}a']],
  ['ZUNIONSTORE {t}a 01 {t}b', ['{t}b', '{t}a']],
  ['ZUNIONSTORE {t}a 1abc {t}b', ['{t}b', '{t}a']],
  ['ZUNIONSTORE {t}a  1 {t}b', ['{t}b', '{t}a']],
  // A count cast to a C int: 2^32 + 1 is 1, 2^32 is 0.
  ['ZUNIONSTORE {t}a 4294967297 {t}b', ['{t}a', '{t}b']],
  ['ZUNIONSTORE {t}a 4294967296 {t}b', []],
  ['ZINTERSTORE {t}a 2 {t}b {t}c', ['{t}a', '{t}b', '{t}c']],
  ['ZINTERSTORE {t}a 2 {t}b {u}c', ['{t}a', '{t}b', '{u}c']],
  ['ZDIFFSTORE {t}a 2 {t}b {t}c', ['{t}a', '{t}b', '{t}c']],
  ['ZDIFFSTORE {t}a 2 {u}b {t}c', ['{t}a', '{u}b', '{t}c']],
  ['ZUNION 2 {t}b {t}c', ['{t}b', '{t}c']],
  ['ZUNION 2 {t}b {u}c', ['{t}b', '{u}c']],
  ['ZUNION 1 {t}b WITHSCORES', ['{t}b']],
  ['ZUNION 0 {t}b', []],
  ['ZUNION x {t}b', []],
  ['ZINTER 2 {t}b {t}c', ['{t}b', '{t}c']],
  ['ZINTER 2 {t}b {u}c', ['{t}b', '{u}c']],
  ['ZDIFF 2 {t}b {u}c', ['{t}b', '{u}c']],
  ['ZINTERCARD 2 {t}b {t}c', ['{t}b', '{t}c']],
  ['ZINTERCARD 2 {t}b {u}c', ['{t}b', '{u}c']],
  ['ZINTERCARD 2 {t}b {t}c LIMIT 5', ['{t}b', '{t}c']],
  ['ZINTERCARD 3 {t}b {t}c', []],
  ['SINTERCARD 2 {t}b {t}c', ['{t}b', '{t}c']],
  ['SINTERCARD 2 {t}b {u}c', ['{t}b', '{u}c']],
  ['SINTERCARD 0 {t}b', []],
  ['SINTERCARD 1 {t}b LIMIT 1', ['{t}b']],
  ['SINTERCARD 3 {t}b {t}c', []],
  ['SINTERCARD 4294967297 {t}b', ['{t}b']],
  ['SINTERCARD +1 {t}b', ['{t}b']],
  ['LMPOP 2 {t}b {t}c LEFT', ['{t}b', '{t}c']],
  ['LMPOP 2 {t}b {u}c LEFT', ['{t}b', '{u}c']],
  ['LMPOP 1 {t}b LEFT COUNT 2', ['{t}b']],
  ['LMPOP 0 {t}b LEFT', []],
  ['LMPOP x {t}b LEFT', []],
  ['LMPOP 3 {t}b LEFT', []],
  ['BLMPOP 0.1 2 {t}b {t}c LEFT', ['{t}b', '{t}c']],
  ['BLMPOP 0.1 2 {t}b {u}c LEFT', ['{t}b', '{u}c']],
  ['BLMPOP x 1 {t}b LEFT', ['{t}b']],
  ['ZMPOP 2 {t}b {t}c MIN', ['{t}b', '{t}c']],
  ['ZMPOP 2 {t}b {u}c MIN', ['{t}b', '{u}c']],
  ['ZMPOP 1 {t}b MAX COUNT 3', ['{t}b']],
  ['BZMPOP 0.1 2 {t}b {t}c MIN', ['{t}b', '{t}c']],
  ['BZMPOP 0.1 2 {t}b {u}c MIN', ['{t}b', '{u}c']],
];

const split = (call: string): string[] => (call.includes('  ') ? call.replace('  ', ' \u0000').split(' ').map((a) => a.replace('\u0000', ' ')) : call.split(' '));

describe('keys of count-prefixed commands, as Redis 7.0 extracts them', () => {
  const h = new CommandHarness();
  for (const [call, keys] of CASES) {
    test(call, () => {
      assert.deepEqual(keysOf(...split(call)), keys);
      // COMMAND GETKEYS answers the keys routing uses, with Redis's error when there are none.
      const r = h.run('COMMAND', 'GETKEYS', ...split(call));
      if (keys.length === 0) assert.ok(r instanceof ReplyError && r.message === 'ERR Invalid arguments specified for command', `GETKEYS ${call}: ${String(r)}`);
      else assert.deepEqual((r as Buffer[]).map((b) => b.toString()), keys, `GETKEYS ${call}`);
    });
  }

  test('fixed-position commands are unchanged', () => {
    assert.deepEqual(keysOf('GET', 'k'), ['k']);
    assert.deepEqual(keysOf('MSET', 'a', '1', 'b', '2'), ['a', 'b']);
    assert.deepEqual(keysOf('ZADD', 'z', '1', 'm'), ['z']);
    assert.deepEqual(keysOf('PING'), []);
  });

  test('every command with keysOf carries movablekeys', () => {
    const movable = table.all.filter((s) => s.keysOf !== undefined).map((s) => s.name).sort();
    assert.deepEqual(movable, ['blmpop', 'bzmpop', 'eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'fcall', 'fcall_ro', 'lmpop', 'sintercard', 'zdiff', 'zdiffstore', 'zinter', 'zintercard', 'zinterstore', 'zmpop', 'zunion', 'zunionstore'].sort());
    for (const s of table.all.filter((x) => x.keysOf !== undefined)) assert.ok(s.flags.includes('movablekeys'), s.name);
  });

  test('atoi32 reads a count as C atoi() does, cast to int', () => {
    const at = (s: string) => atoi32(Buffer.from(s), 0, s.length);
    assert.equal(at('12'), 12);
    assert.equal(at('  7x'), 7);
    assert.equal(at('+3'), 3);
    assert.equal(at('-3'), -3);
    assert.equal(at(''), 0);
    assert.equal(at('abc'), 0);
    assert.equal(at('2147483648'), -2147483648);
    assert.equal(at('4294967298'), 2);
    assert.equal(at('99999999999999999999'), -1);
    assert.equal(at('-99999999999999999999'), 0);
  });
});

describe('route() by every key', () => {
  const self: MapNode = { id: 'a'.repeat(40), host: '127.0.0.1', port: 1, role: 'primary', state: 'up', weight: 1 } as unknown as MapNode;
  const other: MapNode = { ...self, id: 'b'.repeat(40), port: 2 } as MapNode;
  const tSlot = keySlot('{t}');
  // This node owns the slot of {t} only; every other slot is on `other`.
  const state = { route: (slot: number): SlotRoute => (slot === tSlot ? { kind: 'local' } : { kind: 'moved', node: other }) } as unknown as ClusterState;
  const routeOf = (...args: string[]) => {
    const argv = Argv.of(args);
    return route(table.find(argv, 0)!, argv, state);
  };

  test('keys in one slot served here: local', () => {
    assert.deepEqual(routeOf('ZUNIONSTORE', '{t}a', '2', '{t}b', '{t}c'), { kind: 'local', slot: tSlot });
    assert.deepEqual(routeOf('SINTERCARD', '2', '{t}b', '{t}c'), { kind: 'local', slot: tSlot });
  });

  test('a source key in another slot: CROSSSLOT, also when the destination is local', () => {
    assert.deepEqual(routeOf('ZUNIONSTORE', '{t}a', '2', '{t}b', '{u}c'), { kind: 'crossslot' });
    assert.deepEqual(routeOf('ZINTERSTORE', '{u}a', '2', '{t}b', '{t}c'), { kind: 'crossslot' });
    assert.deepEqual(routeOf('LMPOP', '2', '{t}b', '{u}c', 'LEFT'), { kind: 'crossslot' });
    assert.deepEqual(routeOf('BZMPOP', '0', '2', '{t}b', '{u}c', 'MIN'), { kind: 'crossslot' });
  });

  test('keys in one slot owned elsewhere: remote, by the source keys too (not the first argument)', () => {
    const uSlot = keySlot('{u}');
    assert.deepEqual(routeOf('ZUNIONSTORE', '{u}a', '2', '{u}b', '{u}c'), { kind: 'remote', slot: uSlot, node: other });
    // The first argument of SINTERCARD is the count: its keys decide.
    assert.deepEqual(routeOf('SINTERCARD', '1', '{u}b'), { kind: 'remote', slot: uSlot, node: other });
    assert.deepEqual(routeOf('BLMPOP', '0', '1', '{u}b', 'LEFT'), { kind: 'remote', slot: uSlot, node: other });
  });

  test('a bad count: no keys, so the command runs here and answers its own error (as Redis)', () => {
    assert.deepEqual(routeOf('ZUNIONSTORE', '{u}a', '0', '{u}b'), { kind: 'keyless' });
    assert.deepEqual(routeOf('SINTERCARD', '5', '{u}b'), { kind: 'keyless' });
    assert.deepEqual(keySlots(table.byName('lmpop')!, Argv.of(['LMPOP', 'x', '{u}b', 'LEFT'])), []);
  });
});

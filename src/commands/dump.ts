/** DUMP and RESTORE, with ringcache's own payload format (src/store/objects/serialize.ts), not Redis's RDB. */
import type { Argv } from '../protocol/argv.js';
import { OK } from '../protocol/writer.js';
import { NO_EXPIRY } from '../store/keyspace.js';
import { decodeValue, encodeValue } from '../store/objects/serialize.js';
import type { CommandContext } from './context.js';
import { CommandError, Errors } from './errors.js';
import { argInt, argNumber } from './numbers.js';
import { command, type CommandSpec } from './table.js';

function dump(ctx: CommandContext, argv: Argv): void {
  const key = argv.str(1);
  const type = ctx.store.typeOf(key);
  if (type === undefined) return ctx.out.nullBulk();
  ctx.out.bulk(encodeValue(type === 'string' ? ctx.store.peek(key)! : ctx.store.peekObject(key)!));
}

function restore(ctx: CommandContext, argv: Argv): void {
  const ttl = argInt(argv, 2);
  if (ttl < 0) throw new CommandError('ERR Invalid TTL value, must be >= 0');
  let replace = false;
  let absolute = false;
  for (let i = 4; i < argv.length; i++) {
    const left = argv.length - i - 1;
    if (argv.is(i, 'replace')) replace = true;
    else if (argv.is(i, 'absttl')) absolute = true;
    else if (argv.is(i, 'idletime') && left >= 1) {
      // Accepted for Redis's tools; ringcache's policies keep their own state.
      if (argNumber(argv, ++i) < 0) throw new CommandError('ERR Invalid IDLETIME value, must be >= 0');
    } else if (argv.is(i, 'freq') && left >= 1) {
      const f = argNumber(argv, ++i);
      if (f < 0 || f > 255) throw new CommandError('ERR Invalid FREQ value, must be >= 0 and <= 255');
    } else throw new CommandError(Errors.syntax);
  }
  const key = argv.str(1);
  if (!replace && ctx.store.exists(key)) throw new CommandError('BUSYKEY Target key name already exists.');
  const value = decodeValue(argv.copy(3));
  // Redis's text for a payload it cannot read (one of Redis's own included: a different format).
  if (value === null) throw new CommandError('ERR DUMP payload version or checksum are wrong');
  const n = Number(ttl);
  const at = n === 0 ? NO_EXPIRY : absolute ? n : ctx.clock.now() + n;
  if (at !== NO_EXPIRY && at <= ctx.clock.now()) {
    // Already expired: nothing is stored, as Redis does (the old value goes with REPLACE).
    if (replace) ctx.store.delete(key);
    return ctx.out.raw(OK);
  }
  if (Buffer.isBuffer(value)) ctx.store.set(key, value, at);
  else ctx.store.putObject(key, value, at);
  ctx.out.raw(OK);
}

const group = 'generic';

export const dumpCommands: CommandSpec[] = [
  command({ name: 'dump', arity: 2, flags: ['readonly'], firstKey: 1, lastKey: 1, keyStep: 1, group, summary: 'Returns a serialized representation of the value stored at a key.', since: '2.6.0', handler: dump }),
  command({ name: 'restore', arity: -4, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, keyStep: 1, group, summary: 'Creates a key from the serialized representation of a value.', since: '2.6.0', handler: restore }),
];

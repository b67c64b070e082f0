/**
 * The node's CPU per command with no sockets: 16-command pipelines fed to the
 * real parser, dispatcher, keyspace and reply writer, over 100k preloaded keys.
 * This is the cost that competes with redis-benchmark for the cores in
 * `npm run bench`, measured without the noise of the network and scheduling.
 * Prints the best of 7 repetitions, in ns per command.
 *
 *   npm run bench:cost [-- --value 32 --keys 100000 --commands INCR,GET,SET,MSET --reps 7]
 *
 * MSET writes 10 keys, as redis-benchmark's does: its figure is per MSET.
 *
 * --keys 1000 keeps the store in the CPU's caches: the difference from the
 * default is what the store's memory accesses cost.
 */
import { parseArgs } from 'node:util';
import type { CommandContext, NodeServices, Session } from '../src/commands/context.js';
import { Dispatcher } from '../src/commands/dispatch.js';
import { RequestParser } from '../src/protocol/parser.js';
import { encodeRequest } from '../src/protocol/request-encoder.js';
import { ReplyWriter } from '../src/protocol/writer.js';
import { systemClock } from '../src/store/clock.js';
import { SlabKeyspace } from '../src/store/slab-keyspace.js';

const USAGE = `Usage: npm run bench:cost -- [--value BYTES] [--keys N] [--commands LIST] [--reps N]
  --value N       value size for SET and MSET (default 32)
  --keys N        keys preloaded and used at random (default 100000; 1000 keeps them in cache)
  --commands L    comma list of INCR, GET, SET, MSET (default INCR,GET,SET,MSET)
  --reps N        repetitions, best reported (default 7)
`;
const COMMAND_NAMES = ['INCR', 'GET', 'SET', 'MSET'];
let values: { value: string; keys: string; commands: string; reps: string; help?: boolean };
try {
  values = parseArgs({
    options: {
      value: { type: 'string', default: '32' },
      keys: { type: 'string', default: '100000' },
      commands: { type: 'string', default: COMMAND_NAMES.join(',') },
      reps: { type: 'string', default: '7' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  console.error(`command-cost: ${(err as Error).message}`);
  process.stderr.write(USAGE);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`command-cost: --${name} must be a positive integer, got "${text}"`);
    process.exit(2);
  }
  return n;
};
const KEYS = positive('keys', values.keys);
const REPS = positive('reps', values.reps);
const COMMANDS = values.commands.split(',').map((c) => c.trim().toUpperCase());
for (const c of COMMANDS) {
  if (!COMMAND_NAMES.includes(c)) {
    console.error(`command-cost: --commands takes ${COMMAND_NAMES.join(', ')}, got "${c}"`);
    process.exit(2);
  }
}
const PIPELINE = 16;
const BATCHES = 4096;
const value = 'x'.repeat(Number(values.value));
const key = (i: number) => `key:${String(i).padStart(12, '0')}`;

const store = new SlabKeyspace();
const out = new ReplyWriter();
const services: NodeServices = {
  config: new Map(), requirepass: () => '', info: () => '', clients: () => [], resetStats: () => {}, shutdown: () => {},
  version: 'bench', runId: 'bench', cluster: () => undefined,
};
const session: Session = { id: 1, name: '', libName: '', libVersion: '', protocol: 2, authenticated: true, closeAfterReply: false };
const ctx: CommandContext = { out, store, session, node: services, clock: systemClock };
const dispatcher = new Dispatcher({ maxmemory: 0, maxmemoryPolicy: 'noeviction' }, (err) => {
  throw err;
});
const parser = new RequestParser({
  onCommand: (argv) => dispatcher.execute(ctx, argv),
  onProtocolError: (m) => {
    throw new Error(m);
  },
});

/** Pre-encoded pipelines of one command over pseudo-random keys. */
function pipelines(cmd: string): Buffer[] {
  const list: Buffer[] = [];
  let seed = 1;
  for (let b = 0; b < BATCHES; b++) {
    const parts: Buffer[] = [];
    for (let j = 0; j < PIPELINE; j++) {
      const next = (): string => key((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % KEYS);
      if (cmd === 'MSET') parts.push(encodeRequest(['MSET', ...Array.from({ length: 10 }, () => [next(), value]).flat()]));
      else if (cmd === 'SET') parts.push(encodeRequest(['SET', next(), value]));
      else parts.push(encodeRequest([cmd, next()]));
    }
    list.push(Buffer.concat(parts));
  }
  return list;
}

// Integer values, so that INCR succeeds.
for (let i = 0; i < KEYS; i++) store.set(key(i), Buffer.from('12345'), 0);
const results: Record<string, number> = {};
for (const cmd of COMMANDS) {
  const list = pipelines(cmd);
  let best = Infinity;
  for (let rep = 0; rep < REPS; rep++) {
    const t = process.hrtime.bigint();
    for (const chunk of list) {
      parser.feed(chunk);
      out.take();
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t) / (BATCHES * PIPELINE));
  }
  results[cmd] = Math.round(best);
}
console.log(`ns per command (best of ${REPS}; ${PIPELINE}-command pipelines over ${KEYS} keys, ${value.length} B values for SET and MSET of 10 keys):`);
for (const [cmd, ns] of Object.entries(results)) console.log(`  ${cmd.padEnd(5)} ${ns}`);

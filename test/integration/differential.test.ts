/**
 * Differential suite: every case of differential-cases.ts runs on a ringcache
 * node and on a real redis-server (7.0), in RESP2 and in RESP3, and their
 * decoded replies must match, error texts included — what clients see of Redis
 * is what they must see of ringcache. One node and one redis-server serve the
 * whole file; each case gets fresh connections and an empty keyspace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectionCommands } from '../../src/commands/connection.js';
import { keyCommands } from '../../src/commands/keys.js';
import { commandCommands, serverCommands } from '../../src/commands/server.js';
import { stringCommands } from '../../src/commands/strings.js';
import { hashCommands } from '../../src/commands/hashes.js';
import { setCommands } from '../../src/commands/sets.js';
import { listCommands } from '../../src/commands/lists.js';
import { blockingCommands } from '../../src/commands/blocking-lists.js';
import { sortedSetCommands } from '../../src/commands/sorted-sets.js';
import { dumpCommands } from '../../src/commands/dump.js';
import { typeBehaviourCases, typeCases } from './differential-types.js';
import { scriptingCases } from './differential-scripting.js';
import { pubsubCases } from './differential-pubsub.js';
import { pubsubCommands } from '../../src/commands/pubsub.js';
import { scriptingCommands } from '../../src/scripting/commands.js';
import { ScriptEngine } from '../../src/scripting/engine.js';
import { CommandTable } from '../../src/commands/table.js';
import { startRedis, startRingcache, type Running } from '../helpers/processes.js';
import { RawClient, type Reply } from '../helpers/raw-client.js';
import { argsOf, behaviourCases, cases, commandInfoCase, isArgs, show, type Args, type Case, type Step } from './differential-cases.js';

type Side = 'redis' | 'ringcache';
const SIDES: readonly Side[] = ['redis', 'ringcache'];
type Pair<T> = Record<Side, T>;

/** A full SCAN must finish in this many calls (30 keys, COUNT 1 at worst). */
const MAX_SCAN_CALLS = 1000;
const MAX_SLEEP_MS = 1000;

/**
 * The commands of a standalone ringcache node: what "every command" means for
 * the coverage checks. (Cluster commands have no standalone Redis to compare with.)
 */
const specs = [...stringCommands, ...hashCommands, ...setCommands, ...listCommands, ...blockingCommands, ...sortedSetCommands, ...dumpCommands, ...keyCommands, ...connectionCommands, ...serverCommands, ...scriptingCommands(new ScriptEngine({ resolve: () => undefined, execute: () => {} }, { timeLimitMs: () => 5000 })), ...commandCommands(() => new CommandTable([])), ...pubsubCommands.filter((s) => s.name !== 'peerpublish')];

const servers: Partial<Pair<Running>> = {};

before(async () => {
  // Redis's default policy: ringcache's own default (allkeys-s3fifo) would show in CONFIG GET.
  [servers.redis, servers.ringcache] = await Promise.all([startRedis(), startRingcache(['--maxmemory-policy', 'noeviction'])]);
});

after(async () => {
  await Promise.all(SIDES.map((s) => servers[s]?.stop()));
});

async function connect(): Promise<Pair<RawClient>> {
  const [redis, ringcache] = await Promise.all(SIDES.map((s) => RawClient.connect(servers[s]!.port)));
  return { redis: redis!, ringcache: ringcache! };
}

/** Sends one command to both servers at once, so that time-dependent replies are read together. */
async function callBoth(conns: Pair<RawClient>, args: Args): Promise<Pair<Reply>> {
  const [redis, ringcache] = await Promise.all(SIDES.map((s) => conns[s].call(...argsOf(args))));
  return { redis: redis!, ringcache: ringcache! };
}

const label = (args: Args): string => argsOf(args).map((a) => JSON.stringify(a.toString())).join(' ');

/** Runs SCAN from 0 to the end on one server; returns the sorted set of keys it visited. */
async function scanAll(client: RawClient, options: string[]): Promise<string[]> {
  const seen = new Set<string>();
  let cursor = '0';
  for (let calls = 0; calls < MAX_SCAN_CALLS; calls++) {
    const r = await client.call('SCAN', cursor, ...options);
    assert.ok(Array.isArray(r) && r.length === 2 && Array.isArray(r[1]), `SCAN reply shape: ${show(r)}`);
    cursor = String(r[0]);
    for (const k of r[1] as Reply[]) seen.add(String(k));
    if (cursor === '0') return [...seen].sort();
  }
  assert.fail(`SCAN ${options.join(' ')} did not finish in ${MAX_SCAN_CALLS} calls`);
}

async function runStep(conns: Pair<RawClient>, step: Step): Promise<void> {
  if (isArgs(step)) {
    const r = await callBoth(conns, step);
    assert.equal(show(r.ringcache), show(r.redis), `${label(step)}\n  redis:     ${show(r.redis)}\n  ringcache: ${show(r.ringcache)}`);
  } else if ('scanAll' in step) {
    const [redis, ringcache] = await Promise.all(SIDES.map((s) => scanAll(conns[s], step.scanAll)));
    assert.deepEqual(ringcache, redis, `SCAN ${step.scanAll.join(' ')} visits other keys`);
  } else if ('sleep' in step) {
    await new Promise((r) => setTimeout(r, Math.min(step.sleep, MAX_SLEEP_MS)));
  } else if ('closed' in step) {
    for (const s of SIDES) assert.ok(await conns[s].waitClosed(2000), `${s} did not close the connection`);
  } else if ('check' in step) {
    const r = await callBoth(conns, step.cmd);
    try {
      step.check(r.redis, r.ringcache);
    } catch (err) {
      if (err instanceof assert.AssertionError) err.message = `${label(step.cmd)}: ${err.message}`;
      throw err;
    }
  } else {
    const r = await callBoth(conns, step.cmd);
    assert.equal(show(r.redis), step.redis, `${label(step.cmd)}: redis's reply changed (${step.why})`);
    assert.equal(show(r.ringcache), step.ringcache, `${label(step.cmd)}: ringcache's documented reply (${step.why})`);
  }
}

async function runCase(c: Case, protocol: 2 | 3): Promise<void> {
  const conns = await connect();
  try {
    for (const setup of ['FLUSHALL', 'CONFIG SET maxmemory 0']) await runStep(conns, setup);
    // The HELLO reply itself is compared by the HELLO cases; here it only has to succeed.
    if (protocol === 3) for (const s of SIDES) assert.ok((await conns[s].call('HELLO', '3')) instanceof Map, `${s}: HELLO 3`);
    // Every step runs even after a mismatch (both servers went through the same
    // commands), so that one failure lists all the differences of its case.
    const mismatches: string[] = [];
    for (const step of c.steps) {
      try {
        await runStep(conns, step);
      } catch (err) {
        if (!(err instanceof assert.AssertionError)) throw err;
        mismatches.push(err.message);
      }
    }
    if (mismatches.length > 0) assert.fail(mismatches.join('\n'));
  } finally {
    for (const s of SIDES) conns[s].close();
  }
}

// ZRANK and ZREVRANK take Redis 7.2's WITHSCORE, so their arity differs on purpose (a Deliberate step in differential-types.ts).
const allCases = [...cases, ...typeCases, ...scriptingCases, ...pubsubCases, commandInfoCase(specs.map((s) => s.name).filter((n) => n !== 'zrank' && n !== 'zrevrank'))];

for (const protocol of [2, 3] as const) {
  describe(`RESP${protocol}`, () => {
    for (const c of allCases) test(c.name, { todo: c.todo }, () => runCase(c, protocol));
  });
}

/** The command (and subcommand) names a step calls, lower-cased as the table names them. */
function calledNames(step: Step): string[] {
  const cmd = isArgs(step) ? step : 'cmd' in step ? step.cmd : 'scanAll' in step ? 'SCAN' : undefined;
  if (cmd === undefined) return [];
  const [name = '', sub = ''] = argsOf(cmd).map((a) => a.toString().toLowerCase());
  return [name, `${name}|${sub}`];
}

test('every ringcache command and subcommand has a differential case beyond its arity', () => {
  const called = new Set([...behaviourCases, ...typeBehaviourCases, ...scriptingCases, ...pubsubCases].flatMap((c) => c.steps.flatMap(calledNames)));
  const names = specs.flatMap((s) => [s.name, ...(s.subcommands ?? []).map((sub) => sub.name)]);
  assert.deepEqual(names.filter((n) => !called.has(n)), []);
});

/**
 * A node killed in the middle of a load run: only keys of that node's slots
 * fail, they fail fast with a typed error, and they succeed again once the
 * node is restarted on the same port. Against a real 3-node cluster.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClusterDownError, ConnectionClosedError, RingCache, TimeoutError } from '../../src/index.js';
import { fetchOwners, HOST, keysOwnedBy, startCluster, startNode, type LocalCluster } from '../helpers/cluster.js';
import type { Running } from '../helpers/processes.js';
import { sleep, within } from '../helpers/tools.js';

let cluster: LocalCluster;
let restarted: Running | undefined;

before(async () => {
  cluster = await startCluster(3);
});

after(async () => {
  await restarted?.stop();
  await cluster?.stop();
});

interface Op {
  port: number;
  at: number;
  ms: number;
  error?: Error;
}

test('a killed node: errors only for its slots, surfaced quickly, recovery when it returns', { timeout: 60_000 }, async () => {
  const owners = await fetchOwners(cluster.ports[0]!);
  const byNode = keysOwnedBy(owners, cluster.ports, 'fo:', 30);
  const keys = [...byNode].flatMap(([port, ks]) => ks.map((key) => ({ key, port })));
  const victim = cluster.ports[2]!;
  const cache = new RingCache({ seeds: cluster.ports.map((p) => `${HOST}:${p}`), commandTimeoutMs: 1000 });
  const topologyEvents: unknown[] = [];
  const nodeErrors: string[] = [];
  cache.on('topology', (t) => topologyEvents.push(t));
  cache.on('nodeError', (e) => nodeErrors.push(e.node));
  const ops: Op[] = [];
  const t0 = Date.now();
  let stopAt = t0 + 30_000; // moved earlier once recovery is seen; a hard bound either way
  let upAt = 0;
  let victimOkAfterUp = 0;
  try {
    await cache.connect();
    await cache.mset(keys.map(({ key }) => [key, 'v'] as const));
    let i = 0;
    const worker = async () => {
      while (Date.now() < stopAt) {
        const { key, port } = keys[i++ % keys.length]!;
        const start = Date.now();
        try {
          if (i % 2) await cache.set(key, `v${i}`);
          else await cache.get(key);
          ops.push({ port, at: start - t0, ms: Date.now() - start });
          if (port === victim && upAt > 0 && start - t0 > upAt && ++victimOkAfterUp >= 50) stopAt = Math.min(stopAt, Date.now() + 200);
        } catch (err) {
          ops.push({ port, at: start - t0, ms: Date.now() - start, error: err as Error });
          await sleep(5);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 20 }, worker));

    await sleep(500);
    const killedAt = Date.now() - t0;
    await cluster.kill(2);
    await sleep(1500);
    const restartAt = Date.now() - t0;
    restarted = await startNode(victim, ['--peers', cluster.peers]);
    upAt = Date.now() - t0;
    // The workers stop 200 ms after the victim's keys have succeeded 50 times again (or at the hard bound).
    await within(10_000, 'load to stop', load);

    const before = ops.filter((o) => o.at + o.ms < killedAt);
    assert.ok(before.length > 100, `load ran before the kill (${before.length} ops)`);
    assert.deepEqual(before.filter((o) => o.error).map((o) => o.error!.message), [], 'no errors before the kill');
    const others = ops.filter((o) => o.port !== victim);
    assert.deepEqual(others.filter((o) => o.error).map((o) => `${o.port}: ${o.error!.message}`), [], 'no errors for the other nodes\' slots');
    assert.ok(others.filter((o) => o.at > killedAt && o.at < restartAt).length > 100, 'the other nodes kept serving while one was down');

    const failed = ops.filter((o) => o.error);
    assert.ok(failed.length > 0, 'the dead node\'s keys failed');
    assert.ok(failed.every((o) => o.port === victim));
    for (const o of failed) assert.ok(o.error instanceof ConnectionClosedError || o.error instanceof ClusterDownError || o.error instanceof TimeoutError, `typed error, got ${o.error}`);
    const slowest = Math.max(...failed.map((o) => o.ms));
    assert.ok(slowest < 1500, `failures surfaced within ${slowest} ms`);
    const firstOkAfter = ops.find((o) => o.port === victim && !o.error && o.at >= restartAt);
    assert.ok(firstOkAfter !== undefined, 'the victim\'s keys work again after the restart');
    assert.ok(firstOkAfter.at + firstOkAfter.ms - upAt < 3000, `recovered ${firstOkAfter.at + firstOkAfter.ms - upAt} ms after the node was up`);
    assert.ok(nodeErrors.includes(`${HOST}:${victim}`), 'a nodeError event named the victim');
  } finally {
    stopAt = 0;
    await cache.close();
  }
});

/**
 * Replication and automatic failover with real processes on a real etcd:
 * roles in CLUSTER NODES/SLOTS/SHARDS and INFO replication, replicas that
 * carry every type with its TTL, READONLY reads, WAIT, kill -9 of a primary
 * under an ioredis writer (its replica takes its slots with its keys), the
 * restarted node joining as a replica, a 500 ms pause that must not fail
 * over, and a longer pause after which the old primary is a replica.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { keySlot } from '../../src/cluster/key-slot.js';
import { spawn } from 'node:child_process';
import { freePortRun } from '../helpers/cluster.js';
import { startEtcd, type RunningEtcd } from '../helpers/etcd.js';
import { CLI, runCli, track } from '../helpers/processes.js';
import { startMember, type Member } from '../helpers/members.js';
import { eventually, redisCli, runTool, sleep } from '../helpers/tools.js';

interface StatusNode { id: string; address: string; role: string; state: string; slots: number; alive: boolean; replicaOf?: string; synced?: boolean }
interface Status { epoch: number; controller: string; nodes: StatusNode[] }

const CLUSTER = 'repl';
let etcd: RunningEtcd;
const members: Member[] = [];

async function status(): Promise<Status> {
  const r = await runCli(['cluster', 'status', '--etcd', etcd.endpoint, '--cluster', CLUSTER, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

/** Waits until there are `shards` primaries owning every slot, each with an in-sync replica, and no others. */
async function settledShards(shards: number, timeoutMs = 20_000): Promise<Status> {
  let last: Status | undefined;
  await eventually(async () => {
    last = await status();
    const primaries = last.nodes.filter((n) => n.role === 'primary' && n.slots > 0 && n.alive);
    const replicas = last.nodes.filter((n) => n.role === 'replica' && n.synced === true && n.alive);
    return primaries.length === shards && replicas.length === shards && primaries.every((p) => replicas.some((r) => r.replicaOf === p.address)) && last.nodes.length === 2 * shards;
  }, `${shards} shards with an in-sync replica each (last: ${JSON.stringify(last)})`, timeoutMs);
  return last!;
}

const portOf = (address: string) => Number(address.split(':')[1]);

/** The settings the map in force carries, read from etcd as the nodes read it. */
async function mapSettings(): Promise<{ replicas: number; consistency: string }> {
  const r = await runTool('etcdctl', ['--endpoints', etcd.endpoint, 'get', `/ringcache/${CLUSTER}/map`, '--print-value-only']);
  return (JSON.parse(r.stdout) as { settings: { replicas: number; consistency: string } }).settings;
}

async function start(): Promise<Member> {
  const m = await startMember(etcd.endpoint, CLUSTER, { leaseTtlMs: 2000, args: ['--replicas', '1'] });
  members.push(m);
  return m;
}

describe('replication and failover (etcd, 2 primaries + 2 replicas)', () => {
  before(async () => {
    etcd = await startEtcd();
    for (let i = 0; i < 4; i++) await start();
  });
  after(async () => {
    await Promise.all(members.map((m) => m.proc.exitCode === null && m.proc.signalCode === null ? m.stop() : null));
    await etcd.stop();
  });

  test('roles, replicated data of every type with TTLs, READONLY reads, INFO replication, WAIT', async () => {
    const st = await settledShards(2);
    const primary = st.nodes.find((n) => n.role === 'primary')!;
    const replica = st.nodes.find((n) => n.replicaOf === primary.address)!;
    const c = new Cluster([{ host: '127.0.0.1', port: portOf(primary.address) }]);
    try {
      for (let i = 0; i < 2000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => c.set(`k${i + j}`, `v${i + j}`)));
      // Keys of the primary's slots, one per type, with a hash tag each so they land together.
      const tag = await (async () => {
        for (let i = 0; ; i++) {
          const s = keySlot(`{t${i}}`);
          const owner = (await c.cluster('SLOTS') as unknown as Array<[number, number, [string, number]]>).find(([a, b]) => s >= a && s <= b)![2];
          if (owner[1] === portOf(primary.address)) return `{t${i}}`;
        }
      })();
      await c.hset(`${tag}h`, 'a', '1', 'b', '2');
      await c.rpush(`${tag}l`, 'x', 'y', 'z');
      await c.sadd(`${tag}s`, 'm1', 'm2');
      await c.zadd(`${tag}z`, 1, 'one', 2, 'two');
      await c.set(`${tag}ttl`, 'soon', 'PX', 60_000);
      await c.set(`${tag}gone`, 'x', 'PX', 300);
      await c.set(`${tag}deleted`, 'x');
      await c.del(`${tag}deleted`);
      // A script replicates by its effects: what it wrote and deleted, not the script.
      await c.set(`${tag}luadel`, 'x');
      await c.eval("redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000) redis.call('RPUSH', KEYS[2], 'a', 'b') redis.call('DEL', KEYS[3]) return 1", 3, `${tag}lua`, `${tag}lual`, `${tag}luadel`, 'from-lua');
      const p = new Redis({ port: portOf(primary.address), lazyConnect: true });
      const r = new Redis({ port: portOf(replica.address), lazyConnect: true });
      try {
        assert.equal(await p.wait(1, 2000), 1, 'WAIT: the replica confirmed everything so far');
        await sleep(500); // the 300 ms key expires on the primary; its deletion reaches the replica
        assert.equal(await r.dbsize(), await p.dbsize(), 'the replica holds what its primary holds');
        // Without READONLY a replica redirects; with it, it answers from its copy.
        await assert.rejects(r.get(`${tag}ttl`), /MOVED/);
        assert.equal(await r.readonly(), 'OK');
        assert.deepEqual(await r.hgetall(`${tag}h`), { a: '1', b: '2' });
        assert.deepEqual(await r.lrange(`${tag}l`, 0, -1), ['x', 'y', 'z']);
        assert.deepEqual((await r.smembers(`${tag}s`)).sort(), ['m1', 'm2']);
        assert.deepEqual(await r.zrange(`${tag}z`, '0', '-1'), ['one', 'two']);
        assert.deepEqual([await r.zscore(`${tag}z`, 'one'), await r.zscore(`${tag}z`, 'two')].map(Number), [1, 2]);
        const ttl = await r.pttl(`${tag}ttl`);
        assert.ok(ttl > 50_000 && ttl <= 60_000, `the TTL came along: ${ttl}`);
        assert.equal(await r.exists(`${tag}gone`, `${tag}deleted`), 0, 'expired and deleted keys are gone on the replica too');
        assert.equal(await r.get(`${tag}lua`), 'from-lua', "a script's write");
        assert.ok((await r.pttl(`${tag}lua`)) > 50_000, "with the TTL the script set");
        assert.deepEqual(await r.lrange(`${tag}lual`, 0, -1), ['a', 'b']);
        assert.equal(await r.exists(`${tag}luadel`), 0, "a script's delete");
        await assert.rejects(r.set(`${tag}ttl`, 'no'), /MOVED/, 'a replica never takes a write');
        assert.equal(await r.readwrite(), 'OK');
        await assert.rejects(r.get(`${tag}ttl`), /MOVED/);
        const info = await r.info('replication');
        assert.match(info, /role:slave/);
        assert.match(info, new RegExp(`master_port:${portOf(primary.address)}`));
        assert.match(info, /master_link_status:up/);
        // A broken link resumes from the backlog: no second full sync.
        const feed = (await r.client('LIST') as string).split('\n').find((l) => / cmd=repl\|(put|synced|continue) /.test(l));
        assert.ok(feed !== undefined, 'the primary\'s feed is a client of the replica');
        // Killed while writes stream (requests in flight fail, so the feed reconnects and asks to continue).
        let streaming = true;
        let burstN = 0;
        const burst = (async () => {
          while (streaming) await Promise.all(Array.from({ length: 50 }, () => c.set(`${tag}burst${burstN}`, String(burstN++))));
        })();
        await sleep(150);
        await r.client('KILL', 'ID', /id=(\d+)/.exec(feed)![1]!);
        await sleep(150);
        streaming = false;
        await burst;
        await c.set(`${tag}after`, 'resumed');
        await eventually(async () => /sync_partial_ok:1/.test(await p.info('replication')), 'the feed resumed from the backlog', 10_000);
        assert.match(await p.info('replication'), /sync_full:1\r?\n/);
        await r.readonly();
        await eventually(async () => (await r.get(`${tag}after`)) === 'resumed' && (await r.get(`${tag}burst${burstN - 1}`)) === String(burstN - 1), 'the writes around the break reached the replica', 5000);
        const pinfo = await p.info('replication');
        assert.match(pinfo, /role:master/);
        assert.match(pinfo, /connected_slaves:1/);
        assert.match(pinfo, new RegExp(`slave0:ip=127.0.0.1,port=${portOf(replica.address)},state=online`));
      } finally {
        p.disconnect();
        r.disconnect();
      }
      // CLUSTER SLOTS names the replica after the primary; CLUSTER SHARDS has one shard per primary; CLUSTER NODES says slave.
      const slots = await redisCli(portOf(primary.address), ['--json', 'CLUSTER', 'SLOTS']);
      const ranges = JSON.parse(slots.stdout) as Array<[number, number, [string, number, string], ...Array<[string, number, string]>]>;
      assert.ok(ranges.every((x) => x.length === 4), 'every range lists its primary and one replica');
      const nodes = (await redisCli(portOf(replica.address), ['CLUSTER', 'NODES'])).stdout;
      assert.match(nodes, new RegExp(`myself,slave ${primary.id}`));
      const shards = (await redisCli(portOf(primary.address), ['CLUSTER', 'SHARDS'])).stdout;
      assert.equal(shards.match(/\bmaster\b/g)?.length, 2);
      assert.equal(shards.match(/\breplica\b/g)?.length, 2);
    } finally {
      c.disconnect();
    }
  });

  test('kill -9 of a primary under load: its replica takes its slots with its keys; the restarted node becomes a replica', async () => {
    const st = await settledShards(2);
    const victim = st.nodes.find((n) => n.role === 'primary')!;
    const heir = st.nodes.find((n) => n.replicaOf === victim.address)!;
    const c = new Cluster([{ host: '127.0.0.1', port: portOf(heir.address) }], { retryDelayOnClusterDown: 50, retryDelayOnFailover: 50, redisOptions: { maxRetriesPerRequest: 2 } });
    const confirmed = new Map<string, string>();
    try {
      for (let i = 0; i < 1000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => c.set(`before${i + j}`, `b${i + j}`).then(() => confirmed.set(`before${i + j}`, `b${i + j}`))));
      const direct = new Redis({ port: portOf(victim.address) });
      assert.equal(await direct.wait(1, 2000), 1);
      direct.disconnect();
      // A writer runs through the failure.
      let stop = false;
      let errors = 0;
      let n = 0;
      const writer = (async () => {
        while (!stop) {
          const k = `during${n++}`;
          try {
            await c.set(k, 'x');
          } catch {
            errors++;
            await sleep(20);
          }
        }
      })();
      await sleep(300);
      const victimMember = members.find((m) => m.port === portOf(victim.address))!;
      victimMember.proc.kill('SIGKILL');
      await eventually(async () => (await status()).nodes.find((x) => x.id === heir.id)?.role === 'primary', 'the replica promoted', 15_000);
      await sleep(500);
      stop = true;
      await writer;
      assert.ok(n > errors, `the writer went on (${n} writes, ${errors} failed)`);
      const after = await status();
      assert.equal(after.nodes.find((x) => x.id === heir.id)!.slots, victim.slots, 'the heir owns exactly the victim\'s slots');
      // Everything confirmed before the kill (and WAITed for) is there.
      const keys = [...confirmed.keys()];
      const values = await Promise.all(keys.map((k) => c.get(k)));
      const missing = keys.filter((k, i) => values[i] !== confirmed.get(k));
      assert.deepEqual(missing, [], 'keys replicated before the kill survive it');
      // A new node (the restarted one) fills the shard that lost its replica.
      await start();
      const healed = await settledShards(2, 30_000);
      assert.ok(healed.nodes.some((x) => x.replicaOf === heir.address && x.synced === true));
    } finally {
      c.disconnect();
    }
  });

  test('a 500 ms pause of a primary fails nothing over; a longer one makes it a replica of its replacement', async () => {
    const st = await settledShards(2, 30_000);
    // Not the controller (in etcd mode one of the nodes): a paused controller probes nobody; its lease decides then (see README).
    const victim = st.nodes.find((n) => n.role === 'primary' && n.alive && st.controller !== n.id)!;
    assert.ok(victim !== undefined, `a primary that is not the controller (${JSON.stringify(st)})`);
    const proc = members.find((m) => m.port === portOf(victim.address))!.proc;
    proc.kill('SIGSTOP');
    await sleep(500);
    proc.kill('SIGCONT');
    await sleep(1500);
    const calm = await status();
    assert.equal(calm.nodes.find((n) => n.id === victim.id)?.role, 'primary', 'no failover for a 500 ms pause');
    // Past the failover delay (900 ms) but within its 2 s lease: replaced, then a replica of its heir once it wakes.
    const heir = calm.nodes.find((n) => n.replicaOf === victim.address)!;
    proc.kill('SIGSTOP');
    await sleep(1400);
    proc.kill('SIGCONT');
    await eventually(async () => {
      const s = await status();
      const v = s.nodes.find((n) => n.id === victim.id);
      return s.nodes.find((n) => n.id === heir.id)?.role === 'primary' && v?.role === 'replica' && v.replicaOf === heir.address && v.synced === true;
    }, 'the old primary became an in-sync replica of its heir', 20_000);
    const old = new Redis({ port: portOf(victim.address) });
    try {
      await assert.rejects(old.set('{x}k', 'v'), /MOVED/);
    } finally {
      old.disconnect();
    }
  });
  test('CLUSTER FAILOVER on a replica: a handoff from its primary (which becomes its replica); TAKEOVER without it; refused on a primary', async () => {
    const st = await settledShards(2, 30_000);
    const primary = st.nodes.find((n) => n.role === 'primary' && n.alive)!;
    const replica = st.nodes.find((n) => n.replicaOf === primary.address && n.synced === true)!;
    const p = new Redis({ port: portOf(primary.address) });
    const r = new Redis({ port: portOf(replica.address) });
    try {
      await assert.rejects(p.cluster('FAILOVER'), /You should send CLUSTER FAILOVER to a replica/);
      await assert.rejects(r.cluster('FAILOVER', 'SOON' as never), /syntax error/);
      const tag = await (async () => {
        for (let i = 0; ; i++) if ((await p.set(`{f${i}}k`, 'kept').catch(() => 'moved')) === 'OK') return `{f${i}}`;
      })();
      assert.equal(await r.cluster('FAILOVER'), 'OK');
      await eventually(async () => {
        const s = await status();
        return s.nodes.find((n) => n.id === replica.id)?.role === 'primary' && s.nodes.find((n) => n.id === primary.id)?.replicaOf === replica.address;
      }, 'the replica took over; its old primary follows it', 10_000);
      assert.equal(await r.get(`${tag}k`), 'kept', 'the handoff moved every write');
      // And back, without the (now) primary's agreement.
      await eventually(async () => (await status()).nodes.find((n) => n.id === primary.id)?.synced === true, 'the old primary in sync as a replica', 20_000);
      assert.equal(await p.cluster('FAILOVER', 'TAKEOVER' as never), 'OK');
      await eventually(async () => (await status()).nodes.find((n) => n.id === primary.id)?.role === 'primary', 'TAKEOVER promoted it', 10_000);
      assert.equal(await p.get(`${tag}k`), 'kept');
    } finally {
      p.disconnect();
      r.disconnect();
    }
  });

  test('cluster set changes the stored settings and the next map carries them; a bad value is refused', async () => {
    const set = (...args: string[]) => runCli(['cluster', 'set', ...args, '--etcd', etcd.endpoint, '--cluster', CLUSTER]);
    const bad = await set('replicas', '9');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid replicas '9'/);
    const ok = await set('consistency', 'sync');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /replicas 1, consistency sync/);
    await eventually(async () => (await mapSettings()).consistency === 'sync', 'the map carries consistency sync', 10_000);
    assert.equal((await mapSettings()).replicas, 1);
  });
});

interface DevStatus { nodes: StatusNode[] }

describe('sync mode and the planned handoff (ringcache dev, the embedded coordinator)', () => {
  test('kill -9 of a primary under a writer loses no acknowledged write; SIGTERM of a primary hands off with no error and none lost', async () => {
    const base = await freePortRun(6);
    const dev = spawn(process.execPath, [CLI, 'dev', '--nodes', '4', '--base-port', String(base), '--replicas', '1', '--consistency', 'sync'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RINGCACHE_DEV_COMMANDS: '1' } });
    const output = track(dev);
    const devStatus = async (): Promise<DevStatus> => JSON.parse((await runCli(['cluster', 'status', '--coordinator', `127.0.0.1:${base - 1}`, '--json'])).stdout) as DevStatus;
    const shards = async (n: number, replicas: number) => eventually(async () => {
      const s = await devStatus();
      return s.nodes.filter((x) => x.role === 'primary' && x.slots > 0).length === n && s.nodes.filter((x) => x.role === 'replica' && x.synced === true).length === replicas;
    }, `${n} primaries and ${replicas} in-sync replicas`, 20_000);
    let c!: Cluster; // made once the nodes are up (before, its slot refresh fails noisily)
    const acked = new Map<string, string>();
    /** Writes until stopped; a write counts only once acknowledged (sync mode: every in-sync replica has it). */
    const writer = (prefix: string) => {
      let stop = false;
      let errors = 0;
      let i = 0;
      const done = (async () => {
        while (!stop) {
          const k = `${prefix}${i++ % 2000}`;
          const v = `${prefix}-${i}`;
          await c.set(k, v).then(() => void acked.set(k, v), () => void errors++);
        }
      })();
      return { stop: async () => {
        stop = true;
        await done;
        return { writes: i, errors };
      } };
    };
    const lost = async () => {
      const keys = [...acked.keys()];
      const values = await Promise.all(keys.map((k) => c.get(k)));
      return keys.filter((k, i) => values[i] !== acked.get(k));
    };
    try {
      await eventually(() => /nodes ready/.test(output()), 'ringcache dev ready', 30_000);
      c = new Cluster([{ host: '127.0.0.1', port: base }], { retryDelayOnClusterDown: 50, retryDelayOnFailover: 50, redisOptions: { maxRetriesPerRequest: 3 } });
      await shards(2, 2);
      const before = await devStatus();
      const victim = before.nodes.find((x) => x.role === 'primary')!;
      const heir = before.nodes.find((x) => x.replicaOf === victim.address)!;
      const w1 = writer('kill:');
      await sleep(500);
      dev.stdin.write(`kill ${portOf(victim.address)}\n`);
      await eventually(async () => (await devStatus()).nodes.find((x) => x.id === heir.id)?.role === 'primary', 'the replica promoted', 15_000);
      await sleep(300);
      const r1 = await w1.stop();
      assert.ok(r1.writes > r1.errors, `writes went on: ${JSON.stringify(r1)}`);
      assert.match(output(), /failover: \d+ replaced by its replica \d+/);
      assert.deepEqual(await lost(), [], 'sync mode: no acknowledged write lost to the kill');
      // The other primary still has its in-sync replica: SIGTERM it for a planned handoff.
      await shards(2, 1);
      const mid = await devStatus();
      const leaver = mid.nodes.find((x) => x.role === 'primary' && mid.nodes.some((r) => r.replicaOf === x.address && r.synced === true))!;
      const w2 = writer('handoff:');
      await sleep(500);
      dev.stdin.write(`stop ${portOf(leaver.address)}\n`);
      await eventually(async () => (await devStatus()).nodes.every((x) => x.id !== leaver.id), 'the leaver gone from the map', 15_000);
      await sleep(300);
      const r2 = await w2.stop();
      assert.equal(r2.errors, 0, 'a planned handoff surfaces no error');
      assert.deepEqual(await lost(), [], 'and loses no acknowledged write');
    } finally {
      c?.disconnect();
      dev.kill('SIGINT');
      await new Promise((r) => dev.once('exit', r));
    }
  });
});

describe('a full sync under writes (etcd, 1 primary + 1 replica joining)', () => {
  const CL = 'fullsync';
  let etcd2: RunningEtcd;
  const nodes: Member[] = [];
  before(async () => {
    etcd2 = await startEtcd();
  });
  after(async () => {
    await Promise.all(nodes.map((m) => m.proc.exitCode === null && m.proc.signalCode === null ? m.stop() : null));
    await etcd2.stop();
  });

  test('keys overwritten while the replica\'s full sync walks the keyspace end on the replica at their last value, every one', { timeout: 90_000 }, async () => {
    const KEYS = 60_000;
    const primary = await startMember(etcd2.endpoint, CL, { leaseTtlMs: 2000, args: ['--replicas', '1'] });
    nodes.push(primary);
    const p = new Redis({ port: primary.port });
    const last = new Map<number, string>();
    try {
      await eventually(async () => /cluster_state:ok/.test(await p.cluster('INFO') as string), 'the lone primary serving', 15_000);
      for (let i = 0; i < KEYS; i += 1000) {
        const pipe = p.pipeline();
        for (let j = i; j < i + 1000; j++) pipe.set(`fs:${j}`, `old-${j}`);
        await pipe.exec();
      }
      // Overwrites of random keys, 200 a batch, from before the replica joins until after it is in sync.
      let writing = true;
      let seq = 0;
      const writer = (async () => {
        while (writing) {
          const pipe = p.pipeline();
          for (let n = 0; n < 200; n++) {
            const k = Math.floor(Math.random() * KEYS);
            const v = `new-${k}-${seq++}`;
            pipe.set(`fs:${k}`, v);
            last.set(k, v);
          }
          await pipe.exec();
        }
      })();
      const replica = await startMember(etcd2.endpoint, CL, { leaseTtlMs: 2000, args: ['--replicas', '1'] });
      nodes.push(replica);
      await eventually(async () => {
        const r = await runCli(['cluster', 'status', '--etcd', etcd2.endpoint, '--cluster', CL, '--json']);
        return (JSON.parse(r.stdout) as Status).nodes.some((n) => n.role === 'replica' && n.synced === true);
      }, 'the replica in sync', 30_000);
      await sleep(200);
      writing = false;
      await writer;
      assert.equal(await p.wait(1, 5000), 1, 'the replica confirmed every write');
      assert.ok(seq > 1000, `writes went on during the sync (${seq})`);
      const r = new Redis({ port: replica.port });
      try {
        await r.readonly();
        const wrong: string[] = [];
        for (let i = 0; i < KEYS; i += 1000) {
          const pipe = r.pipeline();
          for (let j = 0; j < 1000; j++) pipe.get(`fs:${i + j}`);
          const got = (await pipe.exec())!.map(([err, v]) => (err === null ? v : `error: ${err.message}`));
          got.forEach((v, j) => {
            const want = last.get(i + j) ?? `old-${i + j}`;
            if (v !== want) wrong.push(`fs:${i + j}: ${v} (want ${want})`);
          });
        }
        assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${KEYS} keys differ on the replica after ${seq} writes during its full sync`);
      } finally {
        r.disconnect();
      }
    } finally {
      p.disconnect();
    }
  });
});

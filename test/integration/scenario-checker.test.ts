/**
 * The scenario checker against real servers over real sockets: the workload
 * (ringcache's client, pipelined, concurrent) and the checker catch a server
 * that acknowledges writes it drops, and one that serves another key's value;
 * against a real ringcache node they find nothing. The lying server exists for
 * this test only: a loopback RESP server that answers +OK to every SET.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Checker } from '../../src/scenario/checker.js';
import { Recorder } from '../../src/scenario/metrics.js';
import { StaticCluster } from '../../src/scenario/static-cluster.js';
import { finalRead, preload, runWorkload, type WorkloadConfig, type WorkloadHost } from '../../src/scenario/workload.js';

type Lie = 'drop-every-5th-set' | 'serve-another-key';

/** Parses complete RESP arrays of bulk strings from buf; returns the commands and the bytes used. */
function parseCommands(buf: Buffer): { commands: string[][]; used: number } {
  const commands: string[][] = [];
  let pos = 0;
  for (;;) {
    if (buf[pos] !== 0x2a) break; // '*'
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) break;
    const n = Number(buf.toString('latin1', pos + 1, eol));
    let p = eol + 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const e = buf.indexOf('\r\n', p);
      if (e < 0) return { commands, used: pos };
      const len = Number(buf.toString('latin1', p + 1, e));
      if (buf.length < e + 2 + len + 2) return { commands, used: pos };
      args.push(buf.toString('latin1', e + 2, e + 2 + len));
      p = e + 2 + len + 2;
    }
    commands.push(args);
    pos = p;
  }
  return { commands, used: pos };
}

/** A loopback server that speaks just enough RESP for the client, and lies as told. */
async function lyingServer(lie: Lie): Promise<{ port: number; close(): Promise<void> }> {
  const data = new Map<string, string>();
  let sets = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const { commands, used } = parseCommands(pending);
      pending = pending.subarray(used);
      let out = '';
      for (const [name, ...args] of commands) {
        const cmd = name!.toUpperCase();
        if (cmd === 'CLUSTER') out += '-ERR This instance has cluster support disabled\r\n';
        else if (cmd === 'SET') {
          if (!(lie === 'drop-every-5th-set' && ++sets % 5 === 0)) data.set(args[0]!, args[1]!);
          out += '+OK\r\n';
        } else if (cmd === 'GET') {
          let v = data.get(args[0]!);
          if (lie === 'serve-another-key' && v !== undefined && data.size > 1 && Math.random() < 0.05) v = [...data.values()].find((x) => x !== v);
          out += v === undefined ? '$-1\r\n' : `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
        } else out += '+OK\r\n';
      }
      if (out !== '') socket.write(out);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

const config: WorkloadConfig = {
  clients: 4,
  pipeline: 4,
  readRatio: 0.5,
  keySpace: { keys: 300, distribution: 'uniform', zipfSkew: 1, hotFraction: 0.1, hotShare: 0.9 },
  valueSize: { min: 48, max: 96 },
  rate: null,
  durationMs: 1200,
  seed: 7,
  client: 'ringcache',
  commandTimeoutMs: 2000,
  checkSample: 1,
};

/** Preload, load, final read against a standalone address; the checker's result. */
async function checkAgainst(port: number) {
  const t0 = performance.now();
  const host: WorkloadHost = {
    target: { seeds: [`127.0.0.1:${port}`], clustered: false },
    checker: new Checker({ tag: 'lietst' }),
    recorder: new Recorder(),
    now: () => performance.now() - t0,
  };
  const sweep = { keys: config.keySpace.keys, valueSize: config.valueSize, client: config.client, commandTimeoutMs: 2000, inFlight: 32 };
  await preload(sweep, host);
  await runWorkload(config, host, 'load');
  const final = await finalRead(sweep, host);
  assert.equal(final.failed, 0);
  host.recorder.finish(host.now());
  const phase = host.recorder.phaseSummaries()[0]!;
  assert.ok(phase.ops > 500, `the workload ran (${phase.ops} ops)`);
  assert.equal(phase.errors, 0);
  return host.checker.analyze();
}

let node: StaticCluster;
before(async () => {
  node = new StaticCluster({ nodes: 1, standalone: true });
  await node.start();
});
after(() => node.stop());

test('a server that acknowledges SETs it drops: lost writes are found, and no wrong values', async () => {
  const server = await lyingServer('drop-every-5th-set');
  try {
    const r = await checkAgainst(server.port);
    assert.ok(r.lostWrites > 0, `lost writes ${r.lostWrites}`);
    assert.ok(r.lostKeysAtEnd > 0);
    assert.equal(r.wrongValues, 0);
    assert.ok(r.examples.some((e) => e.kind === 'lost-write'));
  } finally {
    await server.close();
  }
});

test("a server that now and then serves another key's value: wrong values are found", async () => {
  const server = await lyingServer('serve-another-key');
  try {
    const r = await checkAgainst(server.port);
    assert.ok(r.wrongValues > 0, `wrong values ${r.wrongValues}`);
  } finally {
    await server.close();
  }
});

test('a real ringcache node: no lost writes, no wrong values, no stale reads', async () => {
  const r = await checkAgainst(node.nodes()[0]!.port);
  assert.equal(r.lostWrites, 0, JSON.stringify(r.examples));
  assert.equal(r.wrongValues, 0);
  assert.equal(r.staleReads, 0);
  assert.ok(r.reads.checked > 300, `reads checked ${r.reads.checked}`);
  assert.equal(r.reads.final, config.keySpace.keys);
});

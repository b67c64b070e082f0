import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PubsubRegistry, type Subscriber } from '../../src/pubsub/registry.js';
import { ClientPubsub, frame, PubsubHub } from '../../src/pubsub/hub.js';
import type { Session } from '../../src/commands/context.js';

function sub(id: number): Subscriber {
  return { id, channels: new Set(), patterns: new Set(), shardChannels: new Set() };
}

test('registry: channels, patterns and shard channels, both directions', () => {
  const r = new PubsubRegistry<Subscriber>();
  const a = sub(1);
  const b = sub(2);
  assert.equal(r.add(a, 'channel', 'news'), true);
  assert.equal(r.add(a, 'channel', 'news'), false, 'a second subscribe to the same channel is not counted');
  r.add(b, 'channel', 'news');
  r.add(b, 'pattern', 'n*s');
  r.add(a, 'pattern', 'x?');
  r.add(a, 'shard', '{u}1');
  assert.deepEqual(r.receivers('news').map(([s, p]) => [s.id, p]), [[1, undefined], [2, undefined], [2, 'n*s']]);
  assert.deepEqual(r.receivers('xy').map(([s, p]) => [s.id, p]), [[1, 'x?']]);
  assert.deepEqual(r.receivers('nothing'), []);
  assert.deepEqual([...r.shardReceivers('{u}1')].map((s) => s.id), [1]);
  assert.equal(r.receivers('{u}1').length, 0, 'a shard channel is not a channel');
  assert.deepEqual(r.names('channel').sort(), ['news']);
  assert.deepEqual(r.names('channel', 'x*'), []);
  assert.deepEqual(r.names('shard', '{u}*'), ['{u}1']);
  assert.equal(r.count('channel', 'news'), 2);
  assert.equal(r.count('shard', '{u}1'), 1);
  assert.equal(r.patternCount, 2);
  assert.equal(r.remove(b, 'channel', 'news'), true);
  assert.equal(r.remove(b, 'channel', 'news'), false);
  assert.equal(r.count('channel', 'news'), 1);
  r.removeAll(a);
  assert.equal(a.channels.size + a.patterns.size + a.shardChannels.size, 0);
  assert.deepEqual(r.names('channel'), [], 'a channel nobody listens to is gone');
  assert.deepEqual(r.names('shard'), []);
  assert.equal(r.patternCount, 1);
});

test('registry: patterns use Redis glob rules, binary names', () => {
  const r = new PubsubRegistry<Subscriber>();
  const a = sub(1);
  for (const p of ['h[ae]llo', 'h\\*llo', '*', '\xff?']) r.add(a, 'pattern', p);
  const matched = (ch: string) => r.receivers(ch).map(([, p]) => p).sort();
  assert.deepEqual(matched('hello'), ['*', 'h[ae]llo']);
  assert.deepEqual(matched('h*llo'), ['*', 'h\\*llo']);
  assert.deepEqual(matched('\xff\x00'), ['*', '\xff?']);
  assert.deepEqual(matched(''), ['*']);
});

test('hub: one frame per protocol per publish, shared by every receiver', () => {
  const hub = new PubsubHub();
  const got: Array<[number, Buffer]> = [];
  const mk = (id: number, protocol: 2 | 3) => new ClientPubsub({ id, protocol } as unknown as Session, (f) => got.push([id, f]));
  const clients = [mk(1, 2), mk(2, 2), mk(3, 3), mk(4, 2)];
  for (const c of clients.slice(0, 3)) hub.add(c, 'channel', 'ch');
  hub.add(clients[3]!, 'pattern', 'c*');
  assert.equal(hub.publish(Buffer.from('ch'), Buffer.from('hi')), 4);
  assert.equal(got.length, 4);
  assert.equal(got[0]![1], got[1]![1], 'the same bytes for two RESP2 subscribers');
  assert.equal(got[0]![1].toString(), '*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n');
  assert.equal(got[2]![1].toString(), '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n');
  assert.equal(got[3]![1].toString(), '*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n');
  let fanned = 0;
  hub.fanout = () => fanned++;
  assert.equal(hub.publish(Buffer.from('other'), Buffer.from('x')), 0);
  assert.equal(fanned, 1, 'a cluster publish goes to the fan-out even with no local subscriber');
  assert.equal(hub.publishLocal(Buffer.from('ch'), Buffer.from('x')), 4);
  assert.equal(fanned, 1, 'a forwarded publish is not forwarded again');
});

test('hub: shard channels whose slot moved away get sunsubscribe', () => {
  const hub = new PubsubHub();
  const got: string[] = [];
  const c = new ClientPubsub({ id: 1, protocol: 3 } as unknown as Session, (f) => got.push(f.toString()));
  hub.add(c, 'shard', 'keep');
  hub.add(c, 'shard', 'gone');
  hub.dropShardChannels((name) => name === 'keep');
  assert.deepEqual(got, ['>3\r\n$12\r\nsunsubscribe\r\n$4\r\ngone\r\n:1\r\n']);
  assert.deepEqual([...c.shardChannels], ['keep']);
  assert.equal(hub.spublish(Buffer.from('gone'), Buffer.from('x')), 0);
  assert.equal(hub.spublish(Buffer.from('keep'), Buffer.from('x')), 1);
});

test('frame: RESP2 and RESP3 null and count', () => {
  assert.equal(frame(2, ['unsubscribe', null], 0).toString(), '*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n');
  assert.equal(frame(3, ['unsubscribe', null], 0).toString(), '>3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n');
});

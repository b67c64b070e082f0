/**
 * Proxy mode's failure replies: a forwarded write that may have run on its
 * owner is INDOUBT, never a retryable error (issue 20, finding 1). PeerLink
 * against real sockets on loopback: a peer that takes the request and never
 * answers, and a port where nothing listens.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { forwardError, PeerError, PeerLink } from '../../src/cluster/peer-link.js';
import { combineReplies } from '../../src/cluster/split.js';
import { encodeRequest } from '../../src/protocol/request-encoder.js';

const b = (s: string) => Buffer.from(s);

test('combineReplies: a write that failed on some nodes only is INDOUBT; one that ran nowhere keeps its error; reads keep theirs', () => {
  const ok = { keys: [1], reply: b('+OK\r\n') };
  const tryAgain = { keys: [3], reply: b('-TRYAGAIN no reply\r\n') };
  const doubt = { keys: [5], reply: b('-INDOUBT no reply: may have run\r\n') };
  assert.match(combineReplies('mset', [ok, tryAgain]).toString(), /^-INDOUBT MSET ran on some of its keys' nodes only \(1 of 2 parts\); another answered: TRYAGAIN no reply\r\n$/);
  assert.equal(combineReplies('mset', [tryAgain, { keys: [1], reply: b('-CLUSTERDOWN down\r\n') }]).toString(), '-TRYAGAIN no reply\r\n');
  assert.equal(combineReplies('del', [tryAgain, doubt]).toString(), '-INDOUBT no reply: may have run\r\n');
  assert.match(combineReplies('del', [{ keys: [1], reply: b(':1\r\n') }, doubt]).toString(), /^-INDOUBT DEL ran on some/);
  assert.equal(combineReplies('mget', [{ keys: [1], reply: b('*1\r\n$1\r\nx\r\n') }, tryAgain]).toString(), '-TRYAGAIN no reply\r\n');
  assert.equal(combineReplies('exists', [{ keys: [1], reply: b(':1\r\n') }, { keys: [2], reply: b(':1\r\n') }]).toString(), ':2\r\n');
});

test('forwardError: only a write whose request may have reached its owner becomes INDOUBT', () => {
  const sent = new PeerError('TRYAGAIN no reply from 127.0.0.1:1 within 2000 ms', true);
  const unsent = new PeerError('CLUSTERDOWN the node 127.0.0.1:1 that owns this slot is unreachable');
  assert.equal(forwardError(sent, true).message, 'INDOUBT no reply from 127.0.0.1:1 within 2000 ms: the command was sent and may have run there (check before retrying)');
  assert.equal(forwardError(sent, false), sent);
  assert.equal(forwardError(unsent, true), unsent);
});

test('PeerLink: a request a silent peer received fails in doubt; a request to a port where nothing listens does not', async () => {
  const received: Buffer[] = [];
  const silent = net.createServer((s) => s.on('data', (d) => received.push(d)));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const link = new PeerLink({ host: '127.0.0.1', port, protocol: 2, password: '', timeoutMs: 300 });
    const err = await link.send(encodeRequest(['SET', 'k', 'v'])).then(() => assert.fail('a silent peer answered'), (e: unknown) => e);
    assert.ok(err instanceof PeerError && err.inDoubt, `a timed-out request the peer got is in doubt: ${String(err)}`);
    assert.match(Buffer.concat(received).toString(), /SET/, 'the peer did receive it');
    link.close();
  } finally {
    silent.close();
  }
  // The same port, now closed: refused before anything was delivered.
  const link = new PeerLink({ host: '127.0.0.1', port, protocol: 2, password: '', timeoutMs: 300 });
  const err = await link.send(encodeRequest(['SET', 'k', 'v'])).then(() => assert.fail('a closed port answered'), (e: unknown) => e);
  assert.ok(err instanceof PeerError && !err.inDoubt, `a refused connection delivered nothing: ${String(err)}`);
  link.close();
});

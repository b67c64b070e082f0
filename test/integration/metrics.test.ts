/**
 * The admin port's /metrics and INFO commandstats, on a real node process,
 * driven by a real client (ioredis): the counts must be what was sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRingcache, type Running } from '../helpers/processes.js';

/** Prometheus text format to samples: `name{labels} value` lines, labels as one string. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(m, `a line that is not a Prometheus sample: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('metrics endpoint (--admin-port) and INFO commandstats', () => {
  let node: Running;
  let url = '';
  let client: Redis;
  const auth = { Authorization: `Basic ${Buffer.from('any:pw-7').toString('base64')}` };

  before(async () => {
    node = await startRingcache(['--admin-port', '0', '--requirepass', 'pw-7']);
    url = /metrics: (http:\S+)/.exec(node.output())![1]!;
    client = new Redis({ port: node.port, host: '127.0.0.1', password: 'pw-7', lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
  });
  after(async () => {
    client?.disconnect();
    if (node) assert.equal(await node.stop(), 0, node.output());
  });

  test('calls, failed and rejected calls by command, a latency histogram whose count is the calls, and the node\'s own figures', async () => {
    for (let i = 0; i < 25; i++) await client.set(`m:${i}`, 'v');
    for (let i = 0; i < 40; i++) await client.get(`m:${i}`); // 25 hits, 15 misses
    await client.lpush('m:list', 'x');
    await assert.rejects(client.get('m:list'), /WRONGTYPE/); // ran and failed
    await assert.rejects(client.call('get'), /wrong number of arguments/); // rejected before running
    const res = await fetch(url, { headers: auth });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const m = parse(await res.text());
    assert.equal(m.get('ringcache_commands_total{command="set"}'), 25);
    assert.equal(m.get('ringcache_commands_total{command="get"}'), 41);
    assert.equal(m.get('ringcache_command_errors_total{command="get",kind="failed"}'), 1);
    assert.equal(m.get('ringcache_command_errors_total{command="get",kind="rejected"}'), 1);
    assert.equal(m.get('ringcache_command_errors_total{command="set",kind="failed"}'), 0);
    assert.equal(m.get('ringcache_command_duration_seconds_count{command="get"}'), 41);
    assert.equal(m.get('ringcache_command_duration_seconds_bucket{command="get",le="+Inf"}'), 41);
    // Cumulative buckets never decrease.
    const buckets = [...m].filter(([k]) => k.startsWith('ringcache_command_duration_seconds_bucket{command="get"')).map(([, v]) => v);
    assert.ok(buckets.length > 10 && buckets.every((v, i) => i === 0 || v >= buckets[i - 1]!), `buckets: ${buckets.join(' ')}`);
    assert.ok(m.get('ringcache_command_duration_seconds_sum{command="get"}')! > 0);
    assert.equal(m.get('ringcache_keyspace_hits_total'), 26, '25 and the GET of the list: found, then WRONGTYPE (a hit in Redis too)');
    assert.equal(m.get('ringcache_keyspace_misses_total'), 15);
    assert.equal(m.get('ringcache_keys'), 26);
    assert.ok(m.get('ringcache_used_memory_bytes')! > 0);
    assert.ok(m.get('ringcache_connected_clients')! >= 1);
    assert.ok(m.get('ringcache_process_resident_memory_bytes')! > 0, 'prom-client\'s process metrics are there');

    const stats = await client.info('commandstats');
    assert.match(stats, /^# Commandstats\r\n/);
    assert.match(stats, /\r\ncmdstat_get:calls=41,usec=\d+,usec_per_call=[\d.]+,rejected_calls=1,failed_calls=1\r\n/);
    assert.match(stats, /cmdstat_set:calls=25,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\r\n/);
    assert.doesNotMatch(await client.info(), /Commandstats/, 'not in the default sections, as Redis');
    await client.config('RESETSTAT');
    assert.doesNotMatch(await client.info('commandstats'), /cmdstat_get/, 'CONFIG RESETSTAT clears them');
  });

  test('the password is needed (HTTP basic auth); only /metrics is served', async () => {
    assert.equal((await fetch(url)).status, 401);
    const wrong = { Authorization: `Basic ${Buffer.from('any:nope').toString('base64')}` };
    assert.equal((await fetch(url, { headers: wrong })).status, 401);
    assert.equal((await fetch(url.replace('/metrics', '/other'), { headers: auth })).status, 404);
    assert.equal((await fetch(url, { method: 'POST', headers: auth })).status, 405);
  });
});

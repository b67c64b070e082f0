/**
 * Eviction policies compared in process, at the same memory limit, on the
 * traces of bench/lib/traces.ts: the engine alone, no sockets, so a policy
 * change can be judged in seconds (bench:hitratio is the over-the-wire,
 * side-by-side-with-Redis version). Miss ratios after a 25% warm-up.
 *
 *   npm run bench:policies [-- --requests 1000000 --policies allkeys-s3fifo,allkeys-lru]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SlabKeyspace } from '../src/store/slab-keyspace.js';
import { EVICTION_POLICIES, NO_EXPIRY, type EvictionPolicy } from '../src/store/keyspace.js';
import { keyName, makeTrace, TRACE_NAMES, type TraceName } from './lib/traces.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    'key-space': { type: 'string', default: '1000000' },
    'cache-keys': { type: 'string', default: '100000' },
    policies: { type: 'string', default: 'allkeys-s3fifo,allkeys-lru,allkeys-lfu' },
    traces: { type: 'string', default: TRACE_NAMES.join(',') },
  },
});
const requests = Number(values.requests);
const keySpace = Number(values['key-space']);
const cacheKeys = Number(values['cache-keys']);
const policies = values.policies.split(',') as EvictionPolicy[];
const traces = values.traces.split(',') as TraceName[];
for (const p of policies) if (!EVICTION_POLICIES.includes(p)) throw new Error(`unknown policy ${p}`);
for (const t of traces) if (!TRACE_NAMES.includes(t)) throw new Error(`unknown trace ${t}`);

const value = Buffer.alloc(64, 1);
// The limit: what the engine uses for exactly cacheKeys keys.
const probe = new SlabKeyspace();
for (let i = 0; i < cacheKeys; i++) probe.set(keyName(i), value, NO_EXPIRY);
const limit = probe.usedMemory;

function seeded(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const results: Array<{ trace: string; policy: string; missRatio: number; keysHeld: number }> = [];
console.log(`maxmemory ${limit} B (${cacheKeys} keys of 64 B), ${requests} requests over ${keySpace} keys, first 25% not counted`);
for (const trace of traces) {
  const cells: string[] = [];
  for (const policy of policies) {
    const ks = new SlabKeyspace(undefined, seeded(9));
    let misses = 0;
    let counted = 0;
    let n = 0;
    for (const id of makeTrace(trace, { requests, keySpace, cacheKeys, seed: 1 }).keys()) {
      const key = keyName(id);
      const hit = ks.get(key) !== undefined;
      if (!hit) {
        ks.set(key, value, NO_EXPIRY);
        ks.evict(limit, policy);
      }
      if (n++ % 5000 === 0) ks.maintain(1); // the node's background cycle, roughly
      if (n > requests / 4) {
        counted++;
        if (!hit) misses++;
      }
    }
    results.push({ trace, policy, missRatio: misses / counted, keysHeld: ks.size });
    cells.push(`${policy} ${((100 * misses) / counted).toFixed(2)}% (${(ks.size / 1000).toFixed(1)}k)`);
  }
  console.log(trace.padEnd(16), cells.join('  '));
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/policy-sim-latest.json', JSON.stringify({ when: new Date().toISOString(), requests, keySpace, cacheKeys, limit, results }, null, 2) + '\n');
console.log('wrote bench/results/policy-sim-latest.json');

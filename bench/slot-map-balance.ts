/**
 * Balance and movement of the slot map for 3 to 64 nodes (a report, not a test):
 * max/mean slots per node, and the fraction of slots that change owner when one
 * node joins or leaves, as a multiple of the ideal 1/N. Several random member
 * sets per size; the worst and the median are reported. Pure computation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { assignSlots, SLOT_COUNT, type Member } from '../src/cluster/slot-map.js';

const SIZES = [3, 4, 5, 6, 8, 12, 16, 24, 32, 40, 48, 56, 64];
const TRIALS = Number(process.env.TRIALS ?? 8);

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

function membersOf(n: number, rand: () => number): Member[] {
  const ids = new Set<string>();
  while (ids.size < n) ids.add(`10.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}:${1024 + Math.floor(rand() * 60000)}`);
  return [...ids].map((id) => ({ id }));
}

function movedFraction(a: ReturnType<typeof assignSlots>, b: ReturnType<typeof assignSlots>): number {
  let n = 0;
  for (let s = 0; s < SLOT_COUNT; s++) if (a.members[a.owners[s]!]!.id !== b.members[b.owners[s]!]!.id) n++;
  return n / SLOT_COUNT;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows = SIZES.map((n) => {
  const rand = lcg(n * 7919);
  const balance: number[] = [];
  const join: number[] = [];
  const leave: number[] = [];
  let ms = 0;
  for (let t = 0; t < TRIALS; t++) {
    const set = membersOf(n + 1, rand);
    const started = performance.now();
    const base = assignSlots(set.slice(0, n));
    ms += performance.now() - started;
    const counts = new Array<number>(n).fill(0);
    for (const o of base.owners) counts[o]!++;
    balance.push(Math.max(...counts) / (SLOT_COUNT / n));
    join.push(movedFraction(base, assignSlots(set)) * (n + 1));
    leave.push(movedFraction(base, assignSlots(set.slice(1, n))) * n);
  }
  return { nodes: n, maxOverMean: { worst: Math.max(...balance), median: median(balance) }, joinVsIdeal: { worst: Math.max(...join), median: median(join) }, leaveVsIdeal: { worst: Math.max(...leave), median: median(leave) }, assignMs: ms / TRIALS };
});

console.log(`slot map: ${TRIALS} random member sets per size; targets max/mean <= 1.05, movement <= 1.10x ideal`);
console.log('nodes  max/mean (worst, median)   join/ideal (worst, median)   leave/ideal (worst, median)   ms to compute');
for (const r of rows) {
  const f = (x: { worst: number; median: number }, limit: number) => `${x.worst.toFixed(3)}${x.worst > limit ? '!' : ' '} ${x.median.toFixed(3)}`;
  console.log(`${String(r.nodes).padStart(5)}  ${f(r.maxOverMean, 1.05).padEnd(26)} ${f(r.joinVsIdeal, 1.1).padEnd(28)} ${f(r.leaveVsIdeal, 1.1).padEnd(29)} ${r.assignMs.toFixed(1)}`);
}
console.log("('!' marks a worst case above its target)");
const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, 'slot-map-balance-latest.json');
fs.writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), trials: TRIALS, rows }, null, 2));
console.log(`wrote ${path.relative(process.cwd(), file)}`);

/**
 * The slot planner (src/cluster/planner.ts) for 3 to 64 nodes (a report, not a
 * test; pure computation). For several seeded random member sets (40-hex ids)
 * per size, each map is built the way a cluster grows: a fresh 3-node map, then
 * single joins. At each size it measures:
 * - balance: max/mean slots per unit of weight, equal weights and weights 1..4;
 * - movement: slots moved by one more join (ideal: the newcomer's quota) and by
 *   one leave of a random member (ideal: the leaver's slots), as x ideal;
 * - contiguity: the RESP2 size of the CLUSTER SLOTS reply and its range count,
 *   for the fresh map of that size and along the 3 -> 64 join path; then along
 *   64 -> 32 by single leaves and after a run of random joins and leaves;
 * - the time planSlots takes.
 * Prints a table and the targets met / not met, and writes
 * bench/results/slot-map-balance-latest.json and .svg (bytes along the paths).
 */
import fs from 'node:fs';
import path from 'node:path';
import { movedSlots, ownerRanges, planSlots, SLOT_COUNT, type PlanMember, type SlotOwners } from '../src/cluster/planner.js';
import { writeBarChartSvg, type BarGroup } from './lib/svg-chart.js';

const SIZES = [3, 4, 5, 8, 16, 32, 48, 64];
const MAX_NODES = 64;
const TRIALS = Number(process.env.TRIALS ?? 8);
const RANDOM_STEPS = 300;
const TARGET = { balance: 1.02, movement: 1.05, fresh3Bytes: 2048, joined64Bytes: 256 * 1024, planMs: 50 };

/** mulberry32: a small seeded PRNG in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hexId(rand: () => number): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += Math.floor(rand() * 4294967296).toString(16).padStart(8, '0');
  return s;
}

const digits = (v: number) => String(v).length;

/**
 * RESP2 bytes of CLUSTER SLOTS, one primary per range:
 * *3 :start :end *3 $9 127.0.0.1 :port(5 digits) $40 <40-hex id>, plus the outer *n.
 */
function clusterSlotsBytes(map: SlotOwners): { bytes: number; ranges: number } {
  const ranges = ownerRanges(map.owners).filter((r) => r.owner >= 0);
  let bytes = 3 + digits(ranges.length);
  for (const r of ranges) bytes += 4 + (3 + digits(r.start)) + (3 + digits(r.end)) + 4 + 4 + 11 + 8 + 5 + 42;
  return { bytes, ranges: ranges.length };
}

function maxOverMean(map: SlotOwners, members: readonly PlanMember[]): number {
  const weight = new Map(members.map((m) => [m.id, m.weight]));
  const counts = new Array<number>(map.ids.length).fill(0);
  for (const o of map.owners) counts[o]!++;
  const total = members.reduce((a, m) => a + m.weight, 0);
  return Math.max(...counts.map((c, i) => c / weight.get(map.ids[i]!)!)) / (SLOT_COUNT / total);
}

const slotsOf = (map: SlotOwners, id: string) => {
  const i = map.ids.indexOf(id);
  let c = 0;
  for (const o of map.owners) if (o === i) c++;
  return c;
};

let worstMs = 0;
function plan(current: SlotOwners | undefined, members: readonly PlanMember[]): SlotOwners {
  const started = performance.now();
  const map = planSlots(current, members);
  const ms = performance.now() - started;
  if (members.length >= MAX_NODES) worstMs = Math.max(worstMs, ms);
  return map;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stat = (xs: number[]) => ({ worst: Math.max(...xs), median: median(xs) });

interface Sample {
  balance: number;
  balanceMixed: number;
  join: number;
  joinMixed: number;
  leave: number;
  leaveMixed: number;
  bytes: number;
  ranges: number;
  freshBytes: number;
  ms: number;
}

const samples = new Map<number, Sample[]>(SIZES.map((n) => [n, []]));
const joinPathBytes: number[][] = Array.from({ length: MAX_NODES + 1 }, () => []);
const leavePathBytes: number[][] = Array.from({ length: MAX_NODES + 1 }, () => []);
const randomMix: { bytes: number; ranges: number; nodes: number; maxBytes: number; worstJoin: number; worstLeave: number }[] = [];

/** One member set grown by single joins to MAX_NODES + 1, measuring at each size in SIZES. */
function growPath(seed: number, mixed: boolean) {
  const rand = prng(seed);
  const pool = Array.from({ length: MAX_NODES + 1 }, () => ({ id: hexId(rand), weight: mixed ? 1 + Math.floor(rand() * 4) : 1 }));
  let members = pool.slice(0, 3);
  let map = plan(undefined, members);
  const out = new Map<number, { map: SlotOwners; members: PlanMember[]; balance: number; join: number; leave: number; ms: number }>();
  for (let n = 3; n <= MAX_NODES; n++) {
    if (!mixed) joinPathBytes[n]!.push(clusterSlotsBytes(map).bytes);
    const nextMembers = [...members, pool[n]!];
    const started = performance.now();
    const next = plan(map, nextMembers);
    const ms = performance.now() - started;
    if (SIZES.includes(n)) {
      const joined = movedSlots(map, next) / slotsOf(next, pool[n]!.id);
      const leaver = members[Math.floor(rand() * members.length)]!;
      const left = plan(map, members.filter((m) => m !== leaver));
      const leave = movedSlots(map, left) / slotsOf(map, leaver.id);
      out.set(n, { map, members, balance: maxOverMean(map, members), join: joined, leave, ms });
    }
    map = next;
    members = nextMembers;
  }
  return { out, map, members, rand };
}

for (let t = 0; t < TRIALS; t++) {
  const equal = growPath(1000 + t, false);
  const mixed = growPath(2000 + t, true);
  for (const n of SIZES) {
    const e = equal.out.get(n)!;
    const m = mixed.out.get(n)!;
    const fresh = plan(undefined, e.members);
    samples.get(n)!.push({
      balance: Math.max(e.balance, maxOverMean(fresh, e.members)),
      balanceMixed: m.balance,
      join: e.join,
      joinMixed: m.join,
      leave: e.leave,
      leaveMixed: m.leave,
      ...clusterSlotsBytes(e.map),
      freshBytes: clusterSlotsBytes(fresh).bytes,
      ms: e.ms,
    });
  }

  // 64 -> 32 by single leaves of random members (from the 64-node join-path map).
  const rand = equal.rand;
  let members = equal.members.slice(0, MAX_NODES);
  let map = plan(equal.map, members);
  leavePathBytes[members.length]!.push(clusterSlotsBytes(map).bytes);
  while (members.length > 32) {
    const leaver = members[Math.floor(rand() * members.length)]!;
    members = members.filter((m) => m !== leaver);
    map = plan(map, members);
    leavePathBytes[members.length]!.push(clusterSlotsBytes(map).bytes);
  }

  // Random joins and leaves (3..64 nodes, mixed weights 1..4), from the 32-node map.
  let maxBytes = 0;
  let worstJoin = 0;
  let worstLeave = 0;
  for (let step = 0; step < RANDOM_STEPS; step++) {
    const join = members.length <= 3 || (members.length < MAX_NODES && rand() < 0.5);
    let next: SlotOwners;
    if (join) {
      const m = { id: hexId(rand), weight: 1 + Math.floor(rand() * 4) };
      members = [...members, m];
      next = plan(map, members);
      worstJoin = Math.max(worstJoin, movedSlots(map, next) / slotsOf(next, m.id));
    } else {
      const leaver = members[Math.floor(rand() * members.length)]!;
      members = members.filter((m) => m !== leaver);
      next = plan(map, members);
      worstLeave = Math.max(worstLeave, movedSlots(map, next) / slotsOf(map, leaver.id));
    }
    map = next;
    maxBytes = Math.max(maxBytes, clusterSlotsBytes(map).bytes);
  }
  randomMix.push({ ...clusterSlotsBytes(map), nodes: members.length, maxBytes, worstJoin, worstLeave });
}

const rows = SIZES.map((n) => {
  const s = samples.get(n)!;
  const pick = (k: keyof Sample) => stat(s.map((x) => x[k]));
  return {
    nodes: n,
    maxOverMean: pick('balance'),
    maxOverMeanMixedWeights: pick('balanceMixed'),
    joinVsIdeal: pick('join'),
    leaveVsIdeal: pick('leave'),
    joinVsIdealMixedWeights: pick('joinMixed'),
    leaveVsIdealMixedWeights: pick('leaveMixed'),
    clusterSlotsBytesFresh: pick('freshBytes'),
    clusterSlotsBytesJoinPath: pick('bytes'),
    rangesJoinPath: pick('ranges'),
    planMs: pick('ms'),
  };
});
const joinPath = joinPathBytes.map((xs, n) => (xs.length ? { nodes: n, ...stat(xs), best: Math.min(...xs) } : null)).filter((x) => x !== null);
const leavePath = leavePathBytes.map((xs, n) => (xs.length ? { nodes: n, ...stat(xs), best: Math.min(...xs) } : null)).filter((x) => x !== null);

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const f = (x: { worst: number; median: number }, limit: number, d = 3) => `${x.worst.toFixed(d)}${x.worst > limit ? '!' : ' '} ${x.median.toFixed(d)}`;
console.log(`slot planner: ${TRIALS} seeded member sets per size, maps built by single joins from 3 nodes; worst and median`);
const header = ['nodes', 'max/mean', 'max/mean w1..4', 'join/ideal', 'leave/ideal', 'join w1..4', 'leave w1..4', 'SLOTS fresh', 'SLOTS joins', 'ranges', 'ms'];
const widths = [5, 14, 14, 14, 14, 14, 14, 11, 19, 11, 9];
console.log(header.map((h, i) => h.padEnd(widths[i]!)).join(' '));
for (const r of rows) {
  const cells = [
    String(r.nodes),
    f(r.maxOverMean, TARGET.balance),
    f(r.maxOverMeanMixedWeights, TARGET.balance),
    f(r.joinVsIdeal, TARGET.movement),
    f(r.leaveVsIdeal, TARGET.movement),
    f(r.joinVsIdealMixedWeights, TARGET.movement),
    f(r.leaveVsIdealMixedWeights, TARGET.movement),
    kb(r.clusterSlotsBytesFresh.worst),
    `${kb(r.clusterSlotsBytesJoinPath.worst)} ${kb(r.clusterSlotsBytesJoinPath.median)}`,
    `${r.rangesJoinPath.worst} ${r.rangesJoinPath.median}`,
    `${r.planMs.worst.toFixed(1)} ${r.planMs.median.toFixed(1)}`,
  ];
  console.log(cells.map((c, i) => c.padEnd(widths[i]!)).join(' '));
}
console.log("('!' marks a worst case above its target; SLOTS = CLUSTER SLOTS reply size, fresh map and along the join path)");
const at = (xs: typeof joinPath, n: number) => xs.find((x) => x.nodes === n)!;
console.log(`CLUSTER SLOTS along 3 -> 64 by single joins, at 64: worst ${kb(at(joinPath, 64).worst)}, median ${kb(at(joinPath, 64).median)}`);
console.log(`CLUSTER SLOTS along 64 -> 32 by single leaves, at 32: worst ${kb(at(leavePath, 32).worst)}, median ${kb(at(leavePath, 32).median)}; largest on the way ${kb(Math.max(...leavePath.map((x) => x.worst)))}`);
const mixBytes = stat(randomMix.map((x) => x.bytes));
console.log(
  `after ${RANDOM_STEPS} random joins/leaves (3..64 nodes, weights 1..4): CLUSTER SLOTS worst ${kb(mixBytes.worst)}, median ${kb(mixBytes.median)} ` +
    `(${randomMix.map((x) => x.nodes).join(', ')} nodes); largest on the way ${kb(Math.max(...randomMix.map((x) => x.maxBytes)))}; ` +
    `movement worst join ${Math.max(...randomMix.map((x) => x.worstJoin)).toFixed(3)}x, leave ${Math.max(...randomMix.map((x) => x.worstLeave)).toFixed(3)}x ideal`,
);

const worstOf = (k: 'maxOverMean' | 'maxOverMeanMixedWeights' | 'joinVsIdeal' | 'leaveVsIdeal' | 'joinVsIdealMixedWeights' | 'leaveVsIdealMixedWeights') =>
  Math.max(...rows.map((r) => r[k].worst));
const targets = [
  { name: `balance max/mean <= ${TARGET.balance} (3 to 64 nodes, equal and 1..4 weights)`, value: Math.max(worstOf('maxOverMean'), worstOf('maxOverMeanMixedWeights')), limit: TARGET.balance, fmt: (v: number) => v.toFixed(4) },
  {
    name: `join/leave movement <= ${TARGET.movement}x ideal (worst, equal and 1..4 weights)`,
    value: Math.max(worstOf('joinVsIdeal'), worstOf('leaveVsIdeal'), worstOf('joinVsIdealMixedWeights'), worstOf('leaveVsIdealMixedWeights')),
    limit: TARGET.movement,
    fmt: (v: number) => `${v.toFixed(4)}x`,
  },
  { name: 'CLUSTER SLOTS < 2 KB, fresh 3 nodes', value: rows[0]!.clusterSlotsBytesFresh.worst, limit: TARGET.fresh3Bytes - 1, fmt: kb },
  { name: 'CLUSTER SLOTS < 256 KB, 64 nodes by single joins from 3 (worst)', value: at(joinPath, 64).worst, limit: TARGET.joined64Bytes - 1, fmt: kb },
  { name: `planSlots for 64 nodes well under ${TARGET.planMs} ms (slowest call)`, value: worstMs, limit: TARGET.planMs, fmt: (v: number) => `${v.toFixed(1)} ms` },
];
for (const t of targets) console.log(`target ${t.value <= t.limit ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.fmt(t.value)}`);

const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, 'slot-map-balance-latest.json');
fs.writeFileSync(
  file,
  JSON.stringify(
    {
      when: new Date().toISOString(),
      planner: 'src/cluster/planner.ts',
      trials: TRIALS,
      targets: targets.map((t) => ({ name: t.name, value: t.value, met: t.value <= t.limit })),
      rows,
      clusterSlotsBytes: { joinPath, leavePath, randomMix: { steps: RANDOM_STEPS, runs: randomMix } },
      worstPlanMs64: worstMs,
    },
    null,
    2,
  ),
);
console.log(`wrote ${path.relative(process.cwd(), file)}`);

const group = (x: { nodes: number; median: number; best: number; worst: number }): BarGroup => ({
  label: String(x.nodes),
  values: [x.median],
  ranges: [[x.best, x.worst]],
});
const svgFile = path.join(dir, 'slot-map-balance-latest.svg');
await writeBarChartSvg(svgFile, {
  title: 'CLUSTER SLOTS reply size, slot planner',
  subtitle: `RESP2 bytes by node count · median of ${TRIALS} seeded member sets, whiskers min to max · target under 256 KB at 64 nodes reached by single joins`,
  yAxisLabel: 'bytes',
  series: [{ name: 'CLUSTER SLOTS bytes', color: '#2563eb' }],
  markerLegend: 'ideal: one range per node',
  panels: [
    {
      title: '3 -> 64 nodes by single joins',
      groups: joinPath.filter((x) => x.nodes === 3 || x.nodes % 4 === 0).map((x) => ({ ...group(x), marker: { value: clusterSlotsBytesOfRanges(x.nodes) } })),
    },
    {
      title: '64 -> 32 nodes by single leaves',
      note: 'random leavers, from the 64-node maps above',
      groups: leavePath.filter((x) => x.nodes % 4 === 0).reverse().map((x) => ({ ...group(x), marker: { value: clusterSlotsBytesOfRanges(x.nodes) } })),
    },
  ],
  footnote: `per range: *3 :start :end *3 $9 127.0.0.1 :port $40 <40-hex id> · bench/slot-map-balance.ts`,
});
console.log(`wrote ${path.relative(process.cwd(), svgFile)}`);

/** Size of a reply with one range per node (the fresh map's lower bound, roughly). */
function clusterSlotsBytesOfRanges(n: number): number {
  return 3 + digits(n) + n * (4 + 8 + 8 + 4 + 4 + 11 + 8 + 5 + 42);
}

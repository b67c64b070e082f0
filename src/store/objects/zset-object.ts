/**
 * A sorted set: member to score in Slots (O(1) lookups, stable scan cursors,
 * random picks), and a skiplist ordered by (score, member) for ranges and
 * ranks, as Redis's skiplist encoding (its small listpack encoding orders
 * the same way).
 */
import { CONTAINER_BASE_BYTES, ZSET_LISTPACK_MAX_ENTRIES, LISTPACK_MAX_VALUE, MAP_ENTRY_BYTES, stringBytes, type StoredObject } from './common.js';
import { SkipList, type ZNode } from './skiplist.js';
import { Slots } from './slots.js';

/** A skiplist node (object, two arrays of 1.33 levels on average), its score's heap number, and two Slots array slots. */
const NODE_BYTES = 144;

export class ZSetObject implements StoredObject {
  readonly type = 'zset';
  readonly scores = new Slots<number>();
  readonly list: SkipList;
  bytes = CONTAINER_BASE_BYTES * 2;
  accounted = 0;
  /** Redis would hold it as a skiplist: it once had more than 128 members or one over 64 bytes (never converted back). */
  private skiplist = false;

  constructor(random: () => number = Math.random) {
    this.list = new SkipList(random);
  }

  get size(): number {
    return this.scores.size;
  }

  encoding(): string {
    return this.skiplist ? 'skiplist' : 'listpack';
  }

  score(member: string): number | undefined {
    return this.scores.get(member);
  }

  /** Adds a member or moves it to a new score; true if it is new. */
  set(member: string, score: number): boolean {
    // Redis stores -0 as 0 (its listpack keeps scores as text, and reads "-0" back as the integer 0).
    if (score === 0) score = 0;
    const old = this.scores.get(member);
    if (old !== undefined) {
      if (old === score) return false;
      this.list.delete(old, member);
      this.list.insert(score, member);
      this.scores.set(member, score);
      return false;
    }
    if (member.length > LISTPACK_MAX_VALUE) this.skiplist = true;
    this.scores.set(member, score);
    this.list.insert(score, member);
    if (this.scores.size > ZSET_LISTPACK_MAX_ENTRIES) this.skiplist = true;
    this.bytes += MAP_ENTRY_BYTES + NODE_BYTES + stringBytes(member);
    return true;
  }

  delete(member: string): boolean {
    const score = this.scores.get(member);
    if (score === undefined) return false;
    this.scores.delete(member);
    this.list.delete(score, member);
    this.bytes -= MAP_ENTRY_BYTES + NODE_BYTES + stringBytes(member);
    return true;
  }

  /** 0-based rank from the lowest (or, rev, the highest) score; undefined if not a member. */
  rank(member: string, rev: boolean): number | undefined {
    const score = this.scores.get(member);
    if (score === undefined) return undefined;
    const r = this.list.rank(score, member) - 1;
    return rev ? this.scores.size - 1 - r : r;
  }

  /** The node at a 0-based rank from the lowest score. */
  at(rank: number): ZNode | null {
    return this.list.byRank(rank + 1);
  }

  clone(): ZSetObject {
    const c = new ZSetObject();
    for (let n = this.list.first; n !== null; n = n.next[0]!) c.set(n.member, n.score);
    c.skiplist = this.skiplist;
    return c;
  }
}

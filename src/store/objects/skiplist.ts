/**
 * Redis's sorted-set skiplist (t_zset.c): nodes ordered by (score, member),
 * each level's links carrying spans, so that rank lookups are O(log n) too.
 * Members compare as bytes (binary strings compare by char code, which here
 * is the byte).
 */

const MAX_LEVEL = 32;
/** Probability of each further level, as Redis's ZSKIPLIST_P. */
const P = 0.25;

export class ZNode {
  readonly next: Array<ZNode | null>;
  readonly span: number[];
  prev: ZNode | null = null;
  constructor(
    readonly member: string,
    public score: number,
    level: number,
  ) {
    this.next = new Array<ZNode | null>(level).fill(null);
    this.span = new Array<number>(level).fill(0);
  }
}

/** A score interval; exclusive ends when minex/maxex. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** A member interval for the BYLEX forms: '-' and '+' are the infinities, as in Redis. */
export interface LexRange {
  min: string;
  max: string;
  minex: boolean;
  maxex: boolean;
  /** min is '-' (below everything) or '+' (above everything). */
  minInf: -1 | 0 | 1;
  maxInf: -1 | 0 | 1;
}

const before = (s: number, m: string, score: number, member: string): boolean => s < score || (s === score && m < member);

export function gteMin(v: number, r: ScoreRange): boolean {
  return r.minex ? v > r.min : v >= r.min;
}
export function lteMax(v: number, r: ScoreRange): boolean {
  return r.maxex ? v < r.max : v <= r.max;
}
export function lexGteMin(m: string, r: LexRange): boolean {
  if (r.minInf !== 0) return r.minInf < 0;
  return r.minex ? m > r.min : m >= r.min;
}
export function lexLteMax(m: string, r: LexRange): boolean {
  if (r.maxInf !== 0) return r.maxInf > 0;
  return r.maxex ? m < r.max : m <= r.max;
}

/** Whether a score range can hold anything at all (min <= max, not an empty open point). */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

export function lexRangeEmpty(r: LexRange): boolean {
  // Redis's zslLexValueCmp: the infinities compare below/above any string and equal to themselves.
  let cmp: number;
  if (r.minInf !== 0 || r.maxInf !== 0) cmp = r.minInf === r.maxInf && r.minInf !== 0 ? 0 : r.minInf < 0 || r.maxInf > 0 ? -1 : 1;
  else cmp = r.min < r.max ? -1 : r.min > r.max ? 1 : 0;
  return cmp > 0 || (cmp === 0 && (r.minex || r.maxex));
}

export class SkipList {
  private readonly head = new ZNode('', -Infinity, MAX_LEVEL);
  tail: ZNode | null = null;
  length = 0;
  private level = 1;
  private readonly update = new Array<ZNode>(MAX_LEVEL);
  private readonly rankAt = new Array<number>(MAX_LEVEL).fill(0);

  constructor(private readonly random: () => number = Math.random) {}

  get first(): ZNode | null {
    return this.head.next[0]!;
  }

  private randomLevel(): number {
    let level = 1;
    while (level < MAX_LEVEL && this.random() < P) level++;
    return level;
  }

  /** Inserts a member that is not in the list. */
  insert(score: number, member: string): ZNode {
    const update = this.update;
    const rank = this.rankAt;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1]!;
      for (let n = x.next[i]!; n !== null && before(n.score, n.member, score, member); n = x.next[i]!) {
        rank[i]! += x.span[i]!;
        x = n;
      }
      update[i] = x;
    }
    const level = this.randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.head;
        this.head.span[i] = this.length;
      }
      this.level = level;
    }
    const node = new ZNode(member, score, level);
    for (let i = 0; i < level; i++) {
      const u = update[i]!;
      node.next[i] = u.next[i]!;
      u.next[i] = node;
      node.span[i] = u.span[i]! - (rank[0]! - rank[i]!);
      u.span[i] = rank[0]! - rank[i]! + 1;
    }
    for (let i = level; i < this.level; i++) update[i]!.span[i]!++;
    node.prev = update[0] === this.head ? null : update[0]!;
    if (node.next[0] !== null) node.next[0]!.prev = node;
    else this.tail = node;
    this.length++;
    return node;
  }

  /** Removes the member with this score; false if it is not there. */
  delete(score: number, member: string): boolean {
    const update = this.update;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]!; n !== null && before(n.score, n.member, score, member); n = x.next[i]!) x = n;
      update[i] = x;
    }
    const node = x.next[0]!;
    if (node === null || node.score !== score || node.member !== member) return false;
    this.unlink(node);
    return true;
  }

  /** Unlinks node, whose predecessors at every level are in `update`. */
  private unlink(node: ZNode): void {
    const update = this.update;
    for (let i = 0; i < this.level; i++) {
      const u = update[i]!;
      if (u.next[i] === node) {
        u.span[i]! += node.span[i]! - 1;
        u.next[i] = node.next[i]!;
      } else {
        u.span[i]!--;
      }
    }
    if (node.next[0] !== null) node.next[0]!.prev = node.prev;
    else this.tail = node.prev;
    while (this.level > 1 && this.head.next[this.level - 1] === null) this.level--;
    this.length--;
  }

  /** The 1-based rank of a member with this score, 0 if it is not there. */
  rank(score: number, member: string): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]!; n !== null && (n.score < score || (n.score === score && n.member <= member)); n = x.next[i]!) {
        rank += x.span[i]!;
        x = n;
      }
      if (x !== this.head && x.member === member) return rank;
    }
    return 0;
  }

  /** The node at a 1-based rank, or null. */
  byRank(rank: number): ZNode | null {
    let x = this.head;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      while (x.next[i] !== null && traversed + x.span[i]! <= rank) {
        traversed += x.span[i]!;
        x = x.next[i]!;
      }
      if (traversed === rank) return x === this.head ? null : x;
    }
    return null;
  }

  /** The first node whose score is in range, or null. */
  firstInRange(r: ScoreRange): ZNode | null {
    if (scoreRangeEmpty(r) || this.tail === null || !gteMin(this.tail.score, r) || !lteMax(this.first!.score, r)) return null;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) while (x.next[i] !== null && !gteMin(x.next[i]!.score, r)) x = x.next[i]!;
    const n = x.next[0]!;
    return n !== null && lteMax(n.score, r) ? n : null;
  }

  /** The last node whose score is in range, or null. */
  lastInRange(r: ScoreRange): ZNode | null {
    if (scoreRangeEmpty(r) || this.tail === null || !gteMin(this.tail.score, r) || !lteMax(this.first!.score, r)) return null;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) while (x.next[i] !== null && lteMax(x.next[i]!.score, r)) x = x.next[i]!;
    return x !== this.head && gteMin(x.score, r) ? x : null;
  }

  firstInLexRange(r: LexRange): ZNode | null {
    if (lexRangeEmpty(r) || this.tail === null || !lexGteMin(this.tail.member, r) || !lexLteMax(this.first!.member, r)) return null;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) while (x.next[i] !== null && !lexGteMin(x.next[i]!.member, r)) x = x.next[i]!;
    const n = x.next[0]!;
    return n !== null && lexLteMax(n.member, r) ? n : null;
  }

  lastInLexRange(r: LexRange): ZNode | null {
    if (lexRangeEmpty(r) || this.tail === null || !lexGteMin(this.tail.member, r) || !lexLteMax(this.first!.member, r)) return null;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) while (x.next[i] !== null && lexLteMax(x.next[i]!.member, r)) x = x.next[i]!;
    return x !== this.head && lexGteMin(x.member, r) ? x : null;
  }
}

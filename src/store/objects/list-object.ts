/**
 * A list of binary strings in a ring buffer: pushes and pops at both ends are
 * O(1), an index is O(1), an insert or removal inside moves the shorter side.
 */
import { CONTAINER_BASE_BYTES, stringBytes, type StoredObject } from './common.js';

/** A ring slot per element (the ring is at most twice the length, so count it 1.5 times). */
const SLOT_BYTES = 12;

export class ListObject implements StoredObject {
  readonly type = 'list';
  private ring: Array<string | undefined> = new Array<string | undefined>(8);
  private head = 0;
  private length = 0;
  bytes = CONTAINER_BASE_BYTES;
  accounted = 0;

  get size(): number {
    return this.length;
  }

  /** Redis 7.0 keeps every list as a quicklist. */
  encoding(): string {
    return 'quicklist';
  }

  private slot(i: number): number {
    return (this.head + i) & (this.ring.length - 1);
  }

  private grow(): void {
    if (this.length < this.ring.length) return;
    const next = new Array<string | undefined>(this.ring.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.ring[this.slot(i)];
    this.ring = next;
    this.head = 0;
  }

  /** Elements at 0..size-1; i must be in range. */
  get(i: number): string {
    return this.ring[this.slot(i)]!;
  }

  set(i: number, v: string): void {
    const s = this.slot(i);
    this.bytes += stringBytes(v) - stringBytes(this.ring[s]!);
    this.ring[s] = v;
  }

  pushFront(v: string): void {
    this.grow();
    this.head = (this.head - 1) & (this.ring.length - 1);
    this.ring[this.head] = v;
    this.length++;
    this.bytes += SLOT_BYTES + stringBytes(v);
  }

  pushBack(v: string): void {
    this.grow();
    this.ring[this.slot(this.length)] = v;
    this.length++;
    this.bytes += SLOT_BYTES + stringBytes(v);
  }

  popFront(): string | undefined {
    if (this.length === 0) return undefined;
    const v = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.length--;
    this.bytes -= SLOT_BYTES + stringBytes(v);
    this.maybeShrink();
    return v;
  }

  popBack(): string | undefined {
    if (this.length === 0) return undefined;
    const s = this.slot(this.length - 1);
    const v = this.ring[s]!;
    this.ring[s] = undefined;
    this.length--;
    this.bytes -= SLOT_BYTES + stringBytes(v);
    this.maybeShrink();
    return v;
  }

  /** A ring four times longer than the list gives half back (lists that were long and were drained). */
  private maybeShrink(): void {
    if (this.ring.length <= 64 || this.length * 4 > this.ring.length) return;
    const next = new Array<string | undefined>(this.ring.length / 2);
    for (let i = 0; i < this.length; i++) next[i] = this.ring[this.slot(i)];
    this.ring = next;
    this.head = 0;
  }

  /** Inserts v so that it becomes element i (0 <= i <= size). */
  insertAt(i: number, v: string): void {
    if (i === 0) return this.pushFront(v);
    if (i === this.length) return this.pushBack(v);
    // Grow by one at the nearer end (pushing a copy of the end element), shift that side by one, then put v in place.
    let copied: string;
    if (i < this.length / 2) {
      copied = this.get(0);
      this.pushFront(copied);
      for (let k = 1; k < i; k++) this.ring[this.slot(k)] = this.ring[this.slot(k + 1)];
    } else {
      copied = this.get(this.length - 1);
      this.pushBack(copied);
      for (let k = this.length - 2; k > i; k--) this.ring[this.slot(k)] = this.ring[this.slot(k - 1)];
    }
    this.ring[this.slot(i)] = v;
    this.bytes += stringBytes(v) - stringBytes(copied);
  }

  /** Removes element i (0 <= i < size) and returns it. */
  removeAt(i: number): string {
    const v = this.get(i);
    if (i < this.length / 2) {
      for (let k = i; k > 0; k--) this.ring[this.slot(k)] = this.ring[this.slot(k - 1)];
      this.ring[this.slot(0)] = v;
      this.popFront();
    } else {
      for (let k = i; k < this.length - 1; k++) this.ring[this.slot(k)] = this.ring[this.slot(k + 1)];
      this.ring[this.slot(this.length - 1)] = v;
      this.popBack();
    }
    return v;
  }

  /** Keeps elements [start, end) only (LTRIM), start <= end within range. */
  trim(start: number, end: number): void {
    const removeBack = this.length - end;
    for (let k = 0; k < removeBack; k++) this.popBack();
    for (let k = 0; k < start; k++) this.popFront();
  }

  /** Elements [start, end) as an array. */
  range(start: number, end: number): string[] {
    const out: string[] = [];
    for (let i = start; i < end; i++) out.push(this.get(i));
    return out;
  }

  clone(): ListObject {
    const c = new ListObject();
    for (let i = 0; i < this.length; i++) c.pushBack(this.get(i));
    return c;
  }
}

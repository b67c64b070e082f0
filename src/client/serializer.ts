/** How values that are not strings or Buffers are stored: pluggable, JSON by default. */

/** Turns values into bytes and back. Used by setValue/getValue and getOrSet. */
export interface Serializer {
  /** The bytes (or UTF-8 text) to store for a value; throws if the value cannot be stored. */
  serialize(value: unknown): string | Buffer;
  /** The value back from stored bytes. */
  deserialize(data: Buffer): unknown;
}

/** JSON as UTF-8 text. `undefined` cannot be stored (JSON has no such value). */
export const jsonSerializer: Serializer = {
  serialize(value) {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('the JSON serializer cannot store undefined, functions or symbols');
    return text;
  },
  deserialize(data) {
    return JSON.parse(data.toString('utf8')) as unknown;
  },
};

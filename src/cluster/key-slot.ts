/**
 * The slot of a key, exactly as Redis Cluster's keyHashSlot: CRC16-XMODEM of the
 * key mod 16384, or of the hash tag, the bytes between the first `{` and the
 * next `}` when there is at least one byte between them.
 *
 * Hand-written instead of the cluster-key-slot package: its 1.1.2 release
 * mishandles an empty tag followed by another (`foo{}{bar}` must hash the whole
 * key), and node-redis, which fixed that, would then be redirected forever.
 * Pure: no I/O.
 */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

function crc16(buf: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ buf[i]!) & 0xff]!;
  return crc;
}

/**
 * The slot of the key in bytes [start, end) of buf. Also the store's
 * SlotFunction on a cluster node (node.ts), so it runs on every new key: the
 * braces are looked for within the key only, not with indexOf, which would
 * search on to the end of buf (a connection's whole input buffer) for a key
 * without them.
 */
export function keySlotOf(buf: Uint8Array, start: number, end: number): number {
  let open = start;
  while (open < end && buf[open] !== 123) open++; // {
  if (open < end) {
    let close = open + 1;
    while (close < end && buf[close] !== 125) close++; // }
    if (close > open + 1 && close < end) return crc16(buf, open + 1, close) & 0x3fff;
  }
  return crc16(buf, start, end) & 0x3fff;
}

/** The slot of a key given as bytes, or as a binary string (one char per byte). */
export function keySlot(key: Uint8Array | string): number {
  const buf = typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
  return keySlotOf(buf, 0, buf.length);
}
